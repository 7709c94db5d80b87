"""Zarr groups and consolidated metadata against zarr-python 2 (Debian's 2.13).

- scout_zarr_consolidate on a v2 hierarchy writes the same .zmetadata bytes as
  zarr.consolidate_metadata on a copy of it;
- scout_zarr_group_describe / `scout info --json` list the members zarr-python
  lists (visititems), with and without consolidated metadata, and use the
  consolidated metadata when present (an array added later is not listed, as
  zarr.open_consolidated would not see it);
- a v3 hierarchy (groups from scout, arrays from `scout convert --zarr-format 3`):
  its consolidated_metadata holds every node's zarr.json, as documents equal to
  the files; `scout info` on the group prints the tree.
"""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import zarr

sys.path.insert(0, os.path.dirname(__file__))
from cli_common import TempDir, check, main, run  # noqa: E402

BUILD = os.environ.get("SCOUT_BUILD_DIR", "build")
TOOL = os.path.join(BUILD, "tools", "zarr_group_tool")


def tool(*args, rc=0):
    p = subprocess.run([TOOL] + [str(a) for a in args], capture_output=True, text=True,
                       timeout=120)
    if p.returncode != rc:
        raise AssertionError("zarr_group_tool %s: exit %d\n%s" % (args, p.returncode, p.stderr))
    return p


def make_v2(path):
    g = zarr.open_group(path, mode="w")
    g.attrs["title"] = "organoid"
    a = g.create_dataset("raw", shape=(20, 30), chunks=(7, 8), dtype="<u2")
    a[...] = np.arange(600, dtype="<u2").reshape(20, 30)
    a.attrs["unit"] = "counts"
    s = g.create_group("labels")
    s.attrs["v"] = [1, 2]
    s.create_dataset("mask", shape=(5,), chunks=(2,), dtype="|b1", compressor=None,
                     fill_value=True)
    s.create_group("empty")
    g.create_dataset("f", shape=(3, 4, 5), chunks=(3, 4, 5), dtype=">f8", order="F",
                     fill_value=float("nan"))
    return g


def zarr_members(path):
    g = zarr.open_group(path, mode="r")
    out = {}
    g.visititems(lambda name, obj: out.__setitem__(
        name, "array" if isinstance(obj, zarr.Array) else "group"))
    return out


def test_v2_consolidate_bytes():
    with TempDir() as d:
        a = os.path.join(d, "a.zarr")
        make_v2(a)
        b = os.path.join(d, "b.zarr")
        shutil.copytree(a, b)
        zarr.consolidate_metadata(a)
        tool("consolidate", b)
        with open(os.path.join(a, ".zmetadata"), "rb") as f:
            want = f.read()
        with open(os.path.join(b, ".zmetadata"), "rb") as f:
            got = f.read()
        check(got == want, ".zmetadata differs from zarr-python's:\n%s\n---\n%s"
              % (got.decode()[:2000], want.decode()[:2000]))
        # zarr-python reads scout's consolidated group
        g = zarr.open_consolidated(b, mode="r")
        check(g["raw"].shape == (20, 30) and g["labels/mask"].fill_value, "open_consolidated")


def test_v2_describe():
    with TempDir() as d:
        a = os.path.join(d, "a.zarr")
        make_v2(a)
        want = zarr_members(a)
        for consolidated in (False, True):
            if consolidated:
                zarr.consolidate_metadata(a)
            info = json.loads(run(["info", "--json", a]).stdout)
            check(info["kind"] == "group" and info["zarr_format"] == 2, "kind %s" % info)
            check(info["consolidated"] is consolidated, "consolidated %s" % info["consolidated"])
            check(info["attributes"] == {"title": "organoid"}, "attributes %s" % info)
            got = {m["path"]: m["node_type"] for m in info["members"]}
            check(got == want, "members %s, zarr-python %s" % (got, want))
            paths = [m["path"] for m in info["members"]]
            check(paths == sorted(paths), "members not sorted: %s" % paths)
            raw = [m for m in info["members"] if m["path"] == "raw"][0]
            check(raw["shape"] == [20, 30] and raw["chunks"] == [7, 8]
                  and raw["dtype_name"] == "uint16", "raw %s" % raw)
            check([c["name"] for c in raw["codecs"]] == ["bytes", "blosc"], "codecs %s" % raw)
            f = [m for m in info["members"] if m["path"] == "f"][0]
            check([c["name"] for c in f["codecs"]] == ["transpose", "bytes", "blosc"]
                  and f["codecs"][1]["configuration"]["endian"] == "big", "f codecs %s" % f)
            human = run(["info", a]).stdout
            check("labels/" in human and "mask" in human and "raw" in human, human)
        # consolidated metadata is what is read: a later array is not listed
        zarr.open_group(a, mode="a").create_dataset("late", shape=(2,), dtype="u1")
        info = json.loads(run(["info", "--json", a]).stdout)
        check("late" not in [m["path"] for m in info["members"]], "late array listed")
        # the library call gives the same document
        lib = json.loads(tool("describe", a).stdout)
        check(lib == info, "describe %s\ninfo %s" % (lib, info))


