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
 * (the .py files of libscout/); this file only does what needs C.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scout/scout.h"

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

static PyObject *error_classes; /* dict: int code -> exception class */
static PyObject *error_base;    /* libscout.Error, or RuntimeError before registration */

/* Raise the exception of a SCOUT_E* code with the thread's last message. */
static PyObject *raise_scout(int code)
{
	const char *msg = scout_last_error();
	PyObject *cls = NULL;
	if (error_classes) {
		PyObject *key = PyLong_FromLong(code);
		if (key) {
			cls = PyDict_GetItemWithError(error_classes, key);
			Py_DECREF(key);
		}
		if (PyErr_Occurred())
			return NULL;
	}
	if (!cls)
		cls = error_base ? error_base : PyExc_RuntimeError;
	PyObject *exc = PyObject_CallFunction(cls, "s", msg && *msg ? msg : scout_strerror(code));
	if (!exc)
		return NULL;
	PyObject *c = PyLong_FromLong(code);
	if (c) {
		PyObject_SetAttrString(exc, "code", c);
		Py_DECREF(c);
	}
	PyErr_Clear();
	PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
	Py_DECREF(exc);
	return NULL;
}

static PyObject *set_error_classes(PyObject *self, PyObject *args)
{
	(void)self;
	PyObject *d, *base;
	if (!PyArg_ParseTuple(args, "O!O", &PyDict_Type, &d, &base))
		return NULL;
	Py_XSETREF(error_classes, Py_NewRef(d));
	Py_XSETREF(error_base, Py_NewRef(base));
	Py_RETURN_NONE;
}

static PyObject *strerror_py(PyObject *self, PyObject *args)
{
	(void)self;
	int code;
	if (!PyArg_ParseTuple(args, "i", &code))
		return NULL;
	return PyUnicode_FromString(scout_strerror(code));
}

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

/* Parse a sequence of ints into out[ndim]; -1 with an exception on error. */
static int parse_coords(int64_t *out, PyObject *seq, int ndim, const char *what)
{
	PyObject *fast = PySequence_Fast(seq, "coordinates must be a sequence");
	if (!fast)
		return -1;
	if (PySequence_Fast_GET_SIZE(fast) != ndim) {
		PyErr_Format(PyExc_ValueError, "%s has %zd values, expected %d", what,
			     PySequence_Fast_GET_SIZE(fast), ndim);
		Py_DECREF(fast);
		return -1;
	}
	for (int i = 0; i < ndim; i++) {
		PyObject *o = PySequence_Fast_GET_ITEM(fast, i);
		PyObject *idx = PyNumber_Index(o);
		if (!idx) {
			Py_DECREF(fast);
			return -1;
		}
		long long v = PyLong_AsLongLong(idx);
		Py_DECREF(idx);
		if (v == -1 && PyErr_Occurred()) {
			Py_DECREF(fast);
			return -1;
		}
		out[i] = (int64_t)v;
	}
	Py_DECREF(fast);
	return 0;
}

static PyObject *tuple_of(const int64_t *v, int n)
{
	PyObject *t = PyTuple_New(n);
	if (!t)
		return NULL;
	for (int i = 0; i < n; i++) {
		PyObject *x = PyLong_FromLongLong((long long)v[i]);
		if (!x) {
			Py_DECREF(t);
			return NULL;
		}
		PyTuple_SET_ITEM(t, i, x);
	}
	return t;
}

/* The numpy dtype of a scout dtype (native byte order). */
static PyArray_Descr *descr_of(scout_dtype dt)
{
	static const int map[SCOUT_DTYPE_COUNT] = {
	    NPY_BOOL,    NPY_INT8,    NPY_INT16,     NPY_INT32,     NPY_INT64,
	    NPY_UINT8,   NPY_UINT16,  NPY_UINT32,    NPY_UINT64,    NPY_FLOAT16,
	    NPY_FLOAT32, NPY_FLOAT64, NPY_COMPLEX64, NPY_COMPLEX128};
	if ((int)dt < 0 || dt >= SCOUT_DTYPE_COUNT) {
		PyErr_SetString(PyExc_ValueError, "invalid scout dtype");
		return NULL;
	}
	return PyArray_DescrFromType(map[dt]);
}

/* The scout dtype of a numpy dtype; -1 with an exception when there is none. */
static int scout_dtype_of(PyArray_Descr *d, scout_dtype *out)
{
	switch (d->type_num) {
	case NPY_BOOL:
		*out = SCOUT_BOOL;
		return 0;
	case NPY_FLOAT16:
		*out = SCOUT_FLOAT16;
		return 0;
	case NPY_FLOAT32:
		*out = SCOUT_FLOAT32;
		return 0;
	case NPY_FLOAT64:
		*out = SCOUT_FLOAT64;
		return 0;
	case NPY_COMPLEX64:
		*out = SCOUT_COMPLEX64;
		return 0;
	case NPY_COMPLEX128:
		*out = SCOUT_COMPLEX128;
		return 0;
	default:
		break;
	}
	if (PyDataType_ISINTEGER(d)) {
		int sgn = PyDataType_ISSIGNED(d);
		switch (d->elsize) {
		case 1:
			*out = sgn ? SCOUT_INT8 : SCOUT_UINT8;
			return 0;
		case 2:
			*out = sgn ? SCOUT_INT16 : SCOUT_UINT16;
			return 0;
		case 4:
			*out = sgn ? SCOUT_INT32 : SCOUT_UINT32;
			return 0;
		case 8:
			*out = sgn ? SCOUT_INT64 : SCOUT_UINT64;
			return 0;
		}
	}
	PyErr_Format(PyExc_TypeError, "libscout: unsupported dtype %R", (PyObject *)d);
	return -1;
}

/* ------------------------------------------------------------------------ */
/* Array                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct {
	PyObject_HEAD scout_array *arr;
	PyObject *owner; /* what keeps the memory alive (ndarray or Shm), or NULL */
	PyObject *weakrefs;
} ArrayObject;

static PyTypeObject ArrayType;

static int array_ok(ArrayObject *self)
{
	if (!self->arr) {
		PyErr_SetString(PyExc_ValueError, "libscout array is closed");
		return -1;
	}
	return 0;
}

