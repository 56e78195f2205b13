package diffusion

import "github.com/genquorum/genquorum/tensor"

// LoRA is a set of low-rank adapters (Hu et al., 2021) on linear layers of a model: the layer
// name's output becomes W x + b + (Alpha/Rank) B (A x), with A [Rank, in] and B [out, Rank].
type LoRA struct {
	Rank  int
	Alpha float32

	adapters map[string]*loraPair
}

type loraPair struct{ a, b *tensor.Tensor }

// scale returns Alpha/Rank.
func (l *LoRA) scale() float32 { return l.Alpha / float32(l.Rank) }
