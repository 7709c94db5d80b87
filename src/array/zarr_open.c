/*
 * The Zarr backend of scout_array, opening and creating: discovery of an
 * array's metadata (.zarray, or a consolidated .zmetadata of an enclosing
 * group), the neutral metadata model (format/zarr_meta.h), the codec
 * pipeline (codec/pipeline.h), the store (store/store.h), the handle's cache
 * and locks; attributes; the cache size and counters.
 *
 * Layout: a Zarr array is a store with its metadata key and one key per
 * stored chunk (format/chunk_key.h). Absent chunks read as the fill value.
 * Chunks are stored full size (edge chunks padded with the fill value); in
 * memory scout always works in native byte order and C order, the pipeline
 * maps to and from the stored form. Chunk I/O is zarr_chunk.c, boxes
 * zarr_box.c.
 */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"
#include "scout/zarr.h"
#include "format/zarr_v3.h"
#include "zarr_array.h"
#include "zarr_impl.h"

#define LOCK_NAME ".scout.lock"

static const scout_array_ops zarr_ops;

static scout_zarr_impl *impl_of(const scout_array *arr)
{
	return arr && arr->ops == &zarr_ops ? (scout_zarr_impl *)arr->impl : NULL;
}

scout_zarr_impl *scout__zarr_impl(const scout_array *arr)
{
	return impl_of(arr);
}

/* ---- lifetime ---- */

static void zarr_destroy(scout_array *arr)
{
	scout_zarr_impl *z = arr->impl;
	if (!z)
		return;
	scout__cache_free(z->cache);
	scout__chunk_locks_free(z->locks);
	for (int i = 0; z->decode_mu_init && i < SCOUT_ZARR_DECODE_STRIPES; i++)
		pthread_mutex_destroy(&z->decode_mu[i]);
	scout__pipeline_free(z->pipeline);
	scout__zarr_meta_clear(&z->meta);
	scout__store_free(z->store);
	free(z->path);
	free(z);
	arr->impl = NULL;
}

static void zarr_after_fork(scout_array *arr)
{
	scout_zarr_impl *z = arr->impl;
	scout__chunk_locks_after_fork(z->locks);
	scout__cache_after_fork(z->cache);
	for (int i = 0; i < SCOUT_ZARR_DECODE_STRIPES; i++)
		pthread_mutex_init(&z->decode_mu[i], NULL);
	z->n_read = z->n_decoded = z->n_absent = z->n_hits = z->n_misses = z->n_written = 0;
}

static const scout_array_ops zarr_ops = {
    .kind = "zarr",
    .read = scout__zarr_read_box,
    .write = scout__zarr_write_box,
    .destroy = zarr_destroy,
    .after_fork = zarr_after_fork,
};

/* ---- discovery ---- */

static int is_all_digits(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* '/' if the store holds a digit-named "directory" at its root (nested keys), else '.' */
static char detect_separator(const scout_store *st, int ndim)
{
	if (ndim < 2)
		return '.';
	char **names;
	size_t n;
	if (scout__store_list_dir(&names, &n, st, "") < 0)
		return '.';
	char sep = '.';
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(names[i]);
		if (len > 1 && names[i][len - 1] == '/' && is_all_digits(names[i], len - 1)) {
			sep = '/';
			break;
		}
	}
	scout__store_list_free(names, n);
	return sep;
}

/*
 * Find the array's metadata in a consolidated .zmetadata of an enclosing
 * group (up to 32 levels up). *zarray_out: new reference, or NULL when none.
 */
static int find_consolidated(json_t **zarray_out, char *what, size_t whatsize, const char *path)
{
	*zarray_out = NULL;
	char *abs = realpath(path, NULL);
	if (!abs)
		return SCOUT_ENOTFOUND;
	size_t len = strlen(abs);
	int rc = SCOUT_ENOTFOUND;
	for (int level = 0; level < 32; level++) {
		char *slash = NULL;
		for (size_t i = len; i > 0; i--)
			if (abs[i - 1] == '/') {
				slash = abs + i - 1;
				break;
			}
		if (!slash || slash == abs)
			break;
		len = (size_t)(slash - abs);
		char dir[PATH_MAX];
		snprintf(dir, sizeof dir, "%.*s", (int)len, abs);
		scout_store *st;
		if (scout__store_open(&st, dir, 0) < 0)
			break;
		void *text;
		size_t n;
		int grc = scout__store_get(&text, &n, NULL, st, ".zmetadata");
		scout__store_free(st);
		if (grc < 0)
			continue;
		json_error_t err;
		json_t *root = json_loadb(text, n, 0, &err);
		free(text);
		if (!root)
			continue;
		char zm[PATH_MAX + 16], keyname[PATH_MAX];
		snprintf(zm, sizeof zm, "%s/.zmetadata", dir);
		snprintf(keyname, sizeof keyname, "%s/.zarray", abs + len + 1);
		const json_t *found;
		if (scout__zmetadata_get(&found, root, keyname, zm) == SCOUT_OK) {
			*zarray_out = json_incref((json_t *)found);
			snprintf(what, whatsize, "%.2000s[\"%.1000s\"]", zm, keyname);
			rc = SCOUT_OK;
		}
		json_decref(root);
		break;
	}
	free(abs);
	return rc;
}

