"""Bad Zarr v3 input: every case is a clean failure of the scout command (exit 1,
`scout: error: ...` naming the file and the field, codec or chunk key).

The arrays are built from the spec (tests/py/v3_spec.py) and then broken by hand:
metadata errors through `scout info --json` and `scout convert` (both open the
array), chunk errors (crc32c mismatch, truncated chunk) through `scout convert`,
which reads every chunk. The same field with "must_understand": false opens.
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from cli_common import TempDir, check, main, run  # noqa: E402
import v3_spec as spec  # noqa: E402

DEFAULT_SKE = {"name": "default", "configuration": {"separator": "/"}}
BYTES = {"name": "bytes", "configuration": {"endian": "little"}}


def good_array(path, dtype="int16", codecs=None, fill=0):
    data = (np.arange(6 * 10) % 97).astype(dtype).reshape(6, 10)
    spec.write_array(path, data, (4, 4), codecs or [BYTES], DEFAULT_SKE, fill)
    return data


def edit_meta(path, edit):
    mp = os.path.join(path, "zarr.json")
    with open(mp) as f:
        m = json.load(f)
    edit(m)
    with open(mp, "w") as f:
        json.dump(m, f, indent=2)


def expect_error(args, words, what):
    """scout ARGS must exit 1 with one `scout: error:` line holding every word of `words`."""
    p = run(args, rc=None)
    err = p.stderr.strip()
    check(p.returncode == 1, "%s: scout %s exit %d, expected 1\nstderr: %s"
          % (what, " ".join(args[:2]), p.returncode, err))
    check(err.startswith("scout: error:"), "%s: stderr %r" % (what, err))
    for w in words:
        check(w in err, "%s: the message does not name %r: %s" % (what, w, err))
    return err


def meta_cases():
    """(what, dtype, edit of zarr.json, words the message must name)"""
    def set_(k, v):
        return lambda m: m.__setitem__(k, v)

    def codecs(lst):
        return set_("codecs", lst)

    return [
        ("unknown codec", "int16", codecs([BYTES, {"name": "frobnicate", "configuration": {}}]), ["frobnicate"]),
        ("unknown codec before bytes", "int16", codecs([{"name": "rot13"}, BYTES]), ["rot13"]),
        ("unknown must-understand field", "int16",
         set_("frobnicate", {"name": "x", "must_understand": True}), ["frobnicate"]),
        ("unknown field, must_understand by default", "int16", set_("frobnicate", {"x": 1}), ["frobnicate"]),
        ("unknown storage transformer", "int16",
         set_("storage_transformers", [{"name": "frobnicate"}]), ["storage_transformers"]),
        ("bad data_type", "int16", set_("data_type", "int128"), ["data_type", "int128"]),
        ("bad data_type (v2 typestr)", "int16", set_("data_type", "<i2"), ["data_type"]),
        ("data_type not a string", "int16", set_("data_type", 16), ["data_type"]),
        ("fill_value string for int16", "int16", set_("fill_value", "abc"), ["fill_value"]),
        ("fill_value 1.5 for int16", "int16", set_("fill_value", 1.5), ["fill_value"]),
        ("fill_value 300 for uint8", "uint8", set_("fill_value", 300), ["fill_value"]),
        ("fill_value -1 for uint8", "uint8", set_("fill_value", -1), ["fill_value"]),
        ("fill_value string for bool", "bool", set_("fill_value", "yes"), ["fill_value"]),
        ("fill_value 'nan' for float32", "float32", set_("fill_value", "nan"), ["fill_value"]),
        ("fill_value list for float32", "float32", set_("fill_value", [1.0, 2.0]), ["fill_value"]),
        ("fill_value wrong hex width", "float32", set_("fill_value", "0x7ff8000000000000"), ["fill_value"]),
        ("no array->bytes codec", "int16", codecs([{"name": "zstd", "configuration": {"level": 1, "checksum": False}}]),
         ["codecs"]),
        ("only transpose", "int16", codecs([{"name": "transpose", "configuration": {"order": [1, 0]}}]), ["codecs"]),
        ("empty codec list", "int16", codecs([]), ["codecs"]),
        ("two array->bytes codecs", "int16", codecs([BYTES, BYTES]), ["codecs"]),
    ]


def test_bad_metadata():
    """Each broken zarr.json: exit 1 from info and convert, naming zarr.json and the field."""
    n = 0
    bad = []
    with TempDir() as d:
        for i, (what, dtype, edit, words) in enumerate(meta_cases()):
            a = os.path.join(d, "m%02d.zarr" % i)
            good_array(a, dtype)
            edit_meta(a, edit)
            for args in (["info", "--json", a], ["convert", "--no-progress", a, a + ".out", "--codec", "none"]):
                n += 1
                try:
                    expect_error(args, ["zarr.json"] + words, what)
                except AssertionError as e:
                    bad.append(str(e))
    print("  bad metadata: %d cases x info/convert = %d runs, %d pass" % (n // 2, n, n - len(bad)))
    check(not bad, "\n".join(bad))


def test_must_understand_false_opens():
    """The same unknown field (and codec-free extension) with "must_understand": false opens
    and reads as the data."""
    with TempDir() as d:
        a = os.path.join(d, "ok.zarr")
        data = good_array(a)
        edit_meta(a, lambda m: m.__setitem__("frobnicate", {"name": "x", "must_understand": False}))
        info = json.loads(run(["info", "--json", a]).stdout)
        check(info["shape"] == [6, 10] and info["dtype_name"] == "int16", "info %s" % info)
        run(["convert", "--no-progress", a, a + ".v2", "--codec", "none"])
        import zarr
        check(np.array_equal(zarr.open(a + ".v2", mode="r")[...], data), "values")


def chunk_path(a, key):
    return os.path.join(a, *key.split("/"))


def test_bad_chunks():
    """crc32c mismatch and truncated chunks: exit 1 naming the chunk key."""
    n = 0
    bad = []
    with TempDir() as d:
        cases = []
        # crc32c: one data byte flipped, then the checksum itself flipped
        for i, where in enumerate(["data", "checksum"]):
            a = os.path.join(d, "crc%d.zarr" % i)
            good_array(a, codecs=[BYTES, {"name": "crc32c"}])
            p = chunk_path(a, "c/1/2")
            b = bytearray(open(p, "rb").read())
            b[3 if where == "data" else -2] ^= 0x40
            open(p, "wb").write(bytes(b))
            cases.append(("crc32c mismatch in the %s" % where, a, ["c/1/2"]))
        # crc32c after gzip: the gzip stream is fine, the checksum is not
        a = os.path.join(d, "crcgz.zarr")
        good_array(a, codecs=[BYTES, {"name": "gzip", "configuration": {"level": 1}}, {"name": "crc32c"}])
        p = chunk_path(a, "c/0/1")
        b = bytearray(open(p, "rb").read())
        b[-1] ^= 0x01
        open(p, "wb").write(bytes(b))
        cases.append(("crc32c mismatch after gzip", a, ["c/0/1"]))
        # truncated chunks under several chains
        for i, codecs in enumerate([
                [BYTES],
                [BYTES, {"name": "crc32c"}],
                [BYTES, {"name": "zstd", "configuration": {"level": 3, "checksum": False}}],
                [BYTES, {"name": "gzip", "configuration": {"level": 5}}],
                [BYTES, {"name": "blosc", "configuration": {"cname": "lz4", "clevel": 5, "shuffle": "shuffle",
                                                            "typesize": 2, "blocksize": 0}}]]):
            a = os.path.join(d, "trunc%d.zarr" % i)
            good_array(a, codecs=codecs)
            p = chunk_path(a, "c/1/0")
            b = open(p, "rb").read()
            open(p, "wb").write(b[: len(b) - 5])
            cases.append(("truncated chunk (%s)" % "+".join(c["name"] for c in codecs), a, ["c/1/0"]))
        # an empty chunk file
        a = os.path.join(d, "empty.zarr")
        good_array(a)
        open(chunk_path(a, "c/0/0"), "wb").close()
        cases.append(("empty chunk file", a, ["c/0/0"]))
        for what, a, words in cases:
            n += 1
            try:
                expect_error(["convert", "--no-progress", a, a + ".out", "--codec", "none"], words, what)
                check(not os.path.exists(a + ".out"), "%s: output left behind" % what)
            except AssertionError as e:
                bad.append(str(e))
    print("  bad chunks: %d cases, %d pass" % (n, n - len(bad)))
    check(not bad, "\n".join(bad))


if __name__ == "__main__":
    tests = [test_bad_metadata, test_must_understand_false_opens, test_bad_chunks]
    main(tests)
