#!/usr/bin/python3
"""Generate the benchmark datasets once, with zarr-python, as SCOUT writes them.

Every dataset is a uint16 "nuclei-like" volume: a noisy background (about 100)
with bright Gaussian blobs (nuclei of radius ~4 voxels, peak ~1000-3000),
spread uniformly at random. The values depend only on the seed and on the
global voxel position, so a 512^3 array in 16^3 chunks holds the same voxels as
the 512^3 array in 64^3 chunks.

Zarr arrays: Zarr v2, nested keys ('/'), blosc zstd clevel 1 bitshuffle, "<u2",
fill value 0, written slab by slab (whole chunks) by zarr-python.
TIFF folders: one 2-D uint16 TIFF per z slice (tifffile.imwrite, uncompressed),
named slice_0000.tif ...

usage: gen_data.py DATA_DIR NAME [NAME ...]
  NAME is  vol<N>          N^3 in 64^3 chunks
           vol<N>_c<C>     N^3 in C^3 chunks
           tif<Z>x<Y>x<X>  a folder of Z slices of Y x X
A dataset is written under DATA_DIR/NAME.tmp and renamed to DATA_DIR/NAME when
complete, so an interrupted run never leaves a partial dataset behind; an
existing DATA_DIR/NAME is kept (the cache). A lock (DATA_DIR/NAME.lock) makes a
second generator of the same dataset wait for the first.
"""
import fcntl
import os
import re
import shutil
import sys
import time

import numpy as np

SEED = 20261124
BLOB_R = 7  # template half-width (voxels)
BLOB_SIGMA = 2.5
SPACING = 16  # mean distance between nuclei (voxels): density 1 / SPACING^3


def blob_template():
    r = np.arange(-BLOB_R, BLOB_R + 1, dtype=np.float32)
    g = np.exp(-(r**2) / (2 * BLOB_SIGMA**2))
    return g[:, None, None] * g[None, :, None] * g[None, None, :]


def nuclei(shape):
    """Centres (int64, n x 3) and amplitudes of the nuclei of a volume."""
    rng = np.random.default_rng(SEED)
    vol = float(shape[0]) * shape[1] * shape[2]
    n = int(vol / SPACING**3)
    centres = np.stack([rng.integers(0, s, n) for s in shape], axis=1)
    amps = rng.uniform(900, 2900, n).astype(np.float32)
    order = np.argsort(centres[:, 0], kind="stable")
    return centres[order], amps[order]


def make_slab(z0, z1, shape, centres, amps, tmpl):
    """Voxels [z0, z1) x full Y x full X as uint16."""
    ny, nx = shape[1], shape[2]
    rng = np.random.default_rng([SEED, z0, z1])
    slab = np.empty((z1 - z0, ny, nx), dtype=np.float32)
    slab[...] = rng.integers(80, 121, size=slab.shape, dtype=np.uint16)
    lo = np.searchsorted(centres[:, 0], z0 - BLOB_R, side="left")
    hi = np.searchsorted(centres[:, 0], z1 + BLOB_R, side="left")
    R = BLOB_R
    for (cz, cy, cx), a in zip(centres[lo:hi], amps[lo:hi]):
        # box of the blob clipped to the slab and the volume
        bz0, bz1 = max(cz - R, z0), min(cz + R + 1, z1)
        by0, by1 = max(cy - R, 0), min(cy + R + 1, ny)
        bx0, bx1 = max(cx - R, 0), min(cx + R + 1, nx)
        if bz0 >= bz1:
            continue
        t = tmpl[bz0 - (cz - R) : bz1 - (cz - R), by0 - (cy - R) : by1 - (cy - R),
                 bx0 - (cx - R) : bx1 - (cx - R)]
        slab[bz0 - z0 : bz1 - z0, by0:by1, bx0:bx1] += a * t
    np.clip(slab, 0, 65535, out=slab)
    return slab.astype(np.uint16)


def gen_zarr(path, n, c):
    import zarr
    from numcodecs import Blosc

    shape = (n, n, n)
    z = zarr.open(path, mode="w", shape=shape, chunks=(c, c, c), dtype="<u2",
                  compressor=Blosc(cname="zstd", clevel=1, shuffle=Blosc.BITSHUFFLE),
                  fill_value=0, dimension_separator="/")
    centres, amps = nuclei(shape)
    tmpl = blob_template()
    slab_z = c * max(1, 64 // c)  # whole chunks, about 64 planes
    for z0 in range(0, n, slab_z):
        z1 = min(z0 + slab_z, n)
        z[z0:z1] = make_slab(z0, z1, shape, centres, amps, tmpl)


def gen_tif(path, nz, ny, nx):
    import tifffile

    shape = (nz, ny, nx)
    os.makedirs(path)
    centres, amps = nuclei(shape)
    tmpl = blob_template()
    for z0 in range(0, nz, 64):
        z1 = min(z0 + 64, nz)
        slab = make_slab(z0, z1, shape, centres, amps, tmpl)
        for k in range(z1 - z0):
            tifffile.imwrite(os.path.join(path, "slice_%04d.tif" % (z0 + k)), slab[k])


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    root = sys.argv[1]
    os.makedirs(root, exist_ok=True)
    for name in sys.argv[2:]:
        final = os.path.join(root, name)
        if os.path.exists(final):
            continue
        # one generator per dataset at a time: a second one waits, then finds it
        lock = open(final + ".lock", "w")
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(final):
            lock.close()
            continue
        tmp = final + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        t0 = time.time()
        m = re.fullmatch(r"vol(\d+)(?:_c(\d+))?", name)
        t = re.fullmatch(r"tif(\d+)x(\d+)x(\d+)", name)
        if m:
            gen_zarr(tmp, int(m.group(1)), int(m.group(2) or 64))
        elif t:
            gen_tif(tmp, int(t.group(1)), int(t.group(2)), int(t.group(3)))
        else:
            sys.exit("gen_data.py: unknown dataset name %r" % name)
        os.rename(tmp, final)
        lock.close()
        print("gen_data.py: wrote %s in %.1f s" % (final, time.time() - t0), file=sys.stderr)


if __name__ == "__main__":
    main()
