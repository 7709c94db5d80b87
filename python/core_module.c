/* libscout._core: the module (its functions, types and error codes). */
#define LIBSCOUT_CORE_IMPORT_ARRAY
#include "core.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Module                                                                   */
/* ------------------------------------------------------------------------ */

static PyObject *version_py(PyObject *mod, PyObject *noargs)
{
	(void)mod;
	(void)noargs;
	return PyUnicode_FromString(scout_version());
}

static PyMethodDef module_methods[] = {
    {"_set_error_classes", set_error_classes, METH_VARARGS,
     "Register {code: class} and the base class used for C errors."},
    {"strerror", strerror_py, METH_VARARGS, "strerror(code) -> short description."},
    {"version", version_py, METH_NOARGS, "version() -> version of the linked C library."},
    {"wrap", wrap_ndarray, METH_VARARGS,
     "wrap(ndarray) -> Array over its memory (C-contiguous, native, aligned)."},
    {"shm_create", shm_create, METH_VARARGS, "shm_create(shape, typestr) -> Shm (owner)."},
    {"shm_attach", shm_attach, METH_VARARGS, "shm_attach(name) -> Shm (not owner)."},
    {"stats", stats_py, METH_VARARGS, "stats(array, workers=0) -> dict."},
    {"histogram", histogram_py, METH_VARARGS,
     "histogram(array, bins, lo, hi, workers=0) -> (counts, edges)."},
    {"blur", blur_py, METH_VARARGS, "blur(src, dst, sigma, workers=0)."},
    {"peaks", peaks_py, METH_VARARGS,
     "peaks(array, sigma, min_distance, threshold, workers=0) -> (N, ndim) int64."},
    {"_pmap_native", pmap_native, METH_VARARGS,
     "_pmap_native(f, arr, handle, chunks, workers, processes) -> list: f run by the C "
     "library's own runner: threads taking the GIL (libscout.pmap_threads), or forked "
     "processes (measured against pmap_chunks in bench/bench_python.py only)."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "libscout._core",
    "The C extension under libscout (see the libscout package).", -1, module_methods};

PyMODINIT_FUNC PyInit__core(void)
{
	import_array();
	if (PyType_Ready(&ArrayType) < 0 || PyType_Ready(&ShmType) < 0)
		return NULL;
	PyObject *m = PyModule_Create(&module_def);
	if (!m)
		return NULL;
	if (PyModule_AddObjectRef(m, "Array", (PyObject *)&ArrayType) < 0 ||
	    PyModule_AddObjectRef(m, "Shm", (PyObject *)&ShmType) < 0 ||
	    PyModule_AddIntConstant(m, "MAX_NDIM", SCOUT_MAX_NDIM) < 0) {
		Py_DECREF(m);
		return NULL;
	}
	static const struct {
		const char *name;
		int code;
	} codes[] = {{"EINVAL", SCOUT_EINVAL},
		     {"ENOMEM", SCOUT_ENOMEM},
		     {"EIO", SCOUT_EIO},
		     {"ENOTFOUND", SCOUT_ENOTFOUND},
		     {"EFORMAT", SCOUT_EFORMAT},
		     {"ECODEC", SCOUT_ECODEC},
		     {"EWORKER", SCOUT_EWORKER},
		     {"EBOUNDS", SCOUT_EBOUNDS},
		     {"EOVERFLOW", SCOUT_EOVERFLOW},
		     {"EREADONLY", SCOUT_EREADONLY},
		     {"EUNSUPPORTED", SCOUT_EUNSUPPORTED},
		     {"EINTERRUPTED", SCOUT_EINTERRUPTED}};
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
		if (PyModule_AddIntConstant(m, codes[i].name, codes[i].code) < 0) {
			Py_DECREF(m);
			return NULL;
		}
	return m;
}
