/* libscout._core.Array: an array handle of the C library (Zarr, TIFF, memory),
 * box reads and writes with the GIL released; wrap() of numpy memory. */
#include "core.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Array                                                                    */
/* ------------------------------------------------------------------------ */

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
		GIL_RELEASE();
		scout_array_free(a);
		GIL_ACQUIRE();
	}
	Py_CLEAR(self->owner);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Make an instance of type (ArrayType or a Python subclass) around arr. */
PyObject *array_new_of(PyTypeObject *type, scout_array *arr, PyObject *owner)
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
	GIL_RELEASE();
	rc = scout_array_open(&a, path, m);
	GIL_ACQUIRE();
	Py_DECREF(pathobj);
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
	GIL_RELEASE();
	rc = scout_zarr_create(&a, path, &o);
	GIL_ACQUIRE();
	Py_DECREF(pathobj);
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
PyObject *wrap_ndarray(PyObject *mod, PyObject *args)
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
	if (dtype_from_numpy(PyArray_DESCR(nd), &dt) < 0)
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
	self->busy++;
	GIL_RELEASE();
	rc = scout_extract_box(dst, self->arr, start, stop);
	GIL_ACQUIRE();
	self->busy--;
	if (rc < 0) {
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
	if (dtype_from_numpy(PyArray_DESCR(src), &dt) < 0)
		return NULL;
	if (dt != scout_array_dtype(self->arr) || !PyArray_IS_C_CONTIGUOUS(src) ||
	    !PyArray_ISNOTSWAPPED(src) || (size_t)PyArray_SIZE(src) != n)
		return PyErr_Format(PyExc_ValueError,
				    "_write needs a C-contiguous native array of the box's "
				    "size and the array's dtype");
	const void *data = PyArray_DATA(src);
	int rc;
	self->busy++;
	GIL_RELEASE();
	rc = scout_insert_box(self->arr, start, stop, data);
	GIL_ACQUIRE();
	self->busy--;
	if (rc < 0)
		return raise_scout(rc);
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
	if (self->busy)
		return PyErr_Format(PyExc_ValueError,
				    "cannot close a libscout array while another thread uses it");
	scout_array *a = self->arr;
	self->arr = NULL;
	if (a) {
		GIL_RELEASE();
		scout_array_free(a);
		GIL_ACQUIRE();
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

PyTypeObject ArrayType = {
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

scout_array *array_of(PyObject *o)
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
