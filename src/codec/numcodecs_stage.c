/*
 * Bytes->bytes stages around the numcodecs compressors of this layer
 * (blosc.c, gzip.c, zstd.c, zlib.c, bz2.c, lzma.c, lz4.c):
 *
 * - Zarr v3 "blosc": {"cname", "clevel", "shuffle": "noshuffle" | "shuffle" |
 *   "bitshuffle", "typesize", "blocksize"}; typesize defaults to the item
 *   size. Decoding trusts the blosc frame header (other writers set typesize
 *   and shuffle differently from the metadata).
 * - Zarr v3 "gzip" {"level"} and "zstd" {"level", "checksum"}.
 * - "numcodecs.<id>": the numcodecs config of <id> (without "id"), as
 *   zarr-python 3 names numcodecs codecs in v3 chains and as scout shows the
 *   compressors of Zarr v2 arrays that have no v3 equivalent.
 */
#include <blosc.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "codec_impl.h"

typedef struct {
	scout_stage base;
	scout_codec *codec;
	char name[32]; /* as configured: "blosc", "gzip", "zstd" or "numcodecs.<id>" */
	int v3;        /* v3 configuration form */
	size_t typesize;
} nc_stage;

static const scout_stage_vtable nc_vtable;

static const char *const shuffles[] = {"noshuffle", "shuffle", "bitshuffle"};

/* A v3 blosc configuration to a numcodecs one (new reference) and its typesize. */
static int blosc_v3_to_numcodecs(json_t **out, size_t *typesize, const json_t *config,
				 const char *what)
{
	*out = NULL;
	json_t *nc = json_object();
	if (!nc)
		return scout__error(SCOUT_ENOMEM, "out of memory");
	json_object_set_new(nc, "id", json_string("blosc"));
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)config, key, v)
	{
		if (strcmp(key, "shuffle") == 0) {
			int s = -1;
			for (int i = 0; i < 3; i++)
				if (json_is_string(v) &&
				    strcmp(json_string_value(v), shuffles[i]) == 0)
					s = i;
			if (s < 0) {
				json_decref(nc);
				return scout__error(
				    SCOUT_EFORMAT,
				    "%s: codec \"blosc\": configuration field "
				    "\"shuffle\" must be \"noshuffle\", \"shuffle\" or "
				    "\"bitshuffle\"",
				    what);
			}
			json_object_set_new(nc, "shuffle", json_integer(s));
		} else if (strcmp(key, "typesize") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) < 1 ||
			    json_integer_value(v) > 255) {
				json_decref(nc);
				return scout__error(SCOUT_EFORMAT,
						    "%s: codec \"blosc\": configuration field "
						    "\"typesize\" must be an integer from 1 to 255",
						    what);
			}
			*typesize = (size_t)json_integer_value(v);
		} else if (strcmp(key, "cname") == 0 || strcmp(key, "clevel") == 0 ||
			   strcmp(key, "blocksize") == 0) {
			json_object_set(nc, key, v);
		} else {
			json_decref(nc);
			return scout__error(SCOUT_EFORMAT,
					    "%s: codec \"blosc\": unknown configuration field "
					    "\"%s\"",
					    what, key);
		}
	}
	*out = nc;
	return SCOUT_OK;
}

int scout__stage_numcodecs_new(scout_stage **out, const char *name, const json_t *config,
			       const scout_chunk_spec *in, const char *what)
{
	int v3 =
	    strcmp(name, "blosc") == 0 || strcmp(name, "gzip") == 0 || strcmp(name, "zstd") == 0;
	if (!v3 && strncmp(name, "numcodecs.", 10) != 0)
		return SCOUT_ENOTFOUND;
	if (strlen(name) >= sizeof((nc_stage *)0)->name)
		return SCOUT_ENOTFOUND;
	const char *id = v3 ? name : name + 10;
	size_t typesize = in->itemsize;
	json_t *nc = NULL;
	int rc;
	if (config && !json_is_object(config))
		return scout__error(SCOUT_EFORMAT,
				    "%s: codec \"%s\": \"configuration\" must be an object", what,
				    name);
	if (strcmp(name, "blosc") == 0) {
		rc = blosc_v3_to_numcodecs(&nc, &typesize, config, what);
		if (rc < 0)
			return rc;
	} else {
		nc = config ? json_deep_copy(config) : json_object();
		if (!nc)
			return scout__error(SCOUT_ENOMEM, "out of memory");
		if (json_object_get(nc, "id")) {
			json_decref(nc);
			return scout__error(SCOUT_EFORMAT,
					    "%s: codec \"%s\": unknown configuration field \"id\"",
					    what, name);
		}
		json_object_set_new(nc, "id", json_string(id));
	}
	scout_codec *codec = NULL;
	rc = scout__codec_new(&codec, nc, typesize);
	json_decref(nc);
	if (rc < 0)
		return scout__error_prefix(rc, "%s: codec \"%s\": ", what, name);
	if (strcmp(scout__codec_id(codec), "none") == 0) {
		scout__codec_free(codec);
		return scout__error(SCOUT_EFORMAT, "%s: codec \"%s\" is not supported", what, name);
	}
	nc_stage *s = scout__stage_alloc(sizeof *s, &nc_vtable, in);
	if (!s) {
		scout__codec_free(codec);
		return SCOUT_ENOMEM;
	}
	s->codec = codec;
	s->v3 = v3;
	s->typesize = typesize;
	strcpy(s->name, name);
	*out = &s->base;
	return SCOUT_OK;
}

