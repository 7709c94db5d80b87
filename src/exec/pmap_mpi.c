/*
 * scout_pmap_chunks_mpi(): the front of the map across MPI ranks (see
 * scout/mpi.h). Every rank resolves the same context (pmap_ctx.c) and runs
 * its local thread or process runner with a batch source and, on ranks > 0,
 * a result sink:
 *
 * - the source takes batch ids from a window on rank 0 with request-based
 *   fetch-and-add. The batches are cut into one contiguous block per rank.
 *   Each block has one 64-bit word: the high half counts the batches its
 *   owner took from the front, the low half those other ranks took from the
 *   back. The owner adds 1 << 32 and gets batch start + front; a helper adds
 *   1 and gets batch end - 1 - back; either is valid while front + back <
 *   length, which one atomic add decides for both ends at once. A rank takes
 *   its own block in order, then helps the rank with the most left (read
 *   with one atomic fetch of every word), from the back, until that block
 *   meets in the middle. So scheduling stays dynamic (a slow rank leaves its
 *   tail to the others) and each rank's chunks are neighbours, including the
 *   helped ones: its chunk cache serves a ghosted map's shells. (With one
 *   shared counter neighbouring batches went to alternating ranks and were
 *   decoded on both: W4 peaks ran at 0.83x of one process. With helpers
 *   taking a block's next batch from the front, owner and helper alternated
 *   again, and timings were bimodal.) Worker threads never call MPI: they
 *   wait on a local queue that the calling thread fills in poll(), every
 *   POLL_MS (up to POLL_MS_IDLE while nothing moves), with one batch per waiting worker (no batch
 * is held back from other ranks). The process runner takes its batches in the calling thread
 *   directly.
 * - ranks > 0 pack finished chunks into records (RESULT: index, size, bytes;
 *   EMPTY: a run of chunks with empty results) and send them to rank 0 from
 *   poll(); the last message of each rank is a DONE record with its status.
 *   Rank 0 receives them in poll() and delivers them with its own chunks
 *   (scout__pmap_finish), in chunk order or as they come.
 * - a failure (or cancel) on any rank replaces every word with STOP_WORD
 *   (MPI_Accumulate MPI_REPLACE), so every rank stops taking batches after
 *   the chunk it runs; rank 0 waits for every DONE and broadcasts the
 *   outcome, so every rank returns the same code and message.
 *
 * Only the calling thread calls MPI (MPI_THREAD_FUNNELED suffices), and it
 * never blocks for long in MPI, whose blocking calls busy-wait.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scout/mpi.h"
#include "pmap_impl.h"

#define POLL_MS       1 /* poll() interval while something happens */
#define POLL_MS_IDLE  8 /* at most, doubling from POLL_MS while nothing does */
#define SPARE         1 /* batches fetched ahead of the workers, per rank */
#define TAG_RECORDS   0x5c07
#define SEND_AT_BYTES (1u << 20) /* send a rank's records once this many are packed */
#define MAX_MSG_BYTES (1u << 30)
#define FRONT_ONE     ((uint64_t)1 << 32) /* the owner's add */
#define MAX_BLOCK     ((uint64_t)1 << 30) /* batches in one block, at most */
#define STOP_WORD     ((uint64_t)1 << 62) /* front = 2^30: every block looks taken */

enum { REC_RESULT = 1, REC_EMPTY = 2, REC_DONE = 3 };

typedef struct rec_hdr {
	uint32_t type;
	int32_t status; /* REC_DONE: the rank's return code */
	uint64_t index; /* REC_RESULT: chunk; REC_EMPTY: first chunk */
	uint64_t size;  /* REC_RESULT, REC_DONE: payload bytes; REC_EMPTY: chunks */
} rec_hdr;

