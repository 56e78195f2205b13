// Package tensor is genquorum's numeric core: float32 tensors, the operations of a llama-style
// transformer and of a small U-Net (forward and backward), reverse-mode differentiation, AdamW,
// and hardware Profiles. It is the one place where genquorum writes kernels itself, because
// control of the bits is the point: the subject of genquorum is how float non-associativity
// makes honest machines disagree, so this package must
//
//   - give identical bits for the same task on any machine, any GOMAXPROCS, any run; and
//   - let a Profile change the numeric choices the way different GPUs do, so that the
//     disagreement appears honestly, and reproducibly, on a CPU.
//
// # Vocabulary
//
// A Tensor has a shape: one size (dim) per axis, outermost first; its rank is the number of
// axes. Data is row-major and contiguous: the stride of the last axis is 1 and each other
// axis's stride is the product of the dims after it. Operations allocate their outputs (from
// the tape's Arena when it has one); Reshape alone shares its input's Data.
//
// # Determinism
//
// Every reduction (the K of a matrix product or convolution, the sums of norms, softmax,
// losses and gradient reductions over a batch) is computed in the order its Profile defines
// (see Profile): split into partial sums by lanes or chunks, each accumulated sequentially in
// float32, then combined sequentially or pairwise. Products are written float32(a*b) so the
// compiler cannot fuse them; FMA, when a profile asks for it, is an explicit single-rounding
// fused multiply-add. Elementary functions (Exp, Log, SinCos, the sigmoid and tanh inside
// SiLU and GELU) are this package's own float64 code with explicit rounding, not the standard
// library's (which uses assembly on some architectures). Goroutines split work only over
// independent outputs (tiles of a matrix product, rows, heads), never inside one reduction,
// so GOMAXPROCS and scheduling cannot change a bit. TestDeterminismAcrossGOMAXPROCS pins the
// digests of a transformer block and a conv block, outputs and gradients, under every preset,
// in testdata/determinism.golden; the same file is produced by the AVX2 kernel, the portable
// kernel (-tags noasm), GOARCH=386, and GOAMD64=v3, where the compiler fuses every x*y+z the
// language lets it (TestDeterminismUnderFusingCompiler), as it does on arm64.
//
// # Kernels
//
// Matrix products (MatMul, Linear, Conv2d, whose im2col matrix is packed straight from its
// input into the panels, both products of Attention, and all their gradients) go through one
// routine that packs the right operand into panels of 16 columns and runs a 4x16
// micro-kernel: each of the 64 outputs accumulates its own terms in order, so vectorising
// across outputs changes nothing. On amd64 with AVX2 and FMA3 the
// micro-kernel is assembly (VMULPS then VADDPS for two roundings, VFMADD231PS for one); the
// portable Go twin kernelGo is its specification and gives identical bits (tested). Build with
// -tags noasm to use the twin everywhere. gonum's BLAS is not used: its summation order is not
// ours to choose.
//
// # Autodiff
//
// Operations are methods of a Tape. Each computes its result at once and, when the tape
// records and an input requires a gradient (a Param or an output of such), appends a closure
// for the backward pass. Backward(loss) runs them in reverse, adding into each tensor's Grad;
// gradients of Params accumulate across calls until ZeroGrad. NoGrad returns a tape that
// records nothing, for inference. A training step:
//
//	w := tensor.FromData(initial, 16, 8).Param()
//	opt := tensor.NewAdamW(1e-3)
//	for step := range steps {
//		tp := tensor.NewTape(tensor.Exact)
//		loss := tp.MSE(tp.Linear(x, w, nil), y)
//		w.ZeroGrad()
//		tp.Backward(loss)
//		opt.Step([]*tensor.Tensor{w})
//	}
//
// A loop that runs the same step again and again gives each step's tape an Arena
// (Tape.WithArena) and Resets it after the step: the outputs, their gradients and what the
// backward pass keeps are lent from the arena and taken back (Backward already takes back each
// output's gradient once it has passed it on), so the step reuses its memory instead of
// allocating it anew. A lent buffer is zeroed, as make gives it, so an arena cannot change a
// bit. Tensors a tape on an arena made must not be used after the Reset; Params and inputs
// are not the arena's.
//
// For inference, use NoGrad and Freeze constant weights so their packed copies are reused
// (decoding one token is then a stream over the packed weights). Linear follows ggml_mul_mat
// and nn.Linear: weights are [out, in], one row per output. Attention takes [B, T, H, D] (or
// [T, H, D]) queries and keys with grouped-query heads, and a key/value cache by passing more
// keys than queries.
//
// A Tape is not safe for concurrent use; different tapes may run concurrently and share
// read-only (for example frozen) tensors. Shape errors are programmer errors and panic.
package tensor
