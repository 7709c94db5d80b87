/*
 * Boxes of a Zarr array: the loops over the chunks a box touches, calling the
 * per-chunk read and write of zarr_chunk.c (each thread-safe).
 *
 * A box that is exactly one whole chunk decodes straight into the
 * destination (not cached). A box of many chunks (chunk_runner.h: 4 chunks and
 * 256 KiB or more) runs its chunks in parallel on the I/O pool
 * (scout/iothreads.h), the calling thread taking part; smaller boxes, and
 * every box read or written from a pmap worker, keep the serial loop in C
 * order.
 *
 * Every read of 4 MiB or more prefaults its destination (core/prefault.h:
 * huge pages where allowed; on the pool when parallel, inline when serial,
 * where it took a 1-thread 512^3 read from 1.34 s to about 0.5 s on the
 * benchmark VM). A parallel read then: a chunk
 * the box covers (its part inside the array) is decoded without the cache —
 * a big box would only churn it — straight into the destination when its
 * place there is one contiguous run of a whole chunk, else into a pooled
 * buffer and copied; a chunk the box covers partly (the box's faces) goes
 * through the cache as in the serial loop, since the neighbouring boxes are
 * likely to want the rest of it. Copies into the destination stream whole
 * cache lines past the cache (scout__copy_stream). Where a chunk's rows are
 * short (under 8 KiB), one item of the pool takes several chunks along the
 * last axis (read_group) and writes each row of them whole: rows of 64
 * uint16 in a destination at 16 mod 64 are three partial lines shared with
 * the neighbouring chunks, and copying them chunk by chunk took a 1024^3
 * read from 1.70 s to 1.93 s (warm destination, 2 threads; decode floor
 * 1.55 s).
 *
 * A parallel write writes every chunk on its own (under its chunk lock,
 * replaced atomically), so after a failure each chunk holds its old or its
 * new contents, as with the serial loop. It is a bulk write (store.h): chunk
 * files from 64 KiB go past the page cache, and as each then waits for the
 * device, the job runs on twice the pool's threads. A 1024^3 uint16 write
 * (64^3 chunks, 1.1 GB of files) on 2 cores: 3.65-3.98 s through the page
 * cache, 2.69-2.85 s so (encode floor 2.36 s).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "chunk_runner.h"
#include "core/bufpool.h"
#include "core/prefault.h"
#include "scout/iothreads.h"
#include "zarr_impl.h"

/* The most chunks one parallel read item takes along the last axis. */
#define SCOUT_ZARR_GROUP_MAX 32

int scout__zarr_region_contiguous(const int64_t *shape, const int64_t *ext, int nd)
{
	int i = 0;
	while (i < nd && ext[i] == 1)
		i++;
	for (int k = i + 1; k < nd; k++)
		if (ext[k] != shape[k])
			return 0;
	return 1;
}

/* One box read in parallel (the payload of read_one and read_group). */
typedef struct {
	scout_array *arr;
	unsigned char *dst;
	const int64_t *start, *stop;
	int64_t dshape[SCOUT_MAX_NDIM];
	int64_t lo_last, hi_last; /* read_group: the box's chunks along the last axis */
	int64_t group;            /* read_group: chunks per item along the last axis */
} box_read;

/*
 * Along axis i, the part of box [start, stop) in chunk c: where it starts in
 * the box (*doff) and in the chunk (*soff), and its length (*ext). 1 when it
 * is all of the chunk that lies inside the array.
 */
static int chunk_part(const scout_array *arr, int i, int64_t c, const int64_t *start,
		      const int64_t *stop, int64_t *doff, int64_t *soff, int64_t *ext)
{
	int64_t cs = c * arr->chunks[i];
	int64_t ce = cs + arr->chunks[i] < arr->shape[i] ? cs + arr->chunks[i] : arr->shape[i];
	int64_t a = start[i] > cs ? start[i] : cs;
	int64_t e = stop[i] < ce ? stop[i] : ce;
	*doff = a - start[i];
	*soff = a - cs;
	*ext = e - a;
	return a == cs && e == ce;
}

