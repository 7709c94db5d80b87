#!/usr/bin/python3
"""Write the fuzz targets' seed corpora from files real tools write.

    /usr/bin/python3 fuzz/make_corpus.py [OUT_DIR]   (default: fuzz/corpus)

OUT_DIR/codec       chunks encoded by numcodecs (every codec, several configs,
                    dtypes and sizes), framed as fuzz_codec.c reads its input
OUT_DIR/tiff        TIFFs written by tifffile: dtypes, compressions, strips and
                    tiles, multi-page, BigTIFF, both byte orders
OUT_DIR/voxel_size  voxel-size CSVs written by Python's csv module
OUT_DIR/zarray      .zarray and .zattrs files written by zarr-python

The corpora are git-ignored (fuzz/.gitignore); a few small seeds are kept in
fuzz/seeds/<target>/.
"""
import csv
import hashlib
import io
import json
import os
import sys
import tempfile

import numcodecs
import numpy as np
import tifffile
import zarr

HERE = os.path.dirname(os.path.abspath(__file__))
CODEC_INDEX = {"blosc": 0, "zlib": 1, "gzip": 2, "bz2": 3, "lzma": 4, "zstd": 5, "lz4": 6}
TYPESIZE_BITS = {1: 0, 2: 1, 4: 2, 8: 3}


def save(outdir, target, data):
    d = os.path.join(outdir, target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def arrays(rng):
    """Chunk contents: smooth, random, constant and empty, several dtypes."""
    yield np.zeros(0, dtype="u1")
    yield np.arange(100, dtype="u1")
    yield np.full(4096, 7, dtype="u2")
    yield rng.integers(0, 50, size=(16, 16), dtype="u2")
    yield (np.sin(np.arange(1000) / 10.0) * 1000).astype("<i4")
    yield rng.standard_normal(512).astype("<f4")
    yield np.cumsum(rng.standard_normal(300)).astype("<f8")
    yield rng.integers(0, 256, size=3000, dtype="u1")


def codec_header(k, nbytes, typesize, b4_high=0, b5=0x80):
    assert nbytes <= 1 << 20
    return bytes([k, nbytes & 0xFF, (nbytes >> 8) & 0xFF, (nbytes >> 16) & 0xFF,
                  TYPESIZE_BITS[typesize] | (b4_high << 2), b5])


def codec_corpus(outdir):
    rng = np.random.default_rng(6)
    from numcodecs import LZ4, LZMA, BZ2, GZip, Zlib, Zstd, Blosc
    import lzma
    configs = [
        Blosc(cname="lz4", clevel=5, shuffle=Blosc.SHUFFLE),
        Blosc(cname="zstd", clevel=3, shuffle=Blosc.BITSHUFFLE),
        Blosc(cname="blosclz", clevel=9, shuffle=Blosc.NOSHUFFLE),
        Blosc(cname="zlib", clevel=1, shuffle=Blosc.SHUFFLE, blocksize=256),
        Blosc(cname="lz4hc", clevel=4, shuffle=Blosc.SHUFFLE),
        Zlib(level=1), Zlib(level=9), GZip(level=5), BZ2(level=1), BZ2(level=9),
        LZMA(), LZMA(preset=1), LZMA(format=lzma.FORMAT_ALONE, preset=1),
        LZMA(format=lzma.FORMAT_XZ, check=lzma.CHECK_SHA256, preset=0),
        LZMA(format=lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA2, "preset": 1}]),
        LZMA(format=lzma.FORMAT_RAW,
             filters=[{"id": lzma.FILTER_DELTA, "dist": 4}, {"id": lzma.FILTER_LZMA2, "preset": 1}]),
        Zstd(level=1), Zstd(level=19), LZ4(acceleration=1), LZ4(acceleration=8),
    ]
    for codec in configs:
        cfg = codec.get_config()
        k = CODEC_INDEX[cfg["id"]]
        for a in arrays(rng):
            raw = a.tobytes()
            try:
                enc = codec.encode(a)
            except Exception as e:  # pragma: no cover - a numcodecs limitation
                print("skip", cfg, e, file=sys.stderr)
                continue
            enc = bytes(enc)
            ts = a.dtype.itemsize
            text = json.dumps(cfg).encode()
            save(outdir, "codec", codec_header(k, len(raw), ts) + text + b"\0" + enc)
        # structured-config framing (byte 5 bit 7 clear) for the same codec
        if cfg["id"] == "lzma":
            fmt = cfg["format"]
            if fmt == 3:
                v = 3 + 4 * (0 if len(cfg["filters"]) == 1 else 2)
            elif fmt == 1 and cfg["check"] != -1:
                continue
            else:
                v = fmt
        else:
            v = 0
        a = np.arange(2000, dtype="<u2")
        enc = bytes(codec.encode(a))
        save(outdir, "codec", codec_header(k, a.nbytes, 2, v & 63, v >> 6) + enc)
    # no compressor
    a = np.arange(64, dtype="u1")
    save(outdir, "codec", codec_header(7, 64, 1, 0, 0) + a.tobytes())


