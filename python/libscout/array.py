"""Arrays read and written through the C library: ``libscout.open`` and
``libscout.create``.

An :class:`Array` has ``shape``, ``chunks``, ``dtype``, ``ndim`` and ``attrs``
like a zarr-python array, and numpy-style basic indexing (integers, slices,
``...``): ``a[3:17, :, 5]`` returns a numpy array, ``a[...] = x`` writes. Every
read and write is one ``scout_extract_box`` / ``scout_insert_box`` call with the
GIL released, so threads of the calling process read in parallel, and Zarr
writes are atomic per chunk and safe between threads and processes.

An array opened from a path pickles as ``(path, mode)``: a worker process
reopens it (once per process: later unpicklings reuse the handle and its
decoded-chunk cache), which is what :func:`libscout.utils.pmap_chunks` relies on.
"""
from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import MutableMapping
from typing import Any, Iterator, Optional, Sequence, Tuple, Union

import numpy as np

from . import _core
from . import errors  # noqa: F401  (registers the exception classes)

__all__ = ["Array", "open", "create"]

_builtin_open = open
Index = Union[int, slice, type(Ellipsis), Tuple[Union[int, slice, type(Ellipsis)], ...]]


class Attributes(MutableMapping):
    """The array's user attributes (Zarr ``.zattrs``), read and written as JSON.

    Every change is written at once (atomically); reads see other writers'
    changes.
    """

    def __init__(self, arr: "Array") -> None:
        self._arr = arr

    def asdict(self) -> dict:
        """The attributes as a plain dict."""
        return json.loads(self._arr._attrs_get())

    def _put(self, d: dict) -> None:
        self._arr._attrs_set(json.dumps(d))

    def __getitem__(self, key: str) -> Any:
        return self.asdict()[key]

    def __setitem__(self, key: str, value: Any) -> None:
        d = self.asdict()
        d[key] = value
        self._put(d)

    def __delitem__(self, key: str) -> None:
        d = self.asdict()
        del d[key]
        self._put(d)

    def update(self, *args: Any, **kw: Any) -> None:  # one write, not one per key
        d = self.asdict()
        d.update(*args, **kw)
        self._put(d)

    def __iter__(self) -> Iterator[str]:
        return iter(self.asdict())

    def __len__(self) -> int:
        return len(self.asdict())

    def __repr__(self) -> str:
        return "Attributes(%r)" % self.asdict()


def _normalize(index: Any, shape: Tuple[int, ...]):
    """Basic numpy index -> (start, stop, step per axis, axes kept)."""
    if not isinstance(index, tuple):
        index = (index,)
    if any(i is Ellipsis for i in index):
        if sum(1 for i in index if i is Ellipsis) > 1:
            raise IndexError("an index can only have a single ellipsis ('...')")
        k = next(j for j, i in enumerate(index) if i is Ellipsis)
        fill = len(shape) - (len(index) - 1)
        index = index[:k] + (slice(None),) * max(fill, 0) + index[k + 1:]
    if len(index) > len(shape):
        raise IndexError("too many indices for array: array is %d-dimensional, but %d were "
                         "indexed" % (len(shape), len(index)))
    index = index + (slice(None),) * (len(shape) - len(index))
    start, stop, step, keep = [], [], [], []
    for axis, (i, n) in enumerate(zip(index, shape)):
        if isinstance(i, slice):
            a, b, s = i.indices(n)
            if s != 1:
                raise IndexError("libscout arrays take slices with step 1 only (axis %d has "
                                 "step %d): read the box and slice the numpy result" % (axis, s))
            start.append(a)
            stop.append(max(a, b))
            keep.append(True)
        elif i is None:
            raise IndexError("np.newaxis is not supported by libscout arrays")
        else:
            try:
                k = int(np.asarray(i).item()) if np.ndim(i) == 0 and not isinstance(
                    i, (bool, np.bool_)) else None
            except (TypeError, ValueError):
                k = None
            if k is None or not np.issubdtype(np.asarray(i).dtype, np.integer):
                raise IndexError("libscout arrays take integers, slices and '...' only "
                                 "(basic indexing), not %r" % (i,))
            if k < -n or k >= n:
                raise IndexError("index %d is out of bounds for axis %d with size %d"
                                 % (k, axis, n))
            k = k + n if k < 0 else k
            start.append(k)
            stop.append(k + 1)
            keep.append(False)
    return start, stop, keep