static int read_one(const int64_t *idx, void *payload)
{
	box_read *b = payload;
	scout_array *arr = b->arr;
	scout_zarr_impl *z = arr->impl;
	int nd = arr->ndim;
	size_t isz = arr->itemsize;
	int64_t doff[SCOUT_MAX_NDIM], soff[SCOUT_MAX_NDIM], ext[SCOUT_MAX_NDIM];
	int covered = 1, whole = 1;
	for (int i = 0; i < nd; i++) {
		if (!chunk_part(arr, i, idx[i], b->start, b->stop, &doff[i], &soff[i], &ext[i]))
			covered = 0;
		if (ext[i] != arr->chunks[i])
			whole = 0;
	}
	scout_chunk_view v;
	int rc;
	if (covered && whole && scout__zarr_region_contiguous(b->dshape, ext, nd)) {
		size_t off = 0;
		for (int i = 0; i < nd; i++)
			off = off * (size_t)b->dshape[i] + (size_t)doff[i];
		rc = scout__zarr_chunk_read(arr, idx, b->dst + off * isz, &v);
		if (rc == SCOUT_OK && v.absent)
			scout__fill_nd(b->dst, b->dshape, doff, ext, nd, isz, z->meta.fill);
		return rc;
	}
	if (covered) {
		void *buf = scout__buf_alloc(z->chunk_nbytes);
		if (!buf)
			return scout__error(SCOUT_ENOMEM,
					    "%s: cannot allocate %zu bytes for a chunk", z->path,
					    z->chunk_nbytes);
		rc = scout__zarr_chunk_read(arr, idx, buf, &v);
		if (rc == SCOUT_OK && v.absent)
			scout__fill_nd(b->dst, b->dshape, doff, ext, nd, isz, z->meta.fill);
		else if (rc == SCOUT_OK)
			scout__copy_nd_stream(b->dst, b->dshape, doff, buf, arr->chunks, soff, ext,
					      nd, isz);
		scout__buf_free(buf, z->chunk_nbytes);
		return rc;
	}
	rc = scout__zarr_chunk_read(arr, idx, NULL, &v);
	if (rc < 0)
		return rc;
	if (v.absent)
		scout__fill_nd(b->dst, b->dshape, doff, ext, nd, isz, z->meta.fill);
	else
		scout__copy_nd(b->dst, b->dshape, doff, v.data, arr->chunks, soff, ext, nd, isz);
	scout__zarr_view_release(arr, &v);
	return SCOUT_OK;
}

/* One chunk of a group: its data (pooled buffer or cache view) and its piece of each row. */
typedef struct {
	void *buf;                 /* decoded here (a chunk the box covers), or NULL */
	scout_chunk_view v;        /* else a view through the cache */
	int held;                  /* v is to be released */
	const unsigned char *data; /* NULL: absent, reads as the fill value */
	int64_t soff, ext;         /* along the last axis */
} group_part;

static void group_release(scout_array *arr, group_part *parts, int64_t n)
{
	scout_zarr_impl *z = arr->impl;
	for (int64_t k = 0; k < n; k++) {
		scout__buf_free(parts[k].buf, z->chunk_nbytes);
		if (parts[k].held)
			scout__zarr_view_release(arr, &parts[k].v);
	}
}

/*
 * Read group idx: the chunks b->group wide along the last axis at grid
 * position idx (idx[nd-1] counts groups). Each row of the box's part in them
 * is assembled in a small buffer and streamed out whole, so the destination's
 * cache lines are each written by one thread, in full, once.
 */
