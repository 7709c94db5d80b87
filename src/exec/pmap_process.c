/*
 * The process runner: fork nb_workers children that share nothing with the
 * parent but what fork copies (and MAP_SHARED mappings such as shm arrays).
 *
 * Each child has two pipes. The parent writes tasks (first chunk, count) to
 * the task pipe, keeping at most two batches outstanding per child, and
 * poll()s the result pipes. A child runs f on each chunk of a task, in order,
 * and streams back records: a RESULT (chunk index, size, then the bytes), an
 * EMPTY for a run of consecutive chunks with empty results (results are not
 * sent at all when nobody wants them), a BATCH_DONE after each task, or an ERROR
 * (the message of f's failure) after which it exits. Records are buffered in
 * the child and written in large blocks; big results go straight to the pipe.
 *
 * Before running a chunk, a child stores its index in a small MAP_SHARED
 * table, so when a child dies (signal, exit, SIGKILL) the parent knows which
 * chunk it was processing, even though its buffered records are lost.
 * Children leave with _exit(): the parent's atexit handlers (such as the shm
 * cleanup) never run in them. The parent flushes stdio before forking, so a
 * child flushes only what f printed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/workpool.h"
#include "pmap_impl.h"

enum { REC_RESULT = 1, REC_BATCH_DONE = 2, REC_ERROR = 3, REC_EMPTY = 4 };

typedef struct rec_hdr {
	uint32_t type;
	int32_t status; /* REC_ERROR: the error code f returned */
	uint64_t index; /* chunk index (REC_BATCH_DONE, REC_EMPTY: the first chunk) */
	uint64_t size;  /* payload bytes (REC_BATCH_DONE, REC_EMPTY: number of chunks) */
} rec_hdr;

typedef struct task_msg {
	uint64_t first;
	uint64_t n;
} task_msg;

/* Writes larger than this bypass the child's buffer. */
#define CHILD_BUF 65536

typedef struct pworker {
	pid_t pid;
	int task_fd; /* parent's write end, -1 when closed */
	int res_fd;  /* parent's read end, -1 when closed */
	int reaped;
	int outstanding; /* batches sent and not reported done */
	char *buf;       /* received bytes not yet parsed */
	size_t len, cap;
} pworker;

typedef struct ppool {
	pmap_ctx *c;
	pworker *w;
	int nw;
	size_t nbatches, next_batch;
	int64_t *current; /* shared: index + 1 of the chunk each child is running */
	pid_t parent;
	int failed;
	int src_done; /* c->src gave its last batch */
} ppool;

/* ---- plumbing ---- */

static int write_full(int fd, const void *p, size_t n)
{
	const char *s = p;
	while (n) {
		ssize_t k = write(fd, s, n);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += k;
		n -= (size_t)k;
	}
	return 0;
}

/* 1 on a full read, 0 on end of file, -1 on error */
static int read_full(int fd, void *p, size_t n)
{
	char *s = p;
	size_t got = 0;
	while (got < n) {
		ssize_t k = read(fd, s + got, n - got);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (k == 0)
			return got ? -1 : 0;
		got += (size_t)k;
	}
	return 1;
}

/* ---- the child ---- */

typedef struct cbuf {
	int fd;
	char *p;
	size_t len;
} cbuf;

static void cbuf_flush(cbuf *b)
{
	if (b->len && write_full(b->fd, b->p, b->len) < 0)
		_exit(120); /* the parent is gone */
	b->len = 0;
}

