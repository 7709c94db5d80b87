"""numcodecs filters in Zarr v2, both ways with zarr-python 2.13 / numcodecs 0.11.

For each filter (delta, fixedscaleoffset, quantize, astype, bitround, packbits,
shuffle) and three chains of two, x the dtypes it accepts x order C/F x two
chunk geometries (edge chunks; packbits with and without leftover bits):

  zarr-python writes, scout reads: scout's bytes (native, C order) equal what
  zarr-python reads back from its own array.
  scout writes (zarr_tool write ... FILTERS), zarr-python reads: equal to what
  zarr-python reads from the same data written by itself with the same
  filters (the filters may be lossy, so the reference is numpy's result
  through numcodecs, never scout's); the .zarray "filters" equal numcodecs'
  get_config(); with no compressor or zlib, every chunk file is byte-identical
  to zarr-python's.

Then the errors (an unknown filter, a filter dtype that is not the array's),
scout's default chunks (64 on every axis, not clipped, as zarr-python's
chunks=(64,64,64)), a complex fill value given as a scalar, and the CLI's
`convert --filters`.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numcodecs
import numpy as np
import zarr

BUILD = os.environ.get("SCOUT_BUILD_DIR", "build")
TOOL = os.path.join(BUILD, "tools", "zarr_tool")
SCOUT = os.path.join(BUILD, "scout")
rng = np.random.default_rng(20261130)
failures = []
counts = {}


def fail(msg):
    failures.append(msg)
    if len(failures) < 40:
        print("FAIL:", msg, file=sys.stderr)


def data_for(kind, dt, shape):
    dt = np.dtype(dt)
    n = int(np.prod(shape))
    if kind == "small_int":  # fits every integer type used with it
        a = rng.integers(-100, 101, n) if dt.kind == "i" else rng.integers(0, 201, n)
        return a.astype(dt).reshape(shape)
    if kind == "offset":  # fixedscaleoffset around 1000, in range of its astype
        return (1000 + rng.uniform(0, 25, n)).astype(dt).reshape(shape)
    if dt.kind == "b":
        a = rng.integers(0, 2, n).astype(bool)
    elif dt.kind in "iu":
        info = np.iinfo(dt)
        a = rng.integers(info.min, info.max, n, dtype=dt, endpoint=True)
    elif dt.kind == "f":
        a = (rng.standard_normal(n) * 1000).astype(dt)
        if kind == "special" and n > 3:
            a[0], a[1], a[2] = np.nan, np.inf, -np.inf
    else:
        a = (rng.standard_normal(n) + 1j * rng.standard_normal(n)).astype(dt)
    return a.reshape(shape)


INTS = ["|i1", "|u1", "<i2", "<u2", "<i4", "<u4", "<i8", "<u8"]
ALL = ["|b1"] + INTS + ["<f2", "<f4", "<f8", "<c8", "<c16"]


def filter_cases():
    """(name, dtype, [filters], data kind)."""
    out = []
    for dt in INTS + ["<f4", "<f8"]:
        out.append(("delta", dt, [numcodecs.Delta(dtype=dt)], "full"))
    out.append(("delta", "<i4", [numcodecs.Delta(dtype="<i4", astype="<i2")], "small_int"))
    for dt, astype, scale in [("<f4", "|u1", 10), ("<f8", "|u1", 10), ("<f8", "<u2", 100),
                              ("<f4", "<i4", 1000.0)]:
        out.append(("fixedscaleoffset", dt,
                    [numcodecs.FixedScaleOffset(offset=1000, scale=scale, dtype=dt, astype=astype)],
                    "offset"))
    # integer data: an integer offset makes numpy compute x - offset in the integer type (it
    # wraps for |i1 here, which scout does not follow: see filter_arith.c), a float offset in double
    for dt, off in [("<i2", -100), ("|i1", -100.0), ("<i8", -100)]:
        out.append(("fixedscaleoffset", dt,
                    [numcodecs.FixedScaleOffset(offset=off, scale=2.5, dtype=dt, astype="<u2")],
                    "small_int"))
    out.append(("fixedscaleoffset", "<u2",
                [numcodecs.FixedScaleOffset(offset=0.5, scale=0.7, dtype="<u2", astype="|u1")],
                "small_int"))
    for dt in ["<f4", "<f8"]:
        for digits in [1, 3]:
            out.append(("quantize", dt, [numcodecs.Quantize(digits=digits, dtype=dt)], "special"))
    out.append(("quantize", "<f8", [numcodecs.Quantize(digits=2, dtype="<f8", astype="<f4")], "full"))
    for dt, kb in [("<f2", 3), ("<f4", 7), ("<f4", 0), ("<f8", 20), ("<f8", 52)]:
        out.append(("bitround", dt, [numcodecs.BitRound(keepbits=kb)], "special"))
    for dec, enc, kind in [("<f8", "<f4", "full"), ("<i4", "<i2", "small_int"), ("|u1", "<f8", "full"),
                           ("<f4", "<i4", "full"), ("<i8", "<f8", "small_int"), ("<u2", "|u1", "full")]:
        out.append(("astype", dec, [numcodecs.AsType(encode_dtype=enc, decode_dtype=dec)], kind))
    out.append(("packbits", "|b1", [numcodecs.PackBits()], "full"))
    for dt in ALL:
        out.append(("shuffle", dt, [numcodecs.Shuffle(elementsize=np.dtype(dt).itemsize)], "full"))
    out.append(("shuffle", "<f8", [numcodecs.Shuffle(elementsize=4)], "full"))
    out.append(("shuffle", "<i4", [numcodecs.Shuffle(elementsize=1)], "full"))
    # chains of two: the element type travels down the chain
    out.append(("chain delta+shuffle", "<i4", [numcodecs.Delta(dtype="<i4"), numcodecs.Shuffle(elementsize=4)],
                "full"))
    out.append(("chain delta+shuffle", "<u2", [numcodecs.Delta(dtype="<u2"), numcodecs.Shuffle(elementsize=2)],
                "full"))
    out.append(("chain fixedscaleoffset+delta", "<f8",
                [numcodecs.FixedScaleOffset(offset=1000, scale=100, dtype="<f8", astype="<u2"),
                 numcodecs.Delta(dtype="<u2")], "offset"))
    out.append(("chain astype+bitround", "<f8",
                [numcodecs.AsType(encode_dtype="<f4", decode_dtype="<f8"), numcodecs.BitRound(keepbits=10)],
                "special"))
    out.append(("chain packbits+shuffle", "|b1", [numcodecs.PackBits(), numcodecs.Shuffle(elementsize=1)],
                "full"))
    return out


GEOMETRIES = [((13, 21, 5), (8, 16, 3)), ((23, 7), (5, 3))]  # 384 and 15 elements per chunk


def compressors():
    return [None, numcodecs.Zlib(level=1), numcodecs.Blosc(cname="lz4", clevel=5, shuffle=1)]


def native(a):
    a = np.asarray(a)
    return np.ascontiguousarray(a.astype(a.dtype.newbyteorder("=")))


def run_batch(tmp, lines):
    path = os.path.join(tmp, "batch.txt")
    with open(path, "w") as f:
        f.write("\n".join("\t".join(l) for l in lines) + "\n")
    out = subprocess.run([TOOL, "batch", path], capture_output=True, text=True, timeout=900)
    if out.returncode != 0:
        fail("zarr_tool batch exited with %d: %s" % (out.returncode, out.stderr[-2000:]))
        return [""] * len(lines)
    res = out.stdout.splitlines()
    res += [""] * (len(lines) - len(res))
    return res


def chunk_files(path):
    out = {}
    for root, _, files in os.walk(path):
        for f in files:
            if not f.startswith("."):
                p = os.path.join(root, f)
                with open(p, "rb") as fh:
                    out[os.path.relpath(p, path)] = fh.read()
    return out


def matrix(tmp):
    cases = []
    comps = compressors()
    i = 0
    for name, dt, filters, kind in filter_cases():
        for order in "CF":
            for shape, chunks in GEOMETRIES:
                if name == "shuffle" and filters[0].elementsize > 1 and \
                        (int(np.prod(chunks)) * np.dtype(dt).itemsize) % filters[0].elementsize:
                    continue  # numcodecs refuses such chunks too
                cases.append(dict(name=name, dt=dt, filters=filters, kind=kind, order=order, shape=shape,
                                  chunks=chunks, comp=comps[i % len(comps)], i=i))
                i += 1
    # zarr-python writes every case, scout reads it; scout writes every case too
    lines, checks = [], []
    for c in cases:
        data = data_for(c["kind"], c["dt"], c["shape"])
        c["data"] = data
        pyp = os.path.join(tmp, "py%d.zarr" % c["i"])
        # the fill value pads edge chunks; fixedscaleoffset's must encode in range (numpy's
        # cast of out-of-range floats to integers is undefined, scout's saturates)
        c["fill"] = 1000 if c["kind"] == "offset" else 0
        z = zarr.open_array(pyp, mode="w", shape=c["shape"], chunks=c["chunks"], dtype=c["dt"],
                            compressor=c["comp"], filters=c["filters"], order=c["order"],
                            dimension_separator="/", fill_value=c["fill"])
        z[...] = data
        c["py"] = pyp
        c["expect"] = native(zarr.open_array(pyp, mode="r")[...])
        out = os.path.join(tmp, "py%d.bin" % c["i"])
        lines.append(["read", pyp, out])
        checks.append(("read", c, out))
        inp = os.path.join(tmp, "sc%d.in" % c["i"])
        native(data).tofile(inp)
        scp = os.path.join(tmp, "sc%d.zarr" % c["i"])
        comp = "null" if c["comp"] is None else json.dumps(c["comp"].get_config())
        filt = json.dumps([f.get_config() for f in c["filters"]])
        lines.append(["write", scp, c["dt"], c["order"], "/", comp, str(c["fill"]),
                      ",".join(map(str, c["shape"])), ",".join(map(str, c["chunks"])), inp, "whole", filt])
        checks.append(("write", c, scp))
    res = run_batch(tmp, lines)
    for (what, c, path), r in zip(checks, res):
        desc = "%s %s %s order %s shape %s chunks %s compressor %s" % (
            c["name"], c["dt"], [f.get_config() for f in c["filters"]], c["order"], c["shape"], c["chunks"],
            None if c["comp"] is None else c["comp"].codec_id)
        key = c["name"]
        counts.setdefault(key, [0, 0, 0])
        if r != "ok":
            fail("%s %s: %s" % (what, desc, r))
            continue
        if what == "read":
            with open(path, "rb") as f:
                got = f.read()
            if got != c["expect"].tobytes():
                fail("python->scout %s: bytes differ" % desc)
            else:
                counts[key][0] += 1
            continue
        try:
            z = zarr.open_array(path, mode="r")
            got = native(z[...])
            if got.tobytes() != c["expect"].tobytes():
                fail("scout->python %s: values differ from zarr-python's own round trip" % desc)
                continue
            want = [f.get_config() for f in c["filters"]]
            have = [f.get_config() for f in (z.filters or [])]
            if want != have:
                fail("scout->python %s: filters %s" % (desc, have))
                continue
            with open(os.path.join(path, ".zarray")) as f:
                mine = json.load(f)
            with open(os.path.join(c["py"], ".zarray")) as f:
                theirs = json.load(f)
            if mine != theirs:
                fail("scout->python %s: .zarray %s differs from zarr-python's %s" % (desc, mine, theirs))
                continue
            counts[key][1] += 1
            if c["comp"] is None or c["comp"].codec_id == "zlib":
                a, b = chunk_files(path), chunk_files(c["py"])
                if a != b:
                    diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
                    fail("scout->python %s: chunk files differ from zarr-python's: %s" % (desc, diff[:5]))
                    continue
                counts[key][2] += 1
        except Exception as e:  # noqa: BLE001
            fail("scout->python %s: zarr-python failed: %r" % (desc, e))
    return len(cases)


def tool(args):
    return subprocess.run([TOOL] + args, capture_output=True, text=True, timeout=120)


def errors(tmp):
    n = 0
    inp = os.path.join(tmp, "e.in")
    np.zeros(8, "<i4").tofile(inp)
    for filt, needle in [
        ('[{"id": "base64"}]', 'filter "base64" is not supported'),
        ('[{"id": "delta", "dtype": "<i2"}]', "delta"),
        ('[{"id": "quantize", "digits": 2, "dtype": "<i4"}]', "quantize"),
        ('[{"id": "packbits"}]', "packbits"),
        ('[{"id": "delta", "dtype": "<i4", "bogus": 1}]', "bogus"),
        ('{"id": "delta"}', "filters"),
    ]:
        p = tool(["write", os.path.join(tmp, "e.zarr"), "<i4", "C", "/", "null", "0", "8", "4", inp, "whole",
                  filt])
        n += 1
        if p.returncode == 0 or needle not in p.stderr:
            fail("create with filters %s: exit %d, %r (expected an error naming %r)"
                 % (filt, p.returncode, p.stderr, needle))
    # reading: an unknown filter, and filters on a big-endian array, name themselves
    for name, filters, dt, needle in [("unknown", [numcodecs.Base64()], "<u2", 'filter "base64"'),
                                      ("bigendian", [numcodecs.Delta(dtype=">u2")], ">u2", "big-endian")]:
        path = os.path.join(tmp, name + ".zarr")
        z = zarr.open_array(path, mode="w", shape=(4,), chunks=(2,), dtype=dt, filters=filters)
        z[...] = np.arange(4)
        p = tool(["read", path, os.path.join(tmp, "x.bin")])
        n += 1
        if p.returncode == 0 or needle not in p.stderr or "filters" not in p.stderr:
            fail("read %s: exit %d, %r" % (name, p.returncode, p.stderr))
    return n


def defaults(tmp):
    """Default chunks as zarr-python's chunks=(64,64,64); complex fill value as a scalar."""
    n = 0
    shape = (40, 70, 90)
    data = rng.integers(0, 255, shape, dtype=np.uint8)
    inp = os.path.join(tmp, "d.in")
    data.tofile(inp)
    path = os.path.join(tmp, "d.zarr")
    r = tool(["write", path, "|u1", "C", "/", "null", "-", "40,70,90", "0,0,0", inp, "whole"])
    ref = zarr.open_array(os.path.join(tmp, "dref.zarr"), mode="w", shape=shape, chunks=(64, 64, 64),
                          dtype="|u1")
    n += 1
    if r.returncode != 0:
        fail("default chunks: %s" % r.stderr)
    else:
        z = zarr.open_array(path, mode="r")
        if z.chunks != ref.chunks or z.chunks != (64, 64, 64):
            fail("default chunks: %s, zarr-python's %s" % (z.chunks, ref.chunks))
        if not np.array_equal(z[...], data):
            fail("default chunks: values differ")
    for dt in ["<c8", "<c16"]:
        for fill, want in [("0", 0j), ("1.5", 1.5 + 0j), ('"NaN"', complex(np.nan, 0))]:
            path = os.path.join(tmp, "cfill.zarr")
            inp = os.path.join(tmp, "c.in")
            np.zeros(6, dt).tofile(inp)
            r = tool(["write", path, dt, "C", "/", "null", fill, "6", "4", inp, "sub:0:1"])
            n += 1
            if r.returncode != 0:
                fail("complex fill %s %s: %s" % (dt, fill, r.stderr))
                continue
            z = zarr.open_array(path, mode="r")
            fv = complex(z.fill_value)
            same = (np.isnan(fv.real) and np.isnan(want.real) or fv.real == want.real) and fv.imag == want.imag
            tail = z[4:]
            if not same or not np.array_equal(tail, np.full(2, want, dt), equal_nan=True):
                fail("complex fill %s %s: fill_value %r, absent chunk reads %r" % (dt, fill, z.fill_value, tail))
    return n


