/*
 * Boxes of a sharded Zarr v3 array (codecs = [sharding_indexed]): two grids.
 *
 * The read grid is the inner chunks (arr->chunks): a box reads, for each
 * shard it touches, only the index and the inner chunks it needs, by byte
 * range (codec/sharding.h), and the decoded-chunk cache holds inner chunks
 * (indexed by their linear index in the array's inner-chunk grid). An entry is
 * used only while the shard's version token is the one it was decoded from
 * and that token is strong; a shard younger than the store's trust window
 * is read whole and its inner chunks are not cached.
 *
 * The write grid is the shards (arr->write_chunks): each shard a box touches
 * is written under the shard's lock (chunk_lock.h, keyed by the shard's
 * linear index: threads, forked workers and other processes exclude each
 * other), built from the box alone when the box covers it, else read whole,
 * decoded, merged and re-encoded; then replaced atomically (store set:
 * temporary + rename), so readers see the old shard or the new one.
 *
 * Parallelism (issue 18): a box of several shards runs its shards on the
 * library's worker pool (chunk_runner.h); a box within one shard, or a shard
 * written whole, decodes or encodes its inner chunks on the pool instead
 * (codec/sharding.h). Never both: a pool item runs nested work inline.
 */
#include <stdlib.h>
#include <string.h>

#include "chunk_runner.h"
#include "codec/sharding.h"
#include "core/bufpool.h"
#include "core/prefault.h"
#include "zarr_impl.h"

#define SHARD_READ_GAP        ((uint64_t)64 << 10) /* coalesce inner chunks closer than this */
#define SCOUT_EAGAIN_INTERNAL 1                    /* read_shard_part: retry without hits */

static uint64_t shard_lin(const scout_zarr_impl *z, int nd, const int64_t *s)
{
	uint64_t lin = 0;
	for (int i = 0; i < nd; i++)
		lin = lin * (uint64_t)z->grid[i] + (uint64_t)s[i];
	return lin;
}

static uint64_t inner_lin(const scout_zarr_impl *z, int nd, const int64_t *c)
{
	uint64_t lin = 0;
	for (int i = 0; i < nd; i++)
		lin = lin * (uint64_t)z->inner_grid[i] + (uint64_t)c[i];
	return lin;
}

/* C-order index of global inner chunk c within its shard */
static uint64_t in_shard(const scout_zarr_impl *z, int nd, const int64_t *c)
{
	const scout_shard_layout *l = scout__shard_codec_layout(z->shard);
	uint64_t lin = 0;
	for (int i = 0; i < nd; i++)
		lin = lin * (uint64_t)l->grid[i] + (uint64_t)(c[i] % l->grid[i]);
	return lin;
}

static int shard_error(int rc, const scout_zarr_impl *z, const char *key)
{
	return scout__error_prefix(rc, "%s: shard %s: ", z->path, key);
}

/* one inner chunk a box reads */
typedef struct {
	int64_t c[SCOUT_MAX_NDIM];
	uint64_t lin, pos; /* global linear index, index in the shard */
	scout_cache_entry *entry;
	void *owned;
	const void *data;
	int placed; /* already copied into the box (uncached reads) */
} inner_use;

/* Copy inner chunk u (data) into its part of box [start, stop) at dst; fill when data is NULL. */
static void place(const scout_array *arr, void *dst, const int64_t *start, const int64_t *stop,
		  const inner_use *u, const void *data)
{
	const scout_zarr_impl *z = arr->impl;
	int nd = arr->ndim;
	const int64_t *ic = arr->chunks;
	int64_t dshape[SCOUT_MAX_NDIM], doff[SCOUT_MAX_NDIM], soff[SCOUT_MAX_NDIM],
	    ext[SCOUT_MAX_NDIM];
	for (int i = 0; i < nd; i++) {
		int64_t cs = u->c[i] * ic[i];
		int64_t a = start[i] > cs ? start[i] : cs;
		int64_t b = stop[i] < cs + ic[i] ? stop[i] : cs + ic[i];
		dshape[i] = stop[i] - start[i];
		doff[i] = a - start[i];
		soff[i] = a - cs;
		ext[i] = b - a;
	}
	if (!data)
		scout__fill_nd(dst, dshape, doff, ext, nd, arr->itemsize, z->meta.fill);
	else
		scout__copy_nd(dst, dshape, doff, data, ic, soff, ext, nd, arr->itemsize);
}

