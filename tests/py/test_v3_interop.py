"""Zarr v3 interop both ways with zarrita.js (the independent peer), numpy and zarr-python 2.

Direction A (peer writes, scout reads): zarrita.js writes v3 arrays (tests/js/
zarrita_write.mjs); the chains zarrita cannot encode (gzip, crc32c: it has no
encoder for them; blosc with a real shuffle: zarrita's blosc ignores the v3
string `shuffle` and stores memcpyed frames) are built here from the spec
(tests/py/v3_spec.py: numpy, Python's gzip, the crc32c module appended
little-endian, numcodecs' Blosc). Every array is read back with zarrita first
(the harness check: the spec-built bytes decode with the peer), then
`scout info --json` must describe it and `scout convert A OUT --codec none`
must give zarr-python 2 the expected values.

Direction B (scout writes, peer reads): zarr-python 2 writes numpy data as v2,
`scout convert IN OUT --zarr-format 3 --codec '<json list>'` (or a short SPEC)
writes v3, zarrita.js reads it back (one node process for every case) and the
values must equal numpy's. scout's zarr.json must be semantically equal to the
one zarrita writes for the same array, and scout's chunk files must equal the
peer's byte for byte where the chain is deterministic (bytes, transpose,
crc32c, zstd without checksum: zarrita's zstd is the reference; blosc and
crc32c chains: numcodecs / the spec), else decode to the same chunk.

Every core dtype zarrita supports on this Node: bool, int8..int64,
uint8..uint64, float32, float64. zarrita has no complex types and Node 20 no
Float16Array: float16, complex64 and complex128 are tested against the spec
builder/decoder only (test_spec_only_dtypes).
"""
import json
import os
import subprocess
import sys

import numpy as np
import zarr

sys.path.insert(0, os.path.dirname(__file__))
from cli_common import SCOUT, TempDir, check, main, run  # noqa: E402
import v3_spec as spec  # noqa: E402
import zarrita_peer  # noqa: E402

RNG = np.random.default_rng(20261130)

DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float32", "float64"]
SPEC_ONLY_DTYPES = ["float16", "complex64", "complex128"]

# (shape, chunks, absent chunk coordinates): shapes not multiples of the chunks,
# absent chunks inside and on the edge
GEOMS = [
    ((5, 7, 9), (2, 3, 4), [(1, 0, 1), (2, 2, 2)]),
    ((13, 6), (4, 4), [(3, 1), (0, 0)]),
    ((10,), (3,), [(1,), (3,)]),
    ((4, 8, 8), (4, 8, 8), []),
]
KEY_ENCODINGS = [
    {"name": "default", "configuration": {"separator": "/"}},
    {"name": "default", "configuration": {"separator": "."}},
    {"name": "v2", "configuration": {"separator": "."}},
    {"name": "v2", "configuration": {"separator": "/"}},
]


def fills(dtype):
    """v3 JSON fill values for `dtype`, picked in turn; a hex one also gives its number."""
    dt = spec.np_dtype(dtype)
    if dt.kind == "b":
        return [False, True]
    if dt.kind in "iu":
        big = 2 ** 53 if dt.itemsize == 8 else int(np.iinfo(dt).max)
        return [0, 7, big, -5 if dt.kind == "i" else 1]
    if dt.kind == "c":
        return [[0.0, 0.0], [1.5, "NaN"], ["Infinity", -2.0]]
    hx = {2: "0x3e00", 4: "0x3fc00000", 8: "0x4004000000000000"}[dt.itemsize]  # 1.5, 1.5, 2.5
    nan = {2: "0x7e00", 4: "0x7fc00000", 8: "0x7ff8000000000000"}[dt.itemsize]
    return [0.0, "NaN", "Infinity", "-Infinity", -1.5, hx, nan]


def rand(shape, dtype):
    dt = spec.np_dtype(dtype)
    if dt.kind == "b":
        return RNG.integers(0, 2, shape).astype(bool)
    if dt.kind == "c":
        return (RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)).astype(dt)
    if dt.kind == "f":
        a = (RNG.standard_normal(shape) * 1000).astype(dt)
        flat = a.reshape(-1)
        flat[: 4] = [np.inf, -np.inf, -0.0, np.nan][: flat.size]  # special values travel too
        return a
    info = np.iinfo(dt)
    return RNG.integers(info.min, info.max, shape, dtype=dt, endpoint=True)