def cli(tmp):
    """scout convert --filters, and its default chunks."""
    n = 0
    src = os.path.join(tmp, "src.zarr")
    data = rng.integers(0, 4000, (20, 30, 40)).astype("<u2")
    zarr.open_array(src, mode="w", shape=data.shape, chunks=(16, 16, 16), dtype="<u2")[...] = data
    filters = [numcodecs.Delta(dtype="<u2"), numcodecs.Shuffle(elementsize=2)]
    out = os.path.join(tmp, "out.zarr")
    p = subprocess.run([SCOUT, "convert", src, out, "--no-progress", "--codec", "zlib:1", "--filters",
                        json.dumps([f.get_config() for f in filters])], capture_output=True, text=True)
    n += 1
    if p.returncode != 0:
        fail("convert --filters: %s" % p.stderr)
    else:
        z = zarr.open_array(out, mode="r")
        if [f.get_config() for f in z.filters or []] != [f.get_config() for f in filters]:
            fail("convert --filters: filters %s" % z.filters)
        if z.chunks != (64, 64, 64):
            fail("convert default chunks: %s, expected (64, 64, 64) as SCOUT" % (z.chunks,))
        if not np.array_equal(z[...], data):
            fail("convert --filters: values differ")
        ref = os.path.join(tmp, "ref.zarr")
        zarr.open_array(ref, mode="w", shape=data.shape, chunks=(64, 64, 64), dtype="<u2",
                        compressor=numcodecs.Zlib(level=1), filters=filters,
                        dimension_separator="/")[...] = data
        if chunk_files(out) != chunk_files(ref):
            fail("convert --filters: chunk files differ from zarr-python's")
    for args, needle in [(["--filters", '[{"id": "nope"}]'], 'filter "nope"'),
                         (["--filters", "[]", "--zarr-format", "3"], "--filters")]:
        p = subprocess.run([SCOUT, "convert", src, os.path.join(tmp, "bad.zarr"), "--no-progress"] + args,
                           capture_output=True, text=True)
        n += 1
        if p.returncode == 0 or needle not in p.stderr:
            fail("convert %s: exit %d, %r" % (args, p.returncode, p.stderr))
    return n


def main():
    tmp = tempfile.mkdtemp(prefix="scout_filters_")
    try:
        ncases = matrix(tmp)
        nerr = errors(tmp)
        ndef = defaults(tmp)
        ncli = cli(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for k in sorted(counts):
        print("%-30s python->scout %3d  scout->python %3d  chunk files identical %3d" % (k, *counts[k]))
    print("%d filter cases (each both ways), %d error cases, %d default/fill cases, %d CLI cases"
          % (ncases, nerr, ndef, ncli))
    if failures:
        print("%d failures" % len(failures))
        sys.exit(1)
    print("ok")


if __name__ == "__main__":
    main()
