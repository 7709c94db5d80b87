"""scout convert between Zarr v2 and v3, checked with zarr-python 2 and numpy.

For every core data type: a v2 array written by zarr-python -> `scout convert
--zarr-format 3` with several chains and both key encodings -> `scout convert
--codec none` back to v2 -> read by zarr-python 2: equal to the source (shapes
not multiples of the chunks, a box never written reads as the fill value).
Also: the v3 metadata scout writes (data_type, chunk_key_encoding, codecs,
key layout on disk), dimension names carried v3 -> v3, and `scout info --json`.
"""
import json
import os
import sys

import numpy as np
import zarr

sys.path.insert(0, os.path.dirname(__file__))
from cli_common import TempDir, check, main, run  # noqa: E402

DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float16", "float32", "float64", "complex64", "complex128"]
CHAINS = [
    ([], None, ["bytes", "blosc"]),
    (["--codec", "none"], None, ["bytes"]),
    (["--codec", "zstd:3"], None, ["bytes", "zstd"]),
    (["--codec", "gzip:5", "--chunk-key-encoding", "v2"], "v2", ["bytes", "gzip"]),
    (["--codec", '[{"name":"transpose","configuration":{"order":[2,0,1]}},'
      '{"name":"bytes","configuration":{"endian":"big"}},{"name":"crc32c"}]'],
     None, ["transpose", "bytes", "crc32c"]),
]


def data(dt, shape):
    rng = np.random.default_rng(7)
    if dt == "bool":
        return rng.random(shape) > 0.5
    if dt.startswith("complex"):
        return (rng.normal(size=shape) + 1j * rng.normal(size=shape)).astype(dt)
    if dt.startswith("float"):
        return rng.normal(0, 100, shape).astype(dt)
    info = np.iinfo(dt)
    return rng.integers(info.min, info.max, shape, dtype=dt, endpoint=True)


def test_dtypes_and_chains():
    shape = (5, 7, 6)
    with TempDir() as d:
        for dt in DTYPES:
            a = data(dt, shape)
            src = os.path.join(d, dt + ".zarr")
            z = zarr.open(src, mode="w", shape=shape, chunks=(2, 3, 4), dtype=a.dtype)
            z[:4] = a[:4]  # the last plane of chunks is never written: fill value 0
            want = a.copy()
            want[4:] = 0
            for k, (args, enc, names) in enumerate(CHAINS):
                v3 = os.path.join(d, "%s_%d.v3" % (dt, k))
                run(["convert", src, v3, "--zarr-format", "3", "--chunks", "2,4,3"] + args)
                with open(os.path.join(v3, "zarr.json")) as f:
                    meta = json.load(f)
                check(meta["zarr_format"] == 3 and meta["node_type"] == "array"
                      and meta["data_type"] == dt, "%s: %s" % (v3, meta))
                check([c["name"] for c in meta["codecs"]] == names, "%s codecs %s" % (v3, meta))
                cke = meta["chunk_key_encoding"]
                if enc == "v2":
                    check(cke == {"name": "v2", "configuration": {"separator": "."}}, str(cke))
                    check(os.path.exists(os.path.join(v3, "1.1.0")), "%s: key 1.1.0" % v3)
                else:
                    check(cke == {"name": "default", "configuration": {"separator": "/"}},
                          str(cke))
                    check(os.path.exists(os.path.join(v3, "c", "1", "1", "0")),
                          "%s: key c/1/1/0" % v3)
                back = os.path.join(d, "%s_%d.back" % (dt, k))
                run(["convert", v3, back, "--codec", "none"])
                got = zarr.open(back, mode="r")
                check(got.dtype == a.dtype and got.shape == shape, "%s: %s" % (back, got))
                check(np.array_equal(got[...], want), "%s: data differs" % back)
                info = json.loads(run(["info", "--json", v3]).stdout)
                check(info["zarr_format"] == 3 and info["codecs"] == meta["codecs"]
                      and info["chunk_key_encoding"] == cke
                      and info["dimension_names"] is None, "info %s" % info)


def test_dimension_names_and_v2_info():
    with TempDir() as d:
        src = os.path.join(d, "a.zarr")
        z = zarr.open(src, mode="w", shape=(4, 6), chunks=(3, 4), dtype=">i2", order="F")
        z[...] = np.arange(24).reshape(4, 6)
        info = json.loads(run(["info", "--json", src]).stdout)
        check(info["zarr_format"] == 2 and info["dtype"] == ">i2" and info["order"] == "F",
              "v2 info %s" % info)
        check([c["name"] for c in info["codecs"]] == ["transpose", "bytes", "blosc"]
              and info["codecs"][0]["configuration"]["order"] == [1, 0]
              and info["codecs"][1]["configuration"]["endian"] == "big", "codecs %s" % info)
        check(info["chunk_key_encoding"] == {"name": "v2", "configuration": {"separator": "."}},
              "cke %s" % info)
        v3 = os.path.join(d, "a.v3")
        run(["convert", src, v3, "--zarr-format", "3"])
        with open(os.path.join(v3, "zarr.json")) as f:
            meta = json.load(f)
        meta["dimension_names"] = ["y", None]
        with open(os.path.join(v3, "zarr.json"), "w") as f:
            json.dump(meta, f)
        v3b = os.path.join(d, "b.v3")
        run(["convert", v3, v3b, "--zarr-format", "3"])
        info = json.loads(run(["info", "--json", v3b]).stdout)
        check(info["dimension_names"] == ["y", None], "dimension names %s" % info)
        check("dimensions:" in run(["info", v3b]).stdout, "human info")


if __name__ == "__main__":
    main([test_dtypes_and_chains, test_dimension_names_and_v2_info])