static void Array_dealloc(ArrayObject *self)
{
	if (self->weakrefs)
		PyObject_ClearWeakRefs((PyObject *)self);
	scout_array *a = self->arr;
	self->arr = NULL;
	if (a) {
		Py_BEGIN_ALLOW_THREADS scout_array_free(a);
		Py_END_ALLOW_THREADS
	}
	Py_CLEAR(self->owner);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Make an instance of type (ArrayType or a Python subclass) around arr. */
static PyObject *array_new_of(PyTypeObject *type, scout_array *arr, PyObject *owner)
{
	ArrayObject *self = (ArrayObject *)type->tp_alloc(type, 0);
	if (!self) {
		scout_array_free(arr);
		return NULL;
	}
	self->arr = arr;
	self->owner = owner ? Py_NewRef(owner) : NULL;
	return (PyObject *)self;
}

static PyObject *Array_tp_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
	(void)args;
	(void)kw;
	ArrayObject *self = (ArrayObject *)type->tp_alloc(type, 0);
	return (PyObject *)self; /* arr NULL until _open/_create/_wrap fill it */
}

static int mode_of(const char *mode)
{
	if (!strcmp(mode, "r"))
		return SCOUT_MODE_READ;
	if (!strcmp(mode, "r+") || !strcmp(mode, "a") || !strcmp(mode, "w"))
		return SCOUT_MODE_READ | SCOUT_MODE_WRITE;
	return -1;
}

/* Array._open(path, mode): fill an empty instance (used by libscout.open). */
static PyObject *Array_open(ArrayObject *self, PyObject *args)
{
	PyObject *pathobj;
	const char *mode = "r";
	if (!PyArg_ParseTuple(args, "O&|s", PyUnicode_FSConverter, &pathobj, &mode))
		return NULL;
	int m = mode_of(mode);
	if (m < 0) {
		Py_DECREF(pathobj);
		return PyErr_Format(PyExc_ValueError, "mode must be 'r' or 'r+', not '%s'", mode);
	}
	if (self->arr) {
		Py_DECREF(pathobj);
		return PyErr_Format(PyExc_ValueError, "array already open");
	}
	scout_array *a = NULL;
	int rc;
	const char *path = PyBytes_AS_STRING(pathobj);
	Py_BEGIN_ALLOW_THREADS rc = scout_array_open(&a, path, m);
	Py_END_ALLOW_THREADS Py_DECREF(pathobj);
	if (rc < 0)
		return raise_scout(rc);
	self->arr = a;
	Py_RETURN_NONE;
}

/* Array._create(path, shape, typestr, chunks|None, compressor_json|None, order,
 *               separator, fill_value_json|None, overwrite) */
static PyObject *Array_create(ArrayObject *self, PyObject *args)
{
	PyObject *pathobj, *shape, *chunks;
	const char *typestr, *comp = NULL, *fill = NULL;
	int order, sep, overwrite;
	if (!PyArg_ParseTuple(args, "O&OsOzCCzp", PyUnicode_FSConverter, &pathobj, &shape, &typestr,
			      &chunks, &comp, &order, &sep, &fill, &overwrite))
		return NULL;
	scout_zarr_options o = SCOUT_ZARR_OPTIONS_INIT;
	Py_ssize_t nd = PySequence_Size(shape);
	if (nd < 0)
		goto fail;
	if (nd < 1 || nd > SCOUT_MAX_NDIM) {
		PyErr_Format(PyExc_ValueError, "shape must have 1 to %d dimensions, not %zd",
			     SCOUT_MAX_NDIM, nd);
		goto fail;
	}
	o.ndim = (int)nd;
	if (parse_coords(o.shape, shape, o.ndim, "shape") < 0)
		goto fail;
	if (chunks != Py_None && parse_coords(o.chunks, chunks, o.ndim, "chunks") < 0)
		goto fail;
	o.dtype = typestr;
	o.compressor = comp;
	o.order = (char)order;
	o.dimension_separator = (char)sep;
	o.fill_value = fill;
	o.overwrite = overwrite;
	if (self->arr) {
		PyErr_SetString(PyExc_ValueError, "array already open");
		goto fail;
	}
	scout_array *a = NULL;
	int rc;
	const char *path = PyBytes_AS_STRING(pathobj);
	Py_BEGIN_ALLOW_THREADS rc = scout_zarr_create(&a, path, &o);
	Py_END_ALLOW_THREADS Py_DECREF(pathobj);
	if (rc < 0)
		return raise_scout(rc);
	self->arr = a;
	Py_RETURN_NONE;
fail:
	Py_DECREF(pathobj);
	return NULL;
}

/* _core.wrap(ndarray) -> Array over the array's memory (no copy; C-contiguous,
 * native byte order, aligned; the Array keeps a reference to it). */
static PyObject *wrap_ndarray(PyObject *mod, PyObject *args)
{
	(void)mod;
	PyArrayObject *nd;
	if (!PyArg_ParseTuple(args, "O!", &PyArray_Type, &nd))
		return NULL;
	if (!PyArray_IS_C_CONTIGUOUS(nd) || !PyArray_ISALIGNED(nd) || !PyArray_ISNOTSWAPPED(nd)) {
		PyErr_SetString(PyExc_ValueError,
				"wrap needs a C-contiguous aligned native-endian array");
		return NULL;
	}
	int ndim = PyArray_NDIM(nd);
	if (ndim < 1 || ndim > SCOUT_MAX_NDIM)
		return PyErr_Format(PyExc_ValueError, "arrays of %d dimensions are not supported",
				    ndim);
	scout_dtype dt;
	if (scout_dtype_of(PyArray_DESCR(nd), &dt) < 0)
		return NULL;
	int64_t shape[SCOUT_MAX_NDIM];
	for (int i = 0; i < ndim; i++)
		shape[i] = (int64_t)PyArray_DIM(nd, i);
	scout_array *a = NULL;
	int rc = scout_array_wrap(&a, PyArray_DATA(nd), ndim, shape, dt);
	if (rc < 0)
		return raise_scout(rc);
	return array_new_of(&ArrayType, a, (PyObject *)nd);
}

