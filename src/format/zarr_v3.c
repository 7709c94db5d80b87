/* Zarr v3 zarr.json of arrays (see zarr_v3.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zarr_v3.h"

const char *scout__v3_data_type_name(scout_dtype dt)
{
	return scout_dtype_name(dt); /* scout's names are the v3 core names */
}

static int data_type_parse(scout_dtype *out, const char *s)
{
	for (int d = 0; d < SCOUT_DTYPE_COUNT; d++) {
		const char *n = scout_dtype_name((scout_dtype)d);
		if (n && strcmp(n, s) == 0) {
			*out = (scout_dtype)d;
			return SCOUT_OK;
		}
	}
	return SCOUT_ENOTFOUND;
}

int scout__zarr_v3_node_type(const json_t *root, const char *what)
{
	if (!json_is_object(root))
		return scout__error(SCOUT_EFORMAT, "%s: the metadata is not a JSON object", what);
	const json_t *v = json_object_get(root, "zarr_format");
	if (!v)
		return scout__error(SCOUT_EFORMAT, "%s: field \"zarr_format\" is missing", what);
	if (!json_is_integer(v) || json_integer_value(v) != 3)
		return scout__error(SCOUT_EFORMAT, "%s: field \"zarr_format\" must be 3", what);
	v = json_object_get(root, "node_type");
	const char *t = json_is_string(v) ? json_string_value(v) : NULL;
	if (t && strcmp(t, "array") == 0)
		return 1;
	if (t && strcmp(t, "group") == 0)
		return 2;
	return scout__error(SCOUT_EFORMAT,
			    "%s: field \"node_type\" must be \"array\" or \"group\"%s", what,
			    v ? "" : " (it is missing)");
}

/* ---- fill values ---- */

static int hex_value(uint64_t *out, const char *s, size_t maxdigits)
{
	if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return 0;
	size_t n = strlen(s + 2);
	if (n == 0 || n > maxdigits)
		return -1;
	uint64_t v = 0;
	for (const char *p = s + 2; *p; p++) {
		int d = (*p >= '0' && *p <= '9')   ? *p - '0'
			: (*p >= 'a' && *p <= 'f') ? *p - 'a' + 10
			: (*p >= 'A' && *p <= 'F') ? *p - 'A' + 10
						   : -1;
		if (d < 0)
			return -1;
		v = v << 4 | (uint64_t)d;
	}
	*out = v;
	return 1;
}

/* One float (of size bytes) from a number, a special string or a hex bit pattern. */
static int float_part(unsigned char *out, const json_t *v, size_t size, scout_dtype dt,
		      const char *what)
{
	if (json_is_string(v)) {
		uint64_t bits;
		int h = hex_value(&bits, json_string_value(v), size * 2);
		if (h < 0)
			return scout__error(SCOUT_EFORMAT,
					    "%s: field \"fill_value\": \"%s\" is not a hex bit "
					    "pattern of %zu bytes",
					    what, json_string_value(v), size);
		if (h > 0) {
			if (size == 2) {
				uint16_t x = (uint16_t)bits;
				memcpy(out, &x, 2);
			} else if (size == 4) {
				uint32_t x = (uint32_t)bits;
				memcpy(out, &x, 4);
			} else {
				memcpy(out, &bits, 8);
			}
			return SCOUT_OK;
		}
	} else if (!json_is_number(v)) {
		return scout__error(SCOUT_EFORMAT,
				    "%s: field \"fill_value\" must be a number, \"NaN\", "
				    "\"Infinity\", \"-Infinity\" or a \"0x...\" bit pattern for "
				    "data_type %s",
				    what, scout_dtype_name(dt));
	}
	/* a number or a special string: as v2 parses them */
	scout_dtype ft = size == 2 ? SCOUT_FLOAT16 : size == 4 ? SCOUT_FLOAT32 : SCOUT_FLOAT64;
	unsigned char tmp[16];
	int is_null;
	int rc = scout__fill_value_parse(tmp, &is_null, v, ft, what);
	if (rc < 0)
		return rc;
	memcpy(out, tmp, size);
	return SCOUT_OK;
}

