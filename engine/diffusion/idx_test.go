package diffusion

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"slices"
	"testing"
)

func idxBytes(head []byte, body int) []byte {
	return append(slices.Clone(head), make([]byte, body)...)
}

func TestParseIDX(t *testing.T) {
	h3 := []byte{0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4} // [2 3 4]
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(idxBytes(h3, 24))
	zw.Close()
	for _, tc := range []struct {
		name    string
		in      []byte
		dims    []int
		wantErr bool
	}{
		{"plain", idxBytes(h3, 24), []int{2, 3, 4}, false},
		{"gzip", gz.Bytes(), []int{2, 3, 4}, false},
		{"labels", idxBytes([]byte{0, 0, 8, 1, 0, 0, 0, 5}, 5), []int{5}, false},
		{"empty", nil, nil, true},
		{"short header", h3[:10], nil, true},
		{"bad magic", idxBytes([]byte{1, 0, 8, 1, 0, 0, 0, 1}, 1), nil, true},
		{"float type", idxBytes([]byte{0, 0, 0x0d, 1, 0, 0, 0, 1}, 4), nil, true},
		{"rank 0", []byte{0, 0, 8, 0}, nil, true},
		{"rank 5", []byte{0, 0, 8, 5}, nil, true},
		{"truncated body", idxBytes(h3, 23), nil, true},
		{"trailing bytes", idxBytes(h3, 25), nil, true},
		{"huge dims", idxBytes([]byte{0, 0, 8, 3, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0}, 8), nil, true},
		{"bad gzip", []byte{0x1f, 0x8b, 1, 2, 3}, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x, err := ParseIDX(bytes.NewReader(tc.in))
			if tc.wantErr {
				if !errors.Is(err, ErrIDX) {
					t.Errorf("ParseIDX = %v, want an error wrapping ErrIDX", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseIDX: %v", err)
			}
			if !slices.Equal(x.Dims, tc.dims) || len(x.Data) != 24 && len(x.Data) != 5 {
				t.Errorf("ParseIDX = dims %v, %d bytes; want dims %v", x.Dims, len(x.Data), tc.dims)
			}
		})
	}
}

func TestParseIDXTestdata(t *testing.T) {
	f, err := os.Open("../../testdata/diffusion/tiny-images-idx3-ubyte.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	x, err := ParseIDX(f)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{3, 2, 2}; !slices.Equal(x.Dims, want) || x.Data[3] != 255 || x.Data[11] != 6 {
		t.Errorf("ParseIDX = %v %v, want dims %v, data ending 255 ... 6", x.Dims, x.Data, want)
	}
}

func FuzzParseIDX(f *testing.F) {
	for _, p := range []string{"../../testdata/diffusion/tiny-images-idx3-ubyte.gz", "../../testdata/diffusion/tiny-labels-idx1-ubyte"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := ParseIDX(bytes.NewReader(b))
		if err != nil {
			return
		}
		n := 1
		for _, d := range x.Dims {
			n *= d
		}
		if n != len(x.Data) {
			t.Errorf("ParseIDX: dims %v but %d bytes", x.Dims, len(x.Data))
		}
	})
}

func TestLoadFashionMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 30 MB")
	}
	d, err := LoadFashionMNIST("", "t10k")
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist): %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 10000 || len(d.Images) != 10000*28*28 {
		t.Errorf("t10k has %d images, %d bytes; want 10000", d.Len(), len(d.Images))
	}
	var counts [NumClasses]int
	for _, l := range d.Labels {
		counts[l]++
	}
	for c, n := range counts {
		if n != 1000 {
			t.Errorf("class %d has %d test images, want 1000", c, n)
		}
	}
}

func TestTokenize(t *testing.T) {
	for _, tc := range []struct {
		prompt string
		want   []string
	}{
		{"A photo of a bag", []string{"<bos>", "a", "photo", "of", "a", "bag", "<pad>", "<pad>"}},
		{"A photo of an ankle boot", []string{"<bos>", "a", "photo", "of", "an", "ankle", "boot", "<pad>"}},
		{"a PHOTO of a T-Shirt!", []string{"<bos>", "a", "photo", "of", "a", "t-shirt", "<pad>", "<pad>"}},
		{"", []string{"<bos>", "<pad>", "<pad>", "<pad>", "<pad>", "<pad>", "<pad>", "<pad>"}},
		{"a photo of a zebra", []string{"<bos>", "a", "photo", "of", "a", "<unk>", "<pad>", "<pad>"}},
		{"one two three four five six seven eight", []string{"<bos>", "<unk>", "<unk>", "<unk>", "<unk>", "<unk>", "<unk>", "<unk>"}},
	} {
		ids := Tokenize(BaseVocab, tc.prompt, 8)
		got := make([]string, len(ids))
		for i, id := range ids {
			got[i] = BaseVocab[id]
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("Tokenize(%q) = %v, want %v", tc.prompt, got, tc.want)
		}
	}
}
