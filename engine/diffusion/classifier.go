package diffusion

import (
	"context"
	"fmt"
	"image"
	"io"
	"math"

	"github.com/genquorum/genquorum/gguf"
	"github.com/genquorum/genquorum/tensor"
)

// ClassifierArchitecture is the general.architecture of classifier files.
const ClassifierArchitecture = "genquorum-fmnist-classifier"

// Classifier is a small convolutional network that labels 28x28 grey images with a
// Fashion-MNIST class. It judges generated images (cropped to their central 28x28): a model
// "works" when the classifier labels the images made for each class prompt as that class.
// Layers: three 3x3 convolutions (16, 32, 64 channels) with SiLU, 2x2 average pooling after
// the first two, global average pooling, and a linear layer to the 10 classes.
type Classifier struct {
	names  []string
	params map[string]*tensor.Tensor
}

// classifierSpecs lists the classifier's parameters in canonical order. It is a function, not a
// package variable, so that the math.Sqrt calls run when a classifier is made or loaded rather
// than in the package's init.
func classifierSpecs() []paramSpec {
	return []paramSpec{
		{"c1.w", []int{16, 1, 3, 3}, math.Sqrt(2.0 / 9)}, {"c1.b", []int{16}, 0},
		{"c2.w", []int{32, 16, 3, 3}, math.Sqrt(2.0 / 144)}, {"c2.b", []int{32}, 0},
		{"c3.w", []int{64, 32, 3, 3}, math.Sqrt(2.0 / 288)}, {"c3.b", []int{64}, 0},
		{"fc.w", []int{NumClasses, 64}, math.Sqrt(1.0 / 64)}, {"fc.b", []int{NumClasses}, 0},
	}
}

// NewClassifier returns a classifier with weights initialised from seed.
func NewClassifier(seed uint64) *Classifier {
	c := &Classifier{params: map[string]*tensor.Tensor{}}
	r := newRNG(seed, 0xc1a5)
	for _, s := range classifierSpecs() {
		t := tensor.New(s.shape...)
		if s.std > 0 {
			r.normals(t.Data)
			for i := range t.Data {
				t.Data[i] = float32(t.Data[i] * float32(s.std))
			}
		}
		c.names = append(c.names, s.name)
		c.params[s.name] = t
	}
	return c
}

// logits returns the class logits [B, 10] of images x [B, 1, 28, 28] in [-1, 1].
func (c *Classifier) logits(tp *tensor.Tape, x *tensor.Tensor) *tensor.Tensor {
	p := c.params
	h := tp.AvgPool(tp.SiLU(tp.Conv2d(x, p["c1.w"], p["c1.b"], 1, 1)), 2)
	h = tp.AvgPool(tp.SiLU(tp.Conv2d(h, p["c2.w"], p["c2.b"], 1, 1)), 2)
	h = tp.AvgPool(tp.SiLU(tp.Conv2d(h, p["c3.w"], p["c3.b"], 1, 1)), 7)
	return tp.Linear(tp.Reshape(h, x.Shape[0], 64), p["fc.w"], p["fc.b"])
}

// datasetBatch returns images idx of d as a [len(idx), 1, 28, 28] tensor in [-1, 1].
func datasetBatch(d *Dataset, idx []int) *tensor.Tensor {
	const n = SourceSize * SourceSize
	x := tensor.New(len(idx), 1, SourceSize, SourceSize)
	for i, j := range idx {
		for k, v := range d.Images[j*n : (j+1)*n] {
			x.Data[i*n+k] = float32(v)/127.5 - 1
		}
	}
	return x
}