static void cbuf_put(cbuf *b, const void *data, size_t n)
{
	if (b->len + n > CHILD_BUF)
		cbuf_flush(b);
	if (n > CHILD_BUF) {
		if (write_full(b->fd, data, n) < 0)
			_exit(120);
		return;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void cbuf_record(cbuf *b, uint32_t type, int32_t status, uint64_t index, const void *data,
			uint64_t size)
{
	rec_hdr h = {type, status, index, size};
	cbuf_put(b, &h, sizeof h);
	if (data && size)
		cbuf_put(b, data, (size_t)size);
}

static _Noreturn void child_main(ppool *pp, int w, int task_fd, int res_fd)
{
	pmap_ctx *c = pp->c;
	/* die with the parent, even if it is killed while f runs for a long time */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != pp->parent)
		_exit(122);
	scout__progress_init(&c->progress, NULL, NULL, 0); /* never draw in a child */
	scout__workpool_mark_worker(); /* box I/O of f runs inline: every core is busy */
	scout__array_after_fork(c->arr);
	cbuf b = {res_fd, malloc(CHILD_BUF), 0};
	if (!b.p)
		_exit(121);
	scout_result r = {0};
	int64_t start[SCOUT_MAX_NDIM];
	for (;;) {
		task_msg t;
		if (read_full(task_fd, &t, sizeof t) != 1)
			break; /* end of work (the parent closed the pipe) */
		scout__pmap_start(&c->grid, (size_t)t.first, start);
		uint64_t empty_first = 0, empty_n = 0; /* run of empty results */
		for (uint64_t i = t.first; i < t.first + t.n; i++) {
			__atomic_store_n(&pp->current[w], (int64_t)i + 1, __ATOMIC_RELAXED);
			int rc = scout__pmap_call(c, start, &r);
			if (rc < 0) {
				const char *msg = scout_last_error();
				cbuf_record(&b, REC_ERROR, rc, i, msg, strlen(msg));
				cbuf_flush(&b);
				fflush(NULL);
				_exit(0);
			}
			if (c->need_data && r.size == 0) {
				if (empty_n++ == 0)
					empty_first = i;
			} else if (c->need_data) {
				if (empty_n)
					cbuf_record(&b, REC_EMPTY, 0, empty_first, NULL, empty_n);
				empty_n = 0;
				cbuf_record(&b, REC_RESULT, 0, i, r.data, r.size);
			}
			scout__pmap_next(&c->grid, start);
		}
		if (empty_n)
			cbuf_record(&b, REC_EMPTY, 0, empty_first, NULL, empty_n);
		cbuf_record(&b, REC_BATCH_DONE, 0, t.first, NULL, t.n);
		cbuf_flush(&b);
	}
	/* what f printed (the parent flushed its own output before the fork) */
	fflush(NULL);
	_exit(0);
}

/* ---- the parent ---- */

static void send_task(ppool *pp, pworker *w)
{
	pmap_ctx *c = pp->c;
	if (w->task_fd < 0 || pp->src_done)
		return;
	size_t b, first, n;
	if (c->src) {
		if (!c->src->take(c->src, &b, 1)) {
			pp->src_done = 1;
			return;
		}
	} else if (pp->next_batch < pp->nbatches) {
		b = pp->next_batch;
	} else {
		return;
	}
	scout__pmap_batch_range(c, b, &first, &n);
	task_msg t = {first, n};
	/* at most two 16-byte tasks are in a pipe: this never blocks */
	if (write_full(w->task_fd, &t, sizeof t) == 0) {
		if (!c->src)
			pp->next_batch++;
		w->outstanding++;
	}
	/* on failure (the child died) the end of its result pipe reports it */
}

static void describe_chunk(ppool *pp, int wi, char *buf, size_t bufsize)
{
	int64_t cur = __atomic_load_n(&pp->current[wi], __ATOMIC_RELAXED);
	if (cur <= 0) {
		snprintf(buf, bufsize, "before its first chunk");
		return;
	}
	int64_t start[SCOUT_MAX_NDIM];
	char coords[512];
	scout__pmap_start(&pp->c->grid, (size_t)(cur - 1), start);
	snprintf(buf, bufsize, "while processing chunk %s",
		 scout__fmt_coords(coords, sizeof coords, pp->c->grid.ndim, start));
}

/* Wait for a child that closed its result pipe; SIGKILL it if it lingers. */
static int reap(pworker *w)
{
	int st = 0;
	for (int i = 0; i < 200; i++) { /* up to 2 s */
		pid_t p = waitpid(w->pid, &st, WNOHANG);
		if (p == w->pid || (p < 0 && errno != EINTR)) {
			w->reaped = 1;
			return st;
		}
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	kill(w->pid, SIGKILL);
	while (waitpid(w->pid, &st, 0) < 0 && errno == EINTR)
		;
	w->reaped = 1;
	return st;
}

static int worker_died(ppool *pp, int wi)
{
	pworker *w = &pp->w[wi];
	char where[600];
	describe_chunk(pp, wi, where, sizeof where);
	int st = reap(w);
	pp->failed = 1;
	if (WIFSIGNALED(st))
		return scout__error(SCOUT_EWORKER,
				    "pmap_chunks: worker %d (pid %ld) was killed by signal %d (%s) "
				    "%s",
				    wi, (long)w->pid, WTERMSIG(st), strsignal(WTERMSIG(st)), where);
	return scout__error(SCOUT_EWORKER,
			    "pmap_chunks: worker %d (pid %ld) exited with status %d %s", wi,
			    (long)w->pid, WIFEXITED(st) ? WEXITSTATUS(st) : -1, where);
}

/* Parse the complete records in w->buf. */
static int parse(ppool *pp, int wi)
{
	pmap_ctx *c = pp->c;
	pworker *w = &pp->w[wi];
	size_t pos = 0;
	int rc = SCOUT_OK;
	while (w->len - pos >= sizeof(rec_hdr)) {
		rec_hdr h;
		memcpy(&h, w->buf + pos, sizeof h);
		int counted = h.type == REC_BATCH_DONE || h.type == REC_EMPTY;
		uint64_t payload = counted ? 0 : h.size;
		if (counted && (h.index > c->grid.count || h.size > c->grid.count - h.index)) {
			pp->failed = 1;
			rc = scout__error(
			    SCOUT_EWORKER,
			    "pmap_chunks: worker %d sent a record for chunks %llu + %llu "
			    "of %zu",
			    wi, (unsigned long long)h.index, (unsigned long long)h.size,
			    c->grid.count);
			break;
		}
		if (payload > SIZE_MAX - sizeof h - pos) {
			pp->failed = 1;
			rc = scout__error(SCOUT_EWORKER,
					  "pmap_chunks: worker %d sent a record "
					  "of %llu bytes",
					  wi, (unsigned long long)payload);
			break;
		}
		if (w->len - pos - sizeof h < payload) {
			/* incomplete: make room for the whole record */
			size_t need = sizeof h + (size_t)payload;
			if (need > w->cap) {
				char *p = realloc(w->buf, need);
				if (!p) {
					pp->failed = 1;
					rc = scout__error(SCOUT_ENOMEM,
							  "pmap_chunks: cannot receive a "
							  "result of %llu bytes",
							  (unsigned long long)payload);
					break;
				}
				w->buf = p;
				w->cap = need;
			}
			break;
		}
		const char *data = w->buf + pos + sizeof h;
		if (h.type == REC_RESULT) {
			if (h.index >= c->grid.count) {
				pp->failed = 1;
				rc = scout__error(SCOUT_EWORKER,
						  "pmap_chunks: worker %d sent a result for chunk "
						  "%llu of %zu",
						  wi, (unsigned long long)h.index, c->grid.count);
				break;
			}
			void *copy = NULL;
			if (payload) {
				copy = malloc((size_t)payload);
				if (!copy) {
					pp->failed = 1;
					rc = scout__error(SCOUT_ENOMEM,
							  "pmap_chunks: cannot store a result "
							  "of %llu bytes",
							  (unsigned long long)payload);
					break;
				}
				memcpy(copy, data, (size_t)payload);
			}
			scout__pmap_finish(c, (size_t)h.index, copy, (size_t)payload);
		} else if (h.type == REC_EMPTY) {
			for (uint64_t i = 0; i < h.size; i++)
				scout__pmap_finish(c, (size_t)(h.index + i), NULL, 0);
		} else if (h.type == REC_BATCH_DONE) {
			w->outstanding--;
			if (!c->need_data)
				for (uint64_t i = 0; i < h.size; i++)
					scout__pmap_finish(c, (size_t)(h.index + i), NULL, 0);
			send_task(pp, w);
		} else if (h.type == REC_ERROR) {
			pp->failed = 1;
			rc = scout__error(SCOUT_EWORKER, "pmap_chunks: worker %d (pid %ld): %.*s",
					  wi, (long)w->pid, (int)(payload < 900 ? payload : 900),
					  data);
			break;
		} else {
			pp->failed = 1;
			rc = scout__error(SCOUT_EWORKER,
					  "pmap_chunks: worker %d sent a record of unknown type %u",
					  wi, (unsigned)h.type);
			break;
		}
		pos += sizeof h + (size_t)payload;
	}
	if (pos) {
		memmove(w->buf, w->buf + pos, w->len - pos);
		w->len -= pos;
	}
	return rc;
}

static int receive(ppool *pp, int wi)
{
	pworker *w = &pp->w[wi];
	if (w->cap - w->len < CHILD_BUF) {
		size_t ncap = w->len + 2 * CHILD_BUF;
		char *p = realloc(w->buf, ncap);
		if (!p) {
			pp->failed = 1;
			return scout__error(SCOUT_ENOMEM, "pmap_chunks: out of memory");
		}
		w->buf = p;
		w->cap = ncap;
	}
	ssize_t k = read(w->res_fd, w->buf + w->len, w->cap - w->len);
	if (k < 0)
		return errno == EINTR || errno == EAGAIN ? SCOUT_OK : worker_died(pp, wi);
	if (k == 0) {
		/* the child is gone before the map finished */
		close(w->res_fd);
		w->res_fd = -1;
		return worker_died(pp, wi);
	}
	w->len += (size_t)k;
	return parse(pp, wi);
}

/* Every chunk of this map that runs here is done. */
static int local_done(const ppool *pp)
{
	if (!pp->c->src)
		return pp->c->completed >= pp->c->grid.count;
	if (!pp->src_done)
		return 0;
	for (int i = 0; i < pp->nw; i++)
		if (pp->w[i].outstanding > 0)
			return 0;
	return 1;
}

/*
 * After a failure or a cancel: SIGTERM every child still running, give them
 * STOP_GRACE_MS to exit (a child whose SIGTERM handler sets a flag its chunk
 * function polls stops cleanly between two writes), then SIGKILL the rest.
 */
#define STOP_GRACE_MS 200

static void stop_workers(ppool *pp)
{
	int left = 0;
	for (int i = 0; i < pp->nw; i++) {
		pworker *w = &pp->w[i];
		if (w->pid > 0 && !w->reaped) {
			kill(w->pid, SIGTERM);
			left++;
		}
	}
	double deadline = scout__now() + STOP_GRACE_MS / 1000.0;
	while (left > 0 && scout__now() < deadline) {
		struct timespec ts = {0, 2 * 1000 * 1000};
		nanosleep(&ts, NULL);
		for (int i = 0; i < pp->nw; i++) {
			pworker *w = &pp->w[i];
			if (w->pid <= 0 || w->reaped)
				continue;
			int st;
			pid_t p = waitpid(w->pid, &st, WNOHANG);
			if (p == w->pid || (p < 0 && errno == ECHILD)) {
				w->reaped = 1;
				left--;
			}
		}
	}
	for (int i = 0; i < pp->nw; i++) {
		pworker *w = &pp->w[i];
		if (w->pid > 0 && !w->reaped)
			kill(w->pid, SIGKILL);
	}
}

static void shutdown_workers(ppool *pp)
{
	/*
	 * Close the pipes first: on success the end of the task pipe is the
	 * children's end of work; after a failure a child blocked writing
	 * results gets EPIPE instead of waiting for a reader.
	 */
	for (int i = 0; i < pp->nw; i++) {
		pworker *w = &pp->w[i];
		if (w->task_fd >= 0)
			close(w->task_fd);
		w->task_fd = -1;
		if (pp->failed && w->res_fd >= 0) {
			close(w->res_fd);
			w->res_fd = -1;
		}
	}
	if (pp->failed)
		stop_workers(pp);
	for (int i = 0; i < pp->nw; i++) {
		pworker *w = &pp->w[i];
		if (w->res_fd >= 0)
			close(w->res_fd);
		w->res_fd = -1;
		if (w->pid > 0 && !w->reaped) {
			int st;
			while (waitpid(w->pid, &st, 0) < 0 && errno == EINTR)
				;
			w->reaped = 1;
		}
		free(w->buf);
		w->buf = NULL;
	}
}

int scout__pmap_run_processes(pmap_ctx *c)
{
	ppool pp;
	memset(&pp, 0, sizeof pp);
	pp.c = c;
	pp.nw = c->nb_workers;
	pp.parent = getpid();
	pp.nbatches = c->nbatches;
	pp.w = calloc((size_t)pp.nw, sizeof *pp.w);
	if (!pp.w)
		return scout__error(SCOUT_ENOMEM, "pmap_chunks: out of memory");
	size_t table = (size_t)pp.nw * sizeof *pp.current;
	pp.current = mmap(NULL, table, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (pp.current == MAP_FAILED) {
		free(pp.w);
		return scout__error(SCOUT_ENOMEM, "pmap_chunks: mmap: %s", strerror(errno));
	}
	for (int i = 0; i < pp.nw; i++)
		pp.w[i].task_fd = pp.w[i].res_fd = -1;

	/* A task written to a dead child must give EPIPE, not kill the caller. */
	sigset_t pipe_set, old_mask;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old_mask);

	int rc = SCOUT_OK;
	fflush(NULL); /* children must not inherit (and repeat) pending output */
	for (int i = 0; i < pp.nw; i++) {
		int tp[2], rp[2];
		if (pipe2(tp, O_CLOEXEC) < 0) {
			rc = scout__error(SCOUT_EIO, "pmap_chunks: pipe: %s", strerror(errno));
			break;
		}
		if (pipe2(rp, O_CLOEXEC) < 0) {
			rc = scout__error(SCOUT_EIO, "pmap_chunks: pipe: %s", strerror(errno));
			close(tp[0]);
			close(tp[1]);
			break;
		}
		pid_t pid = fork();
		if (pid < 0) {
			rc = scout__error(SCOUT_EIO, "pmap_chunks: fork: %s", strerror(errno));
			close(tp[0]);
			close(tp[1]);
			close(rp[0]);
			close(rp[1]);
			break;
		}
		if (pid == 0) {
			pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
			for (int j = 0; j < i; j++) {
				close(pp.w[j].task_fd);
				close(pp.w[j].res_fd);
			}
			close(tp[1]);
			close(rp[0]);
			child_main(&pp, i, tp[0], rp[1]);
		}
		close(tp[0]);
		close(rp[1]);
		pp.w[i].pid = pid;
		pp.w[i].task_fd = tp[1];
		pp.w[i].res_fd = rp[0];
	}
	if (rc < 0)
		pp.failed = 1;

	if (!pp.failed && scout__pmap_cancelled(c)) {
		pp.failed = 1;
		rc = scout__pmap_interrupted(c);
	}
	if (!pp.failed) {
		for (int round = 0; round < 2; round++)
			for (int i = 0; i < pp.nw; i++)
				send_task(&pp, &pp.w[i]);
	}

	struct pollfd *fds = calloc((size_t)pp.nw, sizeof *fds);
	int *idx = calloc((size_t)pp.nw, sizeof *idx);
	if (!fds || !idx) {
		pp.failed = 1;
		rc = scout__error(SCOUT_ENOMEM, "pmap_chunks: out of memory");
	}
	/*
	 * poll() also returns early (EINTR) when a signal handler runs in this
	 * thread; the timeout covers a flag set from another thread.
	 */
	int timeout = c->src            ? c->src->poll_ms
		      : c->cancel       ? PMAP_CANCEL_POLL_MS
		      : c->progress.out ? 100
					: -1;
	while (!pp.failed && !local_done(&pp)) {
		if (scout__pmap_cancelled(c)) {
			pp.failed = 1;
			rc = scout__pmap_interrupted(c);
			break;
		}
		int n = 0;
		for (int i = 0; i < pp.nw; i++) {
			if (pp.w[i].res_fd < 0)
				continue;
			fds[n].fd = pp.w[i].res_fd;
			fds[n].events = POLLIN;
			fds[n].revents = 0;
			idx[n++] = i;
		}
		if (n == 0) {
			pp.failed = 1;
			rc = scout__error(SCOUT_EWORKER, "pmap_chunks: no worker left");
			break;
		}
		if (c->src)
			timeout = c->src->poll_ms; /* the source may change it in poll() */
		int k = poll(fds, (nfds_t)n, timeout);
		if (k < 0 && errno != EINTR) {
			pp.failed = 1;
			rc = scout__error(SCOUT_EIO, "pmap_chunks: poll: %s", strerror(errno));
			break;
		}
		for (int j = 0; j < n && k > 0 && !pp.failed; j++) {
			if (!fds[j].revents)
				continue;
			int r = receive(&pp, idx[j]);
			if (r < 0)
				rc = r;
		}
		if (!pp.failed && c->src && (rc = c->src->poll(c->src)) < 0)
			pp.failed = 1;
		scout__progress_update(&c->progress, c->completed);
	}
	if (pp.failed && c->src)
		c->src->stop(c->src);
	free(fds);
	free(idx);

	shutdown_workers(&pp);

	/* Drop a SIGPIPE our writes may have raised, then restore the mask. */
	if (!sigismember(&old_mask, SIGPIPE)) {
		sigset_t pending;
		sigpending(&pending);
		if (sigismember(&pending, SIGPIPE)) {
			struct timespec zero = {0, 0};
			sigtimedwait(&pipe_set, NULL, &zero);
		}
	}
	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);

	munmap(pp.current, table);
	free(pp.w);
	return rc;
}