int scout__zarr_probe(const char *path)
{
	scout_store *st;
	int rc = scout__store_open(&st, path, 0);
	if (rc < 0)
		return rc;
	rc = scout__store_head(NULL, st, ".zarray");
	if (rc == SCOUT_ENOTFOUND)
		rc = scout__store_head(NULL, st, "zarr.json");
	scout__store_free(st);
	if (rc == SCOUT_OK)
		return 1;
	if (rc != SCOUT_ENOTFOUND)
		return rc;
	json_t *meta;
	char what[PATH_MAX + 64];
	if (find_consolidated(&meta, what, sizeof what, path) == SCOUT_OK) {
		json_decref(meta);
		return 1;
	}
	return 0;
}

static size_t default_cache_size(void)
{
	const char *env = getenv("SCOUT_ZARR_CACHE");
	if (env && *env) {
		char *end;
		unsigned long long v = strtoull(env, &end, 10);
		if (*end == '\0')
			return (size_t)v;
	}
	return SCOUT_ZARR_CACHE_DEFAULT;
}

/* v2: .zarray text (or a consolidated entry's object) into z->meta */
static int meta_from_v2(scout_zarr_impl *z, const json_t *doc, const char *what)
{
	scout_zarray za;
	int rc = scout__zarray_from_json(&za, doc, what);
	if (rc < 0)
		return rc;
	strcpy(z->meta_key, ".zarray");
	rc = scout__zarr_meta_from_zarray(&z->meta, &za, doc, what);
	scout__zarray_clear(&za);
	return rc;
}

/*
 * Read the array's metadata into z->meta: .zarray, else zarr.json, else an
 * entry of a consolidated .zmetadata above; `what` names where it came from.
 */
static int read_meta(scout_zarr_impl *z, char *what, size_t whatsize)
{
	void *text = NULL;
	size_t len = 0;
	json_t *doc = NULL;
	snprintf(what, whatsize, "%s/.zarray", z->path);
	int rc = scout__store_get(&text, &len, NULL, z->store, ".zarray");
	if (rc == SCOUT_OK) {
		rc = scout__json_parse(&doc, text, len, what);
		free(text);
		if (rc == SCOUT_OK)
			rc = meta_from_v2(z, doc, what);
		json_decref(doc);
		return rc;
	}
	if (rc != SCOUT_ENOTFOUND)
		return rc;
	snprintf(what, whatsize, "%s/zarr.json", z->path);
	rc = scout__store_get(&text, &len, NULL, z->store, "zarr.json");
	if (rc == SCOUT_OK) {
		rc = scout__json_parse(&doc, text, len, what);
		free(text);
		if (rc == SCOUT_OK) {
			rc = scout__zarr_v3_node_type(doc, what);
			if (rc == 2)
				rc = scout__error(SCOUT_EFORMAT, "%s: a Zarr group, not an array",
						  what);
			else if (rc == 1)
				rc = scout__zarr_v3_from_json(&z->meta, doc, what);
		}
		json_decref(doc);
		strcpy(z->meta_key, "zarr.json");
		return rc;
	}
	if (rc != SCOUT_ENOTFOUND)
		return rc;
	if (find_consolidated(&doc, what, whatsize, z->path) == SCOUT_OK) {
		rc = meta_from_v2(z, doc, what);
		json_decref(doc);
		return rc;
	}
	return scout__error(SCOUT_ENOTFOUND,
			    "%s: no .zarray or zarr.json file: not a Zarr array directory",
			    z->path);
}

