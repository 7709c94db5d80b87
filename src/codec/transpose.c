/*
 * The Zarr v3 "transpose" codec (array->array): {"order": [a permutation]}.
 * Encoding gives the array whose axis i is the input's axis order[i]; so
 * order [n-1, ..., 0] stores a C-order chunk in Fortran order, which is how a
 * Zarr v2 "order": "F" maps onto it. "C" and "F" strings (early v3 drafts)
 * are accepted and normalised to lists.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec_impl.h"

typedef struct {
	scout_stage base;
	int order[SCOUT_MAX_NDIM];
	int inverse[SCOUT_MAX_NDIM];
} transpose_stage;

#define PERMUTE_LOOP(T)                                                                            \
	do {                                                                                       \
		T *d = dst;                                                                        \
		const T *sp = src;                                                                 \
		for (;;) {                                                                         \
			const T *p = sp + off;                                                     \
			for (int64_t k = 0; k < inner; k++)                                        \
				*d++ = p[k * istr];                                                \
			int ax = ndim - 2;                                                         \
			while (ax >= 0) {                                                          \
				idx[ax]++;                                                         \
				off += str[ax];                                                    \
				if (idx[ax] < dshape[ax])                                          \
					break;                                                     \
				off -= str[ax] * dshape[ax];                                       \
				idx[ax] = 0;                                                       \
				ax--;                                                              \
			}                                                                          \
			if (ax < 0)                                                                \
				return;                                                            \
		}                                                                                  \
	} while (0)

void scout__permute_axes(void *dst, const void *src, const int64_t *src_shape, const int *perm,
			 int ndim, size_t itemsize)
{
	int64_t sstr[SCOUT_MAX_NDIM], str[SCOUT_MAX_NDIM], dshape[SCOUT_MAX_NDIM];
	int64_t idx[SCOUT_MAX_NDIM] = {0};
	int64_t s = 1, total = 1;
	for (int i = ndim - 1; i >= 0; i--) {
		sstr[i] = s;
		s *= src_shape[i];
	}
	for (int i = 0; i < ndim; i++) {
		dshape[i] = src_shape[perm[i]];
		str[i] = sstr[perm[i]]; /* source element stride of destination axis i */
		total *= dshape[i];
	}
	if (total == 0)
		return;
	int64_t inner = dshape[ndim - 1], istr = str[ndim - 1], off = 0;
	/* typed loops only on aligned buffers: an encoded chunk may sit at any
	 * offset (a shard's inner chunk, a caller's buffer) */
	int aligned = ((uintptr_t)dst % itemsize == 0) && ((uintptr_t)src % itemsize == 0);
	switch (aligned ? itemsize : 0) {
	case 1:
		PERMUTE_LOOP(uint8_t);
	case 2:
		PERMUTE_LOOP(uint16_t);
	case 4:
		PERMUTE_LOOP(uint32_t);
	case 8:
		PERMUTE_LOOP(uint64_t);
	default: {
		unsigned char *d = dst;
		const unsigned char *b = src;
		for (;;) {
			for (int64_t k = 0; k < inner; k++, d += itemsize)
				memcpy(d, b + (size_t)(off + k * istr) * itemsize, itemsize);
			int ax = ndim - 2;
			while (ax >= 0) {
				idx[ax]++;
				off += str[ax];
				if (idx[ax] < dshape[ax])
					break;
				off -= str[ax] * dshape[ax];
				idx[ax] = 0;
				ax--;
			}
			if (ax < 0)
				return;
		}
	}
	}
}

int scout__stage_transpose_reversed(const scout_stage *s)
{
	if (s->vt != &scout__stage_transpose)
		return 0;
	const transpose_stage *t = (const transpose_stage *)s;
	for (int i = 0; i < s->in.ndim; i++)
		if (t->order[i] != s->in.ndim - 1 - i)
			return 0;
	return 1;
}

static int transpose_create(scout_stage **out, const json_t *config, const scout_chunk_spec *in,
			    const char *what)
{
	int n = in->ndim, order[SCOUT_MAX_NDIM];
	const json_t *o = config ? json_object_get(config, "order") : NULL;
	const char *key;
	json_t *val;
	json_object_foreach((json_t *)config, key, val)
	{
		if (strcmp(key, "order") != 0)
			return scout__error(SCOUT_EFORMAT,
					    "%s: codec \"transpose\": unknown configuration field "
					    "\"%s\"",
					    what, key);
	}
	if (json_is_string(o) &&
	    (strcmp(json_string_value(o), "C") == 0 || strcmp(json_string_value(o), "F") == 0)) {
		int f = json_string_value(o)[0] == 'F';
		for (int i = 0; i < n; i++)
			order[i] = f ? n - 1 - i : i;
	} else if (json_is_array(o) && json_array_size(o) == (size_t)n) {
		int seen[SCOUT_MAX_NDIM] = {0};
		for (int i = 0; i < n; i++) {
			const json_t *v = json_array_get(o, (size_t)i);
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			    json_integer_value(v) >= n || seen[json_integer_value(v)]++)
				goto bad;
			order[i] = (int)json_integer_value(v);
		}
	} else {
		goto bad;
	}
	transpose_stage *t = scout__stage_alloc(sizeof *t, &scout__stage_transpose, in);
	if (!t)
		return SCOUT_ENOMEM;
	t->base.passthrough = 1;
	t->base.out = *in;
	for (int i = 0; i < n; i++) {
		t->order[i] = order[i];
		t->inverse[order[i]] = i;
		t->base.out.shape[i] = in->shape[order[i]];
		if (order[i] != i)
			t->base.passthrough = 0;
	}
	*out = &t->base;
	return SCOUT_OK;
bad:
	return scout__error(SCOUT_EFORMAT,
			    "%s: codec \"transpose\": configuration field \"order\" must be a "
			    "permutation of 0..%d",
			    what, n - 1);
}

static void transpose_destroy(scout_stage *s)
{
	free(s);
}

static json_t *transpose_json(const scout_stage *s)
{
	const transpose_stage *t = (const transpose_stage *)s;
	json_t *a = json_array();
	for (int i = 0; a && i < s->in.ndim; i++)
		json_array_append_new(a, json_integer(t->order[i]));
	json_t *c = json_object();
	json_object_set_new(c, "order", a);
	return scout__stage_json("transpose", c);
}

static int transpose_encode(const scout_stage *s, const void *src, size_t n, void **dst_out,
			    size_t *dst_size_out)
{
	const transpose_stage *t = (const transpose_stage *)s;
	void *dst = scout__codec_malloc(n, "transpose");
	if (!dst)
		return SCOUT_ENOMEM;
	scout__permute_axes(dst, src, s->in.shape, t->order, s->in.ndim, s->in.itemsize);
	*dst_out = dst;
	*dst_size_out = n;
	return SCOUT_OK;
}

static int transpose_decode(const scout_stage *s, const void *src, size_t n, void *dst,
			    size_t expected, const scout_chunk_source *from)
{
	(void)from;
	const transpose_stage *t = (const transpose_stage *)s;
	if (n != expected)
		return scout__codec_size_error("transpose", n, expected);
	scout__permute_axes(dst, src, s->out.shape, t->inverse, s->in.ndim, s->in.itemsize);
	return SCOUT_OK;
}

const scout_stage_vtable scout__stage_transpose = {
    .name = "transpose",
    .kind = SCOUT_STAGE_AA,
    .create = transpose_create,
    .destroy = transpose_destroy,
    .to_json = transpose_json,
    .encode = transpose_encode,
    .decode = transpose_decode,
};
