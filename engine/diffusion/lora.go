package diffusion

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/genquorum/genquorum/tensor"
)

// LoRA describes the low-rank adapters (Hu et al., 2021) of a model: each adapted linear layer
// NAME gets tensors NAME.lora_a [Rank, in] and NAME.lora_b [out, Rank], and its output becomes
// W x + b + (Alpha/Rank) B (A x). B starts at zero, so a new adapter changes nothing until
// trained.
type LoRA struct {
	Rank   int
	Alpha  float32
	Layers []string // the adapted layers, in canonical order
}

// scale returns Alpha/Rank.
func (l *LoRA) scale() float32 { return l.Alpha / float32(l.Rank) }

// AttentionLayers returns the names of the model's cross-attention projections (q, k, v, o of
// every attention block), the layers LoRA adapts in Stable Diffusion.
func (m *Model) AttentionLayers() []string {
	var ls []string
	for _, n := range m.names {
		if strings.Contains(n, ".attn.") && strings.HasSuffix(n, ".w") && !strings.Contains(n, ".norm.") {
			ls = append(ls, strings.TrimSuffix(n, ".w"))
		}
	}
	return ls
}

// AddLoRA gives the model adapters of the given rank on layers (A initialised from seed with
// std 1/sqrt(in), B zero) and makes them the only parameters a Trainer updates. It fails if the
// model already has adapters or a layer is not a linear layer of the model.
func (m *Model) AddLoRA(rank int, alpha float32, layers []string, seed uint64) error {
	if m.lora != nil {
		return fmt.Errorf("diffusion: model already has LoRA adapters")
	}
	if rank <= 0 || rank > 64 || !(alpha > 0) {
		return fmt.Errorf("diffusion: LoRA rank %d (1 to 64) or alpha %g (> 0) out of range", rank, alpha)
	}
	r := newRNG(seed, 0x10a)
	var only []string
	for _, l := range layers {
		w := m.params[l+".w"]
		if w == nil || w.Rank() != 2 {
			return fmt.Errorf("diffusion: LoRA layer %q is not a linear layer", l)
		}
		out, in := w.Shape[0], w.Shape[1]
		a := tensor.New(rank, in)
		r.normals(a.Data)
		sd := float32(1 / math.Sqrt(float64(in)))
		for i := range a.Data {
			a.Data[i] = float32(a.Data[i] * sd)
		}
		m.add(l+".lora_a", a)
		m.add(l+".lora_b", tensor.New(out, rank))
		only = append(only, l+".lora_a", l+".lora_b")
	}
	m.lora = &LoRA{Rank: rank, Alpha: alpha, Layers: slices.Clone(layers)}
	m.only = only
	return nil
}

// ConceptToken is the token a textual inversion learns by default.
const ConceptToken = "<concept>"

// AddConcept appends token to the vocabulary with a new embedding row "text.ti_emb",
// initialised as a copy of the embedding of the word init (a vocabulary word), and makes that
// row the only parameter a Trainer updates (textual inversion, Gal et al., 2022).
func (m *Model) AddConcept(token, init string) error {
	if _, ok := m.params["text.ti_emb"]; ok {
		return fmt.Errorf("diffusion: model already has a textual-inversion token")
	}
	if slices.Contains(m.Vocab, token) || len(words(token)) != 1 || words(token)[0] != token {
		return fmt.Errorf("diffusion: concept token %q is in the vocabulary or is not one lower-case word", token)
	}
	src := slices.Index(m.Vocab, init)
	if src < 0 {
		return fmt.Errorf("diffusion: initial word %q not in the vocabulary", init)
	}
	d := m.Config.TextDim
	row := tensor.New(1, d)
	copy(row.Data, m.p("text.tok_emb").Data[src*d:(src+1)*d])
	m.Vocab = append(m.Vocab, token)
	m.add("text.ti_emb", row)
	m.only = []string{"text.ti_emb"}
	return nil
}
