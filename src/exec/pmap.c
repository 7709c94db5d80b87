/*
 * scout_pmap_chunks(): the front of the map on one machine. It resolves the
 * options into a context (pmap_ctx.c) and runs one of the runners: inline
 * (pmap_inline.c), threads (pmap_threads.c) or processes (pmap_process.c).
 */
#include <stdio.h>

#include "pmap_impl.h"

int scout__pmap_run(pmap_ctx *c)
{
	if (c->grid.count == 0)
		return SCOUT_OK;
	if (c->inline_mode && !c->src)
		return scout__pmap_run_inline(c);
	if (c->workers == SCOUT_WORKERS_THREADS)
		return scout__pmap_run_threads(c);
	return scout__pmap_run_processes(c);
}

int scout_pmap_chunks(scout_results **out, scout_chunk_fn f, void *payload, scout_array *arr,
		      const int64_t *chunks, const scout_pmap_options *opts)
{
	if (out)
		*out = NULL;
	pmap_ctx *c;
	int rc = scout__pmap_ctx_new(&c, f, payload, arr, chunks, opts, out != NULL);
	if (rc < 0)
		return rc;
	rc = scout__pmap_ctx_start(c, c->progress_on ? stderr : NULL);
	if (rc == 0)
		rc = scout__pmap_run(c);
	return scout__pmap_ctx_end(c, rc, out);
}
