"""The sharding_indexed codec of scout against shards built from the spec (tests/py/shard_spec.py).

Through tests/tools/shard_tool (scout's codec pipeline, no array layer):
- decode: every spec-built layout (index at start and end, gaps, inner chunks
  out of order or shared, absent and fill-only inner chunks, big/little
  endian index, with and without crc32c, nested sharding, transpose and
  compressors inside) must decode to the numpy array the shard was built from;
- encode: scout's shards must decode with the spec reference decoder to the
  same array, be laid out as the spec builder lays out a C-order shard without
  gaps (byte for byte where the inner chain is deterministic) and leave
  fill-only inner chunks out;
- hostile shards (truncated, short index, crc32c mismatch, offsets or ends
  beyond the shard, offset + nbytes wrapping, nbytes beyond what the inner
  chain can produce, overlaps, ranges into the index, half-empty pairs) must
  fail with SCOUT_EFORMAT naming the shard key, and the inner chunk where one
  is at fault;
- range reads: inner chunks read through the store by byte range (only the
  index and the wanted chunks) must equal the numpy ones, for strong version
  tokens (an old file: range reads) and weak ones (a young file: one whole read).
"""
import json
import os
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from cli_common import BUILD, TempDir, check, main  # noqa: E402
import shard_spec as ss  # noqa: E402
import v3_spec  # noqa: E402

TOOL = os.path.join(BUILD, "tools", "shard_tool")
RNG = np.random.default_rng(4242)
LE = [{"name": "bytes", "configuration": {"endian": "little"}}]
BE = [{"name": "bytes", "configuration": {"endian": "big"}}]
CRC = [{"name": "crc32c"}]
GZ = [{"name": "gzip", "configuration": {"level": 1}}]
ZSTD = [{"name": "zstd", "configuration": {"level": 0, "checksum": False}}]
TR = [{"name": "transpose", "configuration": {"order": [1, 0, 2]}}]


def batch(cases):
    p = subprocess.run([TOOL, "batch"], input="".join(json.dumps(c) + "\n" for c in cases),
                       capture_output=True, text=True, timeout=300)
    res = [json.loads(line) for line in p.stdout.splitlines()]
    check(len(res) == len(cases), "shard_tool: %d results for %d cases: %s" % (len(res), len(cases), p.stderr))
    return res


