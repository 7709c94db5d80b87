"""Interop of scout's codec layer with numcodecs (Debian's python3-numcodecs).

For every codec and its main options, over several dtypes and sizes:
  * numcodecs encodes, scout decodes (build/tools/codec_tool): bytes equal;
  * scout encodes, numcodecs decodes: bytes equal;
  * where both sides are deterministic, scout's encoded bytes equal numcodecs'
    (blosc single-threaded, zlib, bz2, lzma, zstd, lz4; gzip after the header,
    which holds Python's mtime; not zlib/gzip level 0, whose stored blocks
    follow Python's output buffer sizes);
  * scout's normalised config equals numcodecs' get_config();
  * bad configs are refused with SCOUT_EFORMAT (-5) naming the field.
All cases go through one codec_tool process in batch mode.
"""
import json
import lzma
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import numcodecs
import numcodecs.blosc

SCOUT_EFORMAT = -5
SCOUT_ECODEC = -6

BUILD = os.environ.get("SCOUT_BUILD_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
TOOL = os.path.join(BUILD, "tools", "codec_tool")

failures = []


def fail(msg):
    failures.append(msg)
    if len(failures) <= 30:
        print("FAIL:", msg, file=sys.stderr)


def make_data(dtype, count, seed):
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    if dt.kind == "b":
        a = rng.random(count) < 0.3
    elif dt.kind in "iu":
        info = np.iinfo(dt)
        base = (np.arange(count) // 7) % 50
        a = (base + rng.integers(0, 4, count)).clip(info.min, info.max).astype(dt)
    elif dt.kind == "f":
        a = (np.sin(np.arange(count) / 30.0) * 100).round(1).astype(dt)
    else:  # complex
        a = (np.arange(count) % 17 + 1j * (np.arange(count) % 5)).astype(dt)
    return a


def blosc_configs():
    out = []
    for cname in ["blosclz", "lz4", "lz4hc", "zlib", "zstd", "snappy"]:
        if cname not in numcodecs.blosc.list_compressors():
            continue
        for shuffle in [-1, 0, 1, 2]:
            out.append({"id": "blosc", "cname": cname, "clevel": 5, "shuffle": shuffle, "blocksize": 0})
    for clevel in [0, 1, 9]:
        out.append({"id": "blosc", "cname": "zstd", "clevel": clevel, "shuffle": 2, "blocksize": 0})
    for bs in [256, 4096, 65536]:
        out.append({"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": bs})
    return out


LZMA_CONFIGS = [
    {"id": "lzma", "format": 1, "check": -1, "preset": None, "filters": None},
    {"id": "lzma", "format": 1, "check": 0, "preset": 0, "filters": None},
    {"id": "lzma", "format": 1, "check": 1, "preset": 9 | lzma.PRESET_EXTREME, "filters": None},
    {"id": "lzma", "format": 1, "check": 10, "preset": 3, "filters": None},
    {"id": "lzma", "format": 1, "check": 4, "preset": None,
     "filters": [{"id": lzma.FILTER_DELTA, "dist": 2}, {"id": lzma.FILTER_LZMA2, "preset": 1}]},
    {"id": "lzma", "format": 2, "check": -1, "preset": None, "filters": None},
    {"id": "lzma", "format": 2, "check": -1, "preset": 1, "filters": None},
    {"id": "lzma", "format": 2, "check": -1, "preset": None,
     "filters": [{"id": lzma.FILTER_LZMA1, "preset": 2, "dict_size": 1 << 16, "lc": 2, "lp": 1, "pb": 1}]},
    {"id": "lzma", "format": 3, "check": -1, "preset": None, "filters": [{"id": lzma.FILTER_LZMA2, "preset": 1}]},
    {"id": "lzma", "format": 3, "check": -1, "preset": None,
     "filters": [{"id": lzma.FILTER_DELTA, "dist": 4}, {"id": lzma.FILTER_LZMA2, "preset": 6, "mode": lzma.MODE_FAST}]},
    {"id": "lzma", "format": 3, "check": -1, "preset": None,
     "filters": [{"id": lzma.FILTER_X86, "start_offset": 0}, {"id": lzma.FILTER_LZMA2}]},
    {"id": "lzma", "format": 3, "check": -1, "preset": None,
     "filters": [{"id": lzma.FILTER_LZMA1, "preset": 1, "mf": lzma.MF_HC4, "nice_len": 32, "depth": 8}]},
]

OTHER_CONFIGS = (
    [{"id": "zlib", "level": l} for l in [-1, 0, 1, 5, 9]]
    + [{"id": "gzip", "level": l} for l in [-1, 0, 1, 9]]
    + [{"id": "bz2", "level": l} for l in [1, 5, 9]]
    + [{"id": "zstd", "level": l} for l in [-5, 0, 1, 3, 9, 19, 22, 30]]
    + [{"id": "lz4", "acceleration": a} for a in [-1, 0, 1, 10, 100]]
    + LZMA_CONFIGS
)

DTYPES = ["|u1", "|b1", "<u2", "<i4", "<f4", "<f8", "<c16", ">i8"]


def numcodecs_decode(cfg, enc, nbytes):
    """Decode with numcodecs, or with Python's lzma (what numcodecs uses) where
    numcodecs' LZMA.decode cannot: it passes "filters" to the decompressor also
    for formats 1 and 2, which Python refuses."""
    if cfg["id"] == "lzma" and cfg["format"] != 3 and cfg["filters"] is not None:
        return lzma.decompress(enc, format=cfg["format"])
    codec = numcodecs.get_codec(dict(cfg))
    return bytes(codec.decode(enc, out=bytearray(nbytes)) if cfg["id"] == "blosc" else codec.decode(enc))


def numcodecs_encode(cfg, arr):
    return bytes(numcodecs.get_codec(dict(cfg)).encode(arr))


def main():
    if not os.path.exists(TOOL):
        print("codec_tool not built at", TOOL, file=sys.stderr)
        return 1
    numcodecs.blosc.use_threads = False  # the single-threaded, deterministic path
    tmp = tempfile.mkdtemp(prefix="scout_codec_")
    try:
        return run(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(tmp):
    requests = []  # (request, check function)
    counter = [0]

    def path(tag):
        counter[0] += 1
        return os.path.join(tmp, "%d_%s" % (counter[0], tag))

    def add_case(cfg, arr, label, threads=False):
        raw = arr.tobytes()
        typesize = arr.dtype.itemsize
        numcodecs.blosc.use_threads = threads
        enc = numcodecs_encode(cfg, arr)
        numcodecs.blosc.use_threads = False
        p_enc, p_dec = path("nc_enc"), path("sc_dec")
        with open(p_enc, "wb") as f:
            f.write(enc)
        # numcodecs -> scout
        requests.append(({"op": "decode", "config": cfg, "typesize": typesize, "expected": len(raw),
                          "in": p_enc, "out": p_dec},
                         ("nc->scout", label, cfg, raw, p_dec, None)))
        # scout -> numcodecs (and identity of the encoded bytes)
        p_raw, p_senc = path("raw"), path("sc_enc")
        with open(p_raw, "wb") as f:
            f.write(raw)
        requests.append(({"op": "encode", "config": cfg, "typesize": typesize, "in": p_raw, "out": p_senc},
                         ("scout->nc", label, cfg, raw, p_senc, None if threads else enc)))

    # blosc: all cnames x shuffles x typesizes 1..16, several sizes
    for cfg in blosc_configs():
        for dtype in ["|u1", "<u2", "<f4", "<f8", "<c16"] if cfg["clevel"] == 5 and cfg["blocksize"] == 0 else ["|u1", "<f8"]:
            for count in [1, 333, 40001]:
                add_case(cfg, make_data(dtype, count, count), "%s %s x%d" % (json.dumps(cfg), dtype, count))
    # blosc as zarr-python calls it from the main thread: c-blosc's own threads
    # compress the blocks of a large chunk (byte order of blocks may differ)
    for cfg in blosc_configs()[:24:3]:
        add_case(cfg, make_data("<u2", 400000, 9), "%s threaded <u2 x400000" % json.dumps(cfg), threads=True)
    # items over c-blosc's 255-byte typesize limit (treated as bytes by both)
    for cfg in blosc_configs()[1:8:2]:
        arr = np.frombuffer(make_data("|u1", 300 * 50, 3).tobytes(), dtype="V300")
        add_case(cfg, arr, "%s V300 x50" % json.dumps(cfg))
    for cfg in OTHER_CONFIGS:
        # lzma and bz2 encoders are slow to start (large tables): fewer cases
        dtypes = DTYPES if cfg["id"] in ("zlib", "zstd", "lz4") else ["|u1", "<f8"]
        counts = [1, 5003] if cfg["id"] in ("lzma", "bz2") else [1, 37, 5003]
        for dtype in dtypes:
            for count in counts:
                add_case(cfg, make_data(dtype, count, count + 1), "%s %s x%d" % (json.dumps(cfg), dtype, count))

    # odd sizes: byte counts that are not a multiple of the typesize, encoded by scout
    odd = []
    for cfg in blosc_configs()[:24] + [{"id": "zstd", "level": 1}, {"id": "lz4", "acceleration": 1}]:
        for typesize, n in [(4, 4001), (8, 13), (2, 99999)]:
            raw = make_data("|u1", n, n).tobytes()
            p_raw, p_senc = path("odd_raw"), path("odd_enc")
            with open(p_raw, "wb") as f:
                f.write(raw)
            requests.append(({"op": "encode", "config": cfg, "typesize": typesize, "in": p_raw, "out": p_senc},
                             ("odd scout->nc", "%s ts%d n%d" % (json.dumps(cfg), typesize, n), cfg, raw, p_senc, None)))

    # config normalisation: partial configs, as numcodecs completes them
    partial = [
        {"id": "blosc"}, {"id": "blosc", "cname": "zstd"}, {"id": "blosc", "shuffle": -1, "clevel": 0},
        {"id": "blosc", "cname": "blosclz", "clevel": 9, "shuffle": 2, "blocksize": 1024},
        {"id": "zlib"}, {"id": "zlib", "level": 9}, {"id": "gzip"}, {"id": "gzip", "level": -1},
        {"id": "bz2"}, {"id": "bz2", "level": 9}, {"id": "zstd"}, {"id": "zstd", "level": -3},
        {"id": "lz4"}, {"id": "lz4", "acceleration": 7}, {"id": "lzma"}, {"id": "lzma", "preset": 9},
        {"id": "lzma", "format": 2, "check": 0}, {"id": "lzma", "format": 0},
    ] + blosc_configs() + OTHER_CONFIGS
    for cfg in partial:
        requests.append(({"op": "config", "config": cfg, "typesize": 4},
                         ("config", json.dumps(cfg), cfg, None, None, None)))
    requests.append(({"op": "config", "config": None, "typesize": 4}, ("config", "null", None, None, None, None)))

    # bad configs: SCOUT_EFORMAT naming the field or id
    bad = [
        ({"id": "snappy2"}, "snappy2"), ({"id": "blosc", "cname": "lzf"}, "cname"),
        ({"id": "blosc", "clevel": 10}, "clevel"), ({"id": "blosc", "clevel": "5"}, "clevel"),
        ({"id": "blosc", "shuffle": 3}, "shuffle"), ({"id": "blosc", "blocksize": -1}, "blocksize"),
        ({"id": "blosc", "typo": 1}, "typo"), ({"id": "zlib", "level": 10}, "level"),
        ({"id": "zlib", "level": 1.5}, "level"), ({"id": "gzip", "level": 10}, "level"),
        ({"id": "bz2", "level": 0}, "level"), ({"id": "zstd", "level": None}, "level"),
        ({"id": "lz4", "acceleration": True}, "acceleration"), ({"id": "lzma", "format": 4}, "format"),
        ({"id": "lzma", "check": 2}, "check"), ({"id": "lzma", "preset": 10}, "preset"),
        ({"id": "lzma", "format": 3}, "filters"), ({"id": "lzma", "filters": [{"id": 12345}]}, "filters"),
        ({"id": "lzma", "filters": [{"id": 33, "dict": 4}]}, "dict"), ({"id": 3}, "id"), ({}, "id"),
    ]
    for cfg, needle in bad:
        requests.append(({"op": "config", "config": cfg, "typesize": 4},
                         ("bad", needle, cfg, None, None, None)))

    # run every request through one codec_tool
    text = "".join(json.dumps(r) + "\n" for r, _ in requests)
    proc = subprocess.run([TOOL, "batch"], input=text, capture_output=True, text=True, timeout=500)
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
        return 1
    results = [json.loads(line) for line in proc.stdout.splitlines()]
    if len(results) != len(requests):
        print("got %d results for %d requests" % (len(results), len(requests)), file=sys.stderr)
        return 1

    counts = {}
    for (req, (kind, label, cfg, raw, out, nc_enc)), res in zip(requests, results):
        counts[kind] = counts.get(kind, 0) + 1
        if kind == "bad":
            if res["ok"] or res["code"] != SCOUT_EFORMAT or label not in res["error"]:
                fail("bad config %s: %s" % (json.dumps(cfg), res))
            continue
        if not res["ok"]:
            fail("%s %s: scout error %s" % (kind, label, res.get("error")))
            continue
        if kind == "config":
            want = None if cfg is None else numcodecs.get_codec(dict(cfg)).get_config()
            if res["config"] != want:
                fail("config %s: scout %s, numcodecs %s" % (label, res["config"], want))
            continue
        with open(out, "rb") as f:
            got = f.read()
        if kind == "nc->scout":
            if got != raw:
                fail("nc->scout %s: decoded bytes differ" % label)
            continue
        # scout encoded: numcodecs must decode it to the same bytes
        try:
            dec = numcodecs_decode(cfg, got, len(raw))
        except Exception as e:  # noqa: BLE001
            fail("%s %s: numcodecs cannot decode scout's output: %r" % (kind, label, e))
            continue
        if dec != raw:
            fail("%s %s: numcodecs decoded different bytes" % (kind, label))
        # zlib's stored blocks (level 0) are cut by the size of the output
        # buffer, which Python grows in its own steps: not comparable
        if nc_enc is not None and not (cfg["id"] in ("zlib", "gzip") and cfg["level"] == 0):
            counts["identical-bytes checked"] = counts.get("identical-bytes checked", 0) + 1
            same = got[10:] == nc_enc[10:] if cfg["id"] == "gzip" else got == nc_enc
            if not same:
                fail("%s %s: scout's encoded bytes differ from numcodecs' (%d vs %d bytes)"
                     % (kind, label, len(got), len(nc_enc)))

    print("codec interop cases:", json.dumps(counts, sort_keys=True))
    print("%d failures" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
