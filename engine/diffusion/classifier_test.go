package diffusion

import (
	"bytes"
	"image"
	"testing"

	"github.com/genquorum/genquorum/tensor"
)

func TestClassifierLearnsAndRoundTrips(t *testing.T) {
	data := synthData(100)
	c := NewClassifier(1)
	before, err := c.Accuracy(t.Context(), data)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Train(t.Context(), data, 60, 20, 5e-3, 1, nil); err != nil {
		t.Fatal(err)
	}
	after, _ := c.Accuracy(t.Context(), data)
	if !(after > before && after >= 0.5) {
		t.Errorf("accuracy on synthetic classes %.2f before training, %.2f after; want a rise to at least 0.5", before, after)
	}
	path := t.TempDir() + "/c.gguf"
	if err := c.Save(path); err != nil {
		t.Fatal(err)
	}
	c2, err := LoadClassifier(path)
	if err != nil {
		t.Fatal(err)
	}
	var a, b bytes.Buffer
	c.WriteGGUF(&a)
	c2.WriteGGUF(&b)
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("classifier saved and loaded differs")
	}
	// Classify crops a 32x32 image to its centre: the padded copy of an image gets its label.
	img := image.NewGray(image.Rect(0, 0, 32, 32))
	for i := range img.Pix {
		img.Pix[i] = 0
	}
	for y := range SourceSize {
		copy(img.Pix[(y+2)*32+2:], data.Images[3*784+y*28:3*784+y*28+28])
	}
	got, err := c.Classify([]*image.Gray{img})
	if err != nil {
		t.Fatal(err)
	}
	want := c.predict(datasetBatch(data, []int{3}))
	if got[0] != want[0] {
		t.Errorf("Classify(padded image 3) = %d, predict(image 3) = %d", got[0], want[0])
	}
	if _, err := c.Classify([]*image.Gray{image.NewGray(image.Rect(0, 0, 8, 8))}); err == nil {
		t.Error("Classify of an 8x8 image: no error")
	}
}

// TestShippedClassifier checks the committed classifier: it loads, and (when Fashion-MNIST
// is installed) labels the first 2000 test images with the accuracy recorded in
// testdata/diffusion/README.md (0.8163 on all 10,000).
func TestShippedClassifier(t *testing.T) {
	c, err := LoadClassifier("../../testdata/diffusion/classifier.gguf")
	if err != nil {
		t.Fatal(err)
	}
	if testing.Short() {
		return
	}
	d, err := LoadFashionMNIST("", "t10k")
	if err != nil {
		t.Skipf("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist): %v", err)
	}
	idx := make([]int, 2000)
	for i := range idx {
		idx[i] = i
	}
	acc, err := c.Accuracy(t.Context(), d.Subset(idx))
	if err != nil {
		t.Fatal(err)
	}
	if acc < 0.81 {
		t.Errorf("shipped classifier: accuracy %.3f on 2000 test images, want about 0.84", acc)
	}
	t.Logf("accuracy on the first 2000 test images: %.4f", acc)
}

// TestPreliminaryModelLoads checks that the committed preliminary base model loads and runs.
func TestPreliminaryModelLoads(t *testing.T) {
	nm, err := LoadNamed("base", "../../testdata/diffusion/base-preliminary.gguf")
	if err != nil {
		t.Fatal(err)
	}
	if n := nm.Model.NumParams(); n != 480289 {
		t.Errorf("preliminary model has %d parameters, want 480289", n)
	}
	if _, err := nm.Model.Sample(t.Context(), SampleParams{Prompt: ClassPrompts[8], Steps: 2, Seed: 1}, tensor.Exact); err != nil {
		t.Fatal(err)
	}
}