static void nc_destroy(scout_stage *st)
{
	nc_stage *s = (nc_stage *)st;
	scout__codec_free(s->codec);
	free(s);
}

/* The stage in v3 form: {"name", "configuration"}. */
static json_t *nc_json(const scout_stage *st)
{
	const nc_stage *s = (const nc_stage *)st;
	json_t *nc = scout__codec_config(s->codec);
	if (!nc)
		return NULL;
	json_t *c = json_object();
	if (strcmp(s->name, "blosc") == 0) {
		json_int_t sh = json_integer_value(json_object_get(nc, "shuffle"));
		if (sh < 0) /* numcodecs' auto, resolved as numcodecs resolves it */
			sh = s->typesize == 1 ? 2 : 1;
		json_object_set_new(c, "typesize", json_integer((json_int_t)s->typesize));
		json_object_set(c, "cname", json_object_get(nc, "cname"));
		json_object_set(c, "clevel", json_object_get(nc, "clevel"));
		json_object_set_new(c, "shuffle", json_string(shuffles[sh]));
		json_object_set(c, "blocksize", json_object_get(nc, "blocksize"));
	} else if (strcmp(s->name, "zstd") == 0) {
		json_object_set(c, "level", json_object_get(nc, "level"));
		json_object_set_new(c, "checksum",
				    json_boolean(json_is_true(json_object_get(nc, "checksum"))));
	} else {
		const char *key;
		json_t *v;
		json_object_foreach(nc, key, v)
		{
			if (strcmp(key, "id") != 0)
				json_object_set(c, key, v);
		}
	}
	json_decref(nc);
	return scout__stage_json(s->name, c);
}

static int nc_encode(const scout_stage *st, const void *src, size_t n, void **dst_out,
		     size_t *dst_size_out)
{
	return scout__codec_encode(((const nc_stage *)st)->codec, src, n, dst_out, dst_size_out);
}

static int nc_decode(const scout_stage *st, const void *src, size_t n, void *dst, size_t expected,
		     const scout_chunk_source *from)
{
	(void)from;
	return scout__codec_decode(((const nc_stage *)st)->codec, src, n, dst, expected);
}

static int nc_decoded_size(const scout_stage *st, const void *src, size_t n, size_t *size_out)
{
	const nc_stage *s = (const nc_stage *)st;
	const char *id = scout__codec_id(s->codec);
	if (strcmp(id, "blosc") == 0 && n >= BLOSC_MIN_HEADER_LENGTH) {
		size_t nbytes = 0, cbytes = 0, bs = 0;
		blosc_cbuffer_sizes(src, &nbytes, &cbytes, &bs);
		*size_out = nbytes;
		return SCOUT_OK;
	}
	if (strcmp(id, "zstd") == 0) {
		unsigned long long c = ZSTD_getFrameContentSize(src, n);
		if (c != ZSTD_CONTENTSIZE_UNKNOWN && c != ZSTD_CONTENTSIZE_ERROR &&
		    c <= (unsigned long long)SIZE_MAX) {
			*size_out = (size_t)c;
			return SCOUT_OK;
		}
	}
	if (strcmp(id, "lz4") == 0 && n >= 4) {
		const unsigned char *p = src;
		*size_out =
		    (size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16 | (size_t)p[3] << 24;
		return SCOUT_OK;
	}
	if (strcmp(id, "blosc") == 0 || strcmp(id, "zstd") == 0 || strcmp(id, "lz4") == 0)
		/* these store the size; data without it is corrupt or truncated */
		return scout__error(SCOUT_ECODEC,
				    "%s: the data does not state its decoded size (truncated or "
				    "not %s data)",
				    s->name, id);
	return scout__error(SCOUT_EUNSUPPORTED,
			    "%s: the decoded size is unknown before decoding, so it must be the "
			    "first bytes->bytes codec of the chain",
			    s->name);
}

json_t *scout__stage_numcodecs_config(const scout_stage *st)
{
	if (st->vt != &nc_vtable)
		return NULL;
	return scout__codec_config(((const nc_stage *)st)->codec);
}

static const scout_stage_vtable nc_vtable = {
    .name = "numcodecs",
    .kind = SCOUT_STAGE_BB,
    .destroy = nc_destroy,
    .to_json = nc_json,
    .encode = nc_encode,
    .decode = nc_decode,
    .decoded_size = nc_decoded_size,
};