def tiff_corpus(outdir):
    rng = np.random.default_rng(7)
    cases = []
    for dt in ["u1", "u2", "i2", "u4", "i4", "f4", "f8", "u8", "i8", "f2", "i1"]:
        a = (rng.standard_normal((20, 33)) * 50).astype(dt)
        cases.append((a, {}))
    a = rng.integers(0, 1000, size=(40, 37)).astype("u2")
    cases += [
        (a, {"compression": "zlib"}),
        (a, {"compression": "lzma"}),
        (a, {"compression": "zstd"}),
        (a, {"compression": "lzw"}),
        (a, {"compression": "packbits"}),
        (a, {"compression": "zlib", "predictor": True}),
        (a, {"tile": (16, 16)}),
        (a, {"tile": (16, 32), "compression": "zlib"}),
        (a, {"rowsperstrip": 7}),
        (a, {"rowsperstrip": 1, "compression": "zlib"}),
        (a, {"bigtiff": True}),
        (a, {"bigtiff": True, "tile": (16, 16), "compression": "zlib"}),
        (a.astype(">u2"), {"byteorder": ">"}),
        (a.astype(">f4"), {"byteorder": ">", "tile": (16, 16)}),
        (rng.integers(0, 255, size=(3, 12, 10)).astype("u1"), {}),
        (rng.integers(0, 255, size=(4, 12, 10)).astype("u2"), {"compression": "zlib", "bigtiff": True}),
        (rng.integers(0, 255, size=(2, 32, 32)).astype("u1"), {"tile": (16, 16)}),
        # unsupported on purpose: RGB, 1 sample of 3 planes, bilevel-ish
        (rng.integers(0, 255, size=(8, 9, 3)).astype("u1"), {"photometric": "rgb"}),
        (np.zeros((8, 16), dtype=bool), {}),
        (rng.standard_normal((6, 7)).astype("c8"), {}),
    ]
    for a, kw in cases:
        buf = io.BytesIO()
        try:
            tifffile.imwrite(buf, a, **kw)
        except Exception as e:
            print("skip tiff", a.dtype, kw, type(e).__name__, e, file=sys.stderr)
            continue
        save(outdir, "tiff", buf.getvalue())
    # codecs tifffile cannot write without imagecodecs, through Pillow's libtiff
    try:
        from PIL import Image
    except ImportError:
        return
    img = Image.fromarray(rng.integers(0, 255, size=(30, 41)).astype("u1"))
    img16 = Image.fromarray(rng.integers(0, 4000, size=(19, 23)).astype("<u2"))
    for im in (img, img16):
        for comp in ["tiff_lzw", "packbits", "tiff_adobe_deflate", "jpeg"]:
            buf = io.BytesIO()
            try:
                im.save(buf, format="TIFF", compression=comp)
            except Exception as e:
                print("skip pillow tiff", im.mode, comp, type(e).__name__, e, file=sys.stderr)
                continue
            save(outdir, "tiff", buf.getvalue())


def voxel_corpus(outdir):
    rows = [[2000, 1800, 1800], [1000], [-5, 0, 7, 1000000], [250, 250]]
    for r in rows:
        s = io.StringIO()
        csv.writer(s).writerow(r)
        save(outdir, "voxel_size", s.getvalue().encode())
    save(outdir, "voxel_size", b" 2000 , 1800,1800 \n\n")
    save(outdir, "voxel_size", b"2000,1.8,1800\n")


def zarray_corpus(outdir):
    from numcodecs import Blosc, Zlib, GZip, BZ2, LZMA, Zstd, LZ4
    compressors = [None, Blosc(), Zlib(level=3), GZip(), BZ2(), LZMA(preset=1), Zstd(), LZ4()]
    dtypes = ["u1", "<u2", ">i4", "<f4", ">f8", "|b1", "<c16", "<i8", "<f2"]
    fills = {"u1": 3, "<u2": None, ">i4": -7, "<f4": float("nan"), ">f8": float("-inf"),
             "|b1": True, "<c16": 1 + 2j, "<i8": 0, "<f2": 0.5}
    with tempfile.TemporaryDirectory() as tmp:
        n = 0
        for i, dt in enumerate(dtypes):
            for j, comp in enumerate(compressors):
                if (i + j) % 2:
                    continue
                path = os.path.join(tmp, "a%d" % n)
                n += 1
                shape = [(10,), (7, 9), (3, 4, 5), (0, 5)][n % 4]
                chunks = tuple(max(1, s // 2) for s in shape)
                kw = {}
                if n % 3 == 0:
                    kw["dimension_separator"] = "/"
                z = zarr.open(path, mode="w", shape=shape, chunks=chunks, dtype=dt,
                              compressor=comp, fill_value=fills[dt],
                              order="F" if n % 5 == 0 else "C", **kw)
                z.attrs["voxel_size"] = [2.0, 1.8, 1.8]
                z.attrs["name"] = "seed %d" % n
                with open(os.path.join(path, ".zarray"), "rb") as f:
                    save(outdir, "zarray", f.read())
                if n < 3:
                    with open(os.path.join(path, ".zattrs"), "rb") as f:
                        save(outdir, "zarray", f.read())


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "corpus")
    codec_corpus(outdir)
    tiff_corpus(outdir)
    voxel_corpus(outdir)
    zarray_corpus(outdir)
    for t in sorted(os.listdir(outdir)):
        print("%s: %d files" % (t, len(os.listdir(os.path.join(outdir, t)))))


if __name__ == "__main__":
    main()
