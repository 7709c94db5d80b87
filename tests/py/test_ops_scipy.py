"""Check the ops kernels (src/ops) against numpy and scipy.

Runs build/tools/ops_tool on random data written to raw files and compares
with scipy.ndimage.gaussian_filter / maximum_filter, numpy mean/std/sum and
numpy.histogram. Prints the number of plateau ties among local maxima.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import scipy.ndimage as ndi

BUILD = os.environ.get("SCOUT_BUILD_DIR", "build")
TOOL = os.path.join(BUILD, "tools", "ops_tool")
failures = 0
checks = 0


def check(cond, msg):
    global failures, checks
    checks += 1
    if not cond:
        failures += 1
        print("FAIL:", msg, file=sys.stderr)


def run(*args):
    r = subprocess.run([TOOL] + [str(a) for a in args], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("ops_tool %s failed: %s" % (args, r.stderr))
    return r.stdout


def test_gaussian(tmp, rng):
    cases = [
        ((50,), (2.0,), 4.0),
        ((7,), (3.0,), 4.0),            # kernel (radius 12) longer than the line
        ((1,), (2.0,), 4.0),
        ((20, 30), (1.5, 0.7), 4.0),
        ((20, 30), (0.0, 2.0), 4.0),    # sigma 0 skips an axis
        ((3, 2), (4.0, 5.0), 4.0),      # tiny 2-D
        ((16, 17, 18), (2.0, 2.0, 2.0), 4.0),
        ((5, 4, 3), (3.0, 0.0, 5.0), 4.0),
        ((40, 33, 70), (1.0, 2.5, 0.6), 4.0),  # tile edges (70 > 64 lanes)
        ((12, 130, 9), (2.0, 1.0, 3.0), 2.5),  # other truncate
        ((9, 9, 9), (0.0, 0.0, 0.0), 4.0),     # identity
        ((2, 3, 4, 5), (1.0, 1.0, 1.0, 1.0), 4.0),
    ]
    path_in, path_out = os.path.join(tmp, "in.raw"), os.path.join(tmp, "out.raw")
    exact = total = 0
    for dtype in ("float32", "uint16", "float64"):
        for shape, sigma, trunc in cases:
            if np.dtype(dtype).kind == "u":
                x = rng.integers(0, 65536, size=shape, dtype=dtype)
            else:
                x = (rng.standard_normal(shape) * 100 + 500).astype(dtype)
            x.tofile(path_in)
            run("gauss", dtype, path_in, path_out, len(shape), *shape, *sigma, trunc)
            y = np.fromfile(path_out, np.float32).reshape(shape)
            ref = ndi.gaussian_filter(x.astype(np.float32), sigma, mode="nearest",
                                      truncate=trunc)
            err = np.max(np.abs(y.astype(np.float64) - ref) / np.maximum(np.abs(ref), 1e-30)) \
                if x.size else 0.0
            check(err <= 1e-6, "gaussian %s %s sigma %s: max rel err %g" %
                  (dtype, shape, sigma, err))
            exact += int(np.sum(y == ref))
            total += y.size
    print("gaussian_filter: %d/%d values bit-identical to scipy" % (exact, total))


def test_maxima(tmp, rng):
    path_in, path_out = os.path.join(tmp, "in.raw"), os.path.join(tmp, "out.raw")
    cases = [((60,), (2,)), ((5,), (4,)), ((30, 41), (1, 3)), ((20, 21, 70), (2, 1, 3)),
             ((40, 90), (2, 10)), ((25,), (12,)), ((6, 7, 8), (1, 9, 11)),
             ((8, 9, 10), (0, 2, 0)), ((3, 3, 3), (5, 5, 5))]
    for shape, radius in cases:
        # quantised values give many ties
        x = rng.integers(0, 20, size=shape).astype(np.float32)
        x.tofile(path_in)
        run("maxf", path_in, path_out, len(shape), *shape, *radius)
        y = np.fromfile(path_out, np.float32).reshape(shape)
        ref = ndi.maximum_filter(x, size=[2 * r + 1 for r in radius], mode="nearest")
        check(np.array_equal(y, ref), "maximum_filter %s radius %s" % (shape, radius))

    # local maxima of a blurred volume, whole and with an interior box
    ties = 0
    for shape, sigma, radius, thr in [((40, 50, 60), (2.0, 2.0, 2.0), (2, 2, 2), 0.5),
                                      ((64, 64), (1.5, 1.5), (3, 3), -1e30),
                                      ((30, 31, 32), (1.0, 2.0, 1.0), (1, 2, 3), 0.52),
                                      ((20, 24, 28), None, (1, 1, 1), 2.0)]:
        x = rng.random(shape, dtype=np.float32)
        if sigma is None:  # quantised data: plateaus, every plateau voxel is a peak
            b = np.floor(x * 4).astype(np.float32)
        else:
            b = ndi.gaussian_filter(x, sigma, mode="nearest", truncate=4.0)
        b.tofile(path_in)
        mf = ndi.maximum_filter(b, size=[2 * r + 1 for r in radius], mode="nearest")
        peaks = (b == mf) & (b >= np.float32(thr) if thr > -1e29 else b == mf)
        ref = np.argwhere(peaks)
        run("peaks", path_in, path_out, len(shape), *shape, *radius, thr)
        got = np.fromfile(path_out, np.int64).reshape(-1, len(shape))
        check(np.array_equal(got, ref), "local maxima %s: %d points vs scipy %d" %
              (shape, len(got), len(ref)))
        # plateau ties: a peak whose neighbourhood holds another voxel of equal value
        for p in ref:
            sl = tuple(slice(max(c - r, 0), c + r + 1) for c, r in zip(p, radius))
            if np.sum(b[sl] == b[tuple(p)]) > 1:
                ties += 1
        # interior box: a chunk with a ghost shell of width radius, cut out of b
        start = [s // 4 for s in shape]
        stop = [s // 4 + s // 2 for s in shape]
        gs = [max(a - r, 0) for a, r in zip(start, radius)]
        ge = [min(e + r, s) for e, r, s in zip(stop, radius, shape)]
        block = np.ascontiguousarray(b[tuple(slice(a, e) for a, e in zip(gs, ge))])
        block.tofile(path_in)
        istart = [a - g for a, g in zip(start, gs)]
        istop = [e - g for e, g in zip(stop, gs)]
        run("peaks", path_in, path_out, len(shape), *block.shape, *radius, thr, *istart, *istop)
        got = np.fromfile(path_out, np.int64).reshape(-1, len(shape)) + np.array(gs)
        inside = np.all((ref >= start) & (ref < stop), axis=1)
        check(np.array_equal(got, ref[inside]),
              "local maxima of a ghosted block %s: %d points vs %d" %
              (shape, len(got), int(inside.sum())))
    print("local maxima: %d plateau ties among the scipy peaks (all matched)" % ties)


INT_TYPES = ["bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64",
             "uint64"]


def random_data(rng, dtype, n):
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return rng.random(n) < 0.3
    if dt.kind in "iu":
        info = np.iinfo(dt)
        x = rng.integers(info.min, info.max, size=n, dtype=dt, endpoint=True)
        x[: min(n, 3)] = [info.min, info.max, 0][: min(n, 3)]
        return x
    x = (rng.standard_normal(n) * 50 + 1000).astype(dt)
    x[rng.random(n) < 0.05] = np.nan
    return x


def exact_sum(x):
    if x.dtype == np.bool_:
        return int(np.count_nonzero(x))
    return int(x.astype(object).sum()) if x.size else 0


def test_stats(tmp, rng):
    path_in = os.path.join(tmp, "in.raw")
    cases = [(d, 50003) for d in INT_TYPES + ["float16", "float32", "float64"]]
    cases += [("uint16", 1), ("float32", 1), ("int64", 0), ("float64", 0)]
    for dtype, n in cases:
        x = random_data(rng, dtype, n)
        x.tofile(path_in)
        good = x[~np.isnan(x)] if x.dtype.kind == "f" else x
        g64 = good.astype(np.float64)
        for nparts, seed in [(1, 1), (7, 2), (300, 3)]:
            out = json.loads(run("stats", dtype, path_in, nparts, seed))
            what = "stats %s n=%d parts=%d" % (dtype, n, nparts)
            check(out["count"] == good.size, what + ": count")
            check(out["nan_count"] == x.size - good.size, what + ": nan_count")
            if good.size == 0:
                check(out["mean"] is None and out["min"] is None, what + ": empty")
                continue
            if x.dtype.kind in "biu":
                check(out["sum"] == exact_sum(good), what + ": exact sum %s vs %s" %
                      (out["sum"], exact_sum(good)))
                check(out["min"] == int(good.min()) and out["max"] == int(good.max()),
                      what + ": min/max")
            else:
                check(abs(out["sum"] - g64.sum()) <= 1e-12 * np.abs(g64).sum(), what + ": sum")
                check(out["min"] == float(good.min()) and out["max"] == float(good.max()),
                      what + ": min/max")
            mean, std = np.mean(g64), np.std(g64)
            check(abs(out["mean"] - mean) <= 1e-12 * abs(mean) + 1e-300,
                  what + ": mean %r vs numpy %r" % (out["mean"], mean))
            check(abs(out["std"] - std) <= 1e-12 * abs(std) + 1e-300,
                  what + ": std %r vs numpy %r" % (out["std"], std))

    # infinities: the mean is +-inf or nan as numpy's, the std nan
    for vals in ([1.0, np.inf, 2.0], [np.inf, -np.inf, 0.0], [-np.inf, 3.0, np.nan]):
        x = np.array(vals * 1000, dtype=np.float64)
        x.tofile(path_in)
        out = json.loads(run("stats", "float64", path_in, 5, 4))
        good = x[~np.isnan(x)]
        with np.errstate(invalid="ignore"):
            mean, std = np.mean(good), np.std(good)
        # JSON has null for non-finite values
        check(out["mean"] is None and out["std"] is None and np.isnan(std),
              "stats with inf %s: %r" % (vals, out))
        check(out["min"] == (float(good.min()) if np.isfinite(good.min()) else None),
              "stats with inf %s: min %r" % (vals, out["min"]))
        check(not np.isfinite(mean), "numpy mean of %s is finite" % vals)

    # badly conditioned float data: large offset, small spread
    for dtype, offset, spread in [("float64", 1e9, 1.0), ("float32", 1e4, 0.5),
                                  ("int64", 2**40, 1000)]:
        n = 50001
        if dtype == "int64":
            x = (offset + rng.integers(-spread, spread, size=n)).astype(np.int64)
        else:
            x = (offset + rng.standard_normal(n) * spread).astype(dtype)
        x.tofile(path_in)
        g64 = x.astype(np.float64)
        out = json.loads(run("stats", dtype, path_in, 123, 9))
        check(abs(out["mean"] - np.mean(g64)) <= 1e-12 * abs(np.mean(g64)),
              "stats %s offset %g: mean %r vs %r" % (dtype, offset, out["mean"], np.mean(g64)))
        check(abs(out["std"] - np.std(g64)) <= 1e-9 * np.std(g64),
              "stats %s offset %g: std %r vs %r" % (dtype, offset, out["std"], np.std(g64)))


def test_histogram(tmp, rng):
    path_in = os.path.join(tmp, "in.raw")
    for dtype, n in [(d, n) for d in INT_TYPES + ["float16", "float32", "float64"]
                     for n in (20011, 999)]:  # 8/16-bit: table and direct paths
        x = random_data(rng, dtype, n)
        if x.dtype.kind == "f":
            lo, hi = 900.1, 1100.3
            # put values exactly on the edges (as the data's type)
            edges = np.linspace(lo, hi, 14).astype(x.dtype)
            x[:14] = edges
        elif x.dtype.kind == "b":
            lo, hi = 0.0, 1.0
        else:
            info = np.iinfo(x.dtype)
            lo, hi = float(info.min) / 3, float(info.max) / 2
        x.tofile(path_in)
        configs = [(13, lo, hi), (1, lo, hi), (256, lo, hi), (5, 0.0, 0.0)]
        for bins, rlo, rhi in configs if n > 1000 else configs[:1]:
            out = json.loads(run("stats", dtype, path_in, 17, 5, bins, repr(rlo), repr(rhi)))
            data = x.astype(np.uint8) if x.dtype == np.bool_ else x
            counts, edges = np.histogram(data, bins, range=(rlo, rhi))
            check(out["histogram"]["counts"] == counts.tolist(),
                  "histogram %s bins %d range (%r, %r): %s vs numpy %s" %
                  (dtype, bins, rlo, rhi, out["histogram"]["counts"][:8],
                   counts.tolist()[:8]))
            wlo, whi = (rlo - 0.5, rhi + 0.5) if rlo == rhi else (rlo, rhi)
            ours = np.array(out["histogram"]["edges"])
            check(np.array_equal(ours, np.linspace(wlo, whi, bins + 1)) and
                  np.array_equal(ours.astype(edges.dtype), edges),
                  "histogram edges %s bins %d" % (dtype, bins))


def test_convert(tmp, rng):
    pin, pout = os.path.join(tmp, "in.raw"), os.path.join(tmp, "out.raw")
    for dtype in INT_TYPES + ["float16", "float32", "float64"]:
        x = random_data(rng, dtype, 5000)
        if dtype == "float16":
            x = rng.integers(0, 65536, size=65536, dtype=np.uint16).view(np.float16)
        x.tofile(pin)
        run("convert", dtype, pin, pout, x.size)
        y = np.fromfile(pout, np.float32)
        ref = x.astype(np.float32)
        check(np.array_equal(y, ref, equal_nan=True), "to_float32 %s" % dtype)
    # float32 -> float16 rounding, every class of value
    f = rng.integers(0, 2**32, size=200000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    f = np.concatenate([f, (rng.standard_normal(100000) * 1e-5).astype(np.float32),
                        np.float32([65504, 65519.99, 65520, 6e-8, 3e-8, 2.98e-8, -0.0])])
    f.tofile(pin)
    run("unconvert", "float16", pin, pout, f.size)
    h = np.fromfile(pout, np.float16)
    with np.errstate(over="ignore"):
        ref = f.astype(np.float16)
    nan = np.isnan(ref)
    check(np.array_equal(np.isnan(h), nan) and np.array_equal(h[~nan].view(np.uint16),
                                                              ref[~nan].view(np.uint16)),
          "from_float32 float16: %d mismatches" % int(np.sum(h.view(np.uint16) !=
                                                           ref.view(np.uint16))))
    # float32 -> uint16: round half away from zero, saturate
    f = np.float32([-5, -0.4, 0.4, 0.5, 1.5, 2.5, 1000.49, 65535.4, 65536, 1e9, np.nan])
    f.tofile(pin)
    run("unconvert", "uint16", pin, pout, f.size)
    u = np.fromfile(pout, np.uint16)
    ref = np.clip(np.where(np.isnan(f), 0, np.sign(f) * np.floor(np.abs(f) + 0.5)), 0, 65535)
    check(np.array_equal(u, ref.astype(np.uint16)), "from_float32 uint16: %s vs %s" % (u, ref))


def main():
    if not os.path.exists(TOOL):
        print("ops_tool not built at", TOOL, file=sys.stderr)
        return 1
    tmp = tempfile.mkdtemp(prefix="scout-ops-")
    try:
        rng = np.random.default_rng(20261124)
        test_gaussian(tmp, rng)
        test_maxima(tmp, rng)
        test_stats(tmp, rng)
        test_histogram(tmp, rng)
        test_convert(tmp, rng)
    finally:
        shutil.rmtree(tmp)
    print("%d checks, %d failed" % (checks, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
