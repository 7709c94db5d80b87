/* The sharding_indexed array->bytes codec and its range reads (see sharding.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec_impl.h"
#include "core/bufpool.h"
#include "core/workpool.h"
#include "sharding.h"

struct scout_shard_codec {
	scout_stage base;
	scout_shard_layout layout;
	int64_t inner[SCOUT_MAX_NDIM];
	size_t inner_nbytes;
	uint64_t inner_bound; /* most bytes one encoded inner chunk can take */
	scout_pipeline *inner_p;
	unsigned char fill[32];
};

const scout_shard_layout *scout__shard_codec_layout(const scout_shard_codec *c)
{
	return &c->layout;
}

const int64_t *scout__shard_codec_inner_shape(const scout_shard_codec *c)
{
	return c->inner;
}

size_t scout__shard_codec_inner_nbytes(const scout_shard_codec *c)
{
	return c->inner_nbytes;
}

const scout_pipeline *scout__shard_codec_inner(const scout_shard_codec *c)
{
	return c->inner_p;
}

const scout_shard_codec *scout__pipeline_shard_codec(const scout_pipeline *p)
{
	if (scout__pipeline_nactive(p) != 1)
		return NULL;
	const scout_stage *s = scout__pipeline_active(p, 0);
	return s->vt == &scout__stage_sharding ? (const scout_shard_codec *)s : NULL;
}

uint64_t scout__pipeline_max_encoded(const scout_pipeline *p)
{
	uint64_t x = scout__pipeline_bytes_len(p);
	for (int i = 0; i < scout__pipeline_nactive(p); i++) {
		const scout_stage *s = scout__pipeline_active(p, i);
		if (s->vt == &scout__stage_sharding) {
			/* every inner chunk at its largest, plus the index */
			const scout_shard_codec *sc = (const scout_shard_codec *)s;
			uint64_t per = sc->inner_bound, cnt = sc->layout.count;
			if (per > (UINT64_MAX / 2) / cnt)
				return UINT64_MAX;
			x = per * cnt + scout__shard_index_nbytes(&sc->layout);
		} else if (s->vt->kind == SCOUT_STAGE_BB) {
			/* a bytes->bytes codec may grow its input: generously bounded */
			if (x > UINT64_MAX / 4)
				return UINT64_MAX;
			x = x + x / 4 + 4096;
		}
	}
	return x;
}

/* ---- configuration ---- */

static int parse_shape(int64_t *out, const json_t *v, int ndim, const char *what)
{
	if (!json_is_array(v) || (int)json_array_size(v) != ndim)
		return scout__error(
		    SCOUT_EFORMAT,
		    "%s: codec \"sharding_indexed\": \"chunk_shape\" must be a list "
		    "of %d integers",
		    what, ndim);
	for (int i = 0; i < ndim; i++) {
		const json_t *e = json_array_get(v, (size_t)i);
		if (!json_is_integer(e) || json_integer_value(e) <= 0)
			return scout__error(SCOUT_EFORMAT,
					    "%s: codec \"sharding_indexed\": \"chunk_shape\"[%d] "
					    "must be a positive integer",
					    what, i);
		out[i] = (int64_t)json_integer_value(e);
	}
	return SCOUT_OK;
}

static int only_keys(const json_t *o, const char *const *allowed, const char *ctx, const char *what)
{
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)o, key, v)
	{
		int ok = 0;
		for (int k = 0; allowed[k]; k++)
			ok |= strcmp(key, allowed[k]) == 0;
		if (!ok && !(strcmp(key, "must_understand") == 0 && json_is_false(v)))
			return scout__error(SCOUT_EFORMAT, "%s: %s: unknown field \"%s\"", what,
					    ctx, key);
	}
	return SCOUT_OK;
}

