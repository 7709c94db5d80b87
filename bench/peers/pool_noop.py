#!/usr/bin/python3
"""Peer of bench_pmap_overhead: multiprocessing.Pool.map of a no-op over 1e6 items
(default workers = os.cpu_count(), default chunksize), printing us/item, best of 3.
The pool is started before timing; scout's timing includes its fork."""
import multiprocessing
import multiprocessing.pool
import os
import sys
import time


def noop(x):
    return None


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    print(f"multiprocessing.Pool.map, no-op, {n} items, {os.cpu_count()} CPUs, best of 3")
    for label, make in (("Pool.map (processes)", multiprocessing.Pool),
                        ("ThreadPool.map", multiprocessing.pool.ThreadPool)):
        best = float("inf")
        with make() as pool:  # pool start-up is not timed, like scout's fork is
            for _ in range(3):
                t0 = time.perf_counter()
                out = pool.map(noop, range(n))
                best = min(best, time.perf_counter() - t0)
                assert len(out) == n
        print(f"{label:40s} {best:8.3f} s  {best * 1e6 / n:7.3f} us/item")


if __name__ == "__main__":
    main()
