/*
 * Ghosted chunks and point filtering: SCOUT's extract_ghosted_chunk,
 * filter_points_in_box and filter_ghosted_points for N-D int64 points.
 */
#include <stdint.h>
#include <string.h>

#include "scout/ghost.h"
#include "array_impl.h"

int scout_ghosted_bounds(int64_t *start_ghosted_out, int64_t *stop_ghosted_out, int ndim,
			 const int64_t *shape, const int64_t *start_coord, const int64_t *chunks,
			 const int64_t *overlap)
{
	if (!start_ghosted_out || !stop_ghosted_out)
		return scout__error(SCOUT_EINVAL, "ghosted_bounds: an output is NULL");
	int rc = scout__check_shape(ndim, shape, "ghosted_bounds");
	if (rc < 0)
		return rc;
	rc = scout__check_chunks(ndim, chunks, "ghosted_bounds");
	if (rc < 0)
		return rc;
	if (!start_coord || !overlap)
		return scout__error(SCOUT_EINVAL, "ghosted_bounds: start_coord or overlap is NULL");
	for (int i = 0; i < ndim; i++) {
		if (start_coord[i] < 0 || start_coord[i] > shape[i])
			return scout__error(SCOUT_EINVAL,
					    "ghosted_bounds: axis %d: chunk start %lld is outside "
					    "0..%lld",
					    i, (long long)start_coord[i], (long long)shape[i]);
		if (overlap[i] < 0)
			return scout__error(SCOUT_EINVAL,
					    "ghosted_bounds: axis %d: overlap %lld is negative", i,
					    (long long)overlap[i]);
	}
	for (int i = 0; i < ndim; i++) {
		/* all terms are >= 0: compare against the room left instead of adding */
		int64_t s = start_coord[i];
		int64_t end = chunks[i] >= shape[i] - s ? shape[i] : s + chunks[i];
		int64_t stop = overlap[i] >= shape[i] - end ? shape[i] : end + overlap[i];
		start_ghosted_out[i] = overlap[i] >= s ? 0 : s - overlap[i];
		stop_ghosted_out[i] = stop;
	}
	return SCOUT_OK;
}

int scout_extract_ghosted_chunk(void *dst, int64_t *start_ghosted_out, int64_t *shape_out,
				scout_array *arr, const int64_t *start_coord, const int64_t *chunks,
				const int64_t *overlap)
{
	if (!arr)
		return scout__error(SCOUT_EINVAL, "extract_ghosted_chunk: array is NULL");
	if (!start_ghosted_out)
		return scout__error(SCOUT_EINVAL,
				    "extract_ghosted_chunk: start_ghosted_out is NULL");
	int64_t start[SCOUT_MAX_NDIM], stop[SCOUT_MAX_NDIM];
	int rc =
	    scout_ghosted_bounds(start, stop, arr->ndim, arr->shape, start_coord, chunks, overlap);
	if (rc < 0)
		return scout__error_prefix(rc, "extract_ghosted_chunk: ");
	rc = scout_extract_box(dst, arr, start, stop);
	if (rc < 0) {
		char buf[256];
		return scout__error_prefix(
		    rc, "extract_ghosted_chunk of the chunk at %s: ",
		    scout__fmt_coords(buf, sizeof buf, arr->ndim, start_coord));
	}
	for (int i = 0; i < arr->ndim; i++) {
		start_ghosted_out[i] = start[i];
		if (shape_out)
			shape_out[i] = stop[i] - start[i];
	}
	return SCOUT_OK;
}

/* Common argument checks of the filters. */
static int check_points(const void *out, const size_t *count_out, const int64_t *points,
			size_t count, int ndim, const char *what)
{
	if (!count_out)
		return scout__error(SCOUT_EINVAL, "%s: count_out is NULL", what);
	if (ndim < 1 || ndim > SCOUT_MAX_NDIM)
		return scout__error(SCOUT_EINVAL, "%s: ndim %d is outside 1..%d", what, ndim,
				    SCOUT_MAX_NDIM);
	if (count && (!points || !out))
		return scout__error(SCOUT_EINVAL, "%s: points or points_out is NULL", what);
	size_t n;
	if (__builtin_mul_overflow(count, (size_t)ndim, &n) ||
	    __builtin_mul_overflow(n, sizeof(int64_t), &n))
		return scout__error(SCOUT_EOVERFLOW, "%s: %zu points of %d coordinates overflow",
				    what, count, ndim);
	return SCOUT_OK;
}

