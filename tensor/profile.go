package tensor

import (
	"errors"
	"fmt"
	"strings"
)

// Combine says in what order the partial sums of a split reduction are added.
type Combine uint8

const (
	// Sequential adds the partial sums left to right: ((p0 + p1) + p2) + ...
	Sequential Combine = iota
	// Pairwise adds them as a balanced binary tree: (p0 + p1) + (p2 + p3), the first half
	// taking the extra element when the count is odd.
	Pairwise
	// Folded adds the second half onto the first, element by element, until one is left:
	// with 8 partials, q_i = p_i + p_(i+4), then r_i = q_i + q_(i+2), then r_0 + r_1. This is
	// how a SIMD register is reduced horizontally (extract the high half, add, repeat). With
	// an odd count n the first (n+1)/2 stay and the last one of them gets nothing added.
	Folded
)

// String returns "sequential", "pairwise" or "folded".
func (c Combine) String() string {
	switch c {
	case Pairwise:
		return "pairwise"
	case Folded:
		return "folded"
	}
	return "sequential"
}

// Profile is the set of numeric choices one kind of hardware makes, applied by every kernel
// in this package. Two machines running the same task with the same Profile get the same bits;
// two Profiles give results that differ in the low bits, as two GPU generations do.
//
// Every reduction of length n (the K of a matrix product or convolution, the sums of a norm,
// a softmax, a loss, a bias gradient) is computed as follows:
//
//  1. Split into partial sums. Lanes > 1: partial l takes terms l, l+Lanes, l+2*Lanes, ...
//     (a SIMD unit with Lanes accumulators). Otherwise Chunk > 0: partial c takes the
//     contiguous terms [c*Chunk, (c+1)*Chunk) (split-K on a GPU). Otherwise one partial.
//  2. Each partial starts at zero and accumulates its terms in order in float32. A product
//     term is float32(a*b) added to the accumulator, or, when FMA, fused with it (one rounding).
//  3. A finished partial is rounded to Accum; the partials are combined as Combine says, each
//     intermediate sum rounded to Accum.
//
// Operands of matrix products (MatMul, Linear, Conv2d, Attention) are rounded to Input before
// multiplying, as tensor cores read TF32, FP16 or BF16. The output of every operation is
// rounded to Storage, as activations stored in half precision are. Backward passes follow the
// same reduction rules; gradients are not rounded to Storage.
type Profile struct {
	// Name identifies the profile (lower case, like "exact" or "ampere-fp16").
	Name string
	// Description says in one line what hardware the profile imitates.
	Description string
	// Lanes is the number of interleaved partial sums; 0 or 1 means none.
	Lanes int
	// Chunk is the length of contiguous partial sums when Lanes <= 1; 0 means one partial.
	Chunk int
	// Combine is the order in which partial sums are added.
	Combine Combine
	// FMA fuses each multiply-add into one rounding.
	FMA bool
	// Input is the format matrix-product operands are rounded to before multiplying.
	Input Format
	// Accum is the format finished partial sums and their combinations are rounded to.
	Accum Format
	// Storage is the format every operation's output is rounded to.
	Storage Format
}

// ErrUnknownProfile is returned by ProfileByName for a name that is not a preset.
var ErrUnknownProfile = errors.New("tensor: unknown profile")

// Validate reports whether p is well formed.
func (p *Profile) Validate() error {
	switch {
	case p.Name == "":
		return errors.New("tensor: profile has no name")
	case p.Lanes < 0 || p.Chunk < 0:
		return fmt.Errorf("tensor: profile %q: negative Lanes or Chunk", p.Name)
	case p.Lanes > 64:
		return fmt.Errorf("tensor: profile %q: Lanes %d above 64", p.Name, p.Lanes)
	case p.Lanes > 1 && p.Chunk > 0:
		return fmt.Errorf("tensor: profile %q: Lanes and Chunk are exclusive", p.Name)
	case p.Input > BF16 || p.Accum > BF16 || p.Storage > BF16 || p.Combine > Folded:
		return fmt.Errorf("tensor: profile %q: unknown format or combine", p.Name)
	}
	return nil
}

// Split describes the reduction split in words, like "16 interleaved lanes, pairwise".
func (p *Profile) Split() string {
	switch {
	case p.Lanes > 1:
		return fmt.Sprintf("%d interleaved lanes, %s", p.Lanes, p.Combine)
	case p.Chunk > 0:
		return fmt.Sprintf("chunks of %d, %s", p.Chunk, p.Combine)
	}
	return "one sequential sum"
}

// Exact is the default profile: every reduction is one plain sequential sum in float32
// (((x0 + x1) + x2) + ...), no fused multiply-add and no half-precision rounding. It is the
// profile used for conformance with llama.cpp's CPU backend.
var Exact = Profile{
	Name:        "exact",
	Description: "plain sequential float32 sums, no FMA, no half-precision rounding (the default)",
}

// presets are the named profiles, Exact first.
var presets = []Profile{
	Exact,
	{
		Name:        "cpu-avx2",
		Description: "CPU BLAS with 8-lane AVX2 accumulators, FMA, folded horizontal sum",
		Lanes:       8, Combine: Folded, FMA: true,
	},
	{
		Name:        "cpu-avx512",
		Description: "CPU BLAS with 16-lane AVX-512 accumulators, FMA, folded horizontal sum",
		Lanes:       16, Combine: Folded, FMA: true,
	},
	{
		Name:        "ampere-tf32",
		Description: "Ampere tensor cores in TF32: operands rounded to TF32, FMA, split-K of 32, sequential combine",
		Chunk:       32, Combine: Sequential, FMA: true, Input: TF32,
	},
	{
		Name:        "ampere-fp16",
		Description: "Ampere tensor cores in FP16: FP16 operands and activations, float32 accumulation, split-K of 64, pairwise combine",
		Chunk:       64, Combine: Pairwise, FMA: true, Input: F16, Storage: F16,
	},
	{
		Name:        "hopper-bf16",
		Description: "Hopper tensor cores in BF16: BF16 operands and activations, float32 accumulation, split-K of 128, sequential combine",
		Chunk:       128, Combine: Sequential, FMA: true, Input: BF16, Storage: BF16,
	},
	{
		Name:        "turing-fp16acc",
		Description: "FP16 tensor cores with an FP16 split-K workspace: FP16 operands, partial sums and activations, split-K of 16, pairwise",
		Chunk:       16, Combine: Pairwise, FMA: true, Input: F16, Accum: F16, Storage: F16,
	},
}

// Profiles returns the preset profiles, Exact first. The slice is a fresh copy.
func Profiles() []Profile {
	return append([]Profile(nil), presets...)
}

// ProfileByName returns the preset called name (case-insensitive), or an error wrapping
// ErrUnknownProfile.
func ProfileByName(name string) (Profile, error) {
	for _, p := range presets {
		if strings.EqualFold(p.Name, name) {
			return p, nil
		}
	}
	return Profile{}, fmt.Errorf("%w %q", ErrUnknownProfile, name)
}
