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
print("install test passed")
