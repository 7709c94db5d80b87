"""scout stats / blur / peaks / demo against numpy and scipy.ndimage."""
import json
import os
import re
import sys

import numpy as np
import tifffile
import zarr
from scipy import ndimage

sys.path.insert(0, os.path.dirname(__file__))
from cli_common import TempDir, check, main, run  # noqa: E402

RNG = np.random.default_rng(4242)


def write_zarr(path, a, chunks):
    z = zarr.open(path, mode="w", shape=a.shape, chunks=chunks, dtype=a.dtype)
    z[...] = a
    return path


def rel(a, b):
    return abs(a - b) / max(abs(b), 1e-300)


def stats_json(path, *extra):
    return json.loads(run(["stats", "--json", "-j", "2", path] + list(extra)).stdout)


def test_stats_integers_exact():
    with TempDir() as d:
        for dt, lo, hi in [("uint16", 0, 65535), ("int32", -2**31, 2**31 - 1),
                           ("int64", -2**62, 2**62), ("uint8", 0, 255), ("int8", -128, 127)]:
            a = RNG.integers(lo, hi, (23, 31, 17), dtype=dt, endpoint=True)
            p = write_zarr(os.path.join(d, dt + ".zarr"), a, (8, 8, 8))
            s = stats_json(p)
            check(s["count"] == a.size, "%s count" % dt)
            exact = sum(int(v) for v in a.ravel())  # Python ints: exact
            check(s["sum"] == exact, "%s sum %s != %s" % (dt, s["sum"], exact))
            check(s["min"] == int(a.min()) and s["max"] == int(a.max()), "%s min/max" % dt)
            a64 = a.astype(np.float64)
            check(rel(s["mean"], a64.mean()) < 1e-12, "%s mean %r vs %r" % (dt, s["mean"], a64.mean()))
            check(rel(s["std"], a64.std()) < 1e-12, "%s std %r vs %r" % (dt, s["std"], a64.std()))
            check(s.get("nan_count", 0) == 0, "%s nan_count" % dt)


def test_stats_floats_nan_and_histogram():
    with TempDir() as d:
        a = (RNG.standard_normal((19, 25, 33)) * 50 + 7).astype(np.float32)
        a.ravel()[RNG.choice(a.size, 97, replace=False)] = np.nan
        p = write_zarr(os.path.join(d, "f.zarr"), a, (7, 9, 11))
        s = stats_json(p, "--histogram", "17")
        good = a[~np.isnan(a)].astype(np.float64)
        check(s["nan_count"] == 97 and s["count"] == good.size, "float counts %s" % s)
        check(rel(s["sum"], good.sum()) < 1e-12, "float sum")
        check(rel(s["mean"], good.mean()) < 1e-12 and rel(s["std"], good.std()) < 1e-12,
              "float mean/std %r %r vs %r %r" % (s["mean"], s["std"], good.mean(), good.std()))
        check(s["min"] == float(good.min()) and s["max"] == float(good.max()), "float min/max")
        counts, edges = np.histogram(a[~np.isnan(a)], 17)
        h = s["histogram"]
        check(h["counts"] == counts.tolist(), "histogram counts %s vs %s" % (h["counts"], counts))
        check(np.allclose(h["edges"], edges, rtol=1e-6), "histogram edges")
        # explicit range, uint16 TIFF folder input, one pass
        b = RNG.integers(0, 4000, (6, 40, 50), dtype=np.uint16)
        folder = os.path.join(d, "slices")
        os.mkdir(folder)
        for z in range(b.shape[0]):
            tifffile.imwrite(os.path.join(folder, "s%02d.tif" % z), b[z])
        s = stats_json(folder, "--histogram", "10", "--range", "500,3000")
        counts, edges = np.histogram(b, 10, range=(500, 3000))
        check(s["histogram"]["counts"] == counts.tolist(), "ranged histogram")
        check(s["sum"] == int(b.sum(dtype=np.int64)), "tiff folder sum")
        text = run(["stats", folder, "--histogram", "3"]).stdout
        check(re.search(r"^sum:\s+%d$" % int(b.sum(dtype=np.int64)), text, re.M), "text stats:\n" + text)


