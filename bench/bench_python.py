#!/usr/bin/python3
"""The libscout Python package against its peers, one run of each.

usage: PYTHONPATH=BUILD/python bench/bench_python.py BUILD [--data DIR] [--workers N]
                                                      [--only read,ghost,reduce,noop]

Workloads (the array is bench/data/vol512: 512^3 uint16 in 64^3 chunks, SCOUT's
blosc zstd 1 bitshuffle, made by bench/gen_data.py):

  read    the whole array into numpy: libscout.open(p)[:] vs zarr.open(p)[:]
          (numcodecs' blosc uses its own threads) vs the codec floor (BUILD/codec_floor:
          decode only, chunks in memory, N threads)
  ghost   libscout.utils.pmap_chunks of a ghosted per-chunk numpy reduction
          (each 64^3 chunk plus 8 voxels of its neighbours, extract_ghosted_chunk)
          vs SCOUT's way: multiprocessing.Pool + zarr-python (bench/peers/scout_style.py)
  reduce  the same without the ghost shell (decode-bound), plus libscout.stats (the
          C kernel on the C thread pool) for reference
  noop    per-chunk cost of pmap_chunks with a no-op f (4096 chunks minus 1 chunk),
          vs multiprocessing.Pool.map of a no-op (scout_style.py noop)

Prints wall and CPU seconds (this process and its children) and the ratios.
Timings never fail the run; a result that differs between libscout and its peer
exits 1.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from functools import partial

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
PY = "/usr/bin/python3"


def cpu_now():
    s = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def timed(fn):
    c0, t0 = cpu_now(), time.perf_counter()
    r = fn()
    return r, time.perf_counter() - t0, cpu_now() - c0


def ghost_reduce(arr, start, chunks, ghost=0):
    from libscout import utils
    if ghost:
        data, _, _ = utils.extract_ghosted_chunk(arr, start, chunks, ghost)
    else:
        stop = np.minimum(arr.shape, np.asarray(start) + chunks)
        data = utils.extract_box(arr, start, stop)
    return int(data.sum(dtype=np.uint64)), int(data.min()), int(data.max())


def noop(arr, start, chunks):
    return None


def peer(args):
    """Run a scout_style.py command; its JSON, with the wall/CPU time we saw."""
    cmd = [PY, os.path.join(HERE, "peers", "scout_style.py")] + args
    (out, wall, cpu) = timed(lambda: subprocess.run(cmd, check=True, capture_output=True,
                                                    text=True).stdout)
    r = json.loads(out)
    r["wall_total"], r["cpu"] = wall, cpu
    return r


def row(name, wall, cpu, note=""):
    print("  %-44s %8.3f s wall %8.3f s CPU  %s" % (name, wall, cpu, note), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--data", default=os.path.join(HERE, "data"))
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    ap.add_argument("--only", default="read,ghost,reduce,noop")
    a = ap.parse_args()
    import libscout
    import zarr
    from libscout import utils

    only = a.only.split(",")
    path = os.path.join(a.data, "vol512")
    if not os.path.isdir(path):
        subprocess.run([PY, os.path.join(HERE, "gen_data.py"), a.data, "vol512"], check=True)
    W = a.workers
    bad = 0
    print("libscout %s, %d workers, load average %.1f, %s" % (
        libscout.__version__, W, os.getloadavg()[0], path), flush=True)

    if "read" in only:
        print("read: whole 512^3 uint16 array into numpy")
        x, lw, lc = timed(lambda: libscout.open(path)[:])
        row("libscout.open(p)[:]", lw, lc)
        z, zw, zc = timed(lambda: zarr.open(path, mode="r")[:])
        row("zarr.open(p)[:]", zw, zc, "zarr/libscout %.2fx wall, %.2fx CPU" % (zw / lw,
                                                                                zc / lc))
        if not np.array_equal(x, z):
            print("  MISMATCH between libscout and zarr-python")
            bad = 1
        del x, z
        out = subprocess.run([os.path.join(a.build, "codec_floor"), path, str(W), "1"],
                             check=True, capture_output=True, text=True).stdout.split()
        fw, fc = float(out[out.index("floor_seconds") + 1]), float(
            out[out.index("cpu_seconds") + 1])
        row("codec floor (decode only, %d threads)" % W, fw, fc,
            "libscout/floor %.2fx wall, %.2fx CPU" % (lw / fw, lc / fc))

    for w, ghost in (("ghost", 8), ("reduce", 0)):
        if w not in only:
            continue
        print("%s: pmap_chunks of a per-chunk sum/min/max%s, 64^3 chunks" % (
            w, " with an 8-voxel ghost shell" if ghost else ""))
        arr = libscout.open(path)
        res, lw, lc = timed(lambda: utils.pmap_chunks(partial(ghost_reduce, ghost=ghost), arr,
                                                      nb_workers=W))
        mine = (sum(r[0] for r in res), min(r[1] for r in res), max(r[2] for r in res))
        row("libscout.utils.pmap_chunks", lw, lc)
        p = peer(["reduce", path, "--ghost", str(ghost), "--workers", str(W)])
        theirs = (p["sum"], p["min"], p["max"])
        row("SCOUT-style Pool + zarr-python", p["seconds"], p["cpu"],
            "peer/libscout %.2fx wall, %.2fx CPU" % (p["seconds"] / lw, p["cpu"] / lc))
        if mine != theirs:
            print("  MISMATCH: libscout %s, peer %s" % (mine, theirs))
            bad = 1
        if not ghost:
            s, sw, sc = timed(lambda: libscout.stats(arr, nb_workers=W))
            row("libscout.stats (C kernel, thread pool)", sw, sc,
                "pmap/stats %.2fx wall" % (lw / sw))
            if (s["sum"], s["min"], s["max"]) != mine:
                print("  MISMATCH: stats %s" % s)
                bad = 1

    if "noop" in only:
        print("noop: per-chunk overhead of pmap_chunks with a no-op f")
        with tempfile.TemporaryDirectory(prefix="bench-python-") as tmp:
            n = 16384
            arr = libscout.create(os.path.join(tmp, "n.zarr"), (n,), "u1", chunks=(1,))
            one = [timed(lambda: utils.pmap_chunks(noop, arr, (n,), nb_workers=W))
                   for _ in range(3)]
            many = [timed(lambda: utils.pmap_chunks(noop, arr, nb_workers=W))
                    for _ in range(3)]
            w1, c1 = min(r[1] for r in one), min(r[2] for r in one)
            wn, cn = min(r[1] for r in many), min(r[2] for r in many)
            row("libscout pmap_chunks, %d chunks (best of 3)" % n, wn, cn,
                "%.1f us/chunk wall, %.1f us/chunk CPU beyond a 1-chunk map (%.3f s)"
                % ((wn - w1) / (n - 1) * 1e6, (cn - c1) / (n - 1) * 1e6, w1))
            p = peer(["noop", str(n), "--workers", str(W)])
            row("multiprocessing Pool.map no-op, %d items" % n, p["map_seconds"], p["cpu"],
                "%.1f us/item wall (map only)" % p["us_per_item"])
    return bad


if __name__ == "__main__":
    sys.exit(main())
