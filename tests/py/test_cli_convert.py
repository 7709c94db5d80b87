"""scout convert / info and the command's usage and error paths, against tifffile,
zarr-python and numpy."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import tifffile
import zarr

sys.path.insert(0, os.path.dirname(__file__))
from cli_common import SCOUT, TempDir, check, main, run  # noqa: E402

RNG = np.random.default_rng(20261124)


def rand(shape, dtype):
    dt = np.dtype(dtype)
    if dt.kind == "f":
        return (RNG.standard_normal(shape) * 1000).astype(dt)
    if dt.kind == "b":
        return RNG.integers(0, 2, shape).astype(bool)
    info = np.iinfo(dt)
    return RNG.integers(info.min, info.max, shape, dtype=dt, endpoint=True)


def imwrite(path, a, **kw):
    """tifffile.imwrite of a grayscale image or stack (never RGB)."""
    tifffile.imwrite(path, a, photometric="minisblack", **kw)


def read_zarr(path):
    z = zarr.open(path, mode="r")
    return z, z[...]


def test_tiff_inputs_voxel_for_voxel():
    """TIFFs written by tifffile: dtypes, 2-D, multi-page, compressed, tiled, BigTIFF, folder."""
    with TempDir() as d:
        cases = []
        for i, dt in enumerate(["uint8", "int8", "uint16", "int16", "uint32", "int32",
                                "float32", "float64", "uint64", "int64"]):
            a = rand((5, 23, 31), dt)
            p = os.path.join(d, "multi_%s.tif" % dt)
            imwrite(p, a)
            cases.append((p, a, "6,10,12"))
        a = rand((37, 41), "uint16")
        p = os.path.join(d, "single.tif")
        imwrite(p, a)
        cases.append((p, a, "16,16"))
        a = rand((4, 64, 80), "uint16")
        p = os.path.join(d, "deflate_tiled.tif")
        imwrite(p, a, compression="zlib", tile=(32, 32))
        cases.append((p, a, "3,32,64"))
        a = rand((3, 30, 20), "float32")
        p = os.path.join(d, "big.tif")
        imwrite(p, a, bigtiff=True, tile=(16, 16))
        cases.append((p, a, "2,7,9"))
        # a folder of 2-D slices
        a = rand((9, 33, 47), "uint16")
        folder = os.path.join(d, "slices")
        os.mkdir(folder)
        for z in range(a.shape[0]):
            imwrite(os.path.join(folder, "img_%03d.tif" % z), a[z])
        cases.append((folder, a, "4,16,16"))
        for k, (src, a, chunks) in enumerate(cases):
            out = os.path.join(d, "out%d.zarr" % k)
            run(["convert", "-j", "2", "--no-progress", src, out, "--chunks", chunks])
            z, b = read_zarr(out)
            check(z.dtype == a.dtype, "%s: dtype %s != %s" % (src, z.dtype, a.dtype))
            check(z.shape == a.shape, "%s: shape %s != %s" % (src, z.shape, a.shape))
            check(list(z.chunks) == [int(c) for c in chunks.split(",")], "%s: chunks" % src)
            check(np.array_equal(a, b), "%s: values differ" % src)
            # defaults as SCOUT: blosc zstd 1 bitshuffle, nested keys
            cfg = z.compressor.get_config()
            check(cfg["id"] == "blosc" and cfg["cname"] == "zstd" and cfg["clevel"] == 1
                  and cfg["shuffle"] == 2, "default compressor %s" % cfg)
            meta = json.load(open(os.path.join(out, ".zarray")))
            check(meta.get("dimension_separator") == "/", "default separator %s" % meta)


def test_default_chunks_and_info():
    with TempDir() as d:
        a = rand((70, 20, 130), "uint16")
        src = os.path.join(d, "a.tif")
        imwrite(src, a)
        out = os.path.join(d, "a.zarr")
        run(["convert", src, out])
        z, b = read_zarr(out)
        # 64 on every axis, not clipped to the shape (as SCOUT and zarr-python)
        check(z.chunks == (64, 64, 64), "default chunks %s" % (z.chunks,))
        check(np.array_equal(a, b), "values")
        info = json.loads(run(["info", "--json", out]).stdout)
        meta = json.load(open(os.path.join(out, ".zarray")))
        check(info["shape"] == list(a.shape), "info shape")
        check(info["chunks"] == [64, 64, 64], "info chunks")
        check(info["dtype"] == "<u2", "info dtype %s" % info["dtype"])
        check(info["compressor"] == meta["compressor"], "info compressor")
        check(info["kind"] == "zarr" and info["nchunks"] == 2 * 1 * 3, "info kind/nchunks")
        stored = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(out) for f in fs)
        check(info["stored_bytes"] == stored, "stored bytes %d != %d" % (info["stored_bytes"], stored))
        check(abs(info["ratio"] - a.nbytes / stored) < 1e-9, "ratio")
        ti = json.loads(run(["info", "--json", src]).stdout)
        check(ti["kind"] == "tiff" and ti["compressor"] is None and ti["shape"] == list(a.shape),
              "tiff info %s" % ti)
        text = run(["info", out]).stdout
        check("zarr" in text and "(70, 20, 130)" in text, "text info:\n" + text)


def test_codec_short_forms():
    a = rand((10, 20, 30), "int16")
    forms = {
        "blosc:lz4:5:shuffle": {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1},
        "blosc:zstd:3:noshuffle": {"id": "blosc", "cname": "zstd", "clevel": 3, "shuffle": 0},
        "blosc:blosclz:9:bitshuffle": {"id": "blosc", "cname": "blosclz", "clevel": 9, "shuffle": 2},
        "zlib:5": {"id": "zlib", "level": 5},
        "gzip:3": {"id": "gzip", "level": 3},
        "bz2:2": {"id": "bz2", "level": 2},
        "lzma:1": {"id": "lzma", "preset": 1},
        "zstd:4": {"id": "zstd", "level": 4},
        "lz4": {"id": "lz4"},
        '{"id": "zlib", "level": 7}': {"id": "zlib", "level": 7},
        "none": None,
    }
    with TempDir() as d:
        src = os.path.join(d, "a.tif")
        imwrite(src, a)
        for k, (spec, want) in enumerate(forms.items()):
            out = os.path.join(d, "c%d.zarr" % k)
            run(["convert", src, out, "--codec", spec, "--chunks", "4,8,16", "-j", "2"])
            z, b = read_zarr(out)
            check(np.array_equal(a, b), "%s: values" % spec)
            if want is None:
                check(z.compressor is None, "%s: compressor %s" % (spec, z.compressor))
                continue
            cfg = z.compressor.get_config()
            for key, v in want.items():
                check(cfg.get(key) == v, "%s: %s=%s, expected %s" % (spec, key, cfg.get(key), v))


def test_separator_and_zarr_input():
    with TempDir() as d:
        a = rand((13, 17, 19), "float32")
        src = os.path.join(d, "src.zarr")
        zs = zarr.open(src, mode="w", shape=a.shape, chunks=(5, 6, 7), dtype=a.dtype,
                       compressor=None)
        zs[...] = a
        zs.attrs["voxel_size"] = [2.0, 0.5, 0.5]
        out = os.path.join(d, "dot.zarr")
        run(["convert", src, out, "--separator", ".", "--chunks", "8,8,8"])
        meta = json.load(open(os.path.join(out, ".zarray")))
        check(meta["dimension_separator"] == ".", "separator %s" % meta)
        check(os.path.isfile(os.path.join(out, "1.2.2")), "dotted chunk keys")
        z, b = read_zarr(out)
        check(np.array_equal(a, b), "values")
        check(dict(z.attrs) == {"voxel_size": [2.0, 0.5, 0.5]}, "attributes copied: %s" % dict(z.attrs))
        out2 = os.path.join(d, "nested.zarr")
        run(["convert", out, out2])
        check(os.path.isdir(os.path.join(out2, "0", "0")), "nested keys")
        check(np.array_equal(a, read_zarr(out2)[1]), "zarr -> zarr values")


def test_dtype_conversion():
    with TempDir() as d:
        cases = [
            ("uint16", "uint8"), ("uint16", "float32"), ("int16", "uint16"),
            ("int32", "int8"), ("uint8", "float64"), ("float64", "float32"),
            ("int16", "bool"),
        ]
        for k, (s, t) in enumerate(cases):
            a = rand((6, 15, 14), s)
            src = os.path.join(d, "in%d.tif" % k)
            imwrite(src, a)
            out = os.path.join(d, "dt%d.zarr" % k)
            run(["convert", src, out, "--dtype", t, "--chunks", "4,8,8"])
            z, b = read_zarr(out)
            check(z.dtype == np.dtype(t), "%s->%s: dtype %s" % (s, t, z.dtype))
            check(np.array_equal(b, a.astype(t)), "%s->%s: values differ from numpy astype" % (s, t))
        # float -> integer for in-range values truncates toward zero, as numpy
        a = (RNG.random((5, 9, 11)) * 400 - 200).astype(np.float32)
        src = os.path.join(d, "f.tif")
        imwrite(src, a)
        out = os.path.join(d, "f2i.zarr")
        run(["convert", src, out, "--dtype", "<i2"])
        check(np.array_equal(read_zarr(out)[1], a.astype(np.int16)), "float32 -> int16")


def test_zarr_to_tiff():
    with TempDir() as d:
        a = rand((7, 21, 33), "uint16")
        src = os.path.join(d, "src.zarr")
        zs = zarr.open(src, mode="w", shape=a.shape, chunks=(3, 8, 8), dtype=a.dtype)
        zs[...] = a
        out = os.path.join(d, "out.tif")
        run(["convert", src, out])
        check(np.array_equal(tifffile.imread(out), a), "zarr -> tiff")
        out2 = os.path.join(d, "out2.tiff")
        run(["convert", src, out2, "--dtype", "float32", "--codec", "zlib:6"])
        b = tifffile.imread(out2)
        check(b.dtype == np.float32 and np.array_equal(b, a.astype(np.float32)), "zarr -> float tiff")
        with tifffile.TiffFile(out2) as tf:
            check(tf.pages[0].compression == 8 or int(tf.pages[0].compression) in (8, 32946),
                  "deflate compression: %s" % tf.pages[0].compression)


def test_help_and_version():
    for cmd in ["info", "convert", "stats", "blur", "peaks", "demo"]:
        p = run([cmd, "--help"])
        check(p.stdout.startswith("usage: scout " + cmd), "%s --help:\n%s" % (cmd, p.stdout))
        p = run([cmd, "-h"])
        check("usage:" in p.stdout, "%s -h" % cmd)
    p = run(["--help"])
    for cmd in ["info", "convert", "stats", "blur", "peaks", "demo"]:
        check(cmd in p.stdout, "scout --help lists " + cmd)
    check(run(["--version"]).stdout.startswith("scout "), "--version")


def test_bad_usage_exits_2():
    cases = [
        [], ["frobnicate"], ["--bogus"], ["info"], ["info", "a", "b"], ["info", "--bogus", "x"],
        ["convert", "in"], ["convert", "in", "out", "--chunks", "a,b"],
        ["convert", "in", "out", "--chunks", "0,4,4"], ["convert", "in", "out", "--separator", "-"],
        ["convert", "in", "out", "--dtype", "complex256x"], ["convert", "-j", "0", "in", "out"],
        ["convert", "in", "out", "--codec"], ["stats", "x", "--histogram", "0"],
        ["stats", "x", "--range", "1"], ["stats", "x", "--range", "0,1"],
        ["blur", "in", "out"], ["blur", "in", "out", "--sigma", "x"],
        ["peaks", "in", "out.csv"], ["peaks", "in", "out.csv", "--sigma", "1", "--min-distance", "-1"],
        ["demo", "--size", "3"], ["demo", "a", "b"],
    ]
    for args in cases:
        p = run(args, rc=2)
        check("usage:" in p.stderr, "%s: no usage line in %r" % (args, p.stderr))


def test_errors_exit_1():
    with TempDir() as d:
        a = rand((4, 10, 10), "uint8")
        src = os.path.join(d, "a.tif")
        imwrite(src, a)
        missing = os.path.join(d, "missing.zarr")
        for args in (["info", missing], ["stats", missing], ["convert", missing, os.path.join(d, "o.zarr")],
                     ["blur", missing, os.path.join(d, "o.zarr"), "--sigma", "1"],
                     ["peaks", missing, os.path.join(d, "o.csv"), "--sigma", "1"]):
            p = run(args, rc=1)
            check(p.stderr.startswith("scout: error:") and "missing.zarr" in p.stderr,
                  "%s: %r" % (args, p.stderr))
        for spec in ["blosc:nope:5:shuffle", "zlib:99", "blosc:lz4:5:twist", "lzz", '{"level": 1}',
                     "{not json"]:
            out = os.path.join(d, "bad.zarr")
            p = run(["convert", src, out, "--codec", spec], rc=1)
            check(p.stderr.startswith("scout: error:") and "codec" in p.stderr, "%s: %r" % (spec, p.stderr))
            check(not os.path.exists(out), "nothing written for a bad codec")
        # an existing output is refused, and left alone
        out = os.path.join(d, "exists.zarr")
        run(["convert", src, out])
        before = sorted(os.listdir(out))
        p = run(["convert", src, out], rc=1)
        check("already exists" in p.stderr and p.stderr.startswith("scout: error:"), p.stderr)
        check(sorted(os.listdir(out)) == before, "existing output untouched")
        run(["convert", src, out, "--overwrite", "--chunks", "2,5,5"])
        check(zarr.open(out, mode="r").chunks == (2, 5, 5), "--overwrite replaced it")
        # --chunks with the wrong number of axes
        p = run(["convert", src, os.path.join(d, "c.zarr"), "--chunks", "4,4"], rc=1)
        check("axes" in p.stderr, p.stderr)
        # not an array
        junk = os.path.join(d, "junk.txt")
        open(junk, "w").write("hello")
        p = run(["info", junk], rc=1)
        check(p.stderr.startswith("scout: error:"), p.stderr)
        check(not [f for f in os.listdir(d) if ".tmp-" in f], "no temporaries left: %s" % os.listdir(d))


def test_interrupted_convert_leaves_nothing():
    with TempDir() as d:
        # random data and a slow codec make the conversion last several seconds
        a = RNG.integers(0, 65535, (96, 256, 256), dtype=np.uint16)
        src = os.path.join(d, "big.tif")
        imwrite(src, a)
        for sig in (signal.SIGINT, signal.SIGTERM):
            out = os.path.join(d, "out.zarr")
            p = subprocess.Popen([SCOUT, "convert", "-j", "2", "--no-progress", src, out,
                                  "--codec", "lzma:9", "--chunks", "8,32,32"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            # wait until the temporary exists, so the signal arrives mid-run
            t0 = time.time()
            while not [f for f in os.listdir(d) if ".tmp-" in f] and time.time() - t0 < 20:
                time.sleep(0.02)
            time.sleep(0.3)
            check(p.poll() is None, "convert finished before the signal; make the input bigger")
            p.send_signal(sig)
            try:
                _, err = p.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
                raise AssertionError("convert did not stop after the signal")
            check(p.returncode == 1, "exit %d after signal %d: %s" % (p.returncode, sig, err))
            check("interrupted" in err, err)
            check(not os.path.exists(out), "OUTPUT exists after an interrupted convert")
            left = [f for f in os.listdir(d) if f != "big.tif"]
            check(not left, "left behind: %s" % left)


if __name__ == "__main__":
    main([test_tiff_inputs_voxel_for_voxel, test_default_chunks_and_info, test_codec_short_forms,
          test_separator_and_zarr_input, test_dtype_conversion, test_zarr_to_tiff,
          test_help_and_version, test_bad_usage_exits_2, test_errors_exit_1,
          test_interrupted_convert_leaves_nothing])