int scout__v3_fill_parse(unsigned char *out, const json_t *v, scout_dtype dt, const char *what)
{
	memset(out, 0, 16);
	const char *name = scout_dtype_name(dt);
	size_t size = scout_dtype_size(dt);
	if (!v)
		return scout__error(SCOUT_EFORMAT, "%s: field \"fill_value\" is missing", what);
	if (dt == SCOUT_BOOL) {
		if (!json_is_boolean(v))
			return scout__error(SCOUT_EFORMAT,
					    "%s: field \"fill_value\" must be true or false for "
					    "data_type bool",
					    what);
		out[0] = json_is_true(v) ? 1 : 0;
		return SCOUT_OK;
	}
	if (dt == SCOUT_COMPLEX64 || dt == SCOUT_COMPLEX128) {
		if (!json_is_array(v) || json_array_size(v) != 2)
			return scout__error(SCOUT_EFORMAT,
					    "%s: field \"fill_value\" must be [real, imag] for "
					    "data_type %s",
					    what, name);
		int rc = float_part(out, json_array_get(v, 0), size / 2, dt, what);
		if (rc == SCOUT_OK)
			rc = float_part(out + size / 2, json_array_get(v, 1), size / 2, dt, what);
		return rc;
	}
	if (scout_dtype_is_float(dt))
		return float_part(out, v, size, dt, what);
	if (!json_is_integer(v))
		return scout__error(SCOUT_EFORMAT,
				    "%s: field \"fill_value\" must be an integer for data_type %s",
				    what, name);
	int is_null;
	return scout__fill_value_parse(out, &is_null, v, dt, what);
}

/* A float part as JSON: a NaN other than the one "NaN" reads as keeps its bits ("0x..."). */
static json_t *float_part_json(const unsigned char *part, size_t size, scout_dtype dt)
{
	unsigned char canon[16] = {0};
	json_t *nan = json_string("NaN");
	int rc = float_part(canon, nan, size, dt, "NaN");
	json_decref(nan);
	scout_dtype ft = size == 2 ? SCOUT_FLOAT16 : size == 4 ? SCOUT_FLOAT32 : SCOUT_FLOAT64;
	json_t *j = scout__fill_value_json(part, 0, ft);
	const char *str = json_string_value(j);
	if (rc == SCOUT_OK && str && !strcmp(str, "NaN") && memcmp(canon, part, size) != 0) {
		uint64_t bits = 0;
		if (size == 2) {
			uint16_t x;
			memcpy(&x, part, 2);
			bits = x;
		} else if (size == 4) {
			uint32_t x;
			memcpy(&x, part, 4);
			bits = x;
		} else {
			memcpy(&bits, part, 8);
		}
		char hex[24];
		snprintf(hex, sizeof hex, "0x%0*llx", (int)(size * 2), (unsigned long long)bits);
		json_decref(j);
		j = json_string(hex);
	}
	return j;
}

json_t *scout__v3_fill_json(const unsigned char *fill, scout_dtype dt)
{
	/* NaNs with other bits than the canonical one are written as their bit
	 * pattern (spec: "0x..."), so the fill value reads back exactly */
	if (dt == SCOUT_COMPLEX64 || dt == SCOUT_COMPLEX128) {
		size_t half = scout_dtype_size(dt) / 2;
		json_t *a = json_array();
		json_array_append_new(a, float_part_json(fill, half, dt));
		json_array_append_new(a, float_part_json(fill + half, half, dt));
		return a;
	}
	if (scout_dtype_is_float(dt))
		return float_part_json(fill, scout_dtype_size(dt), dt);
	return scout__fill_value_json(fill, 0, dt);
}

/* ---- arrays ---- */

static int int_list(int64_t *vals, int *n_out, const json_t *a, const char *field, int64_t min,
		    const char *what)
{
	if (!json_is_array(a))
		return scout__error(SCOUT_EFORMAT, "%s: field \"%s\" must be a list of integers",
				    what, field);
	size_t n = json_array_size(a);
	if (n == 0)
		return scout__error(SCOUT_EUNSUPPORTED,
				    "%s: field \"%s\" is empty: 0-d arrays are not supported", what,
				    field);
	if (n > SCOUT_MAX_NDIM)
		return scout__error(SCOUT_EFORMAT,
				    "%s: field \"%s\" has %zu dimensions, more than the %d "
				    "supported",
				    what, field, n, SCOUT_MAX_NDIM);
	for (size_t i = 0; i < n; i++) {
		const json_t *v = json_array_get(a, i);
		if (!json_is_integer(v) || json_integer_value(v) < min)
			return scout__error(SCOUT_EFORMAT,
					    "%s: field \"%s\": element %zu is not an integer >= "
					    "%lld",
					    what, field, i, (long long)min);
		vals[i] = json_integer_value(v);
	}
	*n_out = (int)n;
	return SCOUT_OK;
}

