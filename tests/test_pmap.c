/*
 * pmap_chunks: ordered / unordered / chunksize / progress, results of any size
 * (0 to 1 MiB) through every runner, writes into shared memory, errors in f,
 * crashing and killed workers (SCOUT_EWORKER naming the chunk, no hang, no
 * zombie, no descriptor leak), cancel (SCOUT_EINTERRUPTED soon after the
 * flag, workers stopped). Expected values are computed directly from the
 * array in the test.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "core/internal.h"
#include "exec/progress.h"
#include "array/array_impl.h"
#include "array/memory.h"

#define H       37
#define W       23
#define CH      8
#define CW      5
#define NCY     ((H + CH - 1) / CH) /* 5 */
#define NCX     ((W + CW - 1) / CW) /* 5 */
#define NCHUNKS (NCY * NCX)

static const int64_t shape2[2] = {H, W};
static const int64_t chunks2[2] = {CH, CW};
static uint32_t ref[H * W]; /* the array's elements */

typedef struct sum_result {
	int64_t start[2];
	uint64_t sum;
	uint64_t n;
} sum_result;

enum fail_mode { FAIL_NONE, FAIL_ERROR, FAIL_SEGV, FAIL_ABORT, FAIL_EXIT, FAIL_KILL };

typedef struct job {
	enum fail_mode fail;
	int64_t fail_start[2];
	atomic_int calls;
	int sleep_us;
} job;

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* the sum of a chunk, straight from ref */
static sum_result expected_sum(size_t index)
{
	sum_result r = {{(int64_t)(index / NCX) * CH, (int64_t)(index % NCX) * CW}, 0, 0};
	for (int64_t y = r.start[0]; y < min64(r.start[0] + CH, H); y++)
		for (int64_t x = r.start[1]; x < min64(r.start[1] + CW, W); x++) {
			r.sum += ref[y * W + x];
			r.n++;
		}
	return r;
}

static void maybe_fail(job *j, const int64_t *start)
{
	if (j->fail == FAIL_NONE || start[0] != j->fail_start[0] || start[1] != j->fail_start[1])
		return;
	switch (j->fail) {
	case FAIL_SEGV:
		signal(SIGSEGV, SIG_DFL); /* not a sanitizer's handler */
		raise(SIGSEGV);
		break;
	case FAIL_ABORT:
		abort();
	case FAIL_EXIT:
		_exit(3);
	case FAIL_KILL:
		kill(getpid(), SIGKILL);
		break;
	default:
		break;
	}
}

static int f_sum(scout_array *arr, const int64_t *start, const int64_t *chunks,
		 scout_result *result, void *payload)
{
	job *j = payload;
	if (j) {
		atomic_fetch_add(&j->calls, 1);
		if (j->sleep_us)
			usleep((useconds_t)j->sleep_us);
		if (j->fail == FAIL_ERROR && start[0] == j->fail_start[0] &&
		    start[1] == j->fail_start[1]) {
			return scout__error(SCOUT_EFORMAT, "bad chunk, as asked");
		}
		maybe_fail(j, start);
	}
	const int64_t *shape = scout_array_shape(arr);
	int64_t stop[2] = {min64(start[0] + chunks[0], shape[0]),
			   min64(start[1] + chunks[1], shape[1])};
	sum_result r = {{start[0], start[1]}, 0, 0};
	r.n = (uint64_t)((stop[0] - start[0]) * (stop[1] - start[1]));
	uint32_t *buf = malloc(r.n * sizeof *buf + 1);
	if (!buf)
		return scout__error(SCOUT_ENOMEM, "test: out of memory");
	int rc = scout_extract_box(buf, arr, start, stop);
	for (uint64_t i = 0; rc == 0 && i < r.n; i++)
		r.sum += buf[i];
	free(buf);
	return rc < 0 ? rc : scout_result_set(result, &r, sizeof r);
}

/* ---- on_result recording ---- */

typedef struct seen {
	size_t calls;
	size_t order[4096];      /* indices in call order */
	unsigned char hit[4096]; /* times each index was seen */
	int data_ok;             /* every payload matched the expected sum */
} seen;

