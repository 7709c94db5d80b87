/*
 * A read-only array whose elements are those of another array cast to another
 * dtype (core/cast.c's rules), read box by box.
 */
#include <stdlib.h>

#include "../core/cast.h"
#include "array_impl.h"
#include "cast_view.h"

typedef struct {
	scout_array *src;
	int (*poll)(void);
} cast_view;

static int view_read(scout_array *arr, void *dst, const int64_t *start, const int64_t *stop)
{
	cast_view *v = arr->impl;
	int rc = v->poll ? v->poll() : 0;
	if (rc < 0)
		return rc;
	scout_dtype st = scout_array_dtype(v->src);
	if (st == arr->dtype)
		return scout_extract_box(dst, v->src, start, stop);
	size_t n = 1;
	for (int i = 0; i < arr->ndim; i++)
		n *= (size_t)(stop[i] - start[i]);
	size_t isz = scout_dtype_size(st);
	void *tmp = malloc(n * isz + 1);
	if (!tmp)
		return scout__error(SCOUT_ENOMEM, "cannot allocate %zu bytes", n * isz);
	rc = scout_extract_box(tmp, v->src, start, stop);
	if (rc == 0)
		scout__cast_values(dst, arr->dtype, tmp, st, n);
	free(tmp);
	return rc;
}

static void view_destroy(scout_array *arr)
{
	free(arr->impl);
	arr->impl = NULL;
}

static const scout_array_ops view_ops = {
    .kind = "cast-view",
    .read = view_read,
    .destroy = view_destroy,
};

int scout__array_cast_view(scout_array **out, scout_array *src, scout_dtype dtype,
			   int (*poll)(void))
{
	if (!scout__cast_supported(scout_array_dtype(src), dtype))
		return scout__error(SCOUT_EUNSUPPORTED, "cannot convert %s to %s",
				    scout_dtype_name(scout_array_dtype(src)),
				    scout_dtype_name(dtype));
	cast_view *v = calloc(1, sizeof *v);
	if (!v)
		return scout__error(SCOUT_ENOMEM, "out of memory");
	v->src = src;
	v->poll = poll;
	scout_array *a;
	int rc = scout__array_alloc(&a, &view_ops, scout_array_ndim(src), scout_array_shape(src),
				    scout_array_chunks(src), dtype, 0);
	if (rc < 0) {
		free(v);
		return rc;
	}
	a->impl = v;
	*out = a;
	return SCOUT_OK;
}