/* index_codecs: bytes [+ crc32c] */
static int parse_index_codecs(int *big, int *crc, const json_t *v, const char *what)
{
	static const char *const codec_keys[] = {"name", "configuration", NULL};
	const char *ctx = "codec \"sharding_indexed\": \"index_codecs\"";
	*big = 0;
	*crc = 0;
	if (!json_is_array(v) || json_array_size(v) < 1 || json_array_size(v) > 2)
		goto unsupported;
	for (size_t i = 0; i < json_array_size(v); i++) {
		const json_t *c = json_array_get(v, i);
		const json_t *nm = json_is_object(c) ? json_object_get(c, "name") : NULL;
		if (!json_is_string(nm))
			return scout__error(SCOUT_EFORMAT,
					    "%s: %s: element %zu is not an object with a string "
					    "\"name\"",
					    what, ctx, i);
		int rc = only_keys(c, codec_keys, ctx, what);
		if (rc < 0)
			return rc;
		const char *name = json_string_value(nm);
		const json_t *cfg = json_object_get(c, "configuration");
		if (i == 0 && strcmp(name, "bytes") == 0) {
			const json_t *e = cfg ? json_object_get(cfg, "endian") : NULL;
			if (cfg && (json_object_size(cfg) > (e ? 1u : 0u)))
				return scout__error(
				    SCOUT_EFORMAT,
				    "%s: %s: codec \"bytes\": unknown configuration "
				    "field",
				    what, ctx);
			if (e &&
			    !(json_is_string(e) && (strcmp(json_string_value(e), "little") == 0 ||
						    strcmp(json_string_value(e), "big") == 0)))
				return scout__error(SCOUT_EFORMAT,
						    "%s: %s: codec \"bytes\": \"endian\" must be "
						    "\"little\" or \"big\"",
						    what, ctx);
			*big = e && strcmp(json_string_value(e), "big") == 0;
		} else if (i == 1 && strcmp(name, "crc32c") == 0) {
			if (cfg && json_object_size(cfg) > 0)
				return scout__error(
				    SCOUT_EFORMAT,
				    "%s: %s: codec \"crc32c\": unknown configuration "
				    "field",
				    what, ctx);
			*crc = 1;
		} else {
			goto unsupported;
		}
	}
	return SCOUT_OK;
unsupported:
	return scout__error(SCOUT_EUNSUPPORTED,
			    "%s: %s: only [bytes] or [bytes, crc32c] are supported (the index "
			    "must have a fixed size)",
			    what, ctx);
}

static void shard_destroy(scout_stage *s)
{
	scout_shard_codec *c = (scout_shard_codec *)s;
	if (!c)
		return;
	scout__pipeline_free(c->inner_p);
	free(c);
}

static int shard_create(scout_stage **out, const json_t *config, const scout_chunk_spec *in,
			const char *what)
{
	static const char *const keys[] = {"chunk_shape", "codecs", "index_codecs",
					   "index_location", NULL};
	*out = NULL;
	if (!config)
		return scout__error(SCOUT_EFORMAT,
				    "%s: codec \"sharding_indexed\" needs a configuration", what);
	int rc = only_keys(config, keys, "codec \"sharding_indexed\"", what);
	if (rc < 0)
		return rc;
	scout_shard_codec *c = scout__stage_alloc(sizeof *c, &scout__stage_sharding, in);
	if (!c)
		return SCOUT_ENOMEM;
	c->base.variable_size = 1;
	rc = parse_shape(c->inner, json_object_get(config, "chunk_shape"), in->ndim, what);
	if (rc < 0)
		goto fail;
	int big, crc;
	const json_t *ic = json_object_get(config, "index_codecs");
	if (!ic) {
		rc = scout__error(SCOUT_EFORMAT,
				  "%s: codec \"sharding_indexed\": \"index_codecs\" is required",
				  what);
		goto fail;
	}
	rc = parse_index_codecs(&big, &crc, ic, what);
	if (rc < 0)
		goto fail;
	const json_t *loc = json_object_get(config, "index_location");
	int at_start = 0;
	if (loc) {
		const char *l = json_is_string(loc) ? json_string_value(loc) : "";
		if (strcmp(l, "start") != 0 && strcmp(l, "end") != 0) {
			rc = scout__error(
			    SCOUT_EFORMAT,
			    "%s: codec \"sharding_indexed\": \"index_location\" must be "
			    "\"start\" or \"end\"",
			    what);
			goto fail;
		}
		at_start = strcmp(l, "start") == 0;
	}
	rc = scout__shard_layout_init(&c->layout, in->ndim, in->shape, c->inner, big, at_start,
				      crc ? scout__crc32c : NULL, what);
	if (rc < 0)
		goto fail;
	if (in->itemsize > sizeof c->fill) {
		rc = scout__error(SCOUT_EUNSUPPORTED, "%s: sharding_indexed: item of %zu bytes",
				  what, in->itemsize);
		goto fail;
	}
	if (in->fill)
		memcpy(c->fill, in->fill, in->itemsize);
	scout_chunk_spec is = *in;
	memcpy(is.shape, c->inner, sizeof is.shape);
	is.fill = c->fill;
	const json_t *codecs = json_object_get(config, "codecs");
	if (!codecs) {
		rc = scout__error(SCOUT_EFORMAT,
				  "%s: codec \"sharding_indexed\": \"codecs\" is required", what);
		goto fail;
	}
	rc = scout__pipeline_new(&c->inner_p, codecs, &is, what);
	if (rc < 0)
		goto fail;
	c->inner_nbytes = scout__pipeline_chunk_nbytes(c->inner_p);
	c->inner_bound = scout__pipeline_max_encoded(c->inner_p);
	*out = &c->base;
	return SCOUT_OK;
fail:
	shard_destroy(&c->base);
	return rc;
}

