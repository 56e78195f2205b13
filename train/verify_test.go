package train

import (
	"context"
	"crypto/sha256"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/genquorum/genquorum/tensor"
)

// ToleranceFactor is what the tests multiply the largest honest cross-profile segment drift
// by to get a tolerance (measured: honest drift of the tiny TI runs up to 1.3e-3, the mildest
// cheat here 5e-3).
const toleranceFactor = 2

func profiles(t testing.TB, names ...string) []tensor.Profile {
	t.Helper()
	var ps []tensor.Profile
	for _, n := range names {
		p, err := tensor.ProfileByName(n)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	return ps
}

// calibrate returns toleranceFactor times the largest honest segment drift of series on the
// calibration profiles.
func calibrate(t testing.TB, s *Series, data *Dataset) float64 {
	t.Helper()
	dr, err := SegmentDrift(context.Background(), s, data, profiles(t, "cpu-avx2", "ampere-tf32", "hopper-bf16", "turing-fp16acc"))
	if err != nil {
		t.Fatal(err)
	}
	m := 0.0
	for _, ds := range dr {
		for _, d := range ds {
			m = math.Max(m, d)
		}
	}
	if m == 0 {
		t.Fatal("no honest drift across profiles: the calibration measures nothing")
	}
	return toleranceFactor * m
}

// verifyAll checks a committed series as a verifier on profile p that re-executes every
// segment: it returns the reason for each segment ("" = accepted), or a single series-level
// reason.
func verifyAll(t *testing.T, spec Spec, s *Series, data *Dataset, p tensor.Profile, tol float64) []string {
	t.Helper()
	cs := s.Commitments()
	if err := CheckSeries(&spec, cs, len(s.Checkpoints[0].Fingerprint)); err != nil {
		return []string{err.Error()}
	}
	var out []string
	for k := range spec.Segments() {
		_, err := VerifySegment(context.Background(), spec, data, cs, k, s.Checkpoints[k].State, Options{Profile: p}, tol)
		switch {
		case err == nil:
			out = append(out, "")
		case errors.Is(err, ErrRejected):
			out = append(out, err.Error())
		default:
			t.Fatal(err)
		}
	}
	return out
}

// TestSegmentVerification: an honest trainer's segments pass on a verifier's profile the
// calibration did not use; each cheater is rejected, in the segments it falsified, for its
// own reason.
func TestSegmentVerification(t *testing.T) {
	base, data := tinyBase(t), Synthetic(12, 1)
	spec := tinySpec(base, data, MethodTI)
	spec.Steps, spec.Every = 12, 4
	honest := mustTrain(t, spec, base, data, Options{})
	tol := calibrate(t, honest, data)
	t.Logf("tolerance %.3g", tol)
	if err := CheckInit(spec, base, data, honest.Checkpoints[0].Commitment()); err != nil {
		t.Fatalf("honest checkpoint 0: %v", err)
	}
	verifier := profiles(t, "ampere-fp16")[0]
	for k, r := range verifyAll(t, spec, honest, data, verifier, tol) {
		if r != "" {
			t.Errorf("honest segment %d rejected: %s", k, r)
		}
	}

	otherData := Synthetic(12, 2) // another concept: dark rectangles on a bright ground
	for i := range otherData.Images {
		otherData.Images[i] = 255 - otherData.Images[i]
	}
	otherSpec := spec
	otherSpec.Dataset = otherData.Digest()
	copied := Copy(spec, mustTrain(t, otherSpec, base, otherData, Options{}))
	tampered := Copy(spec, honest)
	tampered.Checkpoints[1].State = append([]byte(nil), honest.Checkpoints[1].State...)
	tampered.Checkpoints[1].State[len(tampered.Checkpoints[1].State)-1] ^= 1

	for _, tc := range []struct {
		name   string
		series *Series
		want   []string // per segment: "" accepted, else a substring of the reason
	}{
		{"skip-steps", mustTrain(t, spec, base, data, Options{Cheat: Cheat{Kind: SkipSteps, From: 4}}), []string{"", "re-executed", "re-executed"}},
		{"fewer-steps", mustTrain(t, spec, base, data, Options{Cheat: Cheat{Kind: FewerSteps, From: 4}}), []string{"checkpoint 2 committed at step 4, want 8"}},
		{"other-lr", mustTrain(t, spec, base, data, Options{Cheat: Cheat{Kind: OtherLR, LR: 0.02}}), []string{"re-executed", "re-executed", "re-executed"}},
		{"other-seed", mustTrain(t, spec, base, data, Options{Cheat: Cheat{Kind: OtherSeed, Seed: 4}}), []string{"re-executed", "re-executed", "re-executed"}},
		{"noise-weights", mustTrain(t, spec, base, data, Options{Cheat: Cheat{Kind: NoiseWeights, From: 5, Noise: 0.01, Seed: 1}}), []string{"", "re-executed", ""}},
		{"copy", copied, []string{"re-executed", "re-executed", "re-executed"}},
		{"state-not-committed", tampered, []string{"", "fetched state", ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := verifyAll(t, spec, tc.series, data, verifier, tol)
			if len(got) != len(tc.want) {
				t.Fatalf("reasons %q, want %q", got, tc.want)
			}
			for k := range got {
				if (tc.want[k] == "") != (got[k] == "") || !strings.Contains(got[k], tc.want[k]) {
					t.Errorf("segment %d: %q, want %q", k, got[k], tc.want[k])
				}
			}
		})
	}
}

// TestReplayGossip: a full replay on another profile with gossip every 2 checkpoints adopts
// the trainer's checkpoints, after which its distance one segment later is exactly the
// segment re-execution's; without gossip the drift is left to accumulate.
func TestReplayGossip(t *testing.T) {
	base, data := tinyBase(t), Synthetic(12, 1)
	spec := tinySpec(base, data, MethodTI)
	spec.Steps, spec.Every = 12, 2
	series := mustTrain(t, spec, base, data, Options{})
	p := profiles(t, "hopper-bf16")[0]
	ctx := context.Background()
	with, err := Replay(ctx, series, base, data, Options{Profile: p}, 2, math.Inf(1))
	if err != nil {
		t.Fatal(err)
	}
	without, err := Replay(ctx, series, base, data, Options{Profile: p}, 0, math.Inf(1))
	if err != nil {
		t.Fatal(err)
	}
	drift, err := SegmentDrift(ctx, series, data, []tensor.Profile{p})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("with gossip %.3g, without %.3g", with.Distance, without.Distance)
	for i, a := range with.Adopted {
		if want := i > 0 && i%2 == 0 && i+1 < len(series.Checkpoints); a != want {
			t.Errorf("checkpoint %d adopted %v, want %v", i, a, want)
		}
		if i > 0 && with.Adopted[i-1] && with.Distance[i] != drift[0][i-1] {
			t.Errorf("checkpoint %d after adopting %d: distance %g, segment re-execution %g", i, i-1, with.Distance[i], drift[0][i-1])
		}
	}
	if with.Distance[0] != 0 || without.Distance[0] != 0 {
		t.Error("replays do not start from the trainer's initial state")
	}
	if with.Max() > without.Max() {
		t.Errorf("gossip made the largest distance worse: %g > %g", with.Max(), without.Max())
	}
	if _, err := Replay(ctx, series, base, data, Options{Profile: p}, 0, without.Max()/2); !errors.Is(err, ErrRejected) {
		t.Errorf("replay beyond tolerance: %v, want a rejection", err)
	}
	// A checkpoint to adopt whose state matches its digest but is no state: rejected (the
	// replay must not close and lose its run before the new one exists).
	bad := *series
	bad.Checkpoints = slices.Clone(series.Checkpoints)
	bad.Checkpoints[2].State = []byte("not a checkpoint")
	bad.Checkpoints[2].Digest = sha256.Sum256(bad.Checkpoints[2].State)
	if _, err := Replay(ctx, &bad, base, data, Options{Profile: p}, 2, math.Inf(1)); !errors.Is(err, ErrRejected) {
		t.Errorf("replay adopting a broken checkpoint: %v, want a rejection", err)
	}
}

// TestBisect: a trainer corrupted after step 6 of an 8-step segment is narrowed down to step 6
// in 3 rounds and judged the liar by the referee; a challenger that lies (another learning
// rate from step 3) loses at step 3.
func TestBisect(t *testing.T) {
	base, data := tinyBase(t), Synthetic(12, 1)
	spec := tinySpec(base, data, MethodTI)
	spec.Steps, spec.Every = 8, 8
	honest := mustTrain(t, spec, base, data, Options{})
	start := honest.Checkpoints[0].State
	ctx := context.Background()
	for _, tc := range []struct {
		name                string
		trainer, challenger Cheat
		step                int
		trainerLied, chLied bool
	}{
		{"corrupted trainer", Cheat{Kind: NoiseWeights, From: 5, Noise: 1e-4, Seed: 9}, Cheat{}, 6, true, false},
		{"lying challenger", Cheat{}, Cheat{Kind: OtherLR, From: 2, LR: 0.011}, 3, false, true},
		{"trainer skips the last step", Cheat{Kind: SkipSteps, From: 7}, Cheat{}, 8, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := NewReplayer(spec, data, start, Options{Cheat: tc.trainer})
			ch := NewReplayer(spec, data, start, Options{Cheat: tc.challenger, Profile: profiles(t, "ampere-fp16")[0]})
			d, err := Bisect(ctx, spec, data, tr, ch, 0, 8)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%+v", *d)
			if d.Step != tc.step || d.TrainerLied != tc.trainerLied || d.ChallengerLied != tc.chLied || d.Rounds != 3 {
				t.Errorf("dispute %+v, want step %d, trainer lied %v, challenger lied %v, 3 rounds", *d, tc.step, tc.trainerLied, tc.chLied)
			}
			if want := 3*64 + len(start) + 64; d.Bytes != want {
				t.Errorf("%d bytes exchanged, want %d", d.Bytes, want)
			}
		})
	}
	// Two honest parties have nothing to dispute.
	a, b := NewReplayer(spec, data, start, Options{}), NewReplayer(spec, data, start, Options{RunSeed: 5})
	if _, err := Bisect(ctx, spec, data, a, b, 0, 8); err == nil {
		t.Error("bisecting two honest replays found a dispute")
	}
	if d, _ := a.StateDigest(ctx, 8); d != sha256.Sum256(honest.Checkpoints[1].State) {
		t.Error("the replayer's state after 8 steps is not the trainer's checkpoint")
	}
}

