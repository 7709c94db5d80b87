"""scout pyramid / convert --ome: OME-Zarr (NGFF 0.4) multiscale images.

Every level is compared with a reference computed here with numpy (block mean
rounded to nearest, first voxel, block mode with ties to the smallest) or scipy
(gaussian), the levels chosen with the rule written out independently below,
the metadata checked rule by rule against the NGFF 0.4 specification text, and
everything read back through zarr-python 2 (Debian's python3-zarr).
"""
import json
import math
import os
import sys

import numpy as np
import scipy.ndimage as ndi
import tifffile
import zarr

sys.path.insert(0, os.path.dirname(__file__))
from cli_common import TempDir, check, main, recompress_chunk, run, scout_blosc  # noqa: E402

RNG = np.random.default_rng(20261130)

# UDUNITS-2 space units listed by the 0.4 specification ("axes" metadata)
SPACE_UNITS = {'angstrom', 'attometer', 'centimeter', 'decimeter', 'exameter', 'femtometer',
               'foot', 'gigameter', 'hectometer', 'inch', 'kilometer', 'megameter', 'meter',
               'micrometer', 'mile', 'millimeter', 'nanometer', 'parsec', 'petameter',
               'picometer', 'terameter', 'yard', 'yoctometer', 'yottameter', 'zeptometer',
               'zettameter'}


# ---- independent references ----

