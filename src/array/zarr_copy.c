/*
 * Copying a box from one Zarr array into another (scout_zarr_copy_box, see
 * scout/zarr.h): stored chunk bytes moved as they are when both sides encode
 * chunks alike, values through extract/insert otherwise.
 *
 * Why: rechunking an array into shards of the same inner chunks, or copying
 * it with its codec (a pyramid's level 0), re-encodes nothing; encoding is
 * the largest cost of such a write (W8: 4.4 s of zstd for 2 GiB, against
 * about 1 s to read and write the compressed bytes).
 *
 * A cell of dst's write grid (a chunk, or a shard) is copied raw only when
 * the box covers it whole: then no byte of dst's old cell survives, and the
 * cell is replaced atomically under its lock like any write. Source chunks
 * are read with one store get each and, unless the caller says it decoded
 * them already, decoded into scratch memory to check them (a corrupt chunk
 * is reported with its file, not copied on).
 */
#include <stdlib.h>
#include <string.h>

#include "core/bufpool.h"
#include "zarr_impl.h"

int scout_zarr_copy_raw_possible(const scout_array *dst, const scout_array *src)
{
	scout_zarr_impl *zd = scout__zarr_impl(dst), *zs = scout__zarr_impl(src);
	if (!zd || !zs || zs->shard || dst->ndim != src->ndim || dst->dtype != src->dtype)
		return 0;
	for (int i = 0; i < dst->ndim; i++)
		if (dst->shape[i] != src->shape[i] || dst->chunks[i] != src->chunks[i])
			return 0;
	if (zd->meta.fill_null != zs->meta.fill_null ||
	    memcmp(zd->meta.fill, zs->meta.fill, src->itemsize) != 0)
		return 0;
	const scout_pipeline *pd =
	    zd->shard ? scout__shard_codec_inner(zd->shard) : (const scout_pipeline *)zd->pipeline;
	json_t *jd = scout__pipeline_json(pd), *js = scout__pipeline_json(zs->pipeline);
	int same = jd && js && json_equal(jd, js);
	json_decref(jd);
	json_decref(js);
	return same;
}

typedef struct {
	scout_array *dst, *src;
	scout_zarr_impl *zd, *zs;
	int verify;
	int drop_fill; /* sharded dst: all-fill chunks are not stored (as its writes) */
	void *scratch; /* a decoded source chunk (verify) */
} copy_ctx;

/*
 * Source chunk c's stored bytes: *enc (pooled, *cap bytes: give it back with
 * scout__buf_free(*enc, *cap)) and *n, or *enc NULL when the chunk is not
 * stored. Pooled, not malloc'd: a shard's worth of chunk-sized buffers from
 * malloc grew the heap and had it trimmed again for every shard, faulting
 * fresh pages in each time (W8's convert took longer than encoding anew).
 * Checked by decoding when the caller asked for it; then a chunk of only the
 * fill value counts as not stored when dst drops such chunks.
 */
static int source_chunk(void **enc, size_t *n, size_t *cap, copy_ctx *x, const int64_t *c)
{
	scout_zarr_impl *zs = x->zs;
	char key[SCOUT_ZARR_KEY_MAX];
	*enc = NULL;
	*n = *cap = 0;
	int rc = scout__chunk_key_encode(key, sizeof key, &zs->keys, x->src->ndim, c);
	if (rc < 0)
		return rc;
	scout_store_version hv;
	rc = scout__store_head(&hv, zs->store, key);
	/* a chunk rewritten larger between the size and the read: read it again, at its new size */
	for (int tries = 0; rc == SCOUT_OK; tries++) {
		size_t want = hv.size > 0 ? (size_t)hv.size : 1;
		if (!(*enc = scout__buf_alloc(want)))
			return scout__error(SCOUT_ENOMEM, "%s: chunk %s: out of memory", zs->path,
					    key);
		*cap = want;
		rc =
		    scout__store_get_range_into(*enc, *cap, n, NULL, zs->store, key, 0, UINT64_MAX);
		if (rc < 0 || *n <= *cap)
			break;
		scout__buf_free(*enc, *cap);
		*enc = NULL;
		*cap = 0;
		hv.size = (int64_t)*n;
		if (tries == 3)
			return scout__error(SCOUT_EIO, "%s: chunk %s: rewritten while being read",
					    zs->path, key);
	}
	if (rc == SCOUT_ENOTFOUND) {
		scout__buf_free(*enc, *cap);
		*enc = NULL;
		*n = *cap = 0;
		SCOUT_ZARR_COUNT(zs, n_absent);
		return SCOUT_OK;
	}
	if (rc < 0) {
		scout__buf_free(*enc, *cap);
		*enc = NULL;
		*cap = 0;
		return scout__error_prefix(rc, "%s: chunk %s: ", zs->path, key);
	}
	SCOUT_ZARR_COUNT(zs, n_read);
	if (x->verify) {
		scout_chunk_source from = {zs->store, key};
		rc = scout__pipeline_decode(zs->pipeline, *enc, *n, x->scratch, &from);
		if (rc < 0) {
			scout__buf_free(*enc, *cap);
			*enc = NULL;
			*cap = 0;
			return scout__error_prefix(rc, "%s: chunk %s: ", zs->path, key);
		}
		SCOUT_ZARR_COUNT(zs, n_decoded);
		if (x->drop_fill &&
		    scout__is_fill(x->scratch, zs->chunk_nbytes, zs->meta.fill, x->src->itemsize)) {
			scout__buf_free(*enc, *cap);
			*enc = NULL;
			*n = *cap = 0;
		}
	}
	return SCOUT_OK;
}

