/*
 * What the map's fronts and runners share (see pmap_impl.h): results, the
 * chunk grid, the context resolved from the options, delivery of finished
 * chunks, the call of f on one chunk, cancel.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pmap_impl.h"

/* Batches larger than this only delay results and unbalance the workers. */
#define PMAP_MAX_AUTO_CHUNKSIZE 1024

/* ---- results ---- */

int scout_result_set(scout_result *result, const void *data, size_t size)
{
	if (!result)
		return scout__error(SCOUT_EINVAL, "result_set: result is NULL");
	if (size && !data)
		return scout__error(SCOUT_EINVAL, "result_set: data is NULL with size %zu", size);
	if (size > result->cap) {
		void *p = realloc(result->data, size);
		if (!p)
			return scout__error(SCOUT_ENOMEM, "result_set: cannot allocate %zu bytes",
					    size);
		result->data = p;
		result->cap = size;
	}
	if (size)
		memcpy(result->data, data, size);
	result->size = size;
	return SCOUT_OK;
}

size_t scout_results_count(const scout_results *results)
{
	return results ? results->count : 0;
}

const void *scout_results_get(const scout_results *results, size_t i, size_t *size_out)
{
	if (size_out)
		*size_out = 0;
	if (!results || i >= results->count || !results->slots)
		return NULL;
	if (size_out)
		*size_out = results->slots[i].size;
	return results->slots[i].size ? results->slots[i].data : NULL;
}

static void free_slots(pmap_slot *slots, size_t count)
{
	if (!slots)
		return;
	for (size_t i = 0; i < count; i++)
		free(slots[i].data);
	free(slots);
}

void scout_results_free(scout_results *results)
{
	if (!results)
		return;
	free_slots(results->slots, results->count);
	free(results);
}

/* ---- grid ---- */

void scout__pmap_start(const pmap_grid *g, size_t index, int64_t *start)
{
	for (int d = g->ndim - 1; d >= 0; d--) {
		size_t nb = (size_t)g->nb[d];
		start[d] = (int64_t)(index % nb) * g->chunks[d];
		index /= nb;
	}
}

void scout__pmap_next(const pmap_grid *g, int64_t *start)
{
	for (int d = g->ndim - 1; d >= 0; d--) {
		start[d] += g->chunks[d];
		if (start[d] < g->nb[d] * g->chunks[d])
			return;
		start[d] = 0;
	}
}

static int make_grid(pmap_grid *g, const scout_array *arr, const int64_t *chunks)
{
	int ndim = scout_array_ndim(arr);
	const int64_t *shape = scout_array_shape(arr);
	int rc = scout__check_chunks(ndim, chunks, "pmap_chunks");
	if (rc < 0)
		return rc;
	g->ndim = ndim;
	size_t count = 1;
	for (int d = 0; d < ndim; d++) {
		g->chunks[d] = chunks[d];
		g->nb[d] = shape[d] / chunks[d] + (shape[d] % chunks[d] != 0);
		if (__builtin_mul_overflow(count, (size_t)g->nb[d], &count))
			return scout__error(SCOUT_EOVERFLOW,
					    "pmap_chunks: the number of chunks overflows");
	}
	g->count = count;
	return SCOUT_OK;
}

/* ---- delivery ---- */

void scout__pmap_finish(pmap_ctx *c, size_t index, void *data, size_t size)
{
	c->completed++;
	if (c->sink) {
		if (c->slots) { /* the thread runner's slot: the sink owns the data now */
			c->slots[index].data = NULL;
			c->slots[index].size = 0;
		}
		c->sink(c->sink_self, index, data, size);
		return;
	}
	if (c->need_data) {
		/*
		 * Slots start empty: leave them untouched for empty results, so a
		 * million no-op chunks do not write (and, after a fork, copy) the
		 * slot pages.
		 */
		if (size || data) {
			c->slots[index].data = data;
			c->slots[index].size = size;
		}
		if (c->on_result) {
			if (c->unordered) {
				c->on_result(index, size ? data : NULL, size, c->on_result_payload);
				if (!c->keep) {
					free(data);
					c->slots[index].data = NULL;
				}
			} else {
				c->done[index] = 1;
				while (c->next_deliver < c->grid.count &&
				       c->done[c->next_deliver]) {
					pmap_slot *s = &c->slots[c->next_deliver];
					c->on_result(c->next_deliver, s->size ? s->data : NULL,
						     s->size, c->on_result_payload);
					if (!c->keep) {
						free(s->data);
						s->data = NULL;
					}
					c->next_deliver++;
				}
			}
		}
	} else {
		free(data);
	}
	scout__progress_update(&c->progress, c->completed);
}

int scout__pmap_call(pmap_ctx *c, const int64_t *start, scout_result *r)
{
	r->size = 0;
	scout_clear_error();
	int rc = c->f(c->arr, start, c->grid.chunks, r, c->payload);
	if (rc >= 0)
		return SCOUT_OK;
	char where[512];
	scout__fmt_coords(where, sizeof where, c->grid.ndim, start);
	if (scout_last_error()[0] == '\0')
		scout__error(rc, "the chunk function returned %d (%s)", rc, scout_strerror(rc));
	return scout__error_prefix(rc, "chunk %s: ", where);
}

void *scout__pmap_take_result(pmap_ctx *c, scout_result *r, size_t *size)
{
	*size = r->size;
	if (!c->need_data || r->size == 0)
		return NULL;
	void *p = r->data;
	r->data = NULL;
	r->cap = 0;
	r->size = 0;
	return p;
}

int scout__pmap_cancelled(pmap_ctx *c)
{
	if (!c->cancelled && c->cancel && c->cancel(c->cancel_payload))
		c->cancelled = 1;
	return c->cancelled;
}

