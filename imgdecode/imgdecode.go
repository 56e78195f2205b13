package imgdecode

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/genquorum/genquorum/userfile"
)

// Mode is a Pillow image mode name: the pixel layout Pillow 9.4 gives a
// freshly opened file.
type Mode string

// The Pillow modes Decode can report.
const (
	Mode1    Mode = "1"    // 1-bit grey PNG; Gray gives 0 or 255
	ModeL    Mode = "L"    // 8-bit grey (PNG grey 2/4/8-bit, greyscale JPEG)
	ModeLA   Mode = "LA"   // 8-bit grey + alpha PNG; alpha is ignored
	ModeI    Mode = "I"    // 16-bit grey PNG; Gray clips the sample at 255
	ModeP    Mode = "P"    // palette PNG; tRNS is ignored
	ModeRGB  Mode = "RGB"  // truecolour PNG (high byte of 16-bit samples), colour JPEG
	ModeRGBA Mode = "RGBA" // truecolour+alpha PNG, 16-bit grey+alpha PNG; alpha is ignored
	ModeCMYK Mode = "CMYK" // 4-component JPEG, Adobe-inverted polarity always assumed
)

// JPEGDecoder selects how JPEG files are decoded.
type JPEGDecoder int

const (
	// JPEGTurbo (the default) reproduces libjpeg-turbo 2.1 with its default
	// settings, as used by Pillow: islow integer IDCT, fancy upsampling and
	// libjpeg's fixed-point YCbCr->RGB.
	JPEGTurbo JPEGDecoder = iota
	// JPEGStd uses Go's image/jpeg. It is not bit-compatible with Pillow
	// (different IDCT, chroma upsampling and colour rounding); it is kept
	// as a comparison point.
	JPEGStd
)

// String returns "turbo" or "std".
func (d JPEGDecoder) String() string {
	switch d {
	case JPEGTurbo:
		return "turbo"
	case JPEGStd:
		return "std"
	}
	return fmt.Sprintf("JPEGDecoder(%d)", int(d))
}

// DefaultMaxPixels is the pixel limit used when Options.MaxPixels is 0.
const DefaultMaxPixels = 100_000_000

// DefaultMaxBytes is the file size limit used when Options.MaxBytes is 0.
const DefaultMaxBytes = 512 << 20

// Options controls decoding. The zero value is ready to use.
type Options struct {
	// MaxBytes is the largest input accepted, in bytes; 0 (or a negative value) means
	// DefaultMaxBytes. Larger inputs are rejected with ErrTooLarge before they are read whole.
	MaxBytes int64
	// MaxPixels is the largest Width*Height accepted; 0 (or a negative
	// value) means DefaultMaxPixels. Larger images are rejected with ErrTooLarge from
	// the header alone, before pixel memory is allocated.
	MaxPixels int64
	// JPEG selects the JPEG decoder; the zero value (and any value other
	// than JPEGStd) is JPEGTurbo.
	JPEG JPEGDecoder
}

func (o Options) maxBytes() int64 {
	if o.MaxBytes <= 0 {
		return DefaultMaxBytes
	}
	return o.MaxBytes
}

func (o Options) maxPixels() int64 {
	if o.MaxPixels <= 0 {
		return DefaultMaxPixels
	}
	return o.MaxPixels
}

// Errors returned by Decode, wrapped with context; test with errors.Is.
var (
	// ErrFormat: the data is not a PNG or JPEG file, or is corrupt or uses
	// an unsupported feature (e.g. arithmetic-coded or 12-bit JPEG).
	ErrFormat = errors.New("imgdecode: invalid or unsupported image")
	// ErrTooLarge: the image has more pixels than Options.MaxPixels (the
	// concrete error is a *LimitError), or the input is over Options.MaxBytes.
	ErrTooLarge = errors.New("imgdecode: image too large")
	// ErrEmpty: the file is empty or the image has zero width or height.
	ErrEmpty = errors.New("imgdecode: empty image")
	// ErrTruncated: the data ends before the image is complete.
	ErrTruncated = errors.New("imgdecode: truncated image")
)

// LimitError reports an image whose pixel count is over the limit.
// errors.Is(err, ErrTooLarge) holds for it.
type LimitError struct {
	Width, Height int
	Limit         int64
}

// Error names the image's size and the limit it exceeds.
func (e *LimitError) Error() string {
	return fmt.Sprintf("imgdecode: image is %dx%d (%d pixels), over the limit of %d",
		e.Width, e.Height, int64(e.Width)*int64(e.Height), e.Limit)
}

// Is reports whether target is ErrTooLarge.
func (e *LimitError) Is(target error) bool { return target == ErrTooLarge }

// checkSize validates header dimensions before any pixel allocation.
func checkSize(w, h int, opts Options) error {
	if w <= 0 || h <= 0 {
		return fmt.Errorf("%w: %dx%d", ErrEmpty, w, h)
	}
	if lim := opts.maxPixels(); int64(w)*int64(h) > lim {
		return &LimitError{Width: w, Height: h, Limit: lim}
	}
	return nil
}

