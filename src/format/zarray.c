/* Zarr v2 metadata: .zarray parse/write, fill values, .zgroup, .zmetadata (see zarray.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "zarray.h"

void scout__zarray_clear(scout_zarray *z)
{
	if (!z)
		return;
	if (z->compressor)
		json_decref(z->compressor);
	if (z->filters)
		json_decref(z->filters);
	memset(z, 0, sizeof *z);
}

int scout__json_parse(json_t **out, const char *text, size_t len, const char *what)
{
	json_error_t err;
	*out = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
	if (!*out)
		return scout__error(SCOUT_EFORMAT, "%s: invalid JSON at line %d, column %d: %s",
				    what, err.line, err.column, err.text);
	return SCOUT_OK;
}

/* ---- IEEE half precision ---- */

static uint64_t round_shift(uint64_t m, int shift)
{
	uint64_t q = m >> shift;
	uint64_t rem = m & ((UINT64_C(1) << shift) - 1);
	uint64_t half = UINT64_C(1) << (shift - 1);
	if (rem > half || (rem == half && (q & 1)))
		q++;
	return q;
}

uint16_t scout__zarray_double_to_half(double d)
{
	uint64_t b;
	memcpy(&b, &d, 8);
	uint16_t sign = (uint16_t)((b >> 48) & 0x8000);
	int exp = (int)((b >> 52) & 0x7ff);
	uint64_t mant = b & UINT64_C(0xfffffffffffff);
	if (exp == 0x7ff)
		return (uint16_t)(sign | 0x7c00 | (mant ? 0x200 : 0));
	if (exp == 0 && mant == 0)
		return sign;
	int e = exp - 1023 + 15;
	if (e >= 31)
		return (uint16_t)(sign | 0x7c00);
	if (e <= 0) {
		int shift = 43 - e;
		if (shift > 63)
			return sign;
		return (uint16_t)(sign | round_shift(mant | (UINT64_C(1) << 52), shift));
	}
	uint64_t h = ((uint64_t)e << 10) + round_shift(mant, 42);
	if (h >= 0x7c00)
		h = 0x7c00;
	return (uint16_t)(sign | h);
}

double scout__zarray_half_to_double(uint16_t h)
{
	int sign = h & 0x8000;
	int e = (h >> 10) & 0x1f;
	int m = h & 0x3ff;
	double v;
	if (e == 0)
		v = ldexp((double)m, -24);
	else if (e == 31)
		v = m ? NAN : INFINITY;
	else
		v = ldexp((double)(m | 0x400), e - 25);
	return sign ? -v : v;
}

/* ---- fill values ---- */

static int parse_float(double *out, const json_t *v, const char *what)
{
	if (json_is_number(v)) {
		*out = json_number_value(v);
		return SCOUT_OK;
	}
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		if (strcmp(s, "NaN") == 0) {
			*out = NAN;
			return SCOUT_OK;
		}
		if (strcmp(s, "Infinity") == 0) {
			*out = INFINITY;
			return SCOUT_OK;
		}
		if (strcmp(s, "-Infinity") == 0) {
			*out = -INFINITY;
			return SCOUT_OK;
		}
		return scout__error(SCOUT_EFORMAT,
				    "%s: field \"fill_value\": \"%s\" is not a number, \"NaN\", "
				    "\"Infinity\" or \"-Infinity\"",
				    what, s);
	}
	return scout__error(SCOUT_EFORMAT,
			    "%s: field \"fill_value\" must be a number or \"NaN\"/\"Infinity\"/"
			    "\"-Infinity\" for a floating-point dtype",
			    what);
}

static void store_float(unsigned char *out, double d, size_t size)
{
	if (size == 2) {
		uint16_t h = scout__zarray_double_to_half(d);
		memcpy(out, &h, 2);
	} else if (size == 4) {
		float f = (float)d;
		memcpy(out, &f, 4);
	} else {
		memcpy(out, &d, 8);
	}
}

