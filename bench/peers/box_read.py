#!/usr/bin/python3
"""Peers of bench_box_io: open a Zarr array and read it whole into memory.

usage: box_read.py gdal|zarr ARRAY_DIR [THREADS] [REPS]
  gdal  GDAL's Zarr driver (multidimensional API: OpenEx(OF_MULTIDIM_RASTER),
        the root group's one array, ReadAsArray), GDAL_NUM_THREADS=THREADS
        (set before GDAL is imported)
  zarr  zarr-python: zarr.open(ARRAY_DIR, "r")[:]
Each repetition times the open and the read (after the interpreter and the
modules have started). prints "seconds <median> cpu_seconds <median> sum <sum>".
"""
import os
import statistics
import sys
import time


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("gdal", "zarr"):
        print(__doc__, file=sys.stderr)
        return 2
    which, path = sys.argv[1], sys.argv[2]
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else os.cpu_count()
    reps = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    if which == "gdal":
        os.environ["GDAL_NUM_THREADS"] = str(threads)
        from osgeo import gdal
        gdal.UseExceptions()

        def read():
            ds = gdal.OpenEx(path, gdal.OF_MULTIDIM_RASTER)
            rg = ds.GetRootGroup()
            a = rg.OpenMDArray(rg.GetMDArrayNames()[0])
            return a.ReadAsArray()
    else:
        import zarr

        def read():
            return zarr.open(path, "r")[:]
    times, cpus, total = [], [], None
    for _ in range(reps):
        t0, c0 = time.perf_counter(), time.process_time()
        x = read()
        times.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        total = int(x.sum(dtype="uint64"))
        del x
    print("seconds %.4f cpu_seconds %.4f sum %d" % (statistics.median(times),
                                                    statistics.median(cpus), total))
    return 0


if __name__ == "__main__":
    sys.exit(main())
