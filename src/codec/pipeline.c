/*
 * The codec pipeline (see pipeline.h): parses a v3-form codec list into
 * stages, propagates the array spec through the array->array codecs, and
 * runs encode in list order and decode in reverse, skipping passthrough
 * stages. The last stage of a decode writes straight into the caller's
 * chunk buffer; intermediate buffers come from the buffer pool.
 */
#include <stdlib.h>
#include <string.h>

#include "codec_impl.h"
#include "core/bufpool.h"

#define MAX_STAGES 16

struct scout_pipeline {
	int nstages;
	scout_stage *stages[MAX_STAGES]; /* list order */
	int nactive;
	scout_stage *active[MAX_STAGES]; /* without passthrough stages */
	int ab;                          /* index of the array->bytes stage in stages */
	scout_chunk_spec spec;           /* the decoded chunk */
	size_t chunk_nbytes;
	size_t bytes_len; /* size of the array->bytes codec's output */
};

void *scout__stage_alloc(size_t size, const scout_stage_vtable *vt, const scout_chunk_spec *in)
{
	scout_stage *s = scout__codec_malloc(size, vt->name);
	if (!s)
		return NULL;
	memset(s, 0, size);
	s->vt = vt;
	s->in = *in;
	s->out = *in;
	return s;
}

json_t *scout__stage_json(const char *name, json_t *config)
{
	json_t *o = json_object();
	if (!o) {
		json_decref(config);
		return NULL;
	}
	json_object_set_new(o, "name", json_string(name));
	if (config)
		json_object_set_new(o, "configuration", config);
	return o;
}

static const scout_stage_vtable *const fixed[] = {
    &scout__stage_transpose,
    &scout__stage_bytes,
    &scout__stage_crc32c,
    &scout__stage_filter_delta,
    &scout__stage_filter_fixedscaleoffset,
    &scout__stage_filter_quantize,
    &scout__stage_filter_astype,
    &scout__stage_filter_bitround,
    &scout__stage_filter_packbits,
    &scout__stage_filter_shuffle,
    &scout__stage_sharding,
};

void scout__pipeline_free(scout_pipeline *p)
{
	if (!p)
		return;
	for (int i = 0; i < p->nstages; i++)
		p->stages[i]->vt->destroy(p->stages[i]);
	free(p);
}

static const char *kind_name(scout_stage_kind k)
{
	return k == SCOUT_STAGE_AA   ? "array->array"
	       : k == SCOUT_STAGE_AB ? "array->bytes"
				     : "bytes->bytes";
}

/*
 * The decoded size of bytes->bytes stage i when every bytes->bytes stage
 * inside it is crc32c (a fixed 4-byte suffix): the array->bytes output plus
 * 4 per checksum; 0 when some inner stage has no fixed overhead.
 */
static int fixed_decoded_size(const scout_pipeline *p, int i, size_t *size_out)
{
	size_t size = p->bytes_len;
	for (int j = i - 1; j >= 0 && p->active[j]->vt->kind == SCOUT_STAGE_BB; j--) {
		if (p->active[j]->vt != &scout__stage_crc32c)
			return 0;
		size += 4;
	}
	*size_out = size;
	return 1;
}

/* 1 when a bytes->bytes stage's encoded data states its decoded size */
static int size_in_header(const scout_stage *st)
{
	if (st->vt == &scout__stage_crc32c)
		return 1;
	json_t *config = scout__stage_numcodecs_config(st);
	const char *id = json_string_value(json_object_get(config, "id"));
	int yes = id && (!strcmp(id, "blosc") || !strcmp(id, "zstd") || !strcmp(id, "lz4"));
	json_decref(config);
	return yes;
}

