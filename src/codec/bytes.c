/*
 * The Zarr v3 "bytes" codec (array->bytes): the chunk's elements in C order,
 * each in the configured byte order ({"endian": "little"|"big"}; complex
 * numbers swap each half). The endian may be omitted for 1-byte types. In
 * the host's order it is a passthrough the pipeline skips. A Zarr v2 typestr's
 * byte order maps onto it.
 */
#include <stdlib.h>
#include <string.h>

#include "codec_impl.h"

typedef struct {
	scout_stage base;
	int big;      /* stored big-endian */
	int has_end;  /* the configuration names an endian */
	size_t unit;  /* swap unit */
	size_t bytes; /* size of the encoded chunk */
} bytes_stage;

static int bytes_create(scout_stage **out, const json_t *config, const scout_chunk_spec *in,
			const char *what)
{
	const char *key;
	json_t *val;
	int big = 0, has_end = 0;
	json_object_foreach((json_t *)config, key, val)
	{
		if (strcmp(key, "endian") != 0)
			return scout__error(SCOUT_EFORMAT,
					    "%s: codec \"bytes\": unknown configuration field "
					    "\"%s\"",
					    what, key);
		const char *e = json_is_string(val) ? json_string_value(val) : NULL;
		if (!e || (strcmp(e, "little") != 0 && strcmp(e, "big") != 0))
			return scout__error(SCOUT_EFORMAT,
					    "%s: codec \"bytes\": configuration field \"endian\" "
					    "must be \"little\" or \"big\"",
					    what);
		big = strcmp(e, "big") == 0;
		has_end = 1;
	}
	size_t nbytes;
	int rc = scout__shape_size(NULL, &nbytes, in->ndim, in->shape, in->itemsize);
	if (rc < 0)
		return scout__error_prefix(rc, "%s: codec \"bytes\": ", what);
	bytes_stage *b = scout__stage_alloc(sizeof *b, &scout__stage_bytes, in);
	if (!b)
		return SCOUT_ENOMEM;
	b->big = in->itemsize > 1 && big;
	b->has_end = has_end;
	b->unit = scout__dtype_swap_unit(in->dtype);
	if (b->unit == 0)
		b->unit = in->itemsize;
	b->bytes = nbytes;
	b->base.out = *in;
	b->base.passthrough = in->itemsize == 1 || b->big == scout__host_big_endian();
	*out = &b->base;
	return SCOUT_OK;
}

static void bytes_destroy(scout_stage *s)
{
	free(s);
}

static json_t *bytes_json(const scout_stage *s)
{
	const bytes_stage *b = (const bytes_stage *)s;
	if (!b->has_end && s->in.itemsize == 1)
		return scout__stage_json("bytes", NULL);
	json_t *c = json_object();
	json_object_set_new(c, "endian", json_string(b->big ? "big" : "little"));
	return scout__stage_json("bytes", c);
}

static int bytes_encode(const scout_stage *s, const void *src, size_t n, void **dst_out,
			size_t *dst_size_out)
{
	const bytes_stage *b = (const bytes_stage *)s;
	void *dst = scout__codec_malloc(n, "bytes");
	if (!dst)
		return SCOUT_ENOMEM;
	if (n)
		memcpy(dst, src, n);
	if (!s->passthrough)
		scout__byteswap(dst, n / b->unit, b->unit);
	*dst_out = dst;
	*dst_size_out = n;
	return SCOUT_OK;
}

static int bytes_decode(const scout_stage *s, const void *src, size_t n, void *dst, size_t expected,
			const scout_chunk_source *from)
{
	(void)from;
	const bytes_stage *b = (const bytes_stage *)s;
	if (n != expected)
		return scout__error(SCOUT_ECODEC,
				    "bytes: stored size %zu differs from the chunk's %zu bytes", n,
				    expected);
	if (n && dst != src)
		memcpy(dst, src, n);
	if (!s->passthrough)
		scout__byteswap(dst, n / b->unit, b->unit);
	return SCOUT_OK;
}

const scout_stage_vtable scout__stage_bytes = {
    .name = "bytes",
    .kind = SCOUT_STAGE_AB,
    .create = bytes_create,
    .destroy = bytes_destroy,
    .to_json = bytes_json,
    .encode = bytes_encode,
    .decode = bytes_decode,
};