static json_t *shard_json(const scout_stage *s)
{
	const scout_shard_codec *c = (const scout_shard_codec *)s;
	json_t *cfg = json_object(), *shape = json_array(), *ic = json_array();
	for (int i = 0; i < c->layout.ndim; i++)
		json_array_append_new(shape, json_integer(c->inner[i]));
	json_object_set_new(cfg, "chunk_shape", shape);
	json_object_set_new(cfg, "codecs", scout__pipeline_json(c->inner_p));
	json_t *bc = json_object();
	json_object_set_new(bc, "endian", json_string(c->layout.big_endian ? "big" : "little"));
	json_array_append_new(ic, scout__stage_json("bytes", bc));
	if (c->layout.crc32c)
		json_array_append_new(ic, scout__stage_json("crc32c", NULL));
	json_object_set_new(cfg, "index_codecs", ic);
	json_object_set_new(cfg, "index_location",
			    json_string(c->layout.at_start ? "start" : "end"));
	return scout__stage_json("sharding_indexed", cfg);
}

/* ---- whole shards ---- */

static void inner_origin(int64_t *off, const scout_shard_codec *c, uint64_t i)
{
	scout__shard_inner_coords(off, &c->layout, i);
	for (int d = 0; d < c->layout.ndim; d++)
		off[d] *= c->inner[d];
}

/* ---- inner chunks on the worker pool ---- */

/* below this many bytes of inner chunks, waking the pool costs more than it saves */
#define PAR_MIN_BYTES ((size_t)256 << 10)

static size_t inner_nb(const scout_shard_codec *c)
{
	return c->inner_nbytes ? c->inner_nbytes : 1;
}

/*
 * fn(0), ..., fn(n - 1): on the library's worker pool (core/workpool.h) when
 * the n inner chunks are worth it and the thread is not a worker already,
 * else in order on this thread. Either way the failure of the lowest item is
 * the one returned, as a serial loop would report it.
 */
static int run_inner(const scout_shard_codec *c, size_t n, scout__work_fn fn, void *payload)
{
	if (n >= 2 && n * inner_nb(c) >= PAR_MIN_BYTES && scout__workpool_available())
		return scout__workpool_run(n, fn, payload, NULL);
	for (size_t i = 0; i < n; i++) {
		int rc = fn(i, payload);
		if (rc < 0)
			return rc;
	}
	return SCOUT_OK;
}

typedef struct {
	const scout_shard_codec *c;
	const void *src; /* the shard's array */
	void **chunks;   /* out: encoded inner chunk i, NULL when all fill */
	size_t *sizes;
} enc_job;