def scipy_blur(a, sigma):
    return ndimage.gaussian_filter(a.astype(np.float32), sigma, mode="nearest", truncate=4.0)


def test_blur_matches_scipy_whatever_the_chunking():
    with TempDir() as d:
        a = RNG.integers(0, 5000, (30, 41, 37), dtype=np.uint16)
        src = write_zarr(os.path.join(d, "a.zarr"), a, (10, 16, 16))
        for sigma, arg in [(1.5, "1.5"), ((0.8, 2.0, 1.2), "0.8,2,1.2")]:
            ref = scipy_blur(a, sigma)
            results = []
            for chunks in ["16,16,16", "7,30,5", "30,41,37"]:
                out = os.path.join(d, "b_%s_%s.zarr" % (arg, chunks))
                run(["blur", src, out, "--sigma", arg, "--chunks", chunks, "-j", "2"])
                z = zarr.open(out, mode="r")
                check(z.dtype == np.float32 and z.chunks == tuple(int(c) for c in chunks.split(",")),
                      "blur output dtype/chunks")
                b = z[...]
                err = np.max(np.abs(b - ref) / np.maximum(np.abs(ref), 1e-6))
                check(err <= 1e-4, "sigma %s chunks %s: max relative error %g" % (arg, chunks, err))
                results.append(b)
            for b in results[1:]:
                check(np.array_equal(b, results[0]), "sigma %s: chunkings disagree" % arg)
        # float input from a TIFF, cast back to uint16 (rounded, saturated)
        f = (RNG.random((12, 20, 22)) * 1000).astype(np.float32)
        tif = os.path.join(d, "f.tif")
        tifffile.imwrite(tif, f, photometric="minisblack")
        out = os.path.join(d, "u.zarr")
        run(["blur", tif, out, "--sigma", "1", "--dtype", "uint16", "--chunks", "5,8,8"])
        u = zarr.open(out, mode="r")[...]
        ref = scipy_blur(f, 1.0)
        check(u.dtype == np.uint16 and np.max(np.abs(u.astype(np.float64) - np.rint(ref))) <= 1,
              "blur --dtype uint16")


def read_csv(path, ndim=3):
    lines = open(path).read().splitlines()
    check(lines[0] == ",".join("zyx"[3 - ndim:]), "CSV header %r" % lines[0])
    pts = [tuple(int(v) for v in l.split(",")) for l in lines[1:]]
    check(pts == sorted(pts), "CSV not sorted")
    return pts


def scipy_peaks(a, sigma, dist, threshold):
    b = scipy_blur(a, sigma)
    m = ndimage.maximum_filter(b, size=2 * dist + 1, mode="nearest")
    return b, m, set(map(tuple, np.argwhere((b == m) & (b >= threshold)).tolist()))


def compare_peaks(got, b, m, ref, what):
    """Equal sets, except where float rounding makes near-ties (counted and reported)."""
    diff = set(got) ^ ref
    ties = [p for p in diff if abs(float(b[p]) - float(m[p])) <= 1e-5 * max(abs(float(m[p])), 1.0)]
    check(len(ties) == len(diff), "%s: %d points differ from scipy beyond rounding: %s"
          % (what, len(diff) - len(ties), sorted(diff - set(ties))[:10]))
    if ties:
        print("    %s: %d near-tie points differ from scipy (float rounding)" % (what, len(ties)))
    return len(ties)


