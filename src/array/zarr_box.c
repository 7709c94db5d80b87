/*
 * Boxes of a Zarr array: the loops over the chunks a box touches, calling the
 * per-chunk read and write of zarr_chunk.c (each thread-safe, so the loop may
 * run in parallel). A box that is exactly one whole chunk decodes straight
 * into the destination (not cached).
 */
#include <string.h>

#include "zarr_impl.h"

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
	for (int i = 0; i < nd; i++) {
		lo[i] = start[i] / arr->chunks[i];
		hi[i] = (stop[i] - 1) / arr->chunks[i];
		idx[i] = lo[i];
		dshape[i] = stop[i] - start[i];
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

int scout__zarr_write_box(scout_array *arr, const int64_t *start, const int64_t *stop,
			  const void *src)
{
	if (((scout_zarr_impl *)arr->impl)->shard)
		return scout__zarr_shard_write_box(arr, start, stop, src);
	int nd = arr->ndim;
	int64_t lo[SCOUT_MAX_NDIM], hi[SCOUT_MAX_NDIM], idx[SCOUT_MAX_NDIM], sshape[SCOUT_MAX_NDIM];
	for (int i = 0; i < nd; i++) {
		lo[i] = start[i] / arr->chunks[i];
		hi[i] = (stop[i] - 1) / arr->chunks[i];
		idx[i] = lo[i];
		sshape[i] = stop[i] - start[i];
	}
	scout_chunk_part p;
	p.src = src;
	p.sshape = sshape;
	for (;;) {
		p.full = 1;
		p.edge = 0;
		for (int i = 0; i < nd; i++) {
			int64_t cs = idx[i] * arr->chunks[i];
			int64_t ce = cs + arr->chunks[i];
			if (ce > arr->shape[i]) {
				ce = arr->shape[i];
				p.edge = 1;
			}
			int64_t a = start[i] > cs ? start[i] : cs;
			int64_t b = stop[i] < ce ? stop[i] : ce;
			if (a != cs || b != ce)
				p.full = 0;
			p.soff[i] = a - start[i];
			p.doff[i] = a - cs;
			p.ext[i] = b - a;
		}
		int rc = scout__zarr_chunk_write(arr, idx, &p);
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
