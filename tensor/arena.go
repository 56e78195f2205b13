package tensor

import (
	"fmt"
	"slices"
	"sync"
)

// Arena lends a Tape the memory of what it keeps for a step: its outputs' data, their
// gradients, and what operations save for the backward pass (normalisation's x-hat). Reset
// takes all of it back at once, so a loop that runs the same computation step after step
// (training) reuses its memory instead of allocating, zeroing and collecting it anew, with
// the page faults and GC work that costs. (Temporaries that live inside one operation come
// from the package's scratch pools instead.) It also keeps Transpose's gather indices, by
// shape and permutation, for the next steps.
//
// Every buffer an Arena lends is zeroed, exactly like one from make, so a computation gives
// the same bits with an Arena or without. An Arena is safe for concurrent use.
type Arena struct {
	mu    sync.Mutex
	free  map[int][][]float32 // returned by Reset, by length
	lent  [][]float32         // since the last Reset
	perms map[string]permutation
}

// permutation is a Transpose's output shape and gather index (see permuteIndex), kept by an
// arena for the next steps: read-only once made.
type permutation struct {
	shape, src []int
}

// NewArena returns an empty arena.
func NewArena() *Arena {
	return &Arena{free: make(map[int][][]float32), perms: make(map[string]permutation)}
}

// permuteIndex is the package's permuteIndex, made once per shape and permutation and kept
// (unlike buffers, across Reset: the same step transposes the same shapes every time).
func (a *Arena) permuteIndex(shape, perm []int) (outShape, src []int) {
	key := fmt.Sprint(shape, perm)
	a.mu.Lock()
	p, ok := a.perms[key]
	a.mu.Unlock()
	if !ok {
		p.shape, p.src = permuteIndex(shape, perm)
		a.mu.Lock()
		a.perms[key] = p
		a.mu.Unlock()
	}
	return slices.Clone(p.shape), p.src
}

// alloc returns a zeroed buffer of length n, reusing one returned by Reset when one of that
// length is free.
func (a *Arena) alloc(n int) []float32 {
	a.mu.Lock()
	var b []float32
	if l := a.free[n]; len(l) > 0 {
		b = l[len(l)-1]
		l[len(l)-1] = nil
		a.free[n] = l[:len(l)-1]
	}
	a.mu.Unlock()
	if b == nil {
		b = make([]float32, n)
	} else {
		clear(b)
	}
	a.mu.Lock()
	a.lent = append(a.lent, b)
	a.mu.Unlock()
	return b
}

// release takes back b, lent since the last Reset and no longer used, before the Reset.
func (a *Arena) release(b []float32) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := len(a.lent) - 1; i >= 0; i-- { // b was most likely lent recently
		if l := a.lent[i]; len(l) == len(b) && &l[0] == &b[0] {
			last := len(a.lent) - 1
			a.lent[i], a.lent[last] = a.lent[last], nil
			a.lent = a.lent[:last]
			a.free[len(b)] = append(a.free[len(b)], b)
			return
		}
	}
	panic("tensor: arena: release of a buffer not lent")
}

// Reset takes back every buffer lent since the last Reset. The caller must not use any tensor
// made by a tape on this arena before the Reset (nor its Grad) afterwards.
func (a *Arena) Reset() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, b := range a.lent {
		a.free[len(b)] = append(a.free[len(b)], b)
		a.lent[i] = nil
	}
	a.lent = a.lent[:0]
}

// alloc returns a zeroed buffer of length n: from the tape's arena when it has one, else new.
func (tp *Tape) alloc(n int) []float32 {
	if tp.arena != nil {
		return tp.arena.alloc(n)
	}
	return make([]float32, n)
}

// WithArena makes the tape take the memory of its outputs, their gradients and what it saves
// for the backward pass from a (see Arena), and returns tp. Backward then takes back each
// output's gradient as soon as it has been passed on to the output's inputs (so that later
// gradients of the same size reuse it): after Backward, only tensors the tape did not make
// (Params, inputs) hold gradients. Tensors the tape makes must not be used after
// a.Reset.
func (tp *Tape) WithArena(a *Arena) *Tape {
	tp.arena = a
	return tp
}