typedef struct {
	const scout_array *arr;
	void *dst;
	const int64_t *start, *stop;
	inner_use *u;
	const size_t *slot;
} sink_ctx;

static void sink_into_box(void *payload, size_t i, const void *chunk)
{
	sink_ctx *s = payload;
	inner_use *x = &s->u[s->slot[i]];
	place(s->arr, s->dst, s->start, s->stop, x, chunk);
	x->placed = 1;
}

/*
 * Read the part of box [start, stop) that lies in shard s into dst. Cached inner
 * chunks are used only when the inner chunks read from the store come from the
 * same shard version (use_hits 0: the retry that reads them all).
 */
static int read_shard_part(scout_array *arr, void *dst, const int64_t *start, const int64_t *stop,
			   const int64_t *s, int use_hits)
{
	scout_zarr_impl *z = arr->impl;
	int nd = arr->ndim;
	const int64_t *ic = arr->chunks;
	char key[SCOUT_ZARR_KEY_MAX];
	int rc = scout__chunk_key_encode(key, sizeof key, &z->keys, nd, s);
	if (rc < 0)
		return rc;
	/* the inner chunks of this shard the box touches */
	int64_t lo[SCOUT_MAX_NDIM], hi[SCOUT_MAX_NDIM], c[SCOUT_MAX_NDIM];
	size_t n = 1;
	for (int i = 0; i < nd; i++) {
		int64_t a = s[i] * arr->write_chunks[i], b = a + arr->write_chunks[i];
		a = start[i] > a ? start[i] : a;
		b = stop[i] < b ? stop[i] : b;
		lo[i] = a / ic[i];
		hi[i] = (b - 1) / ic[i];
		c[i] = lo[i];
		n *= (size_t)(hi[i] - lo[i] + 1);
	}
	inner_use *u = calloc(n, sizeof *u);
	uint64_t *want = calloc(n, sizeof *want);
	void **bufs = calloc(n, sizeof *bufs);
	size_t *slot = calloc(n, sizeof *slot);
	scout_shard_entry *entries = NULL;
	if (!u || !want || !bufs || !slot) {
		rc = scout__error(SCOUT_ENOMEM, "%s: shard %s: out of memory", z->path, key);
		goto done;
	}
	int cached = scout__cache_capacity(z->cache) > 0;
	size_t nmiss = 0, nhits = 0;
	scout_store_version cur;
	memset(&cur, 0, sizeof cur);
	int have_cur = 0, absent = 0;
	for (size_t k = 0; k < n; k++) {
		memcpy(u[k].c, c, sizeof c);
		u[k].lin = inner_lin(z, nd, c);
		u[k].pos = in_shard(z, nd, c);
		scout_cache_entry *e =
		    cached && use_hits ? scout__cache_get(z->cache, u[k].lin) : NULL;
		if (e) {
			if (!have_cur) {
				rc = scout__store_head(&cur, z->store, key);
				if (rc == SCOUT_ENOTFOUND) {
					absent = 1;
					rc = SCOUT_OK;
				} else if (rc < 0) {
					scout__cache_release(z->cache, e);
					rc = shard_error(rc, z, key);
					goto done;
				}
				have_cur = 1;
			}
			scout_cache_meta m = scout__cache_entry_meta(z->cache, e);
			if (!absent && cur.strong && m.version.strong &&
			    scout__store_version_equal(&m.version, &cur)) {
				u[k].entry = e;
				u[k].data = scout__cache_entry_data(e);
				nhits++;
				SCOUT_ZARR_COUNT(z, n_hits);
			} else {
				scout__cache_release(z->cache, e);
				scout__cache_invalidate(z->cache, u[k].lin);
			}
		}
		if (!u[k].data && !absent) {
			slot[nmiss] = k;
			want[nmiss++] = u[k].pos;
		}
		scout__box_next(c, lo, hi, nd);
	}
	if (nmiss > 0) {
		scout_store_version ver;
		rc = scout__shard_load_index(&entries, &ver, z->shard, z->store, key);
		if (rc == SCOUT_ENOTFOUND) {
			absent = 1;
			rc = SCOUT_OK;
		} else if (rc < 0) {
			rc = shard_error(rc, z, key);
			goto done;
		} else {
			SCOUT_ZARR_COUNT(z, n_read);
			if (!cached) {
				/* nothing to keep: decode each inner chunk straight into the box */
				sink_ctx sc = {arr, dst, start, stop, u, slot};
				rc = scout__shard_read_inner_sink(z->shard, z->store, key, entries,
								  &ver, want, nmiss, sink_into_box,
								  &sc, SHARD_READ_GAP);
				if (rc < 0) {
					rc = scout__error_prefix(rc, "%s: ", z->path);
					goto done;
				}
				for (size_t k = 0; k < nmiss; k++) {
					SCOUT_ZARR_COUNT(z, n_misses);
					if (entries[want[k]].offset != SCOUT_SHARD_EMPTY)
						SCOUT_ZARR_COUNT(z, n_decoded);
				}
				nmiss = 0; /* placed */
			}
			for (size_t k = 0; k < nmiss; k++) {
				bufs[k] = scout__buf_alloc(z->chunk_nbytes);
				if (!bufs[k]) {
					rc = scout__error(SCOUT_ENOMEM, "%s: out of memory",
							  z->path);
					goto done;
				}
			}
			if (nmiss > 0)
				rc = scout__shard_read_inner(z->shard, z->store, key, entries, &ver,
							     want, nmiss, bufs, SHARD_READ_GAP);
			if (rc < 0) {
				rc = scout__error_prefix(rc, "%s: ", z->path);
				goto done;
			}
			if (nhits > 0 && !scout__store_version_equal(&ver, &cur)) {
				/* the shard changed since the hits were checked: read all */
				rc = SCOUT_EAGAIN_INTERNAL;
				goto done;
			}
			for (size_t k = 0; k < nmiss; k++) {
				inner_use *x = &u[slot[k]];
				SCOUT_ZARR_COUNT(z, n_misses);
				if (entries[want[k]].offset != SCOUT_SHARD_EMPTY)
					SCOUT_ZARR_COUNT(z, n_decoded);
				scout_cache_meta m;
				memset(&m, 0, sizeof m);
				m.version = ver;
				if (cached && ver.strong &&
				    scout__cache_put(z->cache, x->lin, bufs[k], &m, &x->entry)) {
					x->data = scout__cache_entry_data(x->entry);
				} else {
					x->owned = bufs[k];
					x->data = bufs[k];
				}
				bufs[k] = NULL;
			}
		}
	}
	if (absent)
		SCOUT_ZARR_COUNT(z, n_absent);
	for (size_t k = 0; k < n; k++)
		if (!u[k].placed)
			place(arr, dst, start, stop, &u[k], u[k].data);
done:
	for (size_t k = 0; u && k < n; k++) {
		if (u[k].entry)
			scout__cache_release(z->cache, u[k].entry);
		scout__buf_free(u[k].owned, z->chunk_nbytes);
	}
	for (size_t k = 0; bufs && k < n; k++)
		scout__buf_free(bufs[k], z->chunk_nbytes);
	free(entries);
	free(u);
	free(want);
	free(bufs);
	free(slot);
	return rc;
}