def B(endian="little"):
    return {"name": "bytes", "configuration": {"endian": endian}}


def T(ndim):
    order = {1: [0], 2: [1, 0], 3: [2, 0, 1]}[ndim]
    return {"name": "transpose", "configuration": {"order": order}}


def ZSTD(level, checksum=False):
    return {"name": "zstd", "configuration": {"level": level, "checksum": checksum}}


def BLOSC(cname, shuffle, typesize, clevel=5):
    return {"name": "blosc", "configuration": {"cname": cname, "clevel": clevel, "shuffle": shuffle,
                                               "typesize": typesize, "blocksize": 0}}


GZIP = {"name": "gzip", "configuration": {"level": 5}}
CRC = {"name": "crc32c"}

# name -> (codecs(typesize, ndim), who writes it in direction A, how direction B's bytes compare)
# compare: "exact" (the peer's file byte for byte), "decoded" (same chunk after decoding)
CHAINS = {
    "raw": (lambda ts, nd: [B()], "zarrita", "exact"),
    "big": (lambda ts, nd: [B("big")], "zarrita", "exact"),
    "zstd": (lambda ts, nd: [B(), ZSTD(3)], "zarrita", "exact"),
    # zarrita ignores `checksum` when it writes (no checksum in its frames)
    "zstd_checksum": (lambda ts, nd: [B(), ZSTD(1, True)], "zarrita", "decoded"),
    "blosc_zarrita": (lambda ts, nd: [B(), BLOSC("lz4", "shuffle", ts)], "zarrita", None),
    "blosc_noshuffle": (lambda ts, nd: [B(), BLOSC("zstd", "noshuffle", ts)], "spec", "exact"),
    "blosc_shuffle": (lambda ts, nd: [B(), BLOSC("lz4", "shuffle", ts)], "spec", "exact"),
    "blosc_bitshuffle": (lambda ts, nd: [B(), BLOSC("zstd", "bitshuffle", ts, 1)], "spec", "exact"),
    "gzip": (lambda ts, nd: [B(), GZIP], "spec", "decoded"),
    "crc32c": (lambda ts, nd: [B(), CRC], "spec", "exact"),
    "transpose": (lambda ts, nd: [T(nd), B()], "zarrita", "exact"),
    "transpose_big_zstd": (lambda ts, nd: [T(nd), B("big"), ZSTD(5)], "zarrita", "exact"),
    "big_gzip_crc32c": (lambda ts, nd: [B("big"), GZIP, CRC], "spec", "decoded"),
    "transpose_blosc_crc32c": (lambda ts, nd: [T(nd), B(), BLOSC("lz4", "bitshuffle", ts), CRC], "spec", "exact"),
}
# direction B only: the short --codec forms -> the chain they mean
SHORT = {
    "none": lambda ts: [B()],
    "zstd:3": lambda ts: [B(), ZSTD(3)],
    "gzip:6": lambda ts: [B(), {"name": "gzip", "configuration": {"level": 6}}],
    "blosc:lz4:5:shuffle": lambda ts: [B(), BLOSC("lz4", "shuffle", ts)],
    "blosc:zstd:1:bitshuffle": lambda ts: [B(), BLOSC("zstd", "bitshuffle", ts, 1)],
}


def chain_for(chain_codecs, dtype):
    """The chain for `dtype`: bool gets `bytes` without a configuration (endian is optional
    for one-byte types) where the chain says big-endian: zarrita 0.7.5's bytes codec swaps
    bool elements in groups of 4 bytes (its BoolArray has no static BYTES_PER_ELEMENT), a
    peer bug that would make its bool arrays wrong. int8/uint8 keep "endian": "big"."""
    if dtype != "bool":
        return chain_codecs
    return [{"name": "bytes"} if c["name"] == "bytes" and c["configuration"]["endian"] == "big" else c
            for c in chain_codecs]


def norm_meta(m, dtype):
    """zarr.json without what the spec lets writers spell differently; returns (doc, fill)."""
    m = dict(m)
    m["codecs"] = spec.norm_codecs(m["codecs"], spec.np_dtype(dtype).itemsize)
    for k, empty in (("dimension_names", None), ("storage_transformers", []), ("attributes", {})):
        if m.get(k, empty) == empty:
            m.pop(k, None)
    return m, m.pop("fill_value")


