package tensor

import "fmt"

// Tape records operations for reverse-mode differentiation and carries the Profile every
// operation follows. Operations are methods of Tape; each computes its output at once (eager)
// and, when the tape records and an input requires a gradient, appends a closure that
// propagates the output's gradient to the inputs. Backward runs the closures in reverse order.
//
// A Tape made by NoGrad records nothing: it is the inference mode, with no memory kept for
// a backward pass. A Tape is not safe for concurrent use; its operations use up to GOMAXPROCS
// goroutines internally, splitting only over independent outputs.
type Tape struct {
	p      Profile
	record bool
	nodes  []func()
	arena  *Arena // when not nil, lends the memory of outputs, gradients, backward buffers
}

// NewTape returns a recording tape whose operations follow profile p. It panics if p is
// invalid (see Profile.Validate).
func NewTape(p Profile) *Tape {
	if err := p.Validate(); err != nil {
		panic(err)
	}
	return &Tape{p: p, record: true}
}

// NoGrad returns a tape that records nothing, for inference under profile p.
func NoGrad(p Profile) *Tape {
	t := NewTape(p)
	t.record = false
	return t
}

// Profile returns the tape's profile.
func (tp *Tape) Profile() Profile { return tp.p }

// Len returns the number of recorded backward steps.
func (tp *Tape) Len() int { return len(tp.nodes) }

// Backward adds the gradient of loss (a one-element tensor recorded on this tape) to the Grad
// of every tensor that requires one, then clears the tape. Gradients of Params accumulate
// across calls (gradient accumulation) until ZeroGrad.
func (tp *Tape) Backward(loss *Tensor) {
	if loss.Len() != 1 {
		panic(fmt.Sprintf("tensor: Backward of shape %v, want one element", loss.Shape))
	}
	if !loss.requiresGrad {
		panic("tensor: Backward of a tensor that does not require a gradient")
	}
	loss.grad()[0] += 1
	for i := len(tp.nodes) - 1; i >= 0; i-- {
		tp.nodes[i]()
		tp.nodes[i] = nil
	}
	tp.nodes = tp.nodes[:0]
}

// Reset forgets the recorded operations without running them.
func (tp *Tape) Reset() {
	clear(tp.nodes)
	tp.nodes = tp.nodes[:0]
}

// out returns a new output tensor of the given shape, marked as requiring a gradient when the
// tape records and one of the inputs requires one.
func (tp *Tape) out(shape []int, inputs ...*Tensor) *Tensor {
	t := FromData(tp.alloc(numel(shape)), shape...)
	t.arena = tp.arena
	if tp.record {
		for _, in := range inputs {
			if in != nil && in.requiresGrad {
				t.requiresGrad = true
				break
			}
		}
	}
	return t
}

// finish rounds out's data to the storage format and records back, to run with out's
// gradient when out requires one.
func (tp *Tape) finish(out *Tensor, back func(g []float32)) *Tensor {
	tp.p.Storage.RoundSlice(out.Data)
	if out.requiresGrad {
		tp.nodes = append(tp.nodes, func() {
			if out.Grad != nil {
				back(out.Grad)
				out.releaseGrad()
			}
		})
	}
	return out
}

// releaseGrad gives out's gradient back to its arena, when it has one, once Backward has
// passed it on (every consumer of out was recorded after it, so none adds to it any more).
func (out *Tensor) releaseGrad() {
	if out.arena != nil {
		out.arena.release(out.Grad)
		out.Grad = nil
	}
}

// needs reports whether a backward closure should compute t's gradient.
func needs(t *Tensor) bool { return t != nil && t.requiresGrad }

// sumBy reduces vals into n outputs: out[idx(i)] is the sum, under the profile, of the vals
// whose index maps to it, taken in increasing i. Every output must receive the same count.
func (tp *Tape) sumBy(vals []float32, n int, idx func(i int) int) []float32 {
	out := make([]float32, n)
	if n == 0 {
		return out
	}
	cnt := len(vals) / n
	buf := make([]float32, len(vals))
	fill := make([]int, n)
	for i, v := range vals {
		o := idx(i)
		buf[o*cnt+fill[o]] = v
		fill[o]++
	}
	for o := range n {
		out[o] = tp.p.Sum(buf[o*cnt : (o+1)*cnt])
	}
	return out
}