static PyObject *Array_get_shape(ArrayObject *self, void *c)
{
	(void)c;
	if (array_ok(self) < 0)
		return NULL;
	return tuple_of(scout_array_shape(self->arr), scout_array_ndim(self->arr));
}

static PyObject *Array_get_chunks(ArrayObject *self, void *c)
{
	(void)c;
	if (array_ok(self) < 0)
		return NULL;
	return tuple_of(scout_array_chunks(self->arr), scout_array_ndim(self->arr));
}

static PyObject *Array_get_ndim(ArrayObject *self, void *c)
{
	(void)c;
	if (array_ok(self) < 0)
		return NULL;
	return PyLong_FromLong(scout_array_ndim(self->arr));
}

static PyObject *Array_get_dtype(ArrayObject *self, void *c)
{
	(void)c;
	if (array_ok(self) < 0)
		return NULL;
	return (PyObject *)descr_of(scout_array_dtype(self->arr));
}

static PyObject *Array_get_kind(ArrayObject *self, void *c)
{
	(void)c;
	if (array_ok(self) < 0)
		return NULL;
	return PyUnicode_FromString(scout_array_kind(self->arr));
}

static PyObject *Array_get_writable(ArrayObject *self, void *c)
{
	(void)c;
	if (array_ok(self) < 0)
		return NULL;
	return PyBool_FromLong(scout_array_writable(self->arr));
}

static PyObject *Array_get_closed(ArrayObject *self, void *c)
{
	(void)c;
	return PyBool_FromLong(self->arr == NULL);
}

/* Array._read(start, stop) -> new C-contiguous ndarray of the box. */
static PyObject *Array_read(ArrayObject *self, PyObject *args)
{
	PyObject *s, *e;
	if (!PyArg_ParseTuple(args, "OO", &s, &e) || array_ok(self) < 0)
		return NULL;
	int ndim = scout_array_ndim(self->arr);
	int64_t start[SCOUT_MAX_NDIM], stop[SCOUT_MAX_NDIM];
	npy_intp dims[SCOUT_MAX_NDIM];
	if (parse_coords(start, s, ndim, "start") < 0 || parse_coords(stop, e, ndim, "stop") < 0)
		return NULL;
	for (int i = 0; i < ndim; i++)
		dims[i] = stop[i] > start[i] ? (npy_intp)(stop[i] - start[i]) : 0;
	PyArray_Descr *d = descr_of(scout_array_dtype(self->arr));
	if (!d)
		return NULL;
	PyObject *out = PyArray_Empty(ndim, dims, d, 0);
	if (!out)
		return NULL;
	void *dst = PyArray_DATA((PyArrayObject *)out);
	int rc;
	Py_BEGIN_ALLOW_THREADS rc = scout_extract_box(dst, self->arr, start, stop);
	Py_END_ALLOW_THREADS if (rc < 0)
	{
		Py_DECREF(out);
		return raise_scout(rc);
	}
	return out;
}

/* Array._write(start, stop, ndarray): the array must be C-contiguous, of the
 * array's dtype and of the box's shape (libscout/array.py prepares it). */
static PyObject *Array_write(ArrayObject *self, PyObject *args)
{
	PyObject *s, *e;
	PyArrayObject *src;
	if (!PyArg_ParseTuple(args, "OOO!", &s, &e, &PyArray_Type, &src) || array_ok(self) < 0)
		return NULL;
	int ndim = scout_array_ndim(self->arr);
	int64_t start[SCOUT_MAX_NDIM], stop[SCOUT_MAX_NDIM];
	if (parse_coords(start, s, ndim, "start") < 0 || parse_coords(stop, e, ndim, "stop") < 0)
		return NULL;
	size_t n = 1;
	for (int i = 0; i < ndim; i++)
		n *= stop[i] > start[i] ? (size_t)(stop[i] - start[i]) : 0;
	scout_dtype dt;
	if (scout_dtype_of(PyArray_DESCR(src), &dt) < 0)
		return NULL;
	if (dt != scout_array_dtype(self->arr) || !PyArray_IS_C_CONTIGUOUS(src) ||
	    !PyArray_ISNOTSWAPPED(src) || (size_t)PyArray_SIZE(src) != n)
		return PyErr_Format(PyExc_ValueError,
				    "_write needs a C-contiguous native array of the box's "
				    "size and the array's dtype");
	const void *data = PyArray_DATA(src);
	int rc;
	Py_BEGIN_ALLOW_THREADS rc = scout_insert_box(self->arr, start, stop, data);
	Py_END_ALLOW_THREADS if (rc < 0) return raise_scout(rc);
	Py_RETURN_NONE;
}

static PyObject *Array_attrs_get(ArrayObject *self, PyObject *noargs)
{
	(void)noargs;
	if (array_ok(self) < 0)
		return NULL;
	char *json = NULL;
	int rc = scout_array_attrs_get(&json, self->arr);
	if (rc < 0)
		return raise_scout(rc);
	PyObject *r = PyUnicode_FromString(json);
	scout_free(json);
	return r;
}

static PyObject *Array_attrs_set(ArrayObject *self, PyObject *args)
{
	const char *json;
	if (!PyArg_ParseTuple(args, "s", &json) || array_ok(self) < 0)
		return NULL;
	int rc = scout_array_attrs_set(self->arr, json);
	if (rc < 0)
		return raise_scout(rc);
	Py_RETURN_NONE;
}

static PyObject *Array_set_cache_size(ArrayObject *self, PyObject *args)
{
	Py_ssize_t n;
	if (!PyArg_ParseTuple(args, "n", &n) || array_ok(self) < 0)
		return NULL;
	if (n < 0)
		return PyErr_Format(PyExc_ValueError, "cache size must be >= 0");
	int rc = scout_zarr_set_cache_size(self->arr, (size_t)n);
	if (rc < 0)
		return raise_scout(rc);
	Py_RETURN_NONE;
}