def sample(dtype, shape):
    if dtype.startswith("float"):
        a = RNG.normal(0, 50, shape).astype(dtype)
    else:
        a = RNG.integers(0, 200, shape).astype(dtype)
    # a fill-only corner (whole inner chunks of it are left out of the shard)
    a[tuple(slice(0, s // 2) for s in shape)] = 0
    return a


def fill_hex(dtype, fill):
    return np.array(fill, dtype=dtype).tobytes().hex()


# (dtype, shard shape, inner chunk, inner codecs, index codecs, layout options)
CASES = [
    ("uint16", (8, 8, 8), (4, 4, 4), LE, LE + CRC, {}),
    ("uint16", (8, 8, 8), (4, 4, 4), LE + GZ, BE + CRC, {"order": 3, "gap": 7}),
    ("int32", (6, 4, 4), (3, 2, 4), BE + CRC, LE, {"order": "reverse", "gap": 1, "absent": [(1, 1, 0)]}),
    ("float32", (4, 6, 2), (2, 3, 2), TR + LE + ZSTD, LE + CRC, {"order": 9}),
    ("float64", (4, 4, 4), (2, 2, 2), LE, BE, {"dedupe": True}),
    ("uint8", (4, 4, 4), (4, 4, 4), LE + GZ, LE + CRC, {}),
    ("int16", (8, 4, 4), (2, 2, 2), LE, LE + CRC, {"omit_fill": False, "order": 1}),
]


def nested_cfg(location):
    inner = ss.sharding_codec((2, 2, 2), LE + GZ, LE + CRC, "start")
    return ss.sharding_codec((4, 4, 4), [inner], BE + CRC, location)


def test_decode_spec_shards():
    with TempDir() as tmp:
        cases, want = [], []
        for n, (dt, shard, inner, codecs, icodecs, opts) in enumerate(CASES):
            for loc in ("end", "start"):
                a = sample(dt, shard)
                cfg = ss.sharding_codec(inner, codecs, icodecs, loc)
                blob = ss.encode_shard(a, cfg, dt, 0, opts)
                exp = a.copy()
                for ic in opts.get("absent", ()):
                    exp[tuple(slice(i * k, (i + 1) * k) for i, k in zip(ic, inner))] = 0
                pin, pout = os.path.join(tmp, "s%d%s" % (n, loc)), os.path.join(tmp, "o%d%s" % (n, loc))
                open(pin, "wb").write(blob)
                cases.append({"op": "decode", "codecs": [cfg], "dtype": dt, "shape": list(shard),
                              "fill": fill_hex(dt, 0), "in": pin, "out": pout, "key": "c/%d" % n})
                want.append((exp, pout))
        for loc in ("end", "start"):
            a = sample("uint16", (16, 8, 8))
            cfg = nested_cfg(loc)
            blob = ss.encode_shard(a, cfg, "uint16", 0, {"order": 4, "gap": 2, "inner_opts": {"order": 8}})
            pin, pout = os.path.join(tmp, "nested" + loc), os.path.join(tmp, "nested.out" + loc)
            open(pin, "wb").write(blob)
            cases.append({"op": "decode", "codecs": [cfg], "dtype": "uint16", "shape": [16, 8, 8],
                          "fill": fill_hex("uint16", 0), "in": pin, "out": pout})
            want.append((a, pout))
        # a non-zero fill value: absent inner chunks read as it
        a = np.full((4, 4), 7, "<i2")
        a[:2, :2] = np.arange(4).reshape(2, 2)
        cfg = ss.sharding_codec((2, 2), LE, LE + CRC)
        pin, pout = os.path.join(tmp, "fill7"), os.path.join(tmp, "fill7.out")
        open(pin, "wb").write(ss.encode_shard(a, cfg, "int16", 7, {}))
        cases.append({"op": "decode", "codecs": [cfg], "dtype": "int16", "shape": [4, 4],
                      "fill": fill_hex("int16", 7), "in": pin, "out": pout})
        want.append((a, pout))
        for r, (exp, pout), c in zip(batch(cases), want, cases):
            check(r["ok"], "decode %s: %s" % (c["in"], r.get("error")))
            got = np.fromfile(pout, dtype=exp.dtype).reshape(exp.shape)
            check(v3_spec.same_values(got, exp), "decode %s differs" % c["in"])


def test_encode_against_spec():
    with TempDir() as tmp:
        cases, want = [], []
        for n, (dt, shard, inner, codecs, icodecs, _) in enumerate(CASES):
            for loc in ("end", "start"):
                a = sample(dt, shard)
                cfg = ss.sharding_codec(inner, codecs, icodecs, loc)
                pin, pout = os.path.join(tmp, "a%d%s" % (n, loc)), os.path.join(tmp, "e%d%s" % (n, loc))
                a.tofile(pin)
                cases.append({"op": "encode", "codecs": [cfg], "dtype": dt, "shape": list(shard),
                              "fill": fill_hex(dt, 0), "in": pin, "out": pout})
                want.append((a, cfg, pout))
        a = sample("uint16", (16, 8, 8))
        pin, pout = os.path.join(tmp, "nested"), os.path.join(tmp, "nested.out")
        a.tofile(pin)
        cases.append({"op": "encode", "codecs": [nested_cfg("end")], "dtype": "uint16", "shape": [16, 8, 8],
                      "fill": fill_hex("uint16", 0), "in": pin, "out": pout})
        want.append((a, nested_cfg("end"), pout))
        z = np.zeros((4, 4), "<u2")
        pin, pout = os.path.join(tmp, "zeros"), os.path.join(tmp, "zeros.out")
        z.tofile(pin)
        zcfg = ss.sharding_codec((2, 2), LE, LE + CRC)
        cases.append({"op": "encode", "codecs": [zcfg], "dtype": "uint16", "shape": [4, 4],
                      "fill": fill_hex("uint16", 0), "in": pin, "out": pout})
        res = batch(cases)
        for r, (a, cfg, pout), c in zip(res, want, cases):
            check(r["ok"], "encode %s: %s" % (c["in"], r.get("error")))
            blob = open(pout, "rb").read()
            got = ss.decode_shard(blob, a.shape, cfg, a.dtype.name, 0)
            check(v3_spec.same_values(got, a), "spec decode of scout's shard %s differs" % pout)
            names = [x["name"] for x in cfg["configuration"]["codecs"]]
            if set(names) <= {"bytes", "crc32c", "transpose"}:
                ref = ss.encode_shard(a, cfg, a.dtype.name, 0, {})
                check(blob == ref, "scout's shard %s differs from the spec layout" % pout)
            stats = ss.decode_index(blob[:ss.index_nbytes(cfg, a.shape)] if cfg["configuration"]["index_location"] == "start"
                                    else blob[-ss.index_nbytes(cfg, a.shape):],
                                    [s // k for s, k in zip(a.shape, cfg["configuration"]["chunk_shape"])],
                                    cfg["configuration"]["index_codecs"])
            if all(s // 2 >= k for s, k in zip(a.shape, cfg["configuration"]["chunk_shape"])):
                check(stats[0] == (ss.EMPTY, ss.EMPTY), "fill-only inner chunk 0 stored in %s" % pout)
        # an all-fill shard is its index alone, every pair empty
        check(res[-1]["ok"], res[-1].get("error"))
        blob = open(os.path.join(tmp, "zeros.out"), "rb").read()
        check(len(blob) == 68 and ss.decode_index(blob, (2, 2), zcfg["configuration"]["index_codecs"]) ==
              [(ss.EMPTY, ss.EMPTY)] * 4, "all-fill shard: %r" % blob)


def test_hostile_shards():
    # inner chunk 4x4 uint16 through bytes + crc32c: 36 bytes; scout's bound for it is far below 10^6
    with TempDir() as tmp:
        cases, kinds = [], []
        for loc in ("end", "start"):
            cfg = ss.sharding_codec((4, 4), LE + CRC, LE + CRC, loc)
            a = RNG.integers(1, 100, (8, 8)).astype("<u2")
            good = ss.encode_shard(a, cfg, "uint16", 0, {})
            for kind in ss.HOSTILE_KINDS:
                bad = ss.hostile(kind, good, cfg, (8, 8), inner_bound=10**6)
                p = os.path.join(tmp, "%s-%s" % (kind, loc))
                open(p, "wb").write(bad)
                cases.append({"op": "decode", "codecs": [cfg], "dtype": "uint16", "shape": [8, 8],
                              "in": p, "out": p + ".out", "key": "c/9/%s" % kind})
                kinds.append((kind, loc))
            # the valid one decodes (the harness check)
            p = os.path.join(tmp, "good-" + loc)
            open(p, "wb").write(good)
            cases.append({"op": "decode", "codecs": [cfg], "dtype": "uint16", "shape": [8, 8],
                          "in": p, "out": p + ".out", "key": "good"})
            kinds.append(("good", loc))
        for r, (kind, loc) in zip(batch(cases), kinds):
            if kind == "good":
                check(r["ok"], "valid shard (%s) refused: %s" % (loc, r.get("error")))
                continue
            check(not r["ok"] and r["code"] == -5, "%s (%s): %s" % (kind, loc, r))
            check("shard c/9/%s" % kind in r["error"], "%s (%s): message %s" % (kind, loc, r["error"]))
            words = {"truncated": "truncated", "short_index": "index of", "crc_mismatch": "crc32c mismatch",
                     "offset_beyond": "beyond the shard", "end_beyond": "beyond the shard",
                     "wrap": "beyond the shard", "huge_nbytes": "exceeds the", "overlap": "overlap those of",
                     "into_index": "overlap the index", "half_empty": "half of the empty pair"}
            want = words[kind]
            if kind == "short_index":
                # at the start: the shard ends 8 bytes into its index; at the end: the
                # last 16 x 4 + 4 bytes are no longer the index
                want = "truncated" if loc == "start" else "crc32c mismatch"
            check(want in r["error"], "%s (%s): message %s" % (kind, loc, r["error"]))
            if kind not in ("truncated", "short_index", "crc_mismatch"):
                check("inner chunk (0, 0)" in r["error"] or "inner chunk (0, 1)" in r["error"],
                      "%s (%s): no inner chunk in %s" % (kind, loc, r["error"]))


def test_range_reads():
    with TempDir() as tmp:
        cases, want = [], []
        for n, (dt, shard, inner, codecs, icodecs, opts) in enumerate(CASES):
            for loc in ("end", "start"):
                a = sample(dt, shard)
                cfg = ss.sharding_codec(inner, codecs, icodecs, loc)
                blob = ss.encode_shard(a, cfg, dt, 0, opts)
                exp = a.copy()
                for ic in opts.get("absent", ()):
                    exp[tuple(slice(i * k, (i + 1) * k) for i, k in zip(ic, inner))] = 0
                grid = [s // k for s, k in zip(shard, inner)]
                allc = list(np.ndindex(*grid))
                wanted = sorted(RNG.choice(len(allc), size=min(3, len(allc)), replace=False).tolist())[::-1]
                wanted.append(0)
                for age in ("old", "young"):
                    store = os.path.join(tmp, "st%d%s%s" % (n, loc, age))
                    os.makedirs(os.path.join(store, "c"))
                    path = os.path.join(store, "c", "0")
                    open(path, "wb").write(blob)
                    # an hour old: a strong token; an hour ahead (as a file written just now
                    # looks within the store's trust window): a weak one
                    t = time.time() + (-3600 if age == "old" else 3600)
                    os.utime(path, (t, t))
                    out = store + ".out"
                    cases.append({"op": "read", "codecs": [cfg], "dtype": dt, "shape": list(shard),
                                  "store": store, "key": "c/0", "wanted": wanted, "gap": 4, "out": out,
                                  "fill": fill_hex(dt, 0)})
                    parts = [exp[tuple(slice(i * k, (i + 1) * k) for i, k in zip(allc[w], inner))] for w in wanted]
                    want.append((parts, out, age))
        for r, (parts, out, age), c in zip(batch(cases), want, cases):
            check(r["ok"], "read %s: %s" % (c["store"], r.get("error")))
            check(r["strong"] == (age == "old"), "token strength of a %s file: %s" % (age, r))
            got = np.fromfile(out, dtype=parts[0].dtype)
            check(v3_spec.same_values(got, np.concatenate([p.ravel() for p in parts])),
                  "range read %s differs" % c["store"])


def test_bad_configurations():
    cfg = ss.sharding_codec((3, 4), LE, LE + CRC)
    bad = [
        ([cfg], [8, 8], "does not divide"),
        ([ss.sharding_codec((4, 4), LE, LE + GZ)], [8, 8], "only [bytes] or [bytes, crc32c]"),
        ([ss.sharding_codec((4, 4), LE, LE, "middle")], [8, 8], "index_location"),
        ([ss.sharding_codec((4, 4), LE, LE)] + CRC, [8, 8], "after \"sharding_indexed\" is not supported"),
        ([{"name": "sharding_indexed", "configuration": {"chunk_shape": [4, 4], "codecs": LE,
                                                         "index_codecs": LE, "extra": 1}}], [8, 8], "unknown field"),
        ([ss.sharding_codec((4,), LE, LE)], [8, 8], "chunk_shape"),
    ]
    res = batch([{"op": "json", "codecs": c, "dtype": "uint16", "shape": s} for c, s, _ in bad])
    for r, (c, s, needle) in zip(res, bad):
        check(not r["ok"] and needle in r["error"], "%s: %s" % (needle, r))
    good = ss.sharding_codec((4, 4), LE + GZ, BE + CRC, "start")
    (r,) = batch([{"op": "json", "codecs": [good], "dtype": "uint16", "shape": [8, 8]}])
    check(r["ok"] and r["json"] == [good], "normalised config %s" % r)


if __name__ == "__main__":
    main([test_decode_spec_shards, test_encode_against_spec, test_hostile_shards, test_range_reads,
          test_bad_configurations])
