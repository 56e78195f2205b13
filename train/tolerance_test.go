package train

import (
	"context"
	"strings"
	"testing"
)

// TestSegmentTolerance: segment 0 of segments of 2 steps or more gets at least firstLRs
// learning rates of the spec; every other segment, and every segment with firstLRs 0, the
// verifier's tolerance.
func TestSegmentTolerance(t *testing.T) {
	ti := &Spec{Method: MethodTI, LR: 0.01, Every: 4}
	ti1 := &Spec{Method: MethodTI, LR: 0.01, Every: 1}
	lora := &Spec{Method: MethodLoRA, LR: 2e-4, Every: 4}
	for _, c := range []struct {
		name          string
		spec          *Spec
		k             int
		tol, firstLRs float64
		want          float64
	}{
		{"ti segment 0 widened", ti, 0, 0.0082, DefaultFirstSegmentLRs, 0.06},
		{"ti segment 1", ti, 1, 0.0082, DefaultFirstSegmentLRs, 0.0082},
		{"ti segment 2", ti, 2, 0.0082, DefaultFirstSegmentLRs, 0.0082},
		{"no widening", ti, 0, 0.0082, 0, 0.0082},
		{"ti K 1: no widening", ti1, 0, 0.0082, DefaultFirstSegmentLRs, 0.0082},
		{"lora lr below tol", lora, 0, 0.0082, DefaultFirstSegmentLRs, 0.0082},
		{"tol above the widening", ti, 0, 0.1, DefaultFirstSegmentLRs, 0.1},
	} {
		got := SegmentTolerance(c.spec, c.k, c.tol, c.firstLRs)
		if d := got - c.want; d > 1e-6 || d < -1e-6 { // LR is a float32
			t.Errorf("%s: SegmentTolerance = %g, want %g", c.name, got, c.want)
		}
	}
}

// TestHonestFirstSegmentAcrossProfiles is the network tests' task (built-in base, TI,
// synthetic:12:1, 12 steps, K = 4) with seed 33 and an honest trainer on ampere-fp16: its
// segment 0 re-executed on exact is 0.0222 from the committed checkpoint (AdamW's first step
// moved a near-zero gradient's number the other way), beyond --train-tolerance's 0.0082. With
// the default first-segment widening every segment passes; without it segment 0 is rejected
// for its distance.
func TestHonestFirstSegmentAcrossProfiles(t *testing.T) {
	if testing.Short() {
		t.Skip("trains 12 steps of the built-in base and re-executes 24")
	}
	ctx := context.Background()
	e, task := costSetup(t, 3)
	task.Seed, task.Profile = 33, "ampere-fp16"
	series, states, err := e.TrainSeries(ctx, task, "")
	if err != nil {
		t.Fatal(err)
	}
	e.FirstSegmentLRs = 0
	ok, reason, err := e.VerifySegment(ctx, task, "exact", series, 0, states[0])
	if err != nil || ok || !strings.Contains(reason, "segment 0: re-executed checkpoint 1 is 0.0222") {
		t.Fatalf("without widening: ok %v, %q, %v: want segment 0 rejected at 0.0222", ok, reason, err)
	}
	e.FirstSegmentLRs = DefaultFirstSegmentLRs
	for k := range 3 {
		if ok, reason, err := e.VerifySegment(ctx, task, "exact", series, k, states[k]); err != nil || !ok {
			t.Errorf("segment %d on exact: ok %v, %q, %v", k, ok, reason, err)
		}
	}
}

// TestNetworkCheatsBeyondWidenedTolerance: with the default first-segment widening, every
// cheat of the network tests (ParseCheat's names) on the network's task (seed 33, trainer on
// ampere-fp16) is still rejected by a verifier on exact, for its distance, in the first
// segment it falsifies: segment 0 for the whole-run cheats (other-lr, other-seed, copy), whose
// tolerance is widened, and segment 1 for those that start at step K (skip-steps, fewer-steps,
// noise-weights).
func TestNetworkCheatsBeyondWidenedTolerance(t *testing.T) {
	if testing.Short() {
		t.Skip("trains 6 cheating runs of the built-in base")
	}
	ctx := context.Background()
	e, task := costSetup(t, 3)
	task.Seed, task.Profile = 33, "ampere-fp16"
	e.FirstSegmentLRs = DefaultFirstSegmentLRs
	for _, c := range []struct {
		cheat string
		k     int
	}{{"other-lr", 0}, {"other-seed", 0}, {"copy", 0}, {"skip-steps", 1}, {"fewer-steps", 1}, {"noise-weights", 1}} {
		series, states, err := e.TrainSeries(ctx, task, c.cheat)
		if err != nil {
			t.Fatal(err)
		}
		ok, reason, err := e.VerifySegment(ctx, task, "exact", series, c.k, states[c.k])
		t.Logf("%s, segment %d: %q", c.cheat, c.k, reason)
		if err != nil || ok || !strings.Contains(reason, "from the committed one, tolerance") {
			t.Errorf("%s, segment %d: ok %v, %q, %v: want rejected for its distance", c.cheat, c.k, ok, reason, err)
		}
	}
}
