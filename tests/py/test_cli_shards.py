"""Sharded Zarr v3 through the scout command, against independent peers.

- scout writes: zarr-python 2 writes numpy data as v2; `scout convert IN OUT
  --zarr-format 3 --shards ... --chunks ... --codec ...` across dtypes, inner
  codecs, index locations, shapes not multiples of the shards or the inner
  chunks, and fill-only regions. zarrita.js reads every array with the index
  at the end (the layout it reads) and must give numpy's values; the spec
  reference reader (tests/py/shard_spec.py) reads all of them, including index
  at the start; fill-only inner chunks must not be stored; `scout info
  --json` must count shards, stored inner chunks and index bytes as the spec
  reader counts them.
- scout reads: arrays built from the spec (gaps, inner chunks out of order or
  shared, absent inner chunks and shards, index at start and end, big-endian
  index, nested sharding) converted by scout to v2 must give zarr-python 2 the
  expected values.
- rechunk into shards without re-encoding: zarr-python 2 writes v2 chunks with
  SCOUT's codec (blosc zstd 1 bitshuffle); `scout convert` into shards of
  those chunks copies them: each stored inner chunk must be zarr-python's
  chunk file byte for byte (a chunk of zeros is left out), zarrita.js and the
  spec reader must give numpy's values; a corrupt chunk file is an error
  naming it, with nothing left at OUTPUT.
- hostile shards: each one is an error (exit 1) naming the array, the shard
  key and, where one is at fault, the inner chunk; nothing is left at OUTPUT.
"""
import json
import os
import sys

import numpy as np
import zarr

sys.path.insert(0, os.path.dirname(__file__))
from cli_common import TempDir, check, main, recompress_chunk, run, scout_blosc  # noqa: E402
import shard_spec as ss  # noqa: E402
import v3_spec  # noqa: E402
import zarrita_peer  # noqa: E402

RNG = np.random.default_rng(121212)
LE = [{"name": "bytes", "configuration": {"endian": "little"}}]
BE = [{"name": "bytes", "configuration": {"endian": "big"}}]
CRC = [{"name": "crc32c"}]
GZ = [{"name": "gzip", "configuration": {"level": 1}}]


