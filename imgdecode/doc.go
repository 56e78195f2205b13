// Package imgdecode decodes PNG and JPEG files to exactly the pixels Pillow
// 9.4 gives, so that perceptual hashes computed on them match the Python
// library imagehash 4.3.2 bit for bit.
//
// It owns decoding and the Pillow mode rules, and stops at the two planes
// the hashes consume: Image.Gray (Pillow's convert('L')) and Image.RGB
// (convert('RGB'); nil for grey modes). Resizing and hashing live in
// imghash, which does not import this package.
//
// # Pillow rules
//
// PNG is decoded with Go's image/png, which yields Pillow's sample values
// once these rules are applied: 16-bit samples keep their high byte, except
// 16-bit grey (Pillow mode "I") whose L value is the sample clipped at 255;
// palette entries are used as stored; alpha and tRNS are ignored (no
// compositing); 1-bit grey gives 0/255; LA gives its L channel; 16-bit
// grey+alpha is mode "RGBA".
//
// RGB -> L is L = (19595*R + 38470*G + 7471*B + 0x8000) >> 16. CMYK -> RGB
// is Pillow's nk = 255-K, R = clip(nk - MULDIV255(C, nk)) and likewise.
//
// # Limits
//
// Options.MaxPixels (default DefaultMaxPixels) is checked against the
// header before any pixel memory is allocated. The whole file is read into
// memory first.
package imgdecode