int scout__fill_value_parse(unsigned char *out, int *is_null, const json_t *v, scout_dtype dtype,
			    const char *what)
{
	memset(out, 0, 16);
	*is_null = 0;
	if (!v || json_is_null(v)) {
		*is_null = 1;
		return SCOUT_OK;
	}
	size_t size = scout_dtype_size(dtype);
	const char *name = scout_dtype_name(dtype);
	if (!name)
		return scout__error(SCOUT_EINVAL, "%s: invalid dtype", what);
	if (dtype == SCOUT_BOOL) {
		if (json_is_boolean(v)) {
			out[0] = json_is_true(v) ? 1 : 0;
			return SCOUT_OK;
		}
		if (json_is_integer(v) &&
		    (json_integer_value(v) == 0 || json_integer_value(v) == 1)) {
			out[0] = (unsigned char)json_integer_value(v);
			return SCOUT_OK;
		}
		return scout__error(
		    SCOUT_EFORMAT,
		    "%s: field \"fill_value\" must be true, false or null for dtype "
		    "bool",
		    what);
	}
	if (dtype == SCOUT_COMPLEX64 || dtype == SCOUT_COMPLEX128) {
		if (json_is_number(v) || json_is_string(v)) {
			/* a real scalar, as zarr-python accepts: imaginary part 0 */
			double re;
			int rc = parse_float(&re, v, what);
			if (rc < 0)
				return rc;
			store_float(out, re, size / 2);
			store_float(out + size / 2, 0.0, size / 2);
			return SCOUT_OK;
		}
		if (!json_is_array(v) || json_array_size(v) != 2)
			return scout__error(SCOUT_EFORMAT,
					    "%s: field \"fill_value\" must be [real, imag] or a "
					    "real number for dtype %s",
					    what, name);
		double re, im;
		int rc = parse_float(&re, json_array_get(v, 0), what);
		if (rc < 0)
			return rc;
		rc = parse_float(&im, json_array_get(v, 1), what);
		if (rc < 0)
			return rc;
		store_float(out, re, size / 2);
		store_float(out + size / 2, im, size / 2);
		return SCOUT_OK;
	}
	if (scout_dtype_is_float(dtype)) {
		double d;
		int rc = parse_float(&d, v, what);
		if (rc < 0)
			return rc;
		store_float(out, d, size);
		return SCOUT_OK;
	}
	/* integers */
	long long iv;
	if (json_is_integer(v)) {
		iv = json_integer_value(v);
	} else if (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)) &&
		   fabs(json_real_value(v)) < 9.2e18) {
		iv = (long long)json_real_value(v);
	} else {
		return scout__error(
		    SCOUT_EFORMAT,
		    "%s: field \"fill_value\" must be an integer or null for dtype %s", what, name);
	}
	int sgn = scout_dtype_is_signed(dtype);
	long long lo, hi;
	switch (size) {
	case 1:
		lo = sgn ? INT8_MIN : 0;
		hi = sgn ? INT8_MAX : UINT8_MAX;
		break;
	case 2:
		lo = sgn ? INT16_MIN : 0;
		hi = sgn ? INT16_MAX : UINT16_MAX;
		break;
	case 4:
		lo = sgn ? INT32_MIN : 0;
		hi = sgn ? INT32_MAX : UINT32_MAX;
		break;
	default:
		lo = sgn ? INT64_MIN : 0;
		hi = INT64_MAX;
		break;
	}
	if (iv < lo || iv > hi)
		return scout__error(SCOUT_EFORMAT,
				    "%s: field \"fill_value\" %lld is out of range for dtype %s",
				    what, iv, name);
	switch (size) {
	case 1: {
		int8_t x = (int8_t)iv;
		memcpy(out, &x, 1);
		break;
	}
	case 2: {
		int16_t x = (int16_t)iv;
		memcpy(out, &x, 2);
		break;
	}
	case 4: {
		int32_t x = (int32_t)iv;
		memcpy(out, &x, 4);
		break;
	}
	default: {
		int64_t x = (int64_t)iv;
		memcpy(out, &x, 8);
		break;
	}
	}
	return SCOUT_OK;
}