def geom_case(i):
    return GEOMS[i % len(GEOMS)], KEY_ENCODINGS[(i // len(GEOMS)) % len(KEY_ENCODINGS)]


def dim_names(i, ndim):
    if i % 3 == 0:
        return None
    return ["z", None, "x"][-ndim:] if (i % 3 == 1 and ndim == 3) else ["z", "y", "x"][-ndim:]


def ske_args(ske):
    return ["--chunk-key-encoding", ske["name"], "--separator", ske["configuration"]["separator"]]


def read_v2(path):
    z = zarr.open(path, mode="r")
    return z[...]


def expected_with_fill(data, chunks, absent, fill):
    e = data.copy()
    for a in absent:
        e[spec.chunk_region(a, data.shape, chunks)] = fill
    return e


# ---------------------------------------------------------------- direction A

def build_peer_arrays(d):
    """Write the direction-A arrays: zarrita (one node process) or the spec builder.
    Returns the case list, each with its expected array."""
    cases, js_cases = [], []
    i = 0
    for dtype in DTYPES:
        itemsize = spec.np_dtype(dtype).itemsize
        for chain, (mk, writer, _) in CHAINS.items():
            (shape, chunks, absent), ske = geom_case(i)
            codecs = chain_for(mk(itemsize, len(shape)), dtype)
            fl = fills(dtype)
            fv = fl[i % len(fl)]
            data = rand(shape, dtype)
            path = os.path.join(d, "a%03d_%s_%s.zarr" % (i, dtype, chain))
            c = dict(name="%s/%s/%s/%s%s" % (dtype, chain, "x".join(map(str, shape)), ske["name"],
                                           ske["configuration"]["separator"]),
                     path=path, dtype=dtype, shape=list(shape), chunks=list(chunks), codecs=codecs, ske=ske,
                     fill=fv, absent=absent, writer=writer, dimension_names=dim_names(i, len(shape)),
                     attributes={"case": i, "chain": chain})
            c["expected"] = expected_with_fill(data, chunks, absent, spec.fill_scalar(fv, dtype))
            if writer == "spec":
                got = spec.write_array(path, data, chunks, codecs, ske, fv, absent, c["attributes"],
                                       c["dimension_names"])
                check(spec.same_values(got, c["expected"]), "spec builder expected %s" % c["name"])
            else:
                raw = path + ".in"
                data.astype(data.dtype.newbyteorder("<")).tofile(raw)
                jc = dict(kind="array", dir=path, dtype=dtype, shape=list(shape), chunks=list(chunks),
                          codecs=codecs, chunk_key_encoding=ske, fill_value=fv, absent=[list(a) for a in absent],
                          input=raw, expected=path + ".expected", attributes=c["attributes"],
                          dimension_names=c["dimension_names"])
                if isinstance(fv, str) and fv.startswith("0x"):
                    num = spec.fill_scalar(fv, dtype)
                    jc["fill_value"] = "NaN" if np.isnan(num) else float(num)
                    jc["fill_value_hex"] = fv
                js_cases.append(jc)
            cases.append(c)
            i += 1
    results = zarrita_peer.write(js_cases, d)
    for c in cases:
        if c["writer"] != "zarrita":
            continue
        r = results[c["path"]]
        check(r["ok"], "zarrita could not write %s: %s" % (c["name"], r.get("error")))
        # the writer's own expected data equals numpy's
        got = np.fromfile(c["path"] + ".expected", dtype=spec.np_dtype(c["dtype"]).newbyteorder("<"))
        got = got.reshape(c["shape"]).astype(spec.np_dtype(c["dtype"]))
        check(spec.same_values(got, c["expected"]), "zarrita writer's expected data of %s" % c["name"])
    return cases


_A = {}


def peer_cases():
    if "cases" not in _A:
        from tempfile import mkdtemp
        _A["dir"] = mkdtemp(prefix="scout-v3-interop-")
        _A["cases"] = build_peer_arrays(_A["dir"])
    return _A["cases"]


def read_with_zarrita(paths, d):
    res = zarrita_peer.read([dict(dir=p, out=p + ".zarrita.raw") for p in paths], d)
    out = {}
    for p in paths:
        r = res[p]
        if not r["ok"]:
            out[p] = (None, r["error"])
            continue
        dt = spec.np_dtype(r["dtype"])
        a = np.fromfile(p + ".zarrita.raw", dtype="u1" if dt == bool else dt.newbyteorder("<"))
        out[p] = (a.astype(dt).reshape(r["shape"]), r)
    return out


def test_peer_harness():
    """Every direction-A array (zarrita's and the spec-built ones) reads back with zarrita
    as the expected data: the writer, the spec builder and the reader agree."""
    cases = peer_cases()
    got = read_with_zarrita([c["path"] for c in cases], _A["dir"])
    bad = []
    for c in cases:
        a, r = got[c["path"]]
        e = c["expected"]
        if a is not None and isinstance(c["fill"], str) and c["fill"].startswith("0x"):
            # zarrita does not parse hex fill values (it fills absent chunks with Number("0x..")):
            # compare the stored chunks only
            for ab in c["absent"]:
                a[spec.chunk_region(ab, a.shape, c["chunks"])] = e[spec.chunk_region(ab, a.shape, c["chunks"])]
        if a is None or not spec.same_values(a, e):
            bad.append("%s: %s" % (c["name"], r if a is None else "values differ"))
    n_spec = sum(c["writer"] == "spec" for c in cases)
    print("  peer harness: %d arrays (%d by zarrita, %d spec-built), %d read back by zarrita as expected"
          % (len(cases), len(cases) - n_spec, n_spec, len(cases) - len(bad)))
    check(not bad, "zarrita read-back failures:\n" + "\n".join(bad))


def test_zarrita_to_scout():
    """scout info --json describes each peer array; scout convert to v2 gives zarr-python
    the expected values."""
    cases = peer_cases()
    bad = []
    for c in cases:
        try:
            info = json.loads(run(["info", "--json", c["path"]]).stdout)
            nchunks = len(spec.chunk_grid(c["shape"], c["chunks"]))
            want = {"kind": "zarr", "zarr_format": 3, "shape": c["shape"], "chunks": c["chunks"],
                    "dtype_name": c["dtype"], "nchunks": nchunks, "stored_chunks": nchunks - len(c["absent"]),
                    "chunk_key_encoding": c["ske"], "dimension_names": c["dimension_names"],
                    "attributes": c["attributes"]}
            for k, v in want.items():
                check(info.get(k) == v, "info %s: %r, expected %r" % (k, info.get(k), v))
            itemsize = spec.np_dtype(c["dtype"]).itemsize
            check(spec.norm_codecs(info["codecs"], itemsize) == spec.norm_codecs(c["codecs"], itemsize),
                  "info codecs %s, expected %s" % (info["codecs"], c["codecs"]))
            check(np.dtype(info["dtype"]).newbyteorder("=") == spec.np_dtype(c["dtype"]),
                  "info dtype %s" % info["dtype"])
            check(spec.same_fill(info["fill_value"], c["fill"], c["dtype"]),
                  "info fill_value %r, expected %r" % (info["fill_value"], c["fill"]))
            out = c["path"] + ".v2"
            run(["convert", "-j", "1", "--no-progress", c["path"], out, "--codec", "none"])
            with open(os.path.join(out, ".zarray")) as f:
                check(json.load(f)["zarr_format"] == 2, "convert output is not v2")
            b = read_v2(out)
            check(spec.same_values(b, c["expected"]), "values differ after scout convert to v2")
        except AssertionError as e:
            bad.append("%s (%s): %s" % (c["name"], c["path"], str(e).splitlines()[0:6]))
        except Exception as e:  # e.g. a fill_value the spec does not allow
            bad.append("%s (%s): %r" % (c["name"], c["path"], e))
    print("  zarrita -> scout: %d cases, %d pass (%d dtypes x %d chains; %d by zarrita, %d spec-built)"
          % (len(cases), len(cases) - len(bad), len(DTYPES), len(CHAINS),
             sum(c["writer"] == "zarrita" for c in cases), sum(c["writer"] == "spec" for c in cases)))
    check(not bad, "%d failures:\n%s" % (len(bad), "\n".join(bad)))


# ---------------------------------------------------------------- direction B

def scout_cases():
    """(name, dtype, shape, chunks, ske, codec arg, chain codecs, compare, fill, absent)"""
    out = []
    i = 0
    for dtype in DTYPES:
        itemsize = spec.np_dtype(dtype).itemsize
        for chain, (mk, _, compare) in CHAINS.items():
            if chain == "blosc_zarrita":
                continue
            (shape, chunks, absent), ske = geom_case(i + 1)
            codecs = chain_for(mk(itemsize, len(shape)), dtype)
            out.append((chain, dtype, shape, chunks, ske, json.dumps(codecs), codecs, compare, i))
            i += 1
        for short, mk in SHORT.items():
            (shape, chunks, absent), ske = geom_case(i + 1)
            compare = "decoded" if short.startswith("gzip") else "exact"
            out.append(("short " + short, dtype, shape, chunks, ske, short, mk(itemsize), compare, i))
            i += 1
    return out


def peer_reference(path, data, chunks, codecs, ske, fv, absent, js_cases):
    """The reference for scout's bytes: zarrita's when it encodes the chain exactly, else the spec's."""
    names = [c["name"] for c in codecs]
    if ("gzip" in names or "crc32c" in names or "blosc" in names
            or any(c["name"] == "zstd" and c["configuration"].get("checksum") for c in codecs)):
        spec.write_array(path, data, chunks, codecs, ske, fv if not (isinstance(fv, str) and fv.startswith("0x"))
                         else fv, absent)
        return "spec"
    dtype = "bool" if data.dtype == bool else data.dtype.name
    raw = path + ".in"
    data.astype(data.dtype.newbyteorder("<")).tofile(raw)
    js_cases.append(dict(kind="array", dir=path, dtype=dtype, shape=list(data.shape), chunks=list(chunks),
                         codecs=codecs, chunk_key_encoding=ske, fill_value=fv, absent=[list(a) for a in absent],
                         input=raw, expected=path + ".expected"))
    return "zarrita"


def chunk_files(path):
    out = {}
    for root, _, files in os.walk(path):
        for f in files:
            rel = os.path.relpath(os.path.join(root, f), path)
            if rel != "zarr.json" and not rel.startswith(".") and "/." not in rel:
                out[rel] = os.path.join(root, f)
    return out


def zstd_has_checksum(frame):
    """The Content_Checksum_flag of a zstd frame header (RFC 8878 3.1.1.1.1)."""
    return frame[:4] == b"\x28\xb5\x2f\xfd" and bool(frame[4] & 0x04)


def test_scout_to_zarrita():
    """scout convert --zarr-format 3 from zarr-python v2 arrays; zarrita reads every output
    as numpy's data; zarr.json and the chunk files equal the peer's."""
    cases = scout_cases()
    with TempDir() as d:
        runs, js_ref = [], []
        for (chain, dtype, shape, chunks, ske, codec_arg, codecs, compare, i) in cases:
            # scout convert writes fill_value 0 whatever the source's (as for v2 outputs): the
            # sources have fill 0 so that zarr.json can equal the peer's; the other fill values
            # scout writes are tested through the C API (test_scout_api_fill_and_absent)
            fv = False if dtype == "bool" else 0
            fill = spec.fill_scalar(fv, dtype)
            absent = GEOMS[(i + 1) % len(GEOMS)][2]
            data = expected_with_fill(rand(shape, dtype), chunks, absent, fill)
            src = os.path.join(d, "b%03d.v2.zarr" % i)
            z = zarr.open(src, mode="w", shape=shape, chunks=chunks, dtype=data.dtype, fill_value=fill,
                          compressor=None, write_empty_chunks=False)
            z[...] = data
            out = os.path.join(d, "b%03d_%s_%s.zarr" % (i, dtype, chain.replace(" ", "_").replace(":", "-")))
            name = "%s/%s/%s/%s%s" % (dtype, chain, "x".join(map(str, shape)), ske["name"],
                                      ske["configuration"]["separator"])
            p = run(["convert", "-j", "1", "--no-progress", src, out, "--zarr-format", "3", "--codec", codec_arg,
                     "--chunks", ",".join(map(str, chunks))] + ske_args(ske), rc=None)
            ref = out + ".peer"
            who = peer_reference(ref, data, chunks, codecs, ske, fv, absent, js_ref)
            runs.append(dict(name=name, out=out, ref=ref, who=who, data=data, dtype=dtype, fv=fv, codecs=codecs,
                             compare=compare, chunks=chunks, rc=p.returncode, stderr=p.stderr, ske=ske))
        res = zarrita_peer.write(js_ref, d)
        for r in js_ref:
            check(res[r["dir"]]["ok"], "zarrita reference %s: %s" % (r["dir"], res[r["dir"]].get("error")))
        got = read_with_zarrita([r["out"] for r in runs if r["rc"] == 0], d)
        bad = []
        n_exact = n_decoded = 0
        for r in runs:
            try:
                check(r["rc"] == 0, "scout convert exit %d: %s" % (r["rc"], r["stderr"].strip()))
                a, meta = got[r["out"]]
                check(a is not None, "zarrita cannot read scout's output: %s" % (meta,))
                check(spec.same_values(a, r["data"]), "zarrita reads other values than numpy's")
                with open(os.path.join(r["out"], "zarr.json")) as f:
                    text = f.read()
                check(text.startswith('{\n  "'), "zarr.json is not indented by 2 spaces as zarr-python 3 writes it")
                mine = json.loads(text)
                with open(os.path.join(r["ref"], "zarr.json")) as f:
                    theirs = json.load(f)
                m1, f1 = norm_meta(mine, r["dtype"])
                m2, f2 = norm_meta(theirs, r["dtype"])
                check(m1 == m2, "zarr.json differs from the peer's:\n%s\n%s" % (m1, m2))
                check(spec.same_fill(f1, f2, r["dtype"]), "fill_value %r, peer %r" % (f1, f2))
                # chunk files
                mf, tf = chunk_files(r["out"]), chunk_files(r["ref"])
                check(set(tf) <= set(mf) or all(k in mf for k in tf),
                      "chunks missing from scout's output: %s" % sorted(set(tf) - set(mf)))
                for k, path in sorted(mf.items()):
                    mine_b = open(path, "rb").read()
                    dec = spec.decode_chunk(mine_b, r["codecs"], r["dtype"], r["chunks"])
                    if k not in tf:  # scout stored a chunk the reference left out: all fill
                        check(np.all(spec.same_values(dec, np.full(dec.shape, spec.fill_scalar(r["fv"], r["dtype"]),
                                                                   dtype=dec.dtype))),
                              "chunk %s stored by scout only and not all fill" % k)
                        continue
                    theirs_b = open(tf[k], "rb").read()
                    if r["compare"] == "exact":
                        n_exact += 1
                        check(mine_b == theirs_b, "chunk %s: %d bytes differ from the %s's %d bytes"
                              % (k, len(mine_b), r["who"], len(theirs_b)))
                    else:
                        n_decoded += 1
                        ref = spec.decode_chunk(theirs_b, r["codecs"], r["dtype"], r["chunks"])
                        check(spec.same_values(dec, ref), "chunk %s decodes to other values" % k)
                    if any(c["name"] == "zstd" and c["configuration"].get("checksum") for c in r["codecs"]):
                        check(zstd_has_checksum(mine_b), "chunk %s: zstd frame without the checksum asked for" % k)
            except AssertionError as e:
                bad.append("%s (%s): %s" % (r["name"], r["out"], str(e)[:600]))
            except Exception as e:  # a decode error of scout's bytes
                bad.append("%s (%s): %r" % (r["name"], r["out"], e))
        print("  scout -> zarrita: %d cases, %d pass (%d dtypes x %d chains + %d short --codec forms); "
              "%d chunk files byte-equal checked, %d decode-equal"
              % (len(runs), len(runs) - len(bad), len(DTYPES), len(CHAINS) - 1, len(SHORT), n_exact, n_decoded))
        check(not bad, "%d failures:\n%s" % (len(bad), "\n".join(bad)))


# ---------------------------------------------------------------- float16, complex

def test_spec_only_dtypes():
    """float16, complex64, complex128 (no zarrita support): spec-built arrays read by scout,
    scout's v3 output read by the spec decoder and byte-equal to the spec builder's."""
    chains = ["raw", "big", "transpose", "crc32c", "gzip", "big_gzip_crc32c", "blosc_shuffle"]
    n = 0
    bad = []
    with TempDir() as d:
        i = 0
        for dtype in SPEC_ONLY_DTYPES:
            itemsize = spec.np_dtype(dtype).itemsize
            for chain in chains:
                mk, _, compare = CHAINS[chain]
                (shape, chunks, absent), ske = geom_case(i)
                codecs = mk(itemsize, len(shape))
                fl = fills(dtype)
                fv = fl[i % len(fl)]
                name = "%s/%s/%s/%s%s" % (dtype, chain, "x".join(map(str, shape)), ske["name"],
                                          ske["configuration"]["separator"])
                i += 1
                n += 1
                try:
                    data = rand(shape, dtype)
                    a = os.path.join(d, "s%03d.zarr" % i)
                    expected = spec.write_array(a, data, chunks, codecs, ske, fv, absent)
                    info = json.loads(run(["info", "--json", a]).stdout)
                    check(info["dtype_name"] == dtype and info["shape"] == list(shape), "info %s" % info)
                    check(spec.same_fill(info["fill_value"], fv, dtype), "info fill %r" % (info["fill_value"],))
                    run(["convert", "-j", "1", "--no-progress", a, a + ".v2", "--codec", "none"])
                    check(spec.same_values(read_v2(a + ".v2"), expected), "scout -> v2 values")
                    # scout writes: from a v2 array, to the chain
                    src = os.path.join(d, "s%03d.v2src.zarr" % i)
                    fv = [0.0, 0.0] if dtype.startswith("complex") else 0.0  # as convert writes it
                    fill = spec.fill_scalar(fv, dtype)
                    z = zarr.open(src, mode="w", shape=shape, chunks=chunks, dtype=dtype, fill_value=fill,
                                  compressor=None)
                    z[...] = data
                    out = os.path.join(d, "s%03d.v3.zarr" % i)
                    run(["convert", "-j", "1", "--no-progress", src, out, "--zarr-format", "3",
                         "--codec", json.dumps(codecs), "--chunks", ",".join(map(str, chunks))] + ske_args(ske))
                    check(spec.same_values(spec.read_array(out), data), "spec decoder reads other values")
                    with open(os.path.join(out, "zarr.json")) as f:
                        m = json.load(f)
                    check(m["data_type"] == dtype and spec.same_fill(m["fill_value"], fv, dtype),
                          "zarr.json data_type %r fill_value %r" % (m["data_type"], m["fill_value"]))
                    ref = out + ".ref"
                    spec.write_array(ref, data, chunks, codecs, ske, fv)
                    mf, tf = chunk_files(out), chunk_files(ref)
                    check(set(mf) == set(tf), "chunk keys %s, expected %s" % (sorted(mf), sorted(tf)))
                    for k in tf:
                        mb, tb = open(mf[k], "rb").read(), open(tf[k], "rb").read()
                        if compare == "exact":
                            check(mb == tb, "chunk %s differs from the spec builder's" % k)
                        else:
                            check(spec.same_values(spec.decode_chunk(mb, codecs, dtype, chunks),
                                                   spec.decode_chunk(tb, codecs, dtype, chunks)), "chunk %s" % k)
                except AssertionError as e:
                    bad.append("%s: %s" % (name, str(e)[:600]))
                except Exception as e:
                    bad.append("%s: %r" % (name, e))
    print("  spec-only dtypes: %d cases both ways, %d pass" % (n, n - len(bad)))
    check(not bad, "%d failures:\n%s" % (len(bad), "\n".join(bad)))


# ---------------------------------------------------------------- fill values and absent chunks

API_CHAINS = ["raw", "big", "zstd", "transpose", "crc32c"]


def test_scout_api_fill_and_absent():
    """Arrays scout creates through its C API (tests/tools/zarr_v3_write) with every fill value
    (numbers, NaN, Infinity, -Infinity, hex, [re, im]) and absent chunks: zarrita (the spec
    decoder for float16/complex) reads numpy's values with the fill in the absent chunks;
    zarr.json and every chunk file equal the peer's written with the same absent chunks."""
    tool = os.path.join(os.path.dirname(SCOUT), "tools", "zarr_v3_write")
    cases, lines, js_ref = [], [], []
    with TempDir() as d:
        i = 0
        for dtype in DTYPES + SPEC_ONLY_DTYPES:
            for fv in fills(dtype):
                chain = API_CHAINS[i % len(API_CHAINS)]
                (shape, chunks, absent), ske = GEOMS[i % 3], KEY_ENCODINGS[i % len(KEY_ENCODINGS)]
                codecs = chain_for(CHAINS[chain][0](spec.np_dtype(dtype).itemsize, len(shape)), dtype)
                data = rand(shape, dtype)
                out = os.path.join(d, "f%03d_%s.zarr" % (i, dtype))
                data.tofile(out + ".in")
                lines.append("\t".join([out, spec.np_dtype(dtype).str, ",".join(map(str, shape)),
                                        ",".join(map(str, chunks)), json.dumps(fv), json.dumps(codecs), ske["name"],
                                        ske["configuration"]["separator"], out + ".in",
                                        ";".join(",".join(map(str, a)) for a in absent) or "-"]))
                ref = out + ".peer"
                if dtype in SPEC_ONLY_DTYPES or chain == "crc32c":
                    spec.write_array(ref, data, chunks, codecs, ske, fv, absent)
                    who = "spec"
                else:
                    data.astype(data.dtype.newbyteorder("<")).tofile(ref + ".in")
                    jc = dict(kind="array", dir=ref, dtype=dtype, shape=list(shape), chunks=list(chunks),
                              codecs=codecs, chunk_key_encoding=ske, fill_value=fv, absent=[list(a) for a in absent],
                              input=ref + ".in", expected=ref + ".expected")
                    if isinstance(fv, str) and fv.startswith("0x"):
                        num = spec.fill_scalar(fv, dtype)
                        jc["fill_value"] = "NaN" if np.isnan(num) else float(num)
                        jc["fill_value_hex"] = fv
                    js_ref.append(jc)
                    who = "zarrita"
                cases.append(dict(name="%s/fill %s/%s/%s/%s%s" % (dtype, json.dumps(fv), chain,
                                                                 "x".join(map(str, shape)),
                                                                 ske["name"], ske["configuration"]["separator"]),
                                  out=out, ref=ref, who=who, dtype=dtype, fv=fv, codecs=codecs, chunks=chunks,
                                  absent=absent,
                                  expected=expected_with_fill(data, chunks, absent, spec.fill_scalar(fv, dtype))))
                i += 1
        batch = os.path.join(d, "batch.tsv")
        with open(batch, "w") as f:
            f.write("\n".join(lines) + "\n")
        p = subprocess.run([tool, batch], capture_output=True, text=True, timeout=300)
        status = p.stdout.splitlines()
        check(len(status) == len(cases),
              "zarr_v3_write: %d results for %d arrays\n%s" % (len(status), len(cases), p.stderr))
        res = zarrita_peer.write(js_ref, d)
        for r in js_ref:
            check(res[r["dir"]]["ok"], "zarrita reference %s: %s" % (r["dir"], res[r["dir"]].get("error")))
        got = read_with_zarrita([c["out"] for c, st in zip(cases, status)
                                 if st == "ok" and c["dtype"] not in SPEC_ONLY_DTYPES], d)
        bad = []
        for c, st in zip(cases, status):
            try:
                check(st == "ok", "scout could not create it: %s" % st)
                if c["dtype"] in SPEC_ONLY_DTYPES:
                    a = spec.read_array(c["out"])
                else:
                    a, meta = got[c["out"]]
                    check(a is not None, "zarrita cannot read it: %s" % (meta,))
                    if isinstance(c["fv"], str) and c["fv"].startswith("0x"):
                        # zarrita does not parse hex fill values: the absent chunks by the spec decoder
                        a = spec.read_array(c["out"])
                check(spec.same_values(a, c["expected"]), "values differ from numpy's")
                with open(os.path.join(c["out"], "zarr.json")) as f:
                    m1, f1 = norm_meta(json.load(f), c["dtype"])
                with open(os.path.join(c["ref"], "zarr.json")) as f:
                    m2, f2 = norm_meta(json.load(f), c["dtype"])
                check(m1 == m2, "zarr.json differs from the peer's:\n%s\n%s" % (m1, m2))
                check(spec.same_fill(f1, c["fv"], c["dtype"]), "fill_value %r, expected %r" % (f1, c["fv"]))
                mf, tf = chunk_files(c["out"]), chunk_files(c["ref"])
                check(set(mf) == set(tf), "chunk keys %s, the %s's %s" % (sorted(mf), c["who"], sorted(tf)))
                for k in tf:
                    check(open(mf[k], "rb").read() == open(tf[k], "rb").read(),
                          "chunk %s differs from the %s's" % (k, c["who"]))
            except AssertionError as e:
                bad.append("%s (%s): %s" % (c["name"], c["out"], str(e)[:600]))
            except Exception as e:
                bad.append("%s (%s): %r" % (c["name"], c["out"], e))
        print("  scout C API fill values and absent chunks: %d cases, %d pass" % (len(cases), len(cases) - len(bad)))
        check(not bad, "%d failures:\n%s" % (len(bad), "\n".join(bad)))


if __name__ == "__main__":
    try:
        tests = [test_peer_harness, test_zarrita_to_scout, test_scout_to_zarrita, test_spec_only_dtypes,
                 test_scout_api_fill_and_absent]
        main(tests)
    finally:
        if "dir" in _A:
            import shutil
            shutil.rmtree(_A["dir"], ignore_errors=True)
