package diffusion

import (
	"fmt"
	"testing"

	"github.com/genquorum/genquorum/tensor"
)

// synthData returns n synthetic 28x28 images (a bright square whose size depends on the
// class), so that training can be exercised without the dataset.
func synthData(n int) *Dataset {
	d := &Dataset{Images: make([]byte, n*SourceSize*SourceSize), Labels: make([]uint8, n)}
	for i := range n {
		c := i % NumClasses
		d.Labels[i] = uint8(c)
		img := d.Images[i*SourceSize*SourceSize:]
		for y := 4; y < 6+2*c && y < SourceSize; y++ {
			for x := 4 + c; x < 24; x++ {
				img[y*SourceSize+x] = uint8(100 + 15*c)
			}
		}
	}
	return d
}

func BenchmarkTrainStep(b *testing.B) {
	for _, tc := range []struct {
		name  string
		cfg   Config
		batch int
	}{
		{"default-16-32-64/batch32", DefaultConfig(), 32},
		{"default-16-32-64/batch8", DefaultConfig(), 8},
		{"tiny/batch8", TinyConfig(), 8},
	} {
		b.Run(tc.name, func(b *testing.B) {
			m, err := NewModel(tc.cfg, BaseVocab, 1)
			if err != nil {
				b.Fatal(err)
			}
			trc := DefaultTrainConfig()
			trc.Batch = tc.batch
			tr, err := NewTrainer(m, synthData(100), trc)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				tr.Step()
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
		})
	}
}

func BenchmarkSample(b *testing.B) {
	m, err := NewModel(DefaultConfig(), BaseVocab, 1)
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range []string{SamplerDDIM, SamplerEuler} {
		b.Run(fmt.Sprintf("%s/steps20/32x32", s), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.Sample(b.Context(), SampleParams{Prompt: ClassPrompts[8], Steps: 20, Sampler: s}, tensor.Exact); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