/* Replace dst's cell `key` (linear index lin) by bytes (or remove it: bytes NULL), under its lock.
 */
static int put_cell(copy_ctx *x, const char *key, uint64_t lin, const void *bytes, size_t n,
		    const int64_t *cell)
{
	scout_zarr_impl *zd = x->zd;
	int rc = scout__chunk_lock(zd->locks, lin);
	if (rc < 0)
		return scout__error_prefix(rc, "%s: chunk %s: ", zd->path, key);
	if (bytes) {
		rc = scout__store_set(zd->store, key, bytes, n, NULL);
		if (rc == SCOUT_OK)
			SCOUT_ZARR_COUNT(zd, n_written);
	} else {
		rc = scout__store_delete(zd->store, key);
		if (rc == SCOUT_ENOTFOUND)
			rc = SCOUT_OK;
	}
	if (zd->shard)
		scout__zarr_shard_invalidate(x->dst, cell);
	else
		scout__cache_invalidate(zd->cache, lin);
	scout__chunk_unlock(zd->locks, lin);
	return rc < 0 ? scout__error_prefix(rc, "%s: chunk %s: ", zd->path, key) : SCOUT_OK;
}

/* One whole unsharded cell: src chunk `cell` to dst chunk `cell`. */
static int copy_chunk(copy_ctx *x, const int64_t *cell)
{
	char key[SCOUT_ZARR_KEY_MAX];
	int rc = scout__chunk_key_encode(key, sizeof key, &x->zd->keys, x->dst->ndim, cell);
	if (rc < 0)
		return rc;
	void *enc;
	size_t n, cap;
	if ((rc = source_chunk(&enc, &n, &cap, x, cell)) < 0)
		return rc;
	rc = put_cell(x, key, scout__zarr_linear_index(x->zd, x->dst->ndim, cell), enc, n, cell);
	scout__buf_free(enc, cap);
	return rc;
}

/* One whole shard `cell` of dst, assembled from src's chunks. */
static int copy_shard(copy_ctx *x, const int64_t *cell)
{
	scout_zarr_impl *zd = x->zd;
	int nd = x->dst->ndim;
	const scout_shard_layout *lay = scout__shard_codec_layout(zd->shard);
	size_t cnt = (size_t)lay->count;
	char key[SCOUT_ZARR_KEY_MAX];
	int rc = scout__chunk_key_encode(key, sizeof key, &zd->keys, nd, cell);
	if (rc < 0)
		return rc;
	void **enc = calloc(cnt, sizeof *enc);
	size_t *sizes = calloc(cnt, sizeof *sizes), *caps = calloc(cnt, sizeof *caps);
	void *shard = NULL;
	size_t sn = 0;
	if (!enc || !sizes || !caps) {
		rc = scout__error(SCOUT_ENOMEM, "%s: shard %s: out of memory", zd->path, key);
		goto done;
	}
	int64_t per[SCOUT_MAX_NDIM], c[SCOUT_MAX_NDIM], o[SCOUT_MAX_NDIM] = {0};
	for (int i = 0; i < nd; i++)
		per[i] = x->dst->write_chunks[i] / x->dst->chunks[i];
	for (size_t k = 0; k < cnt; k++) {
		/* inner chunk k of the shard (C order) is source chunk c */
		int inside = 1;
		for (int i = 0; i < nd; i++) {
			c[i] = cell[i] * per[i] + o[i];
			if (c[i] >= zd->inner_grid[i])
				inside = 0;
		}
		if (inside && (rc = source_chunk(&enc[k], &sizes[k], &caps[k], x, c)) < 0)
			goto done;
		for (int i = nd - 1; i >= 0 && ++o[i] == per[i]; i--)
			o[i] = 0;
	}
	rc = scout__shard_assemble_pooled(&shard, &sn, NULL, (const void *const *)enc, sizes, lay);
	if (rc < 0) {
		rc = scout__error_prefix(rc, "%s: shard %s: ", zd->path, key);
		goto done;
	}
	rc = put_cell(x, key, scout__zarr_linear_index(zd, nd, cell), shard, sn, cell);
done:
	if (enc && caps)
		for (size_t k = 0; k < cnt; k++)
			scout__buf_free(enc[k], caps[k]);
	free(enc);
	free(sizes);
	free(caps);
	scout__buf_free(shard, sn);
	return rc;
}