static double load_float(const unsigned char *p, size_t size)
{
	if (size == 2) {
		uint16_t h;
		memcpy(&h, p, 2);
		return scout__zarray_half_to_double(h);
	}
	if (size == 4) {
		float f;
		memcpy(&f, p, 4);
		return f;
	}
	double d;
	memcpy(&d, p, 8);
	return d;
}

static json_t *float_json(double d)
{
	if (isnan(d))
		return json_string("NaN");
	if (isinf(d))
		return json_string(d > 0 ? "Infinity" : "-Infinity");
	return json_real(d);
}

json_t *scout__fill_value_json(const unsigned char *fill, int is_null, scout_dtype dtype)
{
	if (is_null)
		return json_null();
	size_t size = scout_dtype_size(dtype);
	if (dtype == SCOUT_BOOL)
		return json_boolean(fill[0] != 0);
	if (dtype == SCOUT_COMPLEX64 || dtype == SCOUT_COMPLEX128) {
		json_t *a = json_array();
		if (!a)
			return NULL;
		if (json_array_append_new(a, float_json(load_float(fill, size / 2))) ||
		    json_array_append_new(a, float_json(load_float(fill + size / 2, size / 2)))) {
			json_decref(a);
			return NULL;
		}
		return a;
	}
	if (scout_dtype_is_float(dtype))
		return float_json(load_float(fill, size));
	int sgn = scout_dtype_is_signed(dtype);
	long long v = 0;
	switch (size) {
	case 1:
		v = sgn ? *(const int8_t *)fill : *(const uint8_t *)fill;
		break;
	case 2: {
		int16_t s;
		uint16_t u;
		memcpy(&s, fill, 2);
		memcpy(&u, fill, 2);
		v = sgn ? s : u;
		break;
	}
	case 4: {
		int32_t s;
		uint32_t u;
		memcpy(&s, fill, 4);
		memcpy(&u, fill, 4);
		v = sgn ? s : (long long)u;
		break;
	}
	default: {
		int64_t s;
		memcpy(&s, fill, 8);
		v = s; /* uint64 fill values above INT64_MAX are not representable */
		break;
	}
	}
	return json_integer(v);
}

/* ---- .zarray ---- */

static int get_int_array(int64_t *vals, int *n_out, const json_t *obj, const char *field,
			 int64_t min, const char *what)
{
	const json_t *a = json_object_get(obj, field);
	if (!a)
		return scout__error(SCOUT_EFORMAT, "%s: field \"%s\" is missing", what, field);
	if (!json_is_array(a))
		return scout__error(SCOUT_EFORMAT, "%s: field \"%s\" must be an array of integers",
				    what, field);
	size_t n = json_array_size(a);
	if (n == 0)
		return scout__error(SCOUT_EUNSUPPORTED,
				    "%s: field \"%s\" is empty: 0-d arrays are not supported", what,
				    field);
	if (n > SCOUT_MAX_NDIM)
		return scout__error(
		    SCOUT_EFORMAT,
		    "%s: field \"%s\" has %zu dimensions, more than the %d supported", what, field,
		    n, SCOUT_MAX_NDIM);
	for (size_t i = 0; i < n; i++) {
		const json_t *v = json_array_get(a, i);
		if (!json_is_integer(v))
			return scout__error(SCOUT_EFORMAT,
					    "%s: field \"%s\": element %zu is not an integer", what,
					    field, i);
		long long x = json_integer_value(v);
		if (x < min)
			return scout__error(
			    SCOUT_EFORMAT,
			    "%s: field \"%s\": element %zu is %lld, expected >= %lld", what, field,
			    i, x, (long long)min);
		vals[i] = x;
	}
	*n_out = (int)n;
	return SCOUT_OK;
}

