/* libscout._core: what the other core_*.c files share: C error codes as Python
 * exceptions, conversions between Python values and the C API's (coordinates,
 * dtypes), and the pmap options with the hook that lets Ctrl-C stop a map. */
#include "core.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

static PyObject *error_classes; /* dict: int code -> exception class */
static PyObject *error_base;    /* libscout.Error, or RuntimeError before registration */

/* Raise the exception of a SCOUT_E* code with the thread's last message. */
PyObject *raise_scout(int code)
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
	const char *text = msg && *msg ? msg : scout_strerror(code);
	/* file names need not be UTF-8: keep their bytes visible */
	PyObject *m = PyUnicode_DecodeUTF8(text, (Py_ssize_t)strlen(text), "backslashreplace");
	if (!m)
		return NULL;
	PyObject *exc = PyObject_CallOneArg(cls, m);
	Py_DECREF(m);
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

PyObject *set_error_classes(PyObject *self, PyObject *args)
{
	(void)self;
	PyObject *d, *base;
	if (!PyArg_ParseTuple(args, "O!O", &PyDict_Type, &d, &base))
		return NULL;
	Py_XSETREF(error_classes, Py_NewRef(d));
	Py_XSETREF(error_base, Py_NewRef(base));
	Py_RETURN_NONE;
}

PyObject *strerror_py(PyObject *self, PyObject *args)
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
int parse_coords(int64_t *out, PyObject *seq, int ndim, const char *what)
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

PyObject *tuple_of(const int64_t *v, int n)
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
PyArray_Descr *descr_of(scout_dtype dt)
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
int dtype_from_numpy(PyArray_Descr *d, scout_dtype *out)
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

/* pmap cancel callback: runs in the calling thread every ~50 ms while the
 * GIL is released; takes the GIL to let Python handle signals (Ctrl-C). A
 * KeyboardInterrupt stays pending and the map stops. */
int check_signals(void *payload)
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
PyObject *map_error(int rc, int interrupted)
{
	if (interrupted && PyErr_Occurred())
		return NULL;
	return raise_scout(rc);
}

void pmap_opts(scout_pmap_options *po, int workers, int *flag)
{
	scout_pmap_options d = SCOUT_PMAP_OPTIONS_INIT;
	*po = d;
	po->nb_workers = workers;
	po->workers = SCOUT_WORKERS_THREADS;
	po->cancel = check_signals;
	po->cancel_payload = flag;
}
