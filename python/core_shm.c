/* libscout._core.Shm: a shared-memory segment of the C library, exposed
 * through the buffer protocol (numpy views without a copy). */
#include "core.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Shared memory                                                            */
/* ------------------------------------------------------------------------ */

static void Shm_dealloc(ShmObject *self)
{
	scout_shm_free(self->shm);
	self->shm = NULL;
	Py_TYPE(self)->tp_free((PyObject *)self);
}

/* _core.shm_create(shape, typestr) */
PyObject *shm_create(PyObject *mod, PyObject *args)
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
PyObject *shm_attach(PyObject *mod, PyObject *args)
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

PyTypeObject ShmType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "libscout._core.Shm",
    .tp_basicsize = sizeof(ShmObject),
    .tp_dealloc = (destructor)Shm_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A POSIX shared-memory segment of the C library (scout_shm).",
    .tp_getset = Shm_getset,
    .tp_methods = Shm_methods,
    .tp_as_buffer = &Shm_as_buffer,
};
