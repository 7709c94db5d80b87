"""libscout.open / libscout.create against zarr-python and tifffile: a sample
of the v2 interop matrix (every dtype, both byte orders, several codecs, C/F
order, both separators, fill values), writes read back by zarr-python,
concurrent writers (threads and processes), corrupt chunks, errors."""
import concurrent.futures
import json
import multiprocessing
import os
import pickle
import threading

import numcodecs
import numpy as np
import pytest
import tifffile
import zarr

import libscout

TYPESTRS = ["|b1", "|i1", "|u1"] + [o + t for t in ["i2", "i4", "i8", "u2", "u4", "u8", "f2",
                                                     "f4", "f8", "c8", "c16"] for o in "<>"]
CODECS = [numcodecs.Blosc("zstd", 1, numcodecs.Blosc.BITSHUFFLE),
          numcodecs.Blosc("lz4", 5, numcodecs.Blosc.SHUFFLE), numcodecs.Zlib(3),
          numcodecs.GZip(5), numcodecs.BZ2(2), numcodecs.LZMA(), numcodecs.Zstd(3),
          numcodecs.LZ4(1), None]


def data_of(rng, dt, shape):
    dt = np.dtype(dt)
    if dt.kind == "b":
        return rng.integers(0, 2, shape).astype(dt)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        return rng.integers(info.min, info.max, shape, endpoint=True, dtype=dt.newbyteorder("="))\
            .astype(dt)
    if dt.kind == "c":
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dt)
    return (rng.standard_normal(shape) * 1000).astype(dt)


