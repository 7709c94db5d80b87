"""The spec-built shards of tests/py/shard_spec.py, checked against zarrita.js (no scout code).

The shard tests trust shard_spec.py to build sharded arrays as the spec lays
them out; this test is the harness check that makes that trust earned: every
array it builds with the index at the end (the one layout zarrita.js reads:
gaps, inner chunks out of order or shared, absent and fill-only inner chunks
and shards, big- and little-endian index, with and without crc32c, several
dtypes and inner codec chains, shapes that are not multiples of the shards)
must decode with zarrita.js to the expected values, and also with the
module's own reference reader. Layouts zarrita cannot read (index at the
start, nested sharding) are checked against the reference reader, whose index
handling is the one zarrita agreed with above. The hostile variants must be
rejected by the reference reader where it checks (truncated, short index, crc
mismatch, beyond the end) and differ from the valid shard in exactly the way
each name says.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from cli_common import TempDir, check  # noqa: E402
import shard_spec as ss  # noqa: E402
import v3_spec  # noqa: E402
import zarrita_peer  # noqa: E402

RNG = np.random.default_rng(1212)
LE = [{"name": "bytes", "configuration": {"endian": "little"}}]
BE = [{"name": "bytes", "configuration": {"endian": "big"}}]
CRC = [{"name": "crc32c"}]


def data_for(dtype, shape, zeros_from=None):
    if dtype == "bool":
        a = RNG.random(shape) < 0.5
    elif dtype.startswith("float"):
        a = RNG.normal(0, 100, shape).astype(dtype)
    else:
        info = np.iinfo(dtype)
        a = RNG.integers(max(info.min, -1000), min(info.max, 1000), shape, endpoint=True).astype(dtype)
    if zeros_from is not None:  # a fill-only region (whole inner chunks and more)
        a[tuple(slice(z, None) for z in zeros_from)] = 0
    return a


# (dtype, shape, shard, inner, inner codecs, index codecs, layout opts, absent shards)
CASES = [
    ("uint16", (20, 24, 16), (8, 8, 8), (4, 4, 4), LE, LE + CRC, {}, []),
    ("uint16", (20, 24, 16), (8, 8, 8), (4, 4, 4), LE + [{"name": "gzip", "configuration": {"level": 1}}],
     BE + CRC, {"order": 7, "gap": 13}, [(1, 1, 1)]),
    ("int8", (9, 10), (6, 4), (3, 2), LE, LE, {"order": "reverse", "gap": 1}, [(0, 1)]),
    ("float32", (17, 5), (8, 5), (2, 5),
     [{"name": "transpose", "configuration": {"order": [1, 0]}}] + LE +
     [{"name": "zstd", "configuration": {"level": 0, "checksum": False}}], LE + CRC,
     {"order": 3, "absent": [(1, 0)]}, []),
    ("float64", (12, 12), (6, 12), (3, 4), BE + CRC, BE, {"dedupe": True, "gap": 5}, []),
    ("bool", (16, 16), (8, 8), (4, 4), LE, LE + CRC, {"omit_fill": False}, []),
    ("uint64", (7, 9, 11), (4, 6, 4), (2, 3, 2), LE, LE + CRC, {"order": 11}, []),
]


def build(tmp, case, n, location="end"):
    dtype, shape, shard, inner, codecs, icodecs, opts, absent = case
    a = data_for(dtype, shape, zeros_from=[s // 2 for s in shape])
    cfg = ss.sharding_codec(inner, codecs, icodecs, location)
    d = os.path.join(tmp, "a%d-%s" % (n, location))
    exp = ss.write_sharded(d, a, shard, cfg, opts=opts, absent_shards=absent)
    return d, exp, cfg


def test_zarrita_reads_spec_shards():
    with TempDir() as tmp:
        cases, want = [], {}
        for n, case in enumerate(CASES):
            d, exp, _ = build(tmp, case, n)
            check(v3_spec.same_values(ss.read_sharded(d), exp), "reference reader differs on %s" % d)
            out = d + ".raw"
            cases.append({"dir": d, "out": out})
            want[d] = (exp, out)
        res = zarrita_peer.read(cases, tmp)
        for d, (exp, out) in want.items():
            check(res[d]["ok"], "zarrita failed on %s: %s" % (d, res[d].get("error")))
            dt = "u1" if exp.dtype == bool else exp.dtype.newbyteorder("<")
            got = np.fromfile(out, dtype=dt).reshape(exp.shape)
            if exp.dtype == bool:
                got = got.astype(bool)
            check(v3_spec.same_values(got.astype(exp.dtype), exp), "zarrita read differs on %s" % d)


def test_layouts_are_what_the_options_say():
    """Byte-level facts of the built shards, worked out by hand."""
    a = np.arange(16, dtype="<u2").reshape(4, 4)
    cfg = ss.sharding_codec((2, 2), LE, LE, "end")
    blob = ss.encode_shard(a, cfg, "uint16", 0, {})
    # 4 inner chunks of 8 bytes, C order, then a 64-byte index
    check(len(blob) == 32 + 64, "size %d" % len(blob))
    check(blob[:8] == np.array([0, 1, 4, 5], "<u2").tobytes(), "first inner chunk")
    idx = np.frombuffer(blob[32:], "<u8")
    check(list(idx) == [0, 8, 8, 8, 16, 8, 24, 8], "index %s" % list(idx))
    # index first, reverse order, gap 2, crc32c: chunks at 68 + 2, 80, 90, 100 with the last inner chunk first
    cfg = ss.sharding_codec((2, 2), LE, LE + CRC, "start")
    blob = ss.encode_shard(a, cfg, "uint16", 0, {"order": "reverse", "gap": 2})
    check(len(blob) == 68 + 4 * (2 + 8), "size %d" % len(blob))
    idx = np.frombuffer(blob[:64], "<u8")
    check(list(idx) == [100, 8, 90, 8, 80, 8, 70, 8], "index %s" % list(idx))
    # inner chunk (0, 0) holds 0, 1, 4, 5: all-fill with fill 0? no; zero it and it is omitted
    b = a.copy()
    b[:2, :2] = 0
    blob = ss.encode_shard(b, ss.sharding_codec((2, 2), LE, LE, "end"), "uint16", 0, {})
    idx = np.frombuffer(blob[-64:], "<u8")
    check(list(idx[:2]) == [2**64 - 1] * 2 and list(idx[2:4]) == [0, 8], "omitted fill %s" % list(idx))
    check(ss.encode_shard(np.zeros((4, 4), "<u2"), cfg, "uint16", 0, {}) is None, "all-fill shard")


def test_start_and_nested_reference():
    with TempDir() as tmp:
        for n, case in enumerate(CASES):
            d, exp, _ = build(tmp, case, n, "start")
            check(v3_spec.same_values(ss.read_sharded(d), exp), "index at start: %s" % d)
        # nested: 16^3 shards of 8^3 shards of 4^3 chunks (gzip), inner shards' index at the start
        a = data_for("uint16", (20, 16, 18), zeros_from=(10, 0, 0))
        inner = ss.sharding_codec((4, 4, 4), LE + [{"name": "gzip", "configuration": {"level": 1}}],
                                  LE + CRC, "start")
        outer = ss.sharding_codec((8, 8, 8), [inner], BE + CRC, "end")
        d = os.path.join(tmp, "nested")
        exp = ss.write_sharded(d, a, (16, 16, 16), outer, opts={"order": 5, "inner_opts": {"order": 9, "gap": 3}})
        check(v3_spec.same_values(ss.read_sharded(d), exp), "nested")


def test_hostile_variants():
    a = data_for("uint16", (8, 8))
    for loc in ("end", "start"):
        cfg = ss.sharding_codec((4, 4), LE, LE + CRC, loc)
        good = ss.encode_shard(a, cfg, "uint16", 0, {})
        for kind in ss.HOSTILE_KINDS:
            bad = ss.hostile(kind, good, cfg, (8, 8), inner_bound=32)
            check(bad != good, "%s %s unchanged" % (kind, loc))
            if kind in ("truncated", "short_index", "crc_mismatch", "offset_beyond", "end_beyond", "wrap"):
                try:
                    ss.decode_shard(bad, (8, 8), cfg, "uint16", 0)
                except (ValueError, AssertionError):
                    continue
                raise AssertionError("reference reader accepted %s (%s)" % (kind, loc))
            # the others decode the index cleanly: the fault is in the pairs
            inb = ss.index_nbytes(cfg, (8, 8))
            idx = bad[:inb] if loc == "start" else bad[-inb:]
            pairs = ss.decode_index(idx, (2, 2), cfg["configuration"]["index_codecs"])
            if kind == "huge_nbytes":
                check(33 in [p[1] for p in pairs], "huge_nbytes %s" % pairs)
            if kind == "half_empty":
                check(any(p[0] == ss.EMPTY and p[1] != ss.EMPTY for p in pairs), "half_empty")


if __name__ == "__main__":
    from cli_common import main
    main([test_layouts_are_what_the_options_say, test_zarrita_reads_spec_shards,
          test_start_and_nested_reference, test_hostile_variants])
