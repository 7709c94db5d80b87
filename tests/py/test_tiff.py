"""TIFF reading and writing checked against tifffile and numpy.

TIFFs written by tifffile (and, for codecs tifffile cannot write without
imagecodecs, by libtiff through tiff_tool) are read by scout and compared byte
for byte with the numpy arrays they were written from; folders of slices are
read as tiff-stack arrays; TIFFs written by scout are read back by tifffile.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import tifffile

warnings.simplefilter("ignore")

BUILD = os.environ.get("SCOUT_BUILD_DIR", "build")
TOOL = os.path.join(BUILD, "tools", "tiff_tool")
failures = []
checks = 0


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def run(*args):
    return subprocess.run([TOOL] + [str(a) for a in args], capture_output=True, text=True)


def native(a):
    return np.ascontiguousarray(a.astype(a.dtype.newbyteorder("=")))


def random_array(dtype, shape, rng):
    dt = np.dtype(dtype)
    if dt.kind == "f":
        a = (rng.standard_normal(shape) * 1000).astype(dt)
        flat = a.reshape(-1)
        if flat.size > 4:  # special values survive as raw bytes
            flat[0], flat[1], flat[2], flat[3] = np.nan, np.inf, -np.inf, -0.0
        return a
    info = np.iinfo(dt)
    return rng.integers(info.min, info.max, size=shape, dtype=dt, endpoint=True)


def scout_read(path, tmp):
    """(kind, dtype name, shape, chunks, bytes) as scout sees the array, or the error."""
    out = os.path.join(tmp, "out.raw")
    r = run("read", path, out)
    if r.returncode != 0:
        return None, r.stderr
    kind, dtname, shape, chunks, writable = r.stdout.split()
    with open(out, "rb") as f:
        data = f.read()
    os.unlink(out)
    shape = tuple(int(v) for v in shape.split(","))
    chunks = tuple(int(v) for v in chunks.split(","))
    return (kind, dtname, shape, chunks, data, writable), None


def compare(path, ref, tmp, what, kind="tiff"):
    got, err = scout_read(path, tmp)
    if got is None:
        check(False, f"{what}: scout failed: {err.strip()}")
        return
    k, dtname, shape, chunks, data, writable = got
    check(k == kind, f"{what}: kind {k}, expected {kind}")
    check(dtname == ref.dtype.newbyteorder("=").name, f"{what}: dtype {dtname} vs {ref.dtype}")
    check(shape == ref.shape, f"{what}: shape {shape} vs {ref.shape}")
    want_chunks = ref.shape if ref.ndim == 2 else (1,) + ref.shape[1:]
    check(chunks == want_chunks, f"{what}: chunks {chunks} vs {want_chunks}")
    check(writable == "0", f"{what}: TIFF arrays are read-only")
    check(data == native(ref).tobytes(), f"{what}: voxels differ from numpy")


def compare_box(path, ref, start, stop, tmp, what):
    out = os.path.join(tmp, "box.raw")
    r = run("box", path, ",".join(map(str, start)), ",".join(map(str, stop)), out)
    if r.returncode != 0:
        check(False, f"{what}: box failed: {r.stderr.strip()}")
        return
    with open(out, "rb") as f:
        data = f.read()
    os.unlink(out)
    sl = tuple(slice(a, b) for a, b in zip(start, stop))
    check(data == native(ref[sl]).tobytes(), f"{what}: box {start}..{stop} differs")


def expect_error(args, needles, what, code=-5):
    r = run(*args)
    check(r.returncode == 1, f"{what}: exit {r.returncode}, expected 1")
    lines = r.stderr.strip().splitlines()
    # libtiff's own stderr handlers are silenced: only the tool's one line
    check(len(lines) == 1 and lines[0].startswith(f"error: {code}:"),
          f"{what}: stderr {r.stderr!r}")
    for n in needles:
        check(n in r.stderr, f"{what}: message {r.stderr.strip()!r} lacks {n!r}")


DTYPES = ["uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64",
          "float32", "float64"]


def test_tifffile_files(tmp, rng):
    # every dtype x the codecs tifffile writes without imagecodecs, 2-D, several strips
    for dt in DTYPES:
        a = random_array(dt, (37, 53), rng)
        for comp in [None, "zlib", "lzma"]:
            p = os.path.join(tmp, f"{dt}_{comp}.tif")
            tifffile.imwrite(p, a, compression=comp, rowsperstrip=5,
                             photometric="minisblack")
            compare(p, a, tmp, f"tifffile {dt} {comp}")
            os.unlink(p)
    # float16
    a = random_array("float16", (20, 31), rng)
    p = os.path.join(tmp, "f16.tif")
    tifffile.imwrite(p, a, photometric="minisblack")
    compare(p, a, tmp, "tifffile float16")
    # horizontal predictor with deflate
    a = random_array("uint16", (40, 33), rng)
    tifffile.imwrite(p, a, compression="zlib", predictor=True, photometric="minisblack")
    compare(p, a, tmp, "tifffile deflate + predictor")
    # multi-page, tiled, BigTIFF, big-endian
    for dt in ["uint16", "int32", "float32", "float64", "int64", "uint8"]:
        a = random_array(dt, (5, 45, 70), rng)
        variants = [
            ("pages", dict()),
            ("tiled", dict(tile=(16, 32), compression="zlib")),
            ("bigtiff", dict(bigtiff=True, rowsperstrip=8)),
            ("big-endian", dict(byteorder=">", compression="zlib", rowsperstrip=7)),
            # uncompressed strips are read raw into the destination, then swapped
            ("big-endian raw", dict(byteorder=">", rowsperstrip=7)),
            ("big-endian raw one strip", dict(byteorder=">")),
            ("big-endian tiled bigtiff", dict(byteorder=">", tile=(32, 16), bigtiff=True)),
        ]
        for name, kw in variants:
            p = os.path.join(tmp, "multi.tif")
            tifffile.imwrite(p, a, photometric="minisblack", **kw)
            with tifffile.TiffFile(p) as tf:
                check(len(tf.pages) == 5, f"{name}: tifffile wrote {len(tf.pages)} pages")
                if "bigtiff" in name:
                    check(tf.is_bigtiff, f"{name}: not BigTIFF")
                if "big-endian" in name:
                    check(tf.byteorder == ">", f"{name}: not big-endian")
                if "tiled" in name:
                    check(tf.pages[0].is_tiled, f"{name}: not tiled")
            compare(p, a, tmp, f"tifffile {dt} {name}")
            if dt == "uint16":
                for start, stop in [((0, 0, 0), (5, 45, 70)), ((1, 3, 5), (4, 40, 66)),
                                    ((4, 44, 69), (5, 45, 70)), ((2, 0, 17), (3, 45, 18)),
                                    ((0, 16, 32), (5, 32, 64))]:
                    compare_box(p, a, start, stop, tmp, f"{name}")
            os.unlink(p)
    # a multi-page file from many threads and forked processes
    a = random_array("uint16", (12, 64, 48), rng)
    p = os.path.join(tmp, "conc.tif")
    tifffile.imwrite(p, a, photometric="minisblack", tile=(16, 16), compression="zlib")
    r = run("concurrent", p, 4, 3)
    check(r.returncode == 0 and r.stdout.strip() == "OK", f"concurrent file: {r.stdout}{r.stderr}")


def test_libtiff_codecs(tmp, rng):
    # codecs tifffile cannot write here: libtiff writes them, the reference is the numpy data
    raw = os.path.join(tmp, "in.raw")
    p = os.path.join(tmp, "lt.tif")
    cases = [
        ("uint16", (3, 29, 41), "lzw", []),
        ("uint16", (3, 29, 41), "lzw", ["pred=2", "rps=4"]),
        ("int8", (2, 29, 41), "packbits", ["rps=3"]),
        ("uint8", (29, 41), "packbits", ["tile=16,16"]),
        ("float32", (3, 29, 41), "zstd", ["tile=32,16", "be"]),
        ("float32", (2, 29, 41), "deflate", ["pred=3", "rps=5"]),
        ("float64", (2, 29, 41), "lzw", ["pred=3", "big"]),
        ("float32", (2, 29, 41), "lzw", ["pred=2", "be"]),
        ("int64", (2, 29, 41), "zstd", ["rps=6", "big"]),
        ("uint32", (2, 29, 41), "lzma", ["tile=16,32", "be"]),
        ("int16", (4, 29, 41), "none", ["rps=1", "be"]),
    ]
    for dt, shape, comp, opts in cases:
        a = random_array(dt, shape, rng)
        native(a).tofile(raw)
        r = run("libtiff", raw, dt, ",".join(map(str, shape)), p, comp, *opts)
        if r.returncode != 0:
            check(False, f"libtiff could not write {dt} {comp} {opts}: {r.stderr}")
            continue
        with tifffile.TiffFile(p) as tf:
            check(len(tf.pages) == (shape[0] if len(shape) == 3 else 1), "libtiff pages")
            if "be" in opts:
                check(tf.byteorder == ">", f"libtiff {comp} {opts}: not big-endian")
            if "big" in opts:
                check(tf.is_bigtiff, f"libtiff {comp} {opts}: not BigTIFF")
        compare(p, a, tmp, f"libtiff {dt} {comp} {opts}")
        if len(shape) == 3:
            compare_box(p, a, (1, 5, 9), (shape[0], 28, 40), tmp, f"libtiff {comp} {opts}")
        os.unlink(p)
    os.unlink(raw)


def test_float_predictor_big_endian(tmp, rng):
    """A big-endian TIFF with the floating-point predictor (Adobe TN3), encoded here.

    libtiff 4.5's own writer gets this combination wrong (its files do not decode
    to the input per TN3), so the strip is encoded in numpy and patched in.
    """
    import struct
    import zlib
    raw = os.path.join(tmp, "in.raw")
    p = os.path.join(tmp, "fp.tif")
    for dt in ["float32", "float64"]:
        isz = np.dtype(dt).itemsize
        a = random_array(dt, (29, 41), rng)
        native(a).tofile(raw)
        r = run("libtiff", raw, dt, "29,41", p, "deflate", "pred=3", "be")
        check(r.returncode == 0, f"libtiff write fp predictor: {r.stderr}")
        # TN3: per row, the samples' bytes most significant first, as byte planes,
        # then byte differences along the row
        b = np.frombuffer(a.astype(">f%d" % isz).tobytes(), np.uint8).reshape(29, 41, isz)
        planes = b.transpose(0, 2, 1).reshape(29, 41 * isz).astype(np.int16)
        diff = planes.copy()
        diff[:, 1:] = (planes[:, 1:] - planes[:, :-1]) % 256
        comp = zlib.compress(diff.astype(np.uint8).tobytes())
        with tifffile.TiffFile(p) as tf:
            pg = tf.pages[0]
            check(tf.byteorder == ">" and pg.predictor == 3 and len(pg.dataoffsets) == 1,
                  "fp predictor file layout")
            so = pg.tags["StripOffsets"]
            sc = pg.tags["StripByteCounts"]
            check(so.dtype == 4 and sc.dtype == 4, "strip tags are LONG")
        with open(p, "rb") as f:
            data = bytearray(f.read())
        off = len(data)
        data += comp
        data[so.valueoffset:so.valueoffset + 4] = struct.pack(">I", off)
        data[sc.valueoffset:sc.valueoffset + 4] = struct.pack(">I", len(comp))
        with open(p, "wb") as f:
            f.write(data)
        compare(p, a, tmp, f"big-endian {dt} deflate + floating-point predictor")
    os.unlink(p)
    os.unlink(raw)


def read_zstd_tiff(path):
    """Decode a zstd TIFF without imagecodecs: strips through the zstd command."""
    pages = []
    with tifffile.TiffFile(path) as tf, open(path, "rb") as f:
        for pg in tf.pages:
            check(pg.compression == 50000 and pg.predictor == 1 and not pg.is_tiled,
                  "scout zstd layout")
            buf = b""
            for off, cnt in zip(pg.dataoffsets, pg.databytecounts):
                f.seek(off)
                dec = subprocess.run(["zstd", "-d", "-c", "-q"], input=f.read(cnt),
                                     capture_output=True, check=True)
                buf += dec.stdout
            dt = pg.dtype.newbyteorder(tf.byteorder)
            pages.append(np.frombuffer(buf, dt).reshape(pg.shape))
        return np.stack(pages) if len(pages) > 1 else pages[0], tf.is_bigtiff, len(tf.pages)


def test_stack(tmp, rng):
    d = os.path.join(tmp, "stack")
    os.mkdir(d)
    names = ["z10.tif", "z2.TIF", "Z1.tiff", "a_0.Tif", "_b.tif", "9.tif"]
    slices = {n: random_array("uint16", (33, 47), rng) for n in names}
    for i, n in enumerate(names):
        kw = [dict(), dict(compression="zlib"), dict(tile=(16, 16)),
              dict(byteorder=">"), dict(bigtiff=True), dict(rowsperstrip=4)][i]
        tifffile.imwrite(os.path.join(d, n), slices[n], photometric="minisblack", **kw)
    with open(os.path.join(d, "notes.txt"), "w") as f:
        f.write("not a slice")
    os.mkdir(os.path.join(d, "sub.tif"))
    order = sorted(n for n in os.listdir(d)
                   if n.lower().endswith((".tif", ".tiff")) and os.path.isfile(os.path.join(d, n)))
    ref = np.stack([slices[n] for n in order])
    compare(d, ref, tmp, "tiff-stack", kind="tiff-stack")
    for start, stop in [((0, 0, 0), (6, 33, 47)), ((1, 2, 3), (5, 30, 40)),
                        ((5, 32, 46), (6, 33, 47)), ((2, 10, 0), (4, 11, 47))]:
        compare_box(d, ref, start, stop, tmp, "tiff-stack")
    r = run("concurrent", d, 4, 3)
    check(r.returncode == 0 and r.stdout.strip() == "OK", f"concurrent stack: {r.stdout}{r.stderr}")

    # a slice of another shape or dtype: reading it names the file
    bad = os.path.join(d, "zz_shape.tif")
    tifffile.imwrite(bad, random_array("uint16", (33, 46), rng), photometric="minisblack")
    expect_error(["box", d, "6,0,0", "7,33,47", os.path.join(tmp, "x.raw")],
                 [bad, "(33, 46)", "(33, 47)", "first slice"], "mismatched slice shape")
    # slices before it still read
    compare_box(d, ref, (0, 0, 0), (6, 33, 47), tmp, "tiff-stack before a bad slice")
    os.unlink(bad)
    tifffile.imwrite(bad, random_array("int16", (33, 47), rng), photometric="minisblack")
    expect_error(["read", d, os.path.join(tmp, "x.raw")], [bad, "int16", "uint16"],
                 "mismatched slice dtype")
    os.unlink(bad)
    tifffile.imwrite(bad, random_array("uint16", (2, 33, 47), rng), photometric="minisblack")
    expect_error(["read", d, os.path.join(tmp, "x.raw")], [bad, "multi-page"],
                 "multi-page slice")
    os.unlink(bad)
    shutil.rmtree(d)


def test_scout_writes(tmp, rng):
    raw = os.path.join(tmp, "in.raw")
    p = os.path.join(tmp, "scout.tif")
    names = {"none": 1, "deflate": 8, "zstd": 50000}
    cases = []
    for i, dt in enumerate(DTYPES + ["float16", "bool"]):
        for j, shape in enumerate([(300, 530), (3, 21, 17)]):
            comps = ["none", "deflate", "zstd"]
            for comp in comps if dt == "uint16" else [comps[(i + j) % 3]]:
                cases.append((dt, shape, comp))
    for dt, shape, comp in cases:
        if dt == "bool":
            a = rng.integers(0, 2, size=shape).astype(bool)
        else:
            a = random_array(dt, shape, rng)
        native(a).tofile(raw)
        level = {"none": 0, "deflate": 6, "zstd": 3}[comp]
        big = 1 if comp == "zstd" and len(shape) == 3 else 0
        r = run("write", raw, dt, ",".join(map(str, shape)), p, comp, level, big)
        if r.returncode != 0:
            check(False, f"scout write {dt} {shape} {comp}: {r.stderr}")
            continue
        if comp == "zstd" and not shutil.which("zstd"):
            print("note: no zstd command (Debian package zstd): scout-written zstd TIFFs "
                  "checked by scout's reader only", file=sys.stderr)
            compare(p, a.astype(np.uint8) if dt == "bool" else a, tmp, f"scout zstd {dt}")
            os.unlink(p)
            continue
        if comp == "zstd":  # tifffile needs imagecodecs for zstd
            b, is_big, npages = read_zstd_tiff(p)
        else:
            with tifffile.TiffFile(p) as tf:
                b = tf.asarray()
                is_big, npages = tf.is_bigtiff, len(tf.pages)
                check(tf.pages[0].compression == names[comp],
                      f"scout write {dt} {comp}: compression {tf.pages[0].compression}")
        check(npages == (shape[0] if len(shape) == 3 else 1),
              f"scout write {dt} {comp}: pages")
        check(is_big == bool(big), f"scout write {dt} {comp}: bigtiff")
        want = a.astype(np.uint8) if dt == "bool" else a
        check(b.dtype == want.dtype and b.shape == want.shape,
              f"scout write {dt} {shape} {comp}: tifffile sees {b.dtype} {b.shape}")
        check(native(b).tobytes() == native(want).tobytes(),
              f"scout write {dt} {shape} {comp}: voxels differ")
        if dt in ("uint16", "float64"):
            compare(p, want, tmp, f"scout write then read {dt} {comp}")
        os.unlink(p)
    left = [n for n in os.listdir(tmp) if ".tmp-" in n]
    check(not left, f"temporary files left behind: {left}")
    os.unlink(raw)


def test_errors(tmp, rng):
    x = os.path.join(tmp, "x.raw")
    p = os.path.join(tmp, "rgb.tif")
    tifffile.imwrite(p, random_array("uint8", (10, 12, 3), rng), photometric="rgb")
    expect_error(["info", p], [p, "3 samples per pixel", "RGB"], "RGB")
    p2 = os.path.join(tmp, "planar.tif")
    tifffile.imwrite(p2, random_array("uint16", (3, 10, 12), rng), photometric="rgb",
                     planarconfig="separate")
    expect_error(["info", p2], [p2, "3 samples per pixel"], "planar RGB")
    p3 = os.path.join(tmp, "bilevel.tif")
    tifffile.imwrite(p3, rng.integers(0, 2, (16, 16)).astype(bool))
    expect_error(["info", p3], [p3, "1 bits per sample", "bilevel"], "bilevel")
    p4 = os.path.join(tmp, "complex.tif")
    tifffile.imwrite(p4, np.ones((8, 8), "c8"))
    expect_error(["info", p4], [p4, "sample format 6"], "complex")
    # pages of different shapes in one file name the page
    p5 = os.path.join(tmp, "pages.tif")
    tifffile.imwrite(p5, random_array("uint16", (10, 12), rng), photometric="minisblack")
    tifffile.imwrite(p5, random_array("uint16", (10, 13), rng), photometric="minisblack",
                     append=True)
    expect_error(["info", p5], [p5, "page 1", "(10, 13)", "(10, 12)"], "pages differ")
    # truncated: the directory or the data is missing
    p6 = os.path.join(tmp, "trunc.tif")
    a = random_array("uint16", (4, 40, 40), rng)
    tifffile.imwrite(p6, a, photometric="minisblack", compression="zlib")
    with open(p6, "rb") as f:
        whole = f.read()
    with open(p6, "wb") as f:
        f.write(whole[:len(whole) - 300])
    r = run("read", p6, x)
    check(r.returncode == 1 and p6 in r.stderr and len(r.stderr.strip().splitlines()) == 1,
          f"truncated data: {r.stderr!r}")
    with open(p6, "wb") as f:
        f.write(whole[:6])
    expect_error(["info", p6], [p6], "truncated header")
    # not a TIFF
    p7 = os.path.join(tmp, "text.tif")
    with open(p7, "w") as f:
        f.write("hello, not a tiff\n")
    expect_error(["info", p7], [p7, "not a Zarr array directory, a TIFF file"], "not a TIFF")
    # empty folder, folder without TIFFs, missing path
    d = os.path.join(tmp, "empty")
    os.mkdir(d)
    expect_error(["info", d], [d, "no .tif/.tiff files"], "empty folder")
    with open(os.path.join(d, "readme.txt"), "w") as f:
        f.write("x")
    expect_error(["info", d], [d, "no .tif/.tiff files"], "folder without TIFFs")
    expect_error(["info", os.path.join(tmp, "missing.tif")], ["missing.tif"], "missing",
                 code=-4)


def main():
    rng = np.random.default_rng(20261124)
    tmp = tempfile.mkdtemp(prefix="scout_tiff_py_")
    try:
        test_tifffile_files(tmp, rng)
        test_libtiff_codecs(tmp, rng)
        test_float_predictor_big_endian(tmp, rng)
        test_stack(tmp, rng)
        test_scout_writes(tmp, rng)
        test_errors(tmp, rng)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{checks} checks, {len(failures)} failed", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
