/*
 * numcodecs' bit- and byte-level filters as array->array stages (numcodecs
 * 0.11 semantics):
 *
 *  numcodecs.bitround  {keepbits}: float16/32/64; rounds the mantissa to
 *        keepbits bits, to nearest with ties to even, in the integer view
 *        (b += ((b >> m) & 1) + (1 << (m-1)) - 1; b &= ~0 << m, m = mantissa
 *        bits - keepbits). Decoding is the identity.
 *  numcodecs.packbits  {}: bool data; 1 header byte (the number of padding
 *        bits in the last byte, 0 when all 8 are used) then the bits, most
 *        significant first (numpy's packbits). The chunk becomes 1-D uint8 of
 *        ceil(n / 8) + 1 bytes.
 *  numcodecs.shuffle  {elementsize, default 4}: byte shuffle of the chunk's
 *        bytes with elements of elementsize bytes (all byte 0s, then all byte
 *        1s, ...); elementsize <= 1 copies. The chunk becomes 1-D uint8; its
 *        byte size must be a multiple of elementsize (numcodecs refuses it
 *        otherwise).
 */
#include <stdlib.h>
#include <string.h>

#include "codec_impl.h"

typedef struct {
	scout_stage base;
	long long param; /* keepbits, elementsize */
	int maxbits;
} bits_stage;

static void bits_destroy(scout_stage *s)
{
	free(s);
}

static int copy_encode(const void *src, size_t n, void **dst_out, size_t *dst_size_out,
		       const char *name)
{
	*dst_out = scout__codec_malloc(n, name);
	if (!*dst_out)
		return SCOUT_ENOMEM;
	if (n)
		memcpy(*dst_out, src, n);
	*dst_size_out = n;
	return SCOUT_OK;
}

/* ---- bitround ---- */

static const char *const bitround_keys[] = {"keepbits", NULL};

static int bitround_create(scout_stage **out, const json_t *config, const scout_chunk_spec *in,
			   const char *what)
{
	int rc = scout__codec_check_keys(config, "bitround", bitround_keys);
	if (rc < 0)
		return scout__error_prefix(rc, "%s: filter \"bitround\": ", what);
	int maxbits = in->dtype == SCOUT_FLOAT16   ? 10
		      : in->dtype == SCOUT_FLOAT32 ? 23
		      : in->dtype == SCOUT_FLOAT64 ? 52
						   : -1;
	if (maxbits < 0)
		return scout__error(SCOUT_EFORMAT,
				    "%s: filter \"bitround\": only float16/32/64 data can be "
				    "bit-rounded, not %s",
				    what, scout_dtype_name(in->dtype));
	if (!config || !json_object_get(config, "keepbits"))
		return scout__error(SCOUT_EFORMAT,
				    "%s: filter \"bitround\": field \"keepbits\" is "
				    "missing",
				    what);
	long long kb;
	rc = scout__codec_get_int(&kb, NULL, config, "bitround", "keepbits", 0, 0, maxbits, 0);
	if (rc < 0)
		return scout__error_prefix(rc, "%s: ", what);
	bits_stage *s = scout__stage_alloc(sizeof *s, &scout__stage_filter_bitround, in);
	if (!s)
		return SCOUT_ENOMEM;
	s->param = kb;
	s->maxbits = maxbits;
	*out = &s->base;
	return SCOUT_OK;
}

static json_t *bitround_json(const scout_stage *st)
{
	json_t *c = json_object();
	json_object_set_new(c, "keepbits", json_integer(((const bits_stage *)st)->param));
	return scout__stage_json(st->vt->name, c);
}

#define BITROUND(T)                                                                                \
	do {                                                                                       \
		T *b = *dst_out;                                                                   \
		T mask = (T)(UINT64_MAX << m), half = (T)((UINT64_C(1) << (m - 1)) - 1);           \
		for (size_t i = 0; i < count; i++) {                                               \
			T x = b[i];                                                                \
			x = (T)(x + ((x >> m) & 1) + half);                                        \
			b[i] = x & mask;                                                           \
		}                                                                                  \
	} while (0)

