"""zarrita.js, the independent Zarr v3 peer of the v3 tests (run with Debian's /usr/bin/python3).

The npm packages pinned in tests/js/package.json (+ package-lock.json) are
installed with `npm ci` into BUILD/js/node_modules the first time a test needs
them (under a lock: ctest runs tests in parallel), never into the source tree.
The node scripts tests/js/*.mjs are copied next to them so that node resolves
`zarrita` from there. Node.js is required: when node or npm is missing or the
install fails the calling test fails (it never skips); `make deps` installs
Debian's nodejs and npm when `node` is missing.
"""
import fcntl
import hashlib
import json
import os
import shutil
import subprocess

from cli_common import BUILD

SOURCE = os.environ.get("SCOUT_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
JS_SRC = os.path.join(SOURCE, "tests", "js")
JS_DIR = os.path.join(BUILD, "js")


def _node():
    node = shutil.which("node") or shutil.which("nodejs")
    if not node:
        raise AssertionError("node not found: zarrita.js needs Node.js (make deps installs Debian's nodejs)")
    p = subprocess.run([node, "--version"], capture_output=True, text=True)
    major = int(p.stdout.strip().lstrip("v").split(".")[0]) if p.returncode == 0 else 0
    if major < 18:
        raise AssertionError("node %s is unusable for zarrita.js (needs >= 18): %s" % (node, p.stdout + p.stderr))
    return node


def install():
    """Install zarrita.js into BUILD/js when missing or out of date; return the node executable."""
    node = _node()
    os.makedirs(JS_DIR, exist_ok=True)
    with open(os.path.join(JS_SRC, "package-lock.json"), "rb") as f:
        lock = f.read()
    want = hashlib.sha256(lock).hexdigest()
    stamp = os.path.join(JS_DIR, "node_modules", ".scout-installed")
    with open(os.path.join(JS_DIR, ".install.lock"), "w") as lk:
        fcntl.flock(lk, fcntl.LOCK_EX)
        try:
            have = open(stamp).read().strip()
        except OSError:
            have = ""
        if have != want:
            npm = shutil.which("npm")
            if not npm:
                raise AssertionError("npm not found: zarrita.js is installed with npm (make deps installs Debian's npm)")
            for name in ("package.json", "package-lock.json"):
                shutil.copyfile(os.path.join(JS_SRC, name), os.path.join(JS_DIR, name))
            p = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=JS_DIR,
                               capture_output=True, text=True, timeout=600)
            if p.returncode != 0:
                raise AssertionError("npm ci of zarrita.js in %s failed (the npm registry must be reachable):\n%s%s"
                                     % (JS_DIR, p.stdout, p.stderr))
            with open(stamp, "w") as f:
                f.write(want + "\n")
        for name in os.listdir(JS_SRC):
            if name.endswith(".mjs"):
                shutil.copyfile(os.path.join(JS_SRC, name), os.path.join(JS_DIR, name))
    return node


def run_script(script, cases, workdir, timeout=300):
    """Run tests/js/SCRIPT on {"cases": cases} in one node process; return {dir: result line}."""
    node = install()
    path = os.path.join(workdir, "%s-cases.json" % os.path.splitext(script)[0])
    with open(path, "w") as f:
        json.dump({"cases": cases}, f)
    p = subprocess.run([node, os.path.join(JS_DIR, script), path], capture_output=True, text=True,
                       timeout=timeout, cwd=JS_DIR)
    results = {}
    for line in p.stdout.splitlines():
        if line.startswith("{"):
            r = json.loads(line)
            results[r["dir"]] = r
    if len(results) != len(cases):
        raise AssertionError("node %s: %d results for %d cases (exit %d)\nstdout: %s\nstderr: %s"
                             % (script, len(results), len(cases), p.returncode, p.stdout[-3000:], p.stderr[-3000:]))
    return results


def write(cases, workdir):
    """zarrita writes every case (see tests/js/zarrita_write.mjs); returns {dir: result}."""
    return run_script("zarrita_write.mjs", cases, workdir)


def read(cases, workdir):
    """zarrita reads every case (see tests/js/zarrita_read.mjs); returns {dir: result}."""
    return run_script("zarrita_read.mjs", cases, workdir)
