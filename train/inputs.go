package train

import (
	"fmt"
	"strings"

	"github.com/genquorum/genquorum/engine/diffusion"
)

// TemplatesTI are the prompt templates of textual inversion, verbatim from the first entries
// of diffusers' textual_inversion.py (imagenet_templates_small); "{}" is the subject (the
// concept token, or a class name for LoRA and full fine-tunes). Words outside the model's
// vocabulary become <unk>, so templates still differ as token sequences: a real augmentation
// of the prompt, as in the paper's runs.
var TemplatesTI = []string{
	"a photo of a {}",
	"a rendering of a {}",
	"a cropped photo of the {}",
	"the photo of a {}",
	"a photo of a clean {}",
	"a photo of a dirty {}",
	"a dark photo of the {}",
	"a photo of my {}",
	"a photo of the cool {}",
	"a close-up photo of a {}",
	"a bright photo of the {}",
	"a cropped photo of a {}",
}

// subject returns the word(s) a prompt names an image of class c by.
func subject(method string, c uint8) string {
	if method == MethodTI {
		return diffusion.ConceptToken
	}
	p := diffusion.ClassPrompts[c]
	p = strings.TrimPrefix(p, "A photo of an ")
	return strings.TrimPrefix(p, "A photo of a ")
}

// draws are one step's random draws, one field per source, before they are turned into the
// trainer's inputs. Tests compare them field by field.
type draws struct {
	Index    []int       // Shuffle: dataset index of each image
	Flip     []bool      // Flip
	Template []int       // Template: index into TemplatesTI
	Dequant  [][]float32 // SampleNoise: per image, 784 offsets in (-0.5, 0.5] grey levels
	T        []int       // Timestep
	Noise    []float32   // SchedNoise: eps, Batch x ImageSize^2
	Drop     []bool      // PromptDrop
}

// inputs draws a run's step inputs: the sources' seeds are fixed at construction; each step k
// draws source s from the stream (seed_s, k), and the data order from a permutation per epoch.
type inputs struct {
	spec      *Spec
	data      *Dataset
	size      int // model image side
	timesteps int
	seeds     [NumSources]uint64
	ids       [][]int // [template*NumClasses+class] token ids
	uncond    []int
	permEpoch int
	perm      []int
}

func newInputs(spec *Spec, data *Dataset, m *diffusion.Model, runSeed uint64) (*inputs, error) {
	if m.Config.ImageSize < diffusion.SourceSize {
		return nil, fmt.Errorf("train: model image size %d below %d", m.Config.ImageSize, diffusion.SourceSize)
	}
	in := &inputs{spec: spec, data: data, size: m.Config.ImageSize, timesteps: m.Config.Timesteps, permEpoch: -1}
	for s := range NumSources {
		in.seeds[s] = spec.sourceSeed(s, runSeed)
	}
	for _, tpl := range TemplatesTI {
		for c := range diffusion.NumClasses {
			in.ids = append(in.ids, m.TokenIDs(strings.ReplaceAll(tpl, "{}", subject(spec.Method, uint8(c)))))
		}
	}
	in.uncond = m.TokenIDs("")
	return in, nil
}

// index returns the dataset index at position p of the data stream (epoch p/N, a fresh
// Fisher-Yates permutation per epoch).
func (in *inputs) index(p int) int {
	n := in.data.Len()
	if e := p / n; e != in.permEpoch {
		r := newRNG(in.seeds[Shuffle], uint64(e))
		in.perm = make([]int, n)
		for i := range in.perm {
			in.perm[i] = i
		}
		for i := n - 1; i > 0; i-- {
			j := r.intn(i + 1)
			in.perm[i], in.perm[j] = in.perm[j], in.perm[i]
		}
		in.permEpoch = e
	}
	return in.perm[p%n]
}

func (in *inputs) draw(k int) draws {
	b := in.spec.Batch
	var d draws
	rs := func(s Source) *rng { return newRNG(in.seeds[s], uint64(k)) }
	rf, rt, rq, rts, rn, rd := rs(Flip), rs(Template), rs(SampleNoise), rs(Timestep), rs(SchedNoise), rs(PromptDrop)
	for i := range b {
		d.Index = append(d.Index, in.index(k*b+i))
		d.Flip = append(d.Flip, rf.next()&1 == 1)
		d.Template = append(d.Template, rt.intn(len(TemplatesTI)))
		q := make([]float32, imageBytes)
		for j := range q {
			q[j] = rq.uniform() - 0.5
		}
		d.Dequant = append(d.Dequant, q)
		d.T = append(d.T, rts.intn(in.timesteps))
		d.Drop = append(d.Drop, rd.uniform() <= in.spec.DropPrompt)
	}
	d.Noise = make([]float32, b*in.size*in.size)
	rn.normals(d.Noise)
	return d
}

// step returns step k's trainer inputs (diffusion.Trainer.Inputs).
func (in *inputs) step(k int) diffusion.StepInputs {
	d := in.draw(k)
	const src = diffusion.SourceSize
	size, b := in.size, in.spec.Batch
	pad := (size - src) / 2
	x0 := make([]float32, b*size*size)
	ids := make([][]int, b)
	for i := range b {
		j := d.Index[i]
		img := in.data.Images[j*imageBytes : (j+1)*imageBytes]
		dst := x0[i*size*size : (i+1)*size*size]
		for y := range size {
			for x := range size {
				v := float32(-1)
				if sy, sx := y-pad, x-pad; sy >= 0 && sy < src && sx >= 0 && sx < src {
					if d.Flip[i] {
						sx = src - 1 - sx
					}
					// x_0 = (pixel + u)/127.5 - 1, u the dequantisation offset.
					v = float32(float32(float32(img[sy*src+sx])+d.Dequant[i][sy*src+sx])/127.5) - 1
				}
				dst[y*size+x] = v
			}
		}
		ids[i] = in.ids[d.Template[i]*diffusion.NumClasses+int(in.data.Labels[j])]
		if d.Drop[i] {
			ids[i] = in.uncond
		}
	}
	return diffusion.StepInputs{X0: x0, Noise: d.Noise, T: d.T, IDs: ids}
}
