/*
 * The memory backend: one C-contiguous native-endian block, owned
 * (scout_array_new) or wrapped (scout_array_wrap). Also used by the shm
 * backend through scout__memory_ops-like reads and writes on arr->data.
 */
#include <stdlib.h>
#include <string.h>

#include "array_impl.h"
#include "memory.h"

int scout__memory_read(scout_array *arr, void *dst, const int64_t *start, const int64_t *stop)
{
	int64_t ext[SCOUT_MAX_NDIM], zero[SCOUT_MAX_NDIM] = {0};
	for (int i = 0; i < arr->ndim; i++)
		ext[i] = stop[i] - start[i];
	scout__copy_nd(dst, ext, zero, arr->data, arr->shape, start, ext, arr->ndim, arr->itemsize);
	return SCOUT_OK;
}

int scout__memory_write(scout_array *arr, const int64_t *start, const int64_t *stop,
			const void *src)
{
	int64_t ext[SCOUT_MAX_NDIM], zero[SCOUT_MAX_NDIM] = {0};
	for (int i = 0; i < arr->ndim; i++)
		ext[i] = stop[i] - start[i];
	scout__copy_nd(arr->data, arr->shape, start, src, ext, zero, ext, arr->ndim, arr->itemsize);
	return SCOUT_OK;
}

static void owned_destroy(scout_array *arr)
{
	free(arr->data);
	arr->data = NULL;
}

static const scout_array_ops owned_ops = {
    .kind = "memory",
    .read = scout__memory_read,
    .write = scout__memory_write,
    .destroy = owned_destroy,
};

static const scout_array_ops wrapped_ops = {
    .kind = "memory",
    .read = scout__memory_read,
    .write = scout__memory_write,
};

int scout_array_new(scout_array **out, int ndim, const int64_t *shape, scout_dtype dtype)
{
	if (!out)
		return scout__error(SCOUT_EINVAL, "array_new: out is NULL");
	*out = NULL;
	scout_array *a;
	int rc = scout__array_alloc(&a, &owned_ops, ndim, shape, NULL, dtype, 1);
	if (rc < 0)
		return rc;
	a->data = calloc(a->nbytes ? a->nbytes : 1, 1);
	if (!a->data) {
		size_t nbytes = a->nbytes;
		free(a);
		return scout__error(SCOUT_ENOMEM, "array_new: cannot allocate %zu bytes", nbytes);
	}
	*out = a;
	return SCOUT_OK;
}

int scout_array_wrap(scout_array **out, void *data, int ndim, const int64_t *shape,
		     scout_dtype dtype)
{
	if (!out)
		return scout__error(SCOUT_EINVAL, "array_wrap: out is NULL");
	*out = NULL;
	scout_array *a;
	int rc = scout__array_alloc(&a, &wrapped_ops, ndim, shape, NULL, dtype, 1);
	if (rc < 0)
		return rc;
	if (!data && a->nbytes) {
		free(a);
		return scout__error(SCOUT_EINVAL, "array_wrap: data is NULL");
	}
	a->data = data;
	*out = a;
	return SCOUT_OK;
}