static int bitround_encode(const scout_stage *st, const void *src, size_t n, void **dst_out,
			   size_t *dst_size_out)
{
	const bits_stage *s = (const bits_stage *)st;
	int rc = copy_encode(src, n, dst_out, dst_size_out, st->vt->name);
	if (rc < 0 || s->param == s->maxbits)
		return rc;
	int m = s->maxbits - (int)s->param;
	size_t count = n / st->in.itemsize;
	if (st->in.itemsize == 2)
		BITROUND(uint16_t);
	else if (st->in.itemsize == 4)
		BITROUND(uint32_t);
	else
		BITROUND(uint64_t);
	return SCOUT_OK;
}

static int identity_decode(const scout_stage *st, const void *src, size_t n, void *dst,
			   size_t expected, const scout_chunk_source *from)
{
	(void)from;
	if (n != expected)
		return scout__codec_size_error(st->vt->name, n, expected);
	if (n)
		memcpy(dst, src, n);
	return SCOUT_OK;
}

const scout_stage_vtable scout__stage_filter_bitround = {
    .name = "numcodecs.bitround",
    .kind = SCOUT_STAGE_AA,
    .create = bitround_create,
    .destroy = bits_destroy,
    .to_json = bitround_json,
    .encode = bitround_encode,
    .decode = identity_decode,
};

/* ---- packbits ---- */

static const char *const no_keys[] = {NULL};

static void to_bytes_spec(scout_chunk_spec *out, size_t nbytes)
{
	out->dtype = SCOUT_UINT8;
	out->itemsize = 1;
	out->ndim = 1;
	out->shape[0] = (int64_t)nbytes;
}

static int packbits_create(scout_stage **out, const json_t *config, const scout_chunk_spec *in,
			   const char *what)
{
	int rc = scout__codec_check_keys(config, "packbits", no_keys);
	if (rc < 0)
		return scout__error_prefix(rc, "%s: filter \"packbits\": ", what);
	if (in->dtype != SCOUT_BOOL)
		return scout__error(
		    SCOUT_EFORMAT, "%s: filter \"packbits\": the chunk reaching it is %s, not bool",
		    what, scout_dtype_name(in->dtype));
	bits_stage *s = scout__stage_alloc(sizeof *s, &scout__stage_filter_packbits, in);
	if (!s)
		return SCOUT_ENOMEM;
	size_t count = scout__spec_count(in);
	to_bytes_spec(&s->base.out, (count + 7) / 8 + 1);
	*out = &s->base;
	return SCOUT_OK;
}

static json_t *empty_json(const scout_stage *st)
{
	return scout__stage_json(st->vt->name, json_object());
}

static int packbits_encode(const scout_stage *st, const void *src, size_t n, void **dst_out,
			   size_t *dst_size_out)
{
	size_t nb = (n + 7) / 8 + 1;
	unsigned char *d = scout__codec_malloc(nb, st->vt->name);
	if (!d)
		return SCOUT_ENOMEM;
	memset(d, 0, nb);
	const unsigned char *a = src;
	d[0] = (unsigned char)((8 - n % 8) % 8);
	for (size_t i = 0; i < n; i++)
		if (a[i])
			d[1 + i / 8] |= (unsigned char)(0x80u >> (i % 8));
	*dst_out = d;
	*dst_size_out = nb;
	return SCOUT_OK;
}

