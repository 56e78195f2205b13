// Package ljpeg is a pure-Go baseline and progressive JPEG decoder whose
// output is bit-identical to libjpeg-turbo 2.1 with default settings
// (JDCT_ISLOW, fancy upsampling, libjpeg's colour conversion), which is what
// Pillow uses.
//
// The marker, Huffman and progressive-scan code comes from Go's image/jpeg
// (Copyright 2009 The Go Authors, BSD-style licence, kept in each copied
// file's header); the IDCT, upsampling and colour conversion are ports of
// libjpeg-turbo's jidctint.c, jdsample.c and jdcolor.c (IJG licence).
// Arithmetic coding, lossless JPEG, 12-bit samples and DNL markers are not
// supported.
package ljpeg
