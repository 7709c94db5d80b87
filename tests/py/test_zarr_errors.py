"""Errors on arrays written by zarr-python: each is a clean non-zero exit with a
message naming the file, field or chunk key (checked through zarr_tool)."""
import os
import shutil
import subprocess
import sys
import tempfile

import numcodecs
import numpy as np
import zarr

TOOL = os.path.join(os.environ.get("SCOUT_BUILD_DIR", "build"), "tools", "zarr_tool")
failures = []


def expect_error(args, *needles):
    out = subprocess.run([TOOL] + args, capture_output=True, text=True, timeout=60)
    msg = out.stderr
    if out.returncode != 1 or not all(n in msg for n in needles):
        failures.append("%s: exit %d, stderr %r, expected %r" % (args, out.returncode, msg, needles))
        print("FAIL:", failures[-1], file=sys.stderr)


def main():
    tmp = tempfile.mkdtemp(prefix="scout_zerr_")
    try:
        out = os.path.join(tmp, "out.bin")
        p = os.path.join(tmp, "nothing.zarr")
        expect_error(["read", p, out], p)
        os.mkdir(p)
        expect_error(["read", p, out], p)

        p = os.path.join(tmp, "badjson.zarr")
        zarr.open_array(p, mode="w", shape=(4,), chunks=(2,), dtype="<u2")
        with open(os.path.join(p, ".zarray")) as f:
            text = f.read()
        with open(os.path.join(p, ".zarray"), "w") as f:
            f.write(text.replace('"dtype": "<u2",', '"dtype": "<u2"'))
        line = text[: text.index('"dtype"')].count("\n") + 2
        expect_error(["read", p, out], ".zarray", "line %d" % line, "column")

        p = os.path.join(tmp, "dtype.zarr")
        zarr.open_array(p, mode="w", shape=(4,), chunks=(2,), dtype="<M8[s]")
        expect_error(["read", p, out], "dtype", "<M8[s]")
        p = os.path.join(tmp, "str.zarr")
        zarr.open_array(p, mode="w", shape=(4,), chunks=(2,), dtype="<U3")
        expect_error(["read", p, out], "<U3")

        p = os.path.join(tmp, "codec.zarr")
        zarr.open_array(p, mode="w", shape=(4,), chunks=(2,), dtype="<u2",
                        compressor=numcodecs.Shuffle(elementsize=2))
        expect_error(["read", p, out], "shuffle", "compressor")

        # delta & co. are supported now (test_filters.py); a filter scout lacks stays an error naming it
        p = os.path.join(tmp, "filter.zarr")
        zarr.open_array(p, mode="w", shape=(4,), chunks=(2,), dtype="<u2",
                        filters=[numcodecs.Base64()])
        expect_error(["read", p, out], "filter \"base64\"", "not supported")

        for name, codec in [("blosc", numcodecs.Blosc()), ("zlib", numcodecs.Zlib()),
                            ("lz4", numcodecs.LZ4()), ("zstd", numcodecs.Zstd()),
                            ("lzma", numcodecs.LZMA()), ("bz2", numcodecs.BZ2()),
                            ("gzip", numcodecs.GZip()), ("none", None)]:
            p = os.path.join(tmp, "corrupt_%s.zarr" % name)
            z = zarr.open_array(p, mode="w", shape=(40, 30), chunks=(16, 16), dtype="<i4",
                                compressor=codec, dimension_separator="/")
            z[...] = np.arange(1200, dtype="<i4").reshape(40, 30)
            key = os.path.join(p, "1", "1")
            with open(key, "rb") as f:
                data = f.read()
            with open(key, "wb") as f:
                f.write(data[: len(data) // 2])
            expect_error(["read", p, out], "chunk 1/1", p)
            with open(key, "wb") as f:
                f.write(b"not a chunk at all")
            expect_error(["read", p, out], "chunk 1/1")
            # a chunk of another array: decodes to the wrong size
            small = zarr.open_array(os.path.join(tmp, "small_%s.zarr" % name), mode="w", shape=(4,),
                                    chunks=(4,), dtype="<i4", compressor=codec)
            small[...] = 7
            with open(os.path.join(tmp, "small_%s.zarr" % name, "0"), "rb") as f:
                data = f.read()
            with open(key, "wb") as f:
                f.write(data)
            expect_error(["read", p, out], "chunk 1/1", "1024")

        # writing a read-only array is refused by the library (covered in C); bad write requests here
        p = os.path.join(tmp, "w.zarr")
        np.zeros(6, "<u2").tofile(os.path.join(tmp, "in.bin"))
        expect_error(["write", p, "<u2", "C", "/", '{"id":"nope"}', "-", "6", "2",
                      os.path.join(tmp, "in.bin"), "whole"], "nope")
        expect_error(["write", p, "<u2", "C", "/", "null", "-", "6", "2",
                      os.path.join(tmp, "in.bin"), "sub:0:7"], "outside")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("zarr errors: %d failures" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
