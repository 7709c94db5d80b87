/* The scout_array handle: accessors and box I/O dispatched to a backend. */
#include <stdlib.h>
#include <string.h>

#include "array_impl.h"
#include "array_internal.h"

int scout__array_alloc(scout_array **out, const scout_array_ops *ops, int ndim,
		       const int64_t *shape, const int64_t *chunks, scout_dtype dtype, int writable)
{
	if (!out)
		return scout__error(SCOUT_EINVAL, "array: out is NULL");
	*out = NULL;
	size_t itemsize = scout_dtype_size(dtype);
	if (itemsize == 0)
		return scout__error(SCOUT_EINVAL, "array: invalid dtype %d", (int)dtype);
	size_t nelems, nbytes;
	int rc = scout__shape_size(&nelems, &nbytes, ndim, shape, itemsize);
	if (rc < 0)
		return rc;
	if (chunks) {
		rc = scout__check_chunks(ndim, chunks, "array");
		if (rc < 0)
			return rc;
	}
	scout_array *a = calloc(1, sizeof *a);
	if (!a)
		return scout__error(SCOUT_ENOMEM, "array: out of memory");
	a->ops = ops;
	a->ndim = ndim;
	for (int i = 0; i < ndim; i++) {
		a->shape[i] = shape[i];
		a->chunks[i] = chunks ? chunks[i] : shape[i];
		a->write_chunks[i] = a->chunks[i];
	}
	a->dtype = dtype;
	a->itemsize = itemsize;
	a->nelems = nelems;
	a->nbytes = nbytes;
	a->writable = writable;
	*out = a;
	return SCOUT_OK;
}

void scout_array_free(scout_array *arr)
{
	if (!arr)
		return;
	if (arr->ops && arr->ops->destroy)
		arr->ops->destroy(arr);
	free(arr);
}

void scout__array_after_fork(scout_array *arr)
{
	if (arr->ops->after_fork)
		arr->ops->after_fork(arr);
}

int scout_array_ndim(const scout_array *arr)
{
	return arr ? arr->ndim : 0;
}

const int64_t *scout_array_shape(const scout_array *arr)
{
	return arr ? arr->shape : NULL;
}

const int64_t *scout_array_chunks(const scout_array *arr)
{
	return arr ? arr->chunks : NULL;
}

const int64_t *scout_array_write_chunks(const scout_array *arr)
{
	return arr ? arr->write_chunks : NULL;
}

scout_dtype scout_array_dtype(const scout_array *arr)
{
	return arr ? arr->dtype : SCOUT_DTYPE_COUNT;
}

const char *scout_array_kind(const scout_array *arr)
{
	return arr && arr->ops ? arr->ops->kind : NULL;
}

int scout_array_writable(const scout_array *arr)
{
	return arr ? arr->writable : 0;
}

void *scout_array_data(scout_array *arr)
{
	return arr ? arr->data : NULL;
}

size_t scout_array_nbytes(const scout_array *arr)
{
	return arr ? arr->nbytes : 0;
}

static int box_is_empty(int ndim, const int64_t *start, const int64_t *stop)
{
	for (int i = 0; i < ndim; i++)
		if (stop[i] == start[i])
			return 1;
	return 0;
}

int scout_extract_box(void *dst, scout_array *arr, const int64_t *start, const int64_t *stop)
{
	if (!arr)
		return scout__error(SCOUT_EINVAL, "extract_box: array is NULL");
	int rc = scout__check_box(arr->ndim, arr->shape, start, stop);
	if (rc < 0)
		return rc;
	if (box_is_empty(arr->ndim, start, stop))
		return SCOUT_OK;
	if (!dst)
		return scout__error(SCOUT_EINVAL, "extract_box: destination is NULL");
	return arr->ops->read(arr, dst, start, stop);
}

int scout_insert_box(scout_array *arr, const int64_t *start, const int64_t *stop, const void *src)
{
	if (!arr)
		return scout__error(SCOUT_EINVAL, "insert_box: array is NULL");
	if (!arr->writable || !arr->ops->write)
		return scout__error(SCOUT_EREADONLY, "insert_box: the %s array is read-only",
				    arr->ops->kind);
	int rc = scout__check_box(arr->ndim, arr->shape, start, stop);
	if (rc < 0)
		return rc;
	if (box_is_empty(arr->ndim, start, stop))
		return SCOUT_OK;
	if (!src)
		return scout__error(SCOUT_EINVAL, "insert_box: source is NULL");
	return arr->ops->write(arr, start, stop, src);
}