int scout__zarr_open(scout_array **out, const char *path, int mode)
{
	*out = NULL;
	scout_zarr_impl *z = calloc(1, sizeof *z);
	if (!z)
		return scout__error(SCOUT_ENOMEM, "%s: out of memory", path);
	scout_array *arr = NULL;
	char what[PATH_MAX + 64];
	int rc;
	for (int i = 0; i < SCOUT_ZARR_DECODE_STRIPES; i++)
		pthread_mutex_init(&z->decode_mu[i], NULL);
	z->decode_mu_init = 1;
	z->path = scout__strdup(path);
	if (!z->path) {
		rc = SCOUT_ENOMEM;
		goto fail;
	}
	rc = scout__store_open(&z->store, path, 0);
	if (rc < 0)
		goto fail;
	rc = read_meta(z, what, sizeof what);
	if (rc < 0)
		goto fail;
	size_t isz = scout_dtype_size(z->meta.dtype);
	scout_chunk_spec spec;
	memset(&spec, 0, sizeof spec);
	spec.dtype = z->meta.dtype;
	spec.itemsize = isz;
	spec.ndim = z->meta.ndim;
	memcpy(spec.shape, z->meta.chunks, sizeof spec.shape);
	spec.fill = z->meta.fill;
	rc = scout__pipeline_new(&z->pipeline, z->meta.codecs, &spec, what);
	if (rc < 0)
		goto fail;
	/* sharded: read by inner chunk, write by shard (zarr_shard.c) */
	z->shard = scout__pipeline_shard_codec(z->pipeline);
	const int64_t *read_chunks =
	    z->shard ? scout__shard_codec_inner_shape(z->shard) : z->meta.chunks;
	z->keys = z->meta.key_encoding;
	if (!z->keys.separator)
		z->keys.separator = detect_separator(z->store, z->meta.ndim);
	rc = scout__array_alloc(&arr, &zarr_ops, z->meta.ndim, z->meta.shape, read_chunks,
				z->meta.dtype, (mode & SCOUT_MODE_WRITE) != 0);
	if (rc < 0) {
		rc = scout__error_prefix(rc, "%s: ", what);
		goto fail;
	}
	rc = scout__shape_size(&z->chunk_nelems, &z->chunk_nbytes, z->meta.ndim, read_chunks, isz);
	if (rc < 0) {
		rc = scout__error_prefix(rc, "%s: field \"chunks\": ", what);
		goto fail;
	}
	for (int i = 0; i < z->meta.ndim; i++) {
		z->grid[i] = (z->meta.shape[i] + z->meta.chunks[i] - 1) / z->meta.chunks[i];
		z->inner_grid[i] = (z->meta.shape[i] + read_chunks[i] - 1) / read_chunks[i];
		arr->write_chunks[i] = z->meta.chunks[i];
	}
	z->shard_nbytes = scout__pipeline_chunk_nbytes(z->pipeline);
	rc = scout__cache_new(&z->cache, default_cache_size(), z->chunk_nbytes);
	if (rc < 0)
		goto fail;
	char lockp[PATH_MAX];
	rc = scout__store_path(lockp, sizeof lockp, z->store, LOCK_NAME);
	if (rc < 0)
		goto fail;
	rc = scout__chunk_locks_new(&z->locks, lockp);
	if (rc < 0)
		goto fail;
	arr->impl = z;
	*out = arr;
	return SCOUT_OK;
fail:
	free(arr);
	arr = NULL;
	{
		scout_array tmp = {.impl = z};
		zarr_destroy(&tmp);
	}
	return rc;
}

/* ---- create ---- */

/*
 * Replace whatever is at path (when overwrite allows) by a new store holding
 * key = text, then open it.
 */
static int write_new(scout_array **out, const char *path, int overwrite, const char *key,
		     const char *text)
{
	scout_store *st = NULL;
	int rc = scout__store_open(&st, path, 0);
	if (rc < 0)
		return rc;
	int exists = scout__store_exists(st);
	if (exists < 0) {
		rc = exists;
	} else if (exists && !overwrite) {
		rc = scout__error(SCOUT_EIO, "%s: already exists (set overwrite to replace it)",
				  path);
	} else if (exists) {
		rc = scout__store_delete_prefix(st, "");
	}
	scout__store_free(st);
	st = NULL;
	if (rc == SCOUT_OK)
		rc = scout__store_open(&st, path, SCOUT_STORE_CREATE);
	if (rc == SCOUT_OK)
		rc = scout__store_set(st, key, text, strlen(text), NULL);
	scout__store_free(st);
	if (rc < 0)
		return rc;
	return scout__zarr_open(out, path, SCOUT_MODE_READ | SCOUT_MODE_WRITE);
}

/* The default v3 chain: [transpose (order F)], bytes, the compressor in v3 form. */
static int default_chain(json_t **out, const scout_zarr_options *opts, const scout_zarray *z)
{
	*out = NULL;
	size_t isz = scout_dtype_size(z->dtype);
	const char *ctext =
	    opts->compressor
		? opts->compressor
		: "{\"id\": \"blosc\", \"cname\": \"zstd\", \"clevel\": 1, \"shuffle\": 2}";
	json_t *cj, *comp = NULL;
	int rc = scout__json_parse(&cj, ctext, strlen(ctext), "zarr_create: compressor");
	if (rc < 0)
		return rc;
	rc = scout__compressor_to_v3(&comp, cj, isz, "zarr_create");
	json_decref(cj);
	if (rc < 0)
		return rc;
	json_t *list = json_array();
	if (z->order == 'F') {
		json_t *t = json_object(), *c = json_object(), *ord = json_array();
		for (int i = z->ndim - 1; i >= 0; i--)
			json_array_append_new(ord, json_integer(i));
		json_object_set_new(c, "order", ord);
		json_object_set_new(t, "name", json_string("transpose"));
		json_object_set_new(t, "configuration", c);
		json_array_append_new(list, t);
	}
	json_t *b = json_object();
	json_object_set_new(b, "name", json_string("bytes"));
	if (isz > 1) {
		json_t *c = json_object();
		json_object_set_new(c, "endian", json_string(z->big_endian ? "big" : "little"));
		json_object_set_new(b, "configuration", c);
	}
	json_array_append_new(list, b);
	if (comp)
		json_array_append_new(list, comp);
	*out = list;
	return SCOUT_OK;
}

