"""`scout info` and `scout info --json` on Zarr groups, against what each writer was told.

Writers: zarr-python 2 (nested v2 groups with attributes, with and without a
consolidated .zmetadata), GDAL (python3-gdal, whose .zmetadata escapes '/' as
'\\/'; plus a hand-built fixture of the same shape, so the escapes are tested
even if GDAL changed its output), an NCZarr-style group built by hand as
netCDF-C writes it (fill_value null, _ARRAY_DIMENSIONS and _nczarr_* attributes),
and zarrita.js for v3 groups (consolidated_metadata added to the root zarr.json
by the test as zarr-python 3 writes it: zarrita does not write it).

`scout info --json GROUP` must give {path, kind: "group", zarr_format,
attributes, consolidated, members}; members hold every descendant sorted by
relative path, each {path, node_type}, arrays with shape, chunks, dtype_name
and codecs.
"""
import json
import os
import sys

import numcodecs
import numpy as np
import zarr

sys.path.insert(0, os.path.dirname(__file__))
from cli_common import TempDir, check, main, run  # noqa: E402
import v3_spec as spec  # noqa: E402
import zarrita_peer  # noqa: E402


def sort_key(p):
    return p.split("/")


def check_group(path, zarr_format, attributes, consolidated, members, what):
    """scout info --json PATH against the expected group; members: {relpath: None (group) or
    dict(shape, chunks, dtype_name, codec=name of the last codec or None, codecs=exact v3 list)}."""
    info = json.loads(run(["info", "--json", path]).stdout)
    check(info.get("kind") == "group", "%s: kind %r" % (what, info.get("kind")))
    check(info.get("zarr_format") == zarr_format, "%s: zarr_format %r" % (what, info.get("zarr_format")))
    check(info.get("attributes") == attributes, "%s: attributes %r, expected %r"
          % (what, info.get("attributes"), attributes))
    check(info.get("consolidated") is consolidated, "%s: consolidated %r" % (what, info.get("consolidated")))
    got = info.get("members")
    check(isinstance(got, list), "%s: members %r" % (what, got))
    paths = [m.get("path") for m in got]
    want = sorted(members, key=sort_key)
    check(paths == want, "%s: member paths %s, expected %s" % (what, paths, want))
    for m in got:
        e = members[m["path"]]
        where = "%s: member %s" % (what, m["path"])
        if e is None:
            check(m.get("node_type") == "group", "%s: node_type %r" % (where, m.get("node_type")))
            continue
        check(m.get("node_type") == "array", "%s: node_type %r" % (where, m.get("node_type")))
        for k in ("shape", "chunks", "dtype_name"):
            check(m.get(k) == e[k], "%s: %s %r, expected %r" % (where, k, m.get(k), e[k]))
        codecs = m.get("codecs")
        check(isinstance(codecs, list) and codecs, "%s: codecs %r" % (where, codecs))
        if "codecs" in e:
            size = spec.np_dtype(e["dtype_name"]).itemsize
            check(spec.norm_codecs(codecs, size) == spec.norm_codecs(e["codecs"], size),
                  "%s: codecs %r, expected %r" % (where, codecs, e["codecs"]))
        else:
            names = [c["name"] for c in codecs]
            check("bytes" in names, "%s: no bytes codec in %r" % (where, codecs))
            if e["codec"] is None:
                check(names[-1] == "bytes", "%s: codecs %r for no compressor" % (where, codecs))
            else:
                check(names[-1].split(".")[-1] == e["codec"], "%s: last codec %r, expected %s"
                      % (where, names[-1], e["codec"]))
    text = run(["info", path]).stdout  # a tree: each member by its last path component
    for p in members:
        check(p.split("/")[-1] in text, "%s: text info does not show %s:\n%s" % (what, p, text))
    return info


def arr(shape, chunks, dtype, codec=None, codecs=None):
    d = dict(shape=list(shape), chunks=list(chunks), dtype_name=dtype, codec=codec)
    if codecs is not None:
        d["codecs"] = codecs
    return d


def check_values(path, expected, what):
    """scout convert of one member array to v2 gives zarr-python the expected values."""
    out = path.rstrip("/") + ".scout-v2"
    run(["convert", "-j", "1", "--no-progress", path, out, "--codec", "none"])
    got = zarr.open(out, mode="r")[...]
    check(spec.same_values(got, expected), "%s: values of %s differ" % (what, path))


