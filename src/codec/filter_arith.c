/*
 * numcodecs' arithmetic filters as array->array stages, with numcodecs 0.11
 * semantics (numpy 1.24 casting):
 *
 *  numcodecs.delta  {dtype, astype}: encode keeps element 0 and stores the
 *        differences, computed in dtype (integers wrap), cast to astype;
 *        decode casts to dtype and takes the running sum in dtype.
 *  numcodecs.fixedscaleoffset  {offset, scale, dtype, astype}: encode
 *        round((x - offset) * scale) to nearest even, cast to astype; decode
 *        enc / scale + offset cast to dtype. float32 data is computed in
 *        float32 (numpy casts the Python scalars to the array's type), the
 *        rest in double. Integer data with an integer offset: numpy computes
 *        x - offset in an integer type, which wraps where double does not;
 *        scout matches numpy where that does not overflow.
 *  numcodecs.quantize  {digits, dtype, astype} (floats): encode
 *        round(2^bits * x) / 2^bits in dtype, bits = ceil(log2(10^-e)),
 *        e = floor(log10(10^-digits)) as numcodecs computes them; decode casts.
 *  numcodecs.astype  {encode_dtype, decode_dtype}: numpy's astype each way.
 *
 * Casts follow core/cast.c (numpy's astype for in-range values; a float out
 * of an integer astype's range saturates, where numpy's result is undefined
 * and, on x86-64, wraps). float16 and complex data are refused by these
 * filters.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "codec_impl.h"
#include "core/cast.h"

typedef struct {
	scout_stage base;
	scout_dtype dtype, astype;
	json_t *offset, *scale; /* fixedscaleoffset, as given */
	long long digits;       /* quantize */
	double qscale;          /* quantize: 2^bits */
} arith_stage;

static int numeric(scout_dtype t)
{
	return t != SCOUT_BOOL && t != SCOUT_FLOAT16 && t != SCOUT_COMPLEX64 &&
	       t != SCOUT_COMPLEX128;
}

static int refuse(const char *what, const char *id, const char *field, scout_dtype t)
{
	return scout__error(SCOUT_EUNSUPPORTED,
			    "%s: filter \"%s\": field \"%s\": dtype %s is not "
			    "supported by this filter",
			    what, id, field, scout_dtype_name(t));
}

/* Parse dtype (must be the incoming chunk's) and astype (default dtype); set the out spec. */
static int arith_new(arith_stage **out, const scout_stage_vtable *vt, const json_t *config,
		     const scout_chunk_spec *in, const char *in_field, const char *out_field,
		     const char *const *keys, const char *what)
{
	const char *id = vt->name + 10;
	*out = NULL;
	int rc = scout__codec_check_keys(config, id, keys);
	if (rc < 0)
		return scout__error_prefix(rc, "%s: filter \"%s\": ", what, id);
	scout_dtype dt, at;
	rc = scout__filter_dtype(&dt, config, in_field, NULL, id, what);
	if (rc < 0)
		return rc;
	const json_t *dv = config ? json_object_get(config, in_field) : NULL;
	rc = scout__filter_dtype(&at, config, out_field, json_string_value(dv), id, what);
	if (rc < 0)
		return rc;
	rc = scout__filter_input_check(in, dt, in_field, id, what);
	if (rc < 0)
		return rc;
	if (!numeric(dt) && !(vt == &scout__stage_filter_astype && scout__cast_supported(dt, at)))
		return refuse(what, id, in_field, dt);
	if (!numeric(at) && !(vt == &scout__stage_filter_astype && scout__cast_supported(dt, at)))
		return refuse(what, id, out_field, at);
	arith_stage *s = scout__stage_alloc(sizeof *s, vt, in);
	if (!s)
		return SCOUT_ENOMEM;
	s->dtype = dt;
	s->astype = at;
	s->base.out.dtype = at;
	s->base.out.itemsize = scout_dtype_size(at);
	*out = s;
	return SCOUT_OK;
}

static void arith_destroy(scout_stage *st)
{
	arith_stage *s = (arith_stage *)st;
	json_decref(s->offset);
	json_decref(s->scale);
	free(s);
}

static json_t *dtypes_json(const arith_stage *s, const char *in_field, const char *out_field)
{
	json_t *c = json_object();
	json_object_set_new(c, in_field, scout__filter_dtype_json(s->dtype));
	json_object_set_new(c, out_field, scout__filter_dtype_json(s->astype));
	return c;
}

static int alloc_out(void **dst_out, size_t *dst_size_out, const scout_stage *st, size_t n,
		     size_t *count)
{
	*count = n / st->in.itemsize;
	*dst_size_out = *count * st->out.itemsize;
	*dst_out = scout__codec_malloc(*dst_size_out, st->vt->name);
	return *dst_out ? SCOUT_OK : SCOUT_ENOMEM;
}

