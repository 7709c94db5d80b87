"""SCOUT's SharedMemory over the C library's POSIX shared-memory segments."""
from __future__ import annotations

import contextlib
from typing import Any, Iterator, Sequence

import numpy as np

from . import _core
from . import errors  # noqa: F401

__all__ = ["SharedMemory"]


class SharedMemory:
    """A class to share memory between processes

    Instantiate this class in the parent process and use in all processes.

    The memory is a POSIX shared-memory segment (``/dev/shm`` on Linux) made by
    the C library (``scout_shm_create``), with no file backing it. The object
    pickles as the segment's name, so ``multiprocessing`` workers attach to the
    same memory; forked workers inherit it. The creating object unlinks the
    segment when it is garbage collected or :meth:`close` d (and the C
    library unlinks forgotten segments when the process exits).

    Typical use::

        shm = SharedMemory((100, 100, 100), np.float32)

        def do_something():
            with shm.txn() as a:
                a[...] = ...

        with multiprocessing.Pool() as pool:
            pool.apply_async(do_something, args)

    Parameters
    ----------
    shape : tuple
        The shape of the array
    dtype : str or numpy.dtype
        The data type of the array
    """

    def __init__(self, shape: Sequence[int], dtype: Any) -> None:
        self.shape = tuple(int(s) for s in shape)
        self.dtype = np.dtype(dtype)
        self._shm = _core.shm_create(self.shape, self.dtype.newbyteorder("=").str)

    @property
    def name(self) -> str:
        """The segment's name (``/dev/shm/<name without the leading '/'>``)."""
        return self._shm.name

    @contextlib.contextmanager
    def txn(self) -> Iterator[np.ndarray]:
        """A contextual wrapper of the shared memory

        Returns
        -------
        memory : array
            A view of the shared memory which has the shape and dtype given at
            construction
        """
        memory = np.frombuffer(self._shm, dtype=self.dtype.newbyteorder("=")).reshape(self.shape)
        try:
            yield memory
        finally:
            del memory

    def as_array(self) -> _core.Array:
        """A libscout array handle over the memory (kind ``"shm"``), for the kernels."""
        return self._shm._array()

    def close(self) -> None:
        """Drop this process's mapping; the creator also unlinks the segment.
        Views from :meth:`txn` keep the mapping until they are gone."""
        self._shm = None

    def __getstate__(self) -> tuple:
        return self._shm.name, self.shape, self.dtype.str

    def __setstate__(self, state: tuple) -> None:
        name, shape, dtype = state
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self._shm = _core.shm_attach(name)

    def __repr__(self) -> str:
        return "SharedMemory(shape=%r, dtype=%s, name=%r)" % (self.shape, self.dtype,
                                                              self._shm.name if self._shm
                                                              else None)
