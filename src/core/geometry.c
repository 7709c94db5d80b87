/*
 * Chunk grids and boxes: SCOUT's chunk_dims, chunk_coordinates and
 * box_slice_idx, plus the chunk count, random access to one chunk's start and
 * box arithmetic. Every product is overflow-checked.
 */
#include <stdlib.h>
#include <string.h>

#include "scout/geometry.h"
#include "internal.h"

/* Validate a grid (shape >= 0, chunks >= 1) for the function named `what`. */
static int check_grid(int ndim, const int64_t *shape, const int64_t *chunks, const char *what)
{
	int rc = scout__check_shape(ndim, shape, what);
	if (rc < 0)
		return rc;
	return scout__check_chunks(ndim, chunks, what);
}

/* ceil(shape / chunk) for shape >= 0, chunk >= 1, without overflowing. */
static int64_t ceil_div(int64_t shape, int64_t chunk)
{
	return shape / chunk + (shape % chunk != 0);
}

int scout_chunk_dims(int64_t *nb_chunks_out, int ndim, const int64_t *img_shape,
		     const int64_t *chunk_shape)
{
	if (!nb_chunks_out)
		return scout__error(SCOUT_EINVAL, "chunk_dims: nb_chunks_out is NULL");
	int rc = check_grid(ndim, img_shape, chunk_shape, "chunk_dims");
	if (rc < 0)
		return rc;
	for (int i = 0; i < ndim; i++)
		nb_chunks_out[i] = ceil_div(img_shape[i], chunk_shape[i]);
	return SCOUT_OK;
}

/* Number of chunks and the per-axis counts; what names the caller in errors. */
static int grid_count(size_t *count_out, int64_t *dims, int ndim, const int64_t *shape,
		      const int64_t *chunks, const char *what)
{
	int rc = check_grid(ndim, shape, chunks, what);
	if (rc < 0)
		return rc;
	int empty = 0;
	for (int i = 0; i < ndim; i++) {
		dims[i] = ceil_div(shape[i], chunks[i]);
		if (dims[i] == 0)
			empty = 1;
	}
	if (empty) {
		*count_out = 0;
		return SCOUT_OK;
	}
	size_t n = 1;
	for (int i = 0; i < ndim; i++) {
		if ((uint64_t)dims[i] > SIZE_MAX || __builtin_mul_overflow(n, (size_t)dims[i], &n))
			return scout__error(SCOUT_EOVERFLOW,
					    "%s: the number of chunks overflows at axis %d "
					    "(%lld chunks of %lld along an extent of %lld)",
					    what, i, (long long)dims[i], (long long)chunks[i],
					    (long long)shape[i]);
	}
	*count_out = n;
	return SCOUT_OK;
}

int scout_chunk_count(size_t *count_out, int ndim, const int64_t *shape, const int64_t *chunks)
{
	if (!count_out)
		return scout__error(SCOUT_EINVAL, "chunk_count: count_out is NULL");
	int64_t dims[SCOUT_MAX_NDIM];
	return grid_count(count_out, dims, ndim, shape, chunks, "chunk_count");
}

int scout_chunk_coordinates(int64_t **start_coords_out, size_t *count_out, int ndim,
			    const int64_t *shape, const int64_t *chunks)
{
	if (!start_coords_out || !count_out)
		return scout__error(SCOUT_EINVAL,
				    "chunk_coordinates: start_coords_out or count_out is NULL");
	*start_coords_out = NULL;
	*count_out = 0;
	int64_t dims[SCOUT_MAX_NDIM];
	size_t count;
	int rc = grid_count(&count, dims, ndim, shape, chunks, "chunk_coordinates");
	if (rc < 0)
		return rc;
	if (count == 0)
		return SCOUT_OK;
	size_t nelem, nbytes;
	rc = scout__mul_size(&nelem, count, (size_t)ndim, "chunk_coordinates: start coordinates");
	if (rc < 0)
		return rc;
	rc = scout__mul_size(&nbytes, nelem, sizeof(int64_t),
			     "chunk_coordinates: start coordinates");
	if (rc < 0)
		return rc;
	if (nbytes > (size_t)PTRDIFF_MAX)
		return scout__error(SCOUT_EOVERFLOW,
				    "chunk_coordinates: %zu chunks need %zu bytes, more than an "
				    "object can hold",
				    count, nbytes);
	int64_t *coords = malloc(nbytes);
	if (!coords)
		return scout__error(SCOUT_ENOMEM,
				    "chunk_coordinates: cannot allocate %zu bytes for %zu chunks",
				    nbytes, count);
	/* odometer over the chunk grid, last axis fastest (itertools.product) */
	int64_t cur[SCOUT_MAX_NDIM] = {0};
	for (size_t k = 0; k < count; k++) {
		int64_t *row = coords + k * (size_t)ndim;
		for (int i = 0; i < ndim; i++)
			row[i] = cur[i] * chunks[i];
		for (int ax = ndim - 1; ax >= 0; ax--) {
			if (++cur[ax] < dims[ax])
				break;
			cur[ax] = 0;
		}
	}
	*start_coords_out = coords;
	*count_out = count;
	return SCOUT_OK;
}

