"""scout convert / blur under injected store faults (SCOUT_FAULT, see src/store/store.h):
every failing write, fsync, rename, mkdir, temporary-file creation or read makes the
command exit 1 with a message naming the file and the system error, leaves nothing at
OUTPUT, no OUTPUT.tmp-* and no temporary chunk file anywhere, and the input intact.
The same runs without a fault (or with a fault numbered past the last operation)
succeed and give the array numpy/zarr-python expect."""
import os
import sys

import numpy as np
import zarr

sys.path.insert(0, os.path.dirname(__file__))
from cli_common import TempDir, check, main, run  # noqa: E402

SHAPE = (20, 30, 40)
CHUNKS = "8,10,16"  # 3 x 3 x 3 output chunks, edge chunks included
MESSAGES = {"ENOSPC": "No space left on device", "EIO": "Input/output error",
            "EDQUOT": "Disk quota exceeded", "EACCES": "Permission denied"}


def make_input(d):
    p = os.path.join(d, "in.zarr")
    z = zarr.open(p, mode="w", shape=SHAPE, chunks=(8, 10, 16), dtype="u2")
    a = (np.arange(np.prod(SHAPE), dtype=np.uint64) * 2654435761 % 65521).astype("u2")
    z[...] = a.reshape(SHAPE)
    return p, a.reshape(SHAPE)


def leftovers(d):
    """Temporary chunk files and temporary outputs anywhere under d."""
    found = []
    for root, dirs, files in os.walk(d):
        for n in dirs + files:
            if ".scout-tmp-" in n or ".tmp-" in n:
                found.append(os.path.join(root, n))
    return found


def env_with(spec, fsync=False):
    env = dict(os.environ)
    env.pop("SCOUT_FAULT", None)
    env.pop("SCOUT_FSYNC", None)
    if spec:
        env["SCOUT_FAULT"] = spec
    if fsync:
        env["SCOUT_FSYNC"] = "1"
    return env


def command(cmd, inp, out):
    if cmd == "convert":
        return ["convert", "-j", "2", "--chunks", CHUNKS, "--no-progress", inp, out]
    if cmd == "convert-v3":  # zarr.json, default chunk keys c/z/y/x
        return ["convert", "-j", "2", "--chunks", CHUNKS, "--zarr-format", "3",
                "--no-progress", inp, out]
    if cmd == "convert-v3-v2keys":  # zarr.json, v2 chunk keys, threads -> processes
        return ["convert", "-j", "2", "--processes", "--chunks", CHUNKS, "--zarr-format", "3",
                "--chunk-key-encoding", "v2", "--no-progress", inp, out]
    if cmd == "pyramid":  # NGFF 0.4: .zgroup, .zattrs and a Zarr v2 array per level
        return ["pyramid", "-j", "2", "--chunks", CHUNKS, "--voxel-size", "2,1,1",
                "--no-progress", inp, out]
    if cmd == "pyramid-0.5":  # NGFF 0.5: zarr.json group and v3 levels, processes
        return ["pyramid", "-j", "2", "--processes", "--ngff", "0.5", "--chunks", CHUNKS,
                "--voxel-size", "2,1,1", "--no-progress", inp, out]
    if cmd == "convert-ome":
        return ["convert", "-j", "2", "--chunks", CHUNKS, "--ome", "--voxel-size", "2,1,1",
                "--no-progress", inp, out]
    return ["blur", "-j", "2", "--sigma", "1", "--chunks", CHUNKS, "--no-progress", inp, out]


# the v3 and pyramid outputs (metadata: zarr.json, .zattrs of the group, each level's)
V3_COMMANDS = ("convert-v3", "convert-v3-v2keys", "pyramid", "pyramid-0.5", "convert-ome")


SPECS = [
    ("write:1:ENOSPC", False),               # the .zarray of OUTPUT
    ("write:5:ENOSPC", False),               # a chunk
    ("write:9:ENOSPC:short:sticky", False),  # the disk fills up: short write, then full
    ("open_tmp:4:EDQUOT", False),
    ("rename:7:EIO", False),
    ("mkdir:2:EACCES", False),               # a nested chunk directory
    ("read:6:EIO", False),                   # an input chunk
    ("fsync:5:EIO", True),
]