def zarr_python_group(root):
    g = zarr.open_group(root, mode="w")
    g.attrs.update({"title": "root", "n": 3})
    a = g.create_group("a")
    a.attrs["k"] = [1, 2]
    x = a.create_dataset("x", shape=(10, 20), chunks=(4, 8), dtype="uint16",
                         compressor=numcodecs.Blosc("zstd", 3, numcodecs.Blosc.SHUFFLE))
    x[...] = np.arange(200, dtype="uint16").reshape(10, 20)
    x.attrs["units"] = "counts"
    b = a.create_group("b")
    y = b.create_dataset("y", shape=(5,), chunks=(2,), dtype="float32", compressor=numcodecs.Zlib(1),
                         fill_value=np.nan)
    y[:3] = [1.5, -2.0, 3.25]
    z = g.create_dataset("z", shape=(3, 4, 5), chunks=(3, 4, 5), dtype="int64", compressor=None)
    z[...] = np.arange(60).reshape(3, 4, 5) - 30
    g.create_group("e")
    members = {"a": None, "a/b": None, "a/b/y": arr((5,), (2,), "float32", "zlib"),
               "a/x": arr((10, 20), (4, 8), "uint16", "blosc"), "e": None,
               "z": arr((3, 4, 5), (3, 4, 5), "int64", None)}
    return members, {"title": "root", "n": 3}


def test_zarr_python_v2_groups():
    with TempDir() as d:
        for consolidated in (False, True):
            root = os.path.join(d, "zp%d.zarr" % consolidated)
            members, attrs = zarr_python_group(root)
            if consolidated:
                zarr.consolidate_metadata(root)
            what = "zarr-python group (consolidated=%s)" % consolidated
            check_group(root, 2, attrs, consolidated, members, what)
            # a subgroup: members relative to it
            sub = {k[2:]: v for k, v in members.items() if k.startswith("a/")}
            check_group(os.path.join(root, "a"), 2, {"k": [1, 2]}, False, sub, what + " a/")
            y = np.full(5, np.nan, dtype="float32")
            y[:3] = [1.5, -2.0, 3.25]
            check_values(os.path.join(root, "a", "b", "y"), y, what)
            check_values(os.path.join(root, "z"), np.arange(60).reshape(3, 4, 5) - 30, what)


GDAL_ZMETADATA = r"""{
  "zarr_consolidated_format":1,
  "metadata":{
    ".zgroup":{
      "zarr_format":2
    },
    ".zattrs":{
      "source":"hand-built like GDAL 3.6"
    },
    "sub\/.zgroup":{
      "zarr_format":2
    },
    "sub\/.zattrs":{
      "title":"hello \/ world"
    },
    "mask\/.zarray":{
      "chunks":[5,4],
      "compressor":{"id":"zlib","level":6},
      "dtype":"|u1",
      "fill_value":null,
      "filters":null,
      "order":"C",
      "shape":[5,7],
      "zarr_format":2
    },
    "sub\/temp\/.zarray":{
      "chunks":[2,3],
      "compressor":null,
      "dtype":"<f4",
      "fill_value":null,
      "filters":null,
      "order":"C",
      "shape":[5,7],
      "zarr_format":2
    },
    "sub\/temp\/.zattrs":{
      "_ARRAY_DIMENSIONS":["y","x"]
    }
  }
}"""


def write_v2_node(path, meta_name, doc, attrs=None):
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, meta_name), "w") as f:
        json.dump(doc, f)
    if attrs is not None:
        with open(os.path.join(path, ".zattrs"), "w") as f:
            json.dump(attrs, f)


def write_v2_chunks(path, data, chunks, compress=lambda b: b, sep="."):
    for coords in spec.chunk_grid(data.shape, chunks):
        full = np.zeros(chunks, dtype=data.dtype)
        region = spec.chunk_region(coords, data.shape, chunks)
        full[tuple(slice(0, r.stop - r.start) for r in region)] = data[region]
        with open(os.path.join(path, sep.join(map(str, coords))), "wb") as f:
            f.write(compress(full.tobytes()))


GDAL_MEMBERS = {"mask": arr((5, 7), (5, 4), "uint8", "zlib"), "sub": None,
                "sub/temp": arr((5, 7), (2, 3), "float32", None)}


