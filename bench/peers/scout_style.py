#!/usr/bin/python3
"""SCOUT's own way, as its utils module does it: multiprocessing.Pool.starmap
of a function f(arr, start_coord, chunks) over the chunk start coordinates,
zarr-python reads and writes, scipy.ndimage kernels.

usage:
  scout_style.py reduce ARRAY [--ghost N] [--workers W]
  scout_style.py peaks ARRAY OUT.csv --sigma S [--min-distance D] [--threshold T] [--workers W]
  scout_style.py convert TIFF_DIR OUT.zarr [--chunks C] [--workers W]
  scout_style.py noop N [--workers W]

Prints one JSON object on stdout with "seconds" (the work itself, including
the Pool's start as SCOUT's pmap_chunks pays it, not the interpreter's start)
and the results.
"""
import argparse
import itertools
import json
import multiprocessing
import os
import sys
import time

import numpy as np


# --- SCOUT's utils, as documented (scout-utils-api) -------------------------

def chunk_dims(img_shape, chunk_shape):
    return tuple(int(np.ceil(s / c)) for s, c in zip(img_shape, chunk_shape))


def chunk_coordinates(shape, chunks):
    nb = chunk_dims(shape, chunks)
    return [tuple(i * c for i, c in zip(idx, chunks))
            for idx in itertools.product(*(range(n) for n in nb))]


def extract_ghosted_chunk(arr, start_coord, chunks, overlap):
    start_ghosted = tuple(max(0, s - overlap) for s in start_coord)
    stop_ghosted = tuple(min(n, s + c + overlap)
                         for s, c, n in zip(start_coord, chunks, arr.shape))
    box = tuple(slice(a, b) for a, b in zip(start_ghosted, stop_ghosted))
    return arr[box], start_ghosted


def pmap_chunks(f, arr, chunks=None, nb_workers=None):
    if chunks is None:
        chunks = arr.chunks
    args = [(arr, start, chunks) for start in chunk_coordinates(arr.shape, chunks)]
    with multiprocessing.Pool(nb_workers) as pool:
        return pool.starmap(f, args)


# --- workloads ---------------------------------------------------------------

def reduce_chunk(arr, start, chunks, ghost=0):
    if ghost:
        data, _ = extract_ghosted_chunk(arr, start, chunks, ghost)
    else:
        box = tuple(slice(s, min(s + c, n)) for s, c, n in zip(start, chunks, arr.shape))
        data = arr[box]
    return int(data.sum(dtype=np.uint64)), int(data.min()), int(data.max())


def cmd_reduce(a):
    import zarr
    from functools import partial

    t0 = time.perf_counter()
    arr = zarr.open(a.array, mode="r")
    res = pmap_chunks(partial(reduce_chunk, ghost=a.ghost), arr, nb_workers=a.workers)
    out = {"seconds": time.perf_counter() - t0, "chunks": len(res),
           "sum": sum(r[0] for r in res), "min": min(r[1] for r in res),
           "max": max(r[2] for r in res)}
    return out


def peaks_chunk(arr, start, chunks, sigma, min_distance, threshold):
    from scipy import ndimage as ndi

    radius = int(4.0 * sigma + 0.5)
    ghost = radius + min_distance
    data, gstart = extract_ghosted_chunk(arr, start, chunks, ghost)
    f = ndi.gaussian_filter(data.astype(np.float32), sigma, mode="nearest", truncate=4.0)
    m = ndi.maximum_filter(f, size=2 * min_distance + 1, mode="nearest")
    mask = f == m
    if threshold is not None:
        mask &= f >= threshold
    # keep the chunk proper (SCOUT's filter_ghosted_points)
    inner = tuple(slice(s - g, min(s + c, n) - g)
                  for s, g, c, n in zip(start, gstart, chunks, arr.shape))
    interior = np.zeros_like(mask)
    interior[inner] = True
    pts = np.argwhere(mask & interior) + np.asarray(gstart)
    return pts


def cmd_peaks(a):
    import zarr
    from functools import partial

    t0 = time.perf_counter()
    arr = zarr.open(a.array, mode="r")
    res = pmap_chunks(partial(peaks_chunk, sigma=a.sigma, min_distance=a.min_distance,
                              threshold=a.threshold), arr, nb_workers=a.workers)
    pts = np.concatenate([r for r in res if len(r)]) if any(len(r) for r in res) \
        else np.zeros((0, arr.ndim), dtype=np.int64)
    order = np.lexsort(pts.T[::-1])
    pts = pts[order]
    with open(a.out, "w") as fh:
        fh.write("z,y,x\n" if arr.ndim == 3 else "y,x\n")
        np.savetxt(fh, pts, fmt="%d", delimiter=",")
    return {"seconds": time.perf_counter() - t0, "count": int(len(pts))}


def convert_slab(paths, z0, out_path):
    import tifffile
    import zarr

    slab = np.stack([tifffile.imread(p) for p in paths])
    out = zarr.open(out_path, mode="r+")
    out[z0:z0 + len(paths)] = slab
    return len(paths)


def cmd_convert(a):
    import tifffile
    import zarr
    from numcodecs import Blosc

    t0 = time.perf_counter()
    names = sorted(n for n in os.listdir(a.tiff_dir) if n.lower().endswith((".tif", ".tiff")))
    paths = [os.path.join(a.tiff_dir, n) for n in names]
    first = tifffile.imread(paths[0])
    shape = (len(paths),) + first.shape
    chunks = tuple(min(a.chunks, s) for s in shape)
    zarr.open(a.out, mode="w", shape=shape, chunks=chunks, dtype=first.dtype,
              compressor=Blosc(cname="zstd", clevel=1, shuffle=Blosc.BITSHUFFLE),
              dimension_separator="/")
    args = [(paths[z0:z0 + chunks[0]], z0, a.out) for z0 in range(0, shape[0], chunks[0])]
    with multiprocessing.Pool(a.workers) as pool:
        n = sum(pool.starmap(convert_slab, args))
    return {"seconds": time.perf_counter() - t0, "slices": n}


def noop(x):
    return None


def cmd_noop(a):
    t0 = time.perf_counter()
    with multiprocessing.Pool(a.workers) as pool:
        t1 = time.perf_counter()
        pool.map(noop, range(a.n))
        t2 = time.perf_counter()
    return {"seconds": time.perf_counter() - t0, "map_seconds": t2 - t1, "n": a.n,
            "us_per_item": 1e6 * (t2 - t1) / a.n}


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
    c = sub.add_parser("convert")
    c.add_argument("tiff_dir")
    c.add_argument("out")
    c.add_argument("--chunks", type=int, default=64)
    n = sub.add_parser("noop")
    n.add_argument("n", type=int)
    for s in (r, k, c, n):
        s.add_argument("--workers", type=int, default=os.cpu_count())
    a = p.parse_args()
    out = {"reduce": cmd_reduce, "peaks": cmd_peaks, "convert": cmd_convert,
           "noop": cmd_noop}[a.cmd](a)
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