/* encode inner chunk i of the shard (a pool item) */
static int enc_item(size_t i, void *payload)
{
	enc_job *j = payload;
	const scout_shard_codec *c = j->c;
	size_t isz = c->base.in.itemsize;
	int64_t zero[SCOUT_MAX_NDIM] = {0}, off[SCOUT_MAX_NDIM];
	unsigned char *tmp = scout__buf_alloc(inner_nb(c));
	if (!tmp)
		return scout__error(SCOUT_ENOMEM, "sharding_indexed: out of memory");
	inner_origin(off, c, i);
	scout__copy_nd(tmp, c->inner, zero, j->src, c->base.in.shape, off, c->inner, c->layout.ndim,
		       isz);
	int rc = SCOUT_OK;
	void *e = NULL;
	size_t en = 0;
	if (!scout__is_fill(tmp, c->inner_nbytes, c->fill, isz))
		rc = scout__pipeline_encode(c->inner_p, tmp, &e, &en);
	scout__buf_free(tmp, inner_nb(c));
	if (rc == SCOUT_OK && e) {
		/*
		 * Held in pooled memory until the shard is assembled: a shard's worth
		 * of malloc'd inner chunks grew the heap and had it trimmed again,
		 * faulting fresh pages in, for every shard.
		 */
		j->chunks[i] = scout__buf_alloc(en);
		if (j->chunks[i]) {
			memcpy(j->chunks[i], e, en);
			j->sizes[i] = en;
		} else {
			rc = scout__error(SCOUT_ENOMEM, "sharding_indexed: out of memory");
		}
	}
	free(e);
	return rc;
}

/* Encode a whole shard (its array at src); *dst_out from malloc or the pool (pooled). */
static int encode_shard(const scout_shard_codec *c, const void *src, void **dst_out,
			size_t *dst_size_out, int pooled)
{
	*dst_out = NULL;
	*dst_size_out = 0;
	size_t cnt = (size_t)c->layout.count;
	void **chunks = calloc(cnt, sizeof *chunks);
	size_t *sizes = calloc(cnt, sizeof *sizes);
	int rc = SCOUT_OK;
	if (!chunks || !sizes) {
		rc = scout__error(SCOUT_ENOMEM, "sharding_indexed: out of memory");
		goto done;
	}
	enc_job job = {c, src, chunks, sizes};
	rc = run_inner(c, cnt, enc_item, &job);
	if (rc < 0)
		goto done;
	rc = (pooled ? scout__shard_assemble_pooled : scout__shard_assemble)(
	    dst_out, dst_size_out, NULL, (const void *const *)chunks, sizes, &c->layout);
	if (rc == SCOUT_OK && !*dst_out) {
		/* nothing stored: the index alone, every pair empty */
		size_t inb = scout__shard_index_nbytes(&c->layout);
		scout_shard_entry *e = malloc(cnt * sizeof *e);
		unsigned char *d = pooled ? scout__buf_alloc(inb) : malloc(inb);
		if (!e || !d) {
			free(e);
			if (pooled)
				scout__buf_free(d, inb);
			else
				free(d);
			rc = scout__error(SCOUT_ENOMEM, "sharding_indexed: out of memory");
			goto done;
		}
		for (size_t i = 0; i < cnt; i++)
			e[i] = (scout_shard_entry){SCOUT_SHARD_EMPTY, SCOUT_SHARD_EMPTY};
		scout__shard_index_encode(d, e, &c->layout);
		free(e);
		*dst_out = d;
		*dst_size_out = inb;
	}
done:
	if (chunks)
		for (size_t i = 0; i < cnt; i++)
			scout__buf_free(chunks[i], sizes[i]);
	free(chunks);
	free(sizes);
	return rc;
}

static int shard_encode(const scout_stage *s, const void *src, size_t n, void **dst_out,
			size_t *dst_size_out)
{
	(void)n;
	return encode_shard((const scout_shard_codec *)s, src, dst_out, dst_size_out, 0);
}

int scout__shard_encode_pooled(const scout_shard_codec *c, const void *src, void **dst_out,
			       size_t *dst_size_out)
{
	return encode_shard(c, src, dst_out, dst_size_out, 1);
}

static const char *key_of(const scout_chunk_source *from)
{
	return from && from->key && from->key[0] ? from->key : "(in memory)";
}

/* Decode stored inner chunk i (bytes enc, n) into out (inner_nbytes). */
static int decode_inner(const scout_shard_codec *c, uint64_t i, const void *enc, size_t n,
			void *out, const scout_chunk_source *from)
{
	int rc = scout__pipeline_decode(c->inner_p, enc, n, out, from);
	if (rc < 0) {
		int64_t co[SCOUT_MAX_NDIM];
		char b[256];
		scout__shard_inner_coords(co, &c->layout, i);
		return scout__error_prefix(rc, "shard %s: inner chunk %s: ", key_of(from),
					   scout__fmt_coords(b, sizeof b, c->layout.ndim, co));
	}
	return SCOUT_OK;
}

