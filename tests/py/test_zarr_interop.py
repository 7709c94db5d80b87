"""Zarr v2 interop with zarr-python 2.13 / numcodecs, both ways.

zarr-python writes, scout reads: for every case, scout's raw output (native
byte order, C order) must equal numpy's tobytes() of what zarr-python itself
reads back. scout writes, zarr-python reads: the array zarr-python reads must
equal the data scout was given (and the fill value where nothing was written),
its metadata must be what was asked for, and nchunks_initialized must count
exactly the chunks written (the lock file scout leaves is not a chunk).

The matrix pairs every dtype (both byte orders) with every codec setting
(blosc: every cname x shuffle 0/1/2, plus autoshuffle; zlib, gzip, bz2, lzma,
zstd, lz4, none); order C/F, separator '.' and '/', 1-D to 5-D shapes that are
not multiples of the chunks, absent chunks with integer and NaN fill values,
and the write paths (one insert, unaligned boxes, a sub-box, pmap workers with
threads and processes) are drawn at random for each pair, with a fixed seed.
"""
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numcodecs
import numpy as np
import zarr

TOOL = os.path.join(os.environ.get("SCOUT_BUILD_DIR", "build"), "tools", "zarr_tool")
rng = np.random.default_rng(20261124)
failures = []


def fail(msg):
    failures.append(msg)
    if len(failures) < 30:
        print("FAIL:", msg, file=sys.stderr)


TYPESTRS = ["|b1", "|i1", "|u1"] + [
    o + t for t in ["i2", "i4", "i8", "u2", "u4", "u8", "f2", "f4", "f8", "c8", "c16"] for o in "<>"
]


def codecs():
    out = []
    for cname in ["blosclz", "lz4", "lz4hc", "zlib", "zstd"]:
        for shuffle in [0, 1, 2]:
            out.append(numcodecs.Blosc(cname=cname, clevel=int(rng.integers(1, 10)), shuffle=shuffle))
    out.append(numcodecs.Blosc(cname="zstd", clevel=1, shuffle=-1))
    out.append(numcodecs.Blosc(cname="lz4", clevel=5, shuffle=1, blocksize=256))
    out += [numcodecs.Zlib(level=int(rng.integers(0, 10))), numcodecs.GZip(level=5), numcodecs.BZ2(level=3),
            numcodecs.LZMA(), numcodecs.Zstd(level=3), numcodecs.LZ4(acceleration=1), None]
    return out


def random_data(dt, shape):
    dt = np.dtype(dt)
    n = int(np.prod(shape))
    if dt.kind == "b":
        a = rng.integers(0, 2, n).astype(bool)
    elif dt.kind in "iu":
        info = np.iinfo(dt)
        a = rng.integers(info.min, info.max, n, dtype=dt.newbyteorder("="), endpoint=True)
    elif dt.kind == "f":
        a = (rng.standard_normal(n) * 1000).astype(dt.newbyteorder("="))
        if n > 3:
            a[0], a[1], a[2] = np.nan, np.inf, -np.inf
    else:
        a = (rng.standard_normal(n) + 1j * rng.standard_normal(n)).astype(dt.newbyteorder("="))
    return a.reshape(shape)


