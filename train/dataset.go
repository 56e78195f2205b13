package train

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	_ "image/png" // folders of PNG images
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/genquorum/genquorum/engine"
	"github.com/genquorum/genquorum/engine/diffusion"
)

// MaxImages bounds a dataset, so that a dataset from the network cannot ask for unbounded memory.
const MaxImages = 100_000

// Dataset is a content-addressed set of 28x28 grey images with class labels: the data of a
// training task. Its Digest is the SHA-256 of a canonical encoding of the images and labels in
// order, so two nodes holding the same bytes name the same dataset.
type Dataset struct {
	Images []byte  // image i is Images[i*784:(i+1)*784], row by row, 0 black
	Labels []uint8 // class of each image (Fashion-MNIST's; 0 for a folder)
}

const imageBytes = diffusion.SourceSize * diffusion.SourceSize

// Len returns the number of images.
func (d *Dataset) Len() int { return len(d.Labels) }

// Validate reports whether d is well formed.
func (d *Dataset) Validate() error {
	switch {
	case d.Len() == 0 || d.Len() > MaxImages:
		return fmt.Errorf("train: dataset of %d images, want 1 to %d", d.Len(), MaxImages)
	case len(d.Images) != d.Len()*imageBytes:
		return fmt.Errorf("train: dataset of %d bytes for %d images of %d bytes", len(d.Images), d.Len(), imageBytes)
	}
	for i, l := range d.Labels {
		if l >= diffusion.NumClasses {
			return fmt.Errorf("train: label %d of image %d, want below %d", l, i, diffusion.NumClasses)
		}
	}
	return nil
}

// Encode returns the canonical encoding: "gqds1", the image count (uint32, big-endian), the
// labels, the images.
func (d *Dataset) Encode() []byte {
	b := append([]byte("gqds1"), binary.BigEndian.AppendUint32(nil, uint32(d.Len()))...)
	b = append(b, d.Labels...)
	return append(b, d.Images...)
}

// DecodeDataset parses Encode's bytes.
func DecodeDataset(b []byte) (*Dataset, error) {
	if len(b) < 9 || string(b[:5]) != "gqds1" {
		return nil, fmt.Errorf("train: dataset encoding: bad header")
	}
	n := int(binary.BigEndian.Uint32(b[5:9]))
	if n <= 0 || n > MaxImages || len(b) != 9+n+n*imageBytes {
		return nil, fmt.Errorf("train: dataset encoding: %d bytes for %d images", len(b), n)
	}
	d := &Dataset{Labels: slices.Clone(b[9 : 9+n]), Images: slices.Clone(b[9+n:])}
	return d, d.Validate()
}

// Digest returns the SHA-256 of the canonical encoding.
func (d *Dataset) Digest() engine.Digest { return sha256.Sum256(d.Encode()) }

// FashionMNISTClass returns the first n images of class c of a Fashion-MNIST split ("train"
// or "t10k") read from dir (diffusion.DefaultDataDir when ""). An error wrapping
// os.ErrNotExist means the data is not installed.
func FashionMNISTClass(dir, split string, c, n int) (*Dataset, error) {
	if c < 0 || c >= diffusion.NumClasses || n <= 0 || n > MaxImages {
		return nil, fmt.Errorf("train: class %d (0 to 9) or %d images (1 to %d) out of range", c, n, MaxImages)
	}
	all, err := diffusion.LoadFashionMNIST(dir, split)
	if err != nil {
		return nil, err
	}
	d := &Dataset{}
	for i, l := range all.Labels {
		if int(l) == c && d.Len() < n {
			d.Images = append(d.Images, all.Images[i*imageBytes:(i+1)*imageBytes]...)
			d.Labels = append(d.Labels, l)
		}
	}
	if d.Len() < n {
		return nil, fmt.Errorf("train: fashion-mnist %s has %d images of class %d, want %d", split, d.Len(), c, n)
	}
	return d, nil
}

