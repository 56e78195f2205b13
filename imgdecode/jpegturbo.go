package imgdecode

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/genquorum/genquorum/imgdecode/internal/ljpeg"
)

// decodeJPEGTurbo decodes with the libjpeg-turbo-compatible decoder and
// applies Pillow's modes: 1 component -> L, 3 -> RGB, 4 -> CMYK read with
// raw mode "CMYK;I" (every byte inverted, Adobe convention assumed).
func decodeJPEGTurbo(data []byte, opts Options) (*Image, error) {
	check := func(w, h int) error { return checkSize(w, h, opts) }
	j, err := ljpeg.Decode(bytes.NewReader(data), check)
	if err != nil {
		return nil, jpegError(err)
	}
	im := &Image{Width: j.Width, Height: j.Height}
	switch j.NComp {
	case 1:
		im.Mode, im.gray = ModeL, j.Pix
	case 3:
		im.Mode, im.rgb = ModeRGB, j.Pix
	case 4:
		for i, v := range j.Pix {
			j.Pix[i] = 255 - v
		}
		im.Mode, im.cmyk = ModeCMYK, j.Pix
	default:
		return nil, fmt.Errorf("%w: jpeg: %d components", ErrFormat, j.NComp)
	}
	return im, nil
}

func jpegError(err error) error {
	var le *LimitError
	switch {
	case errors.As(err, &le), errors.Is(err, ErrEmpty):
		return err
	case ljpeg.IsTruncated(err):
		return fmt.Errorf("%w: jpeg: %w", ErrTruncated, err)
	}
	return fmt.Errorf("%w: jpeg: %w", ErrFormat, err)
}
