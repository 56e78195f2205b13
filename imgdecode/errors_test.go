package imgdecode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pngWithSize returns a copy of a PNG whose IHDR says w x h (CRC fixed).
func pngWithSize(t *testing.T, src []byte, w, h uint32) []byte {
	t.Helper()
	b := bytes.Clone(src)
	binary.BigEndian.PutUint32(b[16:], w)
	binary.BigEndian.PutUint32(b[20:], h)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

// jpegWithSize returns a copy of a baseline JPEG whose SOF0 says w x h.
func jpegWithSize(t *testing.T, src []byte, w, h uint16) []byte {
	t.Helper()
	b := bytes.Clone(src)
	i := bytes.Index(b, []byte{0xff, 0xc0})
	if i < 0 {
		t.Fatal("no SOF0 marker")
	}
	binary.BigEndian.PutUint16(b[i+5:], h)
	binary.BigEndian.PutUint16(b[i+7:], w)
	return b
}

func TestDecodeErrors(t *testing.T) {
	png := mustRead(t, filepath.Join(corpusDir, "images/p13_rose__shift1.png"))
	jpg := mustRead(t, filepath.Join("testdata", "jpeg/s420_33x17.jpg"))
	prog := mustRead(t, filepath.Join("testdata", "jpeg/s420_prog_61x45.jpg"))
	badCRC := bytes.Clone(png)
	badCRC[40] ^= 0xff
	tests := []struct {
		name    string
		data    []byte
		opts    Options
		want    error
		wantMsg string
	}{
		{"empty", nil, Options{}, ErrEmpty, "empty file"},
		{"text", []byte("hello, world"), Options{}, ErrFormat, "not a PNG or JPEG"},
		{"png signature only", png[:8], Options{}, ErrTruncated, ""},
		{"png prefix of signature", png[:5], Options{}, ErrTruncated, ""},
		{"png half", png[:len(png)/2], Options{}, ErrTruncated, ""},
		{"png IHDR bad crc", flipByte(png, 29), Options{}, ErrFormat, "checksum"},
		{"png bad crc", badCRC, Options{}, ErrFormat, "checksum"},
		{"png zero width", pngWithSize(t, png, 0, 46), Options{}, ErrEmpty, ""},
		{"png huge", pngWithSize(t, png, 20000, 20000), Options{}, ErrTooLarge,
			"imgdecode: image is 20000x20000 (400000000 pixels), over the limit of 100000000"},
		{"png over MaxPixels", png, Options{MaxPixels: 70*46 - 1}, ErrTooLarge, "over the limit of 3219"},
		{"jpeg SOI only", jpg[:2], Options{}, ErrTruncated, ""},
		{"jpeg half", jpg[:len(jpg)/2], Options{}, ErrTruncated, ""},
		{"jpeg no EOI", jpg[:len(jpg)-2], Options{}, ErrTruncated, ""},
		{"progressive half", prog[:len(prog)/2], Options{}, ErrTruncated, ""},
		{"jpeg huge", jpegWithSize(t, jpg, 65535, 65535), Options{}, ErrTooLarge, "65535x65535"},
		{"jpeg zero height", jpegWithSize(t, jpg, 33, 0), Options{}, ErrEmpty, ""},
		{"jpeg over MaxPixels", jpg, Options{MaxPixels: 100}, ErrTooLarge, "over the limit of 100"},
		{"jpeg std huge", jpegWithSize(t, jpg, 65535, 65535), Options{JPEG: JPEGStd}, ErrTooLarge, ""},
		{"jpeg std half", jpg[:len(jpg)/2], Options{JPEG: JPEGStd}, ErrTruncated, ""},
		{"too many scans", manyScans(t, prog, 1001), Options{}, ErrFormat, "more than 1000 scans"},
		{"arithmetic", mustRead(t, filepath.Join("testdata", "arithmetic_s420_61x45.jpg")), Options{}, ErrFormat, "arithmetic coding"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			im, err := Decode(bytes.NewReader(tc.data), tc.opts)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Decode = %v; want error %v (image: %v)", err, tc.want, im != nil)
			}
			if !strings.HasPrefix(err.Error(), "imgdecode: ") || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("Decode error %q, want it to start with \"imgdecode: \" and contain %q", err, tc.wantMsg)
			}
		})
	}
}

