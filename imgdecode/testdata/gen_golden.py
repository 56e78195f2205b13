#!/usr/bin/python3
"""Regenerates imgdecode/testdata/jpeg/*.jpg and golden.tsv.

Needs Debian 12 packages libjpeg-turbo-progs (cjpeg/jpegtran 2.1.5) and
python3-pil (Pillow 9.4.0 on the system libjpeg-turbo 2.1.5), i.e. the
reference runtime of testdata/imagehash. Run from this folder:
    /usr/bin/python3 gen_golden.py
golden.tsv has the same columns as testdata/imagehash/decoded.tsv: SHA-256
of Pillow's convert('L'), convert('RGB') and convert('HSV') raw bytes.
"""
import hashlib, io, os, struct, subprocess
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


def segments(data):
    """Splits a JPEG into (marker, bytes) up to SOS; the rest is one tail item."""
    out, i = [(0xD8, data[:2])], 2
    while True:
        assert data[i] == 0xFF
        m = data[i + 1]
        if m == 0xDA:
            out.append((None, data[i:]))
            return out
        n = struct.unpack(">H", data[i + 2:i + 4])[0]
        out.append((m, data[i:i + 2 + n]))
        i += 2 + n


def rewrite(src, dst, drop=(), sof_ids=None, adobe=None, insert_adobe=None):
    data = open(os.path.join(OUT, src), "rb").read()
    parts = []
    for m, b in segments(data):
        if m in drop:
            continue
        if m == 0xEE and adobe is not None and b[4:9] == b"Adobe":
            b = b[:15] + bytes([adobe]) + b[16:]
        if m in (0xC0, 0xC1, 0xC2) and sof_ids is not None:
            b = bytearray(b)
            for k, cid in enumerate(sof_ids):
                b[10 + 3 * k] = cid
            b = bytes(b)
            # the scan headers name components by id too
        parts.append((m, b))
        if m == 0xD8 and insert_adobe is not None:
            body = b"Adobe" + struct.pack(">HHHB", 100, 0, 0, insert_adobe)
            parts.append((0xEE, b"\xff\xee" + struct.pack(">H", 2 + len(body)) + body))
    out = b"".join(b for _, b in parts)
    if sof_ids is not None:  # patch the component selectors of every SOS
        old_ids = [1, 2, 3]
        out = bytearray(out)
        i = out.index(b"\xff\xda")
        while i >= 0:
            ns = out[i + 4]
            for k in range(ns):
                out[i + 5 + 2 * k] = sof_ids[old_ids.index(out[i + 5 + 2 * k])]
            i = out.find(b"\xff\xda", i + 2)
        out = bytes(out)
    with open(os.path.join(OUT, dst), "wb") as f:
        f.write(out)


def colour_space_rules():
    """libjpeg's jpeg_color_space guess (jdapimin.c default_decompress_parms)."""
    # no JFIF, ids 1,2,3 -> YCbCr
    rewrite("s420_61x45.jpg", "cs_nojfif_ids123_s420.jpg", drop=(0xE0,))
    # no JFIF, ids 'R','G','B' -> RGB (data really is YCbCr: colours swap)
    rewrite("s444_61x45.jpg", "cs_nojfif_idsRGB_s444.jpg", drop=(0xE0,), sof_ids=[82, 71, 66])
    # no JFIF, other ids -> YCbCr
    rewrite("s444_61x45.jpg", "cs_nojfif_ids012_s444.jpg", drop=(0xE0,), sof_ids=[0, 1, 2])
    # JFIF and Adobe transform 0 -> JFIF wins, YCbCr
    rewrite("s420_61x45.jpg", "cs_jfif_adobe0_s420.jpg", insert_adobe=0)
    # no JFIF, Adobe transform 0 -> RGB
    rewrite("s420_61x45.jpg", "cs_adobe0_s420.jpg", drop=(0xE0,), insert_adobe=0)
    # CMYK data relabelled YCCK (Adobe transform 2) and with no Adobe marker
    rewrite("cmyk_s420_61x45.jpg", "cs_ycck_s420.jpg", adobe=2)
    rewrite("cmyk_61x45.jpg", "cs_ycck_444.jpg", adobe=2)
    rewrite("cmyk_61x45.jpg", "cs_cmyk_noadobe.jpg", drop=(0xEE,))


def incomplete_progressive():
    """Progressive files cut after k scans, EOI appended: Pillow decodes them
    and libjpeg's block smoothing (jdcoefct.c) fills in missing coefficients.
    Sizes are chosen for 1, 2 and 3 block columns and several iMCU rows."""
    srcs = {
        "s420_61x45": pattern(61, 45, 1), "s420_13x61": pattern(13, 61, 2),
        "s444_9x70": pattern(9, 70, 3), "s422_23x37": pattern(23, 37, 4),
    }
    for tag, im in srcs.items():
        samp = {"s420": "2x2", "s444": "1x1", "s422": "2x1"}[tag[:4]]
        cjpeg(f"_full_{tag}.jpg", im, "-quality", "80", "-sample", samp, "-progressive")
    cjpeg("_full_gray_19x45.jpg", pattern(19, 45, 5), "-quality", "80", "-grayscale", "-progressive")
    for name in sorted(f for f in os.listdir(OUT) if f.startswith("_full_")):
        data = open(os.path.join(OUT, name), "rb").read()
        os.remove(os.path.join(OUT, name))
        sos = [i for i in range(len(data) - 1) if data[i] == 0xFF and data[i + 1] == 0xDA]
        for k in range(1, len(sos)):
            # cut just before the (k+1)-th scan's tables: back up over DHT segments
            cut = sos[k]
            i = sos[k - 1]
            j = data.rfind(b"\xff\xc4", i, cut)
            if j > 0:
                cut = j
            with open(os.path.join(OUT, f"prog_cut{k}_{name[6:]}"), "wb") as f:
                f.write(data[:cut] + b"\xff\xd9")


