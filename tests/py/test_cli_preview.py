"""scout preview and its library kernels (scout/preview.h) against numpy and Pillow.

References are computed here with numpy from the rules stated in `scout preview
--help` and include/scout/preview.h (never by scout); PNG files are decoded by
Pillow (python3-pil) or, for 16-bit RGB which Pillow cannot hold, by a decoder
written here from the PNG specification with Python's zlib.
"""
import glob
import json
import os
import struct
import subprocess
import sys
import zlib

import numpy as np
import tifffile
import zarr
from PIL import Image

sys.path.insert(0, os.path.dirname(__file__))
from cli_common import BUILD, TempDir, check, main, run  # noqa: E402

TOOL = os.path.join(BUILD, "tools", "preview_tool")
RNG = np.random.default_rng(1616)
DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float16", "float32", "float64"]


def tool(*args):
    r = subprocess.run([TOOL] + [str(a) for a in args], capture_output=True, text=True,
                       timeout=120)
    if r.returncode != 0:
        raise AssertionError("preview_tool %s: exit %d: %s" % (args, r.returncode, r.stderr))
    return r.stdout


def write_zarr(path, a, chunks):
    z = zarr.open(path, mode="w", shape=a.shape, chunks=chunks, dtype=a.dtype)
    z[...] = a
    return path


def random_array(dt, shape, nan_fraction=0.0):
    """Random values covering the dtype's range (floats: negatives, ties, NaNs)."""
    if dt == "bool":
        return RNG.random(shape) < 0.1
    if np.dtype(dt).kind in "iu":
        info = np.iinfo(dt)
        return RNG.integers(info.min, info.max, shape, dtype=dt, endpoint=True)
    a = (RNG.standard_normal(shape) * 1000).astype(dt)
    a[RNG.random(shape) < 0.05] = 7  # ties
    if nan_fraction:
        a[RNG.random(shape) < nan_fraction] = np.nan
    return a


def same(a, b):
    if a.dtype.kind == "f":
        return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    return a.shape == b.shape and np.array_equal(a, b)


# --- the reference rules ------------------------------------------------------

def ref_limits(v, plo=0.5, phi=99.5):
    v = v.ravel()
    if v.dtype.kind == "f":
        v = v[~np.isnan(v)]
    if v.size == 0:
        return float("nan"), float("nan")
    v = v.astype(np.float64) if v.dtype == np.bool_ else v
    return (float(np.percentile(v, plo, method="lower")),
            float(np.percentile(v, phi, method="higher")))


def ref_map(v, lo, hi, depth=8):
    m = 255.0 if depth == 8 else 65535.0
    x = v.astype(np.float64)
    if lo == hi:
        g = np.where(x > lo, m, 0.0)
    else:
        g = np.clip(np.floor((x - lo) / (hi - lo) * m + 0.5), 0, m)
    g[np.isnan(x)] = 0
    return g.astype(np.uint8 if depth == 8 else np.uint16)


