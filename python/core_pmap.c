/* libscout._core._pmap_native: f(arr, start, chunks) run by the C library's
 * own pmap runner (threads taking the GIL, or forked processes). */
#include "core.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* The other pmap_chunks design, for measurement: the C runner calling f    */
/* ------------------------------------------------------------------------ */

typedef struct {
	PyObject *f, *arr, *chunks, *pickle_dumps, *pickle_loads, *results;
	int processes;
	PyObject *et, *ev, *tb; /* threads: the first exception f raised */
	int interrupted;        /* threads: Ctrl-C seen by the cancel callback */
} native_ctx;

/* Call f(arr, start, chunks) for one chunk: with the GIL taken (threads), or
 * in a forked worker that holds it (processes: the parent kept the GIL, so the
 * child, a copy of that thread, owns it). The result goes back pickled. */
static int native_chunk(scout_array *a, const int64_t *start, const int64_t *chunks,
			scout_result *result, void *payload)
{
	native_ctx *c = payload;
	PyGILState_STATE g = 0;
	if (!c->processes)
		g = PyGILState_Ensure();
	int rc = 0, ndim = scout_array_ndim(a);
	npy_intp n = ndim;
	PyObject *st = PyArray_SimpleNew(1, &n, NPY_INT64), *r = NULL, *b = NULL;
	if (st) {
		memcpy(PyArray_DATA((PyArrayObject *)st), start, (size_t)ndim * sizeof *start);
		r = PyObject_CallFunctionObjArgs(c->f, c->arr, st, c->chunks, NULL);
	}
	if (r && !c->processes) {
		/* threads: the object itself, at the chunk's index of the grid */
		const int64_t *shape = scout_array_shape(a);
		Py_ssize_t idx = 0;
		for (int i = 0; i < ndim; i++) {
			int64_t nb = (shape[i] + chunks[i] - 1) / chunks[i];
			idx = idx * (Py_ssize_t)nb + (Py_ssize_t)(start[i] / chunks[i]);
		}
		PyList_SetItem(c->results, idx, r); /* steals r */
		r = NULL;
		b = Py_NewRef(Py_None);
	} else if (r) {
		b = PyObject_CallOneArg(c->pickle_dumps, r);
	}
	if (b && c->processes)
		rc = scout_result_set(result, PyBytes_AS_STRING(b), (size_t)PyBytes_GET_SIZE(b));
	if (!b) {
		if (c->processes)
			PyErr_Print(); /* the worker's stderr; the map fails with EWORKER */
		else if (!c->et)
			PyErr_Fetch(&c->et, &c->ev, &c->tb); /* re-raised by the caller */
		else
			PyErr_Clear();
		rc = SCOUT_EWORKER;
	}
	Py_XDECREF(st);
	Py_XDECREF(r);
	Py_XDECREF(b);
	if (!c->processes)
		PyGILState_Release(g);
	return rc;
}

/* _core._pmap_native(f, arr, handle, chunks, workers, processes) -> list of
 * results: f(arr, start, chunks) for every chunk of the grid over handle's
 * shape (handle: arr itself or a libscout handle of the same shape) */
PyObject *pmap_native(PyObject *mod, PyObject *args)
{
	(void)mod;
	native_ctx c;
	memset(&c, 0, sizeof c);
	PyObject *chunks_obj, *handle;
	int workers;
	if (!PyArg_ParseTuple(args, "OOOOii", &c.f, &c.arr, &handle, &chunks_obj, &workers,
			      &c.processes))
		return NULL;
	scout_array *arr = array_of(handle);
	if (!arr)
		return NULL;
	int ndim = scout_array_ndim(arr);
	int64_t ch[SCOUT_MAX_NDIM];
	if (parse_coords(ch, chunks_obj, ndim, "chunks") < 0)
		return NULL;
	PyObject *pickle = PyImport_ImportModule("pickle");
	if (!pickle)
		return NULL;
	c.pickle_dumps = PyObject_GetAttrString(pickle, "dumps");
	c.pickle_loads = PyObject_GetAttrString(pickle, "loads");
	Py_DECREF(pickle);
	c.chunks = tuple_of(ch, ndim);
	if (!c.pickle_dumps || !c.pickle_loads || !c.chunks)
		goto done;
	scout_pmap_options po = SCOUT_PMAP_OPTIONS_INIT;
	po.nb_workers = workers;
	po.workers = c.processes ? SCOUT_WORKERS_PROCESSES : SCOUT_WORKERS_THREADS;
	if (!c.processes) {
		po.cancel = check_signals;
		po.cancel_payload = &c.interrupted;
	}
	scout_results *res = NULL;
	int rc;
	size_t count = 0;
	if ((rc = scout_chunk_count(&count, ndim, scout_array_shape(arr), ch)) < 0) {
		raise_scout(rc);
		goto done;
	}
	if (!c.processes) {
		c.results = PyList_New((Py_ssize_t)count);
		if (!c.results)
			goto done;
		for (size_t i = 0; i < count; i++)
			PyList_SET_ITEM(c.results, (Py_ssize_t)i, Py_NewRef(Py_None));
	}
	((ArrayObject *)handle)->busy++;
	if (c.processes) {
		rc = scout_pmap_chunks(&res, native_chunk, &c, arr, ch, &po);
	} else {
		GIL_RELEASE();
		rc = scout_pmap_chunks(&res, native_chunk, &c, arr, ch, &po);
		GIL_ACQUIRE();
	}
	((ArrayObject *)handle)->busy--;
	if (rc < 0) {
		if (c.interrupted && PyErr_Occurred()) {
			/* KeyboardInterrupt (pending) wins over a failure it caused */
		} else if (c.et) {
			PyErr_Restore(c.et, c.ev, c.tb);
			c.et = c.ev = c.tb = NULL;
		} else {
			raise_scout(rc);
		}
		Py_CLEAR(c.results);
		goto done;
	}
	if (!c.processes) {
		scout_results_free(res);
		goto done;
	}
	size_t nres = scout_results_count(res);
	c.results = PyList_New((Py_ssize_t)nres);
	for (size_t i = 0; c.results && i < nres; i++) {
		size_t sz = 0;
		const void *d = scout_results_get(res, i, &sz);
		PyObject *bytes = PyBytes_FromStringAndSize(d ? d : "", (Py_ssize_t)sz);
		PyObject *v = bytes ? PyObject_CallOneArg(c.pickle_loads, bytes) : NULL;
		Py_XDECREF(bytes);
		if (!v) {
			Py_CLEAR(c.results);
			break;
		}
		PyList_SET_ITEM(c.results, (Py_ssize_t)i, v);
	}
	scout_results_free(res);
done:
	Py_XDECREF(c.et);
	Py_XDECREF(c.ev);
	Py_XDECREF(c.tb);
	Py_XDECREF(c.pickle_dumps);
	Py_XDECREF(c.pickle_loads);
	Py_XDECREF(c.chunks);
	return c.results;
}