static int packbits_decode(const scout_stage *st, const void *src, size_t n, void *dst,
			   size_t expected, const scout_chunk_source *from)
{
	(void)from;
	const unsigned char *e = src;
	size_t nb = (expected + 7) / 8 + 1;
	if (n != nb)
		return scout__codec_size_error(st->vt->name, n, nb);
	if (e[0] != (8 - expected % 8) % 8)
		return scout__error(SCOUT_ECODEC,
				    "%s: header says %u padding bits, the chunk needs %zu",
				    st->vt->name, e[0], (8 - expected % 8) % 8);
	unsigned char *d = dst;
	for (size_t i = 0; i < expected; i++)
		d[i] = (e[1 + i / 8] >> (7 - i % 8)) & 1;
	return SCOUT_OK;
}

const scout_stage_vtable scout__stage_filter_packbits = {
    .name = "numcodecs.packbits",
    .kind = SCOUT_STAGE_AA,
    .create = packbits_create,
    .destroy = bits_destroy,
    .to_json = empty_json,
    .encode = packbits_encode,
    .decode = packbits_decode,
};

/* ---- shuffle ---- */

static const char *const shuffle_keys[] = {"elementsize", NULL};

static int shuffle_create(scout_stage **out, const json_t *config, const scout_chunk_spec *in,
			  const char *what)
{
	int rc = scout__codec_check_keys(config, "shuffle", shuffle_keys);
	if (rc < 0)
		return scout__error_prefix(rc, "%s: filter \"shuffle\": ", what);
	long long es;
	rc = scout__codec_get_int(&es, NULL, config, "shuffle", "elementsize", 4, 0, 1 << 20, 0);
	if (rc < 0)
		return scout__error_prefix(rc, "%s: ", what);
	size_t nbytes = scout__spec_count(in) * in->itemsize;
	if (es > 1 && nbytes % (size_t)es != 0)
		return scout__error(
		    SCOUT_EFORMAT,
		    "%s: filter \"shuffle\": a chunk of %zu bytes is not a multiple "
		    "of elementsize %lld",
		    what, nbytes, es);
	bits_stage *s = scout__stage_alloc(sizeof *s, &scout__stage_filter_shuffle, in);
	if (!s)
		return SCOUT_ENOMEM;
	s->param = es;
	to_bytes_spec(&s->base.out, nbytes);
	*out = &s->base;
	return SCOUT_OK;
}

static json_t *shuffle_json(const scout_stage *st)
{
	json_t *c = json_object();
	json_object_set_new(c, "elementsize", json_integer(((const bits_stage *)st)->param));
	return scout__stage_json(st->vt->name, c);
}

static int shuffle_encode(const scout_stage *st, const void *src, size_t n, void **dst_out,
			  size_t *dst_size_out)
{
	size_t es = (size_t)((const bits_stage *)st)->param;
	int rc = copy_encode(src, n, dst_out, dst_size_out, st->vt->name);
	if (rc < 0 || es <= 1)
		return rc;
	size_t count = n / es;
	const unsigned char *a = src;
	unsigned char *d = *dst_out;
	for (size_t i = 0; i < count; i++)
		for (size_t j = 0; j < es; j++)
			d[j * count + i] = a[i * es + j];
	return SCOUT_OK;
}

static int shuffle_decode(const scout_stage *st, const void *src, size_t n, void *dst,
			  size_t expected, const scout_chunk_source *from)
{
	(void)from;
	size_t es = (size_t)((const bits_stage *)st)->param;
	if (n != expected)
		return scout__codec_size_error(st->vt->name, n, expected);
	if (es <= 1) {
		if (n)
			memcpy(dst, src, n);
		return SCOUT_OK;
	}
	size_t count = n / es;
	const unsigned char *a = src;
	unsigned char *d = dst;
	for (size_t i = 0; i < count; i++)
		for (size_t j = 0; j < es; j++)
			d[i * es + j] = a[j * count + i];
	return SCOUT_OK;
}

const scout_stage_vtable scout__stage_filter_shuffle = {
    .name = "numcodecs.shuffle",
    .kind = SCOUT_STAGE_AA,
    .create = shuffle_create,
    .destroy = bits_destroy,
    .to_json = shuffle_json,
    .encode = shuffle_encode,
    .decode = shuffle_decode,
};