def test_peaks_match_scipy_whatever_the_chunking():
    with TempDir() as d:
        # blobs on noise, plus plain noise (many peaks, many chunk borders crossed)
        shape = (32, 45, 38)
        zz, yy, xx = np.indices(shape)
        a = RNG.normal(100, 5, shape)
        for _ in range(25):
            c = RNG.random(3) * np.array(shape)
            a += 800 * np.exp(-((zz - c[0]) ** 2 + (yy - c[1]) ** 2 + (xx - c[2]) ** 2) / (2 * 2.0 ** 2))
        a = np.clip(np.rint(a), 0, 65535).astype(np.uint16)
        src = write_zarr(os.path.join(d, "a.zarr"), a, (16, 16, 16))
        noise = RNG.integers(0, 1000, (20, 27, 23), dtype=np.uint16)
        nsrc = write_zarr(os.path.join(d, "n.zarr"), noise, (20, 27, 23))
        ties = 0
        for path, arr, sigma, dist, thr in [(src, a, 1.5, 2, 150.0), (nsrc, noise, 1.0, 1, None),
                                            (src, a, 0.0, 3, 300.0)]:
            b, m, ref = scipy_peaks(arr, sigma, dist, -np.inf if thr is None else thr)
            check(len(ref) > 3, "reference has peaks")
            sets = []
            for chunks in ["16,16,16", "5,9,7", "64,64,64"]:
                out = os.path.join(d, "p.csv")
                args = ["peaks", path, out, "--sigma", str(sigma), "--min-distance", str(dist),
                        "--chunks", chunks, "-j", "2", "--overwrite", "--json"]
                if thr is not None:
                    args += ["--threshold", str(thr)]
                p = run(args)
                got = read_csv(out)
                check(json.loads(p.stdout)["count"] == len(got), "--json count")
                ties += compare_peaks(got, b, m, ref, "%s sigma %s chunks %s" % (os.path.basename(path), sigma, chunks))
                sets.append(got)
            for s in sets[1:]:
                check(s == sets[0], "peaks depend on the chunking")
        print("    near ties vs scipy: %d" % ties)
        # 2-D input: header y,x
        img = (RNG.random((40, 50)) * 100).astype(np.float32)
        tif = os.path.join(d, "img.tif")
        tifffile.imwrite(tif, img)
        out = os.path.join(d, "p2.csv")
        run(["peaks", tif, out, "--sigma", "1", "--chunks", "16,16"])
        b, m, ref = scipy_peaks(img, 1.0, 1, -np.inf)
        compare_peaks(read_csv(out, 2), b, m, ref, "2-D")


def test_demo_small():
    with TempDir() as d:
        p = run(["demo", "--size", "64", "-j", "2", "--no-progress", d])
        out = p.stdout
        m = re.search(r"^\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+[\d.]+ voxels$", out, re.M)
        check(m, "no planted/detected table in:\n" + out)
        planted, detected, missed, false = map(int, m.groups())
        check(planted >= 5 and detected == planted and missed == 0 and false == 0,
              "demo detection: %s" % (m.groups(),))
        for step in ["synth", "convert", "stats", "blur", "peaks"]:
            check(re.search(r"^%s\s+[\d.]+ s" % step, out, re.M), "no time for " + step)
        # the files are there and agree with each other
        vol = zarr.open(os.path.join(d, "volume.zarr"), mode="r")[...]
        sl = np.stack([tifffile.imread(f) for f in sorted(
            os.path.join(d, "slices", n) for n in os.listdir(os.path.join(d, "slices")))])
        check(np.array_equal(vol, sl), "demo volume.zarr == slices")
        check(re.search(r"^sum:\s+%d$" % int(vol.sum(dtype=np.int64)), out, re.M), "demo stats sum")
        pts = read_csv(os.path.join(d, "peaks.csv"))
        check(len(pts) == planted, "peaks.csv rows")


if __name__ == "__main__":
    main([test_stats_integers_exact, test_stats_floats_nan_and_histogram,
          test_blur_matches_scipy_whatever_the_chunking, test_peaks_match_scipy_whatever_the_chunking,
          test_demo_small])