typedef struct {
	const scout_shard_codec *c;
	const unsigned char *s;     /* the whole shard */
	const scout_shard_entry *e; /* its index */
	void *dst;                  /* the shard's array */
	const scout_chunk_source *from;
} dmem_job;

/* decode stored inner chunk i (or fill it) into its place in the shard's array (a pool item) */
static int dmem_item(size_t i, void *payload)
{
	const dmem_job *j = payload;
	const scout_shard_codec *c = j->c;
	int nd = c->layout.ndim;
	int64_t zero[SCOUT_MAX_NDIM] = {0}, off[SCOUT_MAX_NDIM];
	inner_origin(off, c, i);
	if (j->e[i].offset == SCOUT_SHARD_EMPTY) {
		scout__fill_nd(j->dst, c->base.in.shape, off, c->inner, nd, c->base.in.itemsize,
			       c->fill);
		return SCOUT_OK;
	}
	const void *enc = j->s + j->e[i].offset;
	size_t n = (size_t)j->e[i].nbytes;
	if (c->layout.count == 1)
		return decode_inner(c, i, enc, n, j->dst, j->from);
	void *tmp = scout__buf_alloc(inner_nb(c));
	if (!tmp)
		return scout__error(SCOUT_ENOMEM, "shard %s: out of memory", key_of(j->from));
	int rc = decode_inner(c, i, enc, n, tmp, j->from);
	if (rc == SCOUT_OK)
		scout__copy_nd(j->dst, c->base.in.shape, off, tmp, c->inner, zero, c->inner, nd,
			       c->base.in.itemsize);
	scout__buf_free(tmp, inner_nb(c));
	return rc;
}

static int decode_from_memory(const scout_shard_codec *c, const void *src, size_t n, void *dst,
			      const scout_chunk_source *from)
{
	size_t inb = scout__shard_index_nbytes(&c->layout), cnt = (size_t)c->layout.count;
	const unsigned char *s = src;
	if (n < inb)
		return scout__error(
		    SCOUT_EFORMAT,
		    "shard %s: truncated: %zu bytes, shorter than its %zu-byte index", key_of(from),
		    n, inb);
	scout_shard_entry *e = malloc(cnt * sizeof *e);
	if (!e)
		return scout__error(SCOUT_ENOMEM, "shard %s: out of memory", key_of(from));
	int rc = scout__shard_index_decode(e, c->layout.at_start ? s : s + n - inb, inb, &c->layout,
					   n, c->inner_bound, key_of(from));
	if (rc == SCOUT_OK) {
		dmem_job job = {c, s, e, dst, from};
		rc = run_inner(c, cnt, dmem_item, &job);
	}
	free(e);
	return rc;
}

static int shard_decode(const scout_stage *s, const void *src, size_t n, void *dst, size_t expected,
			const scout_chunk_source *from)
{
	(void)expected;
	return decode_from_memory((const scout_shard_codec *)s, src, n, dst, from);
}

const scout_stage_vtable scout__stage_sharding = {
    .name = "sharding_indexed",
    .kind = SCOUT_STAGE_AB,
    .create = shard_create,
    .destroy = shard_destroy,
    .to_json = shard_json,
    .encode = shard_encode,
    .decode = shard_decode,
};

/* ---- range reads ---- */

int scout__shard_load_index(scout_shard_entry **entries_out, scout_store_version *ver_out,
			    const scout_shard_codec *c, const scout_store *store, const char *key)
{
	*entries_out = NULL;
	size_t inb = scout__shard_index_nbytes(&c->layout);
	void *idx = NULL;
	size_t n = 0;
	int rc = scout__store_get_range(&idx, &n, ver_out, store, key,
					c->layout.at_start ? 0 : SCOUT_STORE_SUFFIX, inb);
	if (rc < 0)
		return rc;
	if (ver_out->size < 0) {
		free(idx);
		return scout__error(SCOUT_EUNSUPPORTED,
				    "shard %s: the store does not tell a value's size", key);
	}
	scout_shard_entry *e = malloc((size_t)c->layout.count * sizeof *e);
	if (!e) {
		free(idx);
		return scout__error(SCOUT_ENOMEM, "shard %s: out of memory", key);
	}
	rc = scout__shard_index_decode(e, idx, n, &c->layout, (uint64_t)ver_out->size,
				       c->inner_bound, key);
	free(idx);
	if (rc < 0) {
		free(e);
		return rc;
	}
	*entries_out = e;
	return SCOUT_OK;
}

