package diffusion

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/genquorum/genquorum/tensor"
)

func sampleBytes(t *testing.T, m *Model, prompt string) []byte {
	t.Helper()
	img, err := m.Sample(t.Context(), SampleParams{Prompt: prompt, Steps: 3, Seed: 5}, tensor.Exact)
	if err != nil {
		t.Fatal(err)
	}
	return img.Pix
}

// trainVariant trains m's own parameters for 3 steps on data and checks that nothing else
// changed.
func trainVariant(t *testing.T, m *Model, data *Dataset) {
	t.Helper()
	before := map[string][]float32{}
	for _, n := range m.names {
		before[n] = slices.Clone(m.params[n].Data)
	}
	tc := DefaultTrainConfig()
	tc.Batch, tc.Micro, tc.Warmup, tc.LR = 4, 2, 1, 1e-2
	tc.EMADecay = 0
	tr, err := NewTrainer(m, data, tc)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		tr.Step()
	}
	for _, n := range m.names {
		changed := !slices.Equal(before[n], m.params[n].Data)
		if own := slices.Contains(m.only, n); changed != own {
			t.Errorf("after training, parameter %s changed %v; want %v (trainable %v)", n, changed, own, own)
		}
	}
}

func TestLoRA(t *testing.T) {
	base, err := NamedModel("base", tinyModel(t))
	if err != nil {
		t.Fatal(err)
	}
	m := base.Model.clone()
	layers := m.AttentionLayers()
	if len(layers) != 12 { // 3 attention blocks (down.1, mid, up.1) x q, k, v, o
		t.Fatalf("AttentionLayers() = %v, want 12 layers", layers)
	}
	if err := m.AddLoRA(2, 4, layers, 1); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(sampleBytes(t, m, "A photo of a bag"), sampleBytes(t, base.Model, "A photo of a bag")) {
		t.Error("a fresh LoRA (B = 0) changed the image")
	}
	trainVariant(t, m, synthData(20))
	want := sampleBytes(t, m, "A photo of a bag")
	if bytes.Equal(want, sampleBytes(t, base.Model, "A photo of a bag")) {
		t.Error("a trained LoRA gives the base model's image")
	}
	var buf bytes.Buffer
	if err := m.WriteAdapter(&buf, base.Digest); err != nil {
		t.Fatal(err)
	}
	path := t.TempDir() + "/lora.gguf"
	if err := m.SaveAdapter(path, base.Digest); err != nil {
		t.Fatal(err)
	}
	got, err := LoadAdapter(base, "", path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "lora" || !bytes.Equal(sampleBytes(t, got.Model, "A photo of a bag"), want) {
		t.Errorf("loaded adapter %q gives another image than the trained model", got.Name)
	}
	other := base
	other.Digest[0] ^= 1
	if _, err := LoadAdapter(other, "", path); !errors.Is(err, ErrFormat) {
		t.Errorf("LoadAdapter on another base = %v, want ErrFormat", err)
	}
	// A full model file with adapters inside (a checkpoint) reads back the same.
	var full bytes.Buffer
	if err := m.WriteGGUF(&full); err != nil {
		t.Fatal(err)
	}
	f, _ := readBytes(full.Bytes())
	m2, err := ReadGGUF(f)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(sampleBytes(t, m2, "A photo of a bag"), want) {
		t.Error("model with LoRA written and read gives another image")
	}
}

func TestTextualInversion(t *testing.T) {
	base, err := NamedModel("base", tinyModel(t))
	if err != nil {
		t.Fatal(err)
	}
	m := base.Model.clone()
	if err := m.AddConcept(ConceptToken, "bag"); err != nil {
		t.Fatal(err)
	}
	if err := m.AddConcept("<other>", "bag"); err == nil {
		t.Error("a second concept was accepted")
	}
	if !bytes.Equal(sampleBytes(t, m, "A photo of a <concept>"), sampleBytes(t, base.Model, "A photo of a bag")) {
		t.Error("a concept initialised from \"bag\" does not draw what \"bag\" draws")
	}
	data := synthData(40).Subset([]int{8, 18, 28, 38})
	data.Prompts = &[NumClasses]string{}
	for c := range data.Prompts {
		data.Prompts[c] = "A photo of a " + ConceptToken
	}
	trainVariant(t, m, data)
	want := sampleBytes(t, m, "A photo of a <concept>")
	path := t.TempDir() + "/ti.gguf"
	if err := m.SaveAdapter(path, base.Digest); err != nil {
		t.Fatal(err)
	}
	got, err := LoadAdapter(base, "ti", path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(sampleBytes(t, got.Model, "A photo of a <concept>"), want) {
		t.Error("loaded textual inversion gives another image than the trained model")
	}
	if !bytes.Equal(sampleBytes(t, got.Model, "A photo of a coat"), sampleBytes(t, base.Model, "A photo of a coat")) {
		t.Error("textual inversion changed an image whose prompt does not use the concept")
	}
}

func TestResumeVariant(t *testing.T) {
	m := tinyModel(t)
	if err := m.AddLoRA(2, 2, m.AttentionLayers()[:2], 1); err != nil {
		t.Fatal(err)
	}
	tc := DefaultTrainConfig()
	tc.Batch, tc.Micro = 2, 2
	data := synthData(10)
	tr, err := NewTrainer(m, data, tc)
	if err != nil {
		t.Fatal(err)
	}
	tr.Step()
	path := t.TempDir() + "/ck.gguf"
	if err := tr.SaveCheckpoint(path); err != nil {
		t.Fatal(err)
	}
	res, err := ResumeTrainer(path, data)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.trainable, tr.trainable) {
		t.Errorf("resumed variant trains %v, want %v", res.trainable, tr.trainable)
	}
}
