"""Whole-array kernels on the C library's thread pool, GIL released:
statistics, histogram, Gaussian blur and peak (nuclei) detection.

Each accepts a libscout :class:`~libscout.Array`, a :class:`~libscout.SharedMemory`
or anything numpy can turn into an array (wrapped without a copy when it is
C-contiguous and native-endian). They run over the array's storage chunks
(slabs of about 4 MiB for unchunked arrays) with ``nb_workers`` threads (default:
every online CPU). Ctrl-C stops them (KeyboardInterrupt).
"""
from __future__ import annotations

from typing import Any, Optional, Sequence, Tuple, Union

import numpy as np

from . import _core
from .shm import SharedMemory

__all__ = ["stats", "histogram", "blur", "peaks"]

Sigma = Union[float, Sequence[float]]


def _as_core(a: Any, writable: bool = False) -> _core.Array:
    if isinstance(a, _core.Array):
        return a
    if isinstance(a, SharedMemory):
        return a.as_array()
    if writable:
        if not isinstance(a, np.ndarray) or not a.flags.c_contiguous or not a.flags.writeable \
                or not a.dtype.isnative:
            raise ValueError("the output must be a writable C-contiguous native-endian numpy "
                             "array, a libscout array or a SharedMemory")
        return _core.wrap(a)
    arr = np.asarray(a)
    if not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder("="))
    return _core.wrap(np.ascontiguousarray(arr))


def _workers(nb_workers: Optional[int]) -> int:
    if nb_workers is None:
        return 0
    if nb_workers < 1:
        raise ValueError("nb_workers must be >= 1, not %r" % (nb_workers,))
    return int(nb_workers)


def stats(a: Any, nb_workers: Optional[int] = None) -> dict:
    """Statistics of every element, computed chunk by chunk in parallel (as
    ``scout stats``).

    Parameters
    ----------
    a : array-like, libscout Array or SharedMemory
        the data (real dtypes)
    nb_workers : int, optional
        threads; default every online CPU

    Returns
    -------
    stats : dict
        ``dtype``, ``count`` (non-NaN values), ``nan_count``, ``sum``, ``min``,
        ``max`` (exact Python ints for integer dtypes, floats otherwise; NaN
        when empty), ``mean`` and ``std`` (population, ddof 0; as numpy's
        float64 results to ~1e-14 relative)
    """
    return _core.stats(_as_core(a), _workers(nb_workers))


def histogram(a: Any, bins: int = 10, range: Optional[Tuple[float, float]] = None,
              nb_workers: Optional[int] = None) -> Tuple[np.ndarray, np.ndarray]:
    """Histogram of every element, equal to ``numpy.histogram(a, bins, range)``.

    Parameters
    ----------
    a : array-like, libscout Array or SharedMemory
        the data (real dtypes); NaNs and values outside the range are ignored
    bins : int, optional
        number of equal bins (default 10)
    range : (float, float), optional
        the range; default the data's min and max (found by a first pass)
    nb_workers : int, optional
        threads; default every online CPU

    Returns
    -------
    hist : ndarray of int64
        the counts
    bin_edges : ndarray
        the ``bins + 1`` edges (float64; the data's type for float data, as numpy)
    """
    c = _as_core(a)
    w = _workers(nb_workers)
    if range is None:
        s = _core.stats(c, w)
        lo, hi = (float(s["min"]), float(s["max"])) if s["count"] else (0.0, 1.0)
    else:
        lo, hi = float(range[0]), float(range[1])
    counts, edges = _core.histogram(c, int(bins), lo, hi, w)
    if c.dtype.kind == "f":  # numpy gives the edges the data's float type
        edges = edges.astype(c.dtype)
    return counts.astype(np.int64), edges


def blur(src: Any, dst: Any = None, sigma: Sigma = 1.0,
         nb_workers: Optional[int] = None) -> Any:
    """Gaussian smoothing with ghost borders, equal to
    ``scipy.ndimage.gaussian_filter(src.astype(np.float32), sigma, mode='nearest',
    truncate=4.0)`` whatever the chunking (as ``scout blur``).

    Parameters
    ----------
    src : array-like, libscout Array or SharedMemory
        the input (real dtypes)
    dst : libscout Array, SharedMemory or numpy array, optional
        the output, of src's shape; its dtype is the output dtype (integers are
        rounded to nearest and saturated). Default: a new float32 numpy array
    sigma : float or sequence of float
        standard deviation in voxels, one for all axes or one per axis
    nb_workers : int, optional
        threads; default every online CPU

    Returns
    -------
    dst : the output
    """
    c = _as_core(src)
    if dst is None:
        dst = np.empty(c.shape, np.float32)
    _core.blur(c, _as_core(dst, writable=True), sigma, _workers(nb_workers))
    return dst


def peaks(a: Any, sigma: Sigma, min_distance: int = 1, threshold: Optional[float] = None,
          nb_workers: Optional[int] = None) -> np.ndarray:
    """SCOUT-style nuclei detection (as ``scout peaks``): blur, then every voxel
    whose blurred value is >= threshold and equals the maximum of the blurred
    volume over its ``(2 min_distance + 1)^ndim`` neighbourhood.

    Parameters
    ----------
    a : array-like, libscout Array or SharedMemory
        the input (real dtypes)
    sigma : float or sequence of float
        blur standard deviation in voxels (0: no blur)
    min_distance : int, optional
        neighbourhood half-width (default 1)
    threshold : float, optional
        smallest blurred value of a peak (default: none)
    nb_workers : int, optional
        threads; default every online CPU

    Returns
    -------
    points : ndarray of int64, shape (N, ndim)
        global coordinates of the peaks, sorted (C order)
    """
    t = float("-inf") if threshold is None else float(threshold)
    return _core.peaks(_as_core(a), sigma, int(min_distance), t, _workers(nb_workers))
