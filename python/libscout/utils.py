"""Utils Module

This module contains utility functions that are commonly used throughout SCOUT.

In particular, this module contains map-reduce style utility functions for
processing large chunk-compressed arrays in parallel.

It is SCOUT's ``scout.utils`` with the same names, arguments, defaults and
return types, so porting is changing one import (``from libscout import
utils``). The functions also accept libscout arrays (:func:`libscout.open`),
whose boxes are read and written by the C library (GIL released, decoded-chunk
cache, atomic and lock-safe chunk writes).
"""
from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
from itertools import product, starmap
from typing import Any, Callable, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from ._progress import progress
from .array import Array
from .errors import WorkerError
from .shm import SharedMemory

__all__ = ["chunk_dims", "chunk_coordinates", "box_slice_idx", "extract_box", "insert_box",
           "extract_ghosted_chunk", "filter_points_in_box", "filter_ghosted_points",
           "pmap_chunks", "SharedMemory", "files_in_dir", "tifs_in_dir", "read_voxel_size"]


def chunk_dims(img_shape: Sequence[int], chunk_shape: Sequence[int]) -> Tuple[int, ...]:
    """Calculate the number of chunks needed for a given image shape

    Parameters
    ----------
    img_shape : tuple
        whole image shape
    chunk_shape : tuple
        individual chunk shape

    Returns
    -------
    nb_chunks : tuple
        a tuple containing the number of chunks in each dimension
    """
    return tuple(-(-int(i) // int(c)) for i, c in zip(img_shape, chunk_shape))


def chunk_coordinates(shape: Sequence[int], chunks: Sequence[int]) -> np.ndarray:
    """Calculate the global coordaintes for each chunk's starting position

    Parameters
    ----------
    shape : tuple
        shape of the image to chunk
    chunks : tuple
        shape of each chunk

    Returns
    -------
    start_coords : ndarray
        the starting indices of each chunk (one row per chunk, in
        ``itertools.product`` order: last axis fastest)
    """
    nb_chunks = chunk_dims(shape, chunks)
    start = [tuple(i * int(c) for i, c in zip(idx, chunks))
             for idx in product(*(range(n) for n in nb_chunks))]
    return np.asarray(start)


def box_slice_idx(start: Sequence[int], stop: Sequence[int]) -> Tuple[slice, ...]:
    """Creates an index tuple for a bounding box from `start` to `stop` using slices

    Parameters
    ----------
    start : array-like
        index of box start
    stop : array-like
        index of box stop (index not included in result)

    Returns
    -------
    idx : tuple
        index tuple for bounding box
    """
    return tuple(np.s_[a:b] for a, b in zip(start, stop))


def extract_box(arr: Any, start: Sequence[int], stop: Sequence[int]) -> np.ndarray:
    """Indexes `arr` from `start` to `stop`

    Parameters
    ----------
    arr : array-like or SharedMemory
        input array to index (numpy, zarr-python, libscout arrays)
    start : array-like
        starting index of the slice
    stop : array-like
        ending index of the slice. The element at this index is not included.

    Returns
    -------
    box : ndarray
        resulting box from `arr`
    """
    idx = box_slice_idx(start, stop)
    if isinstance(arr, SharedMemory):
        with arr.txn() as a:
            box = a[idx]
    else:
        box = arr[idx]
    return box


def insert_box(arr: Any, start: Sequence[int], stop: Sequence[int], data: Any) -> Any:
    """Indexes `arr` from `start` to `stop` and inserts `data`

    Parameters
    ----------
    arr : array-like
        input array to index (numpy, zarr-python, libscout arrays, SharedMemory)
    start : array-like
        starting index of the slice
    stop : array-like
        ending index of the slice. The element at this index is not included.
    data : array-like
        sub-array to insert into `arr`

    Returns
    -------
    box : ndarray
        resulting box from `arr` (`arr` itself, as SCOUT returns it)
    """
    idx = box_slice_idx(start, stop)
    if isinstance(arr, SharedMemory):
        with arr.txn() as a:
            a[idx] = data
    else:
        arr[idx] = data
    return arr


def extract_ghosted_chunk(arr: Any, start_coord: Sequence[int], chunks: Sequence[int],
                          overlap: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Extracts a chunk with `overlap` voxels of its neighbours on every side,
    clipped to the array

    Parameters
    ----------
    arr : array-like or SharedMemory
        input array
    start_coord : array-like
        the chunk's starting index
    chunks : array-like
        the chunk shape
    overlap : int
        width of the ghost shell

    Returns
    -------
    ghosted_chunk : ndarray
        the box from max(0, start - overlap) to min(shape, end + overlap)
    start_coord_ghosted : ndarray
        where the ghosted box starts
    stop_coord_ghosted : ndarray
        where it stops (not included)
    """
    start_coord = np.asarray(start_coord)
    end_coord = np.minimum(arr.shape, start_coord + np.asarray(chunks))
    start_coord_ghosted = np.maximum(np.zeros(len(arr.shape), 'int'),
                                     np.array([s - overlap for s in start_coord]))
    stop_coord_ghosted = np.minimum(arr.shape, np.array([e + overlap for e in end_coord]))
    ghosted_chunk = extract_box(arr, start_coord_ghosted, stop_coord_ghosted)
    return ghosted_chunk, start_coord_ghosted, stop_coord_ghosted


def filter_points_in_box(coords: np.ndarray, start: Sequence[int], stop: Sequence[int],
                         return_idx: bool = False):
    """Keeps the points with start <= p < stop on every axis, in order

    Parameters
    ----------
    coords : ndarray
        (N, ndim) point coordinates
    start, stop : array-like
        the box (stop not included)
    return_idx : bool, optional
        also return the indices of the kept points

    Returns
    -------
    coords : ndarray
        the kept points
    idx : ndarray
        their indices in the input (only with return_idx)
    """
    coords = np.asarray(coords)
    interior = np.ones(len(coords), bool)
    for axis in range(coords.shape[1] if coords.ndim == 2 else 0):
        interior &= (coords[:, axis] >= start[axis]) & (coords[:, axis] < stop[axis])
    loc = np.where(interior)
    if return_idx:
        return coords[loc], loc[0]
    return coords[loc]


def filter_ghosted_points(start_ghosted: Sequence[int], start_coord: Sequence[int],
                          centers_local: np.ndarray, chunks: Sequence[int],
                          overlap: int) -> np.ndarray:
    """Keeps the points found in a ghosted chunk that lie in the chunk proper
    (points in the ghost shell belong to a neighbour, which finds them too)

    Parameters
    ----------
    start_ghosted : array-like
        where the ghosted chunk starts
    start_coord : array-like
        where the chunk starts
    centers_local : ndarray
        (N, ndim) points relative to start_ghosted
    chunks : array-like
        the chunk shape
    overlap : int
        the ghost width used

    Returns
    -------
    centers_local : ndarray
        the kept points, still relative to start_ghosted
    """
    centers_local = np.asarray(centers_local)
    interior = np.ones(len(centers_local), bool)
    for axis in range(centers_local.shape[1] if centers_local.ndim == 2 else 0):
        c = centers_local[:, axis]
        if start_ghosted[axis] < start_coord[axis]:
            interior &= (c >= overlap) & (c < chunks[axis] + overlap)
        else:
            interior &= c < chunks[axis]
    return centers_local[np.where(interior)]


# The state of a pmap_chunks worker process: (f, arr, chunks, start_coords,
# use_imap), unpickled once per worker by its initializer (so arr -- a libscout
# array's path and mode, a SharedMemory's name, a zarr-python array's store, a
# numpy array's data -- crosses to each worker once, not once per chunk), or the
# exception unpickling raised, re-raised by every job (a failing initializer
# would make multiprocessing restart workers forever).
_state: Any = None


def _worker_init(blob: bytes) -> None:
    global _state
    # Ctrl-C is the caller's to handle: it terminates the pool (SIGTERM to the
    # workers), so workers never die half-way through printing a traceback
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        _state = pickle.loads(blob)
    except BaseException as e:  # noqa: B902
        _state = e


def _call(state: tuple, index: int) -> Any:
    f, arr, chunks, start_coords, use_imap = state
    start_coord = start_coords[index]
    try:
        return f((arr, start_coord, chunks)) if use_imap else f(arr, start_coord, chunks)
    except Exception as e:
        e.add_note("in pmap_chunks: chunk %d starting at %s (chunks %s)"
                   % (index, tuple(int(x) for x in start_coord),
                      tuple(int(x) for x in chunks)))
        raise


def _run_chunk(index: int) -> Any:
    if isinstance(_state, BaseException):
        raise _state
    return _call(_state, index)


def _run_batch(indices: range) -> List[Any]:
    return [_run_chunk(i) for i in indices]


def _check_workers(workers: list) -> None:
    """A pool worker never exits while the map runs; one that did was killed
    (a signal, the OOM killer, a crash in C code) and multiprocessing would wait
    for its chunks forever: raise instead (the pool is then terminated)."""
    for w in workers:
        code = w.exitcode
        if code is not None:
            how = ("killed by signal %d (%s)" % (-code, signal.Signals(-code).name)
                   if code < 0 else "exited with status %d" % code)
            raise WorkerError("pmap_chunks: worker process %d %s while processing chunks"
                              % (w.pid, how))


def _watched(it: Any, workers: list) -> Iterator[Any]:
    while True:
        try:
            yield it.next(timeout=0.1)
        except StopIteration:
            return
        except multiprocessing.TimeoutError:
            _check_workers(workers)


def pmap_chunks(f: Callable, arr: Any, chunks: Optional[Sequence[int]] = None,
                nb_workers: Optional[int] = None, use_imap: bool = False,
                unordered: bool = False, chunksize: Optional[int] = None) -> List[Any]:
    """Maps a function over an array in parallel using chunks

    The function `f` should take a reference to the array, a starting index, and the chunk size.
    Since each subprocess is handling it's own indexing, any overlapping should be baked into `f`.
    Caution: `arr` may get copied if not using memmap. Use with SharedMemory or Zarr array to
    avoid copies.

    `f` and `arr` are pickled once and unpickled once in each worker process (not
    once per chunk); a libscout array (:func:`libscout.open`) travels as its path
    and mode, so each worker opens it once and its decoded-chunk cache serves the
    neighbouring chunks a ghosted `f` reads again. With ``nb_workers=1`` `f` runs
    in the calling process, in chunk order.

    Parameters
    ----------
    f : callable
        function with signature f(arr, start_coord, chunks). May need to use partial to define
        other args.
    arr : array-like
        an N-dimensional input array
    chunks : tuple, optional
        the shape of chunks to use. Default tries to access arr.chunks and falls back to arr.shape
    nb_workers : int, optional
        number of parallel processes to apply f with. Default, cpu_count
    use_imap : bool, optional
        whether or not to use imap instead os starmap in order to get an iterator for tqdm.
        Note that this requires input tuple unpacking manually inside of `f`.
    unordered : bool, optional
        return results in the order chunks finish instead of chunk order (imap_unordered)
    chunksize : int, optional
        chunks handed to a worker at a time (multiprocessing's chunksize). Default:
        multiprocessing's (about len / (4 nb_workers) for starmap, 1 for imap), except
        for libscout arrays without use_imap or unordered: len / nb_workers, so each
        worker gets one block of neighbouring chunks and its chunk cache decodes each
        chunk about once in a ghosted f (pass a smaller chunksize to balance uneven
        chunk costs better)

    Returns
    -------
    result : list
        list of results for each chunk

    Raises
    ------
    Exception
        the exception `f` raised, re-raised in the caller, with a note naming the
        chunk (its index, start and chunk shape); the workers are stopped.
    WorkerError
        a worker process died (killed by a signal, a crash in C code): the
        message names it and the signal; multiprocessing alone would hang
    KeyboardInterrupt
        Ctrl-C in the caller stops (terminates) every worker first.
    """
    if chunks is None:
        try:
            chunks = arr.chunks
        except AttributeError:
            chunks = arr.shape
    if nb_workers is None:
        nb_workers = multiprocessing.cpu_count()

    start_coords = chunk_coordinates(arr.shape, chunks)
    n = len(start_coords)
    state = (f, arr, chunks, start_coords, use_imap)

    if nb_workers > 1:
        blob = pickle.dumps(state)  # here, so an unpicklable f or arr fails in the caller
        if chunksize is None and not use_imap and not unordered and isinstance(arr, Array):
            chunksize = max(1, -(-n // nb_workers))
        with multiprocessing.Pool(processes=nb_workers, initializer=_worker_init,
                                  initargs=(blob,)) as pool:
            workers = list(pool._pool)  # to notice a worker that dies (_check_workers)
            if unordered or use_imap:
                # batches of chunksize chunks, one per job, so the iterator can be
                # polled with a timeout (imap's own batching returns a generator)
                cs = chunksize or 1
                batches = [range(i, min(i + cs, n)) for i in range(0, n, cs)]
                imap = pool.imap_unordered if unordered else pool.imap
                it = (r for batch in _watched(imap(_run_batch, batches), workers)
                      for r in batch)
                results = list(progress(it, total=n)) if use_imap else list(it)
            else:
                async_result = pool.map_async(_run_chunk, range(n), chunksize)
                while not async_result.ready():
                    async_result.wait(0.1)
                    _check_workers(workers)
                results = async_result.get()
    else:
        it = (_call(state, i) for i in range(n))
        results = list(progress(it, total=n)) if use_imap else list(it)
    return results


def files_in_dir(path: str) -> List[str]:
    """Searches a path for all files

    Parameters
    ----------
    path : str
        The directory path to check for files

    Returns
    -------
    list
        list of all files and subdirectories in the input path (excluding . and ..), as
        paths joined to `path`, sorted by name
    """
    return sorted(os.path.join(path, f) for f in os.listdir(path))


def tifs_in_dir(path: str) -> Tuple[List[str], List[str]]:
    """Searches input path for tif files

    Parameters
    ----------
    path : str
        path of the directory to check for tif images

    Returns
    -------
    tif_paths : list
        list of paths to tiffs in path
    tif_filenames : list
        list of tiff filenames (with the extension) in path
    """
    abspath = os.path.abspath(path)
    names = sorted(f for f in os.listdir(abspath)
                   if f.lower().endswith((".tif", ".tiff"))
                   and not os.path.isdir(os.path.join(abspath, f)))
    return [os.path.join(abspath, f) for f in names], names


def read_voxel_size(path: str) -> Tuple[float, ...]:
    """Reads in the voxel size stored in `path` CSV file with voxel dimensions in nanometers

    Parameters
    ----------
    path : str
        Path to CSV file containing integer values of voxel dimensions in nanometers

    Returns
    -------
    size : tuple
        Physical voxel size in same order as in CSV (micrometers: value / 1000)
    """
    with open(path, mode="r") as f:
        line = f.readline().split("\n")[0]
    dims = line.split(",")
    return tuple(int(d) / 1000 for d in dims)