def ref_block_max(a, f):
    h, w = a.shape
    oh, ow = -(-h // f), -(-w // f)
    out = np.empty((oh, ow), a.dtype)
    for i in range(oh):
        for j in range(ow):
            out[i, j] = a[i * f:(i + 1) * f, j * f:(j + 1) * f].max()
    return out


RING = [(dy, dx) for dy in range(-3, 4) for dx in range(-3, 4) if 8 <= dy * dy + dx * dx <= 10]


def ref_picture(vol, axis=0, rng=None, peaks=None, max_size=2048, depth=8, limits=None):
    """The whole preview rule in numpy: projection, contrast, block max, rings."""
    if vol.ndim == 3:
        sl = [slice(None)] * 3
        if rng is not None:
            sl[axis] = slice(*rng)
        proj = vol[tuple(sl)].max(axis=axis)
    else:
        proj = vol
    lo, hi = limits if limits else ref_limits(proj)
    g = ref_map(proj, lo, hi, depth)
    f = max(1, -(-max(g.shape) // max_size))
    g = ref_block_max(g, f)
    if peaks is None:
        return g
    rgb = np.repeat(g[:, :, None], 3, axis=2)
    top = 255 if depth == 8 else 65535
    r0, r1 = rng if rng else (0, vol.shape[axis] if vol.ndim == 3 else 0)
    for p in peaks:
        p = [int(np.floor(c + 0.5)) for c in p]
        if vol.ndim == 3:
            if not (r0 <= p[axis] < r1):
                continue
            rc = [c for i, c in enumerate(p) if i != axis]
        else:
            rc = p
        y, x = rc[0] // f, rc[1] // f
        for dy, dx in RING:
            if 0 <= y + dy < rgb.shape[0] and 0 <= x + dx < rgb.shape[1]:
                rgb[y + dy, x + dx] = (top, 0, 0)
    return rgb


# --- an independent PNG decoder (PNG spec, zlib) for 16-bit RGB ---------------

def decode_png(path):
    data = open(path, "rb").read()
    check(data[:8] == b"\x89PNG\r\n\x1a\n", "PNG signature")
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        check(zlib.crc32(kind + body) == struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])[0],
              "chunk CRC")
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = ihdr
    check(interlace == 0, "not interlaced")
    ch = {0: 1, 2: 3}[ctype]
    bpp = ch * depth // 8
    raw = zlib.decompress(idat)
    stride = w * bpp
    out = np.zeros((h, stride), np.int32)
    prev = np.zeros(stride, np.int32)
    for r in range(h):
        ft = raw[r * (stride + 1)]
        line = np.frombuffer(raw, np.uint8, stride, r * (stride + 1) + 1).astype(np.int32)
        cur = np.zeros(stride, np.int32)
        for i in range(stride):
            a = cur[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ft == 0:
                pr = 0
            elif ft == 1:
                pr = a
            elif ft == 2:
                pr = b
            elif ft == 3:
                pr = (a + b) // 2
            else:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            cur[i] = (line[i] + pr) & 255
        out[r] = cur
        prev = cur
    b = out.astype(np.uint8).tobytes()
    dt = ">u2" if depth == 16 else "u1"
    img = np.frombuffer(b, dt).reshape(h, w, ch).astype(np.uint16 if depth == 16 else np.uint8)
    return img[:, :, 0] if ch == 1 else img


def read_png(path):
    im = Image.open(path)
    im.load()
    return im, np.asarray(im)


def no_leftovers(d, out):
    check(not os.path.exists(out), "nothing at %s" % out)
    left = glob.glob(os.path.join(os.path.dirname(out), "*.tmp-*"))
    check(not left, "no temporary files left: %s" % left)


# --- the library kernels ------------------------------------------------------

def test_max_project_kernel_every_dtype():
    """scout_max_project == numpy max(axis) on raw buffers, 1-D to 4-D, every dtype."""
    with TempDir() as d:
        cases = 0
        for dt in DTYPES:
            for shape in [(13,), (5, 7), (3, 1, 9), (4, 3, 5, 2)]:
                a = random_array(dt, shape, nan_fraction=0.02)
                a.tofile(os.path.join(d, "in"))
                tool("project", dt, os.path.join(d, "in"), os.path.join(d, "out"), len(shape),
                     *shape)
                for axis in range(len(shape)):
                    got = np.fromfile(os.path.join(d, "out.%d" % axis), dt).reshape(
                        [s for i, s in enumerate(shape) if i != axis])
                    check(same(got, a.max(axis=axis)), "%s %s axis %d" % (dt, shape, axis))
                    cases += 1
        check(cases == 12 * 10, "cases")


def test_mip_every_dtype_axis_chunking():
    """scout_mip on Zarr arrays == numpy max(axis) exactly: every dtype, odd shapes,
    every axis, slab ranges, several storage and processing chunkings, threads
    and processes."""
    with TempDir() as d:
        n = 0
        for k, dt in enumerate(DTYPES):
            shape = (23, 31, 17) if k % 2 else (19, 11, 29)
            a = random_array(dt, shape, nan_fraction=0.01)
            storage = [(7, 10, 5), (23, 31, 17), (4, 32, 3)][k % 3]
            p = write_zarr(os.path.join(d, dt + ".zarr"), a, storage)
            configs = [(1, "threads", "-"), (3, "threads", "-"), (2, "processes", "5,3,8"),
                       (2, "threads", "1,1,1"), (2, "threads", "64,64,64")]
            # every configuration on the whole extent along axis 0, one (rotating)
            # configuration for each other (axis, slab)
            todo = {c: [] for c in range(5)}
            for axis in range(3):
                ext = shape[axis]
                for si, (s0, s1) in enumerate([(0, -1), (3, ext - 2), (ext - 1, ext), (5, 6)]):
                    for c in (range(5) if (axis, si) == (0, 0) else [(k + axis + si) % 5]):
                        todo[c].append((axis, s0, s1))
            out = os.path.join(d, "mip.raw")
            for c, cases in todo.items():
                workers, kind, chunks = configs[c]
                shapes = tool("mip", p, out, workers, kind, chunks,
                              *["%d:%d:%d" % x for x in cases]).splitlines()
                for k, ((axis, s0, s1), shp) in enumerate(zip(cases, shapes)):
                    stop = shape[axis] if s1 == -1 else s1
                    sl = [slice(None)] * 3
                    sl[axis] = slice(s0, stop)
                    ref = a[tuple(sl)].max(axis=axis)
                    got = np.fromfile(out + ".%d" % k, a.dtype).reshape(
                        [int(x) for x in shp.split()])
                    check(same(got, ref), "%s axis %d slab %d:%d %s %s chunks %s" % (
                        dt, axis, s0, stop, workers, kind, chunks))
                    n += 1
        check(n == 12 * 16, "cases %d" % n)


def test_mip_tiff_stack():
    """Every array kind: a TIFF stack projected along each axis."""
    with TempDir() as d:
        a = RNG.integers(0, 60000, (9, 21, 14), dtype=np.uint16)
        p = os.path.join(d, "s.tif")
        tifffile.imwrite(p, a)
        shapes = tool("mip", p, os.path.join(d, "o"), 2, "threads", "-", "0:0:-1", "1:0:-1",
                      "2:0:-1").splitlines()
        for axis in range(3):
            got = np.fromfile(os.path.join(d, "o.%d" % axis), np.uint16).reshape(
                [int(x) for x in shapes[axis].split()])
            check(same(got, a.max(axis=axis)), "tiff axis %d" % axis)


def test_contrast_percentiles_rule():
    """scout_contrast_auto == np.percentile(lower / higher) of the non-NaN values."""
    with TempDir() as d:
        f = os.path.join(d, "v")
        n = 0
        for dt in DTYPES:
            for size in [1, 2, 7, 200, 1001, 40000]:
                a = random_array(dt, (size,), nan_fraction=0.1)
                if dt.startswith("float") and size == 1001:
                    a[:5] = [np.inf, -np.inf, -0.0, 0.0, np.inf]
                a.tofile(f)
                qs = [(0.5, 99.5), (0, 100), (50, 50), (1, 2), (12.5, 87.5)]
                lines = tool("contrast", dt, f, *[q for pair in qs for q in pair]).splitlines()
                for (plo, phi), line in zip(qs, lines):
                    lo, hi = (float(x) for x in line.split())
                    rl, rh = ref_limits(a, plo, phi)
                    check((lo == rl or (np.isnan(lo) and np.isnan(rl))) and
                          (hi == rh or (np.isnan(hi) and np.isnan(rh))),
                          "%s n=%d q=%s,%s: %r %r vs %r %r" % (dt, size, plo, phi, lo, hi, rl, rh))
                    n += 1
        # all NaN: no limits
        np.full(10, np.nan, np.float32).tofile(f)
        check(tool("contrast", "float32", f, 0.5, 99.5).split() == ["nan", "nan"], "all NaN")
        check(n == 12 * 6 * 5, "cases")


def test_contrast_map_rule():
    """scout_contrast_map == the numpy formula (rounding, clamping, NaN, lo == hi)."""
    with TempDir() as d:
        fi, fo = os.path.join(d, "i"), os.path.join(d, "o")
        for dt in DTYPES:
            a = random_array(dt, (5000,), nan_fraction=0.05)
            a.tofile(fi)
            for depth in (8, 16):
                lims = [ref_limits(a), (0.0, 1.0), (-3.0, 3.0), (7.0, 7.0), (-1e3, 2.5e3)]
                lims = [lh for lh in lims if not np.isnan(lh[0])]
                tool("map", dt, fi, fo, depth, *[repr(x) for lh in lims for x in lh])
                for k, (lo, hi) in enumerate(lims):
                    got = np.fromfile(fo + ".%d" % k, np.uint8 if depth == 8 else np.uint16)
                    check(np.array_equal(got, ref_map(a, lo, hi, depth)),
                          "%s depth %d %r..%r" % (dt, depth, lo, hi))
        # exactly halfway values round up
        np.array([0, 1, 2, 3, 4], np.float64).tofile(fi)
        tool("map", "float64", fi, fo, 8, 0, 510)
        check(list(np.fromfile(fo + ".0", np.uint8)) == [0, 1, 1, 2, 2], "x.5 rounds up")


def test_block_max_rule():
    """scout_block_max_2d == numpy block max (partial last blocks), and the factor."""
    with TempDir() as d:
        fi, fo = os.path.join(d, "i"), os.path.join(d, "o")
        for dt in ["uint8", "uint16", "float32", "int64", "float16"]:
            for h, w in [(1, 1), (7, 5), (31, 64), (100, 3)]:
                a = random_array(dt, (h, w), nan_fraction=0.02)
                a.tofile(fi)
                tool("blockmax", dt, fi, fo, h, w, 1, 2, 3, 7, 64)
                for f in [1, 2, 3, 7, 64]:
                    got = np.fromfile(fo + ".%d" % f, dt).reshape(-(-h // f), -(-w // f))
                    check(same(got, ref_block_max(a, f)), "%s %dx%d f=%d" % (dt, h, w, f))
        for h, w, n, f in [(30000, 30000, 2048, 15), (2048, 100, 2048, 1), (2049, 5, 2048, 2),
                           (100, 4097, 2048, 3), (10, 10, 1, 10), (0, 0, 5, 1)]:
            check(int(tool("factor", h, w, n)) == f, "factor %d %d %d" % (h, w, n))


# --- the command --------------------------------------------------------------

def test_preview_png_pixels():
    """The PNG, decoded by Pillow, equals the numpy rule end to end (8-bit grey),
    for each axis, slab ranges, --max-size, and with fixed contrast."""
    with TempDir() as d:
        vol = RNG.integers(90, 2000, (41, 53, 67), dtype=np.uint16)
        vol[5, 10, 20] = 65000  # an outlier the percentiles must ignore
        p = write_zarr(os.path.join(d, "v.zarr"), vol, (16, 16, 16))
        out = os.path.join(d, "o.png")
        for axis, name in enumerate("zyx"):
            for rng in [None, (3, 17)]:
                for ms in [2048, 20, 9]:
                    args = ["preview", "-j", "2", "--no-progress", "--overwrite", "--axis", name,
                            "--max-size", ms, "--json", p, out]
                    if rng:
                        args += ["--range", "%d:%d" % rng]
                    info = json.loads(run(args).stdout)
                    im, got = read_png(out)
                    ref = ref_picture(vol, axis, rng, max_size=ms)
                    check(im.mode == "L", "8-bit grey")
                    check(got.shape == ref.shape and np.array_equal(got, ref),
                          "axis %s range %s max-size %d" % (name, rng, ms))
                    check(max(got.shape) <= ms, "longer side <= max-size")
                    check((info["height"], info["width"]) == ref.shape, "json size")
        run(["preview", "--overwrite", "--contrast", "100,1900", p, out])
        check(np.array_equal(read_png(out)[1], ref_picture(vol, limits=(100.0, 1900.0))),
              "fixed contrast")
        # open-ended ranges
        run(["preview", "--overwrite", "--range", "30:", p, out])
        check(np.array_equal(read_png(out)[1], ref_picture(vol, 0, (30, 41))), "range 30:")
        run(["preview", "--overwrite", "--range", ":1", "--axis", "y", p, out])
        check(np.array_equal(read_png(out)[1], ref_picture(vol, 1, (0, 1))), "range :1")


def test_preview_16bit_and_float():
    """--depth 16 (grey, Pillow; RGB, the spec decoder) and a float32 volume with NaNs."""
    with TempDir() as d:
        vol = (RNG.standard_normal((12, 40, 33)) * 50).astype(np.float32)
        vol[:, 3, 4] = np.nan  # a NaN column: black in the picture
        p = write_zarr(os.path.join(d, "f.zarr"), vol, (5, 9, 11))
        out = os.path.join(d, "o.png")
        run(["preview", "--depth", "16", p, out])
        im, got = read_png(out)
        ref = ref_picture(vol, depth=16)
        check(im.mode.startswith("I"), "16-bit grey mode %s" % im.mode)
        check(np.array_equal(got.astype(np.int64), ref.astype(np.int64)), "16-bit grey pixels")
        check(np.array_equal(decode_png(out), ref), "16-bit grey, spec decoder")
        check(ref[3, 4] == 0, "NaN is black")
        peaks = [(2, 20, 20), (11, 0, 32)]
        csv = os.path.join(d, "p.csv")
        with open(csv, "w") as fh:
            fh.write("z,y,x\n" + "".join("%d,%d,%d\n" % q for q in peaks))
        run(["preview", "--overwrite", "--depth", "16", "--peaks", csv, p, out])
        check(np.array_equal(decode_png(out), ref_picture(vol, peaks=peaks, depth=16)),
              "16-bit RGB with rings")


def test_preview_peaks_markers():
    """Rings land at the expected pixels: only peaks in the slab, scaled by the
    downsampling factor, clipped at the border; CSV from scout peaks."""
    with TempDir() as d:
        vol = RNG.integers(100, 200, (30, 60, 50), dtype=np.uint16)
        p = write_zarr(os.path.join(d, "v.zarr"), vol, (8, 16, 16))
        peaks = [(1, 10, 10), (15, 30, 25), (29, 59, 49), (20, 0, 2), (7.4, 40.6, 12.2)]
        csv = os.path.join(d, "p.csv")
        with open(csv, "w") as fh:
            fh.write("z,y,x\n" + "".join("%s,%s,%s\n" % q for q in peaks))
        out = os.path.join(d, "o.png")
        for axis, name in enumerate("zyx"):
            for rng, ms in [(None, 2048), ((5, 21), 2048), (None, 25), ((10, 30), 17)]:
                args = ["preview", "--overwrite", "--axis", name, "--peaks", csv, "--max-size",
                        ms, "--json", p, out]
                if rng:
                    args += ["--range", "%d:%d" % rng]
                info = json.loads(run(args).stdout)
                im, got = read_png(out)
                ref = ref_picture(vol, axis, rng, peaks=peaks, max_size=ms)
                check(im.mode == "RGB", "RGB")
                check(np.array_equal(got, ref), "rings axis %s range %s size %d" % (name, rng, ms))
                lo_, hi_ = rng if rng else (0, vol.shape[axis])
                want = sum(1 for q in peaks if lo_ <= int(np.floor(q[axis] + 0.5)) < hi_)
                check(info["peaks_drawn"] == want, "peaks drawn %d != %d" % (info["peaks_drawn"],
                                                                            want))
        # red pixels exactly where a ring of the one peak is
        with open(csv, "w") as fh:
            fh.write("15,30,25\n")
        run(["preview", "--overwrite", "--peaks", csv, p, out])
        got = read_png(out)[1]
        red = set(zip(*np.nonzero((got[:, :, 0] == 255) & (got[:, :, 1] == 0) &
                                  (got[:, :, 2] == 0))))
        check(red == {(30 + dy, 25 + dx) for dy, dx in RING}, "the ring's 16 pixels")
        # the output of scout peaks draws as it is
        vol2 = np.full((20, 40, 40), 100, np.uint16)
        for z, y, x in [(5, 10, 10), (12, 30, 22)]:
            vol2[z, y, x] = 3000
        p2 = write_zarr(os.path.join(d, "n.zarr"), vol2, (8, 8, 8))
        run(["peaks", "--sigma", "0", "--threshold", "1000", p2, os.path.join(d, "n.csv")])
        info = json.loads(run(["preview", "--json", "--peaks", os.path.join(d, "n.csv"), p2,
                               os.path.join(d, "n.png")]).stdout)
        check(info["peaks_drawn"] == 2, "scout peaks CSV")
        check(np.array_equal(read_png(os.path.join(d, "n.png"))[1],
                             ref_picture(vol2, peaks=[(5, 10, 10), (12, 30, 22)])), "peaks CSV")


def test_preview_2d_and_tiff():
    """2-D arrays are shown as they are (contrast, size, y,x peaks); TIFF inputs."""
    with TempDir() as d:
        img = RNG.integers(0, 4000, (70, 45), dtype=np.int32)
        p = write_zarr(os.path.join(d, "i.zarr"), img, (16, 16))
        out = os.path.join(d, "o.png")
        run(["preview", "--max-size", "30", p, out])
        check(np.array_equal(read_png(out)[1], ref_picture(img, max_size=30)), "2-D")
        csv = os.path.join(d, "p.csv")
        with open(csv, "w") as fh:
            fh.write("y,x\n10,10\n69,0\n")
        run(["preview", "--overwrite", "--peaks", csv, p, out])
        check(np.array_equal(read_png(out)[1], ref_picture(img, peaks=[(10, 10), (69, 0)])),
              "2-D peaks")
        r = run(["preview", "--overwrite", "--axis", "y", p, out], rc=1)
        check("2-D" in r.stderr, "2-D --axis message: %s" % r.stderr)
        vol = RNG.integers(0, 255, (6, 30, 20), dtype=np.uint8)
        t = os.path.join(d, "v.tif")
        tifffile.imwrite(t, vol)
        run(["preview", "--overwrite", "--axis", "x", t, out])
        check(np.array_equal(read_png(out)[1], ref_picture(vol, 2)), "TIFF stack")


def test_preview_bad_input():
    """Exit 1 with a clear message and nothing at OUT (nor a temporary beside it)."""
    with TempDir() as d:
        vol = RNG.integers(0, 100, (10, 12, 14), dtype=np.uint16)
        p = write_zarr(os.path.join(d, "v.zarr"), vol, (4, 4, 4))
        out = os.path.join(d, "o.png")
        csv = os.path.join(d, "p.csv")
        for rng, axis in [("10:11", "z"), ("5:5", "z"), ("0:13", "y"), ("3:2", "x"), ("14:", "x")]:
            r = run(["preview", "--range", rng, "--axis", axis, p, out], rc=1)
            check("--range" in r.stderr and "outside" in r.stderr, "range message: " + r.stderr)
            no_leftovers(d, out)
        for bad in ["1:2:3", "a:b", "-1:3", "5", ""]:
            r = run(["preview", "--range", bad, p, out], rc=2)
            no_leftovers(d, out)
        cases = [("z,y,x\n1,2,3\n4,5\n", "line 3: 2 columns, expected 3"),
                 ("1,2,3,4\n", "line 1: 4 columns"),
                 ("z,y,x\n1,2,3\n1,two,3\n", "line 3, column 2: 'two' is not a number"),
                 ("z,y,x\n1,2,nan\n", "column 3: 'nan' is not a number"),
                 ("z,y,x\n\n1,2,3\nfoo,bar,baz\n", "line 4, column 1"),
                 ("z,y,x\n1,2,99\n", "outside the array")]
        for text, msg in cases:
            with open(csv, "w") as fh:
                fh.write(text)
            r = run(["preview", "--peaks", csv, p, out], rc=1)
            check(msg in r.stderr, "CSV message %r not in %r" % (msg, r.stderr))
            check(r.stderr.startswith("scout: error:"), "error prefix")
            no_leftovers(d, out)
        r = run(["preview", "--peaks", os.path.join(d, "missing.csv"), p, out], rc=1)
        check("missing.csv" in r.stderr, "missing CSV named")
        no_leftovers(d, out)
        # unwritable outputs
        r = run(["preview", p, os.path.join(d, "no", "such", "dir.png")], rc=1)
        check("no/such" in r.stderr, "missing directory: " + r.stderr)
        os.mkdir(os.path.join(d, "adir"))
        r = run(["preview", "--overwrite", p, os.path.join(d, "adir")], rc=1)
        check("directory" in r.stderr, "OUT is a directory: " + r.stderr)
        check(not os.listdir(os.path.join(d, "adir")), "nothing written into it")
        if os.geteuid() != 0:
            ro = os.path.join(d, "ro")
            os.mkdir(ro, 0o555)
            r = run(["preview", p, os.path.join(ro, "o.png")], rc=1)
            check("ro" in r.stderr, "read-only directory")
            check(not os.listdir(ro), "nothing in the read-only directory")
        # an existing OUT is kept without --overwrite
        with open(out, "wb") as fh:
            fh.write(b"old")
        r = run(["preview", p, out], rc=1)
        check("already exists" in r.stderr and open(out, "rb").read() == b"old", "kept")
        os.unlink(out)
        # bad usage
        for args in [["--axis", "w"], ["--contrast", "5,1"], ["--contrast", "x"],
                     ["--depth", "12"], ["--max-size", "0"], ["--level", "x"]]:
            run(["preview"] + args + [p, out], rc=2)
        # --level on a plain array (not an OME-Zarr group)
        r = run(["preview", "--level", "1", p, out], rc=1)
        check("OME-Zarr group" in r.stderr, "--level on a plain array: %s" % r.stderr)
        no_leftovers(d, out)
        run(["preview", p], rc=2)
        # not an array / 4-D
        r = run(["preview", os.path.join(d, "nothing"), out], rc=1)
        no_leftovers(d, out)
        p4 = write_zarr(os.path.join(d, "v4.zarr"), np.zeros((2, 2, 2, 2), np.uint8), (2, 2, 2, 2))
        r = run(["preview", p4, out], rc=1)
        check("4-D" in r.stderr, "4-D message")
        no_leftovers(d, out)


def test_demo_preview():
    """scout demo writes preview.png and prints its path: the MIP of its volume with
    red rings at the peaks of its peaks.csv and green + at the planted centres."""
    with TempDir() as d:
        out = run(["demo", "--size", "64", "-j", "2", "--no-progress", d]).stdout
        png = os.path.join(d, "preview.png")
        check("preview: %s" % png in out, "path printed")
        vol = zarr.open(os.path.join(d, "volume.zarr"), "r")[...]
        pk = np.loadtxt(os.path.join(d, "peaks.csv"), delimiter=",", skiprows=1, ndmin=2)
        im, got = read_png(png)
        check(im.mode == "RGB" and got.shape == (64, 64, 3), "RGB 64x64")
        ref = ref_picture(vol, peaks=[tuple(q) for q in pk])
        green = np.all(got == (0, 255, 0), axis=2)
        check(green.sum() >= 3 * len(pk), "green + of the planted nuclei")
        check(np.array_equal(got[~green], ref[~green]), "grey MIP and red rings elsewhere")
    # default temporary DIR: the picture is kept beside it
    out = run(["demo", "--size", "32", "-j", "2", "--no-progress"]).stdout
    path = [ln.split(": ", 1)[1] for ln in out.splitlines() if ln.startswith("preview: ")]
    check(len(path) == 1 and path[0].endswith(".png") and os.path.isfile(path[0]), "kept")
    os.unlink(path[0])


def test_preview_help():
    out = run(["preview", "--help"]).stdout
    for word in ["--axis", "--range", "--peaks", "--contrast", "--depth", "--max-size",
                 "0.5th", "99.5th", "ceil(L / N)", "radius 3", "2-D", "--level"]:
        check(word in out, "--help mentions %s" % word)
    check("preview" in run(["--help"]).stdout, "listed in scout --help")


if __name__ == "__main__":
    if not os.path.exists(TOOL):
        print("preview_tool not built at", TOOL, file=sys.stderr)
        sys.exit(1)
    main([test_max_project_kernel_every_dtype, test_mip_every_dtype_axis_chunking,
          test_mip_tiff_stack, test_contrast_percentiles_rule, test_contrast_map_rule,
          test_block_max_rule, test_preview_png_pixels, test_preview_16bit_and_float,
          test_preview_peaks_markers, test_preview_2d_and_tiff, test_preview_bad_input,
          test_demo_preview, test_preview_help])
