/*
 * One chunk of a Zarr array (v2 or v3): its key (format/chunk_key.h), its
 * bytes in the store, the codec pipeline, the decoded-chunk cache and the
 * chunk locks. Each function here handles one chunk and is thread-safe, so
 * the box loops of zarr_box.c may run them in parallel.
 *
 * Cache validity: an entry keeps the store's version token of the chunk's
 * key (filesystem: inode, device, size, mtime, ctime) and the size and hash
 * of the encoded bytes. Writers always replace a key atomically, so a changed
 * chunk has a new token, except that a filesystem may hand a new file a freed
 * inode within one timestamp tick: the store marks such young tokens weak.
 * An entry is used on an equal strong token alone; with a weak one the
 * encoded bytes are read again and compared by size and hash, which still
 * saves the decode. Threads that miss on the same chunk at the same time are
 * serialised by a striped decode mutex, so the second finds the first one's
 * result in the cache: each chunk is decoded once.
 *
 * Writes: each chunk is written under its chunk lock (chunk_lock.h: striped
 * mutexes + OFD locks on <array>/.scout.lock). A chunk the box covers
 * entirely is built from the box alone and encoded before the lock is taken;
 * a partly covered chunk is read (through the cache), merged, encoded and
 * rewritten under the lock, and kept in the cache. The encoded bytes go to
 * the store from the compressor's pooled scratch
 * (scout__pipeline_encode_pooled): no copy, no malloc per chunk.
 */
#include <stdlib.h>
#include <string.h>

#include "core/bufpool.h"
#include "zarr_impl.h"

uint64_t scout__zarr_linear_index(const scout_zarr_impl *z, int ndim, const int64_t *idx)
{
	uint64_t lin = 0;
	for (int i = 0; i < ndim; i++)
		lin = lin * (uint64_t)z->grid[i] + (uint64_t)idx[i];
	return lin;
}

void scout__zarr_view_release(const scout_array *arr, scout_chunk_view *v)
{
	scout_zarr_impl *z = arr->impl;
	if (v->entry)
		scout__cache_release(z->cache, v->entry);
	scout__buf_free(v->owned, z->chunk_nbytes);
	memset(v, 0, sizeof *v);
}

static int chunk_error(int rc, const scout_zarr_impl *z, const char *key)
{
	return scout__error_prefix(rc, "%s: chunk %s: ", z->path, key);
}

/* Decode an encoded chunk into dst (native byte order, C order). */
static int decode_chunk(scout_zarr_impl *z, void *dst, const void *enc, size_t n, const char *key)
{
	scout_chunk_source src = {z->store, key};
	int rc = scout__pipeline_decode(z->pipeline, enc, n, dst, &src);
	if (rc < 0)
		return chunk_error(rc, z, key);
	SCOUT_ZARR_COUNT(z, n_decoded);
	return SCOUT_OK;
}

static int entry_trusted(const scout_cache_meta *m, const scout_store_version *v)
{
	return m->version.strong && scout__store_version_equal(&m->version, v);
}

