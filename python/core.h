/*
 * libscout._core: the C extension under the libscout Python package.
 *
 * It is a thin layer over the public C API (scout/scout.h): array handles
 * (Zarr, TIFF, shared memory, numpy memory wrapped without a copy), box reads
 * and writes, shared-memory segments exposed through the buffer protocol, and
 * the built-in kernels (stats, histogram, blur, peaks) run on the library's
 * thread pool. Every call into the library that may take time runs with the
 * GIL released. Errors become the exception classes that libscout/errors.py
 * registers with _set_error_classes() (one per SCOUT_E* code).
 *
 * Index parsing, pickling, SCOUT's utils and pmap_chunks live in Python
 * (the .py files of libscout/); these files only do what needs C.
 *
 * core.h: what the core_*.c files share.
 */
#ifndef LIBSCOUT_CORE_H
#define LIBSCOUT_CORE_H
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define NPY_NO_DEPRECATED_API  NPY_1_7_API_VERSION
#define PY_ARRAY_UNIQUE_SYMBOL libscout_core_ARRAY_API
#ifndef LIBSCOUT_CORE_IMPORT_ARRAY
#define NO_IMPORT_ARRAY /* only core_module.c calls import_array() */
#endif
#include <numpy/arrayobject.h>

#include "scout/scout.h"

/* Release the GIL around a library call (once per block; function-like, unlike
 * Py_BEGIN_ALLOW_THREADS, so that clang-format keeps the code readable). */
#define GIL_RELEASE() PyThreadState *gil_save_ = PyEval_SaveThread()
#define GIL_ACQUIRE() PyEval_RestoreThread(gil_save_)

/* An array handle (libscout._core.Array; libscout.Array subclasses it). */
typedef struct {
	PyObject_HEAD scout_array *arr;
	PyObject *owner; /* what keeps the memory alive (ndarray or Shm), or NULL */
	PyObject *weakrefs;
	int busy; /* calls running without the GIL: close() must wait for them */
} ArrayObject;

/* A shared-memory segment (libscout._core.Shm). */
typedef struct {
	PyObject_HEAD scout_shm *shm;
	Py_ssize_t exports;
} ShmObject;

extern PyTypeObject ArrayType;
extern PyTypeObject ShmType;

/* core_common.c */
/* Raise the exception of a SCOUT_E* code with the thread's last message; NULL. */
PyObject *raise_scout(int code);
PyObject *set_error_classes(PyObject *self, PyObject *args);
PyObject *strerror_py(PyObject *self, PyObject *args);
/* Parse a sequence of ndim ints into out; -1 with an exception on error. */
int parse_coords(int64_t *out, PyObject *seq, int ndim, const char *what);
/* A tuple of n ints. */
PyObject *tuple_of(const int64_t *v, int n);
/* The numpy dtype of a scout dtype (native byte order), new reference. */
PyArray_Descr *descr_of(scout_dtype dt);
/* The scout dtype of a numpy dtype; -1 with an exception when there is none. */
int dtype_from_numpy(PyArray_Descr *d, scout_dtype *out);
/* pmap cancel callback letting Python handle signals (payload: int flag). */
int check_signals(void *payload);
/* After a failed map, with the GIL: a pending KeyboardInterrupt, else rc's error. */
PyObject *map_error(int rc, int interrupted);
/* pmap options: thread workers, check_signals as cancel. */
void pmap_opts(scout_pmap_options *po, int workers, int *flag);

/* core_array.c */
/* An instance of type around arr (owner kept alive with it); frees arr on failure. */
PyObject *array_new_of(PyTypeObject *type, scout_array *arr, PyObject *owner);
/* The handle of a libscout array object, or NULL with TypeError/ValueError. */
scout_array *array_of(PyObject *o);
PyObject *wrap_ndarray(PyObject *mod, PyObject *args);

/* core_shm.c */
PyObject *shm_create(PyObject *mod, PyObject *args);
PyObject *shm_attach(PyObject *mod, PyObject *args);

/* core_kernels.c */
PyObject *stats_py(PyObject *mod, PyObject *args);
PyObject *histogram_py(PyObject *mod, PyObject *args);
PyObject *blur_py(PyObject *mod, PyObject *args);
PyObject *peaks_py(PyObject *mod, PyObject *args);

/* core_pmap.c */
PyObject *pmap_native(PyObject *mod, PyObject *args);

#endif