/*
 * With opts->shards set: the chain becomes one sharding_indexed codec holding
 * it, with m->chunks (the options' chunks) as its inner chunk, and the chunk
 * grid becomes the shards.
 */
static int wrap_in_shards(scout_zarr_meta *m, const scout_zarr_options *opts)
{
	int any = 0;
	for (int i = 0; i < m->ndim; i++)
		any |= opts->shards[i] != 0;
	if (!any)
		return SCOUT_OK;
	for (int i = 0; i < m->ndim; i++)
		if (opts->shards[i] <= 0 || opts->shards[i] % m->chunks[i] != 0)
			return scout__error(SCOUT_EINVAL,
					    "zarr_create: shards[%d] = %lld is not a positive "
					    "multiple of chunks[%d] = %lld",
					    i, (long long)opts->shards[i], i,
					    (long long)m->chunks[i]);
	const char *loc = opts->index_location ? opts->index_location : "end";
	if (strcmp(loc, "end") != 0 && strcmp(loc, "start") != 0)
		return scout__error(
		    SCOUT_EINVAL, "zarr_create: index_location \"%s\" is not \"end\" or \"start\"",
		    loc);
	json_t *cfg = json_object(), *inner = json_array(), *ic = json_array(), *bc = json_object();
	for (int i = 0; i < m->ndim; i++)
		json_array_append_new(inner, json_integer(m->chunks[i]));
	json_object_set_new(cfg, "chunk_shape", inner);
	json_object_set_new(cfg, "codecs", m->codecs);
	json_object_set_new(bc, "name", json_string("bytes"));
	json_object_set_new(bc, "configuration", json_pack("{s:s}", "endian", "little"));
	json_array_append_new(ic, bc);
	json_array_append_new(ic, json_pack("{s:s}", "name", "crc32c"));
	json_object_set_new(cfg, "index_codecs", ic);
	json_object_set_new(cfg, "index_location", json_string(loc));
	m->codecs = json_pack("[{s:s,s:o}]", "name", "sharding_indexed", "configuration", cfg);
	if (!m->codecs)
		return scout__error(SCOUT_ENOMEM, "zarr_create: out of memory");
	for (int i = 0; i < m->ndim; i++)
		m->chunks[i] = opts->shards[i];
	return SCOUT_OK;
}

/* Create a Zarr v3 array from the checked geometry in z and the v3 options. */
static int create_v3(scout_array **out, const char *path, const scout_zarr_options *opts,
		     const scout_zarray *z)
{
	scout_zarr_meta m;
	memset(&m, 0, sizeof m);
	m.zarr_format = 3;
	m.ndim = z->ndim;
	memcpy(m.shape, z->shape, sizeof m.shape);
	memcpy(m.chunks, z->chunks, sizeof m.chunks);
	m.dtype = z->dtype;
	m.big_endian = z->big_endian;
	int rc = SCOUT_OK;
	json_t *j = NULL;
	if (opts->fill_value) {
		rc = scout__json_parse(&j, opts->fill_value, strlen(opts->fill_value),
				       "zarr_create: fill_value");
		if (rc == SCOUT_OK)
			rc = scout__v3_fill_parse(m.fill, j, m.dtype, "zarr_create");
		json_decref(j);
		j = NULL;
		if (rc < 0)
			return rc;
	}
	const char *cke = opts->chunk_key_encoding ? opts->chunk_key_encoding : "default";
	if (strcmp(cke, "default") == 0)
		m.key_encoding.kind = SCOUT_KEY_DEFAULT;
	else if (strcmp(cke, "v2") == 0)
		m.key_encoding.kind = SCOUT_KEY_V2;
	else
		return scout__error(SCOUT_EINVAL,
				    "zarr_create: chunk_key_encoding \"%s\" is not \"default\" or "
				    "\"v2\"",
				    cke);
	m.key_encoding.separator = z->separator;
	if (opts->codecs) {
		if (z->order == 'F') {
			rc = scout__error(
			    SCOUT_EINVAL,
			    "zarr_create: order 'F' with an explicit codec list: put a "
			    "transpose codec in the list instead");
			goto done;
		}
		rc = scout__json_parse(&m.codecs, opts->codecs, strlen(opts->codecs),
				       "zarr_create: codecs");
	} else {
		rc = default_chain(&m.codecs, opts, z);
	}
	if (rc < 0)
		goto done;
	rc = wrap_in_shards(&m, opts);
	if (rc < 0)
		goto done;
	if (opts->dimension_names) {
		rc = scout__json_parse(&m.dimension_names, opts->dimension_names,
				       strlen(opts->dimension_names),
				       "zarr_create: dimension_names");
		if (rc < 0)
			goto done;
		int ok = json_is_array(m.dimension_names) &&
			 json_array_size(m.dimension_names) == (size_t)m.ndim;
		for (size_t i = 0; ok && i < json_array_size(m.dimension_names); i++) {
			const json_t *e = json_array_get(m.dimension_names, i);
			ok = json_is_string(e) || json_is_null(e);
		}
		if (!ok) {
			rc = scout__error(SCOUT_EINVAL,
					  "zarr_create: dimension_names must be a list of %d "
					  "strings or nulls",
					  m.ndim);
			goto done;
		}
	}
	m.attributes = json_object();
	/* check the chain, and write it normalised (every configuration field) */
	scout_chunk_spec spec;
	memset(&spec, 0, sizeof spec);
	spec.dtype = m.dtype;
	spec.itemsize = scout_dtype_size(m.dtype);
	spec.ndim = m.ndim;
	memcpy(spec.shape, m.chunks, sizeof spec.shape);
	scout_pipeline *p;
	rc = scout__pipeline_new(&p, m.codecs, &spec, "zarr_create: codecs");
	if (rc < 0)
		goto done;
	json_decref(m.codecs);
	m.codecs = scout__pipeline_json(p);
	scout__pipeline_free(p);
	char *text = NULL;
	rc = scout__zarr_v3_dump(&text, &m);
	if (rc < 0)
		goto done;
	rc = write_new(out, path, opts->overwrite, "zarr.json", text);
	free(text);
done:
	scout__zarr_meta_clear(&m);
	return rc;
}