static int load_chunk_body(scout_zarr_impl *z, int ndim, const int64_t *idx, uint64_t lin,
			   void *into, scout_chunk_view *v)
{
	memset(v, 0, sizeof *v);
	char key[SCOUT_ZARR_KEY_MAX];
	int rc = scout__chunk_key_encode(key, sizeof key, &z->keys, ndim, idx);
	if (rc < 0)
		return rc;
	scout_cache_entry *e = scout__cache_get(z->cache, lin);
	scout_cache_meta em;
	if (e) {
		em = scout__cache_entry_meta(z->cache, e);
		scout_store_version cur;
		rc = scout__store_head(&cur, z->store, key);
		if (rc == SCOUT_ENOTFOUND) {
			scout__cache_release(z->cache, e);
			scout__cache_invalidate(z->cache, lin);
			SCOUT_ZARR_COUNT(z, n_absent);
			v->absent = 1;
			return SCOUT_OK;
		}
		if (rc < 0) {
			scout__cache_release(z->cache, e);
			return chunk_error(rc, z, key);
		}
		if (entry_trusted(&em, &cur))
			goto hit;
	}
	void *enc;
	size_t n;
	scout_cache_meta m;
	rc = scout__store_get(&enc, &n, &m.version, z->store, key);
	if (rc == SCOUT_ENOTFOUND) {
		if (e) {
			scout__cache_release(z->cache, e);
			scout__cache_invalidate(z->cache, lin);
		}
		SCOUT_ZARR_COUNT(z, n_absent);
		v->absent = 1;
		return SCOUT_OK;
	}
	if (rc < 0) {
		scout__cache_release(z->cache, e);
		return chunk_error(rc, z, key);
	}
	SCOUT_ZARR_COUNT(z, n_read);
	m.enc_size = n;
	/*
	 * The hash identifies the bytes a cached entry came from. It is compared
	 * only when a value whose token is weak is read again, so it is computed
	 * to compare with an entry that has one, and for a new entry only when
	 * the token is weak; 0 means "no hash" (never equal).
	 */
	int cmp = e && em.enc_hash != 0 && em.enc_size == n;
	int keep_young = !into && !m.version.strong;
	m.enc_hash = cmp || keep_young ? scout__hash64(enc, n) : 0;
	if (cmp && em.enc_hash == m.enc_hash) {
		free(enc);
		scout__cache_entry_set_meta(z->cache, e, &m);
		goto hit;
	}
	if (e) {
		scout__cache_release(z->cache, e);
		e = NULL;
	}
	SCOUT_ZARR_COUNT(z, n_misses);
	if (into) {
		rc = decode_chunk(z, into, enc, n, key);
		free(enc);
		return rc;
	}
	void *buf = scout__buf_alloc(z->chunk_nbytes);
	if (!buf) {
		free(enc);
		return scout__error(SCOUT_ENOMEM, "%s: chunk %s: cannot allocate %zu bytes",
				    z->path, key, z->chunk_nbytes);
	}
	rc = decode_chunk(z, buf, enc, n, key);
	free(enc);
	if (rc < 0) {
		scout__buf_free(buf, z->chunk_nbytes);
		return rc;
	}
	if (scout__cache_capacity(z->cache) > 0 &&
	    scout__cache_put(z->cache, lin, buf, &m, &v->entry)) {
		v->data = scout__cache_entry_data(v->entry);
		return SCOUT_OK;
	}
	v->owned = buf;
	v->data = buf;
	return SCOUT_OK;
hit:
	SCOUT_ZARR_COUNT(z, n_hits);
	if (into) {
		memcpy(into, scout__cache_entry_data(e), z->chunk_nbytes);
		scout__cache_release(z->cache, e);
	} else {
		v->entry = e;
		v->data = scout__cache_entry_data(e);
	}
	return SCOUT_OK;
}

/*
 * load_chunk_body() under the chunk's decode mutex when the result goes to the
 * cache: threads that miss on the same chunk at once wait for the first one's
 * decode and then find it in the cache, so each chunk is decoded once.
 */
int scout__zarr_chunk_read(const scout_array *arr, const int64_t *idx, void *into,
			   scout_chunk_view *v)
{
	scout_zarr_impl *z = arr->impl;
	uint64_t lin = scout__zarr_linear_index(z, arr->ndim, idx);
	if (into || scout__cache_capacity(z->cache) == 0)
		return load_chunk_body(z, arr->ndim, idx, lin, into, v);
	pthread_mutex_t *m = &z->decode_mu[(lin * UINT64_C(0x9e3779b97f4a7c15)) >> 58];
	pthread_mutex_lock(m);
	int rc = load_chunk_body(z, arr->ndim, idx, lin, into, v);
	pthread_mutex_unlock(m);
	return rc;
}

/* Store encoded chunk key under its lock (held by the caller): the store, then the counter. */
static int put_encoded(scout_zarr_impl *z, const char *key, uint64_t lin, const void *enc, size_t n,
		       scout_store_version *ver)
{
	int rc = scout__store_set(z->store, key, enc, n, ver);
	if (rc < 0) {
		scout__cache_invalidate(z->cache, lin);
		return chunk_error(rc, z, key);
	}
	SCOUT_ZARR_COUNT(z, n_written);
	return SCOUT_OK;
}

/*
 * Write part p that covers the whole chunk (p->full): it is built from the box
 * alone, so it is encoded before the chunk's lock is taken, which only the
 * store needs (a writer of another part of the chunk waits for the store, not
 * the encode).
 */
