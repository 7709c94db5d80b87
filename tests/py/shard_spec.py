"""Sharded Zarr v3 arrays built from the sharding_indexed spec, in Python (no scout code).

zarrita.js reads shards with the index at the end (and no nested sharding) and
cannot write them, so the shard tests build their inputs here, from the spec
(zarr-specs v3/codecs/sharding-indexed): a shard is the inner chunks' encoded
bytes in any order, with gaps allowed, plus an index of (offset, nbytes)
uint64 pairs in C order of the inner-chunk grid, encoded by the index codecs
(`bytes` little/big endian, then an optional `crc32c` of those bytes appended
little-endian), at the start or the end of the shard. Offsets count from the
shard's first byte. (2^64-1, 2^64-1) marks an empty inner chunk.

Inner chunks go through v3_spec.encode_chunk (numpy, gzip, numcodecs, the
crc32c module), or recursively through this module for nested sharding.

Layout options (`opts`, a dict) describe how a shard is laid out, so tests can
produce every legal arrangement:
  order:     "c" (C order, the default), "reverse", or an int seed (shuffled)
  gap:       bytes of junk (0xAB) written before every inner chunk (default 0)
  omit_fill: leave out inner chunks that hold only the fill value (default True)
  absent:    inner-chunk coords (within the shard) not stored whatever they hold
  dedupe:    store identical encoded inner chunks once, pointing pairs at one copy
Hostile shards (truncated, short index, crc mismatch, ...) come from `hostile()`.
"""
import json
import os
import random
import struct

import crc32c as _crc32c
import numcodecs
import numpy as np

import v3_spec

EMPTY = 2**64 - 1


def sharding_codec(chunk_shape, codecs, index_codecs=None, index_location="end"):
    """The codec object {"name": "sharding_indexed", "configuration": ...}."""
    if index_codecs is None:
        index_codecs = [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}]
    return {"name": "sharding_indexed",
            "configuration": {"chunk_shape": list(chunk_shape), "codecs": codecs,
                              "index_codecs": index_codecs, "index_location": index_location}}


def _cfg(c):
    """The configuration of a sharding_indexed codec object, or the configuration itself."""
    return c["configuration"] if "name" in c else c


def _index_endian(index_codecs):
    for c in index_codecs:
        if c["name"] == "bytes":
            return ">" if c.get("configuration", {}).get("endian", "little") == "big" else "<"
    raise ValueError("index_codecs without bytes")


def _index_crc(index_codecs):
    names = [c["name"] for c in index_codecs]
    return names[-1] == "crc32c"