/* {"name": name, "configuration": {...}}: the name and the configuration (may be NULL). */
static int named_config(const char **name, const json_t **config, const json_t *v,
			const char *field, const char *what)
{
	const json_t *n = json_is_object(v) ? json_object_get(v, "name") : NULL;
	if (json_is_string(v)) { /* the short form: a bare name */
		*name = json_string_value(v);
		*config = NULL;
		return SCOUT_OK;
	}
	if (!json_is_string(n))
		return scout__error(SCOUT_EFORMAT,
				    "%s: field \"%s\" must be an object with a string \"name\"",
				    what, field);
	*name = json_string_value(n);
	*config = json_object_get(v, "configuration");
	if (*config && !json_is_object(*config))
		return scout__error(SCOUT_EFORMAT,
				    "%s: field \"%s\": \"configuration\" must be an object", what,
				    field);
	return SCOUT_OK;
}

static int must_understand(const json_t *v)
{
	const json_t *mu = json_is_object(v) ? json_object_get(v, "must_understand") : NULL;
	return !(json_is_boolean(mu) && !json_is_true(mu));
}

int scout__zarr_v3_from_json(scout_zarr_meta *m, const json_t *root, const char *what)
{
	memset(m, 0, sizeof *m);
	int rc = scout__zarr_v3_node_type(root, what);
	if (rc < 0)
		return rc;
	if (rc != 1)
		return scout__error(SCOUT_EFORMAT, "%s: a group, not an array", what);
	m->zarr_format = 3;
	/* fields scout does not know: an error unless must_understand is false */
	static const char *const known[] = {"zarr_format",
					    "node_type",
					    "shape",
					    "data_type",
					    "chunk_grid",
					    "fill_value",
					    "chunk_key_encoding",
					    "codecs",
					    "attributes",
					    "dimension_names",
					    "storage_transformers",
					    NULL};
	const char *key;
	json_t *val;
	json_object_foreach((json_t *)root, key, val)
	{
		int k = 0;
		while (known[k] && strcmp(known[k], key) != 0)
			k++;
		if (!known[k] && must_understand(val))
			return scout__error(
			    SCOUT_EFORMAT,
			    "%s: field \"%s\" is not known to scout and does not say "
			    "\"must_understand\": false",
			    what, key);
	}
	int nshape = 0, nchunks = 0;
	const json_t *v = json_object_get(root, "shape");
	if (!v)
		return scout__error(SCOUT_EFORMAT, "%s: field \"shape\" is missing", what);
	rc = int_list(m->shape, &nshape, v, "shape", 0, what);
	if (rc < 0)
		return rc;
	m->ndim = nshape;

	v = json_object_get(root, "data_type");
	if (!v)
		return scout__error(SCOUT_EFORMAT, "%s: field \"data_type\" is missing", what);
	if (!json_is_string(v) || data_type_parse(&m->dtype, json_string_value(v)) < 0) {
		char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		rc = scout__error(SCOUT_EFORMAT,
				  "%s: field \"data_type\": unsupported data type %s (supported: "
				  "bool, int8-int64, uint8-uint64, float16, float32, float64, "
				  "complex64, complex128)",
				  what, t ? t : "?");
		free(t);
		return rc;
	}
	size_t isz = scout_dtype_size(m->dtype);

	const char *name;
	const json_t *cfg;
	v = json_object_get(root, "chunk_grid");
	if (!v)
		return scout__error(SCOUT_EFORMAT, "%s: field \"chunk_grid\" is missing", what);
	rc = named_config(&name, &cfg, v, "chunk_grid", what);
	if (rc < 0)
		return rc;
	if (strcmp(name, "regular") != 0)
		return scout__error(SCOUT_EFORMAT,
				    "%s: field \"chunk_grid\": chunk grid \"%s\" is not supported "
				    "(only \"regular\")",
				    what, name);
	const json_t *cs = cfg ? json_object_get(cfg, "chunk_shape") : NULL;
	if (!cs)
		return scout__error(SCOUT_EFORMAT,
				    "%s: field \"chunk_grid\": \"chunk_shape\" is missing", what);
	rc = int_list(m->chunks, &nchunks, cs, "chunk_grid.configuration.chunk_shape", 1, what);
	if (rc < 0)
		return rc;
	if (nchunks != nshape)
		return scout__error(SCOUT_EFORMAT,
				    "%s: field \"chunk_grid\": chunk_shape has %d dimensions but "
				    "\"shape\" has %d",
				    what, nchunks, nshape);
	rc = scout__shape_size(NULL, NULL, m->ndim, m->shape, isz);
	if (rc < 0)
		return scout__error_prefix(rc, "%s: field \"shape\": ", what);
	rc = scout__shape_size(NULL, NULL, m->ndim, m->chunks, isz);
	if (rc < 0)
		return scout__error_prefix(rc, "%s: field \"chunk_grid\": ", what);

	v = json_object_get(root, "chunk_key_encoding");
	if (!v)
		return scout__error(SCOUT_EFORMAT, "%s: field \"chunk_key_encoding\" is missing",
				    what);
	rc = named_config(&name, &cfg, v, "chunk_key_encoding", what);
	if (rc < 0)
		return rc;
	if (strcmp(name, "default") == 0) {
		m->key_encoding.kind = SCOUT_KEY_DEFAULT;
		m->key_encoding.separator = '/';
	} else if (strcmp(name, "v2") == 0) {
		m->key_encoding.kind = SCOUT_KEY_V2;
		m->key_encoding.separator = '.';
	} else {
		return scout__error(SCOUT_EFORMAT,
				    "%s: field \"chunk_key_encoding\": encoding \"%s\" is not "
				    "supported (\"default\" or \"v2\")",
				    what, name);
	}
	json_object_foreach((json_t *)cfg, key, val)
	{
		const char *s = json_is_string(val) ? json_string_value(val) : NULL;
		if (strcmp(key, "separator") != 0)
			return scout__error(
			    SCOUT_EFORMAT,
			    "%s: field \"chunk_key_encoding\": unknown configuration "
			    "field \"%s\"",
			    what, key);
		if (!s || (strcmp(s, "/") != 0 && strcmp(s, ".") != 0))
			return scout__error(
			    SCOUT_EFORMAT,
			    "%s: field \"chunk_key_encoding\": \"separator\" must be "
			    "\"/\" or \".\"",
			    what);
		m->key_encoding.separator = s[0];
	}

	rc = scout__v3_fill_parse(m->fill, json_object_get(root, "fill_value"), m->dtype, what);
	if (rc < 0)
		return rc;

	v = json_object_get(root, "codecs");
	if (!v)
		return scout__error(SCOUT_EFORMAT, "%s: field \"codecs\" is missing", what);
	if (!json_is_array(v))
		return scout__error(SCOUT_EFORMAT, "%s: field \"codecs\" must be a list", what);
	m->codecs = json_deep_copy(v);
	for (size_t i = 0; i < json_array_size(v); i++) {
		const json_t *c = json_array_get(v, i);
		const json_t *n = json_is_object(c) ? json_object_get(c, "name") : NULL;
		const json_t *cc = json_is_object(c) ? json_object_get(c, "configuration") : NULL;
		const json_t *e = json_is_object(cc) ? json_object_get(cc, "endian") : NULL;
		if (json_is_string(n) && strcmp(json_string_value(n), "bytes") == 0 &&
		    json_is_string(e) && strcmp(json_string_value(e), "big") == 0 && isz > 1)
			m->big_endian = 1;
	}

	v = json_object_get(root, "attributes");
	if (v && !json_is_object(v)) {
		rc =
		    scout__error(SCOUT_EFORMAT, "%s: field \"attributes\" must be an object", what);
		goto fail;
	}
	m->attributes = v ? json_deep_copy(v) : json_object();

	v = json_object_get(root, "dimension_names");
	if (v && !json_is_null(v)) {
		if (!json_is_array(v) || json_array_size(v) != (size_t)m->ndim) {
			rc = scout__error(SCOUT_EFORMAT,
					  "%s: field \"dimension_names\" must be a list of %d "
					  "names (strings or null)",
					  what, m->ndim);
			goto fail;
		}
		for (size_t i = 0; i < json_array_size(v); i++) {
			const json_t *e = json_array_get(v, i);
			if (!json_is_string(e) && !json_is_null(e)) {
				rc = scout__error(SCOUT_EFORMAT,
						  "%s: field \"dimension_names\": element %zu is "
						  "not a string or null",
						  what, i);
				goto fail;
			}
		}
		m->dimension_names = json_deep_copy(v);
	}

	v = json_object_get(root, "storage_transformers");
	if (v && !json_is_array(v)) {
		rc = scout__error(SCOUT_EFORMAT,
				  "%s: field \"storage_transformers\" must be a list", what);
		goto fail;
	}
	for (size_t i = 0; v && i < json_array_size(v); i++) {
		const json_t *t = json_array_get(v, i);
		if (must_understand(t)) {
			const json_t *n = json_is_object(t) ? json_object_get(t, "name") : NULL;
			rc = scout__error(SCOUT_EFORMAT,
					  "%s: field \"storage_transformers\": storage transformer "
					  "\"%s\" is not supported",
					  what, json_is_string(n) ? json_string_value(n) : "?");
			goto fail;
		}
	}
	if (!m->codecs || !m->attributes) {
		rc = scout__error(SCOUT_ENOMEM, "%s: out of memory", what);
		goto fail;
	}
	return SCOUT_OK;
fail:
	scout__zarr_meta_clear(m);
	return rc;
}