static int read_group(const int64_t *gidx, void *payload)
{
	box_read *b = payload;
	scout_array *arr = b->arr;
	scout_zarr_impl *z = arr->impl;
	int nd = arr->ndim, last = nd - 1;
	size_t isz = arr->itemsize;
	int64_t c0 = b->lo_last + gidx[last] * b->group;
	int64_t c1 = c0 + b->group - 1 < b->hi_last ? c0 + b->group - 1 : b->hi_last;
	int64_t n = c1 - c0 + 1;
	int64_t idx[SCOUT_MAX_NDIM], doff[SCOUT_MAX_NDIM], soff[SCOUT_MAX_NDIM],
	    ext[SCOUT_MAX_NDIM];
	int outer_covered = 1;
	for (int i = 0; i < last; i++) {
		idx[i] = gidx[i];
		if (!chunk_part(arr, i, gidx[i], b->start, b->stop, &doff[i], &soff[i], &ext[i]))
			outer_covered = 0;
	}
	group_part parts[SCOUT_ZARR_GROUP_MAX];
	memset(parts, 0, sizeof parts);
	int64_t width = 0;
	int rc = SCOUT_OK;
	for (int64_t k = 0; k < n && rc == SCOUT_OK; k++) {
		group_part *g = &parts[k];
		int64_t d;
		int covered =
		    chunk_part(arr, last, c0 + k, b->start, b->stop, &d, &g->soff, &g->ext);
		if (k == 0)
			doff[last] = d;
		width += g->ext;
		idx[last] = c0 + k;
		if (outer_covered && covered) {
			/* covered: decoded without the cache (a big box would churn it) */
			g->buf = scout__buf_alloc(z->chunk_nbytes);
			if (!g->buf) {
				rc = scout__error(SCOUT_ENOMEM,
						  "%s: cannot allocate %zu bytes for a chunk",
						  z->path, z->chunk_nbytes);
				break;
			}
			rc = scout__zarr_chunk_read(arr, idx, g->buf, &g->v);
			g->data = rc == SCOUT_OK && !g->v.absent ? g->buf : NULL;
		} else {
			/* a face of the box: through the cache, as the serial loop */
			rc = scout__zarr_chunk_read(arr, idx, NULL, &g->v);
			g->held = rc == SCOUT_OK;
			g->data = rc == SCOUT_OK && !g->v.absent ? g->v.data : NULL;
		}
	}
	unsigned char *row = rc == SCOUT_OK ? malloc((size_t)width * isz) : NULL;
	if (rc == SCOUT_OK && !row)
		rc = scout__error(SCOUT_ENOMEM, "%s: cannot allocate a row of %zu bytes", z->path,
				  (size_t)width * isz);
	if (rc != SCOUT_OK) {
		group_release(arr, parts, n);
		return rc;
	}
	/* strides in elements: the destination box and a chunk */
	int64_t dstr[SCOUT_MAX_NDIM], sstr[SCOUT_MAX_NDIM];
	dstr[last] = sstr[last] = 1;
	for (int i = last - 1; i >= 0; i--) {
		dstr[i] = dstr[i + 1] * b->dshape[i + 1];
		sstr[i] = sstr[i + 1] * arr->chunks[i + 1];
	}
	int64_t pos[SCOUT_MAX_NDIM] = {0};
	for (;;) {
		int64_t dp = doff[last], sp = 0;
		for (int i = 0; i < last; i++) {
			dp += (doff[i] + pos[i]) * dstr[i];
			sp += (soff[i] + pos[i]) * sstr[i];
		}
		unsigned char *r = row;
		for (int64_t k = 0; k < n; k++) {
			size_t len = (size_t)parts[k].ext * isz;
			if (parts[k].data) {
				memcpy(r, parts[k].data + (size_t)(sp + parts[k].soff) * isz, len);
			} else {
				int64_t zero = 0;
				scout__fill_nd(r, &parts[k].ext, &zero, &parts[k].ext, 1, isz,
					       z->meta.fill);
			}
			r += len;
		}
		scout__copy_stream(b->dst + (size_t)dp * isz, row, (size_t)width * isz);
		int ax = last - 1;
		while (ax >= 0 && ++pos[ax] == ext[ax])
			pos[ax--] = 0;
		if (ax < 0)
			break;
	}
	scout__copy_stream_end();
	free(row);
	group_release(arr, parts, n);
	return SCOUT_OK;
}

