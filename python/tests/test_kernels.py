"""libscout.stats / histogram / blur / peaks against numpy and scipy.ndimage."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import scipy.ndimage as ndi
import zarr

import libscout


@pytest.fixture
def vol(tmp_path, rng):
    x = rng.integers(0, 4000, (48, 40, 36)).astype(np.uint16)
    path = str(tmp_path / "v.zarr")
    z = zarr.open(path, mode="w", shape=x.shape, chunks=(16, 16, 16), dtype=x.dtype)
    z[:] = x
    return x, path


@pytest.mark.parametrize("dt", ["u1", "i2", "u2", "i4", "u8", "f2", "f4", "f8", "?"])
def test_stats_equal_numpy(rng, dt):
    x = (rng.standard_normal((30, 20, 7)) * 100).astype(dt) if dt[0] == "f" else \
        rng.integers(0, 2, (30, 20, 7)).astype(dt) if dt == "?" else \
        rng.integers(0, 120, (30, 20, 7)).astype(dt)
    if dt[0] == "f":
        x[3, 4, 5] = np.nan
    s = libscout.stats(x, nb_workers=2)
    v = x[~np.isnan(x)] if dt[0] == "f" else x
    assert s["count"] == v.size and s["nan_count"] == x.size - v.size
    assert s["min"] == v.min() and s["max"] == v.max()
    ref = v.astype(np.float64)
    assert s["mean"] == pytest.approx(ref.mean(), rel=1e-12)
    assert s["std"] == pytest.approx(ref.std(), rel=1e-12)
    if dt[0] != "f":
        assert s["sum"] == int(v.astype(np.int64).sum()) and isinstance(s["sum"], int)


def test_stats_histogram_on_zarr(vol):
    x, path = vol
    a = libscout.open(path)
    s = libscout.stats(a)
    assert (s["count"], s["sum"], s["min"], s["max"]) == (x.size, int(x.sum(dtype=np.int64)),
                                                          int(x.min()), int(x.max()))
    for bins, rng_ in [(10, None), (7, (100.0, 3000.0)), (1, None)]:
        h, e = libscout.histogram(a, bins, rng_)
        hh, ee = np.histogram(x, bins, rng_)
        assert np.array_equal(h, hh) and np.array_equal(e, ee)
    f = (x.astype(np.float32) / 7)
    h, e = libscout.histogram(f, 13, (10, 300))
    hh, ee = np.histogram(f, 13, (10, 300))
    assert np.array_equal(h, hh) and np.array_equal(e, ee)


@pytest.mark.parametrize("sigma", [1.0, (0.5, 2.0, 1.5)])
def test_blur_equals_scipy(tmp_path, vol, sigma):
    x, path = vol
    ref = ndi.gaussian_filter(x.astype(np.float32), sigma, mode="nearest", truncate=4.0)
    got = libscout.blur(libscout.open(path), None, sigma, nb_workers=2)
    assert got.dtype == np.float32 and np.allclose(got, ref, rtol=1e-6, atol=1e-3)
    out = libscout.create(str(tmp_path / "o.zarr"), x.shape, "f4", chunks=(16, 20, 36))
    assert libscout.blur(libscout.open(path), out, sigma) is out
    assert np.allclose(zarr.open(str(tmp_path / "o.zarr"))[:], ref, rtol=1e-6, atol=1e-3)
    shm = libscout.SharedMemory(x.shape, np.uint16)
    libscout.blur(x, shm, sigma)
    with shm.txn() as m:  # rounded to nearest, saturated
        assert np.array_equal(m, np.clip(np.floor(ref.astype(np.float64) + 0.5), 0, 65535))


def test_peaks_equal_scipy(vol):
    x, path = vol
    sigma, d, t = 2.0, 2, 2000.0
    b = ndi.gaussian_filter(x.astype(np.float32), sigma, mode="nearest", truncate=4.0)
    mx = ndi.maximum_filter(b, size=2 * d + 1, mode="nearest")
    want = np.argwhere((b == mx) & (b >= t))
    got = libscout.peaks(libscout.open(path), sigma, min_distance=d, threshold=t, nb_workers=2)
    assert got.dtype == np.int64 and got.shape[1] == 3
    assert np.array_equal(got, want)


def test_kernel_errors(vol):
    x, path = vol
    with pytest.raises(ValueError):
        libscout.blur(x, np.empty((2, 2), np.float32), 1.0)
    with pytest.raises(ValueError):
        libscout.blur(x, None, -1.0)
    with pytest.raises(ValueError):
        libscout.peaks(x, 1.0, min_distance=-1)
    with pytest.raises(libscout.UnsupportedError):
        libscout.stats(np.zeros(4, np.complex64))
    with pytest.raises(ValueError):
        libscout.stats(x, nb_workers=0)


def test_ctrl_c_stops_a_kernel(tmp_path):
    """SIGINT while blur runs on the C thread pool: KeyboardInterrupt, promptly."""
    script = tmp_path / "k.py"
    script.write_text(textwrap.dedent("""
        import sys, numpy as np, libscout
        x = np.random.default_rng(0).random((256, 256, 256), dtype=np.float32)
        print("go", flush=True)
        try:
            for _ in range(100):
                libscout.blur(x, None, 6.0, nb_workers=2)
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            sys.exit(3)
    """))
    p = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "go"
    time.sleep(1.0)
    t0 = time.time()
    p.send_signal(signal.SIGINT)
    out, _ = p.communicate(timeout=60)
    assert p.returncode == 3 and "interrupted" in out
    assert time.time() - t0 < 20