def index_nbytes(cfg, shard_shape):
    cfg = _cfg(cfg)
    grid = [s // c for s, c in zip(shard_shape, cfg["chunk_shape"])]
    return 16 * int(np.prod(grid)) + (4 if _index_crc(cfg["index_codecs"]) else 0)


def encode_index(pairs, grid, index_codecs):
    """The index bytes of pairs (list of (offset, nbytes), C order) for an inner-chunk grid."""
    a = np.array(pairs, dtype=np.uint64).reshape(tuple(grid) + (2,))
    raw = a.astype(np.dtype("u8").newbyteorder(_index_endian(index_codecs))).tobytes()
    if _index_crc(index_codecs):
        raw += struct.pack("<I", _crc32c.crc32c(raw))
    return raw


def decode_index(data, grid, index_codecs):
    """Pairs (C order) of index bytes; the crc32c is verified (ValueError on mismatch)."""
    n = 16 * int(np.prod(grid))
    if _index_crc(index_codecs):
        if len(data) != n + 4 or struct.unpack("<I", data[n:])[0] != _crc32c.crc32c(data[:n]):
            raise ValueError("index crc32c mismatch")
        data = data[:n]
    a = np.frombuffer(data, dtype=np.dtype("u8").newbyteorder(_index_endian(index_codecs)))
    return [(int(a[2 * i]), int(a[2 * i + 1])) for i in range(len(a) // 2)]


def _encode_inner(chunk, codecs, dtype, fill, opts):
    a2b = [c for c in codecs if c["name"] == "sharding_indexed"]
    if a2b:  # nested sharding: array->array codecs before it are not used by these tests
        assert codecs[0]["name"] == "sharding_indexed", "nested sharding must come first"
        body = encode_shard(chunk, codecs[0]["configuration"], dtype, fill, opts.get("inner_opts", {}))
        rest = codecs[1:]
        if rest:
            raise ValueError("bytes->bytes codecs after a nested sharding_indexed are not built here")
        return body
    return v3_spec.encode_chunk(chunk, codecs, dtype)


def encode_shard(shard, cfg, dtype, fill, opts=None):
    """The bytes of one whole shard (numpy array of the shard's shape) under the sharding
    configuration cfg; None when no inner chunk is stored (the shard is left out)."""
    opts = opts or {}
    cfg = _cfg(cfg)
    inner = cfg["chunk_shape"]
    grid = [s // c for s, c in zip(shard.shape, inner)]
    coords = [tuple(int(v) for v in ix) for ix in np.ndindex(*grid)]
    absent = {tuple(a) for a in opts.get("absent", ())}
    omit_fill = opts.get("omit_fill", True)
    fill_arr = np.full(inner, fill, dtype=shard.dtype)
    blobs = {}
    for i, c in enumerate(coords):
        region = tuple(slice(k * n, (k + 1) * n) for k, n in zip(c, inner))
        part = shard[region]
        if c in absent or (omit_fill and v3_spec.same_values(part, fill_arr)):
            continue
        blobs[i] = _encode_inner(np.ascontiguousarray(part), cfg["codecs"], dtype, fill, opts)
    if not blobs:
        return None
    order = sorted(blobs)
    how = opts.get("order", "c")
    if how == "reverse":
        order = order[::-1]
    elif isinstance(how, int):
        random.Random(how).shuffle(order)
    gap = opts.get("gap", 0)
    inb = index_nbytes(cfg, shard.shape)
    at_start = cfg.get("index_location", "end") == "start"
    body = bytearray()
    base = inb if at_start else 0
    pairs = [(EMPTY, EMPTY)] * len(coords)
    seen = {}
    for i in order:
        b = blobs[i]
        if opts.get("dedupe") and b in seen:
            pairs[i] = seen[b]
            continue
        body += b"\xab" * gap
        pairs[i] = (base + len(body), len(b))
        seen[b] = pairs[i]
        body += b
    index = encode_index(pairs, grid, cfg["index_codecs"])
    return bytes(index + body) if at_start else bytes(body + index)


def decode_shard(data, shard_shape, cfg, dtype, fill):
    """The array of one shard's bytes (reference decoder; None data: all fill)."""
    cfg = _cfg(cfg)
    npdt = v3_spec.np_dtype(dtype)
    out = np.full(shard_shape, fill, dtype=npdt)
    if data is None:
        return out
    inner = cfg["chunk_shape"]
    grid = [s // c for s, c in zip(shard_shape, inner)]
    inb = index_nbytes(cfg, shard_shape)
    if len(data) < inb:
        raise ValueError("shard shorter than its index")
    at_start = cfg.get("index_location", "end") == "start"
    idx = data[:inb] if at_start else data[len(data) - inb:]
    pairs = decode_index(idx, grid, cfg["index_codecs"])
    for i, c in enumerate(np.ndindex(*grid)):
        off, nb = pairs[i]
        if (off, nb) == (EMPTY, EMPTY):
            continue
        if off + nb > len(data):
            raise ValueError("inner chunk beyond the shard")
        blob = data[off:off + nb]
        codecs = cfg["codecs"]
        if codecs[0]["name"] == "sharding_indexed":
            part = decode_shard(blob, inner, codecs[0]["configuration"], dtype, fill)
        else:
            # numcodecs.<id> bytes->bytes codecs (scout writes them): numcodecs decodes them
            while codecs[-1]["name"].startswith("numcodecs."):
                nc = codecs[-1]
                blob = bytes(numcodecs.get_codec(dict(nc.get("configuration", {}),
                                                      id=nc["name"][len("numcodecs."):])).decode(blob))
                codecs = codecs[:-1]
            part = v3_spec.decode_chunk(blob, codecs, dtype, inner)
        out[tuple(slice(k * n, (k + 1) * n) for k, n in zip(c, inner))] = part
    return out


def write_sharded(path, data, shard_shape, cfg, fill_json=0, ske=None, opts=None, shard_opts=None,
                  absent_shards=()):
    """Write `data` as a sharded v3 array (codecs = [sharding_indexed cfg]) built from the spec.
    opts: layout options for every shard; shard_opts: {shard coords: opts} overrides.
    Edge shards are stored full size, padded with the fill value. Returns the expected array."""
    cfg = _cfg(cfg)
    ske = ske or {"name": "default", "configuration": {"separator": "/"}}
    dtype = "bool" if data.dtype == bool else data.dtype.name
    os.makedirs(path, exist_ok=True)
    codecs = [{"name": "sharding_indexed", "configuration": cfg}]
    with open(os.path.join(path, "zarr.json"), "w") as f:
        json.dump(v3_spec.array_meta(dtype, data.shape, shard_shape, codecs, ske, fill_json), f, indent=2)
    fill = v3_spec.fill_scalar(fill_json, dtype)
    expected = data.copy()
    absent_shards = {tuple(a) for a in absent_shards}
    for coords in v3_spec.chunk_grid(data.shape, shard_shape):
        region = v3_spec.chunk_region(coords, data.shape, shard_shape)
        if coords in absent_shards:
            expected[region] = fill
            continue
        full = np.full(shard_shape, fill, dtype=data.dtype)
        full[tuple(slice(0, r.stop - r.start) for r in region)] = data[region]
        o = dict(opts or {})
        o.update((shard_opts or {}).get(coords, {}))
        blob = encode_shard(full, cfg, dtype, fill, o)
        for ic in o.get("absent", ()):  # inner chunks left out read as the fill value
            lo = [s * k + i * n for s, k, i, n in zip(shard_shape, coords, ic, cfg["chunk_shape"])]
            expected[tuple(slice(a, a + n) for a, n in zip(lo, cfg["chunk_shape"]))] = fill
        key = os.path.join(path, *v3_spec.chunk_key(coords, ske).split("/"))
        if blob is None:
            continue
        os.makedirs(os.path.dirname(key), exist_ok=True)
        with open(key, "wb") as f:
            f.write(blob)
    return expected


def read_sharded(path):
    """The whole array of a sharded v3 array on disk (reference reader; codecs = [sharding])."""
    with open(os.path.join(path, "zarr.json")) as f:
        m = json.load(f)
    shape = m["shape"]
    shard_shape = m["chunk_grid"]["configuration"]["chunk_shape"]
    dtype = m["data_type"]
    fill = v3_spec.fill_scalar(m["fill_value"], dtype)
    (codec,) = m["codecs"]
    assert codec["name"] == "sharding_indexed"
    cfg = codec["configuration"]
    out = np.full(shape, fill, dtype=v3_spec.np_dtype(dtype))
    for coords in v3_spec.chunk_grid(shape, shard_shape):
        key = os.path.join(path, *v3_spec.chunk_key(coords, m["chunk_key_encoding"]).split("/"))
        data = open(key, "rb").read() if os.path.exists(key) else None
        full = decode_shard(data, shard_shape, cfg, dtype, fill)
        region = v3_spec.chunk_region(coords, shape, shard_shape)
        out[region] = full[tuple(slice(0, r.stop - r.start) for r in region)]
    return out


def shard_stats(path):
    """{shard key: (stored inner chunks, index bytes)} of a sharded array on disk."""
    with open(os.path.join(path, "zarr.json")) as f:
        m = json.load(f)
    shard_shape = m["chunk_grid"]["configuration"]["chunk_shape"]
    cfg = m["codecs"][0]["configuration"]
    grid = [s // c for s, c in zip(shard_shape, cfg["chunk_shape"])]
    inb = index_nbytes(cfg, shard_shape)
    out = {}
    for coords in v3_spec.chunk_grid(m["shape"], shard_shape):
        k = v3_spec.chunk_key(coords, m["chunk_key_encoding"])
        key = os.path.join(path, *k.split("/"))
        if not os.path.exists(key):
            continue
        data = open(key, "rb").read()
        idx = data[:inb] if cfg.get("index_location", "end") == "start" else data[len(data) - inb:]
        pairs = decode_index(idx, grid, cfg["index_codecs"])
        out[k] = (sum(1 for p in pairs if p != (EMPTY, EMPTY)), inb)
    return out


# ---- hostile shards: each returns new bytes from a valid shard -------------------------

def _locate_index(data, cfg, shard_shape):
    inb = index_nbytes(cfg, shard_shape)
    start = 0 if cfg.get("index_location", "end") == "start" else len(data) - inb
    return start, inb


def _rewrite_pairs(data, cfg, shard_shape, edit):
    """Apply edit(pairs) -> pairs to a shard's index (crc recomputed: the index stays valid)."""
    cfg = _cfg(cfg)
    grid = [s // c for s, c in zip(shard_shape, cfg["chunk_shape"])]
    start, inb = _locate_index(data, cfg, shard_shape)
    pairs = decode_index(data[start:start + inb], grid, cfg["index_codecs"])
    pairs = edit(list(pairs))
    return data[:start] + encode_index(pairs, grid, cfg["index_codecs"]) + data[start + inb:]


def _first_stored(pairs):
    return next(i for i, p in enumerate(pairs) if p != (EMPTY, EMPTY))


def hostile(kind, data, cfg, shard_shape, inner_bound=None):
    """A broken copy of shard bytes `data`. kinds:
      truncated     the shard cut to half its index
      short_index   the last 8 bytes removed (index at the end: its last pair cut short
                    and the bytes before it read as the index; at the start: the shard
                    ends inside its index)
      crc_mismatch  one index byte flipped, crc32c left as it was
      offset_beyond a stored chunk's offset moved past the end of the shard
      end_beyond    a stored chunk's nbytes reaching one byte past the end
      wrap          offset + nbytes wrapping around 2^64
      huge_nbytes   nbytes of inner_bound + 1 (more than the chunk could encode to), in range
      overlap       the second stored chunk starting inside the first
      into_index    a stored chunk's range running into the index
      half_empty    a pair with only its offset 2^64-1
    The pairs are rewritten with a valid crc32c (except crc_mismatch), so the fault is the
    one named."""
    cfg = _cfg(cfg)
    start, inb = _locate_index(data, cfg, shard_shape)
    n = len(data)
    if kind == "truncated":
        return data[:inb // 2]
    if kind == "short_index":
        return data[:inb - 8] if start == 0 else data[:n - 8]
    if kind == "crc_mismatch":
        assert _index_crc(cfg["index_codecs"])
        b = bytearray(data)
        b[start + 3] ^= 0x10
        return bytes(b)

    if kind == "huge_nbytes":  # inner_bound + 1 bytes of padding, all in range, no overlap
        assert inner_bound is not None
        pad = bytes(inner_bound + 1)
        grid = [s // c for s, c in zip(shard_shape, cfg["chunk_shape"])]
        pairs = decode_index(data[start:start + inb], grid, cfg["index_codecs"])
        i = _first_stored(pairs)
        body = data[inb:] if start == 0 else data[:start]
        pairs[i] = ((inb if start == 0 else 0) + len(body), len(pad))
        index = encode_index(pairs, grid, cfg["index_codecs"])
        return index + body + pad if start == 0 else body + pad + index

    def edit(pairs):
        i = _first_stored(pairs)
        off, nb = pairs[i]
        if kind == "offset_beyond":
            pairs[i] = (n + 1, nb)
        elif kind == "end_beyond":
            pairs[i] = (off, n - off + 1)
        elif kind == "wrap":
            pairs[i] = (8, 2**64 - 4)  # 8 + 2^64 - 4 wraps to 4
        elif kind == "overlap":
            j = next(k for k in range(i + 1, len(pairs)) if pairs[k] != (EMPTY, EMPTY))
            pairs[j] = (off + 1, pairs[j][1])
        elif kind == "into_index":
            if start == 0:
                pairs[i] = (inb - 1, nb)
            else:
                pairs[i] = (start - nb + 1, nb)
        elif kind == "half_empty":
            pairs[i] = (EMPTY, nb)
        else:
            raise ValueError(kind)
        return pairs

    return _rewrite_pairs(data, cfg, shard_shape, edit)


HOSTILE_KINDS = ("truncated", "short_index", "crc_mismatch", "offset_beyond", "end_beyond", "wrap",
                 "huge_nbytes", "overlap", "into_index", "half_empty")
