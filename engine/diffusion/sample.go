package diffusion

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"math"
	"strings"

	"github.com/genquorum/genquorum/tensor"
)

// MaxImageSize is the largest width or height Sample accepts. The U-Net is convolutional and
// its attention is over the prompt's tokens, so it runs at any multiple of 2^(levels-1), but
// it was trained at Config.ImageSize and cost grows with the area.
const MaxImageSize = 256

// MaxSteps is the largest number of sampling steps (the schedule has Config.Timesteps levels).
const MaxSteps = 1000

// DefaultCFGScale is the guidance scale used when SampleParams.CFGScale is 0.
const DefaultCFGScale = 3

// ErrParams is wrapped by Sample's errors for invalid parameters.
var ErrParams = errors.New("diffusion: invalid sampling parameters")

// SampleParams are the parameters of one image.
type SampleParams struct {
	Prompt         string
	NegativePrompt string  // the unconditional context of guidance; "" is the empty prompt
	Sampler        string  // SamplerDDIM (when ""), SamplerEuler or SamplerEulerA
	Steps          int     // 1 to min(MaxSteps, Config.Timesteps)
	CFGScale       float32 // classifier-free guidance scale; 0 means DefaultCFGScale, 1 no guidance
	Width, Height  int     // 0 means Config.ImageSize
	Seed           uint64
}

// normalize fills in defaults and checks p against m.
func (m *Model) normalize(p SampleParams) (SampleParams, error) {
	bad := func(format string, args ...any) (SampleParams, error) {
		return p, fmt.Errorf("%w: %s", ErrParams, fmt.Sprintf(format, args...))
	}
	if p.Sampler == "" {
		p.Sampler = SamplerDDIM
	}
	if p.CFGScale == 0 {
		p.CFGScale = DefaultCFGScale
	}
	if p.Width == 0 {
		p.Width = m.Config.ImageSize
	}
	if p.Height == 0 {
		p.Height = m.Config.ImageSize
	}
	mult := 1 << (len(m.Config.Channels) - 1)
	switch {
	case strings.TrimSpace(p.Prompt) == "":
		return bad("empty prompt")
	case checkSampler(p.Sampler) != nil:
		return bad("unknown sampler %q (have %s)", p.Sampler, strings.Join(Samplers, ", "))
	case p.Steps <= 0 || p.Steps > min(MaxSteps, m.Config.Timesteps):
		return bad("steps %d, want 1 to %d", p.Steps, min(MaxSteps, m.Config.Timesteps))
	case math.IsNaN(float64(p.CFGScale)) || p.CFGScale < 0 || p.CFGScale > 100:
		return bad("guidance scale %g, want 0 to 100", p.CFGScale)
	case p.Width < 0 || p.Height < 0 || p.Width > MaxImageSize || p.Height > MaxImageSize ||
		p.Width%mult != 0 || p.Height%mult != 0:
		return bad("size %dx%d, want multiples of %d up to %d", p.Width, p.Height, mult, MaxImageSize)
	}
	return p, nil
}

// Sample generates one image and returns it as grey levels (row-major, Width x Height, 0 is
// black): initial noise from the seed, p.Steps steps of p.Sampler with classifier-free
// guidance, every operation under profile prof. The result depends only on (m, p, prof): not
// on GOMAXPROCS or the machine. ctx is checked before every step.
func (m *Model) Sample(ctx context.Context, p SampleParams, prof tensor.Profile) (*image.Gray, error) {
	p, err := m.normalize(p)
	if err != nil {
		return nil, err
	}
	if err := prof.Validate(); err != nil {
		return nil, err
	}
	x, err := m.sched.sample(ctx, p, p.Width*p.Height, m.guidedEps(tensor.NoGrad(prof), p))
	if err != nil {
		return nil, err
	}
	return stateImage(x, p), nil
}

// toByte maps [-1, 1] to [0, 255], rounding half up and clamping.
func toByte(v float32) uint8 {
	f := float32(float32(v+1) * 127.5)
	f = float32(math.Floor(float64(f) + 0.5))
	if f != f { // NaN
		return 0
	}
	return uint8(min(max(f, 0), 255))
}

// EncodePNG encodes img as an 8-bit grey PNG with Go's encoder at default compression (the
// same bytes for the same pixels).
func EncodePNG(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.DefaultCompression}).Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("diffusion: encode png: %w", err)
	}
	return buf.Bytes(), nil
}

// Image is a generated grey image.
type Image = *image.Gray