/*
 * How many chunks along the last axis one parallel item reads (read_group),
 * 1 for one at a time (read_one). Rows of a chunk shorter than a few KiB are
 * mostly partial cache lines of the destination, shared with the neighbouring
 * chunk, which another thread may be writing: grouping chunks until a row is
 * 8 KiB lets a thread write whole lines (streamed), with the group's decoded
 * chunks up to 8 MiB per thread and at least 4 items per I/O thread.
 */
static _Atomic int64_t forced_group;

void scout__zarr_set_read_group(int64_t g)
{
	atomic_store(&forced_group, g);
}

static int64_t read_group_size(const scout_array *arr, const int64_t *lo, const int64_t *hi)
{
	const scout_zarr_impl *z = arr->impl;
	int last = arr->ndim - 1;
	int64_t nlast = hi[last] - lo[last] + 1;
	size_t rowb = (size_t)arr->chunks[last] * arr->itemsize;
	int64_t g = atomic_load(&forced_group);
	if (g > 0) { /* a test's choice */
		if (g > nlast)
			g = nlast;
		return g < SCOUT_ZARR_GROUP_MAX ? g : SCOUT_ZARR_GROUP_MAX;
	}
	if (nlast < 2 || rowb >= 8192)
		return 1;
	g = (int64_t)((8192 + rowb - 1) / rowb);
	int64_t cap = (int64_t)(((size_t)8 << 20) / z->chunk_nbytes);
	if (cap > SCOUT_ZARR_GROUP_MAX)
		cap = SCOUT_ZARR_GROUP_MAX;
	if (g > cap)
		g = cap;
	if (g > nlast)
		g = nlast;
	size_t outer = 1;
	for (int i = 0; i < last; i++)
		outer *= (size_t)(hi[i] - lo[i] + 1);
	size_t want = (size_t)scout_io_threads() * 4;
	while (g > 1 && outer * (size_t)((nlast + g - 1) / g) < want)
		g = (g + 1) / 2;
	if (g < 2)
		return 1;
	/* even groups: as many as g gives, as wide as they need be */
	int64_t ng = (nlast + g - 1) / g;
	return (nlast + ng - 1) / ng;
}

int scout__zarr_read_box(scout_array *arr, void *dst, const int64_t *start, const int64_t *stop)
{
	scout_zarr_impl *z = arr->impl;
	if (z->shard)
		return scout__zarr_shard_read_box(arr, dst, start, stop);
	int nd = arr->ndim;
	size_t isz = arr->itemsize;
	int64_t lo[SCOUT_MAX_NDIM], hi[SCOUT_MAX_NDIM], idx[SCOUT_MAX_NDIM];
	int64_t dshape[SCOUT_MAX_NDIM], doff[SCOUT_MAX_NDIM], soff[SCOUT_MAX_NDIM],
	    ext[SCOUT_MAX_NDIM];
	int whole = 1;
	size_t nchunks = 1, nbytes = isz;
	for (int i = 0; i < nd; i++) {
		lo[i] = start[i] / arr->chunks[i];
		hi[i] = (stop[i] - 1) / arr->chunks[i];
		idx[i] = lo[i];
		dshape[i] = stop[i] - start[i];
		nchunks *= (size_t)(hi[i] - lo[i] + 1);
		nbytes *= (size_t)dshape[i];
		if (lo[i] != hi[i] || start[i] != lo[i] * arr->chunks[i] ||
		    stop[i] - start[i] != arr->chunks[i])
			whole = 0;
	}
	scout_chunk_view v;
	if (whole) {
		int rc = scout__zarr_chunk_read(arr, idx, dst, &v);
		if (rc < 0)
			return rc;
		if (v.absent) {
			int64_t zero[SCOUT_MAX_NDIM] = {0};
			scout__fill_nd(dst, dshape, zero, dshape, nd, isz, z->meta.fill);
		}
		return SCOUT_OK;
	}
	if (scout__chunks_parallel(nchunks, nbytes)) {
		box_read b = {.arr = arr, .dst = dst, .start = start, .stop = stop};
		memcpy(b.dshape, dshape, sizeof dshape);
		scout__prefault(dst, nbytes);
		b.group = read_group_size(arr, lo, hi);
		if (b.group == 1)
			return scout__chunks_run(nd, lo, hi, read_one, &b);
		int64_t glo[SCOUT_MAX_NDIM], ghi[SCOUT_MAX_NDIM];
		memcpy(glo, lo, sizeof glo);
		memcpy(ghi, hi, sizeof ghi);
		b.lo_last = lo[nd - 1];
		b.hi_last = hi[nd - 1];
		glo[nd - 1] = 0;
		ghi[nd - 1] = (hi[nd - 1] - lo[nd - 1]) / b.group;
		return scout__chunks_run(nd, glo, ghi, read_group, &b);
	}
	/* serial (one I/O thread, a pmap worker, few chunks): prefaulting pays here too */
	scout__prefault(dst, nbytes);
	for (;;) {
		for (int i = 0; i < nd; i++)
			(void)chunk_part(arr, i, idx[i], start, stop, &doff[i], &soff[i], &ext[i]);
		int rc = scout__zarr_chunk_read(arr, idx, NULL, &v);
		if (rc < 0)
			return rc;
		if (v.absent)
			scout__fill_nd(dst, dshape, doff, ext, nd, isz, z->meta.fill);
		else
			scout__copy_nd(dst, dshape, doff, v.data, arr->chunks, soff, ext, nd, isz);
		scout__zarr_view_release(arr, &v);
		if (!scout__box_next(idx, lo, hi, nd))
			break;
	}
	return SCOUT_OK;
}