func TestCatchProbability(t *testing.T) {
	for _, tc := range []struct {
		S, s, c, v int
		want       float64
	}{
		{10, 1, 1, 1, 0.1},
		{10, 1, 2, 1, 0.2},
		{10, 2, 1, 2, 1 - 0.8*0.8},
		{10, 2, 2, 1, 1 - (8.0/10)*(7.0/9)},
		{10, 10, 1, 1, 1},
		{10, 0, 3, 3, 0},
		{4, 1, 9, 1, 1},
	} {
		if got := CatchProbability(tc.S, tc.s, tc.c, tc.v); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("CatchProbability(%d, %d, %d, %d) = %g, want %g", tc.S, tc.s, tc.c, tc.v, got, tc.want)
		}
	}
	// Against a simulation: 3 verifiers each draw 2 of 12 segments; 3 are falsified.
	r := newRNG(1, 2)
	const trials = 200_000
	caught := 0
	for range trials {
		hit := false
		for range 3 {
			perm := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
			for i := range 2 {
				j := i + r.intn(12-i)
				perm[i], perm[j] = perm[j], perm[i]
				hit = hit || perm[i] < 3
			}
		}
		if hit {
			caught++
		}
	}
	if got, want := float64(caught)/trials, CatchProbability(12, 3, 2, 3); math.Abs(got-want) > 0.005 {
		t.Errorf("simulated %g, formula %g", got, want)
	}
}