int scout__pipeline_new(scout_pipeline **out, const json_t *codecs, const scout_chunk_spec *spec,
			const char *what)
{
	*out = NULL;
	if (!json_is_array(codecs))
		return scout__error(SCOUT_EFORMAT, "%s: field \"codecs\" must be a list", what);
	size_t n = json_array_size(codecs);
	if (n > MAX_STAGES)
		return scout__error(SCOUT_EFORMAT,
				    "%s: field \"codecs\" has %zu codecs, more than %d", what, n,
				    MAX_STAGES);
	scout_pipeline *p = calloc(1, sizeof *p);
	if (!p)
		return scout__error(SCOUT_ENOMEM, "out of memory");
	p->spec = *spec;
	p->ab = -1;
	int rc = scout__shape_size(NULL, &p->chunk_nbytes, spec->ndim, spec->shape, spec->itemsize);
	if (rc < 0) {
		free(p);
		return scout__error_prefix(rc, "%s: chunk shape: ", what);
	}
	scout_chunk_spec cur = *spec;
	for (size_t i = 0; i < n; i++) {
		const json_t *c = json_array_get(codecs, i);
		const json_t *name = json_is_object(c) ? json_object_get(c, "name") : NULL;
		if (!json_is_string(name)) {
			rc = scout__error(
			    SCOUT_EFORMAT,
			    "%s: field \"codecs\": element %zu is not an object with a "
			    "string \"name\"",
			    what, i);
			goto fail;
		}
		const char *nm = json_string_value(name);
		const json_t *config = json_object_get(c, "configuration");
		const char *key;
		json_t *v;
		json_object_foreach((json_t *)c, key, v)
		{
			if (strcmp(key, "name") && strcmp(key, "configuration") &&
			    !(strcmp(key, "must_understand") == 0 && json_is_boolean(v))) {
				rc = scout__error(SCOUT_EFORMAT,
						  "%s: codec \"%s\": unknown field \"%s\"", what,
						  nm, key);
				goto fail;
			}
		}
		if (config && !json_is_object(config)) {
			rc = scout__error(SCOUT_EFORMAT,
					  "%s: codec \"%s\": \"configuration\" must be an object",
					  what, nm);
			goto fail;
		}
		scout_stage *st = NULL;
		rc = SCOUT_ENOTFOUND;
		for (size_t k = 0; k < sizeof fixed / sizeof *fixed; k++)
			if (strcmp(fixed[k]->name, nm) == 0)
				rc = fixed[k]->create(&st, config, &cur, what);
		if (rc == SCOUT_ENOTFOUND)
			rc = scout__stage_numcodecs_new(&st, nm, config, &cur, what);
		if (rc == SCOUT_ENOTFOUND)
			rc = scout__error(
			    SCOUT_EFORMAT,
			    "%s: codec \"%s\" is not supported (supported: transpose, "
			    "bytes, sharding_indexed, blosc, gzip, zstd, crc32c, numcodecs.<id>; "
			    "filters numcodecs.delta, .fixedscaleoffset, .quantize, "
			    ".astype, .bitround, .packbits, .shuffle)",
			    what, nm);
		if (rc < 0)
			goto fail;
		p->stages[p->nstages++] = st;
		scout_stage_kind k = st->vt->kind;
		int after_ab = p->ab >= 0;
		if ((k == SCOUT_STAGE_AA && after_ab) || (k == SCOUT_STAGE_AB && after_ab) ||
		    (k == SCOUT_STAGE_BB && !after_ab)) {
			rc =
			    scout__error(SCOUT_EFORMAT,
					 "%s: field \"codecs\": the %s codec \"%s\" cannot come %s",
					 what, kind_name(k), nm,
					 k == SCOUT_STAGE_BB   ? "before the array->bytes codec"
					 : k == SCOUT_STAGE_AB ? "after another array->bytes codec"
							       : "after the array->bytes codec");
			goto fail;
		}
		if (k == SCOUT_STAGE_BB && p->stages[p->ab]->variable_size) {
			rc = scout__error(
			    SCOUT_EUNSUPPORTED,
			    "%s: field \"codecs\": the bytes->bytes codec \"%s\" after "
			    "\"%s\" is not supported (it would hide the shard index)",
			    what, nm, p->stages[p->ab]->vt->name);
			goto fail;
		}
		if (k == SCOUT_STAGE_AB) {
			p->ab = p->nstages - 1;
			rc = scout__shape_size(NULL, &p->bytes_len, st->in.ndim, st->in.shape,
					       st->in.itemsize);
			if (rc < 0)
				goto fail;
		}
		if (k == SCOUT_STAGE_AA)
			cur = st->out;
	}
	if (p->ab < 0) {
		rc = scout__error(SCOUT_EFORMAT,
				  "%s: field \"codecs\" has no array->bytes codec (such as "
				  "\"bytes\")",
				  what);
		goto fail;
	}
	for (int i = 0; i < p->nstages; i++)
		if (!p->stages[i]->passthrough)
			p->active[p->nactive++] = p->stages[i];
	/* decoding needs each bytes->bytes codec's output size: from the data's header
	 * (blosc, zstd, lz4, crc32c) or, inside only crc32c, from the chunk's size */
	for (int i = 0; i < p->nactive; i++) {
		const scout_stage *st = p->active[i];
		size_t unused;
		if (st->vt->kind != SCOUT_STAGE_BB || i == 0 ||
		    p->active[i - 1]->vt->kind != SCOUT_STAGE_BB || size_in_header(st) ||
		    fixed_decoded_size(p, i, &unused))
			continue;
		json_t *j = st->vt->to_json(st);
		rc = scout__error(SCOUT_EUNSUPPORTED,
				  "%s: field \"codecs\": codec %s after another compressor: its "
				  "decoded size is not stored, so scout cannot decode it there",
				  what, json_string_value(json_object_get(j, "name")));
		json_decref(j);
		goto fail;
	}
	*out = p;
	return SCOUT_OK;
fail:
	scout__pipeline_free(p);
	return rc;
}

