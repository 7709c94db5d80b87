"""Zarr v3 facts from the spec, built in Python for the v3 tests (no scout code).

zarrita.js cannot encode gzip, zlib or crc32c (and on Node 20 has no float16
or complex types), so the tests build those arrays here from the v3 core spec:
zarr.json as the spec lays it out, chunk keys from the chunk key encoding, and
chunk bytes through the codec chain with independent encoders: numpy for
`transpose` and `bytes`, Python's gzip module, the `crc32c` module (Debian's
python3-crc32c) appended little-endian, numcodecs' Blosc and Zstd.
"""
import gzip
import json
import os
import struct
import subprocess

import crc32c as _crc32c
import numcodecs
import numpy as np

SHUFFLES = {"noshuffle": 0, "shuffle": 1, "bitshuffle": 2}


def np_dtype(name):
    """The numpy dtype of a v3 data_type name (native byte order)."""
    return np.dtype("bool" if name == "bool" else name)


def chunk_key(coords, ske):
    """The store key of chunk `coords` under the chunk_key_encoding object `ske`."""
    sep = ske.get("configuration", {}).get("separator", "/" if ske["name"] == "default" else ".")
    if ske["name"] == "default":
        return sep.join(["c"] + [str(c) for c in coords])
    return sep.join(str(c) for c in coords) or "0"


def fill_scalar(fv, dtype):
    """The numpy scalar of a v3 JSON fill value for data_type `dtype`."""
    dt = np_dtype(dtype)
    if dt.kind == "c":
        re, im = (fill_scalar(v, "float%d" % (dt.itemsize * 4)) for v in fv)
        return dt.type(complex(re, im))
    if isinstance(fv, str) and fv.startswith("0x"):
        bits = int(fv, 16).to_bytes(dt.itemsize, "big")
        return np.frombuffer(bits, dtype=dt.newbyteorder(">"))[0].astype(dt)
    if isinstance(fv, str):
        return dt.type({"NaN": np.nan, "Infinity": np.inf, "-Infinity": -np.inf}[fv])
    return dt.type(fv)


def same_fill(a, b, dtype):
    """Whether two v3 JSON fill values denote the same value ("NaN" == "0x7fc00000")."""
    x, y = fill_scalar(a, dtype), fill_scalar(b, dtype)
    return same_values(np.array([x]), np.array([y]))


def same_values(a, b):
    """Equal shape and dtype kind, element for element; NaN equals NaN, -0.0 differs from 0.0."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype.newbyteorder("=") != b.dtype.newbyteorder("="):
        return False
    if a.dtype.kind in "fc":
        na, nb = np.isnan(a), np.isnan(b)
        if not np.array_equal(na, nb):
            return False
        ua = np.ascontiguousarray(a.astype(a.dtype.newbyteorder("<"))).view("u1").reshape(a.shape + (-1,))
        ub = np.ascontiguousarray(b.astype(b.dtype.newbyteorder("<"))).view("u1").reshape(b.shape + (-1,))
        return bool(np.all((ua == ub).all(axis=-1) | na))
    return bool(np.array_equal(a, b))


def norm_codecs(codecs, itemsize):
    """A codec list with the spec's defaults made explicit, for semantic comparison."""
    out = []
    for c in codecs:
        name, cfg = c["name"], dict(c.get("configuration") or {})
        if name == "bytes":
            if itemsize == 1:
                cfg.pop("endian", None)  # optional for one-byte types
            else:
                cfg.setdefault("endian", "little")
        elif name == "zstd":
            cfg.setdefault("checksum", False)
        elif name == "blosc":
            cfg.setdefault("blocksize", 0)
        out.append({"name": name, "configuration": cfg} if cfg else {"name": name})
    return out