typedef struct mpi_src {
	pmap_source base;
	pmap_ctx *c;
	MPI_Comm comm;
	int rank, size;
	MPI_Win win;
	int failed_mpi;   /* an MPI call failed: stop talking */
	int fetching;     /* a fetch (or a scan) is under way */
	int scanning;     /* it reads every block's word */
	uint64_t fetched; /* a fetch's result */
	uint64_t *words;  /* a scan's result (size words), then size STOP_WORDs */
	int target;       /* the block fetched from (-1: scan first) */
	int ndry;         /* blocks seen taken to the end */
	unsigned char *dry;
	MPI_Request req;
	/* batches for worker threads, filled by poll() */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t *queue; /* nb_workers slots */
	int qhead, qlen, waiting;
	int exhausted; /* every block is taken (under mu) */
	int stopped;   /* stop() ran (under mu) */
	int stop_sent; /* the counter was replaced */
	/* ranks > 0: records not sent yet */
	char *buf;
	size_t len, cap;
	uint64_t empty_first, empty_n;
	int sink_err; /* out of memory packing records */
	/* rank 0: DONE records received, first failure */
	int ndone;
	int nreceived; /* messages received (rank 0) */
	int err_rc;
	char err_msg[1024];
} mpi_src;

static int mpi_fail(mpi_src *s, int e, const char *what)
{
	char msg[MPI_MAX_ERROR_STRING];
	int len = 0;
	s->failed_mpi = 1;
	MPI_Error_string(e, msg, &len);
	return scout__error(SCOUT_EIO, "pmap_chunks_mpi: %s: %.*s", what, len, msg);
}

/* ---- the counter ---- */

/*
 * The counter is read with a request-based MPI_Rget_accumulate (a fetch and
 * add of 1) that poll() tests: the calling thread never spins in MPI while a
 * remote rank 0 gets round to progress it.
 */

