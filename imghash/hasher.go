package imghash

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
)

// Image is the decoded input to every hash: Width*Height pixels, row-major, top-left first.
//
// RGB holds 3 bytes per pixel (R, G, B; Pillow's convert('RGB')) and is nil for grey images
// (Pillow modes 1, L, LA, I), whose HSV is H = S = 0, V = L. Gray holds 1 byte per pixel
// (Pillow's convert('L')); it may be nil when RGB is set, and is then computed. When both
// are set Gray must be the luma of RGB. The hashes only read the slices.
type Image struct {
	Width, Height int
	Gray          []uint8
	RGB           []uint8
}

// ErrImage is wrapped by the errors returned for an Image whose sizes and slices disagree.
var ErrImage = errors.New("imghash: invalid image")

func (im *Image) validate() error {
	if im.Width < 1 || im.Height < 1 {
		return fmt.Errorf("%w: size %dx%d", ErrImage, im.Width, im.Height)
	}
	n := im.Width * im.Height
	if n/im.Width != im.Height {
		return fmt.Errorf("%w: size %dx%d overflows", ErrImage, im.Width, im.Height)
	}
	if im.Gray == nil && im.RGB == nil {
		return fmt.Errorf("%w: neither Gray nor RGB set", ErrImage)
	}
	if im.Gray != nil && len(im.Gray) != n {
		return fmt.Errorf("%w: len(Gray) = %d, want %d", ErrImage, len(im.Gray), n)
	}
	if im.RGB != nil && len(im.RGB) != 3*n {
		return fmt.Errorf("%w: len(RGB) = %d, want %d", ErrImage, len(im.RGB), 3*n)
	}
	return nil
}

// minParallelPixels is the image size below which Compute ignores Hasher.Workers: starting
// goroutines costs more than the sweep.
const minParallelPixels = 64 * 1024

// maxTableBytes is the resize-table memory Compute always allows; beyond it the tables
// may use at most 8 bytes per image pixel (see tableBytes).
const maxTableBytes = 256 << 20

// tableBytes estimates the memory of the resize coefficient tables for targets: about
// 6*max(1, in/out) taps per output, 12 bytes per tap horizontally (int32 and the two int16
// halves) and 4 vertically plus 8 bytes per input row. Only degenerate shapes (e.g.
// 1 x 10^8, downscaled along the long axis) come near the limit; Pillow would allocate
// twice as much in float64, but a network must not let a 100 KB PNG claim gigabytes.
func tableBytes(W, H int, targets []target) int64 {
	ksize := func(in, out int) int64 {
		return 2*int64(math.Ceil(3*max(float64(in)/float64(out), 1))) + 1
	}
	var b int64
	for _, t := range targets {
		if t.w != W {
			b += int64(t.w) * ksize(W, t.w) * 12
		}
		if t.h != H {
			b += int64(t.h)*ksize(H, t.h)*4 + 8*int64(H)
		}
	}
	return b
}

// target is one LANCZOS resize the requested hashes need.
type target struct{ w, h int }

// Hasher computes several hashes of one image, sharing the work: the luma plane is computed
// once, each distinct resize width gets one horizontal pass over the image (all widths in
// the same sweep, while the row is in cache), each distinct resize target one vertical pass,
// and colorhash's HSV statistics come from the same sweep. A Hasher keeps its buffers and
// resize coefficients between calls, so reuse one per goroutine; it is not safe for
// concurrent use. The zero Hasher is ready to use.
type Hasher struct {
	// Workers is the number of goroutines one Compute may use for the per-row sweep
	// (luma, colour statistics, horizontal resampling) of a large image; 0 or 1 means
	// the calling goroutine only. The hashes do not depend on it. Leave it at 1 when
	// images are already hashed in parallel (as hashscan does).
	Workers int

	coeffs     map[[2]int]*coeffs
	coeffBytes int64
	gray       []uint8
	inter      map[int][]uint8 // horizontal-pass results by output width, width x Height
	sized      map[target][]uint8
	work       []*worker
	sw         sweepState

	// The plan of the last Compute, kept to reuse the storage.
	targets []target
	widths  []int
	hcs     []*coeffs
	inters  [][]uint8
	pix     [][]uint8
	streams []stream
	f1, f2  []float64
	i1, i2  []int64
}

