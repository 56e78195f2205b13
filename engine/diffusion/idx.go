package diffusion

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// ErrIDX is wrapped by every error ParseIDX returns for malformed input.
var ErrIDX = errors.New("diffusion: malformed idx data")

// MaxIDXBytes bounds the decoded size of one IDX file (the Fashion-MNIST training images are
// 47,040,016 bytes).
const MaxIDXBytes = 64 << 20

// IDX is a parsed IDX array of unsigned bytes (the format of MNIST and Fashion-MNIST): Dims
// are the sizes of its axes, outermost first, and Data holds prod(Dims) bytes in row-major
// order.
type IDX struct {
	Dims []int
	Data []byte
}

// ParseIDX parses an IDX file of unsigned bytes (type code 0x08) from r, which may be
// gzip-compressed (detected by its magic). It checks the header against the bytes present,
// and MaxIDXBytes, before allocating the data.
func ParseIDX(r io.Reader) (*IDX, error) {
	br := bufio.NewReader(r)
	if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%w: gzip: %w", ErrIDX, err)
		}
		defer zr.Close()
		br = bufio.NewReader(zr)
	}
	var head [4]byte
	if _, err := io.ReadFull(br, head[:]); err != nil {
		return nil, fmt.Errorf("%w: short header: %w", ErrIDX, err)
	}
	if head[0] != 0 || head[1] != 0 {
		return nil, fmt.Errorf("%w: magic %x, want two zero bytes", ErrIDX, head[:2])
	}
	if head[2] != 0x08 {
		return nil, fmt.Errorf("%w: element type 0x%02x, want 0x08 (unsigned byte)", ErrIDX, head[2])
	}
	rank := int(head[3])
	if rank == 0 || rank > 4 {
		return nil, fmt.Errorf("%w: rank %d, want 1 to 4", ErrIDX, rank)
	}
	dims := make([]int, rank)
	n := int64(1)
	for i := range dims {
		var b [4]byte
		if _, err := io.ReadFull(br, b[:]); err != nil {
			return nil, fmt.Errorf("%w: short header: %w", ErrIDX, err)
		}
		d := binary.BigEndian.Uint32(b[:])
		if int64(d) > MaxIDXBytes {
			return nil, fmt.Errorf("%w: dim %d of %d, over the limit of %d bytes", ErrIDX, i, d, MaxIDXBytes)
		}
		dims[i] = int(d)
		n *= int64(d)
		if n > MaxIDXBytes {
			return nil, fmt.Errorf("%w: %v elements, over the limit of %d bytes", ErrIDX, dims[:i+1], MaxIDXBytes)
		}
	}
	// Read through a limit one past the expected size, so that a short or long body is caught
	// without trusting the header for more than MaxIDXBytes.
	var buf bytes.Buffer
	got, err := io.Copy(&buf, io.LimitReader(br, n+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrIDX, err)
	}
	if got != n {
		if got > n {
			return nil, fmt.Errorf("%w: trailing bytes after %d elements", ErrIDX, n)
		}
		return nil, fmt.Errorf("%w: %d bytes of data, header %v needs %d", ErrIDX, got, dims, n)
	}
	return &IDX{Dims: dims, Data: buf.Bytes()}, nil
}

// DefaultDataDir is where the Debian package dataset-fashion-mnist installs the data.
const DefaultDataDir = "/usr/share/datasets/fashion-mnist"

// Dataset is a set of labelled 28x28 grey images: image i is Images[i*784:(i+1)*784], one byte
// per pixel, row by row (0 black, 255 white as stored by Fashion-MNIST: the garment is bright
// on a black ground), with class Labels[i] in [0, 10).
type Dataset struct {
	Images []byte
	Labels []uint8
	// Prompts, when not nil, replaces ClassPrompts as the training prompt of each class (a
	// textual inversion trains "A photo of a <concept>").
	Prompts *[NumClasses]string
}

// prompt returns the training prompt of class c.
func (d *Dataset) prompt(c int) string {
	if d.Prompts != nil {
		return d.Prompts[c]
	}
	return ClassPrompts[c]
}

// Subset returns the images whose indices are idx (copied), with d's prompts.
func (d *Dataset) Subset(idx []int) *Dataset {
	const n = SourceSize * SourceSize
	s := &Dataset{Prompts: d.Prompts}
	for _, i := range idx {
		s.Images = append(s.Images, d.Images[i*n:(i+1)*n]...)
		s.Labels = append(s.Labels, d.Labels[i])
	}
	return s
}

// Len returns the number of images.
func (d *Dataset) Len() int { return len(d.Labels) }

// SourceSize is the side of a Fashion-MNIST image.
const SourceSize = 28

// LoadFashionMNIST reads split "train" or "t10k" from dir (DefaultDataDir when ""): the files
// SPLIT-images-idx3-ubyte.gz and SPLIT-labels-idx1-ubyte.gz. An error wrapping
// os.ErrNotExist means the data is not installed (apt-get install dataset-fashion-mnist).
func LoadFashionMNIST(dir, split string) (*Dataset, error) {
	if dir == "" {
		dir = DefaultDataDir
	}
	if split != "train" && split != "t10k" {
		return nil, fmt.Errorf("diffusion: fashion-mnist split %q: want train or t10k", split)
	}
	read := func(name string) (*IDX, error) {
		path := filepath.Join(dir, split+"-"+name+"-ubyte.gz")
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("diffusion: fashion-mnist: %w (install the Debian package dataset-fashion-mnist)", err)
		}
		defer f.Close()
		x, err := ParseIDX(f)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		return x, nil
	}
	imgs, err := read("images-idx3")
	if err != nil {
		return nil, err
	}
	labs, err := read("labels-idx1")
	if err != nil {
		return nil, err
	}
	if len(imgs.Dims) != 3 || imgs.Dims[1] != SourceSize || imgs.Dims[2] != SourceSize {
		return nil, fmt.Errorf("%w: fashion-mnist images of shape %v, want [N 28 28]", ErrIDX, imgs.Dims)
	}
	if len(labs.Dims) != 1 || labs.Dims[0] != imgs.Dims[0] {
		return nil, fmt.Errorf("%w: %v labels for %d images", ErrIDX, labs.Dims, imgs.Dims[0])
	}
	for i, l := range labs.Data {
		if l >= NumClasses {
			return nil, fmt.Errorf("%w: label %d of image %d, want below %d", ErrIDX, l, i, NumClasses)
		}
	}
	return &Dataset{Images: imgs.Data, Labels: labs.Data}, nil
}

// NumClasses is the number of Fashion-MNIST classes.
const NumClasses = 10

// ClassPrompts are the prompts of the ten Fashion-MNIST classes, by label, in the paper's
// template ("A photo of a ...").
var ClassPrompts = [NumClasses]string{
	"A photo of a t-shirt",
	"A photo of a trouser",
	"A photo of a pullover",
	"A photo of a dress",
	"A photo of a coat",
	"A photo of a sandal",
	"A photo of a shirt",
	"A photo of a sneaker",
	"A photo of a bag",
	"A photo of an ankle boot",
}