/* Parse, check (through the pipeline, for z's chunk) and normalise v2 filters into z->filters. */
static int v2_filters(scout_zarray *z, const char *text)
{
	json_t *f;
	int rc = scout__json_parse(&f, text, strlen(text), "zarr_create: filters");
	if (rc < 0)
		return rc;
	if (json_is_null(f) || (json_is_array(f) && json_array_size(f) == 0)) {
		json_decref(f);
		return SCOUT_OK;
	}
	json_t *doc = json_object();
	json_object_set_new(doc, "zarr_format", json_integer(2));
	json_object_set_new(doc, "filters", f);
	/* reuse the .zarray parser's checks of the list */
	json_t *shape = json_array(), *chunks = json_array();
	for (int i = 0; i < z->ndim; i++) {
		json_array_append_new(shape, json_integer(z->shape[i]));
		json_array_append_new(chunks, json_integer(z->chunks[i]));
	}
	json_object_set_new(doc, "shape", shape);
	json_object_set_new(doc, "chunks", chunks);
	char ts[8];
	scout_dtype_typestr(ts, z->dtype, z->big_endian);
	json_object_set_new(doc, "dtype", json_string(ts));
	json_object_set_new(doc, "order", json_string(z->order == 'F' ? "F" : "C"));
	scout_zarray tmp;
	rc = scout__zarray_from_json(&tmp, doc, "zarr_create");
	json_decref(doc);
	if (rc < 0)
		return rc;
	scout_zarr_meta m;
	rc = scout__zarr_meta_from_zarray(&m, &tmp, NULL, "zarr_create");
	scout__zarray_clear(&tmp);
	if (rc < 0)
		return rc;
	scout_chunk_spec spec;
	memset(&spec, 0, sizeof spec);
	spec.dtype = z->dtype;
	spec.itemsize = scout_dtype_size(z->dtype);
	spec.ndim = z->ndim;
	memcpy(spec.shape, z->chunks, sizeof spec.shape);
	scout_pipeline *p;
	rc = scout__pipeline_new(&p, m.codecs, &spec, "zarr_create: filters");
	scout__zarr_meta_clear(&m);
	if (rc < 0)
		return rc;
	z->filters = scout__pipeline_filters(p);
	scout__pipeline_free(p);
	return z->filters ? SCOUT_OK : scout__error(SCOUT_ENOMEM, "zarr_create: out of memory");
}

