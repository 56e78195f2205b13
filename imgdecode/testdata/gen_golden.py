#!/usr/bin/python3
"""Regenerates imgdecode/testdata/jpeg/*.jpg and golden.tsv.

Needs Debian 12 packages libjpeg-turbo-progs (cjpeg/jpegtran 2.1.5) and
python3-pil (Pillow 9.4.0 on the system libjpeg-turbo 2.1.5), i.e. the
reference runtime of testdata/imagehash. Run from this folder:
    /usr/bin/python3 gen_golden.py
golden.tsv has the same columns as testdata/imagehash/decoded.tsv: SHA-256
of Pillow's convert('L'), convert('RGB') and convert('HSV') raw bytes.
"""
import hashlib, io, os, subprocess
import numpy as np
from PIL import Image

OUT = "jpeg"


def pattern(w, h, seed):
    """Gradients, sharp colour edges and noise: exercises chroma upsampling."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 255 * x / max(w - 1, 1)
    g = 255 * y / max(h - 1, 1)
    b = 128 + 127 * np.sin((x + 2 * y) / 3.0)
    img = np.stack([r, g, b], axis=-1)
    # sharp saturated blocks at odd offsets
    img[(x.astype(int) // 5 + y.astype(int) // 3) % 4 == 0] = [255, 0, 40]
    img[(x.astype(int) * 7 + y.astype(int) * 3) % 11 == 0] = [0, 30, 255]
    img += rng.normal(0, 12, img.shape)
    return Image.fromarray(np.clip(np.rint(img), 0, 255).astype(np.uint8), "RGB")


def cjpeg(name, src, *args):
    ppm = io.BytesIO()
    src.save(ppm, "PPM")
    out = subprocess.run(["cjpeg", *args], input=ppm.getvalue(), capture_output=True, check=True).stdout
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(out)


def jpegtran(name, srcname, *args):
    out = subprocess.run(["jpegtran", *args, os.path.join(OUT, srcname)], capture_output=True, check=True).stdout
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(out)


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.remove(os.path.join(OUT, f))
    big = pattern(61, 45, 1)
    samplings = {
        "444": "1x1", "422": "2x1", "440": "1x2", "420": "2x2", "411": "4x1",
        "410": "4x2", "h1v4": "1x4", "h3v1": "3x1", "h2v2c1x2": "2x2,1x2,1x2",
        "h2v2c2x1": "2x2,2x1,2x1", "lumahalf": "1x1,2x2,2x2", "h4v4c2x2": "2x2,1x1,1x1",
    }
    for tag, s in samplings.items():
        cjpeg(f"s{tag}_61x45.jpg", big, "-quality", "85", "-sample", s)
    for tag, s in {"444": "1x1", "422": "2x1", "440": "1x2", "420": "2x2"}.items():
        cjpeg(f"s{tag}_prog_61x45.jpg", big, "-quality", "85", "-sample", s, "-progressive")
    # odd and tiny sizes, 4:2:0 and 4:2:2
    for w, h in [(1, 1), (2, 2), (3, 3), (5, 3), (17, 1), (1, 17), (4, 9), (16, 16), (33, 17)]:
        cjpeg(f"s420_{w}x{h}.jpg", pattern(w, h, w * 100 + h), "-quality", "90", "-sample", "2x2")
        cjpeg(f"s422_{w}x{h}.jpg", pattern(w, h, w * 100 + h), "-quality", "90", "-sample", "2x1")
    cjpeg("q100_s420_61x45.jpg", big, "-quality", "100", "-sample", "2x2")
    cjpeg("q5_s420_61x45.jpg", big, "-quality", "5", "-sample", "2x2")
    cjpeg("restart1row_s420_61x45.jpg", big, "-sample", "2x2", "-restart", "1")
    cjpeg("restart3b_s422_61x45.jpg", big, "-sample", "2x1", "-restart", "3B")
    cjpeg("restart2b_prog_s420_61x45.jpg", big, "-sample", "2x2", "-restart", "2B", "-progressive")
    cjpeg("optimize_s420_61x45.jpg", big, "-sample", "2x2", "-optimize")
    cjpeg("rgb_61x45.jpg", big, "-rgb")
    cjpeg("gray_61x45.jpg", big, "-grayscale")
    cjpeg("gray_prog_61x45.jpg", big, "-grayscale", "-progressive")
    cjpeg("gray_7x3.jpg", pattern(7, 3, 5), "-grayscale")
    # baseline with one scan per component (non-interleaved)
    with open("/tmp/scans.txt", "w") as f:
        f.write("0;\n1;\n2;\n")
    cjpeg("noninterleaved_s420_61x45.jpg", big, "-sample", "2x2", "-scans", "/tmp/scans.txt")
    # CMYK written by Pillow (Adobe marker, inverted), 4:4:4
    cmyk = big.convert("CMYK")
    cmyk.save(os.path.join(OUT, "cmyk_61x45.jpg"), quality=90)
    # Pillow's own encoder defaults (4:2:0) at an odd size
    pattern(45, 31, 9).save(os.path.join(OUT, "pillow_default_45x31.jpg"))

    rows = []
    for name in sorted(os.listdir(OUT)):
        im = Image.open(os.path.join(OUT, name))
        sums = [hashlib.sha256(im.convert(m).tobytes()).hexdigest() for m in ("L", "RGB", "HSV")]
        rows.append("\t".join([f"jpeg/{name}", im.mode, str(im.width), str(im.height), *sums]))
    with open("golden.tsv", "w") as f:
        f.write("file\tpil_mode\twidth\theight\tsha256_L\tsha256_RGB\tsha256_HSV\n")
        f.write("\n".join(rows) + "\n")
    # arithmetic coding: Pillow decodes it, we do not (kept out of golden.tsv)
    cjpeg("../arithmetic_s420_61x45.jpg", big, "-sample", "2x2", "-arithmetic")


main()