/* The counter passed the end (or MPI failed): no batch will come any more. */
static void set_exhausted(mpi_src *s)
{
	pthread_mutex_lock(&s->mu);
	s->exhausted = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

/* Block i of the batches: [block_start(i), block_start(i + 1)). */
static uint64_t block_start(const mpi_src *s, int i)
{
	uint64_t nb = s->c->nbatches, q = nb / (uint64_t)s->size, r = nb % (uint64_t)s->size;
	return q * (uint64_t)i + ((uint64_t)i < r ? (uint64_t)i : r);
}

/* The batches left in block i by its word w. */
static uint64_t block_left(const mpi_src *s, int i, uint64_t w)
{
	uint64_t len = block_start(s, i + 1) - block_start(s, i),
		 taken = (w >> 32) + (w & 0xffffffffu);
	return taken < len ? len - taken : 0;
}

static void mark_dry(mpi_src *s, int i)
{
	if (!s->dry[i]) {
		s->dry[i] = 1;
		s->ndry++;
	}
}

/* Start a fetch (or a scan for a block to help) unless one is under way. */
static void fetch_start(mpi_src *s)
{
	if (s->fetching || s->exhausted || s->failed_mpi)
		return;
	int e;
	if (s->target < 0) {
		s->scanning = 1;
		e = MPI_Rget_accumulate(NULL, 0, MPI_UINT64_T, s->words, s->size, MPI_UINT64_T, 0,
					0, s->size, MPI_UINT64_T, MPI_NO_OP, s->win, &s->req);
	} else {
		static const uint64_t front = FRONT_ONE, back = 1;
		s->scanning = 0;
		e = MPI_Rget_accumulate(s->target == s->rank ? &front : &back, 1, MPI_UINT64_T,
					&s->fetched, 1, MPI_UINT64_T, 0, (MPI_Aint)s->target, 1,
					MPI_UINT64_T, MPI_SUM, s->win, &s->req);
	}
	if (e != MPI_SUCCESS) {
		mpi_fail(s, e, "MPI_Rget_accumulate");
		set_exhausted(s);
		return;
	}
	s->fetching = 1;
}

/* A scan came back: help the block with the most left, or stop when none has any. */
static void scan_done(mpi_src *s)
{
	uint64_t best = 0;
	for (int i = 0; i < s->size; i++) {
		uint64_t left = s->dry[i] ? 0 : block_left(s, i, s->words[i]);
		if (!left)
			mark_dry(s, i);
		else if (left > best)
			best = left, s->target = i;
	}
	if (!best)
		set_exhausted(s);
}

/*
 * 1 and *b when the fetch under way completed with a batch; else 0 (and
 * fetching is 0 when it completed without one: a block or scan ended, the
 * caller starts the next).
 */
static int fetch_test(mpi_src *s, size_t *b)
{
	if (!s->fetching)
		return 0;
	int done = 0;
	int e = MPI_Test(&s->req, &done, MPI_STATUS_IGNORE);
	if (e != MPI_SUCCESS) {
		s->fetching = 0;
		mpi_fail(s, e, "MPI_Test");
		set_exhausted(s);
		return 0;
	}
	if (!done)
		return 0;
	s->fetching = 0;
	if (s->scanning) {
		scan_done(s);
		return 0;
	}
	int t = s->target;
	uint64_t w = s->fetched, front = w >> 32, back = w & 0xffffffffu;
	if (!block_left(s, t, w)) {
		/* this block is taken (or the map stopped): find another */
		mark_dry(s, t);
		s->target = -1;
		if (front >= MAX_BLOCK || s->ndry >= s->size)
			set_exhausted(s);
		return 0;
	}
	*b = (size_t)(t == s->rank ? block_start(s, t) + front : block_start(s, t + 1) - 1 - back);
	return 1;
}

static void sleep_us(long us)
{
	struct timespec ts = {0, us * 1000};
	nanosleep(&ts, NULL);
}

/* The next batch, waiting for it: 1 and *b, or 0 when there is none. */
static int fetch(mpi_src *s, size_t *b)
{
	for (;;) {
		fetch_start(s);
		if (!s->fetching)
			return 0;
		if (fetch_test(s, b))
			return 1;
		if (!s->fetching) {
			pthread_mutex_lock(&s->mu);
			int over = s->exhausted;
			pthread_mutex_unlock(&s->mu);
			if (over || s->failed_mpi)
				return 0;
			continue; /* a block or a scan ended: on to the next */
		}
		sleep_us(20);
	}
}

static int src_take(pmap_source *base, size_t *b, int in_caller)
{
	mpi_src *s = (mpi_src *)base;
	pthread_mutex_lock(&s->mu);
	if (in_caller) {
		/* the process runner, in the calling thread: a prefetched batch, or wait for one */
		int got = 0;
		if (s->qlen > 0 && !s->stopped) {
			*b = s->queue[s->qhead];
			s->qhead = (s->qhead + 1) % (s->c->nb_workers + SPARE);
			s->qlen--;
			got = 1;
		}
		int stopped = s->stopped;
		pthread_mutex_unlock(&s->mu);
		return got ? 1 : stopped ? 0 : fetch(s, b);
	}
	s->waiting++;
	while (s->qlen == 0 && !s->exhausted && !s->stopped)
		pthread_cond_wait(&s->cv, &s->mu);
	s->waiting--;
	int got = 0;
	if (s->qlen > 0 && !s->stopped) {
		*b = s->queue[s->qhead];
		s->qhead = (s->qhead + 1) % (s->c->nb_workers + SPARE);
		s->qlen--;
		got = 1;
	}
	pthread_mutex_unlock(&s->mu);
	return got;
}

static void src_stop(pmap_source *base)
{
	mpi_src *s = (mpi_src *)base;
	pthread_mutex_lock(&s->mu);
	s->stopped = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	if (s->stop_sent || s->failed_mpi)
		return;
	s->stop_sent = 1;
	uint64_t *stop = s->words + s->size; /* a scan may still be writing the first half */
	for (int i = 0; i < s->size; i++)
		stop[i] = STOP_WORD;
	int e = MPI_Accumulate(stop, s->size, MPI_UINT64_T, 0, 0, s->size, MPI_UINT64_T,
			       MPI_REPLACE, s->win);
	if (e == MPI_SUCCESS)
		e = MPI_Win_flush(0, s->win);
	if (e != MPI_SUCCESS)
		s->failed_mpi = 1;
}

/* ---- records (ranks > 0) ---- */

static int put(mpi_src *s, const void *p, size_t n)
{
	if (s->len + n > s->cap) {
		size_t ncap = s->cap ? s->cap : 65536;
		while (ncap < s->len + n)
			ncap *= 2;
		char *q = realloc(s->buf, ncap);
		if (!q)
			return -1;
		s->buf = q;
		s->cap = ncap;
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	return 0;
}

static void close_empty_run(mpi_src *s)
{
	if (!s->empty_n)
		return;
	rec_hdr h = {REC_EMPTY, 0, s->empty_first, s->empty_n};
	if (put(s, &h, sizeof h) < 0)
		s->sink_err = 1;
	s->empty_n = 0;
}

static void sink(void *self, size_t index, void *data, size_t size)
{
	mpi_src *s = self;
	if (size == 0) {
		if (s->empty_n && s->empty_first + s->empty_n == index) {
			s->empty_n++;
		} else {
			close_empty_run(s);
			s->empty_first = index;
			s->empty_n = 1;
		}
	} else {
		close_empty_run(s);
		rec_hdr h = {REC_RESULT, 0, index, size};
		if (put(s, &h, sizeof h) < 0 || put(s, data, size) < 0)
			s->sink_err = 1;
	}
	free(data);
}

static int send_records(mpi_src *s)
{
	close_empty_run(s);
	if (s->sink_err)
		return scout__error(SCOUT_ENOMEM,
				    "pmap_chunks_mpi: cannot pack results for rank 0");
	if (!s->len || s->failed_mpi)
		return SCOUT_OK;
	if (s->len > MAX_MSG_BYTES)
		return scout__error(SCOUT_EINVAL,
				    "pmap_chunks_mpi: %zu bytes of results in one batch (at most "
				    "%u)",
				    s->len, MAX_MSG_BYTES);
	int e = MPI_Send(s->buf, (int)s->len, MPI_BYTE, 0, TAG_RECORDS, s->comm);
	s->len = 0;
	return e == MPI_SUCCESS ? SCOUT_OK : mpi_fail(s, e, "MPI_Send");
}

/* ---- receiving (rank 0) ---- */

static void note_failure(mpi_src *s, int from, int rc, const char *msg, size_t n)
{
	/* a real failure outranks an interruption */
	if (s->err_rc && !(s->err_rc == SCOUT_EINTERRUPTED && rc != SCOUT_EINTERRUPTED))
		return;
	s->err_rc = rc;
	snprintf(s->err_msg, sizeof s->err_msg, "rank %d: %.*s", from, (int)(n < 900 ? n : 900),
		 msg);
}

static int parse(mpi_src *s, int from, const char *p, size_t n)
{
	pmap_ctx *c = s->c;
	size_t pos = 0;
	while (pos < n) {
		rec_hdr h;
		if (n - pos < sizeof h)
			return scout__error(SCOUT_EIO, "pmap_chunks_mpi: rank %d sent a cut record",
					    from);
		memcpy(&h, p + pos, sizeof h);
		pos += sizeof h;
		uint64_t payload = h.type == REC_EMPTY ? 0 : h.size;
		if (payload > n - pos)
			return scout__error(SCOUT_EIO, "pmap_chunks_mpi: rank %d sent a cut record",
					    from);
		if (h.type == REC_RESULT && h.index < c->grid.count) {
			void *copy = malloc((size_t)payload);
			if (!copy)
				return scout__error(SCOUT_ENOMEM,
						    "pmap_chunks_mpi: cannot store a result of "
						    "%llu bytes",
						    (unsigned long long)payload);
			memcpy(copy, p + pos, (size_t)payload);
			scout__pmap_finish(c, (size_t)h.index, copy, (size_t)payload);
		} else if (h.type == REC_EMPTY && h.index <= c->grid.count &&
			   h.size <= c->grid.count - h.index) {
			for (uint64_t i = 0; i < h.size; i++)
				scout__pmap_finish(c, (size_t)(h.index + i), NULL, 0);
		} else if (h.type == REC_DONE) {
			s->ndone++;
			if (h.status < 0)
				note_failure(s, from, h.status, p + pos, (size_t)payload);
		} else {
			return scout__error(SCOUT_EIO,
					    "pmap_chunks_mpi: rank %d sent a bad record (type %u, "
					    "chunk %llu)",
					    from, h.type, (unsigned long long)h.index);
		}
		pos += (size_t)payload;
	}
	return SCOUT_OK;
}

/* Receive and deliver every message that arrived. */
static int receive(mpi_src *s)
{
	for (;;) {
		int flag = 0;
		MPI_Status st;
		int e = MPI_Iprobe(MPI_ANY_SOURCE, TAG_RECORDS, s->comm, &flag, &st);
		if (e != MPI_SUCCESS)
			return mpi_fail(s, e, "MPI_Iprobe");
		if (!flag)
			return SCOUT_OK;
		int n = 0;
		MPI_Get_count(&st, MPI_BYTE, &n);
		char *p = malloc(n > 0 ? (size_t)n : 1);
		if (!p)
			return scout__error(SCOUT_ENOMEM, "pmap_chunks_mpi: out of memory");
		e = MPI_Recv(p, n, MPI_BYTE, st.MPI_SOURCE, TAG_RECORDS, s->comm,
			     MPI_STATUS_IGNORE);
		s->nreceived++;
		int rc = e == MPI_SUCCESS ? parse(s, st.MPI_SOURCE, p, (size_t)n)
					  : mpi_fail(s, e, "MPI_Recv");
		free(p);
		if (rc < 0)
			return rc;
	}
}

/* ---- poll ---- */

static int src_poll(pmap_source *base)
{
	mpi_src *s = (mpi_src *)base;
	int busy = s->fetching || s->len > 0, received = s->nreceived;
	/* a batch for each worker waiting for one, and SPARE more */
	for (;;) {
		size_t b;
		int got = fetch_test(s, &b);
		pthread_mutex_lock(&s->mu);
		int want = s->waiting + SPARE - s->qlen - got > 0 &&
			   s->qlen + got < s->c->nb_workers + SPARE && !s->exhausted && !s->stopped;
		busy |= s->waiting > 0;
		pthread_mutex_unlock(&s->mu);
		if (want)
			fetch_start(s);
		busy |= got || want;
		if (!got)
			break;
		pthread_mutex_lock(&s->mu);
		s->queue[(s->qhead + s->qlen) % (s->c->nb_workers + SPARE)] = b;
		s->qlen++;
		pthread_cond_signal(&s->cv);
		pthread_mutex_unlock(&s->mu);
	}
	int rc;
	if (s->rank == 0) {
		if ((rc = receive(s)) < 0)
			return rc;
		if (s->err_rc)
			return scout__error(s->err_rc, "%s", s->err_msg);
	} else if ((rc = send_records(s)) < 0) {
		return rc;
	}
	/*
	 * Poll every POLL_MS while batches or records move, backing off to
	 * POLL_MS_IDLE while the workers are busy with batches they hold: each
	 * wake-up is a context switch on a core a worker needs (at 1 ms, 2 ranks
	 * made 67000 of them in an 18 s map). A worker that finishes a batch
	 * wakes the calling thread anyway, and the SPARE batch hides the wait.
	 */
	busy |= s->nreceived != received;
	s->base.poll_ms = busy                                 ? POLL_MS
			  : s->base.poll_ms * 2 < POLL_MS_IDLE ? s->base.poll_ms * 2
							       : POLL_MS_IDLE;
	if (s->failed_mpi)
		return scout__error(SCOUT_EIO, "pmap_chunks_mpi: MPI failed");
	return SCOUT_OK;
}

/* ---- the front ---- */

/* Agree on a failure before the map: 1 on every rank when some rank's rc < 0. */
static int any_failed(MPI_Comm comm, int rc)
{
	int mine = rc < 0, any = 1;
	MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_MAX, comm);
	return any;
}

int scout_pmap_chunks_mpi(scout_results **out, scout_chunk_fn f, void *payload, scout_array *arr,
			  const int64_t *chunks, const scout_pmap_options *opts, MPI_Comm comm)
{
	if (out)
		*out = NULL;
	int inited = 0, finalized = 0, level = MPI_THREAD_SINGLE;
	MPI_Initialized(&inited);
	MPI_Finalized(&finalized);
	if (!inited || finalized)
		return scout__error(SCOUT_EINVAL, "pmap_chunks_mpi: MPI is not initialised");
	MPI_Query_thread(&level);
	if (level < MPI_THREAD_FUNNELED)
		return scout__error(SCOUT_EINVAL,
				    "pmap_chunks_mpi: MPI was initialised without threads "
				    "(MPI_Init_thread with MPI_THREAD_FUNNELED at least)");

	mpi_src s;
	memset(&s, 0, sizeof s);
	if (MPI_Comm_dup(comm, &s.comm) != MPI_SUCCESS)
		return scout__error(SCOUT_EIO, "pmap_chunks_mpi: MPI_Comm_dup failed");
	MPI_Comm_rank(s.comm, &s.rank);
	MPI_Comm_size(s.comm, &s.size);

	pmap_ctx *c = NULL;
	int rc = scout__pmap_ctx_new(&c, f, payload, arr, chunks, opts, out != NULL);
	/* the grid and the workers of every rank */
	long long mine[3] = {rc < 0, c ? (long long)c->grid.count : 0,
			     c ? -(long long)c->grid.count : 0};
	long long all[3];
	MPI_Allreduce(mine, all, 3, MPI_LONG_LONG, MPI_MAX, s.comm);
	if (all[0] || all[1] != -all[2]) {
		if (rc >= 0)
			rc = scout__error(SCOUT_EINVAL,
					  all[0] ? "pmap_chunks_mpi: another rank rejected its "
						   "arguments"
						 : "pmap_chunks_mpi: the ranks' arrays or chunks "
						   "differ (%lld to %lld chunks)",
					  -all[2], all[1]);
		if (c)
			rc = scout__pmap_ctx_end(c, rc, NULL);
		MPI_Comm_free(&s.comm);
		return rc;
	}
	long long workers = c->nb_workers, total = 0;
	MPI_Allreduce(&workers, &total, 1, MPI_LONG_LONG, MPI_SUM, s.comm);
	/* rank 0's chunksize and whether results are wanted apply everywhere */
	unsigned long long shared[2] = {c->chunksize, (unsigned long long)c->need_data};
	if (s.rank == 0 && (!opts || opts->chunksize == 0))
		shared[0] = scout__pmap_auto_chunksize(c->grid.count, (size_t)total);
	MPI_Bcast(shared, 2, MPI_UNSIGNED_LONG_LONG, 0, s.comm);
	c->chunksize = (size_t)shared[0];
	c->need_data = (int)shared[1];
	if (s.rank > 0) {
		c->keep = 0;
		c->on_result = NULL;
		c->sink = sink;
		c->sink_self = &s;
	}
	s.c = c;
	s.base.take = src_take;
	s.base.poll = src_poll;
	s.base.stop = src_stop;
	s.base.poll_ms = POLL_MS;
	c->src = &s.base;
	pthread_mutex_init(&s.mu, NULL);
	pthread_cond_init(&s.cv, NULL);
	rc = scout__pmap_ctx_start(c, s.rank == 0 && c->progress_on ? stderr : NULL);
	s.queue = malloc(((size_t)c->nb_workers + SPARE) * sizeof *s.queue);
	if (rc == 0 && !s.queue)
		rc = scout__error(SCOUT_ENOMEM, "pmap_chunks_mpi: out of memory");

	/* the blocks' words, on rank 0 */
	uint64_t *counter = NULL;
	int have_win = 0;
	s.target = s.rank;
	s.dry = calloc((size_t)s.size, 1);
	s.words = malloc(2 * (size_t)s.size * sizeof *s.words); /* a scan's, then STOP_WORDs */
	if (rc == 0 && (!s.dry || !s.words))
		rc = scout__error(SCOUT_ENOMEM, "pmap_chunks_mpi: out of memory");
	if (rc == 0 && c->nbatches / (uint64_t)s.size >= MAX_BLOCK - 1)
		rc = scout__error(SCOUT_EINVAL,
				  "pmap_chunks_mpi: %zu batches on %d ranks is more than %llu per "
				  "rank (give a larger chunksize)",
				  c->nbatches, s.size, (unsigned long long)MAX_BLOCK - 2);
	if (!any_failed(s.comm, rc)) {
		int e = MPI_Win_allocate(s.rank == 0 ? (MPI_Aint)s.size * (MPI_Aint)sizeof(uint64_t)
						     : 0,
					 sizeof(uint64_t), MPI_INFO_NULL, s.comm, &counter, &s.win);
		if (e == MPI_SUCCESS) {
			have_win = 1;
			if (s.rank == 0)
				memset(counter, 0, (size_t)s.size * sizeof *counter);
			MPI_Barrier(s.comm);
			e = MPI_Win_lock_all(MPI_MODE_NOCHECK, s.win);
		}
		if (e != MPI_SUCCESS)
			rc = mpi_fail(&s, e, "MPI_Win_allocate");
	} else if (rc >= 0) {
		rc = scout__error(SCOUT_ENOMEM, "pmap_chunks_mpi: another rank ran out of memory");
	}
	if (have_win && any_failed(s.comm, rc) && rc >= 0)
		rc = scout__error(SCOUT_EIO, "pmap_chunks_mpi: another rank could not start");

	if (rc >= 0 && have_win) {
		/* run this rank's share */
		rc = c->grid.count ? scout__pmap_run(c) : SCOUT_OK;
		if (rc < 0)
			src_stop(&s.base);
		char msg[1024];
		snprintf(msg, sizeof msg, "%s", rc < 0 ? scout_last_error() : "");
		if (s.rank > 0) {
			/* what is left, then DONE with this rank's status */
			int src_rc = rc >= 0 ? send_records(&s) : SCOUT_OK;
			if (src_rc < 0) {
				rc = src_rc;
				snprintf(msg, sizeof msg, "%s", scout_last_error());
			}
			s.len = 0;
			s.sink_err = 0;
			rec_hdr h = {REC_DONE, rc < 0 ? rc : 0, 0, rc < 0 ? strlen(msg) : 0};
			if (put(&s, &h, sizeof h) < 0 || put(&s, msg, (size_t)h.size) < 0)
				s.sink_err = 1;
			if (send_records(&s) < 0)
				s.failed_mpi = 1;
		} else {
			/* rank 0: its own status, then everybody else's */
			s.ndone++; /* others' DONE may have come during the run */
			if (rc < 0 && !(rc == s.err_rc && !strncmp(msg, s.err_msg, strlen(msg))))
				note_failure(&s, 0, rc, msg, strlen(msg));
			while (s.ndone < s.size && !s.failed_mpi) {
				int r = receive(&s);
				if (r < 0 && !s.err_rc) {
					note_failure(&s, 0, r, scout_last_error(),
						     strlen(scout_last_error()));
					src_stop(&s.base);
				}
				if (s.err_rc)
					src_stop(&s.base);
				if (s.ndone < s.size)
					sleep_us(1000); /* others finish their last batches: do not
							   steal their core */
				scout__progress_update(&c->progress, c->completed);
			}
		}
		/* the outcome, from rank 0 */
		struct {
			int rc;
			char msg[1100];
		} outcome = {0, ""};
		if (s.rank == 0) {
			if (s.err_rc) {
				outcome.rc = s.err_rc == SCOUT_EINTERRUPTED ? SCOUT_EINTERRUPTED
									    : SCOUT_EWORKER;
				snprintf(outcome.msg, sizeof outcome.msg,
					 "pmap_chunks_mpi: %.1024s", s.err_msg);
			} else if (c->completed != c->grid.count) {
				outcome.rc = SCOUT_EIO;
				snprintf(outcome.msg, sizeof outcome.msg,
					 "pmap_chunks_mpi: %zu of %zu chunks reported",
					 c->completed, c->grid.count);
			}
		}
		MPI_Bcast(&outcome, (int)sizeof outcome, MPI_BYTE, 0, s.comm);
		rc = outcome.rc < 0 ? scout__error(outcome.rc, "%s", outcome.msg) : SCOUT_OK;
	}
	if (s.fetching) /* stopped with a fetch under way */
		MPI_Wait(&s.req, MPI_STATUS_IGNORE);
	if (have_win) {
		MPI_Win_unlock_all(s.win);
		MPI_Win_free(&s.win);
	}
	MPI_Comm_free(&s.comm);
	c->src = NULL;
	c->sink = NULL;
	rc = scout__pmap_ctx_end(c, rc, s.rank == 0 ? out : NULL);
	pthread_mutex_destroy(&s.mu);
	pthread_cond_destroy(&s.cv);
	free(s.queue);
	free(s.dry);
	free(s.words);
	free(s.buf);
	return rc;
}
