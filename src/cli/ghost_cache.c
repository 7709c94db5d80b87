/*
 * The chunk cache of a ghosted map (peaks, blur). Pieces run in C order; a
 * piece reads its own chunks and a ghost shell that reaches into the
 * neighbouring chunks, including the layer of chunks below and above it on
 * axis 0. Those are read again by the next layer of pieces, a whole plane of
 * pieces later: with a cache smaller than the chunks of that plane, LRU
 * evicts each of them just before it is needed again, and every chunk is
 * decoded about three times (vol1024, 64^3 chunks, 256 MiB: 2.9 decodes per
 * chunk on one worker; 1.1 with the plane cached).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* Chunks along one axis touched by n voxels and the ghost on both sides (any alignment). */
static int64_t span_chunks(int64_t n, int64_t ghost, int64_t chunk, int64_t extent)
{
	int64_t total = (extent + chunk - 1) / chunk;
	int64_t k = (n + 2 * ghost + chunk - 1) / chunk + 1;
	return k < total ? k : total;
}

/* The RAM this process may give the cache: a quarter of it, shared by the ranks on this node. */
static size_t cache_limit(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
	if (pages <= 0 || psize <= 0)
		return 0;
	long local = 1;
	const char *env = getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
	if (env && atol(env) > 0)
		local = atol(env);
	return (size_t)pages / 4 / (size_t)local * (size_t)psize;
}

void cli_ghost_cache(scout_array *in, const int64_t *piece, const int64_t *ghost, size_t workers)
{
	const char *env = getenv("SCOUT_ZARR_CACHE");
	if ((env && *env) || strcmp(scout_array_kind(in), "zarr"))
		return;
	int ndim = scout_array_ndim(in);
	const int64_t *shape = scout_array_shape(in), *c = scout_array_chunks(in);
	double chunk_bytes = (double)scout_dtype_size(scout_array_dtype(in));
	double plane = 1, footprint = 1;
	for (int i = 0; i < ndim; i++) {
		chunk_bytes *= (double)c[i];
		footprint *= (double)span_chunks(piece[i], ghost[i], c[i], shape[i]);
		if (i > 0)
			plane *= (double)((shape[i] + c[i] - 1) / c[i]);
	}
	double rows = (double)span_chunks(piece[0], ghost[0], c[0], shape[0]);
	/* 1.25: the cache is split into shards by a hash, whose loads differ by a few % */
	double want = (1.25 * rows * plane + (double)workers * footprint) * chunk_bytes;
	double limit = (double)cache_limit();
	if (limit > 0 && want > limit)
		want = limit;
	scout_zarr_stats st;
	if (scout_zarr_stats_get(&st, in) < 0 || want <= (double)st.cache_capacity)
		return;
	/* a failure leaves the cache as it was: the map still runs, only slower */
	(void)scout_zarr_set_cache_size(in, (size_t)want);
}
