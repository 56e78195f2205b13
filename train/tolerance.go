package train

import "math"

// DefaultFirstSegmentLRs is the first-segment tolerance, in learning rates, calibrated for
// textual inversion of the built-in base on the network's task (synthetic:12:1, batch 4, lr
// 0.01): 0.06, against a largest honest segment-0 distance of 0.044 over every pair of the
// simulated profiles and a smallest cheat's (other-seed, K = 4) of 0.107
// (TestMeasureFirstSegmentDrift, TestMeasureFirstSegmentCheats; train/figures/drift-*.tsv;
// README, "Verifiable fine-tuning"). At K = 1 other-seed came to 0.0599: no widening there.
const DefaultFirstSegmentLRs = 6

// SegmentTolerance returns the tolerance a verifier applies to segment k of spec: tol for
// every segment but the first, which gets at least firstLRs x spec.LR when segments are 2
// steps or more. AdamW's first update moves every trainable number by about the learning rate
// whatever the size of its gradient (m/sqrt(v) is the gradient's sign), so a number whose
// gradient is within rounding of zero moves by +LR on one profile and -LR on another, 2 LR
// apart, however close the rest of the step. From the second step on, v holds the gradient's
// scale and such numbers barely move: later segments drift far less (measured). At K = 1 a
// cheat's one step lands as close as 0.0599 (measured), so segment 0 keeps tol there: the
// verifier may dispute an honest trainer rather than accept a cheat. A multiple of the spec's
// own learning rate, the widening matters only where LR is large against tol (textual
// inversion at 0.01: 0.06 with the default; LoRA and full at 2e-4: 1.2e-3, below the default
// tol). firstLRs 0: no widening.
func SegmentTolerance(spec *Spec, k int, tol, firstLRs float64) float64 {
	if k == 0 && spec.Every >= 2 {
		return math.Max(tol, firstLRs*float64(spec.LR))
	}
	return tol
}
