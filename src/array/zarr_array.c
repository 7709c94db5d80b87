/*
 * The Zarr v2 backend of scout_array.
 *
 * Layout: a Zarr array is a directory (a store, see store/store.h) with a
 * .zarray (format/zarray.h), optional .zattrs, and one key per stored chunk,
 * named from its grid indices with the dimension separator. Absent chunks read
 * as the fill value. Chunks are stored full size (edge chunks padded with the
 * fill value), encoded by the array's codec (codec/codec.h) from the byte
 * order and memory order ('C' or 'F') the metadata says; in memory, scout
 * always works in native byte order and C order.
 *
 * Reads: every chunk the box intersects is looked up in the handle's cache
 * of decoded chunks (chunk_cache.h) or read and decoded, and the intersection
 * is copied out. A box that is exactly one whole chunk stored in C order and
 * native byte order decodes straight into the destination (not cached).
 *
 * Cache validity: an entry remembers the chunk file's stamp (inode, device,
 * size, mtime, ctime), when it was observed (clock read before the file was
 * opened), and the size and hash of the encoded bytes. Writers always rename
 * a new file in, so a changed chunk has a new stamp, except that a new file
 * may reuse a freed inode number within one timestamp tick. Hence an entry is
 * used on a matching stamp alone only when the file was already older than
 * TRUST_NS when observed (any later replacement gets a later mtime);
 * otherwise the encoded bytes are read again and compared by size and hash,
 * which still saves the decode. Threads that miss on the same chunk at the
 * same time are serialised by a striped decode mutex, so the second finds the
 * first one's result in the cache: each chunk is decoded once.
 *
 * Writes: each chunk the box touches is written under its chunk lock
 * (chunk_lock.h: striped mutexes + OFD locks on <array>/.scout.lock). A chunk
 * the box covers entirely is built from the box alone; a partly covered chunk
 * is read (through the cache), merged and rewritten, and kept in the cache.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "array_impl.h"
#include "chunk_cache.h"
#include "chunk_runner.h"
#include "chunk_lock.h"
#include "core/bufpool.h"
#include "core/prefault.h"
#include "codec/codec.h"
#include "format/zarray.h"
#include "scout/zarr.h"
#include "store/store.h"
#include "zarr_array.h"

#define TRUST_NS       ((int64_t)200 * 1000000) /* 200 ms: far above any timestamp tick */
#define KEY_MAX        1024
#define LOCK_NAME      ".scout.lock"
#define DECODE_STRIPES 64

typedef struct {
	char *path;
	scout_store *store;
	scout_zarray meta;
	scout_codec *codec;
	char sep;
	int swap;    /* stored byte order is not native */
	int fortran; /* stored order 'F' */
	size_t swap_unit;
	size_t chunk_nelems, chunk_nbytes;
	int64_t grid[SCOUT_MAX_NDIM];
	scout_chunk_cache *cache;
	scout_chunk_locks *locks;
	pthread_mutex_t decode_mu[DECODE_STRIPES];
	int decode_mu_init;
	uint64_t n_read, n_decoded, n_absent, n_hits, n_misses, n_written;
} zarr_impl;

static const scout_array_ops zarr_ops;

#define COUNT(z, field) __atomic_fetch_add(&(z)->field, 1, __ATOMIC_RELAXED)

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static zarr_impl *impl_of(const scout_array *arr)
{
	return arr && arr->ops == &zarr_ops ? (zarr_impl *)arr->impl : NULL;
}

/* ---- layout conversions ---- */

/*
 * Convert between C order and F order of a chunk of shape `chunks`.
 * to_c: src is F order, dst C order; otherwise src C, dst F.
 */
static void transpose(void *dst, const void *src, const int64_t *chunks, int ndim, size_t itemsize,
		      int to_c)
{
	int64_t fstr[SCOUT_MAX_NDIM]; /* F-order element strides */
	int64_t s = 1;
	for (int i = 0; i < ndim; i++) {
		fstr[i] = s;
		s *= chunks[i];
	}
	unsigned char *d = dst;
	const unsigned char *p = src;
	int64_t idx[SCOUT_MAX_NDIM] = {0};
	int64_t inner = chunks[ndim - 1], istr = fstr[ndim - 1];
	int64_t foff = 0; /* F offset of idx with idx[ndim-1] = 0 */
	size_t coff = 0;  /* C offset (sequential) */
	for (;;) {
		if (to_c) {
			for (int64_t k = 0; k < inner; k++, coff++)
				memcpy(d + coff * itemsize,
				       p + (size_t)(foff + k * istr) * itemsize, itemsize);
		} else {
			for (int64_t k = 0; k < inner; k++, coff++)
				memcpy(d + (size_t)(foff + k * istr) * itemsize,
				       p + coff * itemsize, itemsize);
		}
		int ax = ndim - 2;
		while (ax >= 0) {
			idx[ax]++;
			foff += fstr[ax];
			if (idx[ax] < chunks[ax])
				break;
			foff -= fstr[ax] * chunks[ax];
			idx[ax] = 0;
			ax--;
		}
		if (ax < 0)
			break;
	}
}