/* alloc_out() and a scratch of n bytes (the values in the stage's own dtype); both or neither */
static int alloc_out_tmp(void **dst_out, size_t *dst_size_out, void **tmp, const scout_stage *st,
			 size_t n, size_t *count)
{
	int rc = alloc_out(dst_out, dst_size_out, st, n, count);
	if (rc < 0)
		return rc;
	*tmp = scout__codec_malloc(n, st->vt->name);
	if (!*tmp) {
		free(*dst_out);
		*dst_out = NULL;
		return SCOUT_ENOMEM;
	}
	return SCOUT_OK;
}

static int check_sizes(const scout_stage *st, size_t n, size_t expected, size_t *count)
{
	*count = expected / st->in.itemsize;
	if (n != *count * st->out.itemsize)
		return scout__codec_size_error(st->vt->name, n, *count * st->out.itemsize);
	return SCOUT_OK;
}

/* ---- delta ---- */

static const char *const delta_keys[] = {"dtype", "astype", NULL};

static int delta_create(scout_stage **out, const json_t *config, const scout_chunk_spec *in,
			const char *what)
{
	arith_stage *s;
	int rc = arith_new(&s, &scout__stage_filter_delta, config, in, "dtype", "astype",
			   delta_keys, what);
	if (rc < 0)
		return rc;
	*out = &s->base;
	return SCOUT_OK;
}

static json_t *delta_json(const scout_stage *st)
{
	return scout__stage_json(st->vt->name,
				 dtypes_json((const arith_stage *)st, "dtype", "astype"));
}

static int delta_encode(const scout_stage *st, const void *src, size_t n, void **dst_out,
			size_t *dst_size_out)
{
	const arith_stage *s = (const arith_stage *)st;
	size_t count;
	void *tmp;
	int rc = alloc_out_tmp(dst_out, dst_size_out, &tmp, st, n, &count);
	if (rc < 0)
		return rc;
	if (count)
		memcpy(tmp, src, st->in.itemsize);
	if (s->dtype == SCOUT_FLOAT32) {
		const float *a = src;
		float *d = tmp;
		for (size_t i = 1; i < count; i++)
			d[i] = a[i] - a[i - 1];
	} else if (s->dtype == SCOUT_FLOAT64) {
		const double *a = src;
		double *d = tmp;
		for (size_t i = 1; i < count; i++)
			d[i] = a[i] - a[i - 1];
	} else {
		for (size_t i = 1; i < count; i++)
			scout__elem_set_i(tmp, s->dtype, i,
					  scout__elem_get_i(src, s->dtype, i) -
					      scout__elem_get_i(src, s->dtype, i - 1));
	}
	scout__cast_values(*dst_out, s->astype, tmp, s->dtype, count);
	free(tmp);
	return SCOUT_OK;
}

static int delta_decode(const scout_stage *st, const void *src, size_t n, void *dst,
			size_t expected, const scout_chunk_source *from)
{
	(void)from;
	const arith_stage *s = (const arith_stage *)st;
	size_t count;
	int rc = check_sizes(st, n, expected, &count);
	if (rc < 0)
		return rc;
	scout__cast_values(dst, s->dtype, src, s->astype, count);
	if (s->dtype == SCOUT_FLOAT32) {
		float *d = dst;
		for (size_t i = 1; i < count; i++)
			d[i] = d[i - 1] + d[i];
	} else if (s->dtype == SCOUT_FLOAT64) {
		double *d = dst;
		for (size_t i = 1; i < count; i++)
			d[i] = d[i - 1] + d[i];
	} else {
		for (size_t i = 1; i < count; i++)
			scout__elem_set_i(dst, s->dtype, i,
					  scout__elem_get_i(dst, s->dtype, i - 1) +
					      scout__elem_get_i(dst, s->dtype, i));
	}
	return SCOUT_OK;
}

const scout_stage_vtable scout__stage_filter_delta = {
    .name = "numcodecs.delta",
    .kind = SCOUT_STAGE_AA,
    .create = delta_create,
    .destroy = arith_destroy,
    .to_json = delta_json,
    .encode = delta_encode,
    .decode = delta_decode,
};

/* ---- fixedscaleoffset ---- */

static const char *const fso_keys[] = {"offset", "scale", "dtype", "astype", NULL};