CASES = [(ts, CODECS[i % len(CODECS)], "CF"[i % 2], "/."[(i // 2) % 2])
         for i, ts in enumerate(TYPESTRS)]


@pytest.mark.parametrize("ts,codec,order,sep", CASES,
                         ids=["%s-%s-%s" % (c[0], c[1].codec_id if c[1] else "none", c[2])
                              for c in CASES])
def test_reads_equal_zarr_python(tmp_path, rng, ts, codec, order, sep):
    shape, chunks = (23, 17, 9), (8, 5, 4)
    x = data_of(rng, ts, shape)
    path = str(tmp_path / "a.zarr")
    z = zarr.open(path, mode="w", shape=shape, chunks=chunks, dtype=ts, compressor=codec,
                  order=order, dimension_separator=sep, fill_value=0)
    z[2:, :, 1:] = x[2:, :, 1:]  # some chunks absent: fill value
    want = z[:]
    a = libscout.open(path)
    assert a.shape == shape and a.chunks == chunks and a.ndim == 3
    assert a.dtype == np.dtype(ts).newbyteorder("=")
    got = a[:]
    assert got.dtype.isnative and np.array_equal(got, want.astype(got.dtype))
    assert np.array_equal(a[5:19, 3, 2:], want[5:19, 3, 2:])
    assert np.array_equal(a[-3:, -5:-1, ...], want[-3:, -5:-1, ...])
    assert a[4, 7, 3] == want[4, 7, 3]


@pytest.mark.parametrize("ts,codec,order,sep", CASES[::2],
                         ids=["%s-%s" % (c[0], c[1].codec_id if c[1] else "none")
                              for c in CASES[::2]])
def test_writes_read_back_by_zarr_python(tmp_path, rng, ts, codec, order, sep):
    shape, chunks = (21, 30), (8, 7)
    x = data_of(rng, ts, shape)
    path = str(tmp_path / "w.zarr")
    a = libscout.create(path, shape, ts, chunks=chunks, codec=codec or "none", order=order,
                        dimension_separator=sep, attrs={"voxel": [2, 1.8]})
    a[3:, :25] = x[3:, :25]
    a[0, 0] = x[0, 0]
    z = zarr.open(path, mode="r")
    assert z.dtype == np.dtype(ts) and z.chunks == chunks and z.order == order
    assert (z.compressor.get_config() if z.compressor else None) == \
        (codec.get_config() if codec else None)
    want = np.zeros(shape, x.dtype)
    want[3:, :25] = x[3:, :25]
    want[0, 0] = x[0, 0]
    assert np.array_equal(z[:], want)
    assert z.attrs.asdict() == {"voxel": [2, 1.8]} == dict(a.attrs)


def test_defaults_are_scouts(tmp_path):
    a = libscout.create(str(tmp_path / "d.zarr"), (100, 70, 3), np.uint16)
    meta = json.load(open(tmp_path / "d.zarr" / ".zarray"))
    assert meta["chunks"] == [64, 64, 64] and meta["dimension_separator"] == "/"  # not clipped
    assert meta["compressor"] == {"id": "blosc", "cname": "zstd", "clevel": 1, "shuffle": 2,
                                  "blocksize": 0}
    a[:] = 7
    assert zarr.open(str(tmp_path / "d.zarr"))[:].sum() == 7 * 100 * 70 * 3
    b = libscout.create(str(tmp_path / "n.zarr"), (5,), "f4", fill_value=float("nan"))
    assert np.isnan(zarr.open(str(tmp_path / "n.zarr"))[:]).all() and np.isnan(b[:]).all()


def test_tiff_reads_equal_tifffile(tmp_path, rng):
    x = rng.integers(0, 65535, (6, 40, 33), dtype=np.uint16)
    tifffile.imwrite(str(tmp_path / "stack.tif"), x)
    (tmp_path / "slices").mkdir()
    for i in range(6):
        tifffile.imwrite(str(tmp_path / "slices" / ("z%03d.tif" % i)), x[i])
    for p in ("stack.tif", "slices"):
        a = libscout.open(str(tmp_path / p))
        assert a.kind in ("tiff", "tiff-stack") and a.shape == x.shape
        assert np.array_equal(a[:], tifffile.imread(str(tmp_path / "stack.tif")))
        assert np.array_equal(a[2:5, 10:, 3], x[2:5, 10:, 3])
        with pytest.raises(libscout.ReadOnlyError):
            a[0, 0, 0] = 1


def test_indexing_errors(tmp_path):
    a = libscout.create(str(tmp_path / "e.zarr"), (10, 10), "i4")
    with pytest.raises(IndexError, match="step 1"):
        a[::2]
    with pytest.raises(IndexError):
        a[10, 0]
    with pytest.raises(IndexError):
        a[[1, 2]]
    with pytest.raises(IndexError):
        a[1, 2, 3]
    with pytest.raises(ValueError):
        a[0:2, 0:2] = np.ones((3, 3))
    assert a[-1, -1] == 0 and a[3:3].shape == (0, 10)


def test_errors_carry_the_c_message(tmp_path):
    with pytest.raises(FileNotFoundError) as ei:
        libscout.open(str(tmp_path / "missing.zarr"))
    assert isinstance(ei.value, libscout.NotFoundError) and "missing.zarr" in str(ei.value)
    assert ei.value.code == -4
    with pytest.raises(FileNotFoundError, match=r"no\\xffsuch"):  # a non-UTF-8 name
        libscout.open(os.fsdecode(bytes(tmp_path) + b"/no\xffsuch"))
    (tmp_path / "bad.zarr").mkdir()
    (tmp_path / "bad.zarr" / ".zarray").write_text('{"zarr_format": 2, "shape": [4]}')
    with pytest.raises(libscout.FormatError) as ei:
        libscout.open(str(tmp_path / "bad.zarr"))
    assert isinstance(ei.value, ValueError) and ".zarray" in str(ei.value)
    with pytest.raises(ValueError):
        libscout.create(str(tmp_path / "x.zarr"), (4, 0, -1), "u1")
    with pytest.raises(libscout.Error):
        libscout.create(str(tmp_path / "y.zarr"), (4,), "u1", codec={"id": "nonesuch"})
    libscout.create(str(tmp_path / "z.zarr"), (4,), "u1")
    with pytest.raises(libscout.Error):  # exists, no overwrite
        libscout.create(str(tmp_path / "z.zarr"), (4,), "u1")
    libscout.create(str(tmp_path / "z.zarr"), (4,), "u1", overwrite=True)


def test_corrupt_chunk_names_the_key(tmp_path, rng):
    path = str(tmp_path / "c.zarr")
    z = zarr.open(path, mode="w", shape=(16, 16), chunks=(8, 8), dtype="u2",
                  compressor=numcodecs.Zstd(3))
    z[:] = rng.integers(0, 100, (16, 16))
    z2 = zarr.open(path, mode="r")
    key = os.path.join(path, "1.0")
    with open(key, "r+b") as fh:
        fh.seek(4)
        fh.write(b"\xff\xff\xff\xff\xff\xff")
    a = libscout.open(path)
    assert np.array_equal(a[:8], z2[:8])  # other chunks still read
    with pytest.raises(libscout.Error) as ei:
        a[8:, :]
    assert "1.0" in str(ei.value), str(ei.value)
    assert isinstance(ei.value, (libscout.CodecError, libscout.FormatError))


def _process_writer(path, k):
    a = libscout.open(path, "r+")
    for j in range(8):  # 1-voxel-wide columns: every chunk shared by every writer
        a[:, 4 * j + k] = 100 * k + j
    return k


def test_concurrent_writes_threads_and_processes(tmp_path):
    path = str(tmp_path / "cw.zarr")
    a = libscout.create(path, (20, 32), "u2", chunks=(16, 16))

    def thread_writer(k):
        for j in range(8):
            a[:, 4 * j + k] = 100 * k + j

    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        list(ex.map(thread_writer, [0, 1]))
    with multiprocessing.Pool(2) as pool:
        assert pool.starmap(_process_writer, [(path, 2), (path, 3)]) == [2, 3]
    want = np.zeros((20, 32), np.uint16)
    for k in range(4):
        for j in range(8):
            want[:, 4 * j + k] = 100 * k + j
    assert np.array_equal(zarr.open(path, "r")[:], want)
    assert np.array_equal(a[:], want)


def test_pickle_and_threads_release_the_gil(tmp_path, rng):
    x = rng.integers(0, 1000, (64, 64, 64)).astype(np.uint16)
    path = str(tmp_path / "p.zarr")
    libscout.create(path, x.shape, x.dtype, chunks=(16, 16, 16))[...] = x
    a = libscout.open(path)
    b = pickle.loads(pickle.dumps(a))
    assert b.path == path and b.mode == "r" and np.array_equal(b[:], x)
    with pytest.raises(TypeError):
        pickle.dumps(libscout.SharedMemory((2,), "u1").as_array())
    results = [None] * 4

    def reader(i):
        results[i] = a[16 * i:16 * i + 16].sum()
    ts = [threading.Thread(target=reader, args=(i,)) for i in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert results == [x[16 * i:16 * i + 16].sum() for i in range(4)]
    a.close()
    with pytest.raises(ValueError, match="closed"):
        a[0]
