/*
 * The chunk cache of a ghosted map (peaks, blur): the size the map needs
 * (scout_ghost_cache_bytes: the chunk rows one layer of slabs reads, kept
 * until the next layer reads them again) under this command's policy: only
 * Zarr inputs, never when SCOUT_ZARR_CACHE is set, only growing, at most a
 * quarter of the RAM shared by the ranks of the node. Without it, vol1024
 * (64^3 chunks, 256 MiB default) decoded each chunk 2.9 times on one worker.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

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
	size_t bytes = 0;
	if (scout_ghost_cache_bytes(&bytes, in, piece, ghost, workers) < 0)
		return;
	double want = (double)bytes;
	double limit = (double)cache_limit();
	if (limit > 0 && want > limit)
		want = limit;
	scout_zarr_stats st;
	if (scout_zarr_stats_get(&st, in) < 0 || want <= (double)st.cache_capacity)
		return;
	/* a failure leaves the cache as it was: the map still runs, only slower */
	(void)scout_zarr_set_cache_size(in, (size_t)want);
}