static int fso_create(scout_stage **out, const json_t *config, const scout_chunk_spec *in,
		      const char *what)
{
	arith_stage *s;
	int rc = arith_new(&s, &scout__stage_filter_fixedscaleoffset, config, in, "dtype", "astype",
			   fso_keys, what);
	if (rc < 0)
		return rc;
	const char *f[2] = {"offset", "scale"};
	for (int k = 0; k < 2; k++) {
		const json_t *v = json_object_get(config, f[k]);
		if (!json_is_number(v)) {
			arith_destroy(&s->base);
			return scout__error(SCOUT_EFORMAT,
					    "%s: filter \"fixedscaleoffset\": field \"%s\" must be "
					    "a number",
					    what, f[k]);
		}
		if (k == 0)
			s->offset = json_deep_copy(v);
		else
			s->scale = json_deep_copy(v);
	}
	*out = &s->base;
	return SCOUT_OK;
}

static json_t *fso_json(const scout_stage *st)
{
	const arith_stage *s = (const arith_stage *)st;
	json_t *c = dtypes_json(s, "dtype", "astype");
	json_object_set(c, "offset", s->offset);
	json_object_set(c, "scale", s->scale);
	return scout__stage_json(st->vt->name, c);
}

static int fso_encode(const scout_stage *st, const void *src, size_t n, void **dst_out,
		      size_t *dst_size_out)
{
	const arith_stage *s = (const arith_stage *)st;
	size_t count;
	int rc = alloc_out(dst_out, dst_size_out, st, n, &count);
	if (rc < 0)
		return rc;
	double off = json_number_value(s->offset), sc = json_number_value(s->scale);
	if (s->dtype == SCOUT_FLOAT32) {
		float *tmp = scout__codec_malloc(count * 4, st->vt->name);
		if (!tmp)
			goto nomem;
		const float *a = src;
		for (size_t i = 0; i < count; i++)
			tmp[i] = rintf((a[i] - (float)off) * (float)sc);
		scout__cast_values(*dst_out, s->astype, tmp, SCOUT_FLOAT32, count);
		free(tmp);
	} else {
		double *tmp = scout__codec_malloc(count * 8, st->vt->name);
		if (!tmp)
			goto nomem;
		for (size_t i = 0; i < count; i++)
			tmp[i] = rint((scout__elem_get_f(src, s->dtype, i) - off) * sc);
		scout__cast_values(*dst_out, s->astype, tmp, SCOUT_FLOAT64, count);
		free(tmp);
	}
	return SCOUT_OK;
nomem:
	free(*dst_out);
	*dst_out = NULL;
	return SCOUT_ENOMEM;
}

static int fso_decode(const scout_stage *st, const void *src, size_t n, void *dst, size_t expected,
		      const scout_chunk_source *from)
{
	(void)from;
	const arith_stage *s = (const arith_stage *)st;
	size_t count;
	int rc = check_sizes(st, n, expected, &count);
	if (rc < 0)
		return rc;
	double off = json_number_value(s->offset), sc = json_number_value(s->scale);
	if (s->astype == SCOUT_FLOAT32) {
		float *tmp = scout__codec_malloc(count * 4, st->vt->name);
		if (!tmp)
			return SCOUT_ENOMEM;
		const float *e = src;
		for (size_t i = 0; i < count; i++)
			tmp[i] = e[i] / (float)sc + (float)off;
		scout__cast_values(dst, s->dtype, tmp, SCOUT_FLOAT32, count);
		free(tmp);
	} else {
		double *tmp = scout__codec_malloc(count * 8, st->vt->name);
		if (!tmp)
			return SCOUT_ENOMEM;
		for (size_t i = 0; i < count; i++)
			tmp[i] = scout__elem_get_f(src, s->astype, i) / sc + off;
		scout__cast_values(dst, s->dtype, tmp, SCOUT_FLOAT64, count);
		free(tmp);
	}
	return SCOUT_OK;
}

const scout_stage_vtable scout__stage_filter_fixedscaleoffset = {
    .name = "numcodecs.fixedscaleoffset",
    .kind = SCOUT_STAGE_AA,
    .create = fso_create,
    .destroy = arith_destroy,
    .to_json = fso_json,
    .encode = fso_encode,
    .decode = fso_decode,
};

/* ---- quantize ---- */

static const char *const quantize_keys[] = {"digits", "dtype", "astype", NULL};