/* where decoded inner chunks go: dst[i], or a buffer of the item's handed to a sink */
typedef struct {
	void *const *dst;
	scout_shard_sink sink;
	void *payload;
} outs;

typedef struct {
	const scout_shard_codec *c;
	const uint64_t *wanted;
	const unsigned char *const *enc; /* encoded wanted[i], NULL: fill */
	const size_t *encn;
	const outs *o;
	const scout_chunk_source *from;
} dec_job;

/* decode (or fill) wanted inner chunk i and hand it over (a pool item) */
static int dec_item(size_t i, void *payload)
{
	const dec_job *j = payload;
	const scout_shard_codec *c = j->c;
	const outs *o = j->o;
	void *out = o->dst ? o->dst[i] : scout__buf_alloc(inner_nb(c));
	if (!out)
		return scout__error(SCOUT_ENOMEM, "shard %s: out of memory", key_of(j->from));
	int rc = SCOUT_OK;
	if (!j->enc[i])
		scout__fill_nd(out, c->inner, (int64_t[SCOUT_MAX_NDIM]){0}, c->inner,
			       c->layout.ndim, c->base.in.itemsize, c->fill);
	else
		rc = decode_inner(c, j->wanted[i], j->enc[i], j->encn[i], out, j->from);
	if (rc == SCOUT_OK && o->sink)
		o->sink(o->payload, i, out);
	if (!o->dst)
		scout__buf_free(out, inner_nb(c));
	return rc;
}

/* Decode the nw wanted inner chunks whose encoded bytes are enc[i] (NULL: fill). */
static int decode_wanted(const scout_shard_codec *c, const scout_store *store, const char *key,
			 const uint64_t *wanted, size_t nw, const unsigned char *const *enc,
			 const size_t *encn, const outs *o)
{
	scout_chunk_source from = {store, key};
	dec_job job = {c, wanted, enc, encn, o, &from};
	return run_inner(c, nw, dec_item, &job);
}

/* Read the whole shard once and decode the wanted inner chunks from memory. */
static int read_whole(const scout_shard_codec *c, const scout_store *store, const char *key,
		      scout_shard_entry *entries, scout_store_version *ver, const uint64_t *wanted,
		      size_t nw, const outs *o)
{
	const unsigned char **enc = calloc(nw ? nw : 1, sizeof *enc);
	size_t *encn = calloc(nw ? nw : 1, sizeof *encn);
	/* into pooled memory of the size the index was read from (mapped already) */
	size_t cap = ver->size > 0 ? (size_t)ver->size : 1, n = 0;
	void *data = scout__buf_alloc(cap), *big = NULL;
	int rc = !enc || !encn || !data
		     ? scout__error(SCOUT_ENOMEM, "shard %s: out of memory", key)
		     : scout__store_get_range_into(data, cap, &n, ver, store, key, 0, UINT64_MAX);
	if (rc == SCOUT_OK && n > cap) {
		/* replaced by a larger shard since: read it whole */
		rc = scout__store_get(&big, &n, ver, store, key);
	}
	if (rc == SCOUT_ENOTFOUND) {
		/* removed since the index was read: every inner chunk reads as fill */
		for (size_t i = 0; i < (size_t)c->layout.count; i++)
			entries[i] = (scout_shard_entry){SCOUT_SHARD_EMPTY, SCOUT_SHARD_EMPTY};
		rc = SCOUT_OK;
	} else if (rc == SCOUT_OK) {
		size_t inb = scout__shard_index_nbytes(&c->layout);
		const unsigned char *s = big ? big : data;
		if (n < inb)
			rc = scout__error(
			    SCOUT_EFORMAT,
			    "shard %s: truncated: %zu bytes, shorter than its %zu-byte index", key,
			    n, inb);
		else
			rc =
			    scout__shard_index_decode(entries, c->layout.at_start ? s : s + n - inb,
						      inb, &c->layout, n, c->inner_bound, key);
		for (size_t i = 0; rc == SCOUT_OK && i < nw; i++) {
			const scout_shard_entry *e = &entries[wanted[i]];
			if (e->offset != SCOUT_SHARD_EMPTY) {
				enc[i] = s + e->offset;
				encn[i] = (size_t)e->nbytes;
			}
		}
	}
	if (rc == SCOUT_OK)
		rc = decode_wanted(c, store, key, wanted, nw, enc, encn, o);
	scout__buf_free(data, cap);
	free(big);
	free(enc);
	free(encn);
	return rc;
}

