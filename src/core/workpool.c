/*
 * The worker pool of box I/O (see workpool.h and scout/iothreads.h).
 *
 * State: one mutex guards the queue of jobs and the thread counts. A job
 * lives on its caller's stack; a worker joins a job under the mutex (active++)
 * and leaves it under the mutex (active--), so once the caller has taken its
 * job off the queue and seen active == 0, no worker can touch it again.
 * Threads are detached; a worker exits when there are more of them than the
 * configured size asks for. Worker threads block every signal, so
 * process-directed signals (SIGINT, SIGTERM) reach the application's threads.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scout/iothreads.h"
#include "workpool.h"

typedef struct job {
	struct job *next;
	int queued; /* in the queue (under pool.mu) */
	scout__work_fn fn;
	void *payload;
	size_t n;
	atomic_size_t next_item;
	atomic_int stop;
	int active;     /* pool threads inside the job, under pool.mu */
	int max_active; /* pool threads the job takes at most */
	pthread_cond_t done;
	pthread_mutex_t err_mu;
	int err_rc;
	size_t err_item;
	char err_msg[1024];
} job;

static struct {
	pthread_mutex_t mu;
	pthread_cond_t work;
	job *head, *tail;
	int live;   /* worker threads alive */
	int target; /* worker threads wanted */
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL, 0, 0};

static atomic_int configured; /* scout_set_io_threads(); 0: default */
static int default_size;      /* SCOUT_IO_THREADS or online CPUs, set once */
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static atomic_uint_fast64_t n_jobs_parallel, n_items_by_pool;
static _Thread_local int is_worker;

/* ---- size ---- */

static void atfork_prepare(void)
{
	pthread_mutex_lock(&pool.mu);
}

static void atfork_parent(void)
{
	pthread_mutex_unlock(&pool.mu);
}

/* the child has no worker threads and none of the parent's other threads' jobs */
static void atfork_child(void)
{
	pthread_mutex_unlock(&pool.mu);
	pthread_cond_init(&pool.work, NULL);
	pool.head = pool.tail = NULL;
	pool.live = pool.target = 0;
	atomic_store(&n_jobs_parallel, 0);
	atomic_store(&n_items_by_pool, 0);
}