def test_gdal_style_group():
    """A .zmetadata with '\\/' escapes: by hand, then as GDAL itself writes it."""
    import zlib
    temp = np.arange(35, dtype="<f4").reshape(5, 7)
    mask = (np.arange(35) % 3).astype("u1").reshape(5, 7)
    with TempDir() as d:
        root = os.path.join(d, "hand.zarr")
        meta = json.loads(GDAL_ZMETADATA)["metadata"]
        write_v2_node(root, ".zgroup", {"zarr_format": 2}, {"source": "hand-built like GDAL 3.6"})
        with open(os.path.join(root, ".zmetadata"), "w") as f:
            f.write(GDAL_ZMETADATA)
        write_v2_node(os.path.join(root, "sub"), ".zgroup", {"zarr_format": 2}, {"title": "hello / world"})
        write_v2_node(os.path.join(root, "mask"), ".zarray", meta["mask/.zarray"])
        write_v2_chunks(os.path.join(root, "mask"), mask, (5, 4), lambda b: zlib.compress(b, 6))
        write_v2_node(os.path.join(root, "sub", "temp"), ".zarray", meta["sub/temp/.zarray"],
                      {"_ARRAY_DIMENSIONS": ["y", "x"]})
        write_v2_chunks(os.path.join(root, "sub", "temp"), temp, (2, 3))
        check_group(root, 2, {"source": "hand-built like GDAL 3.6"}, True, GDAL_MEMBERS, "hand-built GDAL group")
        check_values(os.path.join(root, "sub", "temp"), temp, "hand-built GDAL group")
        check_values(os.path.join(root, "mask"), mask, "hand-built GDAL group")

        from osgeo import gdal
        gdal.UseExceptions()
        root = os.path.join(d, "gdal.zarr")
        ds = gdal.GetDriverByName("ZARR").CreateMultiDimensional(root)
        rg = ds.GetRootGroup()
        sub = rg.CreateGroup("sub")
        dy = rg.CreateDimension("y", None, None, 5)
        dx = rg.CreateDimension("x", None, None, 7)
        a = sub.CreateMDArray("temp", [dy, dx], gdal.ExtendedDataType.Create(gdal.GDT_Float32), ["BLOCKSIZE=2,3"])
        a.Write(temp.tobytes())
        at = sub.CreateAttribute("title", [], gdal.ExtendedDataType.CreateString())
        at.Write("hello")
        b = rg.CreateMDArray("mask", [dy, dx], gdal.ExtendedDataType.Create(gdal.GDT_Byte),
                             ["BLOCKSIZE=5,4", "COMPRESS=ZLIB"])
        b.Write(mask.tobytes())
        del a, b, at, sub, rg, ds
        with open(os.path.join(root, ".zmetadata")) as f:
            check("\\/" in f.read(), "GDAL's .zmetadata has no '\\/' escape any more: the hand-built one covers it")
        check_group(root, 2, {}, True, GDAL_MEMBERS, "GDAL group")
        check_values(os.path.join(root, "sub", "temp"), temp, "GDAL group")
        check_values(os.path.join(root, "mask"), mask, "GDAL group")


def test_nczarr_style_group():
    """As netCDF-C 4.9 writes NCZarr: fill_value null, '.' keys, _ARRAY_DIMENSIONS and _nczarr_* attributes."""
    tas = (np.arange(24, dtype="<f4") * 0.5 + 250).reshape(4, 6)
    q = np.arange(6, dtype="<i4") - 2
    with TempDir() as d:
        root = os.path.join(d, "nc.zarr")
        root_attrs = {"_nczarr_superblock": {"version": "2.0.0"},
                      "_nczarr_group": {"dims": {"time": 4, "lat": 6}, "vars": ["tas"], "groups": ["sub"]},
                      "_nczarr_attr": {"types": {"Conventions": "<U1"}}, "Conventions": "CF-1.8"}
        write_v2_node(root, ".zgroup", {"zarr_format": 2}, root_attrs)
        tas_meta = {"zarr_format": 2, "shape": [4, 6], "dtype": "<f4", "chunks": [2, 6], "fill_value": None,
                    "order": "C", "compressor": None, "filters": None, "dimension_separator": "."}
        write_v2_node(os.path.join(root, "tas"), ".zarray", tas_meta,
                      {"_ARRAY_DIMENSIONS": ["time", "lat"], "units": "K",
                       "_nczarr_array": {"dimrefs": ["/time", "/lat"], "storage": "chunked"},
                       "_nczarr_attr": {"types": {"units": "<U1"}}})
        write_v2_chunks(os.path.join(root, "tas"), tas, (2, 6))
        write_v2_node(os.path.join(root, "sub"), ".zgroup", {"zarr_format": 2},
                      {"_nczarr_group": {"dims": {}, "vars": ["q"], "groups": []}})
        q_meta = dict(tas_meta, shape=[6], dtype="<i4", chunks=[4])
        write_v2_node(os.path.join(root, "sub", "q"), ".zarray", q_meta,
                      {"_ARRAY_DIMENSIONS": ["lat"], "_nczarr_array": {"dimrefs": ["/lat"], "storage": "chunked"}})
        write_v2_chunks(os.path.join(root, "sub", "q"), q, (4,))
        members = {"sub": None, "sub/q": arr((6,), (4,), "int32", None), "tas": arr((4, 6), (2, 6), "float32", None)}
        check_group(root, 2, root_attrs, False, members, "NCZarr group")
        info = json.loads(run(["info", "--json", os.path.join(root, "tas")]).stdout)
        check(info["shape"] == [4, 6] and info["dtype_name"] == "float32", "NCZarr array info %s" % info)
        check_values(os.path.join(root, "tas"), tas, "NCZarr group")
        check_values(os.path.join(root, "sub", "q"), q, "NCZarr group")