int scout__zarr_v3_parse(scout_zarr_meta *m, const char *text, size_t len, const char *what)
{
	memset(m, 0, sizeof *m);
	json_t *root;
	int rc = scout__json_parse(&root, text, len, what);
	if (rc < 0)
		return rc;
	rc = scout__zarr_v3_from_json(m, root, what);
	json_decref(root);
	return rc;
}

static json_t *int_array(const int64_t *v, int n)
{
	json_t *a = json_array();
	for (int i = 0; a && i < n; i++)
		json_array_append_new(a, json_integer((json_int_t)v[i]));
	return a;
}

json_t *scout__key_encoding_json(const scout_key_encoding *enc)
{
	char sep[2] = {enc->separator ? enc->separator : '.', 0};
	json_t *o = json_object(), *c = json_object();
	json_object_set_new(o, "name",
			    json_string(enc->kind == SCOUT_KEY_DEFAULT ? "default" : "v2"));
	json_object_set_new(c, "separator", json_string(sep));
	json_object_set_new(o, "configuration", c);
	return o;
}

json_t *scout__zarr_v3_to_json(const scout_zarr_meta *m)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	int bad = 0;
	bad |= json_object_set_new(o, "shape", int_array(m->shape, m->ndim));
	bad |= json_object_set_new(o, "data_type", json_string(scout__v3_data_type_name(m->dtype)));
	json_t *grid = json_object(), *gc = json_object();
	json_object_set_new(grid, "name", json_string("regular"));
	json_object_set_new(gc, "chunk_shape", int_array(m->chunks, m->ndim));
	json_object_set_new(grid, "configuration", gc);
	bad |= json_object_set_new(o, "chunk_grid", grid);
	bad |= json_object_set_new(o, "chunk_key_encoding",
				   scout__key_encoding_json(&m->key_encoding));
	bad |= json_object_set_new(o, "fill_value", scout__v3_fill_json(m->fill, m->dtype));
	bad |=
	    json_object_set_new(o, "codecs", m->codecs ? json_deep_copy(m->codecs) : json_array());
	bad |= json_object_set_new(o, "attributes",
				   m->attributes ? json_deep_copy(m->attributes) : json_object());
	if (m->dimension_names)
		bad |=
		    json_object_set_new(o, "dimension_names", json_deep_copy(m->dimension_names));
	bad |= json_object_set_new(o, "zarr_format", json_integer(3));
	bad |= json_object_set_new(o, "node_type", json_string("array"));
	bad |= json_object_set_new(o, "storage_transformers", json_array());
	if (bad) {
		json_decref(o);
		scout__error(SCOUT_ENOMEM, "out of memory writing zarr.json");
		return NULL;
	}
	return o;
}

char *scout__json_dumps_v3(const json_t *v)
{
	char *s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII |
				    JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
	if (!s)
		scout__error(SCOUT_ENOMEM, "out of memory writing JSON");
	return s;
}

int scout__zarr_v3_dump(char **text_out, const scout_zarr_meta *m)
{
	*text_out = NULL;
	json_t *o = scout__zarr_v3_to_json(m);
	if (!o)
		return SCOUT_ENOMEM;
	*text_out = scout__json_dumps_v3(o);
	json_decref(o);
	return *text_out ? SCOUT_OK : SCOUT_ENOMEM;
}