def random_geometry():
    """1-D to 5-D; at most 3 chunks per axis (2 from 4-D on), the last one partial when possible."""
    nd = int(rng.integers(1, 6))
    limit = {1: 300, 2: 40, 3: 14, 4: 8, 5: 6}[nd]
    kmax = 3 if nd <= 3 else 2
    shape, chunks = [], []
    for _ in range(nd):
        k = int(rng.integers(1, kmax + 1))
        c = int(rng.integers(1, max(2, limit // k) + 1))
        r = int(rng.integers(1, c)) if c > 1 else 1  # elements in the last chunk
        shape.append(c * (k - 1) + r)
        chunks.append(c)
    return tuple(shape), tuple(chunks)


def fill_for(dt):
    dt = np.dtype(dt)
    if dt.kind == "f":
        return [np.nan, 0.0, -1.5][int(rng.integers(0, 3))]
    if dt.kind == "c":
        return [complex(np.nan, 0), 0j, complex(1.5, -2)][int(rng.integers(0, 3))]
    if dt.kind == "b":
        return bool(rng.integers(0, 2))
    info = np.iinfo(dt)
    return int(rng.integers(max(info.min, -100), min(info.max, 100)))


def fill_json(dt, v):
    return json.dumps(zarr.meta.Metadata2.encode_fill_value(v, np.dtype(dt)))


def native(a):
    a = np.asarray(a)
    return np.ascontiguousarray(a.astype(a.dtype.newbyteorder("=")))


def random_box(shape):
    a = [int(rng.integers(0, s)) for s in shape]
    b = [int(rng.integers(x + 1, s + 1)) for x, s in zip(a, shape)]
    return a, b


def chunks_touched(a, b, chunks):
    n = 1
    for x, y, c in zip(a, b, chunks):
        n *= (y - 1) // c - x // c + 1
    return n


def count_nested_chunks(path):
    n = 0
    for d, _, files in os.walk(path):
        rel = os.path.relpath(d, path)
        parts = [] if rel == "." else rel.split(os.sep)
        n += sum(1 for f in files if all(p.isdigit() for p in parts + [f]))
    return n


def run_batch(tmp, lines):
    path = os.path.join(tmp, "batch.txt")
    with open(path, "w") as f:
        f.write("\n".join("\t".join(l) for l in lines) + "\n")
    out = subprocess.run([TOOL, "batch", path], capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        fail("zarr_tool batch exited with %d: %s" % (out.returncode, out.stderr[-2000:]))
        return [""] * len(lines)
    res = out.stdout.splitlines()
    if len(res) != len(lines):
        fail("zarr_tool answered %d of %d commands: %s" % (len(res), len(lines), out.stderr[-2000:]))
        res += [""] * (len(lines) - len(res))
    return res


def cases():
    cs = codecs()
    out = []
    for ts, codec in itertools.product(TYPESTRS, cs):
        shape, chunks = random_geometry()
        out.append(dict(ts=ts, codec=codec, shape=shape, chunks=chunks,
                        order="CF"[int(rng.integers(0, 2))], sep="./"[int(rng.integers(0, 2))],
                        fill=fill_for(ts), absent=rng.random() < 0.3))
    # a few larger ones, and SCOUT's defaults
    for ts in ["<u2", ">f4", "|u1"]:
        out.append(dict(ts=ts, codec=numcodecs.Blosc(cname="zstd", clevel=1, shuffle=2), shape=(70, 65, 3),
                        chunks=(64, 64, 2), order="C", sep="/", fill=0, absent=True))
    return out


def python_writes(tmp, cs):
    lines, checks = [], []
    for i, c in enumerate(cs):
        path = os.path.join(tmp, "py%d.zarr" % i)
        z = zarr.open_array(path, mode="w", shape=c["shape"], chunks=c["chunks"], dtype=c["ts"],
                            compressor=c["codec"], fill_value=c["fill"], order=c["order"],
                            dimension_separator=c["sep"])
        data = random_data(c["ts"], c["shape"])
        if c["absent"]:
            a, b = random_box(c["shape"])
            sl = tuple(slice(x, y) for x, y in zip(a, b))
            z[sl] = data[sl]
        else:
            z[...] = data
        expect = native(zarr.open_array(path, mode="r")[...]).tobytes()
        out = os.path.join(tmp, "py%d.bin" % i)
        if i % 4 == 3:
            lines.append(["readboxes", path, out, str(i + 1)])
        else:
            lines.append(["read", path, out])
        checks.append((c, path, out, expect))
    res = run_batch(tmp, lines)
    for (c, path, out, expect), r in zip(checks, res):
        desc = "python->scout %s %s %s order %s sep %s shape %s chunks %s" % (
            c["ts"], c["codec"], c["fill"], c["order"], c["sep"], c["shape"], c["chunks"])
        if r != "ok":
            fail("%s: %s" % (desc, r))
            continue
        with open(out, "rb") as f:
            got = f.read()
        if got != expect:
            fail("%s: bytes differ" % desc)
        shutil.rmtree(path)
        os.unlink(out)


def scout_writes(tmp, cs):
    lines, checks = [], []
    for i, c in enumerate(cs):
        path = os.path.join(tmp, "sc%d.zarr" % i)
        data = random_data(c["ts"], c["shape"])
        inp = os.path.join(tmp, "sc%d.in" % i)
        native(data).tofile(inp)
        comp = "null" if c["codec"] is None else json.dumps(c["codec"].get_config(), separators=(",", ":"))
        r = rng.random()
        nch = int(np.prod([-(-s // k) for s, k in zip(c["shape"], c["chunks"])]))
        if c["absent"]:
            a, b = random_box(c["shape"])
            mode = "sub:%s:%s" % (",".join(map(str, a)), ",".join(map(str, b)))
            expect = np.full(c["shape"], c["fill"], dtype=np.dtype(c["ts"]).newbyteorder("="))
            sl = tuple(slice(x, y) for x, y in zip(a, b))
            expect[sl] = data[sl]
            nwritten = chunks_touched(a, b, c["chunks"])
        else:
            mode = ("whole" if r < 0.3 else "boxes:%d" % (i + 7) if r < 0.8 else
                    "pmap:threads:1" if r < 0.95 else "pmap:procs:1")
            expect = data
            nwritten = nch
        lines.append(["write", path, c["ts"], c["order"], c["sep"], comp, fill_json(c["ts"], c["fill"]),
                      ",".join(map(str, c["shape"])), ",".join(map(str, c["chunks"])), inp, mode])
        checks.append((c, path, inp, native(expect).tobytes(), nwritten, mode))
    res = run_batch(tmp, lines)
    for (c, path, inp, expect, nwritten, mode), r in zip(checks, res):
        desc = "scout->python %s %s %s order %s sep %s shape %s chunks %s mode %s" % (
            c["ts"], c["codec"], c["fill"], c["order"], c["sep"], c["shape"], c["chunks"], mode)
        if r != "ok":
            fail("%s: %s" % (desc, r))
            continue
        try:
            z = zarr.open_array(path, mode="r")
            got = native(z[...]).tobytes()
            if got != expect:
                fail("%s: values differ" % desc)
            if z.dtype.str != np.dtype(c["ts"]).str or z.order != c["order"] or tuple(z.chunks) != c["chunks"]:
                fail("%s: metadata %s %s %s" % (desc, z.dtype.str, z.order, z.chunks))
            want = None if c["codec"] is None else c["codec"].get_config()
            have = None if z.compressor is None else z.compressor.get_config()
            if want != have:
                fail("%s: compressor %s" % (desc, have))
            # zarr 2.13 miscounts nested ('/') arrays, its own included: count those files here
            if c["sep"] == "." or len(c["shape"]) == 1:
                have_chunks = z.nchunks_initialized
            else:
                have_chunks = count_nested_chunks(path)
            if have_chunks != nwritten:
                fail("%s: %d chunks initialized, expected %d" % (desc, have_chunks, nwritten))
            with open(os.path.join(path, ".zarray")) as f:
                text = f.read()
            if text != zarr.util.json_dumps(json.loads(text)).decode():
                fail("%s: .zarray is not written as zarr-python writes it" % desc)
        except Exception as e:  # noqa: BLE001
            fail("%s: zarr-python failed: %r" % (desc, e))
        shutil.rmtree(path)
        os.unlink(inp)


def defaults_and_attrs(tmp):
    """SCOUT's defaults, .zattrs both ways."""
    path = os.path.join(tmp, "defaults.zarr")
    data = random_data("<u2", (70, 5, 66))
    inp = os.path.join(tmp, "d.in")
    native(data).tofile(inp)
    r = run_batch(tmp, [["write", path, "<u2", "C", "/", "default", "-", "70,5,66", "0,0,0", inp, "boxes:3"],
                        ["setattrs", path, '{"voxel_size": [2.0, 0.65, 0.65], "name": "x"}']])
    if r != ["ok", "ok"]:
        fail("defaults: %s" % r)
        return
    z = zarr.open_array(path, mode="r")
    if z.compressor.get_config() != {"id": "blosc", "cname": "zstd", "clevel": 1, "shuffle": 2, "blocksize": 0}:
        fail("default compressor %s" % z.compressor.get_config())
    # 64 on every axis, not clipped to the shape (as SCOUT and zarr-python's chunks=(64, 64, 64))
    if tuple(z.chunks) != (64, 64, 64) or z.fill_value != 0 or z.order != "C":
        fail("default chunks/fill/order %s %s %s" % (z.chunks, z.fill_value, z.order))
    if not np.array_equal(z[...], data):
        fail("defaults: values differ")
    if dict(z.attrs) != {"voxel_size": [2.0, 0.65, 0.65], "name": "x"}:
        fail("attrs written by scout read by zarr-python: %s" % dict(z.attrs))
    z = zarr.open_array(path, mode="r+")
    z.attrs["k"] = [1, 2, {"a": None}]
    out = subprocess.run([TOOL, "attrs", path], capture_output=True, text=True)
    got = json.loads(out.stdout)
    if got != {"voxel_size": [2.0, 0.65, 0.65], "name": "x", "k": [1, 2, {"a": None}]}:
        fail("attrs written by zarr-python read by scout: %s" % out.stdout)


def main():
    tmp = tempfile.mkdtemp(prefix="scout_interop_")
    try:
        cs = cases()
        python_writes(tmp, cs)
        scout_writes(tmp, cs)
        defaults_and_attrs(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("zarr interop: %d cases python->scout, %d cases scout->python, %d failures"
          % (len(cs), len(cs), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
