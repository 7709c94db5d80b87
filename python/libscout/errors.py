"""Exceptions of libscout: one class per error code of the C library.

Every class derives from :class:`Error`, and also from the built-in exception a
Python user expects in that situation, so ``except FileNotFoundError`` or
``except ValueError`` keep working when porting code from zarr-python or
numpy. The message is the C library's ``scout_last_error()``: it names the
file, the chunk key and the field at fault. ``code`` is the negative
``SCOUT_E*`` code.
"""
from __future__ import annotations

from . import _core

__all__ = ["Error", "InvalidArgumentError", "OutOfMemoryError", "StorageError",
           "NotFoundError", "FormatError", "CodecError", "WorkerError", "BoundsError",
           "SizeOverflowError", "ReadOnlyError", "UnsupportedError", "InterruptedOperation"]


class Error(Exception):
    """Base class of every error raised by the C library.

    Attributes:
        code: the negative ``SCOUT_E*`` code (see ``libscout.errors.CODES``).
    """
    code: int = 0


class InvalidArgumentError(Error, ValueError):
    """An invalid argument (bad shape, chunks, dtype, coordinates...). SCOUT_EINVAL."""
    code = _core.EINVAL


class OutOfMemoryError(Error, MemoryError):
    """The library could not allocate memory. SCOUT_ENOMEM."""
    code = _core.ENOMEM


class StorageError(Error, OSError):
    """An operating-system I/O call failed (read, write, rename, fsync...). SCOUT_EIO."""
    code = _core.EIO


class NotFoundError(Error, FileNotFoundError):
    """A file, directory, key or shared-memory segment is missing. SCOUT_ENOTFOUND."""
    code = _core.ENOTFOUND


class FormatError(Error, ValueError):
    """Malformed or unsupported file content or metadata. SCOUT_EFORMAT."""
    code = _core.EFORMAT


class CodecError(Error, ValueError):
    """A codec failed to encode or decode: a corrupt chunk (its key is in the message).
    SCOUT_ECODEC."""
    code = _core.ECODEC


class WorkerError(Error, RuntimeError):
    """A parallel worker failed, crashed or was killed. SCOUT_EWORKER."""
    code = _core.EWORKER


class BoundsError(Error, IndexError):
    """A box lies outside the array. SCOUT_EBOUNDS."""
    code = _core.EBOUNDS


class SizeOverflowError(Error, OverflowError):
    """A size computation would overflow. SCOUT_EOVERFLOW."""
    code = _core.EOVERFLOW


class ReadOnlyError(Error, PermissionError):
    """Writing to an array opened read-only (or a read-only kind). SCOUT_EREADONLY."""
    code = _core.EREADONLY


class UnsupportedError(Error, NotImplementedError):
    """A valid feature the library does not implement. SCOUT_EUNSUPPORTED."""
    code = _core.EUNSUPPORTED


class InterruptedOperation(Error, InterruptedError):
    """The operation was cancelled (signal, callback). SCOUT_EINTERRUPTED."""
    code = _core.EINTERRUPTED


#: code -> exception class
CODES = {cls.code: cls for cls in (
    InvalidArgumentError, OutOfMemoryError, StorageError, NotFoundError, FormatError,
    CodecError, WorkerError, BoundsError, SizeOverflowError, ReadOnlyError,
    UnsupportedError, InterruptedOperation)}

_core._set_error_classes(dict(CODES), Error)