func (hs *Hasher) coeffsFor(in, out int) *coeffs {
	// The cache is dropped when it holds many or large tables (thin images have large
	// ones); tables in use stay valid, being referenced by the plan.
	if hs.coeffs == nil || len(hs.coeffs) >= 64 || hs.coeffBytes > 64<<20 {
		hs.coeffs = make(map[[2]int]*coeffs)
		hs.coeffBytes = 0
	}
	key := [2]int{in, out}
	c := hs.coeffs[key]
	if c == nil {
		c = newCoeffs(in, out)
		hs.coeffs[key] = c
		hs.coeffBytes += 12*int64(len(c.k)) + 8*int64(in) // with the lazy vector or range tables
	}
	return c
}

// sweepParallel splits the sweep into stripes of rows, each worker with its own counters
// and accumulators; rows are independent and integer sums commute, so the result does not
// depend on the split.
func (hs *Hasher) sweepParallel(workers, H int) {
	var wg sync.WaitGroup
	for i, wk := range hs.work[:workers] {
		wg.Go(func() { hs.sw.sweep(wk, i*H/workers, (i+1)*H/workers) })
	}
	wg.Wait()
}

// sweepState is what one Compute's row sweep reads; the workers share it read-only.
type sweepState struct {
	img                Image
	gray               []uint8
	ownGray, wantColor bool
	tabs               *hsvTables
	hcs                []*coeffs
	inters             [][]uint8
	streams            []stream
}

// sweep processes rows y0..y1-1: luma, colour statistics, horizontal passes, vertical
// accumulation, with wk's buffers.
func (sw *sweepState) sweep(wk *worker, y0, y1 int) {
	img, gray, W := sw.img, sw.gray, sw.img.Width
	for y := y0; y < y1; y++ {
		lrow := gray[y*W : (y+1)*W]
		switch {
		case sw.ownGray && sw.wantColor:
			wk.st.addRGB(img.RGB[3*y*W:3*(y+1)*W], lrow, wk.idx, sw.tabs) // luma included
		case sw.ownGray:
			luma(lrow, img.RGB[3*y*W:3*(y+1)*W])
		case sw.wantColor:
			wk.st.addGray(lrow)
		}
		for i, c := range sw.hcs {
			w := c.out
			row := wk.rows[i]
			if sw.inters[i] != nil {
				row = sw.inters[i][y*w : (y+1)*w]
			}
			hpassRow(row, lrow, c)
		}
		for si, sm := range sw.streams {
			src := lrow
			if sm.width >= 0 {
				src = wk.rows[sm.width]
				if sw.inters[sm.width] != nil {
					src = sw.inters[sm.width][y*sm.w : (y+1)*sm.w]
				}
			}
			sm.c.accumulate(wk.accs[si], src, y)
		}
	}
}

// stream is one vertical pass done row by row during the sweep.
type stream struct {
	target int     // index in the plan's targets
	w      int     // target width
	c      *coeffs // vertical coefficients, Height -> target height
	width  int     // index of the horizontal pass feeding it, -1 for the luma row itself
}

// worker holds the per-goroutine state of the sweep.
type worker struct {
	st   colorStats
	idx  []uint32  // colour indexes of one row
	rows [][]uint8 // one row per horizontal width not kept as a plane
	accs [][]int32 // per stream, target width x target height, without the rounding term
}

// prepare sizes and clears w's buffers for a sweep.
func (w *worker) prepare(W int, widths []int, inters [][]uint8, streams []stream, color bool) {
	w.st = colorStats{}
	if color {
		w.idx = grow(w.idx, W)
	}
	for len(w.rows) < len(widths) {
		w.rows = append(w.rows, nil)
	}
	for i, wd := range widths {
		if inters[i] == nil {
			w.rows[i] = grow(w.rows[i], wd)
		}
	}
	for len(w.accs) < len(streams) {
		w.accs = append(w.accs, nil)
	}
	for i, sm := range streams {
		w.accs[i] = grow(w.accs[i], sm.w*sm.c.out)
		clear(w.accs[i])
	}
}

// grow returns b resized to n elements, reusing its storage when it is large enough.
func grow[T any](b []T, n int) []T {
	if cap(b) < n {
		return make([]T, n)
	}
	return b[:n]
}

// resizeTarget returns the resize each spec needs (w, h), given the image size.
func resizeTarget(s Spec, w, h int) target {
	switch s.Kind {
	case AverageHash:
		return target{s.Size, s.Size}
	case DHash:
		return target{s.Size + 1, s.Size}
	case DHashVertical:
		return target{s.Size, s.Size + 1}
	case PHash, PHashSimple:
		return target{s.Size * highfreqFactor, s.Size * highfreqFactor}
	case WHash:
		sc := whashScale(w, h, s.Size)
		return target{sc, sc}
	}
	return target{}
}