int scout__zarray_from_json(scout_zarray *out, const json_t *obj, const char *what)
{
	memset(out, 0, sizeof *out);
	if (!json_is_object(obj))
		return scout__error(SCOUT_EFORMAT, "%s: the metadata is not a JSON object", what);
	const json_t *v = json_object_get(obj, "zarr_format");
	if (!v)
		return scout__error(SCOUT_EFORMAT, "%s: field \"zarr_format\" is missing", what);
	if (!json_is_integer(v) || json_integer_value(v) != 2)
		return scout__error(
		    SCOUT_EFORMAT,
		    "%s: field \"zarr_format\" must be 2 (only Zarr v2 is supported)", what);
	int nshape, nchunks;
	int rc = get_int_array(out->shape, &nshape, obj, "shape", 0, what);
	if (rc < 0)
		return rc;
	rc = get_int_array(out->chunks, &nchunks, obj, "chunks", 1, what);
	if (rc < 0)
		return rc;
	if (nshape != nchunks)
		return scout__error(SCOUT_EFORMAT,
				    "%s: field \"chunks\" has %d dimensions but \"shape\" has %d",
				    what, nchunks, nshape);
	out->ndim = nshape;

	v = json_object_get(obj, "dtype");
	if (!v)
		return scout__error(SCOUT_EFORMAT, "%s: field \"dtype\" is missing", what);
	if (!json_is_string(v))
		return scout__error(
		    SCOUT_EFORMAT,
		    "%s: field \"dtype\": structured dtypes are not supported (expected "
		    "a typestr such as \"<u2\")",
		    what);
	const char *ts = json_string_value(v);
	if ((ts[0] != '<' && ts[0] != '>' && ts[0] != '|') ||
	    scout_dtype_parse(&out->dtype, &out->big_endian, ts) < 0)
		return scout__error(SCOUT_EFORMAT,
				    "%s: field \"dtype\": unsupported dtype \"%s\" (supported: b1, "
				    "i1-i8, u1-u8, f2, f4, f8, c8, c16 in either byte order)",
				    what, ts);
	if (scout_dtype_size(out->dtype) == 1)
		out->big_endian = 0;
	size_t itemsize = scout_dtype_size(out->dtype);
	rc = scout__shape_size(NULL, NULL, out->ndim, out->shape, itemsize);
	if (rc < 0)
		return scout__error_prefix(rc, "%s: field \"shape\": ", what);
	rc = scout__shape_size(NULL, NULL, out->ndim, out->chunks, itemsize);
	if (rc < 0)
		return scout__error_prefix(rc, "%s: field \"chunks\": ", what);

	v = json_object_get(obj, "compressor");
	if (v && !json_is_null(v)) {
		const json_t *id = json_is_object(v) ? json_object_get(v, "id") : NULL;
		if (!json_is_string(id))
			return scout__error(
			    SCOUT_EFORMAT,
			    "%s: field \"compressor\" must be null or an object with a "
			    "string \"id\"",
			    what);
		out->compressor = json_deep_copy(v);
		if (!out->compressor)
			return scout__error(SCOUT_ENOMEM, "%s: out of memory", what);
	}

	v = json_object_get(obj, "order");
	if (!v)
		out->order = 'C';
	else if (json_is_string(v) &&
		 (strcmp(json_string_value(v), "C") == 0 || strcmp(json_string_value(v), "F") == 0))
		out->order = json_string_value(v)[0];
	else
		goto fail_order;

	v = json_object_get(obj, "filters");
	if (v && !json_is_null(v)) {
		if (!json_is_array(v)) {
			rc = scout__error(SCOUT_EFORMAT,
					  "%s: field \"filters\" must be null or a list", what);
			goto fail;
		}
		for (size_t i = 0; i < json_array_size(v); i++) {
			const json_t *f = json_array_get(v, i);
			const json_t *id = json_is_object(f) ? json_object_get(f, "id") : NULL;
			if (!json_is_string(id)) {
				rc = scout__error(
				    SCOUT_EFORMAT,
				    "%s: field \"filters\": element %zu is not an object "
				    "with a string \"id\"",
				    what, i);
				goto fail;
			}
		}
		if (json_array_size(v) > 0) {
			out->filters = json_deep_copy(v);
			if (!out->filters) {
				rc = scout__error(SCOUT_ENOMEM, "%s: out of memory", what);
				goto fail;
			}
		}
	}

	v = json_object_get(obj, "dimension_separator");
	if (v && !json_is_null(v)) {
		const char *s = json_is_string(v) ? json_string_value(v) : NULL;
		if (!s || (strcmp(s, ".") != 0 && strcmp(s, "/") != 0)) {
			rc = scout__error(
			    SCOUT_EFORMAT,
			    "%s: field \"dimension_separator\" must be \".\" or \"/\"", what);
			goto fail;
		}
		out->separator = s[0];
	}

	rc = scout__fill_value_parse(out->fill, &out->fill_null, json_object_get(obj, "fill_value"),
				     out->dtype, what);
	if (rc < 0)
		goto fail;
	return SCOUT_OK;
fail_order:
	rc = scout__error(SCOUT_EFORMAT, "%s: field \"order\" must be \"C\" or \"F\"", what);
fail:
	scout__zarray_clear(out);
	return rc;
}

