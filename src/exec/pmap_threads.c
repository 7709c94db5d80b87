/*
 * The thread runner: nb_workers threads take batches of chunksize chunks from
 * an atomic counter, write results straight into their chunks' slots, and
 * publish each finished batch to the calling thread, which delivers results
 * to on_result and draws the progress bar. The first error stops the
 * hand-out of new chunks and is returned. With a batch source (c->src: the
 * MPI front), workers take their batches from it instead of the counter, and
 * the calling thread calls its poll() every poll_ms.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/workpool.h"
#include "pmap_impl.h"

typedef struct tpool {
	pmap_ctx *c;
	size_t nbatches;
	atomic_size_t next_batch;
	atomic_int stop;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t *fin; /* finished batch ids, in finishing order (nbatches entries) */
	size_t nfin; /* written by workers under mu */
	int running; /* workers still running, under mu */
	int err_rc;  /* first error, under mu */
	char err_msg[1024];
} tpool;

static void batch_range(const tpool *tp, size_t b, size_t *first, size_t *n)
{
	scout__pmap_batch_range(tp->c, b, first, n);
}

/* The next batch for a worker: 1 and *b, or 0 when there is none. */
static int next_batch(tpool *tp, size_t *b)
{
	if (tp->c->src)
		return tp->c->src->take(tp->c->src, b, 0);
	*b = atomic_fetch_add_explicit(&tp->next_batch, 1, memory_order_relaxed);
	return *b < tp->nbatches;
}

static void *worker(void *arg)
{
	tpool *tp = arg;
	pmap_ctx *c = tp->c;
	scout_result r = {0};
	int64_t start[SCOUT_MAX_NDIM];
	scout__workpool_mark_worker(); /* box I/O of f runs inline: every core is busy */
	while (!atomic_load_explicit(&tp->stop, memory_order_relaxed)) {
		size_t b;
		if (!next_batch(tp, &b))
			break;
		size_t first, n;
		batch_range(tp, b, &first, &n);
		scout__pmap_start(&c->grid, first, start);
		int rc = SCOUT_OK;
		for (size_t i = first; i < first + n; i++) {
			if (i != first && atomic_load_explicit(&tp->stop, memory_order_relaxed))
				break;
			rc = scout__pmap_call(c, start, &r);
			if (rc < 0)
				break;
			if (c->need_data && r.size) {
				/* empty results leave their slot untouched (see pmap_finish) */
				pmap_slot *s = &c->slots[i];
				s->size = r.size;
				s->data = r.data;
				r.data = NULL;
				r.cap = 0;
			}
			scout__pmap_next(&c->grid, start);
		}
		pthread_mutex_lock(&tp->mu);
		if (rc < 0) {
			if (tp->err_rc == 0) {
				tp->err_rc = rc;
				snprintf(tp->err_msg, sizeof tp->err_msg, "%s", scout_last_error());
			}
			atomic_store(&tp->stop, 1);
		} else if (!atomic_load(&tp->stop)) {
			tp->fin[tp->nfin++] = b;
		}
		pthread_cond_signal(&tp->cv);
		pthread_mutex_unlock(&tp->mu);
		if (rc < 0)
			break;
	}
	free(r.data);
	pthread_mutex_lock(&tp->mu);
	tp->running--;
	pthread_cond_signal(&tp->cv);
	pthread_mutex_unlock(&tp->mu);
	return NULL;
}