static PyObject *Array_cache_stats(ArrayObject *self, PyObject *noargs)
{
	(void)noargs;
	if (array_ok(self) < 0)
		return NULL;
	scout_zarr_stats st;
	int rc = scout_zarr_stats_get(&st, self->arr);
	if (rc < 0)
		return raise_scout(rc);
	return Py_BuildValue(
	    "{s:K,s:K,s:K,s:K,s:K,s:K,s:n,s:n}", "chunks_read", (unsigned long long)st.chunks_read,
	    "chunks_decoded", (unsigned long long)st.chunks_decoded, "chunks_absent",
	    (unsigned long long)st.chunks_absent, "cache_hits", (unsigned long long)st.cache_hits,
	    "cache_misses", (unsigned long long)st.cache_misses, "chunks_written",
	    (unsigned long long)st.chunks_written, "cache_bytes", (Py_ssize_t)st.cache_bytes,
	    "cache_capacity", (Py_ssize_t)st.cache_capacity);
}

static PyObject *Array_close(ArrayObject *self, PyObject *noargs)
{
	(void)noargs;
	scout_array *a = self->arr;
	self->arr = NULL;
	if (a) {
		Py_BEGIN_ALLOW_THREADS scout_array_free(a);
		Py_END_ALLOW_THREADS
	}
	Py_CLEAR(self->owner);
	Py_RETURN_NONE;
}

