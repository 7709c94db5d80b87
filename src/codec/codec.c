/*
 * The codec dispatcher: selects a codec by numcodecs id and forwards calls to
 * its vtable, plus the config-parsing helpers the codec files share.
 *
 * Errors follow codec.h: unknown ids and bad fields are SCOUT_EFORMAT (the
 * message names the id and the field), corrupt data SCOUT_ECODEC (the message
 * starts with the codec id; callers prefix the chunk key). A config that
 * numcodecs accepts for decoding but cannot encode with (lzma format 0, or
 * preset together with filters) gives SCOUT_EFORMAT from scout__codec_encode.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec_impl.h"
#include "core/bufpool.h"

static const scout_codec_vtable *const codecs[] = {
    &scout__codec_blosc, &scout__codec_zlib, &scout__codec_gzip, &scout__codec_bz2,
    &scout__codec_lzma,  &scout__codec_zstd, &scout__codec_lz4,
};

int scout__codec_new(scout_codec **out, const json_t *config, size_t typesize)
{
	if (!out)
		return scout__error(SCOUT_EINVAL, "codec: output pointer is NULL");
	*out = NULL;
	if (!config || json_is_null(config))
		return scout__codec_none.create(out, NULL, typesize);
	if (!json_is_object(config))
		return scout__error(SCOUT_EFORMAT,
				    "codec config must be a JSON object or null, not a JSON %s",
				    json_is_array(config)    ? "array"
				    : json_is_string(config) ? "string"
				    : json_is_number(config) ? "number"
							     : "boolean");
	const json_t *idv = json_object_get(config, "id");
	if (!idv)
		return scout__error(SCOUT_EFORMAT, "codec config has no \"id\" field");
	if (!json_is_string(idv))
		return scout__error(SCOUT_EFORMAT, "codec config field \"id\" is not a string");
	const char *id = json_string_value(idv);
	for (size_t i = 0; i < sizeof codecs / sizeof codecs[0]; i++)
		if (strcmp(codecs[i]->id, id) == 0)
			return codecs[i]->create(out, config, typesize);
	return scout__error(SCOUT_EFORMAT,
			    "unsupported codec id \"%s\" (supported: blosc, zlib, gzip, bz2, lzma, "
			    "zstd, lz4, or null for none)",
			    id);
}

int scout__codec_new_from_text(scout_codec **out, const char *json_text, size_t typesize)
{
	if (!out)
		return scout__error(SCOUT_EINVAL, "codec: output pointer is NULL");
	*out = NULL;
	if (!json_text)
		return scout__codec_new(out, NULL, typesize);
	json_error_t err;
	json_t *config = json_loads(json_text, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &err);
	if (!config)
		return scout__error(SCOUT_EFORMAT,
				    "codec config: invalid JSON at line %d, column %d: %s",
				    err.line, err.column, err.text);
	int rc = scout__codec_new(out, config, typesize);
	json_decref(config);
	return rc;
}

void scout__codec_free(scout_codec *codec)
{
	if (codec)
		codec->vt->destroy(codec);
}

const char *scout__codec_id(const scout_codec *codec)
{
	return codec->vt->id;
}

json_t *scout__codec_config(const scout_codec *codec)
{
	return codec->vt->config(codec);
}

int scout__codec_encode(const scout_codec *codec, const void *src, size_t n, void **dst_out,
			size_t *dst_size_out)
{
	if (!codec || !dst_out || !dst_size_out || (!src && n))
		return scout__error(SCOUT_EINVAL, "codec encode: NULL argument");
	*dst_out = NULL;
	*dst_size_out = 0;
	return codec->vt->encode(codec, src, n, dst_out, dst_size_out);
}

int scout__codec_decode(const scout_codec *codec, const void *src, size_t n, void *dst,
			size_t expected)
{
	if (!codec || (!src && n) || (!dst && expected))
		return scout__error(SCOUT_EINVAL, "codec decode: NULL argument");
	return codec->vt->decode(codec, src, n, dst, expected);
}

/* ---- helpers shared by the codec files ---- */

int scout__codec_check_keys(const json_t *config, const char *id, const char *const *allowed)
{
	const char *key;
	json_t *value;
	json_object_foreach((json_t *)config, key, value)
	{
		(void)value;
		if (strcmp(key, "id") == 0)
			continue;
		int ok = 0;
		for (const char *const *a = allowed; *a; a++)
			if (strcmp(*a, key) == 0)
				ok = 1;
		if (!ok) {
			char names[256] = "";
			size_t len = 0;
			for (const char *const *a = allowed; *a; a++) {
				int w = snprintf(names + len, sizeof names - len, "%s%s",
						 a == allowed ? "" : ", ", *a);
				if (w < 0 || (size_t)w >= sizeof names - len)
					break;
				len += (size_t)w;
			}
			return scout__error(SCOUT_EFORMAT,
					    "%s codec: unknown config field \"%s\" (known: %s)", id,
					    key, names);
		}
	}
	return SCOUT_OK;
}