int scout_zarr_create(scout_array **out, const char *path, const scout_zarr_options *opts_in)
{
	if (!out || !path || !*path || !opts_in)
		return scout__error(SCOUT_EINVAL, "zarr_create: NULL argument");
	*out = NULL;
	scout_zarr_options o = SCOUT_ZARR_OPTIONS_INIT;
	if (opts_in->version == SCOUT_ZARR_OPTIONS_VERSION)
		o = *opts_in;
	else if (opts_in->version == 3) /* without filters: read only its own */
		memcpy(&o, opts_in, offsetof(scout_zarr_options, filters));
	else if (opts_in->version == 2) /* without shards */
		memcpy(&o, opts_in, offsetof(scout_zarr_options, shards));
	else if (opts_in->version == 1) /* without the v3 fields: read only its own */
		memcpy(&o, opts_in, offsetof(scout_zarr_options, zarr_format));
	else
		return scout__error(SCOUT_EINVAL, "zarr_create: options version %u, expected %d",
				    opts_in->version, SCOUT_ZARR_OPTIONS_VERSION);
	const scout_zarr_options *opts = &o;
	if (opts->zarr_format != 0 && opts->zarr_format != 2 && opts->zarr_format != 3)
		return scout__error(SCOUT_EINVAL, "zarr_create: zarr_format %d is not 2 or 3",
				    opts->zarr_format);
	int rc = scout__check_shape(opts->ndim, opts->shape, "zarr_create");
	if (rc < 0)
		return rc;
	if (!opts->dtype)
		return scout__error(SCOUT_EINVAL, "zarr_create: dtype is NULL");
	scout_zarray z;
	memset(&z, 0, sizeof z);
	z.ndim = opts->ndim;
	int all_zero = 1;
	for (int i = 0; i < opts->ndim; i++)
		if (opts->chunks[i] != 0)
			all_zero = 0;
	for (int i = 0; i < opts->ndim; i++) {
		z.shape[i] = opts->shape[i];
		if (all_zero)
			z.chunks[i] = 64; /* as SCOUT and zarr-python: not clipped to the shape */
		else
			z.chunks[i] = opts->chunks[i];
	}
	rc = scout__check_chunks(opts->ndim, z.chunks, "zarr_create");
	if (rc < 0)
		return rc;
	rc = scout_dtype_parse(&z.dtype, &z.big_endian, opts->dtype);
	if (rc < 0)
		return rc;
	size_t isz = scout_dtype_size(z.dtype);
	if (isz == 1)
		z.big_endian = 0;
	rc = scout__shape_size(NULL, NULL, z.ndim, z.shape, isz);
	if (rc < 0)
		return scout__error_prefix(rc, "zarr_create: ");
	rc = scout__shape_size(NULL, NULL, z.ndim, z.chunks, isz);
	if (rc < 0)
		return scout__error_prefix(rc, "zarr_create: chunks: ");
	char order = opts->order ? opts->order : 'C';
	char sep = opts->dimension_separator ? opts->dimension_separator : '/';
	if (order != 'C' && order != 'F')
		return scout__error(SCOUT_EINVAL, "zarr_create: order '%c' is not 'C' or 'F'",
				    order);
	if (sep != '.' && sep != '/')
		return scout__error(SCOUT_EINVAL,
				    "zarr_create: dimension_separator '%c' is not '.' or '/'", sep);
	z.order = order;
	z.separator = sep;
	for (int i = 0; i < opts->ndim && opts->zarr_format != 3; i++)
		if (opts->shards[i] != 0)
			return scout__error(
			    SCOUT_EINVAL, "zarr_create: shards need zarr_format 3 (Zarr v2 has no "
					  "sharding)");
	if (opts->zarr_format == 3) {
		if (opts->filters && strcmp(opts->filters, "null") && strcmp(opts->filters, "[]"))
			return scout__error(SCOUT_EINVAL,
					    "zarr_create: filters is for Zarr v2; Zarr v3 takes "
					    "them in codecs as \"numcodecs.<id>\" codecs");
		rc = create_v3(out, path, opts, &z);
		scout__zarray_clear(&z);
		return rc;
	}
	/* fill value */
	if (opts->fill_value) {
		json_t *fv;
		rc = scout__json_parse(&fv, opts->fill_value, strlen(opts->fill_value),
				       "zarr_create: fill_value");
		if (rc < 0)
			return rc;
		rc = scout__fill_value_parse(z.fill, &z.fill_null, fv, z.dtype, "zarr_create");
		json_decref(fv);
		if (rc < 0)
			return rc;
	}
	/* compressor, normalised by the codec layer */
	const char *ctext =
	    opts->compressor
		? opts->compressor
		: "{\"id\": \"blosc\", \"cname\": \"zstd\", \"clevel\": 1, \"shuffle\": 2}";
	scout_codec *codec;
	rc = scout__codec_new_from_text(&codec, ctext, isz);
	if (rc < 0)
		return scout__error_prefix(rc, "zarr_create: compressor: ");
	json_t *cfg = scout__codec_config(codec);
	scout__codec_free(codec);
	if (cfg && !json_is_null(cfg))
		z.compressor = cfg;
	else if (cfg)
		json_decref(cfg);
	if (opts->filters) {
		rc = v2_filters(&z, opts->filters);
		if (rc < 0) {
			scout__zarray_clear(&z);
			return rc;
		}
	}
	char *text = NULL;
	rc = scout__zarray_dump(&text, &z);
	scout__zarray_clear(&z);
	if (rc < 0)
		return rc;
	rc = write_new(out, path, opts->overwrite, ".zarray", text);
	free(text);
	return rc;
}