static int read_inner(const scout_shard_codec *c, const scout_store *store, const char *key,
		      scout_shard_entry *entries, scout_store_version *ver, const uint64_t *wanted,
		      size_t nw, const outs *o, uint64_t gap)
{
	if (!ver->strong)
		return read_whole(c, store, key, entries, ver, wanted, nw, o);
	scout_byte_range *r = NULL;
	size_t nr = 0;
	size_t *of = malloc((nw ? nw : 1) * sizeof *of);
	if (!of)
		return scout__error(SCOUT_ENOMEM, "shard %s: out of memory", key);
	int rc = scout__shard_plan_reads(&r, &nr, of, entries, c->layout.count, wanted, nw, gap);
	if (rc < 0) {
		free(of);
		return rc;
	}
	void **bufs = calloc(nr ? nr : 1, sizeof *bufs);
	if (!bufs) {
		free(r);
		free(of);
		return scout__error(SCOUT_ENOMEM, "shard %s: out of memory", key);
	}
	int stale = 0;
	for (size_t k = 0; k < nr && rc == SCOUT_OK && !stale; k++) {
		size_t got = 0;
		scout_store_version v;
		/* pooled: a range of MiBs from malloc would be a fresh mapping faulted in */
		bufs[k] = scout__buf_alloc((size_t)r[k].nbytes);
		rc = !bufs[k] ? scout__error(SCOUT_ENOMEM, "shard %s: out of memory", key)
			      : scout__store_get_range_into(bufs[k], (size_t)r[k].nbytes, &got, &v,
							    store, key, (int64_t)r[k].offset,
							    r[k].nbytes);
		if (rc == SCOUT_ENOTFOUND) {
			rc = SCOUT_OK;
			stale = 1;
		} else if (rc == SCOUT_OK &&
			   (!scout__store_version_equal(&v, ver) || got != r[k].nbytes)) {
			stale = 1; /* replaced since the index was read */
		}
	}
	if (rc == SCOUT_OK && !stale) {
		const unsigned char **enc = calloc(nw ? nw : 1, sizeof *enc);
		size_t *encn = calloc(nw ? nw : 1, sizeof *encn);
		if (!enc || !encn)
			rc = scout__error(SCOUT_ENOMEM, "shard %s: out of memory", key);
		for (size_t i = 0; rc == SCOUT_OK && i < nw; i++) {
			const scout_shard_entry *e = &entries[wanted[i]];
			if (of[i] == SIZE_MAX)
				continue;
			const unsigned char *b = bufs[of[i]];
			enc[i] = b + (e->offset - r[of[i]].offset);
			encn[i] = (size_t)e->nbytes;
		}
		if (rc == SCOUT_OK)
			rc = decode_wanted(c, store, key, wanted, nw, enc, encn, o);
		free(enc);
		free(encn);
	}
	for (size_t k = 0; k < nr; k++)
		scout__buf_free(bufs[k], (size_t)r[k].nbytes);
	free(bufs);
	free(r);
	free(of);
	if (rc == SCOUT_OK && stale)
		rc = read_whole(c, store, key, entries, ver, wanted, nw, o);
	return rc;
}

int scout__shard_read_inner(const scout_shard_codec *c, const scout_store *store, const char *key,
			    scout_shard_entry *entries, scout_store_version *ver,
			    const uint64_t *wanted, size_t nw, void *const *dst, uint64_t gap)
{
	outs o = {dst, NULL, NULL};
	return read_inner(c, store, key, entries, ver, wanted, nw, &o, gap);
}

int scout__shard_read_inner_sink(const scout_shard_codec *c, const scout_store *store,
				 const char *key, scout_shard_entry *entries,
				 scout_store_version *ver, const uint64_t *wanted, size_t nw,
				 scout_shard_sink sink, void *payload, uint64_t gap)
{
	outs o = {NULL, sink, payload};
	return read_inner(c, store, key, entries, ver, wanted, nw, &o, gap);
}