// Compute returns the hashes of img for specs, in the order of specs. It returns an error
// wrapping ErrImage for an inconsistent img, or the Validate error of a bad spec.
// The returned hashes do not alias the Hasher's buffers.
func (hs *Hasher) Compute(img Image, specs []Spec) ([]Hash, error) {
	if err := img.validate(); err != nil {
		return nil, err
	}
	for _, s := range specs {
		if err := s.Validate(); err != nil {
			return nil, err
		}
	}
	W, H := img.Width, img.Height

	// Plan: resize targets, the horizontal widths they need, colour statistics.
	targets, widths := hs.targets[:0], hs.widths[:0]
	wantColor := false
	for _, s := range specs {
		if s.Kind == ColorHash {
			wantColor = true
			continue
		}
		t := resizeTarget(s, W, H)
		if !containsT(targets, t) {
			targets = append(targets, t)
			if t.w != W && !containsI(widths, t.w) {
				widths = append(widths, t.w)
			}
		}
	}
	hs.targets, hs.widths = targets, widths
	if need := tableBytes(W, H, targets); need > max(maxTableBytes, 8*int64(W)*int64(H)) {
		return nil, fmt.Errorf("%w: %dx%d is too thin: the resize tables would need %d MiB", ErrImage, W, H, need>>20)
	}

	// Horizontal passes, one per distinct width. A width's result is kept as a plane only
	// when a target uses it without a vertical pass; otherwise each row is consumed by the
	// vertical accumulators as soon as it is made (streams), so memory stays bounded by the
	// image even when a thin image is upscaled horizontally.
	hcs := hs.hcs[:0]
	inters := hs.inters[:0] // plane by width index, nil when not kept
	if hs.inter == nil {
		hs.inter = make(map[int][]uint8)
	}
	for _, w := range widths {
		c := hs.coeffsFor(W, w)
		c.padded()
		hcs = append(hcs, c)
		var plane []uint8
		if containsT(targets, target{w, H}) {
			hs.inter[w] = grow(hs.inter[w], w*H)
			plane = hs.inter[w]
		}
		inters = append(inters, plane)
	}
	hs.hcs, hs.inters = hcs, inters

	// Vertical passes as streams: target t accumulates sum_y k_j(y) * row_y into
	// acc[j*t.w : (j+1)*t.w] for every output row j whose window holds y. Integer sums
	// do not depend on their order, so this equals Pillow's column-wise pass bit for bit.
	streams := hs.streams[:0]
	for ti, t := range targets {
		if t.h == H {
			continue
		}
		c := hs.coeffsFor(H, t.h)
		c.ranges()
		streams = append(streams, stream{target: ti, w: t.w, c: c, width: slices.Index(widths, t.w)})
	}
	hs.streams = streams

	// One sweep over the rows: luma, colour statistics, horizontal passes, vertical
	// accumulation. The luma plane is computed here when only RGB is given, and also when
	// colorhash needs RGB (the colour pass computes luma anyway, in the same vector loop).
	gray := img.Gray
	ownGray := img.RGB != nil && (gray == nil || wantColor)
	if ownGray {
		hs.gray = grow(hs.gray, W*H)
		gray = hs.gray
	}
	var tabs *hsvTables
	if wantColor && img.RGB != nil {
		tabs = hsvOnce()
	}
	workers := min(max(hs.Workers, 1), H)
	if W*H < minParallelPixels {
		workers = 1
	}
	for len(hs.work) < workers {
		hs.work = append(hs.work, new(worker))
	}
	for _, wk := range hs.work[:workers] {
		wk.prepare(W, widths, inters, streams, wantColor && img.RGB != nil)
	}
	hs.sw = sweepState{img: img, gray: gray, ownGray: ownGray, wantColor: wantColor, tabs: tabs,
		hcs: hcs, inters: inters, streams: streams}
	if workers == 1 {
		hs.sw.sweep(hs.work[0], 0, H)
	} else {
		hs.sweepParallel(workers, H)
	}
	var st colorStats
	for _, wk := range hs.work[:workers] {
		st.add(&wk.st)
	}

	// Results of the vertical streams, then the resized pixels of every target.
	if hs.sized == nil || len(hs.sized) > 64 {
		hs.sized = make(map[target][]uint8)
	}
	pix := hs.pix[:0] // resized pixels, by index in targets
	for _, t := range targets {
		switch {
		case t.h != H:
			buf := grow(hs.sized[t], t.w*t.h)
			hs.sized[t] = buf
			pix = append(pix, buf)
		case t.w == W:
			pix = append(pix, gray)
		default:
			pix = append(pix, hs.inter[t.w])
		}
	}
	for si, sm := range streams {
		acc := hs.work[0].accs[si]
		for _, wk := range hs.work[1:workers] {
			for i, v := range wk.accs[si] {
				acc[i] += v
			}
		}
		out := pix[sm.target]
		for i, v := range acc {
			out[i] = clip8(1<<(precisionBits-1) + v)
		}
	}
	hs.pix = pix
	hs.sw = sweepState{} // drop the references to the caller's image

	// The hashes share one allocation of words.
	out := make([]Hash, len(specs))
	words := 0
	for _, s := range specs {
		words += (s.Bits() + 63) / 64
	}
	slab := make([]uint64, words)
	for i, s := range specs {
		nw := (s.Bits() + 63) / 64
		out[i] = Hash{w: slab[:nw:nw], n: s.Bits()}
		slab = slab[nw:]
	}
	for i, s := range specs {
		n := s.Size
		h := out[i]
		switch s.Kind {
		case ColorHash:
			out[i] = colorHashFrom(h, &st, W*H, n)
			continue
		}
		p := pix[slices.Index(targets, resizeTarget(s, W, H))]
		switch s.Kind {
		case AverageHash:
			out[i] = averageBits(h, p)
		case DHash:
			out[i] = dhashBits(h, p, n)
		case DHashVertical:
			out[i] = dhashVerticalBits(h, p, n)
		case PHash:
			N := n * highfreqFactor
			hs.f1 = grow(hs.f1, n*n)
			hs.f2 = grow(hs.f2, n*N)
			phashCoeffs(hs.f1, p, N, n, hs.f2)
			out[i] = phashBits(h, hs.f1, hs.f2[:0])
		case PHashSimple:
			N := n * highfreqFactor
			hs.f1 = grow(hs.f1, n*n)
			phashSimpleCoeffs(hs.f1, p, N, n)
			out[i] = phashSimpleBits(h, hs.f1)
		case WHash:
			sc := whashScale(W, H, n)
			hs.i1 = grow(hs.i1, n*n)
			hs.i2 = grow(hs.i2, n*n)
			out[i] = whashBits(h, p, sc, n, hs.i1, hs.i2[:0])
		}
	}
	return out, nil
}