// Folder reads the PNG images of dir (sorted by file name; 28x28, converted to grey), labelled
// label.
func Folder(dir string, label uint8) (*Dataset, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("train: dataset folder: %w", err)
	}
	d := &Dataset{}
	for _, e := range ents {
		if e.IsDir() || !strings.EqualFold(filepath.Ext(e.Name()), ".png") {
			continue
		}
		if d.Len() == MaxImages {
			return nil, fmt.Errorf("train: dataset folder %s: over %d images", dir, MaxImages)
		}
		path := filepath.Join(dir, e.Name())
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
		img, _, err := image.Decode(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("train: decode %s: %w", path, err)
		}
		b := img.Bounds()
		if b.Dx() != diffusion.SourceSize || b.Dy() != diffusion.SourceSize {
			return nil, fmt.Errorf("train: %s is %dx%d, want %dx%d", path, b.Dx(), b.Dy(), diffusion.SourceSize, diffusion.SourceSize)
		}
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				d.Images = append(d.Images, color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y)
			}
		}
		d.Labels = append(d.Labels, label)
	}
	if d.Len() == 0 {
		return nil, fmt.Errorf("train: dataset folder %s has no PNG images", dir)
	}
	return d, nil
}

// Synthetic returns n generated images (a bright rectangle of random size and place on black,
// with label 8), from seed: tiny data for tests and for machines without Fashion-MNIST.
func Synthetic(n int, seed uint64) *Dataset {
	d := &Dataset{}
	r := newRNG(seed, 0x5e7)
	const s = diffusion.SourceSize
	for range n {
		img := make([]byte, imageBytes)
		x0, y0 := r.intn(s/2), r.intn(s/2)
		w, h := 4+r.intn(s/2-4), 4+r.intn(s/2-4)
		v := byte(128 + r.intn(128))
		for y := y0; y < y0+h; y++ {
			for x := x0; x < x0+w; x++ {
				img[y*s+x] = v
			}
		}
		d.Images = append(d.Images, img...)
		d.Labels = append(d.Labels, 8)
	}
	return d
}

// ParseDataset returns the dataset a command-line spec names: "synthetic:N:SEED" (Synthetic),
// "fashion-mnist:CLASS:N[:SPLIT]" (FashionMNISTClass from the default directory, split t10k
// unless given), or a folder of PNG images (label 8).
func ParseDataset(spec string) (*Dataset, error) {
	parts := strings.Split(spec, ":")
	atoi := func(s string) (int, error) {
		var v int
		_, err := fmt.Sscanf(s, "%d", &v)
		if err != nil {
			return 0, fmt.Errorf("train: dataset %q: %q is not a number", spec, s)
		}
		return v, nil
	}
	switch parts[0] {
	case "synthetic":
		if len(parts) != 3 {
			return nil, fmt.Errorf("train: dataset %q: want synthetic:N:SEED", spec)
		}
		n, err := atoi(parts[1])
		if err != nil {
			return nil, err
		}
		seed, err := atoi(parts[2])
		if err != nil {
			return nil, err
		}
		if n <= 0 || n > MaxImages || seed < 0 {
			return nil, fmt.Errorf("train: dataset %q: N from 1 to %d, SEED not negative", spec, MaxImages)
		}
		return Synthetic(n, uint64(seed)), nil
	case "fashion-mnist":
		if len(parts) != 3 && len(parts) != 4 {
			return nil, fmt.Errorf("train: dataset %q: want fashion-mnist:CLASS:N[:SPLIT]", spec)
		}
		c, err := atoi(parts[1])
		if err != nil {
			return nil, err
		}
		n, err := atoi(parts[2])
		if err != nil {
			return nil, err
		}
		split := "t10k"
		if len(parts) == 4 {
			split = parts[3]
		}
		return FashionMNISTClass("", split, c, n)
	}
	return Folder(spec, 8)
}