// TestTooLargeAllocatesNothing checks that the pixel limit is applied from
// the header alone: rejecting a 65535x65535 JPEG or a 20000x20000 PNG must
// not allocate anything near the image size.
func TestTooLargeAllocatesNothing(t *testing.T) {
	png := pngWithSize(t, mustRead(t, filepath.Join(corpusDir, "images/p13_rose__shift1.png")), 20000, 20000)
	jpg := jpegWithSize(t, mustRead(t, filepath.Join("testdata", "jpeg/s420_33x17.jpg")), 65535, 65535)
	for _, data := range [][]byte{png, jpg} {
		var ms0, ms1 runtimeMemStats
		ms0.read()
		for range 10 {
			if _, err := decodeBytes(data, Options{}); !errors.Is(err, ErrTooLarge) {
				t.Fatalf("decodeBytes: %v, want ErrTooLarge", err)
			}
		}
		ms1.read()
		if got := ms1.TotalAlloc - ms0.TotalAlloc; got > 1<<20 {
			t.Errorf("rejecting a too-large image allocated %d bytes over 10 calls", got)
		}
	}
}

// manyScans returns a progressive JPEG whose first scan (the DC scan) is
// repeated until there are n scans; decoders see it as valid but slow.
func manyScans(t *testing.T, src []byte, n int) []byte {
	t.Helper()
	first := bytes.Index(src, []byte{0xff, 0xda})
	second := bytes.Index(src[first+2:], []byte{0xff, 0xda}) + first + 2
	// scan 1 runs from its SOS to the next marker segment before scan 2
	end := bytes.LastIndex(src[:second], []byte{0xff, 0xc4})
	if first < 0 || end <= first {
		t.Fatal("unexpected progressive layout")
	}
	out := bytes.Clone(src[:end])
	for range n - 1 {
		out = append(out, src[first:end]...)
	}
	return append(out, 0xff, 0xd9)
}

func flipByte(b []byte, i int) []byte {
	b = bytes.Clone(b)
	b[i] ^= 1
	return b
}

// TestPNGLenientLikePillow checks damage Pillow 9.4 tolerates because it
// stops reading once the pixels are complete and skips IDAT CRCs (checked
// against Pillow by hand: all of these open and give the intact pixels).
func TestPNGLenientLikePillow(t *testing.T) {
	png := mustRead(t, filepath.Join("testdata", "png/rgb8.png"))
	// rgb8.png is IHDR (8..33), one IDAT (33..496), IEND (496..508).
	const idatEnd, iend = 496, 496
	want, err := Decode(bytes.NewReader(png), Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"no IEND", png[:iend]},
		{"IEND cut", png[:len(png)-1]},
		{"IDAT bad crc", flipByte(png, idatEnd-1)},
		{"garbage after IDAT", append(bytes.Clone(png[:iend]), "garbage"...)},
		{"trailing garbage", append(bytes.Clone(png), "garbage"...)},
		{"bad crc after IDAT", append(append(bytes.Clone(png[:iend]), 0, 0, 0, 1, 't', 'E', 'X', 't', 'a', 0, 0, 0, 0), png[iend:]...)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			im, err := Decode(bytes.NewReader(tc.data), Options{})
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !bytes.Equal(im.RGB(), want.RGB()) {
				t.Errorf("Decode: pixels differ from the intact file")
			}
		})
	}
}

func TestScanLimitBoundary(t *testing.T) {
	prog := mustRead(t, filepath.Join("testdata", "jpeg/s420_prog_61x45.jpg"))
	if _, err := Decode(bytes.NewReader(manyScans(t, prog, 1000)), Options{}); err != nil {
		t.Errorf("Decode(1000 scans) = %v, want success", err)
	}
}

func TestDecodeFileMissing(t *testing.T) {
	_, err := DecodeFile(filepath.Join(t.TempDir(), "nope.png"), Options{})
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("DecodeFile(missing) = %v, want os.ErrNotExist", err)
	}
}