func containsT(ts []target, t target) bool {
	for _, u := range ts {
		if u == t {
			return true
		}
	}
	return false
}

func containsI(xs []int, x int) bool {
	for _, u := range xs {
		if u == x {
			return true
		}
	}
	return false
}

var hasherPool = sync.Pool{New: func() any { return new(Hasher) }}

// Compute returns the hashes of img for specs using a pooled Hasher.
func Compute(img Image, specs ...Spec) ([]Hash, error) {
	hs := hasherPool.Get().(*Hasher)
	defer hasherPool.Put(hs)
	return hs.Compute(img, specs)
}

func one(img Image, s Spec) (Hash, error) {
	hs, err := Compute(img, s)
	if err != nil {
		return Hash{}, err
	}
	return hs[0], nil
}

// Average is imagehash.average_hash(img, hash_size=size).
func Average(img Image, size int) (Hash, error) { return one(img, Spec{AverageHash, size}) }

// Difference is imagehash.dhash(img, hash_size=size).
func Difference(img Image, size int) (Hash, error) { return one(img, Spec{DHash, size}) }

// DifferenceVertical is imagehash.dhash_vertical(img, hash_size=size).
func DifferenceVertical(img Image, size int) (Hash, error) {
	return one(img, Spec{DHashVertical, size})
}

// Perceptual is imagehash.phash(img, hash_size=size) (highfreq_factor 4).
func Perceptual(img Image, size int) (Hash, error) { return one(img, Spec{PHash, size}) }

// PerceptualSimple is imagehash.phash_simple(img, hash_size=size) (highfreq_factor 4).
func PerceptualSimple(img Image, size int) (Hash, error) { return one(img, Spec{PHashSimple, size}) }

// Wavelet is imagehash.whash(img, hash_size=size) with its defaults (haar, default
// image_scale, remove_max_haar_ll).
func Wavelet(img Image, size int) (Hash, error) { return one(img, Spec{WHash, size}) }

// Color is imagehash.colorhash(img, binbits=binbits).
func Color(img Image, binbits int) (Hash, error) { return one(img, Spec{ColorHash, binbits}) }