int scout_filter_points_in_box(int64_t *points_out, size_t *idx_out, size_t *count_out,
			       const int64_t *points, size_t count, int ndim, const int64_t *start,
			       const int64_t *stop)
{
	int rc = check_points(points_out, count_out, points, count, ndim, "filter_points_in_box");
	if (rc < 0)
		return rc;
	if (!start || !stop)
		return scout__error(SCOUT_EINVAL, "filter_points_in_box: start or stop is NULL");
	size_t kept = 0;
	for (size_t k = 0; k < count; k++) {
		const int64_t *p = points + k * (size_t)ndim;
		int inside = 1;
		for (int i = 0; i < ndim && inside; i++)
			inside = p[i] >= start[i] && p[i] < stop[i];
		if (!inside)
			continue;
		/* kept <= k: the destination row never lies after the source row */
		if (points_out + kept * (size_t)ndim != p)
			memmove(points_out + kept * (size_t)ndim, p, (size_t)ndim * sizeof *p);
		if (idx_out)
			idx_out[kept] = k;
		kept++;
	}
	*count_out = kept;
	return SCOUT_OK;
}

int scout_filter_ghosted_points(int64_t *points_out, size_t *count_out,
				const int64_t *start_ghosted, const int64_t *start_coord,
				const int64_t *chunks, const int64_t *centers_local, size_t count,
				int ndim)
{
	int rc = check_points(points_out, count_out, centers_local, count, ndim,
			      "filter_ghosted_points");
	if (rc < 0)
		return rc;
	if (!start_ghosted || !start_coord)
		return scout__error(SCOUT_EINVAL,
				    "filter_ghosted_points: start_ghosted or start_coord is NULL");
	rc = scout__check_chunks(ndim, chunks, "filter_ghosted_points");
	if (rc < 0)
		return rc;
	for (int i = 0; i < ndim; i++)
		if (start_ghosted[i] < 0 || start_coord[i] < 0)
			return scout__error(SCOUT_EINVAL,
					    "filter_ghosted_points: axis %d: start_ghosted %lld or "
					    "start_coord %lld is negative",
					    i, (long long)start_ghosted[i],
					    (long long)start_coord[i]);
	size_t kept = 0;
	for (size_t k = 0; k < count; k++) {
		const int64_t *p = centers_local + k * (size_t)ndim;
		int64_t g[SCOUT_MAX_NDIM];
		int inside = 1;
		for (int i = 0; i < ndim && inside; i++) {
			/* a global coordinate beyond int64 is outside every chunk */
			if (__builtin_add_overflow(p[i], start_ghosted[i], &g[i]))
				inside = 0;
			else
				inside =
				    g[i] >= start_coord[i] && g[i] - start_coord[i] < chunks[i];
		}
		if (!inside)
			continue;
		memcpy(points_out + kept * (size_t)ndim, g, (size_t)ndim * sizeof g[0]);
		kept++;
	}
	*count_out = kept;
	return SCOUT_OK;
}

/* Chunks along one axis touched by n voxels and the ghost on both sides (any alignment). */
static int64_t span_chunks(int64_t n, int64_t ghost, int64_t chunk, int64_t extent)
{
	int64_t total = (extent + chunk - 1) / chunk;
	int64_t k = (n + 2 * ghost + chunk - 1) / chunk + 1;
	return k < total ? k : total;
}

int scout_ghost_cache_bytes(size_t *out, const scout_array *arr, const int64_t *piece,
			    const int64_t *ghost, size_t workers)
{
	if (!out || !arr || !piece || !ghost)
		return scout__error(SCOUT_EINVAL, "ghost_cache_bytes: an argument is NULL");
	int ndim = scout_array_ndim(arr);
	const int64_t *shape = scout_array_shape(arr), *c = scout_array_chunks(arr);
	if (workers < 1)
		return scout__error(SCOUT_EINVAL, "ghost_cache_bytes: workers must be >= 1");
	for (int i = 0; i < ndim; i++)
		if (piece[i] < 1 || ghost[i] < 0)
			return scout__error(SCOUT_EINVAL,
					    "ghost_cache_bytes: axis %d: piece %lld must be >= 1 "
					    "and ghost %lld >= 0",
					    i, (long long)piece[i], (long long)ghost[i]);
	double chunk_bytes = (double)scout_dtype_size(scout_array_dtype(arr));
	double plane = 1, footprint = 1;
	for (int i = 0; i < ndim; i++) {
		chunk_bytes *= (double)c[i];
		footprint *= (double)span_chunks(piece[i], ghost[i], c[i], shape[i]);
		if (i > 0)
			plane *= (double)((shape[i] + c[i] - 1) / c[i]);
	}
	double rows = (double)span_chunks(piece[0], ghost[0], c[0], shape[0]);
	double want = (1.25 * rows * plane + (double)workers * footprint) * chunk_bytes;
	*out = want >= (double)SIZE_MAX ? SIZE_MAX : (size_t)want;
	return SCOUT_OK;
}