static void init(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	const char *env = getenv("SCOUT_IO_THREADS");
	if (env && *env) {
		char *end;
		errno = 0;
		long v = strtol(env, &end, 10);
		if (errno == 0 && *end == '\0' && v >= 1 && v <= SCOUT_IO_THREADS_MAX)
			n = v;
	}
	default_size = n < 1 ? 1 : n > SCOUT_IO_THREADS_MAX ? SCOUT_IO_THREADS_MAX : (int)n;
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

int scout_io_threads(void)
{
	pthread_once(&init_once, init);
	int c = atomic_load(&configured);
	return c > 0 ? c : default_size;
}

int scout_set_io_threads(int n)
{
	if (n < 0 || n > SCOUT_IO_THREADS_MAX)
		return scout__error(SCOUT_EINVAL, "set_io_threads: %d is not in 0..%d", n,
				    SCOUT_IO_THREADS_MAX);
	pthread_once(&init_once, init);
	atomic_store(&configured, n);
	/* surplus threads exit when they next look for work */
	pthread_mutex_lock(&pool.mu);
	int want = scout_io_threads() - 1;
	if (want < pool.target)
		pool.target = want;
	pthread_cond_broadcast(&pool.work);
	pthread_mutex_unlock(&pool.mu);
	return SCOUT_OK;
}

void scout__workpool_mark_worker(void)
{
	is_worker = 1;
}

int scout__workpool_is_worker(void)
{
	return is_worker;
}

int scout__workpool_available(void)
{
	return !is_worker && scout_io_threads() > 1;
}

void scout__workpool_stats(scout_workpool_stats *out)
{
	out->jobs_parallel = atomic_load(&n_jobs_parallel);
	out->items_by_pool = atomic_load(&n_items_by_pool);
	pthread_mutex_lock(&pool.mu);
	out->threads = pool.live;
	pthread_mutex_unlock(&pool.mu);
}

/* ---- running a job ---- */

static void record_error(job *j, size_t item, int rc)
{
	pthread_mutex_lock(&j->err_mu);
	if (j->err_rc == 0 || item < j->err_item) {
		j->err_rc = rc;
		j->err_item = item;
		snprintf(j->err_msg, sizeof j->err_msg, "%s", scout_last_error());
	}
	pthread_mutex_unlock(&j->err_mu);
	atomic_store(&j->stop, 1);
}

/* take items until none is left or the job stops; returns how many ran */
static size_t run_items(job *j)
{
	size_t ran = 0;
	while (!atomic_load_explicit(&j->stop, memory_order_relaxed)) {
		size_t i = atomic_fetch_add_explicit(&j->next_item, 1, memory_order_relaxed);
		if (i >= j->n)
			break;
		int rc = j->fn(i, j->payload);
		ran++;
		if (rc < 0)
			record_error(j, i, rc);
	}
	return ran;
}

static int exhausted(job *j)
{
	return atomic_load_explicit(&j->next_item, memory_order_relaxed) >= j->n ||
	       atomic_load_explicit(&j->stop, memory_order_relaxed);
}

/* take j off the queue; under pool.mu */
static void unlink_job(job *j)
{
	if (!j->queued)
		return;
	job **pp = &pool.head, *prev = NULL;
	while (*pp && *pp != j) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	if (*pp) {
		*pp = j->next;
		if (pool.tail == j)
			pool.tail = prev;
	}
	j->next = NULL;
	j->queued = 0;
}

static void *worker_main(void *arg)
{
	(void)arg;
	is_worker = 1;
	pthread_mutex_lock(&pool.mu);
	for (;;) {
		if (pool.live > pool.target)
			break;
		while (pool.head && exhausted(pool.head))
			unlink_job(pool.head);
		/* the oldest job with items left and room for one more thread */
		job *j = pool.head;
		while (j && (exhausted(j) || j->active >= j->max_active))
			j = j->next;
		if (!j) {
			pthread_cond_wait(&pool.work, &pool.mu);
			continue;
		}
		j->active++;
		pthread_mutex_unlock(&pool.mu);
		size_t ran = run_items(j);
		if (ran)
			atomic_fetch_add_explicit(&n_items_by_pool, ran, memory_order_relaxed);
		pthread_mutex_lock(&pool.mu);
		if (--j->active == 0)
			pthread_cond_broadcast(&j->done);
	}
	pool.live--;
	pthread_mutex_unlock(&pool.mu);
	return NULL;
}

/* start threads up to `want` (under pool.mu); fewer when the system refuses */
static void grow(int want)
{
	pool.target = want;
	if (pool.live >= want)
		return;
	pthread_attr_t at;
	if (pthread_attr_init(&at) != 0)
		return;
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	while (pool.live < want) {
		pthread_t t;
		if (pthread_create(&t, &at, worker_main, NULL) != 0) {
			pool.target = pool.live; /* run with what we have */
			break;
		}
		pool.live++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&at);
}

static int run_serial(size_t n, scout__work_fn fn, void *payload, size_t *failed_item)
{
	for (size_t i = 0; i < n; i++) {
		int rc = fn(i, payload);
		if (rc < 0) {
			if (failed_item)
				*failed_item = i;
			return rc;
		}
	}
	return SCOUT_OK;
}

int scout__workpool_run(size_t n, scout__work_fn fn, void *payload, size_t *failed_item)
{
	return scout__workpool_run_wide(n, fn, payload, failed_item, 0);
}

int scout__workpool_run_wide(size_t n, scout__work_fn fn, void *payload, size_t *failed_item,
			     int threads)
{
	int size = scout_io_threads();
	if (n < 2 || size < 2 || is_worker)
		return run_serial(n, fn, payload, failed_item);
	if (threads < size)
		threads = size;
	if (threads > SCOUT_IO_THREADS_MAX)
		threads = SCOUT_IO_THREADS_MAX;
	job j;
	memset(&j, 0, sizeof j);
	j.fn = fn;
	j.payload = payload;
	j.n = n;
	j.max_active = threads - 1;
	atomic_init(&j.next_item, 0);
	atomic_init(&j.stop, 0);
	pthread_cond_init(&j.done, NULL);
	pthread_mutex_init(&j.err_mu, NULL);

	pthread_mutex_lock(&pool.mu);
	grow(threads - 1);
	int helpers = pool.live < threads - 1 ? pool.live : threads - 1;
	if (helpers > 0) {
		j.queued = 1;
		if (pool.tail)
			pool.tail->next = &j;
		else
			pool.head = &j;
		pool.tail = &j;
		if ((size_t)helpers >= n - 1)
			for (size_t k = 0; k < n - 1; k++)
				pthread_cond_signal(&pool.work);
		else
			pthread_cond_broadcast(&pool.work);
	}
	pthread_mutex_unlock(&pool.mu);
	if (helpers > 0)
		atomic_fetch_add_explicit(&n_jobs_parallel, 1, memory_order_relaxed);

	/* the caller takes part; nested box I/O from fn runs inline */
	is_worker = 1;
	run_items(&j);
	is_worker = 0;

	pthread_mutex_lock(&pool.mu);
	unlink_job(&j);
	while (j.active > 0)
		pthread_cond_wait(&j.done, &pool.mu);
	pthread_mutex_unlock(&pool.mu);
	pthread_cond_destroy(&j.done);
	pthread_mutex_destroy(&j.err_mu);
	if (j.err_rc < 0) {
		if (failed_item)
			*failed_item = j.err_item;
		return scout__error(j.err_rc, "%s", j.err_msg);
	}
	return SCOUT_OK;
}