static PyMethodDef Array_methods[] = {
    {"_open", (PyCFunction)Array_open, METH_VARARGS, "Open a path (Zarr, TIFF, TIFF folder)."},
    {"_create", (PyCFunction)Array_create, METH_VARARGS, "Create a Zarr v2 array."},
    {"_read", (PyCFunction)Array_read, METH_VARARGS,
     "_read(start, stop) -> ndarray: scout_extract_box, GIL released."},
    {"_write", (PyCFunction)Array_write, METH_VARARGS,
     "_write(start, stop, data): scout_insert_box, GIL released."},
    {"_attrs_get", (PyCFunction)Array_attrs_get, METH_NOARGS, "The .zattrs as JSON text."},
    {"_attrs_set", (PyCFunction)Array_attrs_set, METH_VARARGS, "Replace the .zattrs."},
    {"set_cache_size", (PyCFunction)Array_set_cache_size, METH_VARARGS,
     "set_cache_size(nbytes): byte budget of a Zarr handle's decoded-chunk cache (0: off)."},
    {"cache_stats", (PyCFunction)Array_cache_stats, METH_NOARGS,
     "cache_stats() -> dict: chunks read/decoded/absent, cache hits/misses of this handle "
     "in this process."},
    {"close", (PyCFunction)Array_close, METH_NOARGS,
     "close(): release the handle (further use raises ValueError)."},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef Array_getset[] = {
    {"shape", (getter)Array_get_shape, NULL, "tuple of the extents", NULL},
    {"chunks", (getter)Array_get_chunks, NULL, "storage chunk shape (the shape when unchunked)",
     NULL},
    {"ndim", (getter)Array_get_ndim, NULL, "number of dimensions", NULL},
    {"dtype", (getter)Array_get_dtype, NULL, "numpy dtype of the elements", NULL},
    {"kind", (getter)Array_get_kind, NULL,
     "backend: 'zarr', 'tiff', 'tiff-stack', 'memory' or 'shm'", NULL},
    {"writable", (getter)Array_get_writable, NULL, "True when writes are allowed", NULL},
    {"closed", (getter)Array_get_closed, NULL, "True after close()", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyTypeObject ArrayType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "libscout._core.Array",
    .tp_basicsize = sizeof(ArrayObject),
    .tp_dealloc = (destructor)Array_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "An array handle of the C library (see libscout.Array).",
    .tp_methods = Array_methods,
    .tp_getset = Array_getset,
    .tp_new = Array_tp_new,
    .tp_weaklistoffset = offsetof(ArrayObject, weakrefs),
};

static scout_array *array_of(PyObject *o)
{
	if (!PyObject_TypeCheck(o, &ArrayType)) {
		PyErr_Format(PyExc_TypeError, "expected a libscout array, not %.100s",
			     Py_TYPE(o)->tp_name);
		return NULL;
	}
	ArrayObject *a = (ArrayObject *)o;
	if (array_ok(a) < 0)
		return NULL;
	return a->arr;
}

/* ------------------------------------------------------------------------ */
/* Shared memory                                                            */
/* ------------------------------------------------------------------------ */

typedef struct {
	PyObject_HEAD scout_shm *shm;
	Py_ssize_t exports;
} ShmObject;

static void Shm_dealloc(ShmObject *self)
{
	scout_shm_free(self->shm);
	self->shm = NULL;
	Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyTypeObject ShmType;

/* _core.shm_create(shape, typestr) */
static PyObject *shm_create(PyObject *mod, PyObject *args)
{
	(void)mod;
	PyObject *shape;
	const char *ts;
	if (!PyArg_ParseTuple(args, "Os", &shape, &ts))
		return NULL;
	Py_ssize_t nd = PySequence_Size(shape);
	if (nd < 0)
		return NULL;
	if (nd < 1 || nd > SCOUT_MAX_NDIM)
		return PyErr_Format(PyExc_ValueError, "shape must have 1 to %d dimensions",
				    SCOUT_MAX_NDIM);
	int64_t sh[SCOUT_MAX_NDIM];
	if (parse_coords(sh, shape, (int)nd, "shape") < 0)
		return NULL;
	scout_dtype dt;
	int be = 0, rc = scout_dtype_parse(&dt, &be, ts);
	if (rc < 0)
		return raise_scout(rc);
	scout_shm *s = NULL;
	if ((rc = scout_shm_create(&s, (int)nd, sh, dt)) < 0)
		return raise_scout(rc);
	ShmObject *self = PyObject_New(ShmObject, &ShmType);
	if (!self) {
		scout_shm_free(s);
		return NULL;
	}
	self->shm = s;
	self->exports = 0;
	return (PyObject *)self;
}

/* _core.shm_attach(name) */
static PyObject *shm_attach(PyObject *mod, PyObject *args)
{
	(void)mod;
	const char *name;
	if (!PyArg_ParseTuple(args, "s", &name))
		return NULL;
	scout_shm *s = NULL;
	int rc = scout_shm_attach(&s, name);
	if (rc < 0)
		return raise_scout(rc);
	ShmObject *self = PyObject_New(ShmObject, &ShmType);
	if (!self) {
		scout_shm_free(s);
		return NULL;
	}
	self->shm = s;
	self->exports = 0;
	return (PyObject *)self;
}

static PyObject *Shm_get_name(ShmObject *self, void *c)
{
	(void)c;
	return PyUnicode_FromString(scout_shm_name(self->shm));
}

static PyObject *Shm_get_shape(ShmObject *self, void *c)
{
	(void)c;
	return tuple_of(scout_shm_shape(self->shm), scout_shm_ndim(self->shm));
}

static PyObject *Shm_get_dtype(ShmObject *self, void *c)
{
	(void)c;
	return (PyObject *)descr_of(scout_shm_dtype(self->shm));
}

static PyObject *Shm_get_owner(ShmObject *self, void *c)
{
	(void)c;
	return PyBool_FromLong(scout_shm_is_owner(self->shm));
}

/* Shm._array() -> Array over the segment (kind "shm"), keeping self alive. */
static PyObject *Shm_array(ShmObject *self, PyObject *noargs)
{
	(void)noargs;
	scout_array *a = NULL;
	int rc = scout_shm_array(&a, self->shm);
	if (rc < 0)
		return raise_scout(rc);
	return array_new_of(&ArrayType, a, (PyObject *)self);
}

static int Shm_getbuffer(ShmObject *self, Py_buffer *view, int flags)
{
	size_t n = scout_shm_nbytes(self->shm);
	void *data = scout_shm_data(self->shm);
	static char empty;
	if (PyBuffer_FillInfo(view, (PyObject *)self, data ? data : &empty, (Py_ssize_t)n, 0,
			      flags) < 0)
		return -1;
	self->exports++;
	return 0;
}

static void Shm_releasebuffer(ShmObject *self, Py_buffer *view)
{
	(void)view;
	self->exports--;
}

static PyBufferProcs Shm_as_buffer = {(getbufferproc)Shm_getbuffer,
				      (releasebufferproc)Shm_releasebuffer};

static PyGetSetDef Shm_getset[] = {
    {"name", (getter)Shm_get_name, NULL, "segment name (/dev/shm/<name without '/'>)", NULL},
    {"shape", (getter)Shm_get_shape, NULL, "shape", NULL},
    {"dtype", (getter)Shm_get_dtype, NULL, "numpy dtype", NULL},
    {"owner", (getter)Shm_get_owner, NULL, "True when freeing this handle unlinks the segment",
     NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyMethodDef Shm_methods[] = {
    {"_array", (PyCFunction)Shm_array, METH_NOARGS, "An Array handle over the segment."},
    {NULL, NULL, 0, NULL}};

static PyTypeObject ShmType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "libscout._core.Shm",
    .tp_basicsize = sizeof(ShmObject),
    .tp_dealloc = (destructor)Shm_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A POSIX shared-memory segment of the C library (scout_shm).",
    .tp_getset = Shm_getset,
    .tp_methods = Shm_methods,
    .tp_as_buffer = &Shm_as_buffer,
};

/* ------------------------------------------------------------------------ */
/* Parallel kernels                                                         */
/* ------------------------------------------------------------------------ */

/* pmap cancel callback: runs in the calling thread every ~50 ms while the
 * GIL is released; takes the GIL to let Python handle signals (Ctrl-C). A
 * KeyboardInterrupt stays pending and the map stops. */
static int check_signals(void *payload)
{
	int *flag = payload;
	if (*flag)
		return 1;
	PyGILState_STATE g = PyGILState_Ensure();
	if (PyErr_CheckSignals() < 0)
		*flag = 1;
	PyGILState_Release(g);
	return *flag;
}

/* Finish a map run with the GIL held: pending Python exception first. */
static PyObject *map_error(int rc, int interrupted)
{
	if (interrupted && PyErr_Occurred())
		return NULL;
	return raise_scout(rc);
}

static void pmap_opts(scout_pmap_options *po, int workers, int *flag)
{
	scout_pmap_options d = SCOUT_PMAP_OPTIONS_INIT;
	*po = d;
	po->nb_workers = workers;
	po->workers = SCOUT_WORKERS_THREADS;
	po->cancel = check_signals;
	po->cancel_payload = flag;
}

/* Work chunks: the storage chunks for chunked arrays; for unchunked ones,
 * slabs along axis 0 of about 4 MiB so the threads have work to share. */
static void work_chunks(int64_t *out, scout_array *arr)
{
	int ndim = scout_array_ndim(arr);
	const int64_t *shape = scout_array_shape(arr), *ch = scout_array_chunks(arr);
	memcpy(out, ch, (size_t)ndim * sizeof *out);
	int unchunked = 1;
	for (int i = 0; i < ndim; i++)
		if (ch[i] != shape[i])
			unchunked = 0;
	if (!unchunked)
		return;
	size_t row = scout_dtype_size(scout_array_dtype(arr));
	for (int i = 1; i < ndim; i++)
		row *= (size_t)(shape[i] > 0 ? shape[i] : 1);
	int64_t rows = (int64_t)(((size_t)4 << 20) / (row ? row : 1));
	out[0] = rows < 1 ? 1 : rows;
	if (out[0] > shape[0])
		out[0] = shape[0] > 0 ? shape[0] : 1;
	for (int i = 0; i < ndim; i++)
		if (out[i] < 1)
			out[i] = 1;
}

typedef struct {
	scout_dtype dtype;
	int want_stats;
	size_t nbins;
	double lo, hi;
	scout_stats acc;
	uint64_t *hist;
	int merge_rc;
} stats_ctx;

static int box_of(int64_t *stop, size_t *n, scout_array *arr, const int64_t *start,
		  const int64_t *chunks)
{
	int ndim = scout_array_ndim(arr);
	const int64_t *shape = scout_array_shape(arr);
	*n = 1;
	for (int i = 0; i < ndim; i++) {
		stop[i] = start[i] + chunks[i] < shape[i] ? start[i] + chunks[i] : shape[i];
		*n *= (size_t)(stop[i] - start[i]);
	}
	return ndim;
}

static int stats_chunk(scout_array *arr, const int64_t *start, const int64_t *chunks,
		       scout_result *result, void *payload)
{
	stats_ctx *c = payload;
	int64_t stop[SCOUT_MAX_NDIM];
	size_t n;
	box_of(stop, &n, arr, start, chunks);
	size_t rsize = sizeof(scout_stats) + c->nbins * sizeof(uint64_t);
	unsigned char *res = calloc(1, rsize);
	void *buf = malloc(n * scout_dtype_size(c->dtype) + 1);
	int rc = SCOUT_ENOMEM;
	if (!res || !buf)
		goto done;
	scout_stats st;
	rc = scout_stats_init(&st, c->dtype);
	if (rc == 0 && n)
		rc = scout_extract_box(buf, arr, start, stop);
	if (rc == 0 && c->want_stats)
		rc = scout_stats_update(&st, buf, n);
	if (rc == 0 && c->nbins)
		rc = scout_histogram_update((uint64_t *)(void *)(res + sizeof st), c->nbins, c->lo,
					    c->hi, c->dtype, buf, n);
	if (rc == 0) {
		memcpy(res, &st, sizeof st);
		rc = scout_result_set(result, res, rsize);
	}
done:
	free(buf);
	free(res);
	return rc;
}

static void stats_merge(size_t idx, const void *data, size_t size, void *payload)
{
	(void)idx;
	stats_ctx *c = payload;
	if (c->merge_rc < 0 || size != sizeof(scout_stats) + c->nbins * sizeof(uint64_t))
		return;
	scout_stats st;
	memcpy(&st, data, sizeof st);
	if (c->want_stats && (c->merge_rc = scout_stats_merge(&c->acc, &st)) < 0)
		return;
	const unsigned char *h = (const unsigned char *)data + sizeof st;
	for (size_t i = 0; i < c->nbins; i++) {
		uint64_t v;
		memcpy(&v, h + i * sizeof v, sizeof v);
		c->hist[i] += v;
	}
}

static int stats_run(stats_ctx *c, scout_array *arr, int workers, int *flag)
{
	int64_t work[SCOUT_MAX_NDIM];
	work_chunks(work, arr);
	scout_pmap_options po;
	pmap_opts(&po, workers, flag);
	po.unordered = 1;
	po.on_result = stats_merge;
	po.on_result_payload = c;
	c->merge_rc = 0;
	int rc = scout_pmap_chunks(NULL, stats_chunk, c, arr, work, &po);
	return rc < 0 ? rc : c->merge_rc;
}

/* _core.stats(array, workers) -> dict */
static PyObject *stats_py(PyObject *mod, PyObject *args)
{
	(void)mod;
	PyObject *ao;
	int workers = 0;
	if (!PyArg_ParseTuple(args, "O|i", &ao, &workers))
		return NULL;
	scout_array *arr = array_of(ao);
	if (!arr)
		return NULL;
	stats_ctx c;
	memset(&c, 0, sizeof c);
	c.dtype = scout_array_dtype(arr);
	c.want_stats = 1;
	int rc = scout_stats_init(&c.acc, c.dtype), flag = 0;
	if (rc < 0)
		return raise_scout(rc);
	scout_stats_result r;
	Py_BEGIN_ALLOW_THREADS rc = stats_run(&c, arr, workers, &flag);
	if (rc == 0)
		rc = scout_stats_finish(&r, &c.acc);
	Py_END_ALLOW_THREADS if (rc < 0) return map_error(rc, flag);
	int is_int = !scout_dtype_is_float(c.dtype);
	PyObject *sum, *mn, *mx;
	if (is_int) {
		sum = PyLong_FromString(r.sum_str, NULL, 10);
		mn = r.count ? PyLong_FromString(r.min_str, NULL, 10) : PyFloat_FromDouble(NAN);
		mx = r.count ? PyLong_FromString(r.max_str, NULL, 10) : PyFloat_FromDouble(NAN);
	} else {
		sum = PyFloat_FromDouble(r.sum);
		mn = PyFloat_FromDouble(r.min);
		mx = PyFloat_FromDouble(r.max);
	}
	if (!sum || !mn || !mx) {
		Py_XDECREF(sum);
		Py_XDECREF(mn);
		Py_XDECREF(mx);
		return NULL;
	}
	return Py_BuildValue("{s:s,s:K,s:K,s:N,s:N,s:N,s:d,s:d}", "dtype",
			     scout_dtype_name(c.dtype), "count", (unsigned long long)r.count,
			     "nan_count", (unsigned long long)r.nan_count, "sum", sum, "min", mn,
			     "max", mx, "mean", r.mean, "std", r.std);
}

/* _core.histogram(array, bins, lo, hi, workers) -> (counts uint64, edges float64) */
static PyObject *histogram_py(PyObject *mod, PyObject *args)
{
	(void)mod;
	PyObject *ao;
	Py_ssize_t bins;
	double lo, hi;
	int workers = 0;
	if (!PyArg_ParseTuple(args, "Ondd|i", &ao, &bins, &lo, &hi, &workers))
		return NULL;
	scout_array *arr = array_of(ao);
	if (!arr)
		return NULL;
	if (bins < 1)
		return PyErr_Format(PyExc_ValueError, "bins must be >= 1");
	npy_intp nb = bins, ne = bins + 1;
	PyObject *counts = PyArray_ZEROS(1, &nb, NPY_UINT64, 0);
	PyObject *edges = PyArray_ZEROS(1, &ne, NPY_FLOAT64, 0);
	if (!counts || !edges)
		goto fail;
	int rc = scout_histogram_edges(PyArray_DATA((PyArrayObject *)edges), (size_t)bins, lo, hi);
	if (rc < 0) {
		raise_scout(rc);
		goto fail;
	}
	stats_ctx c;
	memset(&c, 0, sizeof c);
	c.dtype = scout_array_dtype(arr);
	c.nbins = (size_t)bins;
	c.lo = lo;
	c.hi = hi;
	c.hist = PyArray_DATA((PyArrayObject *)counts);
	int flag = 0;
	if ((rc = scout_stats_init(&c.acc, c.dtype)) < 0) {
		raise_scout(rc);
		goto fail;
	}
	Py_BEGIN_ALLOW_THREADS rc = stats_run(&c, arr, workers, &flag);
	Py_END_ALLOW_THREADS if (rc < 0)
	{
		map_error(rc, flag);
		goto fail;
	}
	return Py_BuildValue("NN", counts, edges);
fail:
	Py_XDECREF(counts);
	Py_XDECREF(edges);
	return NULL;
}

/* Copy the box [off, off + ext) of a C-contiguous src of shape sshape into a
 * C-contiguous dst of shape ext (element size isz). */
static void copy_box(char *dst, const char *src, const int64_t *sshape, const int64_t *off,
		     const int64_t *ext, int ndim, size_t isz)
{
	if (ndim == 1) {
		memcpy(dst, src + (size_t)off[0] * isz, (size_t)ext[0] * isz);
		return;
	}
	size_t sstride = isz, dstride = isz;
	for (int i = 1; i < ndim; i++) {
		sstride *= (size_t)sshape[i];
		dstride *= (size_t)ext[i];
	}
	for (int64_t k = 0; k < ext[0]; k++)
		copy_box(dst + (size_t)k * dstride, src + (size_t)(off[0] + k) * sstride,
			 sshape + 1, off + 1, ext + 1, ndim - 1, isz);
}

typedef struct {
	scout_array *dst;
	scout_dtype in_type, out_type;
	double sigma[SCOUT_MAX_NDIM];
	int64_t radius[SCOUT_MAX_NDIM]; /* blur radius */
	int64_t dist[SCOUT_MAX_NDIM];   /* peaks: min_distance */
	int64_t ghost[SCOUT_MAX_NDIM];
	double threshold;
} filter_ctx;

/* Read the ghosted block of a chunk as float32 and blur it in place. */
static int ghosted_blurred(float **f_out, int64_t *gstart, int64_t *gshape, scout_array *arr,
			   const int64_t *start, const int64_t *chunks, const filter_ctx *c)
{
	int ndim = scout_array_ndim(arr);
	const int64_t *shape = scout_array_shape(arr);
	size_t gmax = 1;
	for (int i = 0; i < ndim; i++) {
		int64_t g = chunks[i] + 2 * c->ghost[i];
		gmax *= (size_t)(g < shape[i] ? g : shape[i]);
	}
	void *raw =
	    c->in_type == SCOUT_FLOAT32 ? NULL : malloc(gmax * scout_dtype_size(c->in_type));
	float *f = malloc(gmax * sizeof(float) + 1);
	int rc;
	if ((!raw && c->in_type != SCOUT_FLOAT32) || !f) {
		rc = SCOUT_ENOMEM;
		goto fail;
	}
	rc = scout_extract_ghosted_chunk(raw ? raw : (void *)f, gstart, gshape, arr, start, chunks,
					 c->ghost);
	if (rc < 0)
		goto fail;
	size_t gn = 1;
	for (int i = 0; i < ndim; i++)
		gn *= (size_t)gshape[i];
	if (raw && (rc = scout_to_float32(f, raw, c->in_type, gn)) < 0)
		goto fail;
	if ((rc = scout_gaussian_filter(f, f, ndim, gshape, c->sigma, 4.0)) < 0)
		goto fail;
	free(raw);
	*f_out = f;
	return 0;
fail:
	free(raw);
	free(f);
	return rc;
}

static int blur_chunk(scout_array *arr, const int64_t *start, const int64_t *chunks,
		      scout_result *result, void *payload)
{
	(void)result;
	filter_ctx *c = payload;
	int64_t gstart[SCOUT_MAX_NDIM], gshape[SCOUT_MAX_NDIM], stop[SCOUT_MAX_NDIM];
	int64_t ext[SCOUT_MAX_NDIM], off[SCOUT_MAX_NDIM];
	size_t n;
	int ndim = box_of(stop, &n, arr, start, chunks);
	if (n == 0)
		return 0;
	float *f = NULL;
	int rc = ghosted_blurred(&f, gstart, gshape, arr, start, chunks, c);
	if (rc < 0)
		return rc;
	for (int i = 0; i < ndim; i++) {
		ext[i] = stop[i] - start[i];
		off[i] = start[i] - gstart[i];
	}
	float *interior = malloc(n * sizeof(float));
	void *outb =
	    c->out_type == SCOUT_FLOAT32 ? NULL : malloc(n * scout_dtype_size(c->out_type));
	if (!interior || (!outb && c->out_type != SCOUT_FLOAT32)) {
		rc = SCOUT_ENOMEM;
		goto done;
	}
	copy_box((char *)interior, (const char *)f, gshape, off, ext, ndim, sizeof(float));
	if (outb && (rc = scout_from_float32(outb, c->out_type, interior, n)) < 0)
		goto done;
	rc = scout_insert_box(c->dst, start, stop, outb ? outb : (void *)interior);
done:
	free(f);
	free(interior);
	free(outb);
	return rc;
}

static int parse_sigma(double *sigma, PyObject *o, int ndim)
{
	if (PyNumber_Check(o) && !PySequence_Check(o)) {
		double s = PyFloat_AsDouble(o);
		if (s == -1.0 && PyErr_Occurred())
			return -1;
		for (int i = 0; i < ndim; i++)
			sigma[i] = s;
		return 0;
	}
	PyObject *fast = PySequence_Fast(o, "sigma must be a number or a sequence");
	if (!fast)
		return -1;
	if (PySequence_Fast_GET_SIZE(fast) != ndim) {
		Py_DECREF(fast);
		PyErr_Format(PyExc_ValueError, "sigma needs 1 or %d values", ndim);
		return -1;
	}
	for (int i = 0; i < ndim; i++) {
		sigma[i] = PyFloat_AsDouble(PySequence_Fast_GET_ITEM(fast, i));
		if (sigma[i] == -1.0 && PyErr_Occurred()) {
			Py_DECREF(fast);
			return -1;
		}
	}
	Py_DECREF(fast);
	return 0;
}

/* _core.blur(src, dst, sigma, workers): dst has src's shape. */
static PyObject *blur_py(PyObject *mod, PyObject *args)
{
	(void)mod;
	PyObject *so, *dobj, *sig;
	int workers = 0;
	if (!PyArg_ParseTuple(args, "OOO|i", &so, &dobj, &sig, &workers))
		return NULL;
	scout_array *src = array_of(so), *dst = src ? array_of(dobj) : NULL;
	if (!dst)
		return NULL;
	int ndim = scout_array_ndim(src);
	if (scout_array_ndim(dst) != ndim ||
	    memcmp(scout_array_shape(src), scout_array_shape(dst), (size_t)ndim * sizeof(int64_t)))
		return PyErr_Format(PyExc_ValueError, "blur: src and dst must have the same shape");
	filter_ctx c;
	memset(&c, 0, sizeof c);
	c.dst = dst;
	c.in_type = scout_array_dtype(src);
	c.out_type = scout_array_dtype(dst);
	if (parse_sigma(c.sigma, sig, ndim) < 0)
		return NULL;
	int rc = scout_gaussian_radius(c.radius, ndim, c.sigma, 4.0);
	if (rc < 0)
		return raise_scout(rc);
	memcpy(c.ghost, c.radius, sizeof c.ghost);
	int64_t work[SCOUT_MAX_NDIM];
	work_chunks(work, dst); /* whole output chunks: writers never share one */
	int flag = 0;
	scout_pmap_options po;
	pmap_opts(&po, workers, &flag);
	Py_BEGIN_ALLOW_THREADS rc = scout_pmap_chunks(NULL, blur_chunk, &c, src, work, &po);
	Py_END_ALLOW_THREADS if (rc < 0) return map_error(rc, flag);
	Py_RETURN_NONE;
}

static int peaks_chunk(scout_array *arr, const int64_t *start, const int64_t *chunks,
		       scout_result *result, void *payload)
{
	filter_ctx *c = payload;
	int64_t gstart[SCOUT_MAX_NDIM], gshape[SCOUT_MAX_NDIM], stop[SCOUT_MAX_NDIM];
	int64_t istart[SCOUT_MAX_NDIM], istop[SCOUT_MAX_NDIM];
	size_t n, count = 0;
	int ndim = box_of(stop, &n, arr, start, chunks);
	if (n == 0)
		return 0;
	float *f = NULL;
	int64_t *pts = NULL;
	int rc = ghosted_blurred(&f, gstart, gshape, arr, start, chunks, c);
	if (rc < 0)
		return rc;
	for (int i = 0; i < ndim; i++) {
		istart[i] = start[i] - gstart[i];
		istop[i] = stop[i] - gstart[i];
	}
	rc =
	    scout_local_maxima(&pts, &count, f, ndim, gshape, c->dist, c->threshold, istart, istop);
	if (rc == 0 && count)
		rc = scout_filter_ghosted_points(pts, &count, gstart, start, chunks, pts, count,
						 ndim);
	if (rc == 0)
		rc = scout_result_set(result, pts, count * (size_t)ndim * sizeof(int64_t));
	scout_free(pts);
	free(f);
	return rc;
}

static _Thread_local int sort_ndim;

static int cmp_points(const void *a, const void *b)
{
	const int64_t *p = a, *q = b;
	for (int i = 0; i < sort_ndim; i++)
		if (p[i] != q[i])
			return p[i] < q[i] ? -1 : 1;
	return 0;
}

/* _core.peaks(array, sigma, min_distance, threshold, workers) -> (N, ndim) int64 */
static PyObject *peaks_py(PyObject *mod, PyObject *args)
{
	(void)mod;
	PyObject *ao, *sig;
	long long mind;
	double threshold;
	int workers = 0;
	if (!PyArg_ParseTuple(args, "OOLd|i", &ao, &sig, &mind, &threshold, &workers))
		return NULL;
	scout_array *arr = array_of(ao);
	if (!arr)
		return NULL;
	if (mind < 0)
		return PyErr_Format(PyExc_ValueError, "min_distance must be >= 0");
	int ndim = scout_array_ndim(arr);
	filter_ctx c;
	memset(&c, 0, sizeof c);
	c.in_type = scout_array_dtype(arr);
	c.threshold = threshold;
	if (parse_sigma(c.sigma, sig, ndim) < 0)
		return NULL;
	int rc = scout_gaussian_radius(c.radius, ndim, c.sigma, 4.0);
	if (rc < 0)
		return raise_scout(rc);
	for (int i = 0; i < ndim; i++) {
		c.dist[i] = mind;
		c.ghost[i] = c.radius[i] + mind;
	}
	int64_t work[SCOUT_MAX_NDIM];
	work_chunks(work, arr);
	int flag = 0;
	scout_pmap_options po;
	pmap_opts(&po, workers, &flag);
	scout_results *res = NULL;
	Py_BEGIN_ALLOW_THREADS rc = scout_pmap_chunks(&res, peaks_chunk, &c, arr, work, &po);
	Py_END_ALLOW_THREADS if (rc < 0) return map_error(rc, flag);
	size_t total = 0, nres = scout_results_count(res), row = (size_t)ndim * sizeof(int64_t);
	for (size_t i = 0; i < nres; i++) {
		size_t sz = 0;
		scout_results_get(res, i, &sz);
		total += sz / row;
	}
	npy_intp dims[2] = {(npy_intp)total, ndim};
	PyObject *out = PyArray_ZEROS(2, dims, NPY_INT64, 0);
	if (!out) {
		scout_results_free(res);
		return NULL;
	}
	char *o = PyArray_DATA((PyArrayObject *)out);
	for (size_t i = 0, k = 0; i < nres; i++) {
		size_t sz = 0;
		const void *d = scout_results_get(res, i, &sz);
		sz -= sz % row;
		if (sz)
			memcpy(o + k * row, d, sz);
		k += sz / row;
	}
	scout_results_free(res);
	sort_ndim = ndim;
	qsort(o, total, row, cmp_points);
	return out;
}

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