// Grid lays rows of equally sized images out as one image, each pixel magnified scale times,
// with a 2-pixel black border between cells (for inspection, not for verification).
func Grid(rows [][]Image, scale int) *image.Gray {
	if len(rows) == 0 || len(rows[0]) == 0 {
		return image.NewGray(image.Rect(0, 0, 0, 0))
	}
	w, h := rows[0][0].Rect.Dx()*scale, rows[0][0].Rect.Dy()*scale
	cols := 0
	for _, r := range rows {
		cols = max(cols, len(r))
	}
	const gap = 2
	out := image.NewGray(image.Rect(0, 0, cols*(w+gap)+gap, len(rows)*(h+gap)+gap))
	for ri, r := range rows {
		for ci, img := range r {
			x0, y0 := gap+ci*(w+gap), gap+ri*(h+gap)
			for y := range h {
				for x := range w {
					out.Pix[(y0+y)*out.Stride+x0+x] = img.Pix[(y/scale)*img.Stride+x/scale]
				}
			}
		}
	}
	return out
}

// sample runs p's sampler over n pixels with the noise predictor eps (given the model input
// and the timestep) and returns the final image in [-1, 1] (not clamped).
func (s *Schedule) sample(ctx context.Context, p SampleParams, n int, guided func(xin []float32, t int) []float32) ([]float32, error) {
	x := s.initState(p, n)
	if err := s.steps(ctx, p, x, 0, p.Steps, guided); err != nil {
		return nil, err
	}
	return x, nil
}

// initState returns the sampler's state before its first step: the seed's noise (DDIM), scaled
// to the first noise level of the variance-exploding view for the Euler samplers.
func (s *Schedule) initState(p SampleParams, n int) []float32 {
	x := make([]float32, n)
	newRNG(p.Seed, 1).normals(x)
	if p.Sampler != SamplerDDIM {
		ts := s.Timesteps(p.Steps)
		scale := float32(math.Sqrt(1 + s.sigma(ts[0])*s.sigma(ts[0])))
		for i := range x {
			x[i] = float32(x[i] * scale)
		}
	}
	return x
}

// eulerLevels returns, for step i of an Euler sampler, the noise level sig, the level to step
// down to and the ancestral noise level sup (0 for plain Euler and at the last step).
func (s *Schedule) eulerLevels(p SampleParams, ts []int, i int) (sig, down, sup float64) {
	sig = s.sigma(ts[i])
	next := 0.0
	if i+1 < len(ts) {
		next = s.sigma(ts[i+1])
	}
	down = next
	if p.Sampler == SamplerEulerA && next > 0 {
		sup = math.Min(next, math.Sqrt(next*next*(sig*sig-next*next)/(sig*sig)))
		down = math.Sqrt(next*next - sup*sup)
	}
	return sig, down, sup
}

// steps runs steps from..to-1 of p's sampler on the state x in place (the whole sampling is
// steps 0..p.Steps-1 from initState). The ancestral sampler's noise stream is advanced past the
// draws of the steps before from, so a segment continues exactly where a full run would be.
func (s *Schedule) steps(ctx context.Context, p SampleParams, x []float32, from, to int, guided func(xin []float32, t int) []float32) error {
	ts := s.Timesteps(p.Steps)
	n := len(x)
	switch p.Sampler {
	case SamplerDDIM:
		for i := from; i < to; i++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			t := ts[i]
			prev := -1
			if i+1 < len(ts) {
				prev = ts[i+1]
			}
			s.ddimStep(x, guided(x, t), t, prev)
		}
	default: // Euler and Euler ancestral, in the variance-exploding view x_ve = x / sqrt(alphaBar).
		noise := newRNG(p.Seed, 2)
		up := make([]float32, n)
		for i := range from {
			if _, _, sup := s.eulerLevels(p, ts, i); sup > 0 {
				noise.normals(up)
			}
		}
		xin := make([]float32, n)
		for i := from; i < to; i++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			t := ts[i]
			sig, down, sup := s.eulerLevels(p, ts, i)
			cin := float32(1 / math.Sqrt(1+sig*sig))
			for j := range x {
				xin[j] = float32(x[j] * cin)
			}
			eps := guided(xin, t)
			dt := float32(down - sig)
			for j := range x {
				// denoised = x - sig*eps; d = (x - denoised)/sig = eps.
				x[j] += float32(eps[j] * dt)
			}
			if sup > 0 {
				noise.normals(up)
				su := float32(sup)
				for j := range x {
					x[j] += float32(up[j] * su)
				}
			}
		}
	}
	return nil
}
