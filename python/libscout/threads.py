"""pmap_threads: SCOUT's pmap_chunks on the C library's thread pool.

The same map as :func:`libscout.utils.pmap_chunks` -- ``f(arr, start_coord,
chunks)`` for every chunk, results in chunk order -- run by threads of the
calling process instead of worker processes. Nothing is pickled or forked,
and a libscout array is one handle whose decoded-chunk cache all threads share
(each chunk of a ghosted map is decoded once). The threads run ``f`` in turn
under the GIL, except while ``f`` is inside calls that release it: libscout
reads and writes and kernels, most numpy operations on large arrays, scipy's
filters. Use it when ``f`` spends its time there; use ``pmap_chunks`` (processes)
for pure-Python ``f`` or ``f`` that is not thread-safe.
"""
from __future__ import annotations

from typing import Any, Callable, List, Optional, Sequence

import numpy as np

from . import _core
from .shm import SharedMemory

__all__ = ["pmap_threads"]


def pmap_threads(f: Callable, arr: Any, chunks: Optional[Sequence[int]] = None,
                 nb_workers: Optional[int] = None) -> List[Any]:
    """Maps a function over an array in parallel threads using chunks

    Parameters
    ----------
    f : callable
        function with signature f(arr, start_coord, chunks); start_coord is an
        int64 ndarray. It runs in several threads at once.
    arr : libscout Array, SharedMemory or numpy array
        an N-dimensional input array (passed to f as it is)
    chunks : tuple, optional
        the shape of chunks to use. Default tries to access arr.chunks and falls
        back to arr.shape
    nb_workers : int, optional
        number of threads. Default, the number of online CPUs

    Returns
    -------
    result : list
        list of results for each chunk, in chunk order

    Raises
    ------
    Exception
        the first exception `f` raised, with a note naming the chunk; no chunk is
        started after it
    KeyboardInterrupt
        Ctrl-C stops the map (running chunks finish first)
    """
    if isinstance(arr, _core.Array):
        handle = arr
    elif isinstance(arr, SharedMemory):
        handle = arr.as_array()
    elif isinstance(arr, np.ndarray):
        handle = _core.wrap(np.ascontiguousarray(arr) if arr.dtype.isnative else
                            np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("=")))
    else:
        raise TypeError("pmap_threads takes libscout arrays, SharedMemory and numpy arrays; "
                        "use libscout.utils.pmap_chunks for %s" % type(arr).__name__)
    if chunks is None:
        chunks = getattr(arr, "chunks", None) or arr.shape
    chunks = tuple(int(c) for c in chunks)
    if nb_workers is not None and nb_workers < 1:
        raise ValueError("nb_workers must be >= 1, not %r" % (nb_workers,))

    def call(a: Any, start_coord: np.ndarray, ch: tuple) -> Any:
        try:
            return f(a, start_coord, ch)
        except Exception as e:
            e.add_note("in pmap_threads: chunk starting at %s (chunks %s)"
                       % (tuple(int(x) for x in start_coord), ch))
            raise

    return _core._pmap_native(call, arr, handle, chunks, int(nb_workers or 0), 0)