int scout__pmap_run_threads(pmap_ctx *c)
{
	tpool tp;
	memset(&tp, 0, sizeof tp);
	tp.c = c;
	tp.nbatches = c->nbatches;
	atomic_init(&tp.next_batch, 0);
	atomic_init(&tp.stop, 0);
	tp.fin = malloc(tp.nbatches * sizeof *tp.fin);
	pthread_t *th = calloc((size_t)c->nb_workers, sizeof *th);
	if (!tp.fin || !th) {
		free(tp.fin);
		free(th);
		return scout__error(SCOUT_ENOMEM, "pmap_chunks: out of memory");
	}
	pthread_mutex_init(&tp.mu, NULL);
	pthread_cond_init(&tp.cv, NULL);

	int started = 0, rc = SCOUT_OK;
	pthread_mutex_lock(&tp.mu);
	for (; started < c->nb_workers; started++) {
		int e = pthread_create(&th[started], NULL, worker, &tp);
		if (e) {
			rc = scout__error(SCOUT_EIO, "pmap_chunks: cannot start thread %d: %s",
					  started, strerror(e));
			atomic_store(&tp.stop, 1);
			break;
		}
		tp.running++;
	}

	/*
	 * Deliver finished batches as they come, in this (the calling) thread,
	 * waking up at least every 100 ms for the progress bar and every 50 ms
	 * to ask cancel.
	 */
	size_t seen = 0;
	long wait_ms = c->src            ? c->src->poll_ms
		       : c->cancel       ? PMAP_CANCEL_POLL_MS
		       : c->progress.out ? 100
					 : 0;
	int stopped_src = 0;
	for (;;) {
		if (c->src)
			wait_ms = c->src->poll_ms; /* the source may change it in poll() */
		while (tp.nfin == seen && tp.running > 0) {
			if (wait_ms) {
				struct timespec ts;
				clock_gettime(CLOCK_REALTIME, &ts);
				ts.tv_nsec += wait_ms * 1000 * 1000;
				if (ts.tv_nsec >= 1000000000) {
					ts.tv_sec++;
					ts.tv_nsec -= 1000000000;
				}
				pthread_cond_timedwait(&tp.cv, &tp.mu, &ts);
				scout__progress_update(&c->progress, c->completed);
				if (c->src || (!tp.err_rc && c->cancel))
					break; /* ask cancel again, poll the source */
			} else {
				pthread_cond_wait(&tp.cv, &tp.mu);
			}
		}
		size_t upto = tp.nfin;
		int running = tp.running;
		int failed = tp.err_rc != 0;
		pthread_mutex_unlock(&tp.mu);
		/* cancel runs without the lock: the workers never wait for it */
		int cancel_now = !failed && scout__pmap_cancelled(c);
		int poll_rc = !failed && !cancel_now && c->src ? c->src->poll(c->src) : 0;
		char poll_msg[1024];
		if (poll_rc < 0)
			snprintf(poll_msg, sizeof poll_msg, "%s", scout_last_error());
		for (; seen < upto && !failed && !cancel_now && poll_rc == 0; seen++) {
			size_t first, n;
			batch_range(&tp, tp.fin[seen], &first, &n);
			for (size_t i = first; i < first + n; i++) {
				if (c->need_data) {
					pmap_slot s = c->slots[i];
					scout__pmap_finish(c, i, s.data, s.size);
				} else {
					scout__pmap_finish(c, i, NULL, 0);
				}
			}
		}
		pthread_mutex_lock(&tp.mu);
		if (cancel_now && !tp.err_rc) {
			/* stop the hand-out; running chunks finish, nothing more is delivered */
			tp.err_rc = scout__pmap_interrupted(c);
			snprintf(tp.err_msg, sizeof tp.err_msg, "%s", scout_last_error());
			atomic_store(&tp.stop, 1);
		}
		if (poll_rc < 0 && !tp.err_rc) {
			tp.err_rc = poll_rc;
			snprintf(tp.err_msg, sizeof tp.err_msg, "%s", poll_msg);
			atomic_store(&tp.stop, 1);
		}
		if (tp.err_rc && c->src && !stopped_src) {
			/* wake workers waiting for a batch, stop the hand-out everywhere */
			stopped_src = 1;
			pthread_mutex_unlock(&tp.mu);
			c->src->stop(c->src);
			pthread_mutex_lock(&tp.mu);
		}
		if (running == 0 && seen == tp.nfin)
			break;
		if (tp.err_rc)
			seen = tp.nfin; /* stop delivering; wait for the workers to stop */
	}
	pthread_mutex_unlock(&tp.mu);

	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	if (tp.err_rc && rc == SCOUT_OK)
		rc = scout__error(tp.err_rc, "%s", tp.err_msg);
	pthread_mutex_destroy(&tp.mu);
	pthread_cond_destroy(&tp.cv);
	free(tp.fin);
	free(th);
	return rc;
}