int scout__zarray_parse(scout_zarray *out, const char *text, size_t len, const char *what)
{
	memset(out, 0, sizeof *out);
	json_t *root;
	int rc = scout__json_parse(&root, text, len, what);
	if (rc < 0)
		return rc;
	rc = scout__zarray_from_json(out, root, what);
	json_decref(root);
	return rc;
}

char *scout__json_dumps(const json_t *v)
{
	char *s = json_dumps(v, JSON_INDENT(4) | JSON_SORT_KEYS | JSON_ENSURE_ASCII |
				    JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
	if (!s)
		scout__error(SCOUT_ENOMEM, "out of memory writing JSON");
	return s;
}

static json_t *int_array(const int64_t *v, int n)
{
	json_t *a = json_array();
	for (int i = 0; a && i < n; i++) {
		if (json_array_append_new(a, json_integer(v[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

int scout__zarray_dump(char **text_out, const scout_zarray *z)
{
	*text_out = NULL;
	char ts[8];
	int rc = scout_dtype_typestr(ts, z->dtype, z->big_endian);
	if (rc < 0)
		return rc;
	char order[2] = {z->order ? z->order : 'C', 0};
	json_t *o = json_object();
	if (!o)
		return scout__error(SCOUT_ENOMEM, "out of memory writing .zarray");
	int bad = 0;
	bad |= json_object_set_new(o, "zarr_format", json_integer(2));
	bad |= json_object_set_new(o, "shape", int_array(z->shape, z->ndim));
	bad |= json_object_set_new(o, "chunks", int_array(z->chunks, z->ndim));
	bad |= json_object_set_new(o, "dtype", json_string(ts));
	bad |= json_object_set_new(o, "compressor",
				   z->compressor ? json_deep_copy(z->compressor) : json_null());
	bad |= json_object_set_new(o, "fill_value",
				   scout__fill_value_json(z->fill, z->fill_null, z->dtype));
	bad |= json_object_set_new(o, "order", json_string(order));
	bad |= json_object_set_new(
	    o, "filters",
	    z->filters && json_array_size(z->filters) ? json_deep_copy(z->filters) : json_null());
	if (z->separator) {
		char sep[2] = {z->separator, 0};
		bad |= json_object_set_new(o, "dimension_separator", json_string(sep));
	}
	if (bad) {
		json_decref(o);
		return scout__error(SCOUT_ENOMEM, "out of memory writing .zarray");
	}
	*text_out = scout__json_dumps(o);
	json_decref(o);
	return *text_out ? SCOUT_OK : SCOUT_ENOMEM;
}

const char *scout__zgroup_text(void)
{
	return "{\n    \"zarr_format\": 2\n}";
}

int scout__zmetadata_get(const json_t **out, const json_t *zmeta, const char *key, const char *what)
{
	*out = NULL;
	const json_t *fmt =
	    json_is_object(zmeta) ? json_object_get(zmeta, "zarr_consolidated_format") : NULL;
	const json_t *md = json_is_object(zmeta) ? json_object_get(zmeta, "metadata") : NULL;
	if (!json_is_integer(fmt) || json_integer_value(fmt) != 1 || !json_is_object(md))
		return scout__error(SCOUT_EFORMAT,
				    "%s: not consolidated metadata (expected \"metadata\" and "
				    "\"zarr_consolidated_format\": 1)",
				    what);
	*out = json_object_get(md, key);
	return *out ? SCOUT_OK : SCOUT_ENOTFOUND;
}
