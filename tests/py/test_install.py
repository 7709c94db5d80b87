"""Install scout into a temporary prefix and build a program that uses every
foundation function against it with pkg-config, as a user would."""
import os
import subprocess
import sys
import tempfile

build = os.environ["SCOUT_BUILD_DIR"]
source = os.environ["SCOUT_SOURCE_DIR"]

cache = open(os.path.join(build, "CMakeCache.txt")).read()
if "SCOUT_SANITIZE:BOOL=ON" in cache:
    # a sanitizer-built library cannot be linked into a plain program
    print("skipped: sanitizer build")
    sys.exit(0)

with tempfile.TemporaryDirectory(prefix="scout-install-") as tmp:
    prefix = os.path.join(tmp, "prefix")
    subprocess.run(["cmake", "--install", build, "--prefix", prefix], check=True,
                   stdout=subprocess.DEVNULL)
    for f in ["include/scout/scout.h", "lib/pkgconfig/scout.pc", "lib/libscout.a",
              "lib/libscout.so", "lib/cmake/scout/scoutConfig.cmake"]:
        assert os.path.exists(os.path.join(prefix, f)), f + " not installed"
    env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(prefix, "lib/pkgconfig"))
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "scout"], env=env,
                           check=True, capture_output=True, text=True).stdout.split()
    exe = os.path.join(tmp, "api_tour")
    subprocess.run(["cc", "-std=gnu11", "-Wall", "-Wextra", "-Werror",
                    os.path.join(source, "examples/api_tour.c"), "-o", exe] + flags,
                   check=True)
    run = subprocess.run([exe, tmp], capture_output=True, text=True)
    out = run.stdout
    print(out, run.stderr)
    assert run.returncode == 0, "api_tour failed"
    assert "all steps gave the expected answers" in out

    # the Python package, when the build made it (python3-dev + numpy found)
    import glob
    if glob.glob(os.path.join(build, "python", "libscout", "_core*.so")):
        site = os.path.join(prefix, "lib", "python3", "dist-packages")
        assert glob.glob(os.path.join(site, "libscout", "_core*.so")), "extension not installed"
        assert os.path.exists(os.path.join(site, "libscout", "utils.py"))
        env = dict(os.environ, PYTHONPATH=site)
        code = ("import libscout, numpy as np, sys; "
                "a = libscout.create(sys.argv[1], (5, 6), 'u2', chunks=(2, 4)); "
                "a[1:4, 2:] = 7; "
                "print(libscout.__file__, int(libscout.open(sys.argv[1])[:].sum()), "
                "libscout.utils.chunk_dims((5, 6), (2, 4)))")
        run = subprocess.run(["/usr/bin/python3", "-c", code, os.path.join(tmp, "p.zarr")],
                             env=env, cwd=tmp, capture_output=True, text=True)
        print(run.stdout, run.stderr)
        assert run.returncode == 0, "import libscout from the prefix failed"
        path, total, dims = run.stdout.split(" ", 2)
        assert path.startswith(site), path
        assert int(total) == 7 * 3 * 4 and dims.strip() == "(3, 2)"
        print("python package installed and importable")
print("install test passed")
