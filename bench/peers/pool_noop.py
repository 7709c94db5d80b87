#!/usr/bin/python3
"""Peer of bench_pmap_overhead: multiprocessing.Pool.map of a no-op over 1e6 items
(default workers = os.cpu_count(), default chunksize), printing us/item."""
import multiprocessing
import os
import sys
import time


def noop(x):
    return None


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with multiprocessing.Pool() as pool:
        t0 = time.perf_counter()
        out = pool.map(noop, range(n))
        t = time.perf_counter() - t0
    assert len(out) == n
    print(f"multiprocessing.Pool.map, no-op, {n} items, {os.cpu_count()} CPUs")
    print(f"{'Pool.map (processes)':40s} {t:8.3f} s  {t * 1e6 / n:7.3f} us/item")
    with multiprocessing.pool.ThreadPool() as pool:
        t0 = time.perf_counter()
        out = pool.map(noop, range(n))
        t = time.perf_counter() - t0
    print(f"{'ThreadPool.map':40s} {t:8.3f} s  {t * 1e6 / n:7.3f} us/item")


if __name__ == "__main__":
    main()