def test_faults_fail_cleanly():
    """Each fault: exit 1, a clear message, no OUTPUT, no temporary files, input intact."""
    injected = 0
    with TempDir() as d:
        inp, a = make_input(d)
        before = {n: open(os.path.join(inp, n), "rb").read() for n in os.listdir(inp)}
        for cmd in ("convert", "blur") + V3_COMMANDS:
            for spec, fsync in SPECS:
                if cmd == "convert-v3-v2keys" and spec.startswith("mkdir"):
                    continue  # flat keys: the store makes no directory
                out = os.path.join(d, "out-%s.zarr" % cmd)
                p = run(command(cmd, inp, out), rc=1, env=env_with(spec, fsync))
                err = p.stderr
                what = "%s %s: %s" % (cmd, spec, err)
                check(err.startswith("scout: "), what)
                check(MESSAGES[spec.split(":")[2]] in err, what)
                named = "in.zarr" if spec.startswith("read") else "out-%s.zarr" % cmd
                check(named in err, what)
                check(not os.path.exists(out), "OUTPUT left behind: " + what)
                check(leftovers(d) == [], "temporary files %s: %s" % (leftovers(d), what))
                injected += 1
        after = {n: open(os.path.join(inp, n), "rb").read() for n in os.listdir(inp)}
        check(before == after, "the input changed")
    print("cli faults: %d faulted runs of convert, blur, v3 convert, pyramid and convert --ome, "
          "all exit 1 and clean" % injected)


def test_no_fault_succeeds():
    """Positive controls: no fault, and a fault past the last write, both succeed."""
    with TempDir() as d:
        inp, a = make_input(d)
        for spec in (None, "write:100000:ENOSPC"):
            out = os.path.join(d, "out.zarr")
            run(command("convert", inp, out), rc=0, env=env_with(spec))
            z = zarr.open(out, mode="r")
            check(z.chunks == (8, 10, 16), "chunks %s" % (z.chunks,))
            check(np.array_equal(z[...], a), "convert output differs (%s)" % spec)
            check(leftovers(d) == [], "temporary files %s" % leftovers(d))
            run(["info", out], rc=0)
            import shutil
            shutil.rmtree(out)


def test_no_fault_succeeds_v3_pyramid():
    """Positive controls of the v3 and pyramid commands: a fault past the last operation
    changes nothing. v3 chunks are checked with numcodecs (bytes + blosc, as zarr.json
    says), pyramid level 0 with zarr-python."""
    import json
    import shutil
    from numcodecs import Blosc
    with TempDir() as d:
        inp, a = make_input(d)
        env = env_with("write:100000:ENOSPC")
        for cmd, key in (("convert-v3", "c/1/2/0"), ("convert-v3-v2keys", "1.2.0")):
            out = os.path.join(d, "out.zarr")
            run(command(cmd, inp, out), rc=0, env=env)
            meta = json.load(open(os.path.join(out, "zarr.json")))
            check(meta["zarr_format"] == 3, cmd)
            names = [c["name"] for c in meta["codecs"]]
            check(names == ["bytes", "blosc"], "%s: %s" % (cmd, names))
            raw = Blosc().decode(open(os.path.join(out, key), "rb").read())
            got = np.frombuffer(raw, dtype="<u2").reshape(8, 10, 16)
            check(np.array_equal(got, a[8:16, 20:30, 0:16]), "%s chunk %s" % (cmd, key))
            check(leftovers(d) == [], "temporary files %s" % leftovers(d))
            shutil.rmtree(out)
        for cmd in ("pyramid", "convert-ome"):
            out = os.path.join(d, "out.ome.zarr")
            run(command(cmd, inp, out), rc=0, env=env)
            attrs = json.load(open(os.path.join(out, ".zattrs")))
            path0 = attrs["multiscales"][0]["datasets"][0]["path"]
            check(np.array_equal(zarr.open(os.path.join(out, path0), mode="r")[...], a), cmd)
            check(leftovers(d) == [], "temporary files %s" % leftovers(d))
            shutil.rmtree(out)


def test_bad_fault_spec():
    """A malformed SCOUT_FAULT is refused, never silently ignored."""
    with TempDir() as d:
        inp, a = make_input(d)
        out = os.path.join(d, "out.zarr")
        p = run(command("convert", inp, out), rc=1, env=env_with("write:x:ENOSPC"))
        check("SCOUT_FAULT" in p.stderr, p.stderr)
        check(not os.path.exists(out), "OUTPUT left behind")


if __name__ == "__main__":
    main([test_faults_fail_cleanly, test_no_fault_succeeds, test_no_fault_succeeds_v3_pyramid,
          test_bad_fault_spec])
