/* The neutral Zarr metadata model and the mapping of .zarray onto it (see zarr_meta.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"
#include "zarr_meta.h"

void scout__zarr_meta_clear(scout_zarr_meta *m)
{
	if (!m)
		return;
	json_decref(m->codecs);
	json_decref(m->dimension_names);
	json_decref(m->attributes);
	json_decref(m->v2_document);
	memset(m, 0, sizeof *m);
}

static json_t *named(const char *name, json_t *config)
{
	json_t *o = json_object();
	json_object_set_new(o, "name", json_string(name));
	if (config)
		json_object_set_new(o, "configuration", config);
	return o;
}

int scout__compressor_to_v3(json_t **out, const json_t *compressor, size_t itemsize,
			    const char *what)
{
	*out = NULL;
	scout_codec *codec;
	int rc = scout__codec_new(&codec, compressor, itemsize);
	if (rc < 0)
		return scout__error_prefix(rc, "%s: field \"compressor\": ", what);
	json_t *nc = scout__codec_config(codec);
	const char *id = scout__codec_id(codec);
	json_t *c = NULL;
	if (!nc) {
		rc = scout__error(SCOUT_ENOMEM, "out of memory");
	} else if (strcmp(id, "none") == 0) {
		/* no codec */
	} else if (strcmp(id, "blosc") == 0) {
		static const char *const shuffles[] = {"noshuffle", "shuffle", "bitshuffle"};
		json_int_t sh = json_integer_value(json_object_get(nc, "shuffle"));
		if (sh < 0)
			sh = itemsize == 1 ? 2 : 1;
		json_t *cfg = json_object();
		json_object_set_new(cfg, "typesize", json_integer((json_int_t)itemsize));
		json_object_set(cfg, "cname", json_object_get(nc, "cname"));
		json_object_set(cfg, "clevel", json_object_get(nc, "clevel"));
		json_object_set_new(cfg, "shuffle", json_string(shuffles[sh]));
		json_object_set(cfg, "blocksize", json_object_get(nc, "blocksize"));
		c = named("blosc", cfg);
	} else if (strcmp(id, "gzip") == 0) {
		json_t *cfg = json_object();
		json_object_set(cfg, "level", json_object_get(nc, "level"));
		c = named("gzip", cfg);
	} else if (strcmp(id, "zstd") == 0) {
		json_t *cfg = json_object();
		json_object_set(cfg, "level", json_object_get(nc, "level"));
		json_object_set_new(cfg, "checksum",
				    json_boolean(json_is_true(json_object_get(nc, "checksum"))));
		c = named("zstd", cfg);
	} else {
		char name[64];
		snprintf(name, sizeof name, "numcodecs.%s", id);
		json_t *cfg = json_deep_copy(nc);
		json_object_del(cfg, "id");
		c = named(name, cfg);
	}
	json_decref(nc);
	scout__codec_free(codec);
	*out = c;
	return rc;
}

int scout__zarr_meta_from_zarray(scout_zarr_meta *m, const scout_zarray *z, const json_t *doc,
				 const char *what)
{
	memset(m, 0, sizeof *m);
	m->zarr_format = 2;
	m->big_endian = z->big_endian;
	if (doc)
		m->v2_document = json_deep_copy(doc);
	m->ndim = z->ndim;
	memcpy(m->shape, z->shape, sizeof m->shape);
	memcpy(m->chunks, z->chunks, sizeof m->chunks);
	m->dtype = z->dtype;
	m->fill_null = z->fill_null;
	memcpy(m->fill, z->fill, sizeof m->fill);
	m->key_encoding.kind = SCOUT_KEY_V2;
	m->key_encoding.separator = z->separator;
	size_t isz = scout_dtype_size(z->dtype);
	json_t *comp = NULL;
	int rc = scout__compressor_to_v3(&comp, z->compressor, isz, what);
	if (rc < 0)
		return rc;
	m->codecs = json_array();
	if (z->order == 'F') {
		json_t *order = json_array();
		for (int i = z->ndim - 1; i >= 0; i--)
			json_array_append_new(order, json_integer(i));
		json_t *cfg = json_object();
		json_object_set_new(cfg, "order", order);
		json_array_append_new(m->codecs, named("transpose", cfg));
	}
	size_t nf = z->filters ? json_array_size(z->filters) : 0;
	if (nf && z->big_endian && isz > 1) {
		scout__zarr_meta_clear(m);
		json_decref(comp);
		return scout__error(SCOUT_EUNSUPPORTED,
				    "%s: field \"filters\": filters on a big-endian dtype are not "
				    "supported",
				    what);
	}
	for (size_t i = 0; i < nf; i++) {
		static const char *const known[] = {
		    "delta",    "fixedscaleoffset", "quantize", "astype",
		    "bitround", "packbits",         "shuffle",  NULL};
		const json_t *f = json_array_get(z->filters, i);
		const char *id = json_string_value(json_object_get(f, "id"));
		int ok = 0;
		for (int k = 0; known[k]; k++)
			ok |= strcmp(known[k], id) == 0;
		if (!ok) {
			scout__zarr_meta_clear(m);
			json_decref(comp);
			return scout__error(
			    SCOUT_EFORMAT,
			    "%s: field \"filters\": filter \"%s\" is not supported "
			    "(supported: delta, fixedscaleoffset, quantize, astype, "
			    "bitround, packbits, shuffle)",
			    what, id);
		}
		char name[64];
		snprintf(name, sizeof name, "numcodecs.%s", id);
		json_t *cfg = json_deep_copy(f);
		json_object_del(cfg, "id");
		json_array_append_new(m->codecs, named(name, cfg));
	}
	json_t *bcfg = NULL;
	if (isz > 1 || nf) {
		bcfg = json_object();
		json_object_set_new(bcfg, "endian", json_string(z->big_endian ? "big" : "little"));
	}
	json_array_append_new(m->codecs, named("bytes", bcfg));
	if (comp)
		json_array_append_new(m->codecs, comp);
	return SCOUT_OK;
}