static int write_whole(const scout_array *arr, const scout_chunk_part *p, const char *key,
		       uint64_t lin)
{
	scout_zarr_impl *z = arr->impl;
	int nd = arr->ndim, rc;
	size_t isz = arr->itemsize, nb = z->chunk_nbytes ? z->chunk_nbytes : 1;
	void *enc = NULL;
	size_t n = 0, cap = 0;
	if (!p->edge && scout__zarr_region_contiguous(p->sshape, p->ext, nd)) {
		/* the whole chunk is one contiguous run of the source: encode it in place */
		size_t off = 0;
		for (int i = 0; i < nd; i++)
			off = off * (size_t)p->sshape[i] + (size_t)p->soff[i];
		rc = scout__pipeline_encode_pooled(
		    z->pipeline, (const unsigned char *)p->src + off * isz, &enc, &n, &cap);
	} else {
		void *buf = scout__buf_alloc(nb);
		if (!buf)
			return scout__error(SCOUT_ENOMEM, "%s: chunk %s: cannot allocate %zu bytes",
					    z->path, key, nb);
		int64_t zero[SCOUT_MAX_NDIM] = {0};
		if (p->edge)
			scout__fill_nd(buf, arr->chunks, zero, arr->chunks, nd, isz, z->meta.fill);
		scout__copy_nd(buf, arr->chunks, p->doff, p->src, p->sshape, p->soff, p->ext, nd,
			       isz);
		rc = scout__pipeline_encode_pooled(z->pipeline, buf, &enc, &n, &cap);
		scout__buf_free(buf, nb);
	}
	if (rc < 0)
		return chunk_error(rc, z, key);
	rc = scout__chunk_lock(z->locks, lin);
	if (rc < 0) {
		rc = chunk_error(rc, z, key);
	} else {
		rc = put_encoded(z, key, lin, enc, n, NULL);
		if (rc == SCOUT_OK)
			scout__cache_invalidate(z->cache, lin);
		scout__chunk_unlock(z->locks, lin);
	}
	scout__pipeline_free_encoded(enc, cap);
	return rc;
}

int scout__zarr_chunk_write(const scout_array *arr, const int64_t *idx, const scout_chunk_part *p)
{
	scout_zarr_impl *z = arr->impl;
	int nd = arr->ndim;
	char key[SCOUT_ZARR_KEY_MAX];
	int rc = scout__chunk_key_encode(key, sizeof key, &z->keys, nd, idx);
	if (rc < 0)
		return rc;
	uint64_t lin = scout__zarr_linear_index(z, nd, idx);
	if (p->full)
		return write_whole(arr, p, key, lin);
	void *enc = NULL;
	size_t n = 0, cap = 0;
	size_t isz = arr->itemsize, nb = z->chunk_nbytes ? z->chunk_nbytes : 1;
	int64_t zero[SCOUT_MAX_NDIM] = {0};
	void *buf = scout__buf_alloc(nb);
	if (!buf)
		return scout__error(SCOUT_ENOMEM, "%s: chunk %s: cannot allocate %zu bytes",
				    z->path, key, nb);
	rc = scout__chunk_lock(z->locks, lin);
	if (rc < 0) {
		scout__buf_free(buf, nb);
		return chunk_error(rc, z, key);
	}
	/* a part of the chunk: merged with what is stored, under the lock */
	scout_chunk_view v;
	rc = scout__zarr_chunk_read(arr, idx, buf, &v);
	if (rc < 0)
		goto done;
	if (v.absent)
		scout__fill_nd(buf, arr->chunks, zero, arr->chunks, nd, isz, z->meta.fill);
	scout__copy_nd(buf, arr->chunks, p->doff, p->src, p->sshape, p->soff, p->ext, nd, isz);
	rc = scout__pipeline_encode_pooled(z->pipeline, buf, &enc, &n, &cap);
	if (rc < 0) {
		rc = chunk_error(rc, z, key);
		goto done;
	}
	scout_cache_meta m;
	rc = put_encoded(z, key, lin, enc, n, &m.version);
	if (rc < 0)
		goto done;
	m.enc_size = n;
	/* keep partly written chunks (more parts are likely to follow) */
	int keep = scout__cache_capacity(z->cache) > 0;
	m.enc_hash = keep ? scout__hash64(enc, n) : 0;
	if (keep && scout__cache_put(z->cache, lin, buf, &m, NULL))
		buf = NULL;
	else
		scout__cache_invalidate(z->cache, lin);
done:
	scout__chunk_unlock(z->locks, lin);
	scout__buf_free(buf, nb);
	scout__pipeline_free_encoded(enc, cap);
	return rc;
}