static int quantize_create(scout_stage **out, const json_t *config, const scout_chunk_spec *in,
			   const char *what)
{
	arith_stage *s;
	int rc = arith_new(&s, &scout__stage_filter_quantize, config, in, "dtype", "astype",
			   quantize_keys, what);
	if (rc < 0)
		return rc;
	if (!scout_dtype_is_float(s->dtype) || !scout_dtype_is_float(s->astype)) {
		arith_destroy(&s->base);
		return scout__error(SCOUT_EFORMAT,
				    "%s: filter \"quantize\": only floating-point dtypes are "
				    "supported",
				    what);
	}
	long long digits;
	rc = scout__codec_get_int(&digits, NULL, config, "quantize", "digits", 0, -300, 300, 0);
	if (rc == 0 && !json_object_get(config, "digits"))
		rc = scout__error(SCOUT_EFORMAT,
				  "%s: filter \"quantize\": field \"digits\" is missing", what);
	if (rc < 0) {
		arith_destroy(&s->base);
		return rc;
	}
	s->digits = digits;
	/* as numcodecs: precision = 10.**-digits; exp = log(precision, 10) floored
	 * (negative) or ceiled; bits = ceil(log(10.**-exp, 2)); scale = 2.**bits */
	double precision = pow(10.0, (double)-digits);
	double e = log(precision) / log(10.0);
	e = e < 0 ? floor(e) : ceil(e);
	double bits = ceil(log(pow(10.0, -e)) / log(2.0));
	s->qscale = pow(2.0, bits);
	*out = &s->base;
	return SCOUT_OK;
}

static json_t *quantize_json(const scout_stage *st)
{
	const arith_stage *s = (const arith_stage *)st;
	json_t *c = dtypes_json(s, "dtype", "astype");
	json_object_set_new(c, "digits", json_integer(s->digits));
	return scout__stage_json(st->vt->name, c);
}

static int quantize_encode(const scout_stage *st, const void *src, size_t n, void **dst_out,
			   size_t *dst_size_out)
{
	const arith_stage *s = (const arith_stage *)st;
	size_t count;
	void *tmp;
	int rc = alloc_out_tmp(dst_out, dst_size_out, &tmp, st, n, &count);
	if (rc < 0)
		return rc;
	if (s->dtype == SCOUT_FLOAT32) {
		const float *a = src;
		float *t = tmp, q = (float)s->qscale;
		for (size_t i = 0; i < count; i++)
			t[i] = rintf(q * a[i]) / q;
	} else {
		const double *a = src;
		double *t = tmp, q = s->qscale;
		for (size_t i = 0; i < count; i++)
			t[i] = rint(q * a[i]) / q;
	}
	scout__cast_values(*dst_out, s->astype, tmp, s->dtype, count);
	free(tmp);
	return SCOUT_OK;
}

static int cast_decode(const scout_stage *st, const void *src, size_t n, void *dst, size_t expected,
		       const scout_chunk_source *from)
{
	(void)from;
	const arith_stage *s = (const arith_stage *)st;
	size_t count;
	int rc = check_sizes(st, n, expected, &count);
	if (rc < 0)
		return rc;
	scout__cast_values(dst, s->dtype, src, s->astype, count);
	return SCOUT_OK;
}

const scout_stage_vtable scout__stage_filter_quantize = {
    .name = "numcodecs.quantize",
    .kind = SCOUT_STAGE_AA,
    .create = quantize_create,
    .destroy = arith_destroy,
    .to_json = quantize_json,
    .encode = quantize_encode,
    .decode = cast_decode,
};

/* ---- astype ---- */

static const char *const astype_keys[] = {"encode_dtype", "decode_dtype", NULL};

static int astype_create(scout_stage **out, const json_t *config, const scout_chunk_spec *in,
			 const char *what)
{
	arith_stage *s;
	int rc = arith_new(&s, &scout__stage_filter_astype, config, in, "decode_dtype",
			   "encode_dtype", astype_keys, what);
	if (rc < 0)
		return rc;
	if (!scout__cast_supported(s->dtype, s->astype)) {
		arith_destroy(&s->base);
		return scout__error(SCOUT_EUNSUPPORTED,
				    "%s: filter \"astype\": %s -> %s is not supported", what,
				    scout_dtype_name(s->dtype), scout_dtype_name(s->astype));
	}
	*out = &s->base;
	return SCOUT_OK;
}

static json_t *astype_json(const scout_stage *st)
{
	return scout__stage_json(
	    st->vt->name, dtypes_json((const arith_stage *)st, "decode_dtype", "encode_dtype"));
}

static int astype_encode(const scout_stage *st, const void *src, size_t n, void **dst_out,
			 size_t *dst_size_out)
{
	const arith_stage *s = (const arith_stage *)st;
	size_t count;
	int rc = alloc_out(dst_out, dst_size_out, st, n, &count);
	if (rc < 0)
		return rc;
	scout__cast_values(*dst_out, s->astype, src, s->dtype, count);
	return SCOUT_OK;
}

const scout_stage_vtable scout__stage_filter_astype = {
    .name = "numcodecs.astype",
    .kind = SCOUT_STAGE_AA,
    .create = astype_create,
    .destroy = arith_destroy,
    .to_json = astype_json,
    .encode = astype_encode,
    .decode = cast_decode,
};