typedef int (*cell_fn)(scout_array *, const int64_t *, void *);

typedef struct {
	scout_array *arr;
	cell_fn fn;
	void *payload;
} cell_job;

static int run_cell(const int64_t *idx, void *payload)
{
	cell_job *j = payload;
	return j->fn(j->arr, idx, j->payload);
}

/*
 * Run fn on the cells of grid `cell` (the shards) that box [start, stop)
 * touches: on the worker pool when the box is worth it (chunk_runner.h; the
 * shards' inner chunks then run inline on each thread), else in C order here
 * (and a shard's inner chunks may use the pool).
 */
static int for_each_cell(scout_array *arr, const int64_t *cell, const int64_t *start,
			 const int64_t *stop, cell_fn fn, void *payload, void *prefault)
{
	int nd = arr->ndim;
	int64_t lo[SCOUT_MAX_NDIM], hi[SCOUT_MAX_NDIM], idx[SCOUT_MAX_NDIM];
	size_t ncells = 1, nbytes = arr->itemsize;
	for (int i = 0; i < nd; i++) {
		lo[i] = start[i] / cell[i];
		hi[i] = (stop[i] - 1) / cell[i];
		idx[i] = lo[i];
		ncells *= (size_t)(hi[i] - lo[i] + 1);
		nbytes *= (size_t)(stop[i] - start[i]);
	}
	if (prefault)
		scout__prefault(prefault, nbytes);
	if (scout__chunks_parallel(ncells, nbytes)) {
		cell_job j = {arr, fn, payload};
		return scout__chunks_run(nd, lo, hi, run_cell, &j);
	}
	for (;;) {
		int rc = fn(arr, idx, payload);
		if (rc < 0)
			return rc;
		if (!scout__box_next(idx, lo, hi, nd))
			return SCOUT_OK;
	}
}

