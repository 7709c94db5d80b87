"""libscout.utils against SCOUT's documented behaviour (scout-utils-api), on
numpy, zarr-python and libscout arrays. Expected values are computed here
with numpy / itertools / plain Python, never by libscout."""
import functools
import inspect
import itertools
import multiprocessing
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import zarr

import libscout
from libscout import utils


# --- geometry -------------------------------------------------------------

@pytest.mark.parametrize("shape,chunks", [((100, 70, 50), (32, 32, 32)), ((64, 64), (64, 64)),
                                          ((5,), (2,)), ((10, 1, 7), (3, 1, 8))])
def test_chunk_dims_and_coordinates(shape, chunks):
    dims = utils.chunk_dims(shape, chunks)
    assert isinstance(dims, tuple)
    assert dims == tuple(int(np.ceil(s / c)) for s, c in zip(shape, chunks))
    coords = utils.chunk_coordinates(shape, chunks)
    assert isinstance(coords, np.ndarray)
    expected = [tuple(i * c for i, c in zip(idx, chunks))
                for idx in itertools.product(*(range(n) for n in dims))]
    assert [tuple(r) for r in coords] == expected


def test_box_slice_idx():
    idx = utils.box_slice_idx((1, 2, 3), (4, 5, 6))
    assert idx == (slice(1, 4), slice(2, 5), slice(3, 6))
    assert isinstance(idx, tuple)


def test_signatures_match_scout():
    sig = inspect.signature(utils.pmap_chunks)
    assert [(p.name, p.default) for p in sig.parameters.values()] == [
        ("f", inspect.Parameter.empty), ("arr", inspect.Parameter.empty), ("chunks", None),
        ("nb_workers", None), ("use_imap", False), ("unordered", False), ("chunksize", None)]
    assert list(inspect.signature(utils.extract_box).parameters) == ["arr", "start", "stop"]
    assert list(inspect.signature(utils.insert_box).parameters) == ["arr", "start", "stop",
                                                                    "data"]
    assert list(inspect.signature(utils.SharedMemory).parameters) == ["shape", "dtype"]
    doc = utils.pmap_chunks.__doc__
    assert doc.startswith("Maps a function over an array in parallel using chunks")
    for p in ("f : callable", "chunks : tuple, optional", "nb_workers : int, optional",
              "use_imap : bool, optional", "result : list"):
        assert p in doc


# --- boxes on numpy, zarr-python, libscout, SharedMemory -------------------

def _arrays(tmp_path, x):
    z = zarr.open(str(tmp_path / "z.zarr"), mode="w", shape=x.shape, chunks=(16, 16, 16),
                  dtype=x.dtype)
    z[:] = x
    shm = utils.SharedMemory(x.shape, x.dtype)
    with shm.txn() as m:
        m[...] = x
    return {"numpy": x.copy(), "zarr": z, "libscout": libscout.open(str(tmp_path / "z.zarr"),
                                                                      "r+"), "shm": shm}


@pytest.mark.parametrize("kind", ["numpy", "zarr", "libscout", "shm"])
def test_extract_insert_box(tmp_path, rng, kind):
    x = rng.integers(0, 60000, (40, 33, 20)).astype(np.uint16)
    arr = _arrays(tmp_path, x)[kind]
    box = utils.extract_box(arr, (3, 5, 0), (20, 33, 7))
    assert isinstance(box, np.ndarray)
    assert np.array_equal(box, x[3:20, 5:33, 0:7])
    data = rng.integers(0, 60000, (5, 6, 7)).astype(np.uint16)
    ret = utils.insert_box(arr, np.array([10, 20, 13]), np.array([15, 26, 20]), data)
    assert ret is arr
    x[10:15, 20:26, 13:20] = data
    assert np.array_equal(utils.extract_box(arr, (0, 0, 0), x.shape), x)
    if kind == "libscout":  # the write is on disk, as zarr-python sees it
        assert np.array_equal(zarr.open(str(tmp_path / "z.zarr"), "r")[:], x)


@pytest.mark.parametrize("kind", ["numpy", "zarr", "libscout", "shm"])
def test_extract_ghosted_chunk(tmp_path, rng, kind):
    x = rng.integers(0, 100, (40, 33, 20)).astype(np.uint16)
    arr = _arrays(tmp_path, x)[kind]
    for start in utils.chunk_coordinates(x.shape, (16, 16, 16)):
        g, s, e = utils.extract_ghosted_chunk(arr, start, (16, 16, 16), 3)
        es = [max(0, a - 3) for a in start]
        ee = [min(n, a + 16 + 3) for a, n in zip(start, x.shape)]
        assert list(s) == es and list(e) == ee
        assert np.array_equal(g, x[es[0]:ee[0], es[1]:ee[1], es[2]:ee[2]])


