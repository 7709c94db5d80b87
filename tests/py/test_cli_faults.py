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
    return ["blur", "-j", "2", "--sigma", "1", "--chunks", CHUNKS, "--no-progress", inp, out]


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
        for cmd in ("convert", "blur"):
            for spec, fsync in SPECS:
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
    print("cli faults: %d faulted runs of convert and blur, all exit 1 and clean" % injected)


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


def test_bad_fault_spec():
    """A malformed SCOUT_FAULT is refused, never silently ignored."""
    with TempDir() as d:
        inp, a = make_input(d)
        out = os.path.join(d, "out.zarr")
        p = run(command("convert", inp, out), rc=1, env=env_with("write:x:ENOSPC"))
        check("SCOUT_FAULT" in p.stderr, p.stderr)
        check(not os.path.exists(out), "OUTPUT left behind")


if __name__ == "__main__":
    main([test_faults_fail_cleanly, test_no_fault_succeeds, test_bad_fault_spec])