func TestPCA(t *testing.T) {
	// Points on a line in 3-D, plus a small orthogonal wiggle: PC1 is the line.
	var pts [][]float32
	for i := range 5 {
		w := float32(0.01 * float64(i%2*2-1))
		pts = append(pts, []float32{float32(i), float32(2 * i), w})
	}
	proj, ex, err := PCA(pts, 2)
	if err != nil {
		t.Fatal(err)
	}
	if ex[0] < 0.99 || ex[0]+ex[1] > 1+1e-9 {
		t.Errorf("explained %v", ex)
	}
	for i := range pts {
		want := (float64(i) - 2) * math.Sqrt(5)
		if math.Abs(math.Abs(proj[i][0])-math.Abs(want)) > 1e-3 {
			t.Errorf("point %d on PC1 %g, want +-%g", i, proj[i][0], want)
		}
	}
	if _, _, err := PCA(pts[:1], 1); err == nil {
		t.Error("PCA of one point did not fail")
	}
}

func TestSeriesRootAndPicks(t *testing.T) {
	spec := Spec{Method: MethodTI, Steps: 4, Batch: 1, LR: 0.01, Every: 2}
	cs := []Commitment{{Step: 0, Fingerprint: []float32{0.5, -1}}, {Step: 2, Fingerprint: []float32{0.25, 1}}, {Step: 4, Fingerprint: []float32{1, 2}}}
	root := SeriesRoot(&spec, cs)
	if got := QuantizeFingerprint([]float32{0.5, -1, 1e30}); got[0] != FingerprintScale/2 || got[1] != -FingerprintScale || got[2] != math.MaxInt32 {
		t.Errorf("QuantizeFingerprint = %v", got)
	}
	for name, mod := range map[string]func(c []Commitment){
		"step":        func(c []Commitment) { c[1].Step = 3 },
		"digest":      func(c []Commitment) { c[2].Digest[0] ^= 1 },
		"fingerprint": func(c []Commitment) { c[0].Fingerprint = []float32{0.5, -0.99} },
	} {
		c := append([]Commitment(nil), cs...)
		mod(c)
		if SeriesRoot(&spec, c) == root {
			t.Errorf("changing the %s left the series root unchanged", name)
		}
	}
	a, err := PickSegments([]byte("block randomness"), 0, 12, 4)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := PickSegments([]byte("block randomness"), 0, 12, 4)
	c, _ := PickSegments([]byte("block randomness"), 1, 12, 4)
	if !slices.Equal(a, b) || slices.Equal(a, c) {
		t.Errorf("picks %v %v (same inputs), %v (another verifier)", a, b, c)
	}
	all, _ := PickSegments([]byte("x"), 3, 12, 12)
	slices.Sort(all)
	for i, s := range all {
		if s != i {
			t.Fatalf("picking all 12 segments gave %v", all)
		}
	}
	if _, err := PickSegments(nil, 0, 3, 4); err == nil {
		t.Error("picking 4 of 3 segments did not fail")
	}
}