def test_zarrita_v3_groups():
    """v3 groups and arrays written by zarrita.js; consolidated_metadata added as zarr-python 3 writes it."""
    B = {"name": "bytes", "configuration": {"endian": "little"}}
    Z = {"name": "zstd", "configuration": {"level": 3, "checksum": False}}
    T = {"name": "transpose", "configuration": {"order": [1, 0]}}
    layout = [  # (relpath, None for a group / (dtype, shape, chunks, codecs), attributes)
        ("", None, {"title": "v3 root", "nested": {"a": [1, 2]}}),
        ("raw", ("uint8", (4, 9), (2, 4), [B, Z]), {"units": "au"}),
        ("g1", None, {"level": 1}),
        ("g1/img", ("float32", (6, 5), (4, 4), [T, B]), {}),
        ("g1/g2", None, {}),
        ("g1/g2/labels", ("int64", (7,), (3,), [B]), {"kind": "labels"}),
        ("empty", None, {}),
    ]
    with TempDir() as d:
        for consolidated in (False, True):
            root = os.path.join(d, "v3_%d.zarr" % consolidated)
            js, values = [], {}
            for rel, a, attrs in layout:
                p = os.path.join(root, rel) if rel else root
                if a is None:
                    js.append(dict(kind="group", dir=p, attributes=attrs))
                    continue
                dtype, shape, chunks, codecs = a
                data = (np.arange(int(np.prod(shape))) * 7 % 101).astype(dtype).reshape(shape)
                raw = os.path.join(d, "in%d_%s" % (consolidated, rel.replace("/", "_")))
                data.astype(data.dtype.newbyteorder("<")).tofile(raw)
                values[rel] = data
                js.append(dict(kind="array", dir=p, dtype=dtype, shape=list(shape), chunks=list(chunks),
                               codecs=codecs, fill_value=0, absent=[], input=raw, expected=raw + ".exp",
                               attributes=attrs))
            res = zarrita_peer.write(js, d)
            for r in res.values():
                check(r["ok"], "zarrita: %s" % r)
            if consolidated:
                docs = {}
                for rel, _, _ in layout[1:]:
                    with open(os.path.join(root, rel, "zarr.json")) as f:
                        docs[rel] = json.load(f)
                with open(os.path.join(root, "zarr.json")) as f:
                    top = json.load(f)
                top["consolidated_metadata"] = {"kind": "inline", "must_understand": False, "metadata": docs}
                with open(os.path.join(root, "zarr.json"), "w") as f:
                    json.dump(top, f, indent=2)
            members = {rel: None if a is None else arr(a[1], a[2], a[0], codecs=a[3]) for rel, a, _ in layout[1:]}
            what = "zarrita v3 group (consolidated=%s)" % consolidated
            check_group(root, 3, layout[0][2], consolidated, members, what)
            sub = {k[3:]: v for k, v in members.items() if k.startswith("g1/")}
            check_group(os.path.join(root, "g1"), 3, {"level": 1}, False, sub, what + " g1/")
            for rel, data in values.items():
                check_values(os.path.join(root, rel), data, what)


if __name__ == "__main__":
    tests = [test_zarr_python_v2_groups, test_gdal_style_group, test_nczarr_style_group, test_zarrita_v3_groups]
    main(tests)