/* ---- chunk access ---- */

/* A decoded chunk being used: from the cache (entry) or a private buffer (owned). */
typedef struct {
	const void *data;
	scout_cache_entry *entry;
	void *owned;
	int absent;
} chunk_view;

static void view_release(zarr_impl *z, chunk_view *v)
{
	if (v->entry)
		scout__cache_release(z->cache, v->entry);
	scout__buf_free(v->owned, z->chunk_nbytes);
	memset(v, 0, sizeof *v);
}

static int chunk_key(zarr_impl *z, char *key, int ndim, const int64_t *idx)
{
	return scout__chunk_key(key, KEY_MAX, ndim, idx, z->sep);
}

static int chunk_error(int rc, zarr_impl *z, const char *key)
{
	return scout__error_prefix(rc, "%s: chunk %s: ", z->path, key);
}

/* Decode an encoded chunk into dst (native byte order, C order). */
static int decode_chunk(zarr_impl *z, const scout_array *arr, void *dst, const void *enc, size_t n,
			const char *key)
{
	void *tmp = dst;
	if (z->fortran) {
		tmp = scout__buf_alloc(z->chunk_nbytes);
		if (!tmp)
			return scout__error(SCOUT_ENOMEM, "%s: chunk %s: cannot allocate %zu bytes",
					    z->path, key, z->chunk_nbytes);
	}
	int rc = scout__codec_decode(z->codec, enc, n, tmp, z->chunk_nbytes);
	if (rc < 0) {
		if (tmp != dst)
			scout__buf_free(tmp, z->chunk_nbytes);
		return chunk_error(rc, z, key);
	}
	COUNT(z, n_decoded);
	if (z->swap)
		scout__byteswap(tmp, z->chunk_nbytes / z->swap_unit, z->swap_unit);
	if (z->fortran) {
		transpose(dst, tmp, arr->chunks, arr->ndim, arr->itemsize, 1);
		scout__buf_free(tmp, z->chunk_nbytes);
	}
	return SCOUT_OK;
}

static int entry_trusted(const scout_cache_meta *m, const scout_store_stamp *st)
{
	return scout__stamp_equal(&m->stamp, st) && m->observed_ns - m->stamp.mtime_ns > TRUST_NS;
}

/*
 * Get chunk `idx` (linear index lin). With `into` (chunk_nbytes, caller's),
 * the chunk is decoded or copied there and not added to the cache; without,
 * *v receives a view (cached entry, or an owned buffer when the cache is off).
 * v->absent is set when the chunk is not stored.
 */
