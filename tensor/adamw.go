package tensor

import "math"

// AdamW is the Adam optimiser with decoupled weight decay (Loshchilov and Hutter, 2019), as in
// PyTorch's torch.optim.AdamW. Its updates are element-wise float32 arithmetic with every
// product rounded explicitly, so they are the same bits on every machine and profile.
type AdamW struct {
	LR          float32 // learning rate
	Beta1       float32 // decay of the first moment, e.g. 0.9
	Beta2       float32 // decay of the second moment, e.g. 0.999
	Eps         float32 // added to the root of the second moment, e.g. 1e-8
	WeightDecay float32 // decoupled decay per unit of LR, e.g. 0.01

	step   int
	b1t    float64 // Beta1^step
	b2t    float64 // Beta2^step
	moment map[*Tensor]*adamState
}

type adamState struct{ m, v []float32 }

// NewAdamW returns an optimiser with PyTorch's defaults for the given learning rate.
func NewAdamW(lr float32) *AdamW {
	return &AdamW{LR: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01}
}

// Steps returns how many updates have been made.
func (o *AdamW) Steps() int { return o.step }

// Step updates every parameter from its Grad (parameters with a nil Grad are left alone) and
// does not clear the gradients. Each parameter is updated independently, so the order of
// params does not matter.
func (o *AdamW) Step(params []*Tensor) {
	if o.moment == nil {
		o.moment = make(map[*Tensor]*adamState)
		o.b1t, o.b2t = 1, 1
	}
	o.step++
	o.b1t *= float64(o.Beta1)
	o.b2t *= float64(o.Beta2)
	c1 := float32(1 - o.b1t)
	c2 := float32(1 - o.b2t)
	for _, p := range params {
		if p.Grad == nil {
			continue
		}
		st := o.moment[p]
		if st == nil {
			st = &adamState{m: make([]float32, p.Len()), v: make([]float32, p.Len())}
			o.moment[p] = st
		}
		decay := 1 - float32(o.LR*o.WeightDecay)
		for i, g := range p.Grad {
			st.m[i] = float32(o.Beta1*st.m[i]) + float32((1-o.Beta1)*g)
			st.v[i] = float32(o.Beta2*st.v[i]) + float32(float32((1-o.Beta2)*g)*g)
			mh := st.m[i] / c1
			vh := st.v[i] / c2
			upd := mh / (float32(math.Sqrt(float64(vh))) + o.Eps)
			p.Data[i] = float32(p.Data[i]*decay) - float32(o.LR*upd)
		}
	}
}