/* ---- attributes ---- */

/* The array's zarr.json as read now (new reference). */
static int read_v3_doc(json_t **doc_out, const scout_zarr_impl *z, char *what, size_t whatsize)
{
	*doc_out = NULL;
	snprintf(what, whatsize, "%s/zarr.json", z->path);
	void *text;
	size_t n;
	int rc = scout__store_get(&text, &n, NULL, z->store, "zarr.json");
	if (rc == SCOUT_ENOTFOUND)
		return scout__error(SCOUT_ENOTFOUND, "%s: no longer exists", what);
	if (rc < 0)
		return rc;
	rc = scout__json_parse(doc_out, text, n, what);
	free(text);
	if (rc == SCOUT_OK && !json_is_object(*doc_out)) {
		json_decref(*doc_out);
		*doc_out = NULL;
		rc = scout__error(SCOUT_EFORMAT, "%s: not a JSON object", what);
	}
	return rc;
}

int scout_array_attrs_get(char **json_out, scout_array *arr)
{
	if (!json_out)
		return scout__error(SCOUT_EINVAL, "attrs_get: json_out is NULL");
	*json_out = NULL;
	scout_zarr_impl *z = impl_of(arr);
	if (!z)
		return scout__error(SCOUT_EINVAL, "attrs_get: not a Zarr array");
	if (z->meta.zarr_format == 3) {
		json_t *doc;
		char what[PATH_MAX + 16];
		int rc = read_v3_doc(&doc, z, what, sizeof what);
		if (rc < 0)
			return rc;
		const json_t *a = json_object_get(doc, "attributes");
		*json_out = json_dumps(a ? a : json_object(), JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(doc);
		return *json_out ? SCOUT_OK
				 : scout__error(SCOUT_ENOMEM, "attrs_get: out of memory");
	}
	void *data;
	size_t n;
	int rc = scout__store_get(&data, &n, NULL, z->store, ".zattrs");
	if (rc == SCOUT_ENOTFOUND) {
		*json_out = scout__strdup("{}");
		return *json_out ? SCOUT_OK : SCOUT_ENOMEM;
	}
	if (rc < 0)
		return rc;
	char what[PATH_MAX + 16];
	snprintf(what, sizeof what, "%s/.zattrs", z->path);
	json_t *j;
	rc = scout__json_parse(&j, data, n, what);
	if (rc == SCOUT_OK) {
		if (!json_is_object(j))
			rc = scout__error(SCOUT_EFORMAT, "%s: not a JSON object", what);
		json_decref(j);
	}
	if (rc < 0) {
		free(data);
		return rc;
	}
	char *s = malloc(n + 1);
	if (!s) {
		free(data);
		return scout__error(SCOUT_ENOMEM, "attrs_get: out of memory");
	}
	memcpy(s, data, n);
	s[n] = '\0';
	free(data);
	*json_out = s;
	return SCOUT_OK;
}

int scout_array_attrs_set(scout_array *arr, const char *json)
{
	scout_zarr_impl *z = impl_of(arr);
	if (!z || !json)
		return scout__error(SCOUT_EINVAL, "attrs_set: %s",
				    z ? "json is NULL" : "not a Zarr array");
	if (!arr->writable)
		return scout__error(SCOUT_EREADONLY, "%s: attrs_set: the array is opened read-only",
				    z->path);
	json_t *j;
	int rc = scout__json_parse(&j, json, strlen(json), "attrs_set");
	if (rc < 0)
		return rc;
	if (!json_is_object(j)) {
		json_decref(j);
		return scout__error(SCOUT_EFORMAT,
				    "attrs_set: the attributes are not a JSON object");
	}
	if (z->meta.zarr_format == 3) {
		json_t *doc;
		char what[PATH_MAX + 16];
		rc = read_v3_doc(&doc, z, what, sizeof what);
		if (rc < 0) {
			json_decref(j);
			return rc;
		}
		json_object_set_new(doc, "attributes", j);
		char *text = scout__json_dumps_v3(doc);
		json_decref(doc);
		if (!text)
			return SCOUT_ENOMEM;
		rc = scout__store_set(z->store, "zarr.json", text, strlen(text), NULL);
		free(text);
		return rc;
	}
	char *text = scout__json_dumps(j);
	json_decref(j);
	if (!text)
		return SCOUT_ENOMEM;
	rc = scout__store_set(z->store, ".zattrs", text, strlen(text), NULL);
	free(text);
	return rc;
}

/* ---- metadata ---- */

int scout_zarr_metadata(char **json_out, const scout_array *arr)
{
	if (!json_out)
		return scout__error(SCOUT_EINVAL, "zarr_metadata: json_out is NULL");
	*json_out = NULL;
	scout_zarr_impl *z = impl_of(arr);
	if (!z)
		return scout__error(SCOUT_EINVAL, "zarr_metadata: not a Zarr array");
	const scout_zarr_meta *m = &z->meta;
	const json_t *doc = m->v2_document;
	json_t *o = json_object();
	char ts[8];
	scout_dtype_typestr(ts, m->dtype, m->big_endian);
	json_object_set_new(o, "zarr_format", json_integer(m->zarr_format));
	json_object_set_new(o, "dtype", json_string(ts));
	json_object_set_new(o, "data_type", json_string(scout__v3_data_type_name(m->dtype)));
	if (doc) {
		const json_t *fv = json_object_get(doc, "fill_value");
		json_object_set_new(o, "fill_value", fv ? json_deep_copy(fv) : json_null());
	} else {
		json_object_set_new(o, "fill_value", scout__v3_fill_json(m->fill, m->dtype));
	}
	json_object_set_new(o, "codecs", scout__pipeline_json(z->pipeline));
	json_object_set_new(o, "chunk_key_encoding", scout__key_encoding_json(&z->keys));
	json_object_set_new(o, "dimension_names",
			    m->dimension_names ? json_deep_copy(m->dimension_names) : json_null());
	json_t *comp = NULL;
	if (doc) {
		const json_t *c = json_object_get(doc, "compressor");
		comp = c ? json_deep_copy(c) : NULL;
	} else {
		comp = scout__pipeline_compressor(z->pipeline);
	}
	json_object_set_new(o, "compressor", comp ? comp : json_null());
	json_object_set_new(o, "order",
			    json_string(scout__pipeline_order_f(z->pipeline) ? "F" : "C"));
	const json_t *filters = doc ? json_object_get(doc, "filters") : NULL;
	json_object_set_new(o, "filters", filters ? json_deep_copy(filters) : json_null());
	char sep[2] = {z->keys.separator, 0};
	json_object_set_new(o, "dimension_separator", json_string(sep));
	*json_out = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
	json_decref(o);
	return *json_out ? SCOUT_OK : scout__error(SCOUT_ENOMEM, "zarr_metadata: out of memory");
}

/* ---- cache and counters ---- */

int scout_zarr_set_cache_size(scout_array *arr, size_t bytes)
{
	scout_zarr_impl *z = impl_of(arr);
	if (!z)
		return scout__error(SCOUT_EINVAL, "zarr_set_cache_size: not a Zarr array");
	scout_chunk_cache *c;
	int rc = scout__cache_new(&c, bytes, z->chunk_nbytes);
	if (rc < 0)
		return rc;
	scout__cache_free(z->cache);
	z->cache = c;
	return SCOUT_OK;
}

int scout_zarr_shard_info_get(scout_zarr_shard_info *out, scout_array *arr)
{
	scout_zarr_impl *z = impl_of(arr);
	if (!out || !z)
		return scout__error(SCOUT_EINVAL, "zarr_shard_info_get: %s",
				    out ? "not a Zarr array" : "out is NULL");
	return scout__zarr_shard_info(out, arr);
}

int scout_zarr_stats_get(scout_zarr_stats *out, const scout_array *arr)
{
	scout_zarr_impl *z = impl_of(arr);
	if (!out || !z)
		return scout__error(SCOUT_EINVAL, "zarr_stats_get: %s",
				    out ? "not a Zarr array" : "out is NULL");
	memset(out, 0, sizeof *out);
	out->version = SCOUT_ZARR_STATS_VERSION;
	out->chunks_read = __atomic_load_n(&z->n_read, __ATOMIC_RELAXED);
	out->chunks_decoded = __atomic_load_n(&z->n_decoded, __ATOMIC_RELAXED);
	out->chunks_absent = __atomic_load_n(&z->n_absent, __ATOMIC_RELAXED);
	out->cache_hits = __atomic_load_n(&z->n_hits, __ATOMIC_RELAXED);
	out->cache_misses = __atomic_load_n(&z->n_misses, __ATOMIC_RELAXED);
	out->chunks_written = __atomic_load_n(&z->n_written, __ATOMIC_RELAXED);
	out->cache_bytes = scout__cache_bytes(z->cache);
	out->cache_capacity = scout__cache_capacity(z->cache);
	return SCOUT_OK;
}

int scout_zarr_stats_reset(scout_array *arr)
{
	scout_zarr_impl *z = impl_of(arr);
	if (!z)
		return scout__error(SCOUT_EINVAL, "zarr_stats_reset: not a Zarr array");
	__atomic_store_n(&z->n_read, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&z->n_decoded, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&z->n_absent, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&z->n_hits, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&z->n_misses, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&z->n_written, 0, __ATOMIC_RELAXED);
	return SCOUT_OK;
}
