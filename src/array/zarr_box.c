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
 * likely to want the rest of it. A parallel write writes every chunk on its
 * own (under its chunk lock, replaced atomically), so after a failure each
 * chunk holds its old or its new contents, as with the serial loop.
 */
#include <string.h>

#include "chunk_runner.h"
#include "core/bufpool.h"
#include "core/prefault.h"
#include "zarr_impl.h"

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

/* One box read in parallel (the payload of read_one). */
typedef struct {
	scout_array *arr;
	unsigned char *dst;
	const int64_t *start, *stop;
	int64_t dshape[SCOUT_MAX_NDIM];
} box_read;

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
			scout__copy_nd(b->dst, b->dshape, doff, buf, arr->chunks, soff, ext, nd,
				       isz);
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
		return scout__chunks_run(nd, lo, hi, read_one, &b);
	}
	/* serial (one I/O thread, a pmap worker, few chunks): prefaulting pays here too */
	scout__prefault(dst, nbytes);
	for (;;) {
		for (int i = 0; i < nd; i++) {
			int64_t cs = idx[i] * arr->chunks[i];
			int64_t a = start[i] > cs ? start[i] : cs;
			int64_t b = stop[i] < cs + arr->chunks[i] ? stop[i] : cs + arr->chunks[i];
			doff[i] = a - start[i];
			soff[i] = a - cs;
			ext[i] = b - a;
		}
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
	return scout__zarr_chunk_write(arr, idx, &p);
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
	if (scout__chunks_parallel(nchunks, nbytes))
		return scout__chunks_run(nd, lo, hi, write_one, &b);
	for (;;) {
		int rc = write_one(idx, &b);
		if (rc < 0)
			return rc;
		if (!scout__box_next(idx, lo, hi, nd))
			break;
	}
	return SCOUT_OK;
}
