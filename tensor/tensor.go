package tensor

import (
	"fmt"
	"slices"
	"sync"
)

// Tensor is a dense float32 array with a shape. Tensors made by this package are contiguous
// and row-major; a tensor of rank 0 (Shape empty) holds one element.
type Tensor struct {
	// Data holds the elements: element (i0, ..., i[r-1]) is at
	// Data[i0*Strides[0] + ... + i[r-1]*Strides[r-1]], with Strides[r-1] == 1 and
	// Strides[d] == Strides[d+1]*Shape[d+1] (contiguous, row-major). len(Data) == Len().
	Data []float32
	// Shape is the size of each axis (dim), outermost first. Callers must not change it.
	Shape []int
	// Strides is the distance in Data between neighbours along each axis.
	Strides []int
	// Grad is the gradient of the losses passed to Tape.Backward with respect to this tensor,
	// laid out like Data. It is nil until a backward pass reaches the tensor, and accumulates
	// across Backward calls until ZeroGrad. (A tape on an Arena takes back the gradients of
	// the tensors it made during Backward: see Tape.WithArena.)
	Grad []float32

	requiresGrad bool
	packs        *packCache // set by Freeze
	arena        *Arena     // lends Grad's memory (a tape's output on an arena)
}

// packCache holds packed copies of a frozen tensor for matrix products, by layout.
type packCache struct {
	mu sync.Mutex
	m  map[packKey][]float32
}

type packKey struct {
	f      Format
	transB bool
	n, k   int
}

// Freeze declares that t's Data will not change any more (model weights at inference), and
// returns t. Matrix products that take t as their right operand (MatMul's shared b, Linear's
// w) then keep a packed copy of it inside t and reuse it, which matters when the other operand
// is small (one token of LLM decoding). Changing Data after Freeze gives wrong results; a
// frozen tensor is safe for concurrent use by several tapes.
func (t *Tensor) Freeze() *Tensor {
	if t.packs == nil {
		t.packs = &packCache{m: make(map[packKey][]float32)}
	}
	return t
}

// packedB returns t (as the K x N operand op(B) of a product, with leading dimension ldb)
// packed by packB, from t's cache when t is frozen. release returns a buffer that is not
// cached to the scratch pools; call it when the product is done.
func (t *Tensor) packedB(f Format, transB bool, n, k, ldb int) (bp []float32, release func()) {
	if t.packs == nil {
		bp = packB(f, transB, n, k, t.Data, ldb, true)
		return bp, func() { putScratch(bp) }
	}
	key := packKey{f, transB, n, k}
	t.packs.mu.Lock()
	defer t.packs.mu.Unlock()
	bp, ok := t.packs.m[key]
	if !ok {
		bp = packB(f, transB, n, k, t.Data, ldb, false)
		t.packs.m[key] = bp
	}
	return bp, func() {}
}

// New returns a zero tensor of the given shape. It panics on a negative dim.
func New(shape ...int) *Tensor {
	return FromData(make([]float32, numel(shape)), shape...)
}

// FromData returns a tensor viewing data (not copied) with the given shape. It panics when
// len(data) does not match the shape.
func FromData(data []float32, shape ...int) *Tensor {
	n := numel(shape)
	if len(data) != n {
		panic(fmt.Sprintf("tensor: FromData: %d elements for shape %v", len(data), shape))
	}
	return &Tensor{Data: data, Shape: slices.Clone(shape), Strides: stridesOf(shape)}
}

// Param returns t marked as a trainable leaf: Backward fills its Grad.
func (t *Tensor) Param() *Tensor {
	t.requiresGrad = true
	return t
}

// RequiresGrad reports whether gradients flow to t (a Param, or the output of an operation
// with such an input recorded on a gradient tape).
func (t *Tensor) RequiresGrad() bool { return t.requiresGrad }

// ZeroGrad drops the accumulated gradient.
func (t *Tensor) ZeroGrad() { t.Grad = nil }

// Len returns the number of elements.
func (t *Tensor) Len() int { return len(t.Data) }

// Rank returns the number of axes.
func (t *Tensor) Rank() int { return len(t.Shape) }

// Dim returns the size of axis i; negative i counts from the end.
func (t *Tensor) Dim(i int) int {
	if i < 0 {
		i += len(t.Shape)
	}
	return t.Shape[i]
}

// Item returns the only element of a one-element tensor. It panics otherwise.
func (t *Tensor) Item() float32 {
	if len(t.Data) != 1 {
		panic(fmt.Sprintf("tensor: Item of shape %v", t.Shape))
	}
	return t.Data[0]
}

// At returns the element at the given index, one per axis.
func (t *Tensor) At(idx ...int) float32 {
	if len(idx) != len(t.Shape) {
		panic(fmt.Sprintf("tensor: At(%v) on shape %v", idx, t.Shape))
	}
	off := 0
	for d, i := range idx {
		if i < 0 || i >= t.Shape[d] {
			panic(fmt.Sprintf("tensor: At(%v) out of range of shape %v", idx, t.Shape))
		}
		off += i * t.Strides[d]
	}
	return t.Data[off]
}

// Clone returns a copy of t's data and shape (not its gradient), as a new leaf.
func (t *Tensor) Clone() *Tensor {
	return FromData(slices.Clone(t.Data), t.Shape...)
}

// String returns a short description: shape and, for small tensors, the values.
func (t *Tensor) String() string {
	if len(t.Data) <= 8 {
		return fmt.Sprintf("Tensor%v%v", t.Shape, t.Data)
	}
	return fmt.Sprintf("Tensor%v", t.Shape)
}

// grad returns t.Grad, allocating it on first use.
func (t *Tensor) grad() []float32 {
	if t.Grad == nil {
		if t.arena != nil {
			t.Grad = t.arena.alloc(len(t.Data))
		} else {
			t.Grad = make([]float32, len(t.Data))
		}
	}
	return t.Grad
}

// addGrad adds g element-wise into t's gradient.
func (t *Tensor) addGrad(g []float32) {
	dst := t.grad()
	for i, v := range g {
		dst[i] += v
	}
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		if d < 0 {
			panic(fmt.Sprintf("tensor: negative dim in shape %v", shape))
		}
		n *= d
	}
	return n
}

func stridesOf(shape []int) []int {
	s := make([]int, len(shape))
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		s[i] = acc
		acc *= shape[i]
	}
	return s
}