def test_filter_points(rng):
    pts = rng.integers(-5, 30, (200, 3))
    start, stop = (2, 3, 4), (20, 25, 10)
    keep = [i for i, p in enumerate(pts) if all(a <= v < b for v, a, b in zip(p, start, stop))]
    got, idx = utils.filter_points_in_box(pts, start, stop, return_idx=True)
    assert list(idx) == keep and np.array_equal(got, pts[keep])
    assert np.array_equal(utils.filter_points_in_box(pts, start, stop), pts[keep])
    # ghosted: a chunk at (16, 0, 16) of 16^3 with overlap 3; start_ghosted (13, 0, 13)
    local = rng.integers(0, 22, (300, 3))
    got = utils.filter_ghosted_points((13, 0, 13), (16, 0, 16), local, (16, 16, 16), 3)
    want = [p for p in local if 3 <= p[0] < 19 and p[1] < 16 and 3 <= p[2] < 19]
    assert np.array_equal(got, np.array(want).reshape(-1, 3))


# --- pmap_chunks -----------------------------------------------------------

def _chunk_sum(arr, start_coord, chunks):
    stop = np.minimum(arr.shape, np.asarray(start_coord) + chunks)
    return int(utils.extract_box(arr, start_coord, stop).astype(np.int64).sum())


def _ghost_max(arr, start_coord, chunks, overlap=4):
    g, _, _ = utils.extract_ghosted_chunk(arr, start_coord, chunks, overlap)
    return int(g.max()), os.getpid()


def _tuple_f(args):
    arr, start_coord, chunks = args
    return tuple(int(v) for v in start_coord)


@pytest.mark.parametrize("kind", ["numpy", "zarr", "libscout", "shm"])
@pytest.mark.parametrize("nb_workers", [1, 2])
def test_pmap_chunks_results_in_chunk_order(tmp_path, rng, kind, nb_workers):
    x = rng.integers(0, 1000, (40, 33, 20)).astype(np.uint16)
    arr = _arrays(tmp_path, x)[kind]
    chunks = (16, 16, 16)
    res = utils.pmap_chunks(_chunk_sum, arr, chunks, nb_workers=nb_workers)
    want = [int(x[s[0]:s[0] + 16, s[1]:s[1] + 16, s[2]:s[2] + 16].astype(np.int64).sum())
            for s in utils.chunk_coordinates(x.shape, chunks)]
    assert isinstance(res, list) and res == want


def test_pmap_chunks_default_chunks_and_options(tmp_path, rng, capfd):
    x = rng.integers(0, 1000, (40, 33, 20)).astype(np.uint16)
    a = _arrays(tmp_path, x)["libscout"]
    starts = [tuple(int(v) for v in s) for s in utils.chunk_coordinates(x.shape, (16, 16, 16))]
    # chunks default to arr.chunks; use_imap passes the tuple and draws a bar
    assert utils.pmap_chunks(_tuple_f, a, nb_workers=2, use_imap=True) == starts
    err = capfd.readouterr().err
    assert "100%" in err and "%d/%d" % (len(starts), len(starts)) in err
    # numpy has no .chunks: the whole shape is one chunk
    assert utils.pmap_chunks(_tuple_f, x, nb_workers=2, use_imap=True) == [(0, 0, 0)]
    capfd.readouterr()
    got = utils.pmap_chunks(_chunk_sum, a, nb_workers=2, unordered=True, chunksize=2)
    want = utils.pmap_chunks(_chunk_sum, a, nb_workers=1)
    assert sorted(got) == sorted(want)
    ghost = utils.pmap_chunks(functools.partial(_ghost_max, overlap=4), a, nb_workers=2,
                              chunksize=4)
    assert [g for g, _ in ghost] == [int(utils.extract_ghosted_chunk(x, s, (16, 16, 16), 4)[0]
                                         .max()) for s in utils.chunk_coordinates(x.shape,
                                                                                  (16, 16, 16))]
    assert all(pid != os.getpid() for _, pid in ghost)


def _fail_on_chunk(arr, start_coord, chunks):
    if tuple(start_coord) == (16, 16, 0):
        raise ZeroDivisionError("boom in f")
    return 0


@pytest.mark.parametrize("nb_workers", [1, 2])
def test_pmap_chunks_reraises_naming_the_chunk(tmp_path, rng, nb_workers):
    x = rng.integers(0, 10, (40, 33, 20)).astype(np.uint16)
    a = _arrays(tmp_path, x)["libscout"]
    with pytest.raises(ZeroDivisionError, match="boom in f") as ei:
        utils.pmap_chunks(_fail_on_chunk, a, (16, 16, 16), nb_workers=nb_workers)
    notes = getattr(ei.value, "__notes__", [])
    assert any("(16, 16, 0)" in n for n in notes), notes


def _kill_self_on_chunk(arr, start_coord, chunks):
    if tuple(start_coord) == (16, 0, 0):
        os.kill(os.getpid(), signal.SIGKILL)
    return 0


