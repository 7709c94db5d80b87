/*
 * Shared parts of the numcodecs filter stages (filter_arith.c, filter_bits.c):
 * dtype fields, element access, the v2 config of a filter stage.
 */
#include <stdlib.h>
#include <string.h>

#include "codec_impl.h"

int scout__filter_dtype(scout_dtype *out, const json_t *config, const char *field, const char *def,
			const char *id, const char *what)
{
	const json_t *v = config ? json_object_get(config, field) : NULL;
	const char *s = def;
	if (v && !json_is_null(v)) {
		if (!json_is_string(v))
			return scout__error(
			    SCOUT_EFORMAT, "%s: filter \"%s\": field \"%s\" must be a dtype string",
			    what, id, field);
		s = json_string_value(v);
	}
	if (!s)
		return scout__error(SCOUT_EFORMAT, "%s: filter \"%s\": field \"%s\" is missing",
				    what, id, field);
	int big = 0;
	if (scout_dtype_parse(out, &big, s) < 0)
		return scout__error(SCOUT_EFORMAT,
				    "%s: filter \"%s\": field \"%s\": unsupported dtype \"%s\"",
				    what, id, field, s);
	if (big && scout_dtype_size(*out) > 1)
		return scout__error(
		    SCOUT_EUNSUPPORTED,
		    "%s: filter \"%s\": field \"%s\": big-endian dtype \"%s\" is not "
		    "supported in filters",
		    what, id, field, s);
	return SCOUT_OK;
}

json_t *scout__filter_dtype_json(scout_dtype t)
{
	char ts[8];
	scout_dtype_typestr(ts, t, 0);
	return json_string(ts);
}

int scout__filter_input_check(const scout_chunk_spec *in, scout_dtype t, const char *field,
			      const char *id, const char *what)
{
	if (in->dtype != t)
		return scout__error(SCOUT_EFORMAT,
				    "%s: filter \"%s\": field \"%s\" is %s but the chunk reaching "
				    "it is %s",
				    what, id, field, scout_dtype_name(t),
				    scout_dtype_name(in->dtype));
	return SCOUT_OK;
}

size_t scout__spec_count(const scout_chunk_spec *s)
{
	size_t c = 1;
	for (int i = 0; i < s->ndim; i++)
		c *= (size_t)s->shape[i];
	return c;
}

double scout__elem_get_f(const void *p, scout_dtype t, size_t i)
{
	switch (t) {
	case SCOUT_BOOL:
	case SCOUT_UINT8:
		return ((const uint8_t *)p)[i];
	case SCOUT_INT8:
		return ((const int8_t *)p)[i];
	case SCOUT_INT16:
		return ((const int16_t *)p)[i];
	case SCOUT_UINT16:
		return ((const uint16_t *)p)[i];
	case SCOUT_INT32:
		return ((const int32_t *)p)[i];
	case SCOUT_UINT32:
		return ((const uint32_t *)p)[i];
	case SCOUT_INT64:
		return (double)((const int64_t *)p)[i];
	case SCOUT_UINT64:
		return (double)((const uint64_t *)p)[i];
	case SCOUT_FLOAT32:
		return ((const float *)p)[i];
	case SCOUT_FLOAT64:
		return ((const double *)p)[i];
	default:
		return 0;
	}
}

uint64_t scout__elem_get_i(const void *p, scout_dtype t, size_t i)
{
	switch (t) {
	case SCOUT_BOOL:
	case SCOUT_UINT8:
		return ((const uint8_t *)p)[i];
	case SCOUT_INT8:
		return (uint64_t)(int64_t)((const int8_t *)p)[i];
	case SCOUT_INT16:
		return (uint64_t)(int64_t)((const int16_t *)p)[i];
	case SCOUT_UINT16:
		return ((const uint16_t *)p)[i];
	case SCOUT_INT32:
		return (uint64_t)(int64_t)((const int32_t *)p)[i];
	case SCOUT_UINT32:
		return ((const uint32_t *)p)[i];
	case SCOUT_INT64:
		return (uint64_t)((const int64_t *)p)[i];
	case SCOUT_UINT64:
		return ((const uint64_t *)p)[i];
	default:
		return 0;
	}
}

void scout__elem_set_i(void *p, scout_dtype t, size_t i, uint64_t v)
{
	switch (t) {
	case SCOUT_BOOL:
		((uint8_t *)p)[i] = v != 0;
		break;
	case SCOUT_UINT8:
	case SCOUT_INT8:
		((uint8_t *)p)[i] = (uint8_t)v;
		break;
	case SCOUT_INT16:
	case SCOUT_UINT16:
		((uint16_t *)p)[i] = (uint16_t)v;
		break;
	case SCOUT_INT32:
	case SCOUT_UINT32:
		((uint32_t *)p)[i] = (uint32_t)v;
		break;
	case SCOUT_INT64:
	case SCOUT_UINT64:
		((uint64_t *)p)[i] = v;
		break;
	default:
		break;
	}
}

json_t *scout__stage_filter_config(const scout_stage *s)
{
	const char *name = s->vt->name;
	if (s->vt->kind != SCOUT_STAGE_AA || strncmp(name, "numcodecs.", 10) != 0)
		return NULL;
	json_t *j = s->vt->to_json(s);
	json_t *c = json_object();
	if (!j || !c) {
		json_decref(j);
		json_decref(c);
		return NULL;
	}
	json_object_set_new(c, "id", json_string(name + 10));
	json_t *cfg = json_object_get(j, "configuration");
	if (cfg)
		json_object_update(c, cfg);
	json_decref(j);
	return c;
}
