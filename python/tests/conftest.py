"""Shared fixtures of the libscout tests, and the suite-wide leak check: after
the whole session no scout shared-memory segment, file descriptor or child
process may be left that was not there before."""
import os
import time

import pytest


def _shm_segments():
    try:
        return {n for n in os.listdir("/dev/shm") if n.startswith("scout-%d-" % os.getpid())}
    except FileNotFoundError:
        return set()


def _fds():
    return set(os.listdir("/proc/self/fd"))


def _children():
    kids = set()
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as fh:
                s = fh.read()
        except OSError:
            continue
        fields = s[s.rindex(")") + 2:].split()
        if int(fields[1]) != os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as fh:
                if b"resource_tracker" in fh.read():
                    continue  # multiprocessing's own helper, alive until we exit
        except OSError:
            pass
        kids.add(int(d))  # zombies count: a child not reaped is a leak too
    return kids


@pytest.fixture(scope="session", autouse=True)
def no_leaks():
    import libscout  # noqa: F401  (import first: its own descriptors are not leaks)
    import numpy  # noqa: F401
    import zarr  # noqa: F401
    shm0, fds0, kids0 = _shm_segments(), _fds(), _children()
    yield
    import gc
    for _ in range(50):  # multiprocessing reaps its pools' processes asynchronously
        gc.collect()
        if not (_children() - kids0) and not (_shm_segments() - shm0):
            break
        time.sleep(0.1)
    assert not (_shm_segments() - shm0), "leaked /dev/shm segments: %s" % (
        _shm_segments() - shm0)
    assert not (_children() - kids0), "leaked child processes: %s" % (_children() - kids0)
    leaked = []
    for fd in _fds() - fds0:
        try:
            leaked.append((fd, os.readlink("/proc/self/fd/" + fd)))
        except OSError:
            pass  # the listing's own descriptor
    assert not leaked, "leaked file descriptors: %s" % leaked


@pytest.fixture
def rng():
    import numpy as np
    return np.random.default_rng(1234)
