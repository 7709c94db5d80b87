"""Shared helpers of the scout command tests (run with Debian's /usr/bin/python3)."""
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

BUILD = os.environ.get("SCOUT_BUILD_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
SCOUT = os.path.join(BUILD, "scout")
# a command prefix for scout, e.g. valgrind (set by `make test-valgrind`)
WRAPPER = shlex.split(os.environ.get("SCOUT_TEST_WRAPPER", ""))

FAILURES = []


def run(args, rc=0, timeout=300, **kw):
    """Run build/scout with args; check the exit status; return the CompletedProcess."""
    p = subprocess.run(WRAPPER + [SCOUT] + [str(a) for a in args], capture_output=True, text=True,
                       timeout=timeout, **kw)
    if rc is not None and p.returncode != rc:
        raise AssertionError("scout %s: exit %d, expected %d\nstdout: %s\nstderr: %s"
                             % (" ".join(map(str, args)), p.returncode, rc, p.stdout, p.stderr))
    return p


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


class TempDir:
    def __enter__(self):
        self.path = tempfile.mkdtemp(prefix="scout-cli-test-")
        return self.path

    def __exit__(self, *exc):
        shutil.rmtree(self.path, ignore_errors=True)


def scout_blosc(clevel=1):
    """SCOUT's compressor (blosc zstd, bitshuffle) at clevel, as numcodecs builds it."""
    import numcodecs
    return numcodecs.Blosc(cname="zstd", clevel=clevel, shuffle=numcodecs.Blosc.BITSHUFFLE)


def recompress_chunk(key):
    """Re-compress the SCOUT-blosc chunk file `key` at level 9: still valid for the array's
    codec, but not the bytes an encode at level 1 gives, so only a copy of the stored bytes
    keeps them. Returns the new bytes."""
    old = open(key, "rb").read()
    new = scout_blosc(9).encode(scout_blosc(1).decode(old))
    check(new != old, "level 9 gives other bytes")
    with open(key, "wb") as f:
        f.write(new)
    return new


def main(tests):
    """Run every test function; print a line per test; exit 1 if any failed."""
    if not os.path.exists(SCOUT):
        print("scout executable not found at", SCOUT)
        sys.exit(1)
    failed = 0
    for t in tests:
        try:
            t()
            print("ok  ", t.__name__)
        except Exception as e:  # report every failing test, not only the first
            failed += 1
            print("FAIL", t.__name__)
            import traceback
            traceback.print_exc()
    sys.stdout.flush()
    sys.exit(1 if failed else 0)


def sanitized():
    """True when SCOUT_BUILD_DIR is a sanitizer build (SCOUT_SANITIZE=ON): slower code."""
    try:
        with open(os.path.join(BUILD, "CMakeCache.txt")) as f:
            return any(line.startswith("SCOUT_SANITIZE:") and line.strip().endswith("=ON")
                       for line in f)
    except OSError:
        return False