// Image is a decoded image: its Pillow mode, its size, and the pixel
// planes Pillow's convert('L') and convert('RGB') would give.
//
// An Image is safe for concurrent use. The slices returned by Gray and RGB
// are computed once and shared by every caller: they must not be modified.
type Image struct {
	Mode          Mode
	Width, Height int

	gray []uint8 // L plane, Width*Height; set at decode for grey modes
	rgb  []uint8 // RGB interleaved, 3*Width*Height; set at decode for RGB/RGBA/P
	cmyk []uint8 // CMYK interleaved (Pillow values), 4*Width*Height; CMYK only

	grayOnce sync.Once
	rgbOnce  sync.Once
}

// isGrey reports whether the mode is a grey mode (no RGB plane).
func (m Mode) isGrey() bool {
	return m == Mode1 || m == ModeL || m == ModeLA || m == ModeI
}

// Gray returns Pillow's convert('L') plane: Width*Height bytes, row-major.
// For colour modes it is computed from RGB with
// L = (19595*R + 38470*G + 7471*B + 0x8000) >> 16.
// The slice is cached and shared: callers must not modify it.
func (im *Image) Gray() []uint8 {
	im.grayOnce.Do(func() {
		if im.gray != nil {
			return
		}
		rgb := im.RGB()
		g := make([]uint8, im.Width*im.Height)
		rgbToL(g, rgb)
		im.gray = g
	})
	return im.gray
}

// RGB returns Pillow's convert('RGB') plane: 3 bytes per pixel (R, G, B)
// interleaved, row-major. It returns nil for the grey modes "1", "L", "LA"
// and "I"; callers then use R=G=B=L (H=S=0, V=L in HSV). The slice is
// cached and shared: callers must not modify it.
func (im *Image) RGB() []uint8 {
	if im.Mode.isGrey() {
		return nil
	}
	im.rgbOnce.Do(func() {
		if im.rgb != nil || im.cmyk == nil {
			return
		}
		rgb := make([]uint8, 3*im.Width*im.Height)
		cmykToRGB(rgb, im.cmyk)
		im.rgb = rgb
	})
	return im.rgb
}

// CMYK returns the CMYK plane (4 bytes per pixel, Pillow's values after the
// Adobe inversion) for mode "CMYK", else nil. Shared: do not modify.
func (im *Image) CMYK() []uint8 { return im.cmyk }

// rgbToL applies Pillow's RGB->L formula; dst has len(rgb)/3 bytes.
func rgbToL(dst, rgb []uint8) {
	rgb = rgb[:3*len(dst)]
	for i := range dst {
		r, g, b := uint32(rgb[3*i]), uint32(rgb[3*i+1]), uint32(rgb[3*i+2])
		dst[i] = uint8((19595*r + 38470*g + 7471*b + 0x8000) >> 16)
	}
}

// cmykToRGB applies Pillow's CMYK->RGB conversion (Convert.c cmyk2rgb):
// nk = 255-K; R = clip(nk - MULDIV255(C, nk)) and likewise for G/M, B/Y.
func cmykToRGB(rgb, cmyk []uint8) {
	n := len(rgb) / 3
	cmyk = cmyk[:4*n]
	for i := range n {
		nk := 255 - int(cmyk[4*i+3])
		for c := range 3 {
			rgb[3*i+c] = clip8(nk - muldiv255(int(cmyk[4*i+c]), nk))
		}
	}
}

func muldiv255(a, b int) int {
	t := a*b + 128
	return (t + (t >> 8)) >> 8
}

func clip8(v int) uint8 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

var (
	pngMagic  = []byte("\x89PNG\r\n\x1a\n")
	jpegMagic = []byte{0xff, 0xd8}
)

// Decode reads a whole PNG or JPEG file from r (the format is sniffed from
// its magic bytes) and decodes it as Pillow 9.4 would. It reads at most
// Options.MaxBytes (ErrTooLarge past that).
func Decode(r io.Reader, opts Options) (*Image, error) {
	limit := opts.maxBytes()
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("imgdecode: read: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: input over the limit of %d bytes", ErrTooLarge, limit)
	}
	return decodeBytes(data, opts)
}

// DecodeFile decodes the PNG or JPEG file at path. Only a regular file is
// read (a FIFO or device is rejected at once, with userfile.ErrNotRegular),
// and a file over Options.MaxBytes is rejected from its size with ErrTooLarge.
// Errors do not repeat the path (except those from opening the file, which os
// already names).
func DecodeFile(path string, opts Options) (*Image, error) {
	data, err := userfile.ReadFile(path, opts.maxBytes())
	if errors.Is(err, userfile.ErrTooLarge) {
		return nil, fmt.Errorf("%w: %w", ErrTooLarge, err)
	}
	if err != nil {
		return nil, fmt.Errorf("imgdecode: %w", err)
	}
	return decodeBytes(data, opts)
}

func decodeBytes(data []byte, opts Options) (*Image, error) {
	switch {
	case len(data) == 0:
		return nil, fmt.Errorf("%w: empty file", ErrEmpty)
	case bytes.HasPrefix(data, pngMagic):
		return decodePNG(data, opts)
	case bytes.HasPrefix(data, jpegMagic):
		if opts.JPEG == JPEGStd {
			return decodeJPEGStd(data, opts)
		}
		return decodeJPEGTurbo(data, opts)
	case len(data) < len(pngMagic) && bytes.HasPrefix(pngMagic, data):
		return nil, fmt.Errorf("%w: png signature", ErrTruncated)
	}
	return nil, fmt.Errorf("%w: not a PNG or JPEG file", ErrFormat)
}