class Array(_core.Array):
    """An N-D array of the C library: Zarr v2, TIFF file, folder of TIFF slices.

    Do not instantiate directly: use :func:`libscout.open` or
    :func:`libscout.create`.

    Attributes:
        shape (tuple): the extents.
        chunks (tuple): the storage chunk shape (the shape when unchunked).
        dtype (numpy.dtype): the element type.
        ndim (int): the number of dimensions.
        kind (str): ``"zarr"``, ``"tiff"`` or ``"tiff-stack"``.
        path (str): the path it was opened from.
        mode (str): ``"r"`` or ``"r+"``.
    """

    path: str
    mode: str

    @property
    def attrs(self) -> Attributes:
        """User attributes (Zarr ``.zattrs``) as a mutable mapping."""
        return Attributes(self)

    @property
    def size(self) -> int:
        """Number of elements."""
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        """Number of bytes of all elements, decoded."""
        return self.size * self.dtype.itemsize

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, index: Index) -> np.ndarray:
        start, stop, keep = _normalize(index, self.shape)
        box = self._read(start, stop)
        if not all(keep):
            box = box.reshape([b - a for a, b, k in zip(start, stop, keep) if k])
            if box.ndim == 0:
                return box[()]
        return box

    def __setitem__(self, index: Index, value: Any) -> None:
        start, stop, keep = _normalize(index, self.shape)
        ext = [b - a for a, b in zip(start, stop)]
        kept = [e for e, k in zip(ext, keep) if k]
        data = np.asarray(value)
        if data.dtype != self.dtype:
            data = data.astype(self.dtype, casting="unsafe")  # as numpy assignment does
        data = np.ascontiguousarray(np.broadcast_to(data, kept)).reshape(ext)
        if not data.dtype.isnative:
            data = data.astype(data.dtype.newbyteorder("="))
        self._write(start, stop, data)

    def __array__(self, dtype: Optional[np.dtype] = None) -> np.ndarray:
        a = self[...]
        return a if dtype is None else a.astype(dtype)

    def __reduce__(self):
        if getattr(self, "path", None) is None:
            raise TypeError("only arrays opened from a path can be pickled")
        return (_reopen, (self.path, self.mode))

    def __enter__(self) -> "Array":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        if self.closed:
            return "<libscout.Array (closed)>"
        return "<libscout.Array %s %r shape=%r chunks=%r dtype=%s mode=%r>" % (
            self.kind, getattr(self, "path", None), self.shape, self.chunks, self.dtype,
            getattr(self, "mode", None))


# Handles reopened in worker processes, kept for the life of the process so that
# every chunk a worker processes shares one decoded-chunk cache.
_worker_handles: dict = {}


def _reopen(path: str, mode: str) -> Array:
    if multiprocessing.parent_process() is None:
        return open(path, mode)  # the main process: a handle of its own
    key = (os.getpid(), path, mode)
    a = _worker_handles.get(key)
    if a is None or a.closed:
        a = _worker_handles[key] = open(path, mode)
    return a


def open(path: Union[str, os.PathLike], mode: str = "r") -> Array:
    """Open an array on disk: a Zarr v2 array directory, a TIFF file (one page:
    2-D; several pages: ``(z, y, x)``) or a folder of 2-D TIFF slices.

    Parameters
    ----------
    path : str or os.PathLike
        the array's path
    mode : str, optional
        ``"r"`` (default) to read, ``"r+"`` to read and write (Zarr only)

    Returns
    -------
    arr : Array
        the array

    Raises
    ------
    NotFoundError (a FileNotFoundError)
        nothing at path
    FormatError (a ValueError)
        not an array scout can read; the message names the file and field
    """
    a = Array()
    a._open(path, mode)
    a.path = os.fspath(path)
    a.mode = "r" if mode == "r" else "r+"
    return a


def _codec_json(codec: Any) -> Optional[str]:
    if codec is None:
        return None
    if codec is False or (isinstance(codec, str) and codec.lower() in ("none", "null")):
        return "null"
    if isinstance(codec, str):
        return codec
    if isinstance(codec, dict):
        return json.dumps(codec)
    if hasattr(codec, "get_config"):  # a numcodecs codec
        return json.dumps(codec.get_config())
    raise TypeError("codec must be None, a numcodecs config (dict or JSON text), a "
                    "numcodecs codec or 'none', not %r" % (codec,))


def create(path: Union[str, os.PathLike], shape: Sequence[int], dtype: Any,
           chunks: Optional[Sequence[int]] = None, codec: Any = None, fill_value: Any = 0,
           order: str = "C", dimension_separator: str = "/", overwrite: bool = False,
           attrs: Optional[dict] = None) -> Array:
    """Create a Zarr v2 array (zero-filled: no chunk is written) and open it
    for reading and writing.

    Parameters
    ----------
    path : str or os.PathLike
        the array directory (missing parents are created)
    shape : tuple of int
        the extents
    dtype : numpy dtype or str
        element type (``"uint16"``, ``np.float32``, ``">f8"``...)
    chunks : tuple of int, optional
        chunk shape; default 64 on every axis, not clipped to the shape (as SCOUT
        and zarr-python)
    codec : optional
        the compressor: a numcodecs config (dict or JSON text) or codec object;
        ``None`` gives SCOUT's blosc zstd level 1 bitshuffle; ``"none"`` none
    fill_value : scalar, optional
        value of chunks never written (default 0)
    order : str, optional
        ``"C"`` (default) or ``"F"`` storage order of chunks
    dimension_separator : str, optional
        ``"/"`` (nested keys, SCOUT's default) or ``"."``
    overwrite : bool, optional
        replace an existing array at path (default: raise)
    attrs : dict, optional
        user attributes to store

    Returns
    -------
    arr : Array
        the new array, mode ``"r+"``
    """
    dt = np.dtype(dtype)
    if dt.kind == "c" and np.ndim(fill_value) == 0 and fill_value is not None:
        fill_value = [float(np.real(fill_value)), float(np.imag(fill_value))]  # Zarr v2 form
    fill = None if fill_value is None else json.dumps(
        fill_value.item() if isinstance(fill_value, np.generic) else fill_value)
    if fill in ("NaN", "Infinity", "-Infinity"):
        fill = '"%s"' % fill  # Zarr v2 writes non-finite fill values as strings
    a = Array()
    a._create(os.fspath(path), [int(s) for s in shape], dt.str,
              None if chunks is None else [int(c) for c in chunks], _codec_json(codec),
              order, dimension_separator, fill, bool(overwrite))
    a.path = os.fspath(path)
    a.mode = "r+"
    if attrs:
        a.attrs.update(attrs)
    return a
