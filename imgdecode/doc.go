// Package imgdecode decodes PNG and JPEG files to exactly the pixels Pillow
// 9.4 gives, so that perceptual hashes computed on them match the Python
// library imagehash 4.3.2 bit for bit.
//
// It owns decoding, Pillow's mode rules and the size limit, and stops at
// the two planes the hashes consume: Image.Gray (Pillow's convert('L')) and
// Image.RGB (convert('RGB'); nil for grey modes). Resizing and hashing live
// in imghash, which does not import this package.
//
//	im, err := imgdecode.DecodeFile(path, imgdecode.Options{})
//	if err != nil {
//		return err // errors.Is: ErrFormat, ErrTruncated, ErrEmpty, ErrTooLarge
//	}
//	gray := im.Gray() // Width*Height bytes, shared: do not modify
//	rgb := im.RGB()   // 3*Width*Height bytes, or nil for "1", "L", "LA", "I"
//
// # Contract
//
// Gray and RGB are computed at most once and cached; every caller gets the
// same slice, which must not be modified. An Image is safe for concurrent
// use. Decoding allocates a few buffers per image, none per pixel.
//
// # Pillow rules
//
// PNG is decoded with Go's image/png, which yields Pillow's sample values
// once these rules are applied (section 2 of the imagehash algorithm notes):
// 16-bit samples keep their high byte, except 16-bit grey (Pillow mode "I")
// whose L value is the sample clipped at 255; palette entries are used as
// stored and indices past the PLTE entries read Pillow's initial grey ramp
// (i, i, i); alpha and tRNS are ignored (no compositing); 1-bit grey gives
// 0/255; LA gives its L channel; 16-bit grey+alpha is mode "RGBA". Like
// Pillow, damage after the pixel data (missing or cut IEND, bad IDAT CRC,
// broken trailing chunks) is tolerated.
//
// JPEG is decoded by default (JPEGTurbo) by a pure-Go port of what
// libjpeg-turbo 2.1 does with its default settings, which Pillow uses: the
// islow integer IDCT (jidctint.c), fancy upsampling with context rows
// (jdsample.c h2v1/h1v2/h2v2, box filters otherwise), libjpeg's colour-space
// guess from JFIF/Adobe markers and component ids, its fixed-point
// YCbCr->RGB tables (jdcolor.c), quantization tables latched at each
// component's first scan, the block smoothing (jdcoefct.c) it applies to
// progressive files whose scans stop before all low coefficients are
// complete, and its handling of damaged entropy data (a marker inside a
// scan ends the segment, bad codes decode as 0). The IDCT follows the
// x86-64 SIMD code (16-bit lanes) that Pillow runs there; it equals the C
// code on every valid file and differs only when corrupt coefficients
// overflow 16 bits. Greyscale JPEG is mode "L"; 3-component
// JPEG is "RGB"; 4-component JPEG is "CMYK" with every byte inverted, since
// Pillow always assumes Adobe polarity (raw mode "CMYK;I"). JPEGStd uses
// Go's image/jpeg instead; it differs from Pillow on most files.
//
// Colour to grey is L = (19595*R + 38470*G + 7471*B + 0x8000) >> 16. CMYK
// to RGB is Pillow's nk = 255-K, R = clip(nk - MULDIV255(C, nk)) (and G/M,
// B/Y), MULDIV255(a, b) = (t + t>>8) >> 8 with t = a*b + 128.
//
// # Conformance
//
// Tests compare SHA-256 of Gray and RGB with Pillow 9.4 (Debian 12,
// libjpeg-turbo 2.1.5) for the 82 files of testdata/imagehash (57 PNG,
// 25 JPEG), 148 generated JPEGs (every sampling layout, odd sizes, restart
// intervals, progressive, progressive cut short after each scan, scans cut
// mid-way, random byte corruption, RGB, grey, CMYK, YCCK, colour-space
// markers) and
// 29 generated PNGs (every colour type and depth, tRNS, short palettes,
// Adam7): all are identical.
//
// # Limits and gaps
//
// Options.MaxPixels (default DefaultMaxPixels) is checked against the
// header before any pixel memory is allocated. The whole file is read into
// memory first, so callers bound the input size. A JPEG may have at most
// 1000 scans (each scan walks every block, so many empty scans would be a
// decoding-time bomb; real files have a few dozen at most). Not supported: arithmetic-coded, lossless, 12-bit and
// 2-component JPEG (ErrFormat), and GIF/WebP/TIFF. A file that ends
// before its EOI marker is ErrTruncated, as Pillow refuses it too; a few
// damaged files that Pillow refuses because of how it feeds libjpeg (one
// in the test set) decode here. Restart-marker resynchronisation follows
// libjpeg only for the expected marker or a non-restart marker; a wrong
// RSTn is an error.
//
// # Provenance
//
// internal/ljpeg copies the marker, Huffman and progressive-scan code of
// Go's image/jpeg (Copyright 2009 The Go Authors, BSD-style licence,
// headers kept) and ports the IDCT, upsampling and colour conversion of
// libjpeg-turbo (IJG licence). These numerics are written here rather than
// taken from a library because their exact bits are the point.
package imgdecode