int scout__pmap_interrupted(pmap_ctx *c)
{
	return scout__error(SCOUT_EINTERRUPTED, "pmap_chunks: cancelled after %zu of %zu chunks",
			    c->completed, c->grid.count);
}

void scout__pmap_batch_range(const pmap_ctx *c, size_t b, size_t *first, size_t *n)
{
	size_t cs = c->chunksize;
	*first = b * cs;
	size_t left = c->grid.count - *first;
	*n = left < cs ? left : cs;
}

size_t scout__pmap_auto_chunksize(size_t count, size_t total_workers)
{
	size_t cs = count / (total_workers * 8);
	if (cs > PMAP_MAX_AUTO_CHUNKSIZE)
		cs = PMAP_MAX_AUTO_CHUNKSIZE;
	return cs < 1 ? 1 : cs;
}

/* ---- the context ---- */

int scout__pmap_ctx_new(pmap_ctx **out, scout_chunk_fn f, void *payload, scout_array *arr,
			const int64_t *chunks, const scout_pmap_options *opts, int keep)
{
	static const scout_pmap_options defaults = SCOUT_PMAP_OPTIONS_INIT;
	*out = NULL;
	if (!f)
		return scout__error(SCOUT_EINVAL, "pmap_chunks: the chunk function is NULL");
	if (!arr)
		return scout__error(SCOUT_EINVAL, "pmap_chunks: the array is NULL");
	if (!opts)
		opts = &defaults;
	scout_pmap_options o = defaults;
	if (opts->version == SCOUT_PMAP_OPTIONS_VERSION)
		o = *opts;
	else if (opts->version == 1) /* without cancel: read only its fields */
		memcpy(&o, opts, offsetof(scout_pmap_options, cancel));
	else
		return scout__error(SCOUT_EINVAL,
				    "pmap_chunks: options version %u, expected %u (use "
				    "SCOUT_PMAP_OPTIONS_INIT)",
				    opts->version, SCOUT_PMAP_OPTIONS_VERSION);
	opts = &o;
	if (opts->workers != SCOUT_WORKERS_THREADS && opts->workers != SCOUT_WORKERS_PROCESSES)
		return scout__error(SCOUT_EINVAL, "pmap_chunks: unknown kind of workers %d",
				    (int)opts->workers);
	if (opts->nb_workers < 0)
		return scout__error(SCOUT_EINVAL, "pmap_chunks: nb_workers %d is negative",
				    opts->nb_workers);

	pmap_ctx *c = calloc(1, sizeof *c);
	if (!c)
		return scout__error(SCOUT_ENOMEM, "pmap_chunks: out of memory");
	int rc = make_grid(&c->grid, arr, chunks ? chunks : scout_array_chunks(arr));
	if (rc < 0) {
		free(c);
		return rc;
	}
	size_t count = c->grid.count;
	c->f = f;
	c->payload = payload;
	c->arr = arr;
	c->unordered = opts->unordered;
	c->on_result = opts->on_result;
	c->on_result_payload = opts->on_result_payload;
	c->cancel = opts->cancel;
	c->cancel_payload = opts->cancel_payload;
	c->keep = keep;
	c->need_data = c->keep || c->on_result;
	c->workers = opts->workers;
	c->progress_on = opts->progress;

	long nw = opts->nb_workers;
	if (nw == 0) {
		nw = sysconf(_SC_NPROCESSORS_ONLN);
		if (nw < 1)
			nw = 1;
	}
	c->inline_mode = nw == 1;
	if ((size_t)nw > count)
		nw = count ? (long)count : 1;
	c->nb_workers = (int)nw;
	c->chunksize = opts->chunksize;
	if (c->chunksize == 0)
		c->chunksize = scout__pmap_auto_chunksize(count, (size_t)nw);
	c->nbatches = count / c->chunksize + (count % c->chunksize != 0);
	*out = c;
	return SCOUT_OK;
}

int scout__pmap_ctx_start(pmap_ctx *c, FILE *progress_out)
{
	size_t count = c->grid.count;
	c->nbatches = count / c->chunksize + (count % c->chunksize != 0);
	if (c->need_data && count) {
		c->slots = calloc(count, sizeof *c->slots);
		if (!c->slots)
			return scout__error(SCOUT_ENOMEM,
					    "pmap_chunks: cannot allocate %zu results", count);
		if (c->on_result && !c->unordered && !c->sink) {
			c->done = calloc(count, 1);
			if (!c->done)
				return scout__error(SCOUT_ENOMEM, "pmap_chunks: out of memory");
		}
	}
	scout__progress_init(&c->progress, progress_out, NULL, count);
	return SCOUT_OK;
}

int scout__pmap_ctx_end(pmap_ctx *c, int rc, scout_results **out)
{
	size_t count = c->grid.count;
	scout__progress_finish(&c->progress);
	if (rc < 0 && rc != SCOUT_EINTERRUPTED && count && scout__pmap_cancelled(c)) {
		/* a failure caused by (or racing with) the cancellation: say so */
		char msg[1024];
		snprintf(msg, sizeof msg, "%s", scout_last_error());
		rc = scout__error(SCOUT_EINTERRUPTED, "pmap_chunks: cancelled (%s)", msg);
	}
	if (rc >= 0 && out) {
		scout_results *res = malloc(sizeof *res);
		if (!res) {
			rc = scout__error(SCOUT_ENOMEM, "pmap_chunks: out of memory");
		} else {
			res->count = count;
			res->slots = c->slots;
			c->slots = NULL;
			*out = res;
		}
	}
	free_slots(c->slots, count);
	free(c->done);
	free(c);
	return rc < 0 ? rc : SCOUT_OK;
}