// Train trains c on data for steps steps of batch images (AdamW at lr, images drawn
// with replacement from the stream of seed), calling progress after each step when not nil.
func (c *Classifier) Train(ctx context.Context, data *Dataset, steps, batch int, lr float32, seed uint64, progress func(step int, loss float32)) error {
	opt := tensor.NewAdamW(lr)
	ps := make([]*tensor.Tensor, len(c.names))
	for i, n := range c.names {
		ps[i] = c.params[n].Param()
	}
	for s := range steps {
		if err := ctx.Err(); err != nil {
			return err
		}
		r := newRNG(seed, uint64(s)+1)
		idx := make([]int, batch)
		labels := make([]int, batch)
		for i := range idx {
			idx[i] = r.intn(data.Len())
			labels[i] = int(data.Labels[idx[i]])
		}
		tp := tensor.NewTape(tensor.Exact)
		loss := tp.CrossEntropy(c.logits(tp, datasetBatch(data, idx)), labels)
		for _, p := range ps {
			p.ZeroGrad()
		}
		tp.Backward(loss)
		opt.Step(ps)
		if progress != nil {
			progress(s+1, loss.Item())
		}
	}
	return nil
}

// predict returns the most likely class of each image x [B, 1, 28, 28] in [-1, 1].
func (c *Classifier) predict(x *tensor.Tensor) []int {
	lg := c.logits(tensor.NoGrad(tensor.Exact), x)
	out := make([]int, x.Shape[0])
	for i := range out {
		row := lg.Data[i*NumClasses : (i+1)*NumClasses]
		for k, v := range row {
			if v > row[out[i]] {
				out[i] = k
			}
		}
	}
	return out
}

// Accuracy returns the fraction of data's images the classifier labels correctly, evaluated
// in batches of 500.
func (c *Classifier) Accuracy(ctx context.Context, data *Dataset) (float64, error) {
	right := 0
	for lo := 0; lo < data.Len(); lo += 500 {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		idx := make([]int, 0, 500)
		for j := lo; j < min(lo+500, data.Len()); j++ {
			idx = append(idx, j)
		}
		for i, p := range c.predict(datasetBatch(data, idx)) {
			if p == int(data.Labels[idx[i]]) {
				right++
			}
		}
	}
	return float64(right) / float64(data.Len()), nil
}

// Classify returns the class of each grey image, taking its central 28x28 pixels (images
// generated at 32x32 are Fashion-MNIST's 28x28 with a 2-pixel border). Images smaller than
// 28x28 are refused.
func (c *Classifier) Classify(imgs []*image.Gray) ([]int, error) {
	const n = SourceSize * SourceSize
	x := tensor.New(len(imgs), 1, SourceSize, SourceSize)
	for i, img := range imgs {
		w, h := img.Rect.Dx(), img.Rect.Dy()
		if w < SourceSize || h < SourceSize {
			return nil, fmt.Errorf("diffusion: classify a %dx%d image, want at least 28x28", w, h)
		}
		ox, oy := (w-SourceSize)/2, (h-SourceSize)/2
		for y := range SourceSize {
			for xx := range SourceSize {
				x.Data[i*n+y*SourceSize+xx] = float32(img.Pix[(oy+y)*img.Stride+ox+xx])/127.5 - 1
			}
		}
	}
	return c.predict(x), nil
}

// WriteGGUF writes the classifier as GGUF.
func (c *Classifier) WriteGGUF(w io.Writer) error {
	ts := make([]gguf.WriterTensor, len(c.names))
	for i, n := range c.names {
		ts[i] = f32Tensor(n, c.params[n])
	}
	return gguf.Write(w, []gguf.KV{{Key: "general.architecture", Value: ClassifierArchitecture}}, ts)
}

// Save writes the classifier to path atomically.
func (c *Classifier) Save(path string) error {
	return writeFileAtomic(path, c.WriteGGUF)
}

// LoadClassifier reads a classifier file written by Save.
func LoadClassifier(path string) (*Classifier, error) {
	f, err := gguf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if arch, err := f.String("general.architecture"); err != nil || arch != ClassifierArchitecture {
		return nil, fmt.Errorf("load %s: %w: architecture %q, want %q", path, ErrFormat, arch, ClassifierArchitecture)
	}
	c := &Classifier{params: map[string]*tensor.Tensor{}}
	for _, s := range classifierSpecs() {
		t, err := readF32(f, s.name, s.shape)
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", path, err)
		}
		c.names = append(c.names, s.name)
		c.params[s.name] = t
	}
	return c, nil
}
