"""libscout: SCOUT's utils API over the scout C library, numpy in and out.

Modules and names:

- :mod:`libscout.utils` -- SCOUT's ``scout.utils``, same names and signatures:
  ``chunk_dims``, ``chunk_coordinates``, ``box_slice_idx``, ``extract_box``,
  ``insert_box``, ``extract_ghosted_chunk``, ``filter_points_in_box``,
  ``filter_ghosted_points``, ``SharedMemory``, ``pmap_chunks``,
  ``files_in_dir``, ``tifs_in_dir``, ``read_voxel_size``.
- :func:`open` / :func:`create` -- Zarr v2 arrays, TIFF files and folders of TIFF
  slices, read and written through the C library with the GIL released.
- :func:`stats`, :func:`histogram`, :func:`blur`, :func:`peaks` -- kernels on
  the C library's thread pool.
- :class:`Error` and its subclasses -- the C library's error codes.

Porting SCOUT code: ``from scout import utils`` becomes ``from libscout import
utils``, and ``zarr.open(path)`` may become ``libscout.open(path)``.
"""
from __future__ import annotations

from . import _core
from .errors import (Error, InvalidArgumentError, OutOfMemoryError, StorageError,
                     NotFoundError, FormatError, CodecError, WorkerError, BoundsError,
                     SizeOverflowError, ReadOnlyError, UnsupportedError, InterruptedOperation)
from .array import Array, open, create
from .shm import SharedMemory
from .kernels import stats, histogram, blur, peaks
from . import utils

__version__ = _core.version()

__all__ = ["Array", "open", "create", "SharedMemory", "stats", "histogram", "blur", "peaks",
           "utils", "Error", "InvalidArgumentError", "OutOfMemoryError", "StorageError",
           "NotFoundError", "FormatError", "CodecError", "WorkerError", "BoundsError",
           "SizeOverflowError", "ReadOnlyError", "UnsupportedError", "InterruptedOperation"]