int scout__codec_get_int(long long *out, int *is_null, const json_t *config, const char *id,
			 const char *field, long long def, long long min, long long max,
			 int null_ok)
{
	json_t *v = json_object_get(config, field);
	if (is_null)
		*is_null = 0;
	*out = def;
	if (!v)
		return SCOUT_OK;
	if (json_is_null(v)) {
		if (null_ok) {
			if (is_null)
				*is_null = 1;
			return SCOUT_OK;
		}
		return scout__error(SCOUT_EFORMAT,
				    "%s codec: field \"%s\" is null, expected an integer", id,
				    field);
	}
	if (!json_is_integer(v))
		return scout__error(SCOUT_EFORMAT,
				    "%s codec: field \"%s\" must be an integer%s, not a JSON %s",
				    id, field, null_ok ? " or null" : "",
				    json_is_real(v)      ? "real number"
				    : json_is_string(v)  ? "string"
				    : json_is_boolean(v) ? "boolean"
				    : json_is_array(v)   ? "array"
							 : "object");
	long long x = json_integer_value(v);
	if (x < min || x > max)
		return scout__error(SCOUT_EFORMAT,
				    "%s codec: field \"%s\" is %lld, expected %lld to %lld", id,
				    field, x, min, max);
	*out = x;
	return SCOUT_OK;
}

int scout__codec_size_error(const char *id, size_t got, size_t expected)
{
	return scout__error(SCOUT_ECODEC, "%s: decoded size %zu differs from the chunk's %zu bytes",
			    id, got, expected);
}

int scout__codec_too_long_error(const char *id, size_t expected)
{
	return scout__error(SCOUT_ECODEC,
			    "%s: data decodes to more than the chunk's %zu bytes (stopped there)",
			    id, expected);
}

void *scout__codec_malloc(size_t n, const char *id)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		scout__error(SCOUT_ENOMEM, "%s: cannot allocate %zu bytes", id, n);
	return p;
}

void *scout__codec_scratch(size_t cap, const char *id)
{
	void *p = scout__buf_alloc(cap);
	if (!p)
		scout__error(SCOUT_ENOMEM, "%s: cannot allocate %zu bytes", id, cap);
	return p;
}

static _Thread_local size_t *take_pooled; /* scout__codec_take_pooled() */

/* Values of a page or more are handed out page-aligned (fit for O_DIRECT). */
#define TAKE_PAGE ((size_t)4096)

size_t *scout__codec_take_pooled(size_t *cap_out)
{
	size_t *old = take_pooled;
	take_pooled = cap_out;
	return old;
}

int scout__codec_take(void **dst_out, size_t *dst_size_out, void *scratch, size_t cap, size_t n,
		      const char *id)
{
	if (take_pooled && n >= TAKE_PAGE) {
		/*
		 * The scratch itself. From 64 KiB a pool slot, 4 KiB-aligned for a
		 * direct write; a smaller one is malloc'd, but no store writes so
		 * small a value past the page cache.
		 */
		*take_pooled = cap;
		take_pooled = NULL;
		*dst_out = scratch;
		*dst_size_out = n;
		return SCOUT_OK;
	}
	/*
	 * A value of a page or more starts on a page, so that a store writing it
	 * past the page cache (O_DIRECT) takes it as it is, with no bounce copy.
	 */
	void *d = NULL;
	if (n < TAKE_PAGE)
		d = scout__codec_malloc(n, id);
	else if (posix_memalign(&d, TAKE_PAGE, n) != 0) {
		d = NULL;
		scout__error(SCOUT_ENOMEM, "%s: cannot allocate %zu bytes", id, n);
	}
	if (d && n)
		memcpy(d, scratch, n);
	scout__buf_free(scratch, cap);
	if (!d)
		return SCOUT_ENOMEM;
	*dst_out = d;
	*dst_size_out = n;
	return SCOUT_OK;
}

void scout__codec_scratch_free(void *scratch, size_t cap)
{
	scout__buf_free(scratch, cap);
}

json_t *scout__codec_config_int(const char *id, const char *field, long long value)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	json_object_set_new(o, "id", json_string(id));
	json_object_set_new(o, field, json_integer(value));
	return o;
}
