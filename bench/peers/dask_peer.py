#!/usr/bin/python3
"""The dask.array way: da.from_zarr, the threaded scheduler with W workers,
map_overlap where ghost shells are needed.

usage:
  dask_peer.py reduce ARRAY [--ghost N] [--workers W]
  dask_peer.py peaks ARRAY OUT.csv --sigma S [--min-distance D] [--threshold T] [--workers W]

Prints one JSON object on stdout with "seconds" (graph construction and
compute, not the interpreter's start) and the results.
"""
import argparse
import json
import os
import sys
import time

import numpy as np


def block_reduce(b):
    r = np.empty((1,) * (b.ndim - 1) + (3,), dtype=np.uint64)
    r.flat[0] = b.sum(dtype=np.uint64)
    r.flat[1] = b.min()
    r.flat[2] = b.max()
    return r


def cmd_reduce(a):
    import dask
    import dask.array as da

    t0 = time.perf_counter()
    x = da.from_zarr(a.array)
    with dask.config.set(scheduler="threads", num_workers=a.workers):
        if a.ghost:
            # every block grown by the ghost shell (clipped at the array's
            # faces: boundary "none"), reduced to one [sum, min, max] triple
            nb = x.numblocks
            chunks = tuple((1,) * n for n in nb[:-1]) + ((3,) * nb[-1],)
            r = x.map_overlap(block_reduce, depth=a.ghost, boundary="none", trim=False,
                              chunks=chunks, dtype=np.uint64).compute()
            r = r.reshape(-1, 3)
            s, mn, mx = int(r[:, 0].sum()), int(r[:, 1].min()), int(r[:, 2].max())
        else:
            s, mn, mx = dask.compute(x.sum(dtype=np.uint64), x.min(), x.max())
            s, mn, mx = int(s), int(mn), int(mx)
    return {"seconds": time.perf_counter() - t0, "chunks": int(np.prod(x.numblocks)),
            "sum": s, "min": mn, "max": mx}


def cmd_peaks(a):
    import dask
    import dask.array as da
    from scipy import ndimage as ndi

    t0 = time.perf_counter()
    x = da.from_zarr(a.array)
    radius = int(4.0 * a.sigma + 0.5)
    ghost = radius + a.min_distance

    def block(b):
        f = ndi.gaussian_filter(b.astype(np.float32), a.sigma, mode="nearest", truncate=4.0)
        m = ndi.maximum_filter(f, size=2 * a.min_distance + 1, mode="nearest")
        mask = f == m
        if a.threshold is not None:
            mask &= f >= a.threshold
        return mask

    with dask.config.set(scheduler="threads", num_workers=a.workers):
        mask = x.map_overlap(block, depth=ghost, boundary="none", trim=True, dtype=bool)
        pts = da.argwhere(mask).compute()
    pts = np.asarray(pts, dtype=np.int64)
    pts = pts[np.lexsort(pts.T[::-1])]
    with open(a.out, "w") as fh:
        fh.write("z,y,x\n" if x.ndim == 3 else "y,x\n")
        np.savetxt(fh, pts, fmt="%d", delimiter=",")
    return {"seconds": time.perf_counter() - t0, "count": int(len(pts))}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("reduce")
    r.add_argument("array")
    r.add_argument("--ghost", type=int, default=0)
    k = sub.add_parser("peaks")
    k.add_argument("array")
    k.add_argument("out")
    k.add_argument("--sigma", type=float, required=True)
    k.add_argument("--min-distance", type=int, default=1)
    k.add_argument("--threshold", type=float, default=None)
    for s in (r, k):
        s.add_argument("--workers", type=int, default=os.cpu_count())
    a = p.parse_args()
    out = {"reduce": cmd_reduce, "peaks": cmd_peaks}[a.cmd](a)
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