@pytest.mark.parametrize("use_imap", [False, True])
def test_pmap_chunks_worker_killed_raises(rng, use_imap, capfd):
    x = rng.integers(0, 10, (40, 33, 20)).astype(np.uint16)
    f = _unpack_kill if use_imap else _kill_self_on_chunk
    t0 = time.time()
    with pytest.raises(libscout.WorkerError, match="signal 9"):
        utils.pmap_chunks(f, x, (16, 16, 16), nb_workers=2, use_imap=use_imap)
    assert time.time() - t0 < 30


def _unpack_kill(args):
    return _kill_self_on_chunk(*args)


def _write_shm(shm, start_coord, chunks):
    stop = np.minimum(shm.shape, np.asarray(start_coord) + chunks)
    with shm.txn() as m:
        box = utils.box_slice_idx(start_coord, stop)
        m[box] = (np.indices(m[box].shape).sum(axis=0) + start_coord.sum()) % 251
    return os.getpid()


def test_shared_memory_written_by_pmap_workers(rng):
    shm = utils.SharedMemory((37, 20, 11), np.uint8)
    pids = utils.pmap_chunks(_write_shm, shm, (8, 8, 8), nb_workers=2)
    assert os.getpid() not in pids
    with shm.txn() as m:
        got = m.copy()
    want = np.indices(shm.shape).sum(axis=0) % 251
    assert np.array_equal(got, want)


def _pool_fill(shm, value, i):
    with shm.txn() as m:
        m[i] = value
    return i


def test_shared_memory_pickled_into_pool():
    shm = utils.SharedMemory((6, 4), "float32")
    state = pickle.dumps(shm)
    assert len(state) < 300  # the name, not the data
    with multiprocessing.Pool(2) as pool:  # arguments travel pickled: workers attach by name
        done = pool.starmap(_pool_fill, [(shm, 1.5 * i, i) for i in range(6)])
    assert done == list(range(6))
    with shm.txn() as m:
        assert np.array_equal(m, np.repeat((1.5 * np.arange(6, dtype=np.float32))[:, None], 4, 1))


def test_shared_memory_is_unlinked():
    shm = utils.SharedMemory((10,), np.int32)
    path = "/dev/shm/" + shm.name.lstrip("/")
    assert os.path.exists(path)
    del shm
    assert not os.path.exists(path)


def test_keyboard_interrupt_stops_workers(tmp_path):
    """Ctrl-C (SIGINT to the caller) during pmap_chunks: KeyboardInterrupt in the
    caller, every worker gone at once."""
    script = tmp_path / "run.py"
    pidfile = tmp_path / "pids"
    script.write_text(textwrap.dedent("""
        import os, sys, time
        import numpy as np
        from libscout import utils
        def f(arr, start, chunks):
            with open(%r, "a") as fh:
                fh.write("%%d\\n" %% os.getpid())
            time.sleep(60)
        if __name__ == "__main__":
            try:
                utils.pmap_chunks(f, np.zeros((8, 8)), (2, 8), nb_workers=2, chunksize=1)
            except KeyboardInterrupt:
                print("interrupted", flush=True)
                sys.exit(3)
    """ % str(pidfile)))
    p = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    deadline = time.time() + 30
    while time.time() < deadline:
        if pidfile.exists() and len(pidfile.read_text().split()) >= 2:
            break
        time.sleep(0.05)
    workers = [int(w) for w in pidfile.read_text().split()]
    assert len(workers) >= 2
    t0 = time.time()
    p.send_signal(signal.SIGINT)
    out, _ = p.communicate(timeout=30)
    assert p.returncode == 3 and "interrupted" in out
    assert time.time() - t0 < 5
    for w in workers:
        assert not os.path.exists("/proc/%d" % w) or \
            open("/proc/%d/stat" % w).read().split(") ")[1][0] == "Z", "worker %d alive" % w


# --- files -----------------------------------------------------------------

def test_files_in_dir_tifs_in_dir_read_voxel_size(tmp_path):
    for n in ["b.tif", "a.TIFF", "c.txt", ".h.tif", "10.tif", "2.tif"]:
        (tmp_path / n).write_text("")
    (tmp_path / "d.tif").mkdir()
    got = utils.files_in_dir(str(tmp_path))
    assert got == sorted(os.path.join(str(tmp_path), n) for n in os.listdir(tmp_path))
    paths, names = utils.tifs_in_dir(str(tmp_path))
    assert names == [".h.tif", "10.tif", "2.tif", "a.TIFF", "b.tif"]
    assert paths == [os.path.join(str(tmp_path), n) for n in names]
    (tmp_path / "voxel_size.csv").write_text("2000,1800,1800\n")
    assert utils.read_voxel_size(str(tmp_path / "voxel_size.csv")) == (2.0, 1.8, 1.8)