json_t *scout__pipeline_json(const scout_pipeline *p)
{
	json_t *a = json_array();
	for (int i = 0; a && i < p->nstages; i++)
		if (json_array_append_new(a, p->stages[i]->vt->to_json(p->stages[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

json_t *scout__pipeline_filters(const scout_pipeline *p)
{
	json_t *a = json_array();
	for (int i = 0; a && i < p->ab; i++) {
		json_t *c = scout__stage_filter_config(p->stages[i]);
		if (c)
			json_array_append_new(a, c);
	}
	return a;
}

int scout__pipeline_nactive(const scout_pipeline *p)
{
	return p->nactive;
}

const scout_stage *scout__pipeline_active(const scout_pipeline *p, int i)
{
	return p->active[i];
}

size_t scout__pipeline_bytes_len(const scout_pipeline *p)
{
	return p->bytes_len;
}

json_t *scout__pipeline_compressor(const scout_pipeline *p)
{
	if (p->nstages - p->ab != 2)
		return NULL;
	return scout__stage_numcodecs_config(p->stages[p->nstages - 1]);
}

int scout__pipeline_order_f(const scout_pipeline *p)
{
	return p->ab == 1 && scout__stage_transpose_reversed(p->stages[0]);
}

size_t scout__pipeline_chunk_nbytes(const scout_pipeline *p)
{
	return p->chunk_nbytes;
}

/* Encode; with pool_cap, the last stage's take hands out its scratch (see the header). */
static int encode_chain(const scout_pipeline *p, const void *chunk, void **dst_out,
			size_t *dst_size_out, size_t *pool_cap)
{
	*dst_out = NULL;
	*dst_size_out = 0;
	if (p->nactive == 0) {
		void *d = scout__codec_malloc(p->chunk_nbytes, "bytes");
		if (!d)
			return SCOUT_ENOMEM;
		if (p->chunk_nbytes)
			memcpy(d, chunk, p->chunk_nbytes);
		*dst_out = d;
		*dst_size_out = p->chunk_nbytes;
		return SCOUT_OK;
	}
	const void *cur = chunk;
	size_t cur_n = p->chunk_nbytes;
	void *owned = NULL;
	for (int i = 0; i < p->nactive; i++) {
		void *o = NULL;
		size_t on = 0;
		/* only the last stage's take may hand out its scratch; never a nested one's */
		size_t *outer = scout__codec_take_pooled(i == p->nactive - 1 ? pool_cap : NULL);
		int rc = p->active[i]->vt->encode(p->active[i], cur, cur_n, &o, &on);
		scout__codec_take_pooled(outer);
		free(owned);
		if (rc < 0)
			return rc;
		owned = o;
		cur = o;
		cur_n = on;
	}
	*dst_out = owned;
	*dst_size_out = cur_n;
	return SCOUT_OK;
}

int scout__pipeline_encode(const scout_pipeline *p, const void *chunk, void **dst_out,
			   size_t *dst_size_out)
{
	return encode_chain(p, chunk, dst_out, dst_size_out, NULL);
}

int scout__pipeline_encode_pooled(const scout_pipeline *p, const void *chunk, void **dst_out,
				  size_t *dst_size_out, size_t *pool_cap_out)
{
	*pool_cap_out = 0;
	return encode_chain(p, chunk, dst_out, dst_size_out, pool_cap_out);
}

void scout__pipeline_free_encoded(void *enc, size_t pool_cap)
{
	if (pool_cap)
		scout__buf_free(enc, pool_cap);
	else
		free(enc);
}

int scout__pipeline_decode(const scout_pipeline *p, const void *enc, size_t n, void *dst,
			   const scout_chunk_source *src)
{
	static const scout_chunk_source none = {NULL, ""};
	if (!src)
		src = &none;
	if (p->nactive == 0) {
		if (n != p->chunk_nbytes)
			return scout__error(SCOUT_ECODEC,
					    "bytes: stored size %zu differs from the chunk's %zu "
					    "bytes",
					    n, p->chunk_nbytes);
		if (n)
			memcpy(dst, enc, n);
		return SCOUT_OK;
	}
	if (p->active[p->nactive - 1]->vt->kind != SCOUT_STAGE_BB &&
	    !p->active[p->nactive - 1]->variable_size && n != p->bytes_len)
		return scout__error(SCOUT_ECODEC,
				    "bytes: stored size %zu differs from the chunk's %zu bytes", n,
				    p->bytes_len);
	/* bound for intermediate sizes read from headers: generous, but finite */
	size_t bound = p->bytes_len + p->bytes_len / 2 + ((size_t)1 << 20);
	const void *cur = enc;
	size_t cur_n = n;
	void *owned = NULL;
	size_t owned_n = 0;
	int rc = SCOUT_OK;
	for (int i = p->nactive - 1; i >= 0; i--) {
		const scout_stage *st = p->active[i];
		size_t expected;
		if (st->vt->kind == SCOUT_STAGE_BB) {
			/* the innermost bytes->bytes codec decodes to the array->bytes output */
			int innermost = i == 0 || p->active[i - 1]->vt->kind != SCOUT_STAGE_BB;
			if (innermost) {
				expected = p->bytes_len;
			} else if (fixed_decoded_size(p, i, &expected)) {
				/* inside it only checksums: the size is known exactly */
			} else {
				rc = st->vt->decoded_size
					 ? st->vt->decoded_size(st, cur, cur_n, &expected)
					 : scout__error(SCOUT_EUNSUPPORTED,
							"%s: decoded size unknown", st->vt->name);
				if (rc < 0)
					break;
				if (expected > bound) {
					rc = scout__error(
					    SCOUT_ECODEC,
					    "%s: header claims %zu decoded bytes, more "
					    "than a chunk of %zu bytes can need",
					    st->vt->name, expected, p->bytes_len);
					break;
				}
			}
		} else if (st->vt->kind == SCOUT_STAGE_AB) {
			expected = p->bytes_len;
		} else {
			/* an array->array codec decodes to its input spec (which may have another
			 * element type than its output, e.g. numcodecs filters) */
			rc = scout__shape_size(NULL, &expected, st->in.ndim, st->in.shape,
					       st->in.itemsize);
			if (rc < 0)
				break;
		}
		void *out = i == 0 ? dst : scout__buf_alloc(expected ? expected : 1);
		if (!out) {
			rc = scout__error(SCOUT_ENOMEM, "%s: cannot allocate %zu bytes",
					  st->vt->name, expected);
			break;
		}
		rc = st->vt->decode(st, cur, cur_n, out, expected, src);
		if (owned)
			scout__buf_free(owned, owned_n ? owned_n : 1);
		owned = out == dst ? NULL : out;
		owned_n = expected;
		cur = out;
		cur_n = expected;
		if (rc < 0)
			break;
	}
	if (owned)
		scout__buf_free(owned, owned_n ? owned_n : 1);
	return rc;
}
