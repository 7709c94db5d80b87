/*
 * The inside of a scout_array: the fields every backend shares and the
 * operations a backend provides. Not installed.
 *
 * A backend allocates its state, fills a scout_array with
 * scout__array_init() and sets `impl`. scout_extract_box()/scout_insert_box()
 * validate the box (inside the array, non-empty) before calling read/write, so
 * backends never see an invalid or empty box.
 */
#ifndef SCOUT_ARRAY_IMPL_H
#define SCOUT_ARRAY_IMPL_H

#include "scout/array.h"
#include "../core/internal.h"

typedef struct scout_array_ops {
	const char *kind; /* "memory", "shm", "zarr", "tiff", "tiff-stack" */
	/* read the box [start, stop) into dst (C order, native endian) */
	int (*read)(scout_array *arr, void *dst, const int64_t *start, const int64_t *stop);
	/* write src into the box [start, stop); NULL for read-only backends */
	int (*write)(scout_array *arr, const int64_t *start, const int64_t *stop, const void *src);
	/* release impl (the scout_array itself is freed by scout_array_free) */
	void (*destroy)(scout_array *arr);
	/*
	 * Called in a forked pmap worker process before it touches the array
	 * (drop caches that the parent may invalidate, reopen descriptors,
	 * reinitialise locks). May be NULL.
	 */
	void (*after_fork)(scout_array *arr);
} scout_array_ops;

struct scout_array {
	const scout_array_ops *ops;
	int ndim;
	int64_t shape[SCOUT_MAX_NDIM];
	int64_t chunks[SCOUT_MAX_NDIM];       /* the read grid (inner chunks when sharded) */
	int64_t write_chunks[SCOUT_MAX_NDIM]; /* the write grid (shards); = chunks unless sharded */
	scout_dtype dtype;
	size_t itemsize;
	size_t nelems;
	size_t nbytes;
	int writable;
	/* C-contiguous native-endian elements when the whole array is in memory */
	void *data;
	void *impl;
};

/*
 * Allocate a scout_array and fill the shared fields; chunks NULL means the
 * whole shape. Validates ndim, shape, chunks (>= 1, or the shape when an
 * extent is 0) and the byte size.
 */
SCOUT_HIDDEN int scout__array_alloc(scout_array **out, const scout_array_ops *ops, int ndim,
				    const int64_t *shape, const int64_t *chunks, scout_dtype dtype,
				    int writable);

#endif