def cut_scans():
    """Entropy data cut inside a scan and followed by a marker: libjpeg
    (and so Pillow) decodes the rest of that segment as empty."""
    big = pattern(61, 45, 11)
    cjpeg("_b420.jpg", big, "-quality", "85", "-sample", "2x2")
    cjpeg("_b444.jpg", big, "-quality", "85", "-sample", "1x1")
    cjpeg("_bgray.jpg", big, "-quality", "85", "-grayscale")
    cjpeg("_p420.jpg", big, "-quality", "85", "-sample", "2x2", "-progressive")
    cjpeg("_r420.jpg", big, "-quality", "85", "-sample", "2x2", "-restart", "2B")
    cjpeg("_pr420.jpg", big, "-quality", "85", "-sample", "2x2", "-restart", "3B", "-progressive")

    def read(n):
        d = open(os.path.join(OUT, n), "rb").read()
        os.remove(os.path.join(OUT, n))
        return d

    def write(n, d):
        with open(os.path.join(OUT, n), "wb") as f:
            f.write(d)

    for tag in ("b420", "b444", "bgray"):
        d = read(f"_{tag}.jpg")
        sos = d.index(b"\xff\xda")
        body = len(d) - 2 - sos
        for frac in (0.1, 0.37, 0.8):
            cut = sos + int(body * frac)
            if d[cut - 1] == 0xFF:
                cut -= 1
            write(f"cutscan_{tag}_{int(frac * 100)}.jpg", d[:cut] + b"\xff\xd9")
    d = read("_p420.jpg")
    sos = [i for i in range(len(d) - 1) if d[i] == 0xFF and d[i + 1] == 0xDA]
    for k in (0, 1, 4, len(sos) - 1):
        start = sos[k]
        end = sos[k + 1] if k + 1 < len(sos) else len(d) - 2
        for frac in (0.3, 0.7):
            cut = start + 20 + int((end - start - 20) * frac)
            if d[cut - 1] == 0xFF:
                cut -= 1
            write(f"cutscan_p420_scan{k}_{int(frac * 100)}.jpg", d[:cut] + b"\xff\xd9")
    # restart intervals: drop part of one interval so the data runs into the
    # next RST marker (decoding resumes there), or cut and end with EOI
    for tag in ("r420", "pr420"):
        d = read(f"_{tag}.jpg")
        rst = [i for i in range(len(d) - 1) if d[i] == 0xFF and 0xD0 <= d[i + 1] <= 0xD7]
        for j in (2, len(rst) // 2):
            a, b = rst[j - 1] + 2, rst[j]
            cut = a + (b - a) // 3
            if d[cut - 1] == 0xFF:
                cut -= 1
            write(f"cutrst_{tag}_{j}.jpg", d[:cut] + d[b:])
            write(f"cutrst_eoi_{tag}_{j}.jpg", d[:cut] + b"\xff\xd9")


def corrupt_bytes():
    """Random bytes of entropy-coded data (and of later scan headers)
    replaced: libjpeg decodes on with warnings (bad codes, runs past the
    band, huge coefficients) and Pillow returns whatever it produced."""
    import random
    rng = random.Random(20261124)
    bases = sorted(f for f in os.listdir(OUT) if not f.startswith(("cut", "prog_cut", "corrupt")))
    made = 0
    for name in bases:
        if made >= 36:
            break
        d = bytearray(open(os.path.join(OUT, name), "rb").read())
        sos = d.find(b"\xff\xda")
        start = sos + 2 + (d[sos + 2] << 8 | d[sos + 3])
        cands = [i for i in range(start, len(d) - 2) if d[i] != 0xFF and d[i - 1] != 0xFF]
        if rng.random() < 0.5 or not cands:
            continue
        for _ in range(rng.choice([1, 1, 2, 4])):
            d[rng.choice(cands)] = rng.randrange(0, 255)
        with open(os.path.join(OUT, f"corrupt_{name}"), "wb") as f:
            f.write(bytes(d))
        made += 1


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
    cmyk.save(os.path.join(OUT, "cmyk_s420_61x45.jpg"), quality=90, subsampling=2)  # 2x2,1x1,1x1,1x1
    cmyk.save(os.path.join(OUT, "cmyk_s422_61x45.jpg"), quality=90, subsampling=1)  # 2x1,1x1,1x1,1x1
    colour_space_rules()
    incomplete_progressive()
    cut_scans()
    corrupt_bytes()
    # Pillow's own encoder defaults (4:2:0) at an odd size
    pattern(45, 31, 9).save(os.path.join(OUT, "pillow_default_45x31.jpg"))

    rows = []
    for name in sorted(os.listdir(OUT)):
        im = Image.open(os.path.join(OUT, name))
        try:
            sums = [hashlib.sha256(im.convert(m).tobytes()).hexdigest() for m in ("L", "RGB", "HSV")]
        except OSError as e:  # Pillow refuses it: not a golden row
            print(f"{name}: Pillow: {e}")
            os.remove(os.path.join(OUT, name))
            continue
        rows.append("\t".join([f"jpeg/{name}", im.mode, str(im.width), str(im.height), *sums]))
    with open("golden.tsv", "w") as f:
        f.write("file\tpil_mode\twidth\theight\tsha256_L\tsha256_RGB\tsha256_HSV\n")
        f.write("\n".join(rows) + "\n")
    # arithmetic coding: Pillow decodes it, we do not (kept out of golden.tsv)
    cjpeg("../arithmetic_s420_61x45.jpg", big, "-sample", "2x2", "-arithmetic")


main()
