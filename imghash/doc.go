// Package imghash computes the perceptual image hashes of the Python library imagehash
// 4.3.2 (with Pillow 9.4, numpy, scipy and PyWavelets), bit for bit: average_hash, dhash,
// dhash_vertical, phash, phash_simple, whash (haar) and colorhash, at any hash size, and the
// ImageHash type's hex form, parsing and Hamming distance.
//
// It owns the pixel arithmetic after decoding: Pillow's RGB->L luma, its fixed-point
// LANCZOS resampler (Resize), its RGB->HSV, and each hash's threshold. It does no I/O and
// knows nothing of file formats: callers decode (package imgdecode gives the exact pixels
// Pillow sees) and pass an Image. The numerics are written here rather than taken from a
// library because their bits are the point: every step is integer arithmetic or a
// single IEEE operation in a fixed order, as in the reference.
//
// # Vocabulary
//
// An Image is Width x Height pixels, row-major, top row first. Gray is one byte per pixel
// (Pillow's convert('L')); RGB three (convert('RGB')), nil for grey images. A Spec is a Kind
// and a Size: hash_size for the grey hashes (Size*Size bits), binbits for ColorHash
// (14*binbits bits). A Hash is the flattened bit array, first bit most significant in its
// hex form (String).
//
// # Use
//
// For one hash call Average, Difference, DifferenceVertical, Perceptual, PerceptualSimple,
// Wavelet or Color. For several hashes of one image use a Hasher (or Compute): it converts
// to luma once, makes one horizontal resampling sweep for all the resize widths while each
// row is in cache, one vertical pass per resize target and the colour statistics in the same
// sweep, and reuses its buffers and resize coefficients between calls:
//
//	var hs imghash.Hasher // one per goroutine
//	for _, img := range images {
//		hashes, err := hs.Compute(img, []imghash.Spec{{imghash.AverageHash, 8}, {imghash.PHash, 8}})
//		...
//	}
//
// # Exactness and the float-tie policy
//
// average_hash, dhash, dhash_vertical and colorhash are integer-exact, as are the luma
// conversion and the resampler. whash uses an exact integer form (block sums S of the
// resized image, bit_i = 2*S_i > S_(m/2-1) + S_(m/2), equivalent to imagehash's haar
// wavelet with the global mean removed); when some 2*S_i equals that threshold exactly
// (a mathematical tie, as in flat or synthetic images), imagehash's bit is decided by
// PyWavelets' rounding, so whash then recomputes in float64 with PyWavelets' operation
// order (whashFloatBits) and reproduces it. phash and phash_simple threshold float64 DCT
// coefficients (direct sums, no fused multiply-add); they equal imagehash except where a
// coefficient is within rounding noise of the threshold. Policy: before thresholding,
// coefficients with |c| <= 1e-12*(2N)^2*255 (N = 4*hash_size) are set to exactly 0,
// because scipy (pocketfft) returns exact zeros for coefficients that are mathematically
// zero while a direct sum leaves ~1e-12 noise; genuine ties between non-zero coefficients
// are left as computed (reproducing pocketfft's rounding is out of scope). On the
// conformance corpus this reproduces all 553 PNG vectors without float ties and 16 of the
// 17 with ties (the miss: one bit of phash/8 of a 16-bit grey PNG, a genuine tie).
//
// # Speed
//
// The resampler's integer dot products and the luma conversion have AVX2 assembly on amd64
// (build tag noasm disables it), each with a pure-Go twin that tests require to give
// identical bits; integer addition is associative, so the vector summation order cannot
// change a bit. colorhash uses exact lookup tables for Pillow's float32 HSV (the hue of a
// pixel depends only on which channel is max and min, max-min, and the middle channel's
// distance from the max), checked against the direct formula on all 2^24 colours. Hot
// paths do not allocate per pixel. The vertical passes run as streams during the row sweep
// (each resampled row is added into per-target accumulators as soon as it is made, which
// integer arithmetic makes exact in any order), so no intermediate plane is stored except
// for a target that needs no vertical pass (whash of a non-square image).
//
// Memory of a Hasher: the luma plane (when the input is RGB; at most the image), the
// horizontal-only planes just mentioned (at most the luma plane each), target-sized
// accumulators per worker, and the resize coefficient tables, which have about
// 6*max(1, in/out)*out int32 weights per axis and target (Pillow's own tables are the same
// size in float64). For images of ordinary shape the tables are far smaller than the image;
// for degenerate shapes (say 1 x 10^7 pixels) they can exceed it, so Compute refuses
// (ErrImage) a shape whose tables would need more than max(256 MiB, 8 bytes per pixel).
//
// # Concurrency
//
// Functions and Hash values are safe for concurrent use. A Hasher is not; use one per
// goroutine (the package-level functions take one from a sync.Pool). The Image slices are
// only read.
package imghash