/* One box write (the payload of write_one). */
typedef struct {
	scout_array *arr;
	const void *src;
	const int64_t *start, *stop;
	int64_t sshape[SCOUT_MAX_NDIM];
	int bulk; /* the chunks go to the store as a bulk write (scout__store_set_bulk) */
} box_write;

/* Write the box's part of chunk idx (a whole chunk, or read-merge-write). */
static int write_one(const int64_t *idx, void *payload)
{
	box_write *b = payload;
	scout_array *arr = b->arr;
	scout_chunk_part p;
	p.src = b->src;
	p.sshape = b->sshape;
	p.full = 1;
	p.edge = 0;
	for (int i = 0; i < arr->ndim; i++) {
		/* chunk_part's offsets in the box and in the chunk: the part's source and place */
		if (!chunk_part(arr, i, idx[i], b->start, b->stop, &p.soff[i], &p.doff[i],
				&p.ext[i]))
			p.full = 0;
		if ((idx[i] + 1) * arr->chunks[i] > arr->shape[i])
			p.edge = 1;
	}
	if (!b->bulk)
		return scout__zarr_chunk_write(arr, idx, &p);
	scout__store_set_bulk(1);
	int rc = scout__zarr_chunk_write(arr, idx, &p);
	scout__store_set_bulk(0);
	return rc;
}

int scout__zarr_write_box(scout_array *arr, const int64_t *start, const int64_t *stop,
			  const void *src)
{
	if (((scout_zarr_impl *)arr->impl)->shard)
		return scout__zarr_shard_write_box(arr, start, stop, src);
	int nd = arr->ndim;
	box_write b = {.arr = arr, .src = src, .start = start, .stop = stop};
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
	if (scout__chunks_parallel(nchunks, nbytes)) {
		/*
		 * A bulk write: chunk files past the page cache (from 64 KiB), each
		 * write then waiting for the device, so twice as many threads as
		 * the pool's size keep the cores encoding meanwhile.
		 */
		scout_zarr_impl *z = arr->impl;
		b.bulk = scout__store_bulk_direct(z->store);
		return scout__chunks_run_wide(nd, lo, hi, write_one, &b,
					      b.bulk ? 2 * scout_io_threads() : 0);
	}
	for (;;) {
		int rc = write_one(idx, &b);
		if (rc < 0)
			return rc;
		if (!scout__box_next(idx, lo, hi, nd))
			break;
	}
	return SCOUT_OK;
}