static void on_sum(size_t index, const void *data, size_t size, void *payload)
{
	seen *s = payload;
	if (s->calls < 4096)
		s->order[s->calls] = index;
	s->calls++;
	if (index < 4096)
		s->hit[index]++;
	sum_result e = expected_sum(index);
	if (size != sizeof e || !data || memcmp(data, &e, sizeof e) != 0)
		s->data_ok = 0;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return -1;
	int n = 0;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void check_no_children(void)
{
	int st;
	errno = 0;
	pid_t p = waitpid(-1, &st, WNOHANG);
	CHECK(p == -1 && errno == ECHILD);
}

static scout_array *make_array(void)
{
	scout_array *arr = NULL;
	CHECK_OK(scout_array_new(&arr, 2, shape2, SCOUT_UINT32));
	if (arr)
		memcpy(scout_array_data(arr), ref, sizeof ref);
	return arr;
}

static void check_sums(const scout_results *res)
{
	CHECK(scout_results_count(res) == NCHUNKS);
	int ok = 1;
	for (size_t i = 0; i < NCHUNKS; i++) {
		size_t size = 0;
		const void *d = scout_results_get(res, i, &size);
		sum_result e = expected_sum(i);
		ok &= size == sizeof e && d && memcmp(d, &e, sizeof e) == 0;
	}
	CHECK(ok);
	CHECK(scout_results_get(res, NCHUNKS, NULL) == NULL);
}

static void test_sums(void)
{
	scout_array *arr = make_array();
	if (!arr)
		return;
	const int nws[] = {1, 3, 0};
	const size_t css[] = {0, 1, 4, 100};
	for (int kind = 0; kind < 2; kind++)
		for (size_t a = 0; a < 3; a++)
			for (size_t b = 0; b < 4; b++)
				for (int unordered = 0; unordered < 2; unordered++) {
					int fds = count_fds();
					scout_pmap_options o = SCOUT_PMAP_OPTIONS_INIT;
					o.workers =
					    kind ? SCOUT_WORKERS_PROCESSES : SCOUT_WORKERS_THREADS;
					o.nb_workers = nws[a];
					o.chunksize = css[b];
					o.unordered = unordered;
					seen *s = calloc(1, sizeof *s);
					s->data_ok = 1;
					o.on_result = on_sum;
					o.on_result_payload = s;
					scout_results *res = NULL;
					CHECK_OK(
					    scout_pmap_chunks(&res, f_sum, NULL, arr, chunks2, &o));
					check_sums(res);
					scout_results_free(res);
					CHECK(s->calls == NCHUNKS && s->data_ok);
					int once = 1, inorder = 1;
					for (size_t i = 0; i < NCHUNKS; i++) {
						once &= s->hit[i] == 1;
						inorder &= s->order[i] == i;
					}
					CHECK(once);
					if (!unordered)
						CHECK(inorder);
					free(s);
					CHECK(count_fds() == fds);
					check_no_children();
				}
	/* out == NULL: results only streamed */
	for (int kind = 0; kind < 2; kind++) {
		scout_pmap_options o = SCOUT_PMAP_OPTIONS_INIT;
		o.workers = kind ? SCOUT_WORKERS_PROCESSES : SCOUT_WORKERS_THREADS;
		o.nb_workers = 2;
		seen *s = calloc(1, sizeof *s);
		s->data_ok = 1;
		o.on_result = on_sum;
		o.on_result_payload = s;
		CHECK_OK(scout_pmap_chunks(NULL, f_sum, NULL, arr, chunks2, &o));
		CHECK(s->calls == NCHUNKS && s->data_ok);
		free(s);
		/* nobody wants results: f still runs on every chunk */
		job j = {0};
		o.on_result = NULL;
		CHECK_OK(scout_pmap_chunks(NULL, f_sum, &j, arr, chunks2, &o));
		if (!kind)
			CHECK(atomic_load(&j.calls) == NCHUNKS);
	}
	/* NULL chunks: the array's chunks, i.e. the whole array: one result */
	scout_results *res = NULL;
	CHECK_OK(scout_pmap_chunks(&res, f_sum, NULL, arr, NULL, NULL));
	CHECK(scout_results_count(res) == 1);
	size_t size = 0;
	const sum_result *r = scout_results_get(res, 0, &size);
	uint64_t total = 0;
	for (int i = 0; i < H * W; i++)
		total += ref[i];
	CHECK(size == sizeof *r && r && r->sum == total && r->n == H * W);
	scout_results_free(res);
	scout_array_free(arr);
}

/* ---- results of varying sizes ---- */

static size_t size_of_chunk(size_t i)
{
	if (i % 4 == 0)
		return 0;
	if (i == 5)
		return 1 << 20; /* 1 MiB */
	return i * 13 + 1;
}

static unsigned char byte_of(size_t i, size_t k)
{
	return (unsigned char)((i * 31 + k * 7) & 0xff);
}

static int f_sizes(scout_array *arr, const int64_t *start, const int64_t *chunks,
		   scout_result *result, void *payload)
{
	(void)chunks;
	(void)payload;
	size_t i = (size_t)(start[0] / CH * NCX + start[1] / CW);
	(void)arr;
	size_t n = size_of_chunk(i);
	/* a later scout_result_set() replaces an earlier one */
	if (i % 3 == 0) {
		int rc = scout_result_set(result, "an earlier result", 17);
		if (rc < 0)
			return rc;
	}
	if (n == 0)
		/* chunks 0, 8, ...: no result at all; 4, 12, ...: an explicit empty one */
		return i % 8 == 0 && i % 3 != 0 ? SCOUT_OK : scout_result_set(result, NULL, 0);
	unsigned char *b = malloc(n);
	if (!b)
		return scout__error(SCOUT_ENOMEM, "test: out of memory");
	for (size_t k = 0; k < n; k++)
		b[k] = byte_of(i, k);
	int rc = scout_result_set(result, b, n);
	free(b);
	return rc;
}

static void test_sizes(void)
{
	scout_array *arr = make_array();
	if (!arr)
		return;
	for (int kind = 0; kind < 3; kind++) {
		scout_pmap_options o = SCOUT_PMAP_OPTIONS_INIT;
		o.workers = kind == 2 ? SCOUT_WORKERS_PROCESSES : SCOUT_WORKERS_THREADS;
		o.nb_workers = kind == 0 ? 1 : 3;
		o.chunksize = 2;
		o.unordered = kind == 2;
		scout_results *res = NULL;
		CHECK_OK(scout_pmap_chunks(&res, f_sizes, NULL, arr, chunks2, &o));
		CHECK(scout_results_count(res) == NCHUNKS);
		int ok = 1;
		for (size_t i = 0; i < NCHUNKS; i++) {
			size_t size = 99;
			const unsigned char *d = scout_results_get(res, i, &size);
			size_t n = size_of_chunk(i);
			ok &= size == n;
			ok &= n == 0 ? d == NULL : d != NULL;
			for (size_t k = 0; d && k < n && ok; k++)
				ok &= d[k] == byte_of(i, k);
		}
		CHECK(ok);
		scout_results_free(res);
		check_no_children();
	}
	scout_array_free(arr);
}

/* ---- many chunks: batching and buffering ---- */

static int f_index(scout_array *arr, const int64_t *start, const int64_t *chunks,
		   scout_result *result, void *payload)
{
	(void)arr;
	(void)chunks;
	(void)payload;
	return scout_result_set(result, start, sizeof *start);
}

static void test_many(void)
{
	int64_t shape[1] = {20000}, ch[1] = {1};
	scout_array *arr = NULL;
	CHECK_OK(scout_array_new(&arr, 1, shape, SCOUT_UINT8));
	if (!arr)
		return;
	for (int kind = 0; kind < 2; kind++) {
		scout_pmap_options o = SCOUT_PMAP_OPTIONS_INIT;
		o.workers = kind ? SCOUT_WORKERS_PROCESSES : SCOUT_WORKERS_THREADS;
		o.nb_workers = 2;
		scout_results *res = NULL;
		CHECK_OK(scout_pmap_chunks(&res, f_index, NULL, arr, ch, &o));
		CHECK(scout_results_count(res) == 20000);
		int ok = 1;
		for (size_t i = 0; i < 20000; i++) {
			size_t size;
			const int64_t *v = scout_results_get(res, i, &size);
			ok &= size == 8 && v && *v == (int64_t)i;
		}
		CHECK(ok);
		scout_results_free(res);
	}
	/* an empty array has no chunks */
	int64_t zshape[2] = {0, 4}, zch[2] = {2, 2};
	scout_array *z = NULL;
	CHECK_OK(scout_array_new(&z, 2, zshape, SCOUT_UINT8));
	scout_results *res = NULL;
	CHECK_OK(scout_pmap_chunks(&res, f_index, NULL, z, zch, NULL));
	CHECK(res && scout_results_count(res) == 0);
	scout_results_free(res);
	scout_array_free(z);
	scout_array_free(arr);
	check_no_children();
}

/* ---- progress ---- */

static void test_progress(void)
{
	scout_array *arr = make_array();
	if (!arr)
		return;
	char path[] = "/tmp/scout-pmap-progress-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0) {
		scout_array_free(arr);
		return;
	}
	unlink(path);
	fflush(stderr);
	int saved = dup(2);
	dup2(fd, 2);
	int rc[3];
	for (int kind = 0; kind < 3; kind++) {
		scout_pmap_options o = SCOUT_PMAP_OPTIONS_INIT;
		o.workers = kind == 1 ? SCOUT_WORKERS_PROCESSES : SCOUT_WORKERS_THREADS;
		o.nb_workers = kind == 2 ? 1 : 2;
		o.progress = 1;
		scout_results *res = NULL;
		rc[kind] = scout_pmap_chunks(&res, f_sum, NULL, arr, chunks2, &o);
		scout_results_free(res);
	}
	/* a slow map (25 x 20 ms): redrawn as it goes, at most about 10 times a second */
	job slow = {.sleep_us = 20000};
	scout_pmap_options so = SCOUT_PMAP_OPTIONS_INIT;
	so.nb_workers = 1;
	so.progress = 1;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int rc_slow = scout_pmap_chunks(NULL, f_sum, &slow, arr, chunks2, &so);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double slow_s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
	/* and without progress: nothing is drawn */
	scout_pmap_options o = SCOUT_PMAP_OPTIONS_INIT;
	o.nb_workers = 2;
	int rc_quiet = scout_pmap_chunks(NULL, f_sum, NULL, arr, chunks2, &o);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	CHECK(rc[0] == 0 && rc[1] == 0 && rc[2] == 0 && rc_quiet == 0 && rc_slow == 0);
	char text[8192] = {0};
	ssize_t n = pread(fd, text, sizeof text - 1, 0);
	close(fd);
	CHECK(n > 0);
	/*
	 * Four bars: each a line of redraws ("\r" + state) that starts at 0% and
	 * whose last state is 100% with done/total and a rate, ended by a newline.
	 */
	char done_total[64];
	snprintf(done_total, sizeof done_total, "| %d/%d [", NCHUNKS, NCHUNKS);
	int lines = 0;
	for (char *line = text, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
		*nl = '\0';
		lines++;
		CHECK(strncmp(line, "\r  0%|", 6) == 0);
		char *last = strrchr(line, '\r');
		CHECK(last && strncmp(last, "\r100%|", 6) == 0);
		CHECK(last && strstr(last, done_total) != NULL);
		CHECK(last && (strstr(last, "it/s]") || strstr(last, "s/it]")));
		CHECK(last && last[strlen(last) - 1] == ']');
		int draws = 0;
		for (char *p = line; *p; p++)
			draws += *p == '\r';
		if (lines == 4) {
			/* first + final draws, and one per 0.1 s in between at most */
			CHECK(draws >= 4 && draws <= (int)(slow_s * 10) + 3);
			if (draws < 4 || draws > (int)(slow_s * 10) + 3)
				fprintf(stderr, "%d draws in %.3f s\n", draws, slow_s);
		}
	}
	CHECK(lines == 4);
	scout_array_free(arr);
}