int scout_chunk_start(int64_t *start_out, size_t index, int ndim, const int64_t *shape,
		      const int64_t *chunks)
{
	if (!start_out)
		return scout__error(SCOUT_EINVAL, "chunk_start: start_out is NULL");
	int64_t dims[SCOUT_MAX_NDIM];
	size_t count;
	int rc = grid_count(&count, dims, ndim, shape, chunks, "chunk_start");
	if (rc < 0)
		return rc;
	if (index >= count)
		return scout__error(SCOUT_EBOUNDS, "chunk_start: chunk index %zu is not below %zu",
				    index, count);
	for (int ax = ndim - 1; ax >= 0; ax--) {
		size_t d = (size_t)dims[ax];
		/* at most the start of the last chunk, which is < shape: no overflow */
		start_out[ax] = (int64_t)(index % d) * chunks[ax];
		index /= d;
	}
	return SCOUT_OK;
}

int scout_box_slice_idx(scout_box *out, int ndim, const int64_t *start, const int64_t *stop)
{
	if (!out)
		return scout__error(SCOUT_EINVAL, "box_slice_idx: out is NULL");
	if (ndim < 1 || ndim > SCOUT_MAX_NDIM)
		return scout__error(SCOUT_EINVAL, "box_slice_idx: ndim %d is outside 1..%d", ndim,
				    SCOUT_MAX_NDIM);
	if (!start || !stop)
		return scout__error(SCOUT_EINVAL, "box_slice_idx: start or stop is NULL");
	for (int i = 0; i < ndim; i++) {
		if (start[i] < 0 || stop[i] < start[i])
			return scout__error(
			    SCOUT_EINVAL,
			    "box_slice_idx: axis %d: start %lld and stop %lld do not "
			    "satisfy 0 <= start <= stop",
			    i, (long long)start[i], (long long)stop[i]);
	}
	scout_box b;
	memset(&b, 0, sizeof b);
	b.ndim = ndim;
	for (int i = 0; i < ndim; i++) {
		b.start[i] = start[i];
		b.stop[i] = stop[i];
	}
	*out = b;
	return SCOUT_OK;
}

/* Validate a box given to the function named `what`. */
static int check_box(const scout_box *box, const char *what)
{
	if (!box)
		return scout__error(SCOUT_EINVAL, "%s: box is NULL", what);
	if (box->ndim < 1 || box->ndim > SCOUT_MAX_NDIM)
		return scout__error(SCOUT_EINVAL, "%s: box ndim %d is outside 1..%d", what,
				    box->ndim, SCOUT_MAX_NDIM);
	for (int i = 0; i < box->ndim; i++)
		if (box->start[i] < 0 || box->stop[i] < box->start[i])
			return scout__error(SCOUT_EINVAL,
					    "%s: axis %d: start %lld and stop %lld do not satisfy "
					    "0 <= start <= stop",
					    what, i, (long long)box->start[i],
					    (long long)box->stop[i]);
	return SCOUT_OK;
}

int scout_box_count(size_t *count_out, const scout_box *box)
{
	if (!count_out)
		return scout__error(SCOUT_EINVAL, "box_count: count_out is NULL");
	int rc = check_box(box, "box_count");
	if (rc < 0)
		return rc;
	for (int i = 0; i < box->ndim; i++)
		if (box->stop[i] == box->start[i]) {
			*count_out = 0;
			return SCOUT_OK;
		}
	size_t n = 1;
	for (int i = 0; i < box->ndim; i++) {
		uint64_t e = (uint64_t)(box->stop[i] - box->start[i]);
		if (e > SIZE_MAX || __builtin_mul_overflow(n, (size_t)e, &n))
			return scout__error(
			    SCOUT_EOVERFLOW,
			    "box_count: the number of elements overflows at axis %d "
			    "(extent %llu)",
			    i, (unsigned long long)e);
	}
	*count_out = n;
	return SCOUT_OK;
}

int scout_box_intersect(scout_box *out, const scout_box *a, const scout_box *b)
{
	if (!out)
		return scout__error(SCOUT_EINVAL, "box_intersect: out is NULL");
	int rc = check_box(a, "box_intersect");
	if (rc < 0)
		return rc;
	rc = check_box(b, "box_intersect");
	if (rc < 0)
		return rc;
	if (a->ndim != b->ndim)
		return scout__error(SCOUT_EINVAL, "box_intersect: boxes have %d and %d dimensions",
				    a->ndim, b->ndim);
	scout_box r;
	memset(&r, 0, sizeof r);
	r.ndim = a->ndim;
	for (int i = 0; i < r.ndim; i++) {
		r.start[i] = a->start[i] > b->start[i] ? a->start[i] : b->start[i];
		r.stop[i] = a->stop[i] < b->stop[i] ? a->stop[i] : b->stop[i];
		if (r.stop[i] < r.start[i])
			r.stop[i] = r.start[i];
	}
	*out = r; /* out may alias a or b */
	return SCOUT_OK;
}

int scout__axis_to_halve(int ndim, const int64_t *ext, const int64_t *unit, const int64_t *scale,
			 const int64_t *in_chunks, const int64_t *in_shape)
{
	int best = -1, outer = -1;
	for (int i = 1; i < ndim; i++) {
		if (ext[i] <= unit[i])
			continue;
		if (outer < 0)
			outer = i;
		int64_t nu = (ext[i] + unit[i] - 1) / unit[i];
		int64_t half = (nu + 1) / 2 * unit[i] * (scale ? scale[i] : 1);
		int whole = !in_chunks || half % in_chunks[i] == 0 || half >= in_shape[i];
		if (whole && (best < 0 || ext[i] > ext[best]))
			best = i;
	}
	return best >= 0 ? best : outer;
}

int scout__box_next(int64_t *idx, const int64_t *lo, const int64_t *hi, int ndim)
{
	int ax = ndim - 1;
	while (ax >= 0 && ++idx[ax] > hi[ax]) {
		idx[ax] = lo[ax];
		ax--;
	}
	return ax >= 0;
}
