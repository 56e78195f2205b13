package diffusion

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"runtime"
	"testing"

	"github.com/genquorum/genquorum/tensor"
)

func tinyModel(t testing.TB) *Model {
	t.Helper()
	m, err := NewModel(TinyConfig(), BaseVocab, 7)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestConfigValidate(t *testing.T) {
	if c := DefaultConfig(); c.Validate() != nil {
		t.Errorf("DefaultConfig().Validate() = %v", c.Validate())
	}
	for _, tc := range []struct {
		name string
		mod  func(c *Config)
	}{
		{"no levels", func(c *Config) { c.Channels = nil }},
		{"groups do not divide", func(c *Config) { c.Groups = 3 }},
		{"heads do not divide", func(c *Config) { c.Heads = 5 }},
		{"size not a multiple", func(c *Config) { c.ImageSize = 30 }},
		{"huge channels", func(c *Config) { c.Channels = []int{16, 1 << 20} }},
		{"bad betas", func(c *Config) { c.BetaEnd = 1 }},
		{"short context", func(c *Config) { c.ContextLen = 1 }},
	} {
		c := DefaultConfig()
		tc.mod(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: Validate() = nil, want an error", tc.name)
		}
	}
}

func TestSchedule(t *testing.T) {
	s := NewSchedule(1000, 1e-4, 0.02)
	for i := 1; i < s.T; i++ {
		if !(s.AlphaBar[i] < s.AlphaBar[i-1]) {
			t.Fatalf("alphaBar not decreasing at %d", i)
		}
	}
	if ab := s.AlphaBar[999]; ab > 1e-4 || ab <= 0 {
		t.Errorf("alphaBar[999] = %g, want in (0, 1e-4] (nearly pure noise)", ab)
	}
	ts := s.Timesteps(20)
	if len(ts) != 20 || ts[0] != 999 || ts[19] != 49 {
		t.Errorf("Timesteps(20) = %v, want 999 ... 49", ts)
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	m := tinyModel(t)
	var a bytes.Buffer
	if err := m.WriteGGUF(&a); err != nil {
		t.Fatal(err)
	}
	f, err := readBytes(a.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	m2, err := ReadGGUF(f)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := m2.WriteGGUF(&b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("model written, read and written again differs")
	}
	// A file with a tensor of the wrong shape is refused.
	bad := m.clone()
	bad.params["in.w"] = tensor.New(3, 1, 3, 3)
	var c bytes.Buffer
	if err := bad.WriteGGUF(&c); err != nil {
		t.Fatal(err)
	}
	f, err = readBytes(c.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ReadGGUF(f); !errors.Is(err, ErrFormat) {
		t.Errorf("ReadGGUF of a wrong shape = %v, want ErrFormat", err)
	}
}

func digest(data []float32) string {
	h := sha256.New()
	fmt.Fprint(h, data)
	return fmt.Sprintf("%x", h.Sum(nil))[:16]
}

func modelDigest(t testing.TB, m *Model) string {
	var b bytes.Buffer
	if err := m.WriteGGUF(&b); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", sha256.Sum256(b.Bytes()))[:16]
}

// TestTrainResumeAndCores checks that training is deterministic: the same weights on 1 and 2
// cores, and when interrupted after 2 of 4 steps and resumed from the checkpoint.
func TestTrainResumeAndCores(t *testing.T) {
	data := synthData(40)
	tc := DefaultTrainConfig()
	tc.Batch, tc.Micro, tc.Warmup = 4, 2, 2
	run := func(procs, steps int) *Trainer {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		tr, err := NewTrainer(tinyModel(t), data, tc)
		if err != nil {
			t.Fatal(err)
		}
		for range steps {
			tr.Step()
		}
		return tr
	}
	full := run(2, 4)
	want := modelDigest(t, full.Weights())
	if got := modelDigest(t, run(1, 4).Weights()); got != want {
		t.Errorf("weights after 4 steps on 1 core %s, on 2 cores %s", got, want)
	}
	if init := modelDigest(t, tinyModel(t)); init == want {
		t.Error("training did not change the weights")
	}
	half := run(2, 2)
	path := t.TempDir() + "/ckpt.gguf"
	if err := half.SaveCheckpoint(path); err != nil {
		t.Fatal(err)
	}
	res, err := ResumeTrainer(path, data)
	if err != nil {
		t.Fatal(err)
	}
	if res.Steps() != 2 || res.Config != half.Config {
		t.Fatalf("resumed at step %d with %+v, want 2 and %+v", res.Steps(), res.Config, half.Config)
	}
	res.Step()
	res.Step()
	if got := modelDigest(t, res.Weights()); got != want {
		t.Errorf("weights after 2+2 steps with a resume %s, without %s", got, want)
	}
}

func TestTrainLossFalls(t *testing.T) {
	if testing.Short() {
		t.Skip("trains 30 steps")
	}
	data := synthData(40)
	tc := DefaultTrainConfig()
	tc.Batch, tc.Micro, tc.Warmup, tc.LR = 8, 4, 5, 3e-3
	tr, err := NewTrainer(tinyModel(t), data, tc)
	if err != nil {
		t.Fatal(err)
	}
	var first, last float32
	for i := range 30 {
		l := tr.Step()
		if i < 5 {
			first += l / 5
		}
		if i >= 25 {
			last += l / 5
		}
	}
	if !(last < first) {
		t.Errorf("mean loss of the first 5 steps %g, of the last 5 %g: want a fall", first, last)
	}
}