/* The part of the box in a cell the box does not cover whole: through the values. */
static int copy_values(scout_array *dst, scout_array *src, const int64_t *a, const int64_t *b)
{
	size_t n = dst->itemsize;
	for (int i = 0; i < dst->ndim; i++)
		n *= (size_t)(b[i] - a[i]);
	void *buf = scout__buf_alloc(n);
	if (!buf)
		return scout__error(SCOUT_ENOMEM, "copy_box: cannot allocate %zu bytes", n);
	int rc = scout_extract_box(buf, src, a, b);
	if (rc == SCOUT_OK)
		rc = scout_insert_box(dst, a, b, buf);
	scout__buf_free(buf, n);
	return rc;
}

int scout_zarr_copy_box(size_t *raw_out, scout_array *dst, scout_array *src, const int64_t *start,
			const int64_t *stop, unsigned flags)
{
	if (raw_out)
		*raw_out = 0;
	if (!dst || !src || !start || !stop)
		return scout__error(SCOUT_EINVAL, "copy_box: NULL argument");
	if (!dst->writable)
		return scout__error(SCOUT_EREADONLY, "copy_box: the destination is read-only");
	int nd = dst->ndim;
	if (src->ndim != nd || src->dtype != dst->dtype)
		return scout__error(SCOUT_EINVAL, "copy_box: the arrays differ in ndim or dtype");
	for (int i = 0; i < nd; i++)
		if (src->shape[i] != dst->shape[i])
			return scout__error(SCOUT_EINVAL, "copy_box: the arrays differ in shape");
	int rc = scout__check_box(nd, dst->shape, start, stop);
	if (rc < 0)
		return rc;
	for (int i = 0; i < nd; i++)
		if (stop[i] == start[i])
			return SCOUT_OK;
	if (!scout_zarr_copy_raw_possible(dst, src))
		return copy_values(dst, src, start, stop);
	int verify = !(flags & SCOUT_ZARR_COPY_NO_VERIFY);
	copy_ctx x = {dst,
		      src,
		      scout__zarr_impl(dst),
		      scout__zarr_impl(src),
		      verify,
		      verify && scout__zarr_impl(dst)->shard != NULL,
		      NULL};
	if (x.verify &&
	    !(x.scratch = scout__buf_alloc(x.zs->chunk_nbytes ? x.zs->chunk_nbytes : 1)))
		return scout__error(SCOUT_ENOMEM, "copy_box: out of memory");
	/* the write cells the box touches, in C order */
	const int64_t *w = dst->write_chunks;
	int64_t lo[SCOUT_MAX_NDIM], hi[SCOUT_MAX_NDIM], cell[SCOUT_MAX_NDIM];
	for (int i = 0; i < nd; i++) {
		lo[i] = start[i] / w[i];
		hi[i] = (stop[i] - 1) / w[i];
		cell[i] = lo[i];
	}
	size_t raw = 0;
	for (;;) {
		int64_t a[SCOUT_MAX_NDIM], b[SCOUT_MAX_NDIM];
		int whole = 1;
		for (int i = 0; i < nd; i++) {
			int64_t cs = cell[i] * w[i],
				ce = cs + w[i] < dst->shape[i] ? cs + w[i] : dst->shape[i];
			a[i] = start[i] > cs ? start[i] : cs;
			b[i] = stop[i] < ce ? stop[i] : ce;
			if (a[i] != cs || b[i] != ce)
				whole = 0;
		}
		if (!whole)
			rc = copy_values(dst, src, a, b);
		else if ((rc = x.zd->shard ? copy_shard(&x, cell) : copy_chunk(&x, cell)) ==
			 SCOUT_OK)
			raw++;
		if (rc < 0)
			break;
		if (!scout__box_next(cell, lo, hi, nd))
			break;
	}
	scout__buf_free(x.scratch, x.zs->chunk_nbytes ? x.zs->chunk_nbytes : 1);
	if (raw_out)
		*raw_out = raw;
	return rc;
}