def chunk_grid(shape, chunks):
    """Every chunk coordinate tuple, C order."""
    n = [-(-s // c) for s, c in zip(shape, chunks)]
    return [tuple(int(v) for v in ix) for ix in np.ndindex(*n)]


def chunk_region(coords, shape, chunks):
    return tuple(slice(c * k, min((c + 1) * k, s)) for c, k, s in zip(coords, chunks, shape))


def encode_chunk(chunk, codecs, dtype):
    """The stored bytes of one whole (padded) chunk through a v3 codec list, from the spec."""
    x = chunk
    for c in codecs:
        name, cfg = c["name"], c.get("configuration", {})
        if name == "transpose":
            x = np.ascontiguousarray(x.transpose(cfg["order"]))
        elif name == "bytes":
            order = ">" if cfg.get("endian", "little") == "big" else "<"
            x = x.astype("u1") if dtype == "bool" else x.astype(x.dtype.newbyteorder(order))
            x = np.ascontiguousarray(x).tobytes()
        elif name == "gzip":
            x = gzip.compress(x, compresslevel=cfg["level"], mtime=0)
        elif name == "crc32c":
            x = x + struct.pack("<I", _crc32c.crc32c(x))
        elif name == "blosc":
            ts = cfg["typesize"]
            buf = np.frombuffer(x, dtype="V%d" % ts if ts not in (1, 2, 4, 8) else "u%d" % ts)
            x = numcodecs.Blosc(cfg["cname"], cfg["clevel"], SHUFFLES[cfg["shuffle"]],
                                cfg.get("blocksize", 0)).encode(buf)
        elif name == "zstd":
            if cfg.get("checksum"):  # numcodecs 0.11's Zstd has no checksum option: Debian's zstd tool
                x = subprocess.run(["zstd", "-q", "-c", "--check", "--stream-size=%d" % len(x),
                                    "-%d" % cfg["level"]], input=bytes(x),
                                   capture_output=True, check=True).stdout
            else:
                x = numcodecs.Zstd(cfg["level"]).encode(x)
        else:
            raise ValueError("no spec encoder for codec %s" % name)
    return bytes(x)


def decode_chunk(data, codecs, dtype, chunks):
    """The chunk array of stored bytes through a v3 codec list (reverse order), from the spec.
    crc32c is verified."""
    x = data
    a2a = [c for c in codecs if c["name"] == "transpose"]
    a2b = [c for c in codecs if c["name"] == "bytes"][0]
    b2b = [c for c in codecs if c["name"] not in ("transpose", "bytes")]
    for c in reversed(b2b):
        name = c["name"]
        if name == "crc32c":
            body, tail = x[:-4], x[-4:]
            if struct.unpack("<I", tail)[0] != _crc32c.crc32c(body):
                raise ValueError("crc32c mismatch")
            x = body
        elif name == "gzip":
            x = gzip.decompress(x)
        elif name in ("blosc", "zstd"):
            x = bytes(getattr(numcodecs, name.capitalize())().decode(x))
        else:
            raise ValueError("no spec decoder for codec %s" % name)
    shp = list(chunks)
    for c in a2a:
        shp = [shp[i] for i in c["configuration"]["order"]]
    order = ">" if a2b.get("configuration", {}).get("endian", "little") == "big" else "<"
    if dtype == "bool":
        arr = np.frombuffer(x, dtype="u1").astype(bool)
    else:
        arr = np.frombuffer(x, dtype=np_dtype(dtype).newbyteorder(order)).astype(np_dtype(dtype))
    arr = arr.reshape(shp)
    for c in reversed(a2a):
        arr = arr.transpose(np.argsort(c["configuration"]["order"]))
    return arr


def array_meta(dtype, shape, chunks, codecs, ske, fill_json, attributes=None, dimension_names=None):
    """A v3 array zarr.json document."""
    m = {"zarr_format": 3, "node_type": "array", "shape": list(shape), "data_type": dtype,
         "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(chunks)}},
         "chunk_key_encoding": ske, "fill_value": fill_json, "codecs": codecs,
         "attributes": attributes or {}}
    if dimension_names is not None:
        m["dimension_names"] = dimension_names
    return m


def write_array(path, data, chunks, codecs, ske, fill_json, absent=(), attributes=None, dimension_names=None):
    """Write `data` as a v3 array built from the spec; chunks in `absent` are not stored,
    edge chunks are padded with the fill value. Returns the expected array."""
    dtype = "bool" if data.dtype == bool else data.dtype.name
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "zarr.json"), "w") as f:
        json.dump(array_meta(dtype, data.shape, chunks, codecs, ske, fill_json, attributes, dimension_names), f,
                  indent=2)
    fill = fill_scalar(fill_json, dtype)
    expected = data.copy()
    absent = {tuple(a) for a in absent}
    for coords in chunk_grid(data.shape, chunks):
        region = chunk_region(coords, data.shape, chunks)
        if coords in absent:
            expected[region] = fill
            continue
        full = np.full(chunks, fill, dtype=data.dtype)
        full[tuple(slice(0, r.stop - r.start) for r in region)] = data[region]
        key = os.path.join(path, *chunk_key(coords, ske).split("/"))
        os.makedirs(os.path.dirname(key), exist_ok=True)
        with open(key, "wb") as f:
            f.write(encode_chunk(full, codecs, dtype))
    return expected


def read_array(path):
    """Read a v3 array with the spec decoders (bytes, transpose, crc32c, gzip, blosc, zstd)."""
    with open(os.path.join(path, "zarr.json")) as f:
        m = json.load(f)
    shape, chunks = m["shape"], m["chunk_grid"]["configuration"]["chunk_shape"]
    dtype = m["data_type"]
    out = np.full(shape, fill_scalar(m["fill_value"], dtype), dtype=np_dtype(dtype))
    for coords in chunk_grid(shape, chunks):
        key = os.path.join(path, *chunk_key(coords, m["chunk_key_encoding"]).split("/"))
        if not os.path.exists(key):
            continue
        with open(key, "rb") as f:
            arr = decode_chunk(f.read(), m["codecs"], dtype, chunks)
        region = chunk_region(coords, shape, chunks)
        out[region] = arr[tuple(slice(0, r.stop - r.start) for r in region)]
    return out