static int load_chunk_body(zarr_impl *z, const scout_array *arr, const int64_t *idx, uint64_t lin,
			   void *into, chunk_view *v)
{
	memset(v, 0, sizeof *v);
	char key[KEY_MAX];
	int rc = chunk_key(z, key, arr->ndim, idx);
	if (rc < 0)
		return rc;
	scout_cache_entry *e = scout__cache_get(z->cache, lin);
	scout_cache_meta em;
	if (e) {
		em = scout__cache_entry_meta(z->cache, e);
		scout_store_stamp st;
		rc = scout__store_stat(&st, z->store, key);
		if (rc == SCOUT_ENOTFOUND) {
			scout__cache_release(z->cache, e);
			scout__cache_invalidate(z->cache, lin);
			COUNT(z, n_absent);
			v->absent = 1;
			return SCOUT_OK;
		}
		if (rc < 0) {
			scout__cache_release(z->cache, e);
			return chunk_error(rc, z, key);
		}
		if (entry_trusted(&em, &st))
			goto hit;
	}
	int64_t observed = now_ns();
	void *enc;
	size_t n;
	scout_cache_meta m;
	rc = scout__store_read(&enc, &n, &m.stamp, z->store, key);
	if (rc == SCOUT_ENOTFOUND) {
		if (e) {
			scout__cache_release(z->cache, e);
			scout__cache_invalidate(z->cache, lin);
		}
		COUNT(z, n_absent);
		v->absent = 1;
		return SCOUT_OK;
	}
	if (rc < 0) {
		scout__cache_release(z->cache, e);
		return chunk_error(rc, z, key);
	}
	COUNT(z, n_read);
	m.observed_ns = observed;
	m.enc_size = n;
	/*
	 * The hash identifies the bytes a cached entry came from. It is compared
	 * only when a file too young for its stamp to be trusted is read again, so
	 * it is computed to compare with an entry that has one, and for a new
	 * entry only when the file is young; 0 means "no hash" (never equal).
	 */
	int cmp = e && em.enc_hash != 0 && em.enc_size == n;
	int keep_young = !into && observed - m.stamp.mtime_ns <= TRUST_NS;
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
	COUNT(z, n_misses);
	if (into) {
		rc = decode_chunk(z, arr, into, enc, n, key);
		free(enc);
		return rc;
	}
	void *buf = scout__buf_alloc(z->chunk_nbytes);
	if (!buf) {
		free(enc);
		return scout__error(SCOUT_ENOMEM, "%s: chunk %s: cannot allocate %zu bytes",
				    z->path, key, z->chunk_nbytes);
	}
	rc = decode_chunk(z, arr, buf, enc, n, key);
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
	COUNT(z, n_hits);
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
static int load_chunk(zarr_impl *z, const scout_array *arr, const int64_t *idx, uint64_t lin,
		      void *into, chunk_view *v)
{
	if (into || scout__cache_capacity(z->cache) == 0)
		return load_chunk_body(z, arr, idx, lin, into, v);
	pthread_mutex_t *m = &z->decode_mu[(lin * UINT64_C(0x9e3779b97f4a7c15)) >> 58];
	pthread_mutex_lock(m);
	int rc = load_chunk_body(z, arr, idx, lin, into, v);
	pthread_mutex_unlock(m);
	return rc;
}

static uint64_t linear_index(const scout_array *arr, const zarr_impl *z, const int64_t *idx)
{
	uint64_t lin = 0;
	for (int i = 0; i < arr->ndim; i++)
		lin = lin * (uint64_t)z->grid[i] + (uint64_t)idx[i];
	return lin;
}

/* ---- read ---- */

/*
 * 1 when the region ext at doff of a C-order array of shape `shape` is one
 * contiguous run: every axis before the first one longer than 1 has extent
 * 1 and every axis after it is whole.
 */
static int region_contiguous(const int64_t *shape, const int64_t *ext, int nd)
{
	int i = 0;
	while (i < nd && ext[i] == 1)
		i++;
	for (int k = i + 1; k < nd; k++)
		if (ext[k] != shape[k])
			return 0;
	return 1;
}

/* One box read in parallel (the payload of read_one). */
typedef struct {
	zarr_impl *z;
	scout_array *arr;
	unsigned char *dst;
	const int64_t *start, *stop;
	int64_t dshape[SCOUT_MAX_NDIM];
} box_read;

/*
 * Read chunk idx's part of the box. A chunk the box covers (its part inside
 * the array) is decoded without the cache — a big box would only churn it —
 * straight into the destination when its place there is one contiguous run
 * of whole chunk, else into a pooled buffer and copied. A chunk the box
 * covers partly (the box's faces) goes through the cache, as in the serial
 * loop: the neighbouring boxes are likely to want the rest of it.
 */
static int read_one(const int64_t *idx, void *payload)
{
	box_read *b = payload;
	zarr_impl *z = b->z;
	scout_array *arr = b->arr;
	int nd = arr->ndim;
	size_t isz = arr->itemsize;
	int64_t doff[SCOUT_MAX_NDIM], soff[SCOUT_MAX_NDIM], ext[SCOUT_MAX_NDIM];
	int covered = 1, whole = 1;
	for (int i = 0; i < nd; i++) {
		int64_t cs = idx[i] * arr->chunks[i];
		int64_t ce =
		    cs + arr->chunks[i] < arr->shape[i] ? cs + arr->chunks[i] : arr->shape[i];
		int64_t a = b->start[i] > cs ? b->start[i] : cs;
		int64_t e = b->stop[i] < ce ? b->stop[i] : ce;
		doff[i] = a - b->start[i];
		soff[i] = a - cs;
		ext[i] = e - a;
		if (a != cs || e != ce)
			covered = 0;
		if (ext[i] != arr->chunks[i])
			whole = 0;
	}
	uint64_t lin = linear_index(arr, z, idx);
	chunk_view v;
	int rc;
	if (covered && whole && region_contiguous(b->dshape, ext, nd)) {
		size_t off = 0;
		for (int i = 0; i < nd; i++)
			off = off * (size_t)b->dshape[i] + (size_t)doff[i];
		rc = load_chunk(z, arr, idx, lin, b->dst + off * isz, &v);
		if (rc == SCOUT_OK && v.absent)
			scout__fill_nd(b->dst, b->dshape, doff, ext, nd, isz, z->meta.fill);
		return rc;
	}
	if (covered) {
		void *buf = scout__buf_alloc(z->chunk_nbytes);
		if (!buf) {
			char key[KEY_MAX];
			chunk_key(z, key, nd, idx);
			return scout__error(SCOUT_ENOMEM, "%s: chunk %s: cannot allocate %zu bytes",
					    z->path, key, z->chunk_nbytes);
		}
		rc = load_chunk(z, arr, idx, lin, buf, &v);
		if (rc == SCOUT_OK && v.absent)
			scout__fill_nd(b->dst, b->dshape, doff, ext, nd, isz, z->meta.fill);
		else if (rc == SCOUT_OK)
			scout__copy_nd(b->dst, b->dshape, doff, buf, arr->chunks, soff, ext, nd,
				       isz);
		scout__buf_free(buf, z->chunk_nbytes);
		return rc;
	}
	rc = load_chunk(z, arr, idx, lin, NULL, &v);
	if (rc < 0)
		return rc;
	if (v.absent)
		scout__fill_nd(b->dst, b->dshape, doff, ext, nd, isz, z->meta.fill);
	else
		scout__copy_nd(b->dst, b->dshape, doff, v.data, arr->chunks, soff, ext, nd, isz);
	view_release(z, &v);
	return SCOUT_OK;
}

static int zarr_read(scout_array *arr, void *dst, const int64_t *start, const int64_t *stop)
{
	zarr_impl *z = arr->impl;
	int nd = arr->ndim;
	size_t isz = arr->itemsize;
	int64_t lo[SCOUT_MAX_NDIM], hi[SCOUT_MAX_NDIM], idx[SCOUT_MAX_NDIM];
	int64_t dshape[SCOUT_MAX_NDIM], doff[SCOUT_MAX_NDIM], soff[SCOUT_MAX_NDIM],
	    ext[SCOUT_MAX_NDIM];
	int whole = !z->fortran && !z->swap;
	for (int i = 0; i < nd; i++) {
		lo[i] = start[i] / arr->chunks[i];
		hi[i] = (stop[i] - 1) / arr->chunks[i];
		idx[i] = lo[i];
		dshape[i] = stop[i] - start[i];
		if (lo[i] != hi[i] || start[i] != lo[i] * arr->chunks[i] ||
		    stop[i] - start[i] != arr->chunks[i])
			whole = 0;
	}
	chunk_view v;
	if (whole) {
		int rc = load_chunk(z, arr, idx, linear_index(arr, z, idx), dst, &v);
		if (rc < 0)
			return rc;
		if (v.absent) {
			int64_t zero[SCOUT_MAX_NDIM] = {0};
			scout__fill_nd(dst, dshape, zero, dshape, nd, isz, z->meta.fill);
		}
		return SCOUT_OK;
	}
	size_t nchunks = 1, nbytes = isz;
	for (int i = 0; i < nd; i++) {
		nchunks *= (size_t)(hi[i] - lo[i] + 1);
		nbytes *= (size_t)dshape[i];
	}
	if (scout__chunks_parallel(nchunks, nbytes)) {
		box_read b = {.z = z, .arr = arr, .dst = dst, .start = start, .stop = stop};
		memcpy(b.dshape, dshape, sizeof dshape);
		scout__prefault(dst, nbytes);
		return scout__chunks_run(nd, lo, hi, read_one, &b);
	}
	for (;;) {
		for (int i = 0; i < nd; i++) {
			int64_t cs = idx[i] * arr->chunks[i];
			int64_t a = start[i] > cs ? start[i] : cs;
			int64_t b = stop[i] < cs + arr->chunks[i] ? stop[i] : cs + arr->chunks[i];
			doff[i] = a - start[i];
			soff[i] = a - cs;
			ext[i] = b - a;
		}
		int rc = load_chunk(z, arr, idx, linear_index(arr, z, idx), NULL, &v);
		if (rc < 0)
			return rc;
		if (v.absent)
			scout__fill_nd(dst, dshape, doff, ext, nd, isz, z->meta.fill);
		else
			scout__copy_nd(dst, dshape, doff, v.data, arr->chunks, soff, ext, nd, isz);
		view_release(z, &v);
		int ax = nd - 1;
		while (ax >= 0 && ++idx[ax] > hi[ax]) {
			idx[ax] = lo[ax];
			ax--;
		}
		if (ax < 0)
			break;
	}
	return SCOUT_OK;
}

/* ---- write ---- */

typedef struct {
	const void *src;
	const int64_t *sshape; /* shape of the source box */
	int64_t soff[SCOUT_MAX_NDIM];
	int64_t doff[SCOUT_MAX_NDIM]; /* where the part goes in the chunk */
	int64_t ext[SCOUT_MAX_NDIM];
	int full, edge;
} chunk_part;

static int write_chunk(zarr_impl *z, scout_array *arr, const int64_t *idx, const chunk_part *p)
{
	int nd = arr->ndim;
	size_t isz = arr->itemsize, nb = z->chunk_nbytes ? z->chunk_nbytes : 1;
	char key[KEY_MAX];
	int rc = chunk_key(z, key, nd, idx);
	if (rc < 0)
		return rc;
	uint64_t lin = linear_index(arr, z, idx);
	int64_t zero[SCOUT_MAX_NDIM] = {0};
	/*
	 * the chunk is whole, one contiguous run of the source, and the stored
	 * layout is the source's: encode it in place
	 */
	int direct = p->full && !p->edge && !z->fortran && !z->swap &&
		     region_contiguous(p->sshape, p->ext, nd);
	const unsigned char *direct_src = p->src;
	if (direct) {
		size_t off = 0;
		for (int i = 0; i < nd; i++)
			off = off * (size_t)p->sshape[i] + (size_t)p->soff[i];
		direct_src += off * isz;
	}
	void *buf = direct ? NULL : scout__buf_alloc(nb), *tmp = NULL, *enc = NULL;
	size_t n = 0;
	if (!direct && !buf)
		return scout__error(SCOUT_ENOMEM, "%s: chunk %s: cannot allocate %zu bytes",
				    z->path, key, nb);
	rc = scout__chunk_lock(z->locks, lin);
	if (rc < 0) {
		scout__buf_free(buf, nb);
		return chunk_error(rc, z, key);
	}
	if (direct) {
		/* nothing to merge or copy */
	} else if (p->full) {
		if (p->edge)
			scout__fill_nd(buf, arr->chunks, zero, arr->chunks, nd, isz, z->meta.fill);
	} else {
		chunk_view v;
		rc = load_chunk(z, arr, idx, lin, buf, &v);
		if (rc < 0)
			goto done;
		if (v.absent)
			scout__fill_nd(buf, arr->chunks, zero, arr->chunks, nd, isz, z->meta.fill);
	}
	if (!direct)
		scout__copy_nd(buf, arr->chunks, p->doff, p->src, p->sshape, p->soff, p->ext, nd,
			       isz);
	const void *raw = direct ? (const void *)direct_src : buf;
	if (z->fortran || z->swap) {
		tmp = scout__buf_alloc(nb);
		if (!tmp) {
			rc = scout__error(SCOUT_ENOMEM, "%s: chunk %s: cannot allocate %zu bytes",
					  z->path, key, nb);
			goto done;
		}
		if (z->fortran)
			transpose(tmp, buf, arr->chunks, nd, isz, 0);
		else
			memcpy(tmp, buf, z->chunk_nbytes);
		if (z->swap)
			scout__byteswap(tmp, z->chunk_nbytes / z->swap_unit, z->swap_unit);
		raw = tmp;
	}
	rc = scout__codec_encode(z->codec, raw, z->chunk_nbytes, &enc, &n);
	if (rc < 0) {
		rc = chunk_error(rc, z, key);
		goto done;
	}
	scout_cache_meta m;
	m.observed_ns = now_ns();
	rc = scout__store_write(z->store, key, enc, n, &m.stamp);
	if (rc < 0) {
		scout__cache_invalidate(z->cache, lin);
		rc = chunk_error(rc, z, key);
		goto done;
	}
	COUNT(z, n_written);
	m.enc_size = n;
	/* keep partly written chunks (more parts are likely to follow) */
	int keep = !p->full && scout__cache_capacity(z->cache) > 0;
	m.enc_hash = keep ? scout__hash64(enc, n) : 0;
	if (keep && scout__cache_put(z->cache, lin, buf, &m, NULL))
		buf = NULL;
	else
		scout__cache_invalidate(z->cache, lin);
done:
	scout__chunk_unlock(z->locks, lin);
	scout__buf_free(buf, nb);
	scout__buf_free(tmp, nb);
	free(enc);
	return rc;
}

/* One box write (the payload of write_one). */
typedef struct {
	zarr_impl *z;
	scout_array *arr;
	const void *src;
	const int64_t *start, *stop;
	int64_t sshape[SCOUT_MAX_NDIM];
} box_write;

/* Write the box's part of chunk idx (a whole chunk, or read-merge-write). */
static int write_one(const int64_t *idx, void *payload)
{
	box_write *b = payload;
	scout_array *arr = b->arr;
	chunk_part p;
	p.src = b->src;
	p.sshape = b->sshape;
	p.full = 1;
	p.edge = 0;
	for (int i = 0; i < arr->ndim; i++) {
		int64_t cs = idx[i] * arr->chunks[i];
		int64_t ce = cs + arr->chunks[i];
		if (ce > arr->shape[i]) {
			ce = arr->shape[i];
			p.edge = 1;
		}
		int64_t a = b->start[i] > cs ? b->start[i] : cs;
		int64_t e = b->stop[i] < ce ? b->stop[i] : ce;
		if (a != cs || e != ce)
			p.full = 0;
		p.soff[i] = a - b->start[i];
		p.doff[i] = a - cs;
		p.ext[i] = e - a;
	}
	return write_chunk(b->z, arr, idx, &p);
}

/*
 * Every chunk is written on its own (under its chunk lock, renamed into
 * place), so the chunks of a box may be written in any order and in
 * parallel: after a failure each chunk holds its old or its new contents.
 */
static int zarr_write(scout_array *arr, const int64_t *start, const int64_t *stop, const void *src)
{
	int nd = arr->ndim;
	box_write b = {.z = arr->impl, .arr = arr, .src = src, .start = start, .stop = stop};
	int64_t lo[SCOUT_MAX_NDIM], hi[SCOUT_MAX_NDIM], idx[SCOUT_MAX_NDIM];
	size_t nchunks = 1, nbytes = arr->itemsize;
	for (int i = 0; i < nd; i++) {
		lo[i] = start[i] / arr->chunks[i];
		hi[i] = (stop[i] - 1) / arr->chunks[i];
		idx[i] = lo[i];
		b.sshape[i] = stop[i] - start[i];
		nchunks *= (size_t)(hi[i] - lo[i] + 1);
		nbytes *= (size_t)b.sshape[i];
	}
	if (scout__chunks_parallel(nchunks, nbytes))
		return scout__chunks_run(nd, lo, hi, write_one, &b);
	for (;;) {
		int rc = write_one(idx, &b);
		if (rc < 0)
			return rc;
		int ax = nd - 1;
		while (ax >= 0 && ++idx[ax] > hi[ax]) {
			idx[ax] = lo[ax];
			ax--;
		}
		if (ax < 0)
			break;
	}
	return SCOUT_OK;
}

/* ---- lifetime ---- */

static void zarr_destroy(scout_array *arr)
{
	zarr_impl *z = arr->impl;
	if (!z)
		return;
	scout__cache_free(z->cache);
	scout__chunk_locks_free(z->locks);
	for (int i = 0; z->decode_mu_init && i < DECODE_STRIPES; i++)
		pthread_mutex_destroy(&z->decode_mu[i]);
	scout__codec_free(z->codec);
	scout__zarray_clear(&z->meta);
	scout__store_free(z->store);
	free(z->path);
	free(z);
	arr->impl = NULL;
}

static void zarr_after_fork(scout_array *arr)
{
	zarr_impl *z = arr->impl;
	scout__chunk_locks_after_fork(z->locks);
	scout__cache_after_fork(z->cache);
	for (int i = 0; i < DECODE_STRIPES; i++)
		pthread_mutex_init(&z->decode_mu[i], NULL);
	z->n_read = z->n_decoded = z->n_absent = z->n_hits = z->n_misses = z->n_written = 0;
}

static const scout_array_ops zarr_ops = {
    .kind = "zarr",
    .read = zarr_read,
    .write = zarr_write,
    .destroy = zarr_destroy,
    .after_fork = zarr_after_fork,
};

/* ---- open ---- */

static int is_all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* '/' if the array directory holds a digit-named subdirectory (nested keys), else '.' */
static char detect_separator(const char *path, int ndim)
{
	if (ndim < 2)
		return '.';
	DIR *d = opendir(path);
	if (!d)
		return '.';
	char sep = '.';
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (!is_all_digits(e->d_name))
			continue;
		int is_dir = e->d_type == DT_DIR;
		if (e->d_type == DT_UNKNOWN) {
			char p[PATH_MAX];
			struct stat sb;
			snprintf(p, sizeof p, "%s/%s", path, e->d_name);
			is_dir = stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
		}
		if (is_dir) {
			sep = '/';
			break;
		}
	}
	closedir(d);
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
		char zm[PATH_MAX];
		snprintf(zm, sizeof zm, "%.*s/.zmetadata", (int)len, abs);
		FILE *f = fopen(zm, "rb");
		if (!f)
			continue;
		json_error_t err;
		json_t *root = json_loadf(f, 0, &err);
		fclose(f);
		if (!root)
			continue;
		char keyname[PATH_MAX];
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

int scout__is_zarr_array(const char *path)
{
	char p[PATH_MAX];
	struct stat sb;
	snprintf(p, sizeof p, "%s/.zarray", path);
	if (stat(p, &sb) == 0 && S_ISREG(sb.st_mode))
		return 1;
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

int scout__zarr_open(scout_array **out, const char *path, int mode)
{
	*out = NULL;
	zarr_impl *z = calloc(1, sizeof *z);
	if (!z)
		return scout__error(SCOUT_ENOMEM, "%s: out of memory", path);
	scout_array *arr = NULL;
	void *text = NULL;
	size_t len = 0;
	char what[PATH_MAX + 64];
	int rc;
	for (int i = 0; i < DECODE_STRIPES; i++)
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
	snprintf(what, sizeof what, "%s/.zarray", path);
	rc = scout__store_read(&text, &len, NULL, z->store, ".zarray");
	if (rc == SCOUT_ENOTFOUND) {
		json_t *cj;
		if (find_consolidated(&cj, what, sizeof what, path) == SCOUT_OK) {
			rc = scout__zarray_from_json(&z->meta, cj, what);
			json_decref(cj);
		} else {
			rc = scout__error(SCOUT_ENOTFOUND,
					  "%s: no .zarray file: not a Zarr v2 array directory",
					  path);
		}
	} else if (rc == SCOUT_OK) {
		rc = scout__zarray_parse(&z->meta, text, len, what);
	}
	free(text);
	if (rc < 0)
		goto fail;
	size_t isz = scout_dtype_size(z->meta.dtype);
	rc = scout__codec_new(&z->codec, z->meta.compressor, isz);
	if (rc < 0) {
		rc = scout__error_prefix(rc, "%s: field \"compressor\": ", what);
		goto fail;
	}
	z->sep = z->meta.separator ? z->meta.separator : detect_separator(path, z->meta.ndim);
	rc = scout__array_alloc(&arr, &zarr_ops, z->meta.ndim, z->meta.shape, z->meta.chunks,
				z->meta.dtype, (mode & SCOUT_MODE_WRITE) != 0);
	if (rc < 0) {
		rc = scout__error_prefix(rc, "%s: ", what);
		goto fail;
	}
	rc = scout__shape_size(&z->chunk_nelems, &z->chunk_nbytes, z->meta.ndim, z->meta.chunks,
			       isz);
	if (rc < 0) {
		rc = scout__error_prefix(rc, "%s: field \"chunks\": ", what);
		goto fail;
	}
	for (int i = 0; i < z->meta.ndim; i++)
		z->grid[i] = (z->meta.shape[i] + z->meta.chunks[i] - 1) / z->meta.chunks[i];
	z->swap_unit = scout__dtype_swap_unit(z->meta.dtype);
	z->swap = isz > 1 && z->meta.big_endian != scout__host_big_endian();
	z->fortran = z->meta.order == 'F';
	rc = scout__cache_new(&z->cache, default_cache_size(), z->chunk_nbytes);
	if (rc < 0)
		goto fail;
	char lockp[PATH_MAX];
	if (snprintf(lockp, sizeof lockp, "%s/" LOCK_NAME, path) >= (int)sizeof lockp) {
		rc = scout__error(SCOUT_EOVERFLOW, "%s: path too long", path);
		goto fail;
	}
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

static int mkdirs(const char *path)
{
	char tmp[PATH_MAX];
	size_t n = strlen(path);
	if (n == 0 || n >= sizeof tmp)
		return scout__error(SCOUT_EINVAL, "zarr_create: bad path \"%s\"", path);
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0777) != 0 && errno != EEXIST)
			return scout__error(SCOUT_EIO, "%s: cannot create directory: %s", tmp,
					    strerror(errno));
		*p = '/';
	}
	if (mkdir(tmp, 0777) != 0 && errno != EEXIST)
		return scout__error(SCOUT_EIO, "%s: cannot create directory: %s", tmp,
				    strerror(errno));
	struct stat sb;
	if (stat(tmp, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return scout__error(SCOUT_EIO, "%s: not a directory", tmp);
	return SCOUT_OK;
}

int scout_zarr_create(scout_array **out, const char *path, const scout_zarr_options *opts)
{
	if (!out || !path || !*path || !opts)
		return scout__error(SCOUT_EINVAL, "zarr_create: NULL argument");
	*out = NULL;
	if (opts->version != SCOUT_ZARR_OPTIONS_VERSION)
		return scout__error(SCOUT_EINVAL, "zarr_create: options version %u, expected %d",
				    opts->version, SCOUT_ZARR_OPTIONS_VERSION);
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
			z.chunks[i] =
			    opts->shape[i] < 64 ? (opts->shape[i] ? opts->shape[i] : 1) : 64;
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
	char *text = NULL;
	rc = scout__zarray_dump(&text, &z);
	scout__zarray_clear(&z);
	if (rc < 0)
		return rc;
	struct stat sb;
	if (lstat(path, &sb) == 0) {
		if (!opts->overwrite) {
			free(text);
			return scout__error(
			    SCOUT_EIO, "%s: already exists (set overwrite to replace it)", path);
		}
		rc = scout__rmtree(path);
		if (rc < 0) {
			free(text);
			return rc;
		}
	}
	rc = mkdirs(path);
	scout_store *st = NULL;
	if (rc == SCOUT_OK)
		rc = scout__store_open(&st, path, 0);
	if (rc == SCOUT_OK)
		rc = scout__store_write(st, ".zarray", text, strlen(text), NULL);
	scout__store_free(st);
	free(text);
	if (rc < 0)
		return rc;
	return scout__zarr_open(out, path, SCOUT_MODE_READ | SCOUT_MODE_WRITE);
}

int scout_zarr_group_create(const char *path)
{
	if (!path || !*path)
		return scout__error(SCOUT_EINVAL, "zarr_group_create: path is NULL or empty");
	int rc = mkdirs(path);
	if (rc < 0)
		return rc;
	scout_store *st;
	rc = scout__store_open(&st, path, 0);
	if (rc < 0)
		return rc;
	rc = scout__store_stat(NULL, st, ".zgroup");
	if (rc == SCOUT_ENOTFOUND) {
		const char *t = scout__zgroup_text();
		rc = scout__store_write(st, ".zgroup", t, strlen(t), NULL);
	}
	scout__store_free(st);
	return rc;
}

/* ---- attributes ---- */

int scout_array_attrs_get(char **json_out, scout_array *arr)
{
	if (!json_out)
		return scout__error(SCOUT_EINVAL, "attrs_get: json_out is NULL");
	*json_out = NULL;
	zarr_impl *z = impl_of(arr);
	if (!z)
		return scout__error(SCOUT_EINVAL, "attrs_get: not a Zarr array");
	void *data;
	size_t n;
	int rc = scout__store_read(&data, &n, NULL, z->store, ".zattrs");
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
	zarr_impl *z = impl_of(arr);
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
	char *text = scout__json_dumps(j);
	json_decref(j);
	if (!text)
		return SCOUT_ENOMEM;
	rc = scout__store_write(z->store, ".zattrs", text, strlen(text), NULL);
	free(text);
	return rc;
}

/* ---- cache and counters ---- */

int scout_zarr_set_cache_size(scout_array *arr, size_t bytes)
{
	zarr_impl *z = impl_of(arr);
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

int scout_zarr_stats_get(scout_zarr_stats *out, const scout_array *arr)
{
	zarr_impl *z = impl_of(arr);
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
	zarr_impl *z = impl_of(arr);
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