/* ---- on_result timing: unordered sees results as they finish ---- */

static int f_slow_first(scout_array *arr, const int64_t *start, const int64_t *chunks,
			scout_result *result, void *payload)
{
	(void)payload;
	if (start[0] == 0 && start[1] == 0) {
		struct timespec ts = {0, 600 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	return f_sum(arr, start, chunks, result, NULL);
}

static void test_unordered_timing(void)
{
	scout_array *arr = make_array();
	if (!arr)
		return;
	for (int kind = 0; kind < 2; kind++)
		for (int unordered = 0; unordered < 2; unordered++) {
			scout_pmap_options o = SCOUT_PMAP_OPTIONS_INIT;
			o.workers = kind ? SCOUT_WORKERS_PROCESSES : SCOUT_WORKERS_THREADS;
			o.nb_workers = 2;
			o.chunksize = 1;
			o.unordered = unordered;
			seen *s = calloc(1, sizeof *s);
			s->data_ok = 1;
			o.on_result = on_sum;
			o.on_result_payload = s;
			CHECK_OK(scout_pmap_chunks(NULL, f_slow_first, NULL, arr, chunks2, &o));
			CHECK(s->calls == NCHUNKS && s->data_ok);
			/*
			 * chunk 0 takes 600 ms, the other worker does the rest meanwhile
			 * (but for one more batch that a process worker may hold queued
			 * behind chunk 0)
			 */
			size_t pos0 = 0;
			while (pos0 < NCHUNKS && s->order[pos0] != 0)
				pos0++;
			if (unordered)
				CHECK(pos0 >= NCHUNKS - 2 && pos0 < NCHUNKS);
			else
				CHECK(s->order[0] == 0 && s->order[NCHUNKS - 1] == NCHUNKS - 1);
			free(s);
		}
	scout_array_free(arr);
}

/* ---- a backend's after_fork hook runs in each process worker ---- */

static int forked_flag;

static void flag_after_fork(scout_array *arr)
{
	(void)arr;
	forked_flag = 1;
}

static const scout_array_ops hooked_ops = {
    .kind = "memory",
    .read = scout__memory_read,
    .write = scout__memory_write,
    .after_fork = flag_after_fork,
};

static int f_flag(scout_array *arr, const int64_t *start, const int64_t *chunks,
		  scout_result *result, void *payload)
{
	(void)arr;
	(void)start;
	(void)chunks;
	(void)payload;
	return scout_result_set(result, &forked_flag, sizeof forked_flag);
}

static void test_after_fork(void)
{
	scout_array *arr = NULL;
	CHECK_OK(scout__array_alloc(&arr, &hooked_ops, 2, shape2, NULL, SCOUT_UINT32, 1));
	if (!arr)
		return;
	arr->data = ref;
	for (int kind = 0; kind < 2; kind++) {
		scout_pmap_options o = SCOUT_PMAP_OPTIONS_INIT;
		o.workers = kind ? SCOUT_WORKERS_PROCESSES : SCOUT_WORKERS_THREADS;
		o.nb_workers = 2;
		scout_results *res = NULL;
		CHECK_OK(scout_pmap_chunks(&res, f_flag, NULL, arr, chunks2, &o));
		int all = 1;
		for (size_t i = 0; i < scout_results_count(res); i++) {
			size_t size;
			const int *v = scout_results_get(res, i, &size);
			all &= size == sizeof(int) && v && *v == kind;
		}
		CHECK(scout_results_count(res) == NCHUNKS && all);
		scout_results_free(res);
	}
	CHECK(forked_flag == 0); /* only the children ran the hook */
	scout_array_free(arr);
}

static void test_progress_format(void)
{
	char line[512];
	/*
	 * 42 of 100 in 2 s: 21 it/s, 58 left -> 2.76 s -> "00:03"; 30 cells x 0.42 =
	 * 12.6: 12 full cells, a "6", 17 blanks.
	 */
	scout__progress_format(line, sizeof line, NULL, 42, 100, 2.0, 30);
	CHECK(strcmp(line,
		     " 42%|############6                 | 42/100 [00:02<00:03, 21.00it/s]") == 0);
	/* slow: 3 of 10 in 75 s: 25 s/it, 7 left -> 175 s -> "02:55"; 3 full cells of 10 */
	scout__progress_format(line, sizeof line, "blur", 3, 10, 75.0, 10);
	CHECK(strcmp(line, "blur:  30%|###       | 3/10 [01:15<02:55, 25.00s/it]") == 0);
	/* nothing done yet: unknown ETA and rate */
	scout__progress_format(line, sizeof line, NULL, 0, 5, 0.0, 4);
	CHECK(strcmp(line, "  0%|    | 0/5 [00:00<?, ?it/s]") == 0);
	/* done, over an hour: 7200 of 7200 in 3725 s */
	scout__progress_format(line, sizeof line, NULL, 7200, 7200, 3725.0, 4);
	CHECK(strcmp(line, "100%|####| 7200/7200 [1:02:05<00:00, 1.93it/s]") == 0);
	if (strcmp(line, "100%|####| 7200/7200 [1:02:05<00:00, 1.93it/s]") != 0)
		fprintf(stderr, "got \"%s\"\n", line);
}

/* ---- writes from workers ---- */

static int f_fill(scout_array *arr, const int64_t *start, const int64_t *chunks,
		  scout_result *result, void *payload)
{
	(void)result;
	(void)payload;
	const int64_t *shape = scout_array_shape(arr);
	int64_t stop[2] = {min64(start[0] + chunks[0], shape[0]),
			   min64(start[1] + chunks[1], shape[1])};
	uint32_t buf[CH * CW];
	size_t k = 0;
	for (int64_t y = start[0]; y < stop[0]; y++)
		for (int64_t x = start[1]; x < stop[1]; x++)
			buf[k++] = (uint32_t)(y * W + x) * 3 + 1;
	return scout_insert_box(arr, start, stop, buf);
}

static void test_writes(void)
{
	scout_shm *shm = NULL;
	CHECK_OK(scout_shm_create(&shm, 2, shape2, SCOUT_UINT32));
	if (!shm)
		return;
	for (int kind = 0; kind < 2; kind++) {
		memset(scout_shm_data(shm), 0, H * W * 4);
		scout_array *arr = NULL;
		CHECK_OK(scout_shm_array(&arr, shm));
		scout_pmap_options o = SCOUT_PMAP_OPTIONS_INIT;
		o.workers = kind ? SCOUT_WORKERS_PROCESSES : SCOUT_WORKERS_THREADS;
		o.nb_workers = 3;
		CHECK_OK(scout_pmap_chunks(NULL, f_fill, NULL, arr, chunks2, &o));
		const uint32_t *d = scout_shm_data(shm);
		int ok = 1;
		for (int i = 0; i < H * W; i++)
			ok &= d[i] == (uint32_t)i * 3 + 1;
		CHECK(ok);
		scout_array_free(arr);
	}
	scout_shm_free(shm);

	/* private memory is copied on fork: process workers' writes are lost */
	scout_array *mem = NULL;
	CHECK_OK(scout_array_new(&mem, 2, shape2, SCOUT_UINT32));
	if (mem) {
		scout_pmap_options o = SCOUT_PMAP_OPTIONS_INIT;
		o.workers = SCOUT_WORKERS_PROCESSES;
		o.nb_workers = 2;
		CHECK_OK(scout_pmap_chunks(NULL, f_fill, NULL, mem, chunks2, &o));
		const uint32_t *d = scout_array_data(mem);
		int zero = 1;
		for (int i = 0; i < H * W; i++)
			zero &= d[i] == 0;
		CHECK(zero);
		/* threads write the caller's memory */
		o.workers = SCOUT_WORKERS_THREADS;
		CHECK_OK(scout_pmap_chunks(NULL, f_fill, NULL, mem, chunks2, &o));
		CHECK(d[H * W - 1] == (uint32_t)(H * W - 1) * 3 + 1);
		scout_array_free(mem);
	}
	check_no_children();
}

/* ---- failures ---- */

static void test_errors(void)
{
	scout_array *arr = make_array();
	if (!arr)
		return;
	/* f returns an error at chunk (16, 10) */
	for (int kind = 0; kind < 3; kind++) {
		int fds = count_fds();
		job j = {.fail = FAIL_ERROR, .fail_start = {16, 10}};
		scout_pmap_options o = SCOUT_PMAP_OPTIONS_INIT;
		o.workers = kind == 2 ? SCOUT_WORKERS_PROCESSES : SCOUT_WORKERS_THREADS;
		o.nb_workers = kind == 0 ? 1 : 3;
		o.chunksize = 2;
		scout_results *res = (scout_results *)&j; /* must be reset to NULL */
		CHECK_ERR(scout_pmap_chunks(&res, f_sum, &j, arr, chunks2, &o),
			  kind == 2 ? SCOUT_EWORKER : SCOUT_EFORMAT, "chunk (16, 10): bad chunk");
		CHECK(res == NULL);
		if (kind == 0) /* inline: stops right there, chunk 12 */
			CHECK(atomic_load(&j.calls) == 13);
		CHECK(count_fds() == fds);
		check_no_children();
	}
	/* threads: the first error stops the hand-out of new chunks */
	{
		job j = {.fail = FAIL_ERROR, .fail_start = {0, 0}, .sleep_us = 2000};
		scout_pmap_options o = SCOUT_PMAP_OPTIONS_INIT;
		o.nb_workers = 2;
		o.chunksize = 1;
		CHECK_ERR(scout_pmap_chunks(NULL, f_sum, &j, arr, chunks2, &o), SCOUT_EFORMAT,
			  "chunk (0, 0)");
		CHECK(atomic_load(&j.calls) < NCHUNKS);
	}
	/* process workers that die */
	struct {
		enum fail_mode mode;
		const char *needle;
	} deaths[] = {
	    {FAIL_SEGV, "signal 11"},
	    {FAIL_ABORT, "signal 6"},
	    {FAIL_EXIT, "exited with status 3"},
	    {FAIL_KILL, "signal 9"},
	};
	for (size_t i = 0; i < sizeof deaths / sizeof deaths[0]; i++)
		for (int cs = 1; cs <= 3; cs += 2) {
			int fds = count_fds();
			job j = {.fail = deaths[i].mode, .fail_start = {24, 5}};
			scout_pmap_options o = SCOUT_PMAP_OPTIONS_INIT;
			o.workers = SCOUT_WORKERS_PROCESSES;
			o.nb_workers = 3;
			o.chunksize = (size_t)cs;
			o.unordered = cs == 3;
			scout_results *res = NULL;
			CHECK_ERR(scout_pmap_chunks(&res, f_sum, &j, arr, chunks2, &o),
				  SCOUT_EWORKER, deaths[i].needle);
			CHECK(strstr(scout_last_error(), "chunk (24, 5)") != NULL);
			if (cs == 1)
				fprintf(stderr, "expected failure: %s\n", scout_last_error());
			CHECK(res == NULL);
			CHECK(count_fds() == fds);
			check_no_children();
		}
	scout_array_free(arr);
}

/* ---- cancel ---- */

/* Shared with process workers (MAP_SHARED), so children can set and count. */
typedef struct cancel_state {
	atomic_int flag;        /* cancel returns it */
	atomic_int calls;       /* chunk function calls */
	atomic_int clean_stops; /* workers whose f saw SIGTERM and returned */
	int at_chunk;           /* f sets flag at this chunk index (-1: never) */
	int fail_too;           /* ... and returns an error there */
	int sleep_ms;           /* f sleeps this long per chunk (polling term_seen) */
	int ignore_term;        /* f ignores SIGTERM first (workers must be SIGKILLed) */
} cancel_state;

static volatile sig_atomic_t term_seen;

static void on_term(int signo)
{
	(void)signo;
	term_seen = 1;
}

static int cancel_cb(void *payload)
{
	cancel_state *cs = payload;
	return atomic_load(&cs->flag);
}

static int always_cancel(void *payload)
{
	(void)payload;
	return 1;
}

static int f_cancel(scout_array *arr, const int64_t *start, const int64_t *chunks,
		    scout_result *result, void *payload)
{
	cancel_state *cs = payload;
	atomic_fetch_add(&cs->calls, 1);
	if (cs->ignore_term)
		signal(SIGTERM, SIG_IGN);
	int index =
	    (int)(start[0] / chunks[0] * ((W + chunks[1] - 1) / chunks[1]) + start[1] / chunks[1]);
	if (index == cs->at_chunk) {
		atomic_store(&cs->flag, 1);
		if (cs->fail_too)
			return scout__error(SCOUT_EFORMAT, "failed while cancelling");
	}
	for (int t = 0; t < cs->sleep_ms; t++) {
		if (term_seen) {
			atomic_fetch_add(&cs->clean_stops, 1);
			return scout__error(SCOUT_EINTERRUPTED, "worker saw SIGTERM");
		}
		usleep(1000);
	}
	return f_sum(arr, start, chunks, result, NULL);
}

typedef struct {
	cancel_state *cs;
	int after_ms;
} setter_arg;

static void *set_later(void *arg)
{
	setter_arg *a = arg;
	usleep((useconds_t)a->after_ms * 1000);
	atomic_store(&a->cs->flag, 1);
	return NULL;
}

static cancel_state *new_cancel_state(void)
{
	cancel_state *cs =
	    mmap(NULL, sizeof *cs, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (cs == MAP_FAILED)
		return NULL;
	memset(cs, 0, sizeof *cs);
	atomic_init(&cs->flag, 0);
	atomic_init(&cs->calls, 0);
	atomic_init(&cs->clean_stops, 0);
	cs->at_chunk = -1;
	return cs;
}

/* Run a map that would take >= 8 s and cancel it from another thread after 150 ms. */
static void cancel_from_thread(scout_workers kind, int nb_workers, int sleep_ms, int ignore_term,
			       int handler)
{
	scout_array *arr = make_array();
	cancel_state *cs = new_cancel_state();
	if (!arr || !cs)
		return;
	cs->sleep_ms = sleep_ms;
	cs->ignore_term = ignore_term;
	struct sigaction sa, old;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler ? on_term : SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, &old);
	term_seen = 0;
	int fds = count_fds();
	int64_t one[2] = {1, 1}; /* 851 chunks */
	scout_pmap_options o = SCOUT_PMAP_OPTIONS_INIT;
	o.workers = kind;
	o.nb_workers = nb_workers;
	o.chunksize = 1;
	o.cancel = cancel_cb;
	o.cancel_payload = cs;
	setter_arg a = {cs, 150};
	pthread_t th;
	CHECK(pthread_create(&th, NULL, set_later, &a) == 0);
	double t0 = scout__now();
	scout_results *res = (scout_results *)cs; /* must be reset to NULL */
	CHECK_ERR(scout_pmap_chunks(&res, f_cancel, cs, arr, one, &o), SCOUT_EINTERRUPTED,
		  "cancelled");
	double elapsed = scout__now() - t0;
	pthread_join(th, NULL);
	/* without the cancel: 851 chunks x sleep_ms / workers >= 8 s */
	CHECK(elapsed < 1.5);
	CHECK(atomic_load(&cs->calls) < H * W);
	CHECK(res == NULL);
	CHECK(count_fds() == fds);
	check_no_children();
	if (kind == SCOUT_WORKERS_PROCESSES && handler)
		CHECK(atomic_load(&cs->clean_stops) >= 1); /* stopped by SIGTERM, not SIGKILL */
	fprintf(stderr, "cancel %s x%d%s%s: returned %.3f s after the start (flag at 0.150 s)\n",
		kind == SCOUT_WORKERS_PROCESSES ? "processes" : "threads", nb_workers,
		ignore_term ? ", workers ignore SIGTERM" : "", handler ? ", SIGTERM handler" : "",
		elapsed);
	sigaction(SIGTERM, &old, NULL);
	munmap(cs, sizeof *cs);
	scout_array_free(arr);
}

static void test_cancel(void)
{
	scout_array *arr = make_array();
	if (!arr)
		return;
	/* cancel set by f at chunk 12: inline stops before chunk 13 */
	for (int kind = 0; kind < 3; kind++) {
		cancel_state *cs = new_cancel_state();
		if (!cs)
			break;
		int fds = count_fds();
		cs->at_chunk = 12;
		cs->sleep_ms = kind == 0 ? 0 : 20; /* 25 chunks: >= 160 ms uncancelled */
		scout_pmap_options o = SCOUT_PMAP_OPTIONS_INIT;
		o.workers = kind == 2 ? SCOUT_WORKERS_PROCESSES : SCOUT_WORKERS_THREADS;
		o.nb_workers = kind == 0 ? 1 : 2;
		o.chunksize = 1;
		o.cancel = cancel_cb;
		o.cancel_payload = cs;
		scout_results *res = NULL;
		CHECK_ERR(scout_pmap_chunks(&res, f_cancel, cs, arr, chunks2, &o),
			  SCOUT_EINTERRUPTED, "cancelled after");
		if (kind == 0) {
			CHECK(atomic_load(&cs->calls) == 13);
			CHECK(strstr(scout_last_error(), "after 13 of 25 chunks") != NULL);
		} else {
			CHECK(atomic_load(&cs->calls) < NCHUNKS);
		}
		CHECK(res == NULL);
		CHECK(count_fds() == fds);
		check_no_children();
		munmap(cs, sizeof *cs);
	}
	/* a failure while cancelling is reported as SCOUT_EINTERRUPTED, with its message */
	for (int kind = 0; kind < 3; kind++) {
		cancel_state *cs = new_cancel_state();
		if (!cs)
			break;
		cs->at_chunk = 7;
		cs->fail_too = 1;
		scout_pmap_options o = SCOUT_PMAP_OPTIONS_INIT;
		o.workers = kind == 2 ? SCOUT_WORKERS_PROCESSES : SCOUT_WORKERS_THREADS;
		o.nb_workers = kind == 0 ? 1 : 2;
		o.chunksize = 1;
		o.cancel = cancel_cb;
		o.cancel_payload = cs;
		CHECK_ERR(scout_pmap_chunks(NULL, f_cancel, cs, arr, chunks2, &o),
			  SCOUT_EINTERRUPTED, "cancelled");
		if (kind == 0)
			CHECK(strstr(scout_last_error(),
				     "chunk (8, 10): failed while cancelling") != NULL);
		check_no_children();
		munmap(cs, sizeof *cs);
	}
	/* a cancel that never fires changes nothing */
	for (int kind = 0; kind < 3; kind++) {
		cancel_state *cs = new_cancel_state();
		if (!cs)
			break;
		scout_pmap_options o = SCOUT_PMAP_OPTIONS_INIT;
		o.workers = kind == 2 ? SCOUT_WORKERS_PROCESSES : SCOUT_WORKERS_THREADS;
		o.nb_workers = kind == 0 ? 1 : 3;
		o.cancel = cancel_cb;
		o.cancel_payload = cs;
		scout_results *res = NULL;
		CHECK_OK(scout_pmap_chunks(&res, f_cancel, cs, arr, chunks2, &o));
		check_sums(res);
		scout_results_free(res);
		munmap(cs, sizeof *cs);
	}
	/* cancelled before the start: f never runs */
	for (int kind = 0; kind < 3; kind++) {
		job j = {0};
		scout_pmap_options o = SCOUT_PMAP_OPTIONS_INIT;
		o.workers = kind == 2 ? SCOUT_WORKERS_PROCESSES : SCOUT_WORKERS_THREADS;
		o.nb_workers = kind == 0 ? 1 : 2;
		o.cancel = always_cancel;
		CHECK_ERR(scout_pmap_chunks(NULL, f_sum, &j, arr, chunks2, &o), SCOUT_EINTERRUPTED,
			  "cancelled after 0 of 25 chunks");
		if (kind == 0)
			CHECK(atomic_load(&j.calls) == 0);
		check_no_children();
	}
	/* version 1 options (no cancel fields) are still accepted; cancel is not read */
	{
		scout_pmap_options o = SCOUT_PMAP_OPTIONS_INIT;
		o.version = 1;
		o.nb_workers = 2;
		o.cancel = always_cancel;
		scout_results *res = NULL;
		CHECK_OK(scout_pmap_chunks(&res, f_sum, NULL, arr, chunks2, &o));
		check_sums(res);
		scout_results_free(res);
	}
	scout_array_free(arr);

	/* cancel from another thread while the workers are busy */
	cancel_from_thread(SCOUT_WORKERS_THREADS, 1, 20, 0, 0); /* inline */
	cancel_from_thread(SCOUT_WORKERS_THREADS, 3, 30, 0, 0);
	cancel_from_thread(SCOUT_WORKERS_PROCESSES, 3, 30, 0, 0); /* SIGTERM kills them */
	cancel_from_thread(SCOUT_WORKERS_PROCESSES, 3, 30, 0, 1); /* f sees SIGTERM */
	/* workers that ignore SIGTERM and would run 30 s: SIGKILL after the grace */
	cancel_from_thread(SCOUT_WORKERS_PROCESSES, 2, 30000, 1, 0);
}

static void test_invalid(void)
{
	scout_array *arr = make_array();
	if (!arr)
		return;
	scout_results *res = NULL;
	int64_t bad[2] = {0, 5};
	CHECK_ERR(scout_pmap_chunks(&res, NULL, NULL, arr, chunks2, NULL), SCOUT_EINVAL, NULL);
	CHECK_ERR(scout_pmap_chunks(&res, f_sum, NULL, NULL, chunks2, NULL), SCOUT_EINVAL, NULL);
	CHECK_ERR(scout_pmap_chunks(&res, f_sum, NULL, arr, bad, NULL), SCOUT_EINVAL, "axis 0");
	scout_pmap_options o = SCOUT_PMAP_OPTIONS_INIT;
	o.version = 99;
	CHECK_ERR(scout_pmap_chunks(&res, f_sum, NULL, arr, chunks2, &o), SCOUT_EINVAL, "version");
	o = (scout_pmap_options)SCOUT_PMAP_OPTIONS_INIT;
	o.nb_workers = -2;
	CHECK_ERR(scout_pmap_chunks(&res, f_sum, NULL, arr, chunks2, &o), SCOUT_EINVAL,
		  "nb_workers");
	CHECK(res == NULL);
	scout_result *r = NULL;
	CHECK_ERR(scout_result_set(r, "x", 1), SCOUT_EINVAL, NULL);
	CHECK(scout_results_count(NULL) == 0);
	CHECK(scout_results_get(NULL, 0, NULL) == NULL);
	scout_results_free(NULL);
	scout_array_free(arr);
}

int main(void)
{
	alarm(240); /* a hang fails the test instead of blocking the suite */
	for (int i = 0; i < H * W; i++)
		ref[i] = (uint32_t)((i * 7919u) % 100003u + 1);
	test_invalid();
	test_sums();
	test_sizes();
	test_many();
	test_progress();
	test_progress_format();
	test_unordered_timing();
	test_after_fork();
	test_writes();
	test_errors();
	test_cancel();
	check_no_children();
	/* nothing left in /dev/shm by this process */
	char prefix[64];
	snprintf(prefix, sizeof prefix, "scout-%ld-", (long)getpid());
	DIR *d = opendir("/dev/shm");
	int left = 0;
	for (struct dirent *e; d && (e = readdir(d));)
		left += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
	if (d)
		closedir(d);
	CHECK(left == 0);
	return check_summary();
}