def plan_ref(shape, chunks, voxel, max_levels=0):
    """Step factors per level, from the rule as documented (scout pyramid --help)."""
    s = list(shape)
    v = list(voxel) if voxel else [1.0] * len(shape)
    steps = [[1] * len(shape)]
    limit = max_levels or 32
    while len(steps) < limit:
        if all(s[i] <= chunks[i] for i in range(len(s))):
            break
        live = [i for i in range(len(s)) if s[i] > 1]
        if not live:
            break
        vmax = max(v[i] for i in live)
        f = [2 if (i in live and v[i] * math.sqrt(2) < vmax) else 1 for i in range(len(s))]
        if not any(x == 2 for x in f):
            f = [2 if i in live else 1 for i in range(len(s))]
        s = [-(-s[i] // f[i]) for i in range(len(s))]
        v = [v[i] * f[i] for i in range(len(s))]
        steps.append(f)
    return steps


def blocks(a, f):
    """Yield (out_index, block) over the blocks of a (edge blocks clipped)."""
    out_shape = tuple(-(-n // k) for n, k in zip(a.shape, f))
    for idx in np.ndindex(*out_shape):
        sl = tuple(slice(i * k, i * k + k) for i, k in zip(idx, f))
        yield idx, a[sl]


def block_sums(a, f):
    """Sums and counts of every block, with np.add.reduceat (exact for integers in int64)."""
    acc = a.astype(np.float64 if a.dtype.kind == "f" else np.int64)
    cnt = np.ones(a.shape, np.int64)
    for ax, k in enumerate(f):
        starts = np.arange(0, a.shape[ax], k)
        acc = np.add.reduceat(acc, starts, axis=ax)
        cnt = np.add.reduceat(cnt, starts, axis=ax)
    return acc, cnt


def mean_ref(a, f):
    s, n = block_sums(a, f)
    if a.dtype.kind == "f":
        return (s / n).astype(a.dtype)
    # round half away from zero, exactly, in integers
    q = np.where(s >= 0, (2 * s + n) // (2 * n), -((-2 * s + n) // (2 * n)))
    return q.astype(a.dtype)


def nearest_ref(a, f):
    return a[tuple(slice(None, None, k) for k in f)]


def mode_ref(a, f):
    out = np.empty(tuple(-(-n // k) for n, k in zip(a.shape, f)), a.dtype)
    for idx, b in blocks(a, f):
        vals, counts = np.unique(b, return_counts=True)  # vals ascending
        out[idx] = vals[np.argmax(counts)]              # first maximum: the smallest value
    return out


def gaussian_ref(a, f):
    sigma = [2.0 * k / 6.0 if k > 1 else 0.0 for k in f]
    g = ndi.gaussian_filter(a.astype(np.float32), sigma, mode="nearest", truncate=4.0)
    g = g[tuple(slice(None, None, k) for k in f)]
    if a.dtype.kind == "f":
        return g.astype(a.dtype)
    info = np.iinfo(a.dtype)
    r = np.sign(g) * np.floor(np.abs(g.astype(np.float64)) + 0.5)
    return np.clip(r, info.min, info.max).astype(a.dtype)


REFS = {"mean": mean_ref, "nearest": nearest_ref, "mode": mode_ref, "gaussian": gaussian_ref}


def rand(shape, dtype):
    dt = np.dtype(dtype)
    if dt.kind == "f":
        return (RNG.standard_normal(shape) * 100).astype(dt)
    info = np.iinfo(dt)
    return RNG.integers(info.min, info.max, shape, dtype=dt, endpoint=True)


def labels(shape, dtype, nlabels=5):
    """Blocky labels with many ties inside 2x2x2 blocks."""
    return RNG.integers(0, nlabels, shape).astype(dtype)


# ---- the metadata, rule by rule (NGFF 0.4, "multiscales" / "axes" / "coordinateTransformations") ----

def check_multiscale(m, shapes, voxel, method, unit):
    """The rules of the "multiscales" entry m (0.4 and 0.5 alike) for arrays of these
    shapes (in dataset order); return the step factors."""
    # MUST contain axes and datasets; SHOULD contain name, type, metadata
    for key in ("axes", "datasets", "name", "type", "metadata"):
        check(key in m, "multiscales[0] lacks %r" % key)
    check(m["type"] == method, "type names the downscaling method")
    check(isinstance(m["metadata"], dict), "metadata is a dictionary")
    axes = m["axes"]
    ndim = len(axes)
    check(2 <= ndim <= 5, "between 2 and 5 axes")
    names = [a["name"] for a in axes]
    check(len(set(names)) == ndim, "axis names unique")
    check(names == (["z", "y", "x"] if ndim == 3 else ["y", "x"]), "axes z, y, x (or y, x)")
    spaces = [a for a in axes if a.get("type") == "space"]
    check(len(spaces) in (2, 3) and len(spaces) == ndim, "2 or 3 space axes, nothing else here")
    for a in axes:
        if voxel:
            check(a.get("unit") == unit, "unit %r on every axis" % unit)
            check(unit not in SPACE_UNITS or a["unit"] in SPACE_UNITS, "a UDUNITS-2 space unit")
        else:
            check("unit" not in a, "no unit without a voxel size")
    ds = m["datasets"]
    check(len(ds) >= 1 and len(ds) == len(shapes), "one dataset per level")
    scales = []
    for d, shape in zip(ds, shapes):
        check("path" in d and "coordinateTransformations" in d, "dataset path + transformations")
        check(len(shape) == ndim, "dataset dimensionality == number of axes")
        ct = d["coordinateTransformations"]
        types = [t["type"] for t in ct]
        check(types.count("scale") == 1, "exactly one scale")
        check(set(types) <= {"scale", "translation"}, "only scale and translation")
        check(types.count("translation") <= 1, "at most one translation")
        check(types[0] == "scale", "translation, if any, after the scale")
        sc = ct[0]["scale"]
        check(len(sc) == ndim, "one scale per axis")
        check(all(x > 0 for x in sc), "positive scales")
        tr = ct[1]["translation"] if len(ct) > 1 else [0.0] * ndim
        check(len(tr) == ndim, "one translation per axis")
        scales.append((sc, tr))
    # paths ordered from the highest resolution to the smallest
    for a, b in zip(shapes, shapes[1:]):
        check(all(x >= y for x, y in zip(a, b)) and np.prod(a) > np.prod(b),
              "levels ordered from largest to smallest: %s then %s" % (a, b))
    # scale = voxel x cumulative factor; translation by the half-voxel convention
    v0 = voxel or [1.0] * ndim
    steps = [[1] * ndim]
    for l in range(1, len(shapes)):
        step = [round(scales[l][0][i] / scales[l - 1][0][i]) for i in range(ndim)]
        steps.append(step)
        check(all(s in (1, 2) for s in step), "factor 1 or 2 per axis and level")
        check(list(shapes[l]) == [-(-n // s) for n, s in zip(shapes[l - 1], step)],
              "level %d shape = ceil(level %d / factors)" % (l, l - 1))
    cum = [1] * ndim
    for l, (sc, tr) in enumerate(scales):
        cum = [c * s for c, s in zip(cum, steps[l])]
        for i in range(ndim):
            check(abs(sc[i] - v0[i] * cum[i]) <= 1e-12 * v0[i] * cum[i],
                  "level %d scale[%d] = %r, expected %r" % (l, i, sc[i], v0[i] * cum[i]))
            want = v0[i] * (cum[i] - 1) / 2 if method in ("mean", "mode") else 0.0
            check(abs(tr[i] - want) <= 1e-12 * max(1.0, abs(want)),
                  "level %d translation[%d] = %r, expected %r" % (l, i, tr[i], want))
    return steps


def check_ngff04(out, voxel, method, unit="micrometer"):
    """Check OUT against the 0.4 spec (read with zarr-python 2); return (group, arrays, steps)."""
    with open(os.path.join(out, ".zgroup")) as fh:
        check(json.load(fh) == {"zarr_format": 2}, ".zgroup must say zarr_format 2")
    with open(os.path.join(out, ".zattrs")) as fh:
        attrs = json.load(fh)
    g = zarr.open_group(out, mode="r")                 # zarr-python 2 reads the group
    check(g.attrs.asdict() == attrs, "zarr-python sees the same attributes")
    ms = attrs["multiscales"]
    check(isinstance(ms, list) and len(ms) >= 1, "multiscales: a list of dictionaries")
    m = ms[0]
    check(m.get("version") == "0.4", "version must be 0.4")
    arrays = [g[d["path"]] for d in m["datasets"]]
    steps = check_multiscale(m, [a.shape for a in arrays], voxel, method, unit)
    return g, arrays, steps


def check_ngff05(out, voxel, method, unit="micrometer"):
    """Check OUT against the 0.5 spec from its zarr.json files; return (ome, shapes, steps)."""
    check(not os.path.exists(os.path.join(out, ".zgroup")) and
          not os.path.exists(os.path.join(out, ".zattrs")), "no Zarr v2 metadata in 0.5")
    with open(os.path.join(out, "zarr.json")) as fh:
        meta = json.load(fh)
    check(meta.get("zarr_format") == 3 and meta.get("node_type") == "group", "a Zarr v3 group")
    ome = meta["attributes"]["ome"]                   # the namespaced key "ome" in attributes
    check(ome.get("version") == "0.5", "attributes.ome.version is \"0.5\"")
    check("multiscales" not in meta["attributes"], "multiscales only under ome")
    m = ome["multiscales"][0]
    shapes = []
    for d in m["datasets"]:
        with open(os.path.join(out, d["path"], "zarr.json")) as fh:
            am = json.load(fh)
        check(am["zarr_format"] == 3 and am["node_type"] == "array", "a Zarr v3 array")
        # "dimension_names" of every level MUST match the names of the axes
        check(am.get("dimension_names") == [a["name"] for a in m["axes"]],
              "level %s dimension_names %s" % (d["path"], am.get("dimension_names")))
        shapes.append(tuple(am["shape"]))
    steps = check_multiscale(m, shapes, voxel, method, unit)
    return ome, shapes, steps


def check_levels(arrays, steps, a, method, chained=True):
    """Every level equals the reference computed from the level above."""
    ref = a
    np.testing.assert_array_equal(arrays[0][...], a)
    for l in range(1, len(arrays)):
        got = arrays[l][...]
        src = ref if chained else arrays[l - 1][...]
        want = REFS[method](src, steps[l])
        check(got.shape == want.shape, "level %d shape %s vs %s" % (l, got.shape, want.shape))
        if method == "gaussian":
            if a.dtype.kind == "f":
                np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)
            else:  # float32 rounding may move a value across a .5 boundary
                d = np.abs(got.astype(np.int64) - want.astype(np.int64))
                check(d.max() <= 1, "gaussian level %d: |diff| %d > 1" % (l, d.max()))
                check((d > 0).mean() < 0.01, "gaussian level %d: too many off-by-one" % l)
        elif a.dtype.kind == "f" and method == "mean":
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=0)
        else:
            np.testing.assert_array_equal(got, want, err_msg="%s level %d" % (method, l))
        ref = want if chained else got


def write_input(d, a, kind="tif"):
    if kind == "tif":
        p = os.path.join(d, "in.tif")
        tifffile.imwrite(p, a, photometric="minisblack")
    else:
        p = os.path.join(d, "in.zarr")
        z = zarr.open(p, mode="w", shape=a.shape, chunks=(7,) * a.ndim, dtype=a.dtype)
        z[...] = a
    return p


# ---- tests ----

def test_help():
    p = run(["pyramid", "--help"])
    check(p.stdout.startswith("usage: scout pyramid"), p.stdout)
    for opt in ("--ngff", "--voxel-size", "--voxel-size-file", "--unit", "--method", "--levels",
                "--chunks", "--codec", "--shards"):
        check(opt in p.stdout, "pyramid --help lacks %s" % opt)
    check("pyramid" in run(["--help"]).stdout, "scout --help lists pyramid")
    check("--ome" in run(["convert", "--help"]).stdout, "convert --help has --ome")
    for cmd in ("stats", "blur", "peaks", "preview"):
        check("--level" in run([cmd, "--help"]).stdout, "%s --help has --level" % cmd)
    check("OME-Zarr" in run(["info", "--help"]).stdout, "info --help mentions OME-Zarr")


def test_plan_anisotropic_example():
    """2.0 x 0.65 x 0.65 um: y, x halved alone twice, then every axis."""
    steps = plan_ref((512, 2048, 2048), (64, 64, 64), (2.0, 0.65, 0.65))
    check(steps[1:4] == [[1, 2, 2], [1, 2, 2], [2, 2, 2]], "reference plan %s" % steps)
    with TempDir() as d:
        a = np.zeros((20, 200, 200), np.uint8)
        p = write_input(d, a)
        out = os.path.join(d, "o.zarr")
        run(["pyramid", p, out, "--voxel-size", "2.0,0.65,0.65", "--chunks", "8,8,8"])
        _, arrays, steps = check_ngff04(out, [2.0, 0.65, 0.65], "mean")
        check(steps == plan_ref(a.shape, (8, 8, 8), (2.0, 0.65, 0.65)), "plan %s" % steps)
        check(steps[1:4] == [[1, 2, 2], [1, 2, 2], [2, 2, 2]], "scout's plan %s" % steps)


def test_level0_copies_input_chunks():
    """A Zarr input whose chunks and codec level 0 shares: level 0's chunk files are the
    input's bytes (one re-compressed at level 9, which an encode at level 1 would not
    give back), and every level still has numpy's values."""
    a = rand((40, 50, 36), np.uint16)
    with TempDir() as d:
        p = os.path.join(d, "in.zarr")
        z = zarr.open(p, mode="w", shape=a.shape, chunks=(16, 16, 16), dtype=a.dtype,
                      compressor=scout_blosc(), dimension_separator="/")
        z[...] = a
        recompress_chunk(os.path.join(p, "1", "2", "0"))
        out = os.path.join(d, "o.ome.zarr")
        run(["pyramid", p, out, "--chunks", "16,16,16", "-j", "2"])
        _, arrays, steps = check_ngff04(out, None, "mean")
        check_levels(arrays, steps, a, "mean")
        same = total = 0
        for root, _, files in os.walk(p):
            for f in files:
                if f.startswith("."):
                    continue
                rel = os.path.relpath(os.path.join(root, f), p)
                total += 1
                mine = os.path.join(out, "0", rel)
                same += os.path.exists(mine) and open(mine, "rb").read() == open(
                    os.path.join(root, f), "rb").read()
        check(total == 3 * 4 * 3 and same == total, "%d of %d level-0 chunks are the input's bytes"
              % (same, total))


def test_mean_every_level_3d_uint16_anisotropic():
    a = rand((37, 101, 83), np.uint16)
    with TempDir() as d:
        p = write_input(d, a)
        out = os.path.join(d, "o.ome.zarr")
        run(["pyramid", p, out, "--voxel-size", "2.0,0.65,0.65", "--chunks", "16,16,16",
             "-j", "3"])
        _, arrays, steps = check_ngff04(out, [2.0, 0.65, 0.65], "mean")
        check(steps == plan_ref(a.shape, (16, 16, 16), (2.0, 0.65, 0.65)), "plan %s" % steps)
        check(len(arrays) >= 4, "several levels")
        check_levels(arrays, steps, a, "mean")


def test_methods_dtypes_shapes():
    cases = [
        ((23, 41, 37), np.uint8, "mean"), ((45, 39), np.uint8, "mean"),
        ((19, 33, 29), np.float32, "mean"), ((21, 30, 27), np.int16, "mean"),
        ((23, 41, 37), np.uint16, "nearest"), ((45, 39), np.float32, "nearest"),
        ((17, 35, 31), np.uint16, "gaussian"), ((43, 37), np.uint8, "gaussian"),
        ((17, 29, 23), np.float32, "gaussian"),
        ((21, 33, 27), np.uint16, "mode"), ((41, 35), np.uint8, "mode"),
    ]
    for shape, dt, method in cases:
        a = labels(shape, dt) if method == "mode" else rand(shape, dt)
        with TempDir() as d:
            p = write_input(d, a, "zarr" if len(shape) == 3 else "tif")
            out = os.path.join(d, "o.zarr")
            run(["pyramid", p, out, "--method", method, "--chunks", ",".join(["8"] * len(shape)),
                 "-j", "2"])
            _, arrays, steps = check_ngff04(out, None, method)
            check(len(arrays) >= 3, "%s %s: %d levels" % (shape, method, len(arrays)))
            # gaussian: each level from scout's level above (float32 rounding does not chain)
            check_levels(arrays, steps, a, method, chained=method != "gaussian")


def test_processes_and_levels_limit():
    a = rand((30, 50, 40), np.uint16)
    with TempDir() as d:
        p = write_input(d, a)
        out = os.path.join(d, "o.zarr")
        run(["pyramid", p, out, "--levels", "2", "--processes", "-j", "2", "--chunks", "8,8,8"])
        _, arrays, steps = check_ngff04(out, None, "mean")
        check(len(arrays) == 2, "--levels 2 gives 2 levels")
        check_levels(arrays, steps, a, "mean")


def test_voxel_size_file_and_unit():
    a = rand((9, 40, 40), np.uint8)
    with TempDir() as d:
        p = write_input(d, a)
        csv = os.path.join(d, "voxel_size.csv")
        with open(csv, "w") as fh:
            fh.write("2000,650,650\n")
        out = os.path.join(d, "o.zarr")
        r = run(["pyramid", p, out, "--voxel-size-file", csv, "--chunks", "8,8,8"])
        check("warning" not in r.stderr, "no warning with a voxel size")
        check_ngff04(out, [2.0, 0.65, 0.65], "mean")
        out2 = os.path.join(d, "o2.zarr")
        run(["pyramid", p, out2, "--voxel-size", "2000,650,650", "--unit", "nanometer",
             "--chunks", "8,8,8"])
        check_ngff04(out2, [2000.0, 650.0, 650.0], "mean", unit="nanometer")
        out3 = os.path.join(d, "o3.zarr")
        r = run(["pyramid", p, out3, "--chunks", "8,8,8"])
        check("warning" in r.stderr and "scale" in r.stderr, "warning without a voxel size")
        check_ngff04(out3, None, "mean")


def test_convert_ome_equals_pyramid():
    a = rand((40, 70, 66), np.uint16)
    with TempDir() as d:
        sl = os.path.join(d, "slices")
        os.mkdir(sl)
        for z in range(a.shape[0]):
            tifffile.imwrite(os.path.join(sl, "s%03d.tif" % z), a[z], photometric="minisblack")
        o1 = os.path.join(d, "conv.ome.zarr")
        o2 = os.path.join(d, "pyr.ome.zarr")
        run(["convert", sl, o1, "--ome", "--voxel-size", "2.0,0.65,0.65", "--chunks", "16,16,16"])
        run(["pyramid", sl, o2, "--voxel-size", "2.0,0.65,0.65", "--chunks", "16,16,16"])
        _, arrays, steps = check_ngff04(o1, [2.0, 0.65, 0.65], "mean")
        check_levels(arrays, steps, a, "mean")
        _, arrays2, _ = check_ngff04(o2, [2.0, 0.65, 0.65], "mean")
        for x, y in zip(arrays, arrays2):
            np.testing.assert_array_equal(x[...], y[...])
        # with --dtype: level 0 is the cast input, levels from it
        o3 = os.path.join(d, "u8.ome.zarr")
        run(["convert", sl, o3, "--ome", "--dtype", "float32", "--chunks", "16,16,16"])
        _, arrays3, steps3 = check_ngff04(o3, None, "mean")
        check(arrays3[0].dtype == np.float32, "--dtype applies to every level")
        check_levels(arrays3, steps3, a.astype(np.float32), "mean")


def test_level_option_of_stats():
    a = rand((20, 40, 36), np.uint16)
    with TempDir() as d:
        p = write_input(d, a)
        out = os.path.join(d, "o.zarr")
        run(["pyramid", p, out, "--chunks", "8,8,8"])
        lv1 = zarr.open(os.path.join(out, "1"), mode="r")[...]
        r = run(["stats", out, "--level", "1", "--json"])
        st = json.loads(r.stdout)
        check(st["count"] == lv1.size and st["sum"] == int(lv1.astype(np.int64).sum()),
              "stats --level 1 = numpy over level 1")
        r = run(["stats", out, "--json"])
        check(json.loads(r.stdout)["sum"] == int(a.astype(np.int64).sum()), "default level 0")
        # preview --level: the MIP of level 1 (its shape; its 99.5th percentile as numpy)
        png = os.path.join(d, "p.png")
        pv = json.loads(run(["preview", out, png, "--level", "1", "--json"]).stdout)
        mip = lv1.max(axis=0)
        check((pv["height"], pv["width"]) == mip.shape, "preview --level 1 size %s" % pv)
        check(pv["hi"] == float(np.percentile(mip, 99.5, method="higher")), "preview hi %s" % pv)
        r = run(["stats", out, "--level", "7"], rc=1)
        check("level 7" in r.stderr, r.stderr)
        r = run(["stats", p, "--level", "1"], rc=1)
        check("OME-Zarr" in r.stderr, r.stderr)


def test_info_of_group():
    a = rand((20, 40, 36), np.uint16)
    with TempDir() as d:
        p = write_input(d, a)
        out = os.path.join(d, "o.zarr")
        run(["pyramid", p, out, "--chunks", "8,16,16", "--voxel-size", "2,0.65,0.65"])
        info = json.loads(run(["info", "--json", out]).stdout)
        with open(os.path.join(out, ".zattrs")) as fh:
            m = json.load(fh)["multiscales"][0]
        check(info["kind"] == "ome-zarr" and info["ngff_version"] == "0.4", str(info))
        check([(x["name"], x["unit"]) for x in info["axes"]] ==
              [(x["name"], x["unit"]) for x in m["axes"]], "axes with units")
        check(len(info["levels"]) == len(m["datasets"]), "every level")
        for lv, ds in zip(info["levels"], m["datasets"]):
            z = zarr.open(os.path.join(out, ds["path"]), mode="r")
            check(lv["path"] == ds["path"] and tuple(lv["shape"]) == z.shape and
                  tuple(lv["chunks"]) == z.chunks, "level %s: %s" % (ds["path"], lv))
            check(lv["scale"] == ds["coordinateTransformations"][0]["scale"], "scale")
        text = run(["info", out]).stdout
        check("NGFF 0.4" in text and "micrometer" in text and "scale 2 x 0.65 x 0.65" in text,
              text)


def test_demo_writes_a_pyramid():
    with TempDir() as d:
        r = run(["demo", "--size", "96", "-j", "2", "--no-progress", d])
        out = os.path.join(d, "volume.ome.zarr")
        check("napari --plugin napari-ome-zarr %s" % out in r.stdout, r.stdout)
        check("neuroglancer" in r.stdout, r.stdout)
        vol = zarr.open(os.path.join(d, "volume.zarr"), mode="r")[...]
        _, arrays, steps = check_ngff04(out, [1.0, 1.0, 1.0], "mean")
        check(len(arrays) == 2, "96^3 in 64^3 chunks: 2 levels")
        check_levels(arrays, steps, vol, "mean")


def zarrita_levels(out, workdir):
    """Every level of an OME-Zarr 0.5 group as zarrita.js reads it, or None when the
    zarrita peer (tests/py/zarrita_peer.py, tests/js/package.json) is not in this tree."""
    try:
        import zarrita_peer
    except ImportError:
        return None
    prefix = os.path.join(workdir, "zarrita_")
    res = zarrita_peer.run_script("ngff_read.mjs", [{"dir": out, "out": prefix}], workdir)
    r = res[out]
    check(r["ok"], "zarrita.js could not read %s: %s" % (out, r.get("error")))
    levels = []
    for lv in r["levels"]:
        dt = np.dtype(lv["dtype"]).newbyteorder("<")
        a = np.fromfile(prefix + lv["path"] + ".raw", dtype=dt).reshape(lv["shape"])
        levels.append((lv, a))
    return r["ome"], levels


def test_ngff05_zarr_v3():
    cases = [((23, 41, 37), np.uint16, "mean", [2.0, 0.65, 0.65]),
             ((45, 39), np.float32, "gaussian", None),
             ((21, 33, 27), np.uint8, "mode", None)]
    for shape, dt, method, voxel in cases:
        a = labels(shape, dt) if method == "mode" else rand(shape, dt)
        with TempDir() as d:
            p = write_input(d, a)
            o4 = os.path.join(d, "o4.zarr")
            o5 = os.path.join(d, "o5.zarr")
            extra = ["--voxel-size", ",".join(map(str, voxel))] if voxel else []
            ch = ",".join(["8"] * len(shape))
            run(["pyramid", p, o4, "--method", method, "--chunks", ch] + extra)
            run(["pyramid", p, o5, "--ngff", "0.5", "--method", method, "--chunks", ch] + extra)
            _, arrays4, steps4 = check_ngff04(o4, voxel, method)
            ome, shapes, steps = check_ngff05(o5, voxel, method)
            check(steps == steps4, "0.5 and 0.4 choose the same levels")
            info = json.loads(run(["info", "--json", o5]).stdout)
            check(info["ngff_version"] == "0.5" and info["zarr_format"] == 3, str(info))
            st = json.loads(run(["stats", o5, "--level", "1", "--json"]).stdout)
            check(st["count"] == int(np.prod(shapes[1])), "stats --level 1 of a 0.5 group")
            z = zarrita_levels(o5, d)
            check(z is not None, "the zarrita peer (tests/py/zarrita_peer.py) is missing")
            zome, levels = z
            # the same pyramid with sharded levels (shards of 2 inner chunks per axis)
            o5s = os.path.join(d, "o5s.zarr")
            run(["pyramid", p, o5s, "--ngff", "0.5", "--method", method, "--chunks", ch,
                 "--shards", ",".join(["16"] * len(shape))] + extra)
            _, shapes_s, steps_s = check_ngff05(o5s, voxel, method)
            check(steps_s == steps4 and shapes_s == shapes, "sharded 0.5 chooses the same levels")
            for i in range(len(shapes_s)):
                with open(os.path.join(o5s, str(i), "zarr.json")) as fh:
                    codecs = json.load(fh)["codecs"]
                check(len(codecs) == 1 and codecs[0]["name"] == "sharding_indexed" and
                      codecs[0]["configuration"]["chunk_shape"] == [min(8, n) for n in shapes_s[i]],
                      "level %d is sharded with 8-voxel inner chunks: %s" % (i, codecs))
            zs = zarrita_levels(o5s, d)
            check(zs is not None and len(zs[1]) == len(arrays4), "zarrita reads every sharded level")
            for (lv, arr), a4 in zip(zs[1], arrays4):
                np.testing.assert_array_equal(arr, a4[...], err_msg="sharded 0.5 level %s" % lv["path"])
            with open(os.path.join(o5, "zarr.json")) as fh:
                check(zome == json.load(fh)["attributes"]["ome"], "zarrita sees attributes.ome")
            check(len(levels) == len(arrays4), "zarrita reads every level")
            got = []
            for (lv, arr), a4 in zip(levels, arrays4):
                check(lv["dimension_names"] == (["z", "y", "x"] if len(shape) == 3 else ["y", "x"]),
                      "zarrita sees dimension_names %s" % lv["dimension_names"])
                np.testing.assert_array_equal(arr, a4[...], err_msg="0.5 level %s" % lv["path"])
                got.append(arr)

            class Lv:  # check_levels reads arrays with [...]
                def __init__(self, x):
                    self.x = x

                def __getitem__(self, k):
                    return self.x[k]
            check_levels([Lv(x) for x in got], steps, a, method, chained=method != "gaussian")


def nothing_left(d, out):
    left = [n for n in os.listdir(d) if n.startswith(os.path.basename(out))]
    check(not left, "nothing at OUTPUT after an error: %s" % left)


def test_bad_inputs():
    a = rand((9, 20, 20), np.uint16)
    af = rand((9, 20, 20), np.float32)
    with TempDir() as d:
        p = write_input(d, a)
        pf = os.path.join(d, "f.tif")
        tifffile.imwrite(pf, af, photometric="minisblack")
        out = os.path.join(d, "out.zarr")

        def bad_csv(text, rc, *words):
            csv = os.path.join(d, "v.csv")
            with open(csv, "w") as fh:
                fh.write(text)
            r = run(["pyramid", p, out, "--voxel-size-file", csv], rc=rc)
            for w in words:
                check(w in r.stderr, "%r not in %r" % (w, r.stderr))
            nothing_left(d, out)

        bad_csv("2000,650\n", 1, "v.csv", "2 voxel sizes", "3 axes")
        bad_csv("2000,650,650,1\n", 1, "v.csv", "4 voxel sizes")
        bad_csv("-2000,650,650\n", 1, "v.csv", "positive")
        bad_csv("0,650,650\n", 1, "v.csv", "positive")
        for args, rc, word in [
            (["--voxel-size", "1,1"], 1, "2 values"),
            (["--voxel-size", "0,1,1"], 2, "positive"),
            (["--voxel-size", "-1,1,1"], 2, "positive"),
            (["--levels", "0"], 2, "--levels"),
            (["--method", "median"], 2, "--method"),
            (["--ngff", "0.3"], 2, "--ngff"),
            (["--shards", "64,64,64"], 1, "NGFF 0.5"),
            (["--shards", "64,64,64", "--ngff", "0.5", "--chunks", "24,24,24"], 1, "multiple"),
            (["--shards", "0,64,64", "--ngff", "0.5"], 2, "--shards"),
        ]:
            r = run(["pyramid", p, out] + args, rc=rc)
            check(word in r.stderr, "%s: %r not in %r" % (args, word, r.stderr))
            nothing_left(d, out)
        r = run(["pyramid", pf, out, "--method", "mode"], rc=1)
        check("mode" in r.stderr and "float32" in r.stderr, r.stderr)
        nothing_left(d, out)
        r = run(["convert", p, out, "--voxel-size", "1,1,1"], rc=2)
        check("--ome" in r.stderr, r.stderr)
        nothing_left(d, out)


if __name__ == "__main__":
    main([test_help, test_plan_anisotropic_example, test_mean_every_level_3d_uint16_anisotropic,
          test_methods_dtypes_shapes, test_processes_and_levels_limit,
          test_voxel_size_file_and_unit, test_convert_ome_equals_pyramid, test_level0_copies_input_chunks,
          test_level_option_of_stats, test_info_of_group, test_demo_writes_a_pyramid,
          test_ngff05_zarr_v3, test_bad_inputs])
