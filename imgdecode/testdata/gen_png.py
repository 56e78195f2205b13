#!/usr/bin/python3
"""Regenerates imgdecode/testdata/png/*.png and png_golden.tsv.

Writes PNG chunks by hand to cover every colour type / bit depth, tRNS,
short palettes with out-of-range indices and Adam7 interlacing, then records
Pillow 9.4.0's (Debian 12 python3-pil) convert('L'/'RGB'/'HSV') SHA-256.
Run from this folder: /usr/bin/python3 gen_png.py
"""
import hashlib, os, struct, zlib
import numpy as np
from PIL import Image

OUT = "png"
W, H = 13, 11
rng = np.random.default_rng(42)


def chunk(typ, data):
    c = struct.pack(">I", len(data)) + typ + data
    return c + struct.pack(">I", zlib.crc32(typ + data) & 0xffffffff)


def pack_row(samples, depth):
    """samples: 1-D array of ints (already channel-interleaved)."""
    if depth == 8:
        return bytes(np.asarray(samples, dtype=np.uint8))
    if depth == 16:
        return np.asarray(samples, dtype=">u2").tobytes()
    out, acc, nbits = bytearray(), 0, 0
    for s in samples:
        acc = (acc << depth) | int(s)
        nbits += depth
        if nbits == 8:
            out.append(acc); acc = nbits = 0
    if nbits:
        out.append(acc << (8 - nbits))
    return bytes(out)


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def write_png(name, pix, ctype, depth, plte=None, trns=None, interlace=False):
    """pix: array (H, W, channels) of samples."""
    h, w = pix.shape[:2]
    raw = bytearray()
    if interlace:
        for x0, y0, dx, dy in ADAM7:
            sub = pix[y0::dy, x0::dx]
            if sub.shape[0] == 0 or sub.shape[1] == 0:
                continue
            for row in sub:
                raw += b"\x00" + pack_row(row.reshape(-1), depth)
    else:
        for row in pix:
            raw += b"\x00" + pack_row(row.reshape(-1), depth)
    data = b"\x89PNG\r\n\x1a\n"
    data += chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, 1 if interlace else 0))
    if plte is not None:
        data += chunk(b"PLTE", bytes(np.asarray(plte, dtype=np.uint8)))
    if trns is not None:
        data += chunk(b"tRNS", trns)
    data += chunk(b"IDAT", zlib.compress(bytes(raw)))
    data += chunk(b"IEND", b"")
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def samples(depth, channels, w=W, h=H):
    return rng.integers(0, 1 << depth, size=(h, w, channels))


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.remove(os.path.join(OUT, f))
    for d in (1, 2, 4, 8, 16):
        write_png(f"g{d}.png", samples(d, 1), 0, d)
    g16 = samples(16, 1)
    g16[::2] %= 300  # many samples below and just above 255: clip boundary
    write_png("g16_low.png", g16, 0, 16)
    write_png("g8_trns.png", samples(8, 1), 0, 8, trns=struct.pack(">H", 7))
    write_png("g16_low_trns.png", g16, 0, 16, trns=struct.pack(">H", int(g16[0, 0, 0])))
    write_png("g2_trns.png", samples(2, 1), 0, 2, trns=struct.pack(">H", 1))
    write_png("rgb8.png", samples(8, 3), 2, 8)
    write_png("rgb8_trns.png", samples(8, 3), 2, 8, trns=struct.pack(">HHH", 1, 2, 3))
    write_png("rgb16.png", samples(16, 3), 2, 16)
    write_png("rgb16_trns.png", samples(16, 3), 2, 16, trns=struct.pack(">HHH", 1, 2, 3))
    for d in (1, 2, 4, 8):
        n = 1 << d
        full = rng.integers(0, 256, size=3 * n)
        write_png(f"p{d}.png", samples(d, 1), 3, d, plte=full)
        short = rng.integers(0, 256, size=3 * max(1, n // 2 - 1))  # indices past the end
        write_png(f"p{d}_short.png", samples(d, 1), 3, d, plte=short)
    write_png("p8_trns.png", samples(8, 1) % 16, 3, 8, plte=rng.integers(0, 256, 48),
              trns=bytes(rng.integers(0, 256, 10).astype(np.uint8)))
    write_png("la8.png", samples(8, 2), 4, 8)
    write_png("la16.png", samples(16, 2), 4, 16)
    write_png("rgba8.png", samples(8, 4), 6, 8)
    write_png("rgba16.png", samples(16, 4), 6, 16)
    write_png("rgb8_adam7.png", samples(8, 3), 2, 8, interlace=True)
    write_png("g16_adam7.png", g16, 0, 16, interlace=True)
    write_png("p4_adam7.png", samples(4, 1), 3, 4, plte=rng.integers(0, 256, 48), interlace=True)

    rows = []
    for name in sorted(os.listdir(OUT)):
        im = Image.open(os.path.join(OUT, name))
        try:
            sums = [hashlib.sha256(im.convert(m).tobytes()).hexdigest() for m in ("L", "RGB", "HSV")]
        except Exception as e:  # Pillow rejects it: not a golden row
            print(f"{name}: Pillow: {e!r}")
            os.remove(os.path.join(OUT, name))
            continue
        rows.append("\t".join([f"png/{name}", im.mode, str(im.width), str(im.height), *sums]))
    with open("png_golden.tsv", "w") as f:
        f.write("file\tpil_mode\twidth\theight\tsha256_L\tsha256_RGB\tsha256_HSV\n")
        f.write("\n".join(rows) + "\n")


main()
