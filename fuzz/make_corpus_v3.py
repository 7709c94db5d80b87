#!/usr/bin/python3
"""Seed corpora of the v3 fuzz targets from real outputs.

Usage: make_corpus_v3.py OUT DIR...  -- walks each DIR for Zarr v3 arrays and
groups (zarr.json) and OME-Zarr groups, as zarrita.js, zarr-python and scout
write them (the interop and pyramid tests leave such trees; `scout convert
--zarr-format 3` and `scout pyramid` make more), and writes:
  OUT/zarr_json/   every distinct zarr.json
  OUT/v3_chunk/    fuzz_v3_chunk inputs: dtype, ndim, chunk extents, the
                   array's codec list as JSON, NUL, one stored chunk's bytes
                   (arrays whose chunk extents are at most 16)
  OUT/ngff/        fuzz_ngff inputs: 0x00 + .zattrs (0.4), 0x01 + zarr.json (0.5)
  OUT/codec_spec/  --codec SPECs: short forms, numcodecs JSON, the v3 lists found
"""
import hashlib
import json
import os
import sys

DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
          "uint64", "float16", "float32", "float64", "complex64", "complex128"]

SPECS = ["none", "raw", "default", "blosc", "blosc:zstd", "blosc:lz4:5",
         "blosc:zstd:1:bitshuffle", "blosc:zlib:9:noshuffle", "blosc:lz4hc:3:shuffle",
         "blosc:blosclz:0:0", "zlib", "zlib:9", "gzip:1", "bz2:9", "lzma:6", "zstd",
         "zstd:-1", "zstd:22", "lz4", "null", '{"id": "zlib", "level": 5}',
         '{"id": "blosc", "cname": "zstd", "clevel": 3, "shuffle": 2, "blocksize": 0}',
         '{"id": "lzma", "format": 1, "check": -1, "preset": 6, "filters": null}',
         '[{"name": "bytes", "configuration": {"endian": "little"}}]',
         '[{"name": "transpose", "configuration": {"order": [1, 0]}}, {"name": "bytes",'
         ' "configuration": {"endian": "big"}}, {"name": "gzip", "configuration": '
         '{"level": 5}}, {"name": "crc32c"}]']


def put(outdir, data):
    os.makedirs(outdir, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(outdir, name), "wb") as f:
        f.write(data)


def first_chunk(root, meta):
    enc = meta.get("chunk_key_encoding", {})
    for dirpath, _, files in os.walk(root):
        for f in files:
            if f in ("zarr.json", ".zattrs", ".zarray", ".zgroup"):
                continue
            rel = os.path.relpath(os.path.join(dirpath, f), root)
            if enc.get("name") == "default" and not rel.startswith("c"):
                continue
            return os.path.join(dirpath, f)
    return None


def main():
    out = sys.argv[1]
    seen_lists = set()
    for top in sys.argv[2:]:
        for dirpath, _, files in os.walk(top):
            for name in files:
                path = os.path.join(dirpath, name)
                if name not in ("zarr.json", ".zattrs"):
                    continue
                try:
                    raw = open(path, "rb").read()
                    doc = json.loads(raw)
                except (OSError, ValueError):
                    continue
                if not isinstance(doc, dict):
                    continue
                if name == ".zattrs":
                    if "multiscales" in doc:
                        put(os.path.join(out, "ngff"), b"\x00" + raw)
                    continue
                put(os.path.join(out, "zarr_json"), raw)
                if "ome" in doc.get("attributes", {}):
                    put(os.path.join(out, "ngff"), b"\x01" + raw)
                if doc.get("node_type") != "array":
                    continue
                codecs = doc.get("codecs")
                lst = json.dumps(codecs)
                if lst not in seen_lists:
                    seen_lists.add(lst)
                    put(os.path.join(out, "codec_spec"), lst.encode())
                try:
                    chunks = doc["chunk_grid"]["configuration"]["chunk_shape"]
                    dt = DTYPES.index(doc["data_type"])
                except (KeyError, ValueError, TypeError):
                    continue
                if not 1 <= len(chunks) <= 4 or max(chunks) > 16 or min(chunks) < 1:
                    continue
                c = first_chunk(dirpath, doc)
                if not c:
                    continue
                head = bytes([dt, 0x80 | (len(chunks) - 1)] +
                             [(e - 1) % 16 for e in chunks] + [0] * (4 - len(chunks)))
                put(os.path.join(out, "v3_chunk"),
                    head + lst.encode() + b"\x00" + open(c, "rb").read())
    for s in SPECS:
        put(os.path.join(out, "codec_spec"), s.encode())


if __name__ == "__main__":
    main()