def data(dtype, shape):
    if dtype == "bool":
        a = RNG.random(shape) < 0.4
    elif dtype.startswith("float"):
        a = RNG.normal(0, 10, shape).astype(dtype)
    else:
        a = RNG.integers(0, 100, shape).astype(dtype)
    a[: shape[0] // 2] = 0  # fill-only region: whole inner chunks and shards
    return a


# (dtype, shape, shards, inner chunks, --codec, --index-location)
WRITES = [
    ("uint16", (37, 50, 29), "16,32,16", "8,8,8", "zstd:1", None),
    ("uint16", (37, 50, 29), "16,32,16", "8,16,8", "blosc:zstd:1:bitshuffle", "start"),
    ("int8", (20, 9, 31), "10,9,16", "5,3,8", "none", "end"),
    ("float32", (13, 17, 11), "8,8,8", "4,4,4", "gzip:1", None),
    ("float64", (9, 21, 10), "9,14,10", "3,7,5", "lz4", None),
    ("int32", (16, 16, 16), "16,16,16", "16,16,16", "zlib:1", None),
    ("bool", (12, 12, 12), "8,8,8", "4,2,8", "zstd:0", "start"),
    ("uint64", (7, 30), "4,15", "2,5", "none", None),
    # shards of 2 MiB and more: written past the page cache (O_DIRECT, in aligned
    # pieces, the tail buffered), edge shards smaller
    ("uint16", (96, 160, 130), "64,128,128", "32,32,64", "none", None),
]


def test_scout_writes_zarrita_reads():
    with TempDir() as tmp:
        cases, want = [], {}
        for n, (dt, shape, shards, inner, codec, loc) in enumerate(WRITES):
            a = data(dt, shape)
            src, out = os.path.join(tmp, "in%d.zarr" % n), os.path.join(tmp, "out%d.zarr" % n)
            z = zarr.open(src, mode="w", shape=shape, chunks=[max(1, s // 3) for s in shape], dtype=a.dtype)
            z[...] = a
            args = ["convert", src, out, "--zarr-format", "3", "--shards", shards, "--chunks", inner,
                    "--codec", codec, "-j", "2"]
            if loc:
                args += ["--index-location", loc]
            if n % 2:
                args.append("--processes")
            run(args)
            m = json.load(open(os.path.join(out, "zarr.json")))
            (c,) = m["codecs"]
            check(c["name"] == "sharding_indexed", "codecs %s" % m["codecs"])
            check(m["chunk_grid"]["configuration"]["chunk_shape"] == [int(v) for v in shards.split(",")],
                  "shard shape %s" % m["chunk_grid"])
            check(c["configuration"]["chunk_shape"] == [int(v) for v in inner.split(",")], "inner %s" % c)
            check(c["configuration"]["index_location"] == (loc or "end"), "location %s" % c)
            got = ss.read_sharded(out)
            check(v3_spec.same_values(got, a), "spec reader on %s" % out)
            # fill-only inner chunks are not stored: stored count as the data says
            shard_shape = m["chunk_grid"]["configuration"]["chunk_shape"]
            ic = c["configuration"]["chunk_shape"]
            stats = ss.shard_stats(out)
            nonfill = 0
            for coords in v3_spec.chunk_grid(shape, ic):
                part = a[v3_spec.chunk_region(coords, shape, ic)]
                nonfill += bool(np.any(part != 0))
            check(sum(v[0] for v in stats.values()) == nonfill,
                  "%s: %d stored inner chunks, %d not fill-only" % (out, sum(v[0] for v in stats.values()), nonfill))
            info = json.loads(run(["info", "--json", out]).stdout)
            check(info["shards"] == shard_shape and info["chunks"] == ic, "info %s" % info)
            check(info["stored_inner_chunks"] == nonfill, "info stored inner %s" % info)
            check(info["stored_shards"] == len(stats), "info stored shards %s" % info)
            check(info["index_bytes"] == sum(v[1] for v in stats.values()), "info index bytes %s" % info)
            # zarrita reads the index at the end, and no numcodecs.<id> codecs
            if (loc or "end") == "end" and not any(x["name"].startswith("numcodecs.")
                                                   for x in c["configuration"]["codecs"]):
                cases.append({"dir": out, "out": out + ".raw"})
                want[out] = a
        res = zarrita_peer.read(cases, tmp)
        for d, a in want.items():
            check(res[d]["ok"], "zarrita failed on %s: %s" % (d, res[d].get("error")))
            raw = np.fromfile(d + ".raw", dtype="u1" if a.dtype == bool else a.dtype.newbyteorder("<"))
            got = raw.reshape(a.shape)
            if a.dtype == bool:
                got = got.astype(bool)
            check(v3_spec.same_values(got.astype(a.dtype), a), "zarrita read differs on %s" % d)
        check(len(want) >= 4, "zarrita checked %d arrays" % len(want))


SPEC_READS = [
    ("uint16", (20, 24, 16), (8, 8, 8), (4, 4, 4), LE, LE + CRC, "end", {"order": 5, "gap": 9}, [(1, 1, 1)]),
    ("uint16", (20, 24, 16), (8, 8, 8), (4, 4, 4), LE + GZ, BE + CRC, "start", {"order": "reverse"}, []),
    ("int16", (9, 10, 6), (6, 4, 6), (3, 2, 3), BE + CRC, LE, "end",
     {"dedupe": True, "absent": [(1, 0, 1)]}, [(0, 1, 0)]),
    ("float32", (17, 5, 8), (8, 5, 8), (2, 5, 4), LE, BE, "start", {"omit_fill": False, "gap": 3}, []),
]


def test_scout_reads_spec_arrays():
    with TempDir() as tmp:
        for n, (dt, shape, shard, inner, codecs, icodecs, loc, opts, absent) in enumerate(SPEC_READS):
            a = data(dt, shape)
            d = os.path.join(tmp, "spec%d" % n)
            exp = ss.write_sharded(d, a, shard, ss.sharding_codec(inner, codecs, icodecs, loc), opts=opts,
                                   absent_shards=absent)
            back = os.path.join(tmp, "back%d.zarr" % n)
            run(["convert", d, back, "--codec", "none"])
            check(v3_spec.same_values(zarr.open(back, mode="r")[...], exp), "scout read of %s" % d)
            # and scout's partial reads: convert with other chunks reads boxes across shards
            back2 = os.path.join(tmp, "back%d-b.zarr" % n)
            run(["convert", d, back2, "--codec", "none", "--chunks", "3,5,7", "-j", "3"])
            check(v3_spec.same_values(zarr.open(back2, mode="r")[...], exp), "scout boxes of %s" % d)
        # nested sharding
        a = data("uint16", (20, 16, 18))
        inner = ss.sharding_codec((2, 2, 2), LE + GZ, LE + CRC, "start")
        outer = ss.sharding_codec((4, 4, 4), [inner], BE + CRC, "end")
        d = os.path.join(tmp, "nested")
        exp = ss.write_sharded(d, a, (8, 8, 8), outer, opts={"order": 3, "inner_opts": {"order": 6, "gap": 1}})
        back = os.path.join(tmp, "nested.zarr")
        run(["convert", d, back, "--codec", "none", "--chunks", "5,5,5"])
        check(v3_spec.same_values(zarr.open(back, mode="r")[...], exp), "scout read of nested shards")


def test_hostile_arrays():
    with TempDir() as tmp:
        a = RNG.integers(1, 100, (8, 8, 8)).astype("<u2")
        for loc in ("end", "start"):
            cfg = ss.sharding_codec((4, 4, 4), LE + CRC, LE + CRC, loc)
            for kind in ss.HOSTILE_KINDS:
                d = os.path.join(tmp, "%s-%s" % (kind, loc))
                ss.write_sharded(d, a, (4, 8, 8), cfg)
                key = os.path.join(d, "c", "1", "0", "0")
                good = open(key, "rb").read()
                open(key, "wb").write(ss.hostile(kind, good, cfg, (4, 8, 8), inner_bound=10**6))
                out = os.path.join(tmp, "out-%s-%s.zarr" % (kind, loc))
                p = run(["convert", d, out, "--codec", "none"], rc=1)
                check("shard c/1/0/0" in p.stderr and d in p.stderr, "%s (%s): %s" % (kind, loc, p.stderr))
                if kind not in ("truncated", "short_index", "crc_mismatch"):
                    check("inner chunk (" in p.stderr, "%s (%s): %s" % (kind, loc, p.stderr))
                check(not os.path.exists(out), "%s (%s): output left behind" % (kind, loc))


def test_fault_during_shard_writes():
    """SCOUT_FAULT on the shard writes of a sharded convert: exit 1, nothing at OUTPUT, no
    temporary file; and the same convert without the fault succeeds (the harness check)."""
    with TempDir() as tmp:
        a = data("uint16", (16, 16, 16))
        src = os.path.join(tmp, "in.zarr")
        zarr.open(src, mode="w", shape=a.shape, chunks=(8, 8, 8), dtype=a.dtype)[...] = a
        for spec in ("rename:3:EIO", "write:2:ENOSPC:short", "open_tmp:4:EDQUOT"):
            out = os.path.join(tmp, "out-%s.zarr" % spec.split(":")[0])
            env = dict(os.environ, SCOUT_FAULT=spec)
            p = run(["convert", src, out, "--zarr-format", "3", "--shards", "8,8,8", "--chunks", "4,4,4",
                     "-j", "1"], rc=1, env=env)
            check("shard c/" in p.stderr, "%s: %s" % (spec, p.stderr))
            check(not os.path.exists(out), "%s: output left" % spec)
            left = [n for n in os.listdir(tmp) if "tmp" in n]
            check(not left, "%s: left %s" % (spec, left))
        out = os.path.join(tmp, "ok.zarr")
        run(["convert", src, out, "--zarr-format", "3", "--shards", "8,8,8", "--chunks", "4,4,4"])
        check(v3_spec.same_values(ss.read_sharded(out), a), "convert without faults")


def test_rechunk_copies_chunk_bytes():
    with TempDir() as tmp:
        shape, chunks = (21, 30, 17), (8, 10, 6)
        a = RNG.integers(0, 3000, shape).astype("uint16")
        a[16:, :10, :6] = 0  # the stored chunk (2, 0, 0) holds only zeros
        src, out = os.path.join(tmp, "in.zarr"), os.path.join(tmp, "out.zarr")
        z = zarr.open(src, mode="w", shape=shape, chunks=chunks, dtype="uint16",
                      compressor=scout_blosc(), dimension_separator="/", write_empty_chunks=True)
        z[...] = a
        recompress_chunk(os.path.join(src, "0", "1", "1"))
        run(["convert", src, out, "--zarr-format", "3", "--shards", "16,20,12", "--chunks", "8,10,6",
             "-j", "2"])
        check(v3_spec.same_values(ss.read_sharded(out), a), "spec reader on the rechunked array")
        m = json.load(open(os.path.join(out, "zarr.json")))
        cfg = m["codecs"][0]["configuration"]
        inb = ss.index_nbytes(cfg, [16, 20, 12])
        copied = zeros_left_out = 0
        for coords in v3_spec.chunk_grid(shape, chunks):
            want = open(os.path.join(src, *map(str, coords)), "rb").read()
            shard = [c // 2 for c in coords]
            data = open(os.path.join(out, "c", *map(str, shard)), "rb").read()
            pairs = ss.decode_index(data[len(data) - inb:], [2, 2, 2], cfg["index_codecs"])
            off, n = pairs[((coords[0] % 2) * 2 + coords[1] % 2) * 2 + coords[2] % 2]
            if not np.any(a[v3_spec.chunk_region(coords, shape, chunks)]):
                zeros_left_out += off == ss.EMPTY
                continue
            copied += data[off:off + n] == want
        n_chunks = len(list(v3_spec.chunk_grid(shape, chunks)))
        check(zeros_left_out == 1 and copied == n_chunks - 1,
              "%d of %d inner chunks are zarr-python's bytes, %d zero chunks left out"
              % (copied, n_chunks - 1, zeros_left_out))
        res = zarrita_peer.read([{"dir": out, "out": out + ".raw"}], tmp)
        check(res[out]["ok"], "zarrita failed: %s" % res[out].get("error"))
        got = np.fromfile(out + ".raw", dtype="<u2").reshape(shape)
        check(v3_spec.same_values(got, a), "zarrita read of the rechunked array")
        # a corrupt chunk file: exit 1 naming it, nothing at OUTPUT
        with open(os.path.join(src, "1", "2", "1"), "wb") as f:
            f.write(b"not a blosc chunk")
        bad = os.path.join(tmp, "bad.zarr")
        p = run(["convert", src, bad, "--zarr-format", "3", "--shards", "16,20,12", "--chunks",
                 "8,10,6"], rc=1)
        check("1/2/1" in p.stderr, p.stderr)
        check(not os.path.exists(bad), "something left at OUTPUT")


def test_usage_errors():
    with TempDir() as tmp:
        src = os.path.join(tmp, "in.zarr")
        z = zarr.open(src, mode="w", shape=(8, 8), chunks=(4, 4), dtype="u1")
        z[...] = 1
        p = run(["convert", src, os.path.join(tmp, "o1"), "--shards", "8,8"], rc=2)
        check("--zarr-format 3" in p.stderr, p.stderr)
        p = run(["convert", src, os.path.join(tmp, "o2"), "--zarr-format", "3", "--shards", "8,8",
                 "--chunks", "3,4"], rc=1)
        check("multiple of chunks" in p.stderr, p.stderr)
        p = run(["convert", src, os.path.join(tmp, "o3"), "--zarr-format", "3", "--shards", "8,8",
                 "--index-location", "middle"], rc=2)
        check("--index-location" in p.stderr, p.stderr)
        p = run(["convert", src, os.path.join(tmp, "o4"), "--zarr-format", "3", "--shards", "8"], rc=1)
        check("--shards has 1 values" in p.stderr, p.stderr)


if __name__ == "__main__":
    main([test_scout_writes_zarrita_reads, test_scout_reads_spec_arrays, test_hostile_arrays,
          test_fault_during_shard_writes, test_rechunk_copies_chunk_bytes, test_usage_errors])