typedef struct {
	void *dst;
	const void *src;
	const int64_t *start, *stop;
} box_args;

static int read_one(scout_array *arr, const int64_t *s, void *payload)
{
	box_args *b = payload;
	int rc = read_shard_part(arr, b->dst, b->start, b->stop, s, 1);
	if (rc == SCOUT_EAGAIN_INTERNAL)
		rc = read_shard_part(arr, b->dst, b->start, b->stop, s, 0);
	return rc;
}

int scout__zarr_shard_read_box(scout_array *arr, void *dst, const int64_t *start,
			       const int64_t *stop)
{
	box_args b = {dst, NULL, start, stop};
	return for_each_cell(arr, arr->write_chunks, start, stop, read_one, &b, dst);
}

void scout__zarr_shard_invalidate(const scout_array *arr, const int64_t *s)
{
	scout_zarr_impl *z = arr->impl;
	int nd = arr->ndim;
	const int64_t *sh = arr->write_chunks;
	if (scout__cache_capacity(z->cache) == 0)
		return;
	int64_t c[SCOUT_MAX_NDIM], lo[SCOUT_MAX_NDIM], hi[SCOUT_MAX_NDIM];
	for (int i = 0; i < nd; i++) {
		lo[i] = s[i] * sh[i] / arr->chunks[i];
		hi[i] = lo[i] + sh[i] / arr->chunks[i] - 1;
		if (hi[i] >= z->inner_grid[i])
			hi[i] = z->inner_grid[i] - 1;
		c[i] = lo[i];
	}
	for (;;) {
		scout__cache_invalidate(z->cache, inner_lin(z, nd, c));
		if (!scout__box_next(c, lo, hi, nd))
			break;
	}
}

/* Write the part of box [start, stop) that lies in shard s (under the shard's lock). */
static int write_one(scout_array *arr, const int64_t *s, void *payload)
{
	box_args *bx = payload;
	scout_zarr_impl *z = arr->impl;
	int nd = arr->ndim;
	size_t isz = arr->itemsize;
	const int64_t *sh = arr->write_chunks;
	const int64_t *start = bx->start, *stop = bx->stop;
	char key[SCOUT_ZARR_KEY_MAX];
	int rc = scout__chunk_key_encode(key, sizeof key, &z->keys, nd, s);
	if (rc < 0)
		return rc;
	int64_t sshape[SCOUT_MAX_NDIM], soff[SCOUT_MAX_NDIM], doff[SCOUT_MAX_NDIM],
	    ext[SCOUT_MAX_NDIM], zero[SCOUT_MAX_NDIM] = {0};
	int full = 1, edge = 0, direct = 1;
	for (int i = 0; i < nd; i++) {
		int64_t cs = s[i] * sh[i], ce = cs + sh[i];
		if (ce > arr->shape[i]) {
			ce = arr->shape[i];
			edge = 1;
		}
		int64_t a = start[i] > cs ? start[i] : cs;
		int64_t b = stop[i] < ce ? stop[i] : ce;
		if (a != cs || b != ce)
			full = 0;
		sshape[i] = stop[i] - start[i];
		soff[i] = a - start[i];
		doff[i] = a - cs;
		ext[i] = b - a;
		if (sshape[i] != sh[i])
			direct = 0;
	}
	direct = direct && full && !edge;
	size_t nb = z->shard_nbytes ? z->shard_nbytes : 1;
	void *buf = direct ? NULL : scout__buf_alloc(nb), *enc = NULL;
	size_t n = 0;
	if (!direct && !buf)
		return scout__error(SCOUT_ENOMEM, "%s: shard %s: cannot allocate %zu bytes",
				    z->path, key, nb);
	uint64_t lin = shard_lin(z, nd, s);
	rc = scout__chunk_lock(z->locks, lin);
	if (rc < 0) {
		scout__buf_free(buf, nb);
		return shard_error(rc, z, key);
	}
	if (!direct && full) {
		if (edge)
			scout__fill_nd(buf, sh, zero, sh, nd, isz, z->meta.fill);
	} else if (!direct) {
		/* the old shard into pooled memory (a malloc'd one would be faulted in anew) */
		void *old = NULL, *big = NULL;
		size_t on = 0, cap = 1;
		scout_store_version hv;
		rc = scout__store_head(&hv, z->store, key);
		if (rc == SCOUT_OK) {
			cap = hv.size > 0 ? (size_t)hv.size : 1;
			old = scout__buf_alloc(cap);
			rc = old ? scout__store_get_range_into(old, cap, &on, NULL, z->store, key,
							       0, UINT64_MAX)
				 : scout__error(SCOUT_ENOMEM, "out of memory");
			if (rc == SCOUT_OK && on > cap) /* replaced by a larger one since */
				rc = scout__store_get(&big, &on, NULL, z->store, key);
		}
		if (rc == SCOUT_ENOTFOUND) {
			scout__fill_nd(buf, sh, zero, sh, nd, isz, z->meta.fill);
			rc = SCOUT_OK;
		} else if (rc == SCOUT_OK) {
			SCOUT_ZARR_COUNT(z, n_read);
			scout_chunk_source src = {z->store, key};
			rc = scout__pipeline_decode(z->pipeline, big ? big : old, on, buf, &src);
			if (rc == SCOUT_OK)
				SCOUT_ZARR_COUNT(z, n_decoded);
		}
		scout__buf_free(old, cap);
		free(big);
		if (rc < 0) {
			rc = shard_error(rc, z, key);
			goto done;
		}
	}
	if (!direct)
		scout__copy_nd(buf, sh, doff, bx->src, sshape, soff, ext, nd, isz);
	/* the pipeline is this one sharding_indexed stage; its output pooled */
	rc = scout__shard_encode_pooled(z->shard, direct ? bx->src : buf, &enc, &n);
	if (rc < 0) {
		rc = shard_error(rc, z, key);
		goto done;
	}
	rc = scout__store_set(z->store, key, enc, n, NULL);
	if (rc < 0) {
		rc = shard_error(rc, z, key);
		goto done;
	}
	SCOUT_ZARR_COUNT(z, n_written);
done:
	/* the shard's inner chunks in the cache are stale now (or may be) */
	scout__zarr_shard_invalidate(arr, s);
	scout__chunk_unlock(z->locks, lin);
	scout__buf_free(buf, nb);
	scout__buf_free(enc, n);
	return rc;
}