def test_v3_hierarchy():
    with TempDir() as d:
        src = os.path.join(d, "src.zarr")
        z = zarr.open(src, mode="w", shape=(6, 7), chunks=(3, 3), dtype="<i4")
        z[...] = np.arange(42, dtype="<i4").reshape(6, 7)
        g = os.path.join(d, "g.zarr")
        tool("create", g, 3)
        tool("create", os.path.join(g, "sub"), 3)
        run(["convert", src, os.path.join(g, "img"), "--zarr-format", "3", "--chunks", "3,4"])
        run(["convert", src, os.path.join(g, "sub", "lab"), "--zarr-format", "3",
             "--chunk-key-encoding", "v2", "--codec", "gzip:2"])
        with open(os.path.join(g, "zarr.json")) as f:
            root = json.load(f)
        check(root == {"attributes": {}, "zarr_format": 3, "consolidated_metadata": None,
                       "node_type": "group"}, "group zarr.json %s" % root)
        info = json.loads(run(["info", "--json", g]).stdout)
        check(info["zarr_format"] == 3 and info["consolidated"] is False, "info %s" % info)
        check([(m["path"], m["node_type"]) for m in info["members"]]
              == [("img", "array"), ("sub", "group"), ("sub/lab", "array")],
              "members %s" % info["members"])
        lab = info["members"][2]
        check([c["name"] for c in lab["codecs"]] == ["bytes", "gzip"], "lab %s" % lab)
        tool("consolidate", g)
        with open(os.path.join(g, "zarr.json")) as f:
            root = json.load(f)
        cm = root["consolidated_metadata"]
        check(cm["kind"] == "inline" and cm["must_understand"] is False, "cm %s" % cm)
        check(sorted(cm["metadata"]) == ["img", "sub", "sub/lab"], "cm keys %s" % cm["metadata"])
        for p in ("img", "sub/lab"):
            with open(os.path.join(g, p, "zarr.json")) as f:
                check(cm["metadata"][p] == json.load(f), "%s document differs" % p)
        info2 = json.loads(run(["info", "--json", g]).stdout)
        check(info2["consolidated"] is True, "consolidated %s" % info2)
        check(info2["members"] == info["members"], "members differ after consolidation")
        human = run(["info", g]).stdout
        check("zarr v3 (consolidated metadata)" in human and "  sub/" in human
              and "    lab" in human, human)
        # the arrays inside still open and read
        out = os.path.join(d, "back.zarr")
        run(["convert", os.path.join(g, "sub", "lab"), out, "--codec", "none"])
        check(np.array_equal(zarr.open(out, "r")[...], z[...]), "sub/lab data")


def test_bad_group():
    with TempDir() as d:
        g = os.path.join(d, "g.zarr")
        os.mkdir(g)
        with open(os.path.join(g, ".zgroup"), "w") as f:
            f.write('{"zarr_format": 7}')
        p = run(["info", g], rc=1)
        check("scout: error:" in p.stderr and ".zgroup" in p.stderr
              and "zarr_format" in p.stderr, p.stderr)
        tool("consolidate", os.path.join(d, "nothing"), rc=1)


if __name__ == "__main__":
    main([test_v2_consolidate_bytes, test_v2_describe, test_v3_hierarchy, test_bad_group])