int scout__zarr_shard_write_box(scout_array *arr, const int64_t *start, const int64_t *stop,
				const void *src)
{
	box_args b = {NULL, src, start, stop};
	return for_each_cell(arr, arr->write_chunks, start, stop, write_one, &b, NULL);
}

int scout__zarr_shard_info(scout_zarr_shard_info *out, scout_array *arr)
{
	scout_zarr_impl *z = arr->impl;
	int nd = arr->ndim;
	memset(out, 0, sizeof *out);
	out->version = SCOUT_ZARR_SHARD_INFO_VERSION;
	if (!z->shard)
		return SCOUT_OK;
	out->sharded = 1;
	memcpy(out->shards, arr->write_chunks, sizeof out->shards);
	const scout_shard_layout *l = scout__shard_codec_layout(z->shard);
	int64_t s[SCOUT_MAX_NDIM] = {0};
	uint64_t total = 1;
	for (int i = 0; i < nd; i++)
		total *= (uint64_t)z->grid[i];
	out->shards_total = total;
	for (uint64_t k = 0; k < total; k++) {
		char key[SCOUT_ZARR_KEY_MAX];
		int rc = scout__chunk_key_encode(key, sizeof key, &z->keys, nd, s);
		if (rc < 0)
			return rc;
		scout_shard_entry *e = NULL;
		scout_store_version ver;
		rc = scout__shard_load_index(&e, &ver, z->shard, z->store, key);
		if (rc == SCOUT_OK) {
			out->shards_stored++;
			out->inner_total += l->count;
			out->index_bytes += scout__shard_index_nbytes(l);
			for (uint64_t i = 0; i < l->count; i++)
				out->inner_stored += e[i].offset != SCOUT_SHARD_EMPTY;
			free(e);
		} else if (rc != SCOUT_ENOTFOUND) {
			return shard_error(rc, z, key);
		}
		int ax = nd - 1;
		while (ax >= 0 && ++s[ax] >= z->grid[ax]) {
			s[ax] = 0;
			ax--;
		}
	}
	return SCOUT_OK;
}
