/*
 * Concurrent writers of one Zarr array: 2 processes x 2 threads each insert
 * random unaligned, non-overlapping boxes that share chunks, many rounds, with
 * several dtypes, codecs, orders and separators. After every round the array
 * must equal the expected one exactly, read both through a fresh handle and
 * through the parent's handle (whose cache saw older versions of the chunks).
 * One process uses the handle inherited through fork (after its after_fork
 * hook), the other opens its own. A last round makes all four writers hammer
 * a single chunk with one-element writes.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "array/array_impl.h"
#include "check.h"
#include "store/store.h"

#define MAXBOX 4096

typedef struct {
	int64_t start[3], stop[3];
	int owner; /* 0..3: process * 2 + thread */
} box;

static char root[64];
static uint64_t rng = 0x2545F4914F6CDD1Dull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint32_t value_at(int round, size_t i)
{
	return (uint32_t)(i * 2654435761u) ^ (uint32_t)(round * 40503u + 1);
}

typedef struct {
	scout_array *arr;
	const box *boxes;
	int nboxes;
	int owner;
	int round;
	const int64_t *shape;
	pthread_barrier_t *barrier;
	int failed;
} worker;

static void *worker_main(void *p)
{
	worker *w = p;
	pthread_barrier_wait(w->barrier);
	for (int b = 0; b < w->nboxes; b++) {
		const box *bx = &w->boxes[b];
		if (bx->owner != w->owner)
			continue;
		size_t n = 1;
		for (int i = 0; i < 3; i++)
			n *= (size_t)(bx->stop[i] - bx->start[i]);
		uint32_t *v = malloc(n * 4);
		size_t k = 0;
		for (int64_t x = bx->start[0]; x < bx->stop[0]; x++)
			for (int64_t y = bx->start[1]; y < bx->stop[1]; y++)
				for (int64_t z = bx->start[2]; z < bx->stop[2]; z++)
					v[k++] = value_at(
					    w->round,
					    (size_t)((x * w->shape[1] + y) * w->shape[2] + z));
		if (scout_insert_box(w->arr, bx->start, bx->stop, v) != SCOUT_OK) {
			fprintf(stderr, "pid %d: %s\n", (int)getpid(), scout_last_error());
			w->failed = 1;
		}
		free(v);
	}
	return NULL;
}

/* run the two threads of process `proc` */
static int run_process(scout_array *arr, int proc, const box *boxes, int nboxes, int round,
		       const int64_t *shape)
{
	pthread_barrier_t bar;
	pthread_barrier_init(&bar, NULL, 2);
	pthread_t th[2];
	worker w[2];
	for (int t = 0; t < 2; t++) {
		w[t] = (worker){arr, boxes, nboxes, proc * 2 + t, round, shape, &bar, 0};
		pthread_create(&th[t], NULL, worker_main, &w[t]);
	}
	for (int t = 0; t < 2; t++)
		pthread_join(th[t], NULL);
	pthread_barrier_destroy(&bar);
	return w[0].failed || w[1].failed;
}

/* random cuts of [0, n) into pieces of 1..maxlen */
static int make_cuts(int64_t *c, int64_t n, int64_t maxlen)
{
	int m = 0;
	int64_t x = 0;
	c[m++] = 0;
	while (x < n) {
		x += 1 + (int64_t)(rnd() % (uint64_t)maxlen);
		if (x > n)
			x = n;
		c[m++] = x;
	}
	return m - 1;
}

static int one_round(int round, const char *dtype, const char *codec, char order, char sep, int hot)
{
	int64_t shape[3], chunks[3];
	for (int i = 0; i < 3; i++) {
		chunks[i] = hot ? 6 : 3 + (int64_t)(rnd() % 5);
		shape[i] = hot ? 6 : chunks[i] * (2 + (int64_t)(rnd() % 3)) + (int64_t)(rnd() % 3);
	}
	char path[128];
	snprintf(path, sizeof path, "%s/r%d", root, round);
	scout_zarr_options o = SCOUT_ZARR_OPTIONS_INIT;
	o.ndim = 3;
	memcpy(o.shape, shape, sizeof shape);
	memcpy(o.chunks, chunks, sizeof chunks);
	o.dtype = dtype;
	o.compressor = codec;
	o.order = order;
	o.dimension_separator = sep;
	scout_array *arr = NULL;
	CHECK_OK(scout_zarr_create(&arr, path, &o));
	if (!arr)
		return 1;
	/* tile the array with boxes smaller than chunks, unaligned with them */
	static box boxes[MAXBOX];
	int64_t cut[3][64];
	int m[3];
	for (int i = 0; i < 3; i++)
		m[i] = make_cuts(cut[i], shape[i], hot ? 1 : chunks[i] - 1);
	int nb = 0;
	for (int a = 0; a < m[0]; a++)
		for (int b = 0; b < m[1]; b++)
			for (int c = 0; c < m[2] && nb < MAXBOX; c++) {
				box *bx = &boxes[nb++];
				int k[3] = {a, b, c};
				for (int i = 0; i < 3; i++) {
					bx->start[i] = cut[i][k[i]];
					bx->stop[i] = cut[i][k[i] + 1];
				}
				bx->owner = (int)(rnd() % 4);
			}
	/* shuffle so that owners interleave over the chunks */
	for (int i = nb; i > 1; i--) {
		int j = (int)(rnd() % (uint64_t)i);
		box t = boxes[i - 1];
		boxes[i - 1] = boxes[j];
		boxes[j] = t;
	}
	/* the parent reads once so its cache holds the (empty) old chunks */
	size_t n = (size_t)(shape[0] * shape[1] * shape[2]);
	uint32_t *got = malloc(n * 4);
	int64_t z[3] = {0, 0, 0};
	CHECK_OK(scout_extract_box(got, arr, z, shape));
	pid_t pids[2];
	for (int p = 0; p < 2; p++) {
		pids[p] = fork();
		if (pids[p] == 0) {
			scout_array *mine = arr;
			if (p == 0) {
				arr->ops->after_fork(arr);
			} else if (scout_array_open(&mine, path,
						    SCOUT_MODE_READ | SCOUT_MODE_WRITE) !=
				   SCOUT_OK) {
				fprintf(stderr, "open: %s\n", scout_last_error());
				_exit(1);
			}
			int failed = run_process(mine, p, boxes, nb, round, shape);
			if (mine != arr)
				scout_array_free(mine);
			_exit(failed);
		}
	}
	int bad = 0;
	for (int p = 0; p < 2; p++) {
		int status;
		waitpid(pids[p], &status, 0);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		bad |= !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	/* through the parent's handle (stale cache entries must not be used) */
	CHECK_OK(scout_extract_box(got, arr, z, shape));
	size_t wrong = 0;
	for (size_t i = 0; i < n; i++)
		wrong += got[i] != value_at(round, i);
	scout_array_free(arr);
	/* through a fresh handle */
	CHECK_OK(scout_array_open(&arr, path, SCOUT_MODE_READ));
	memset(got, 0, n * 4);
	if (arr)
		CHECK_OK(scout_extract_box(got, arr, z, shape));
	for (size_t i = 0; i < n; i++)
		wrong += got[i] != value_at(round, i);
	scout_array_free(arr);
	free(got);
	if (wrong)
		fprintf(stderr, "round %d (%s %s %c %c): %zu wrong elements of %zu, %d boxes\n",
			round, dtype, codec ? codec : "default", order, sep, wrong, n, nb);
	CHECK(wrong == 0);
	scout__rmtree(path);
	return bad || wrong;
}

int main(void)
{
	snprintf(root, sizeof root, "/tmp/scout_zconc_XXXXXX");
	if (!mkdtemp(root))
		return 1;
	const char *dtypes[] = {"<u4", ">u4", "<i4", ">i4"};
	const char *codecs[] = {NULL, "null", "{\"id\": \"lz4\"}",
				"{\"id\": \"zlib\", \"level\": 1}"};
	int rounds = 16, failed_rounds = 0;
	for (int r = 0; r < rounds; r++)
		failed_rounds += one_round(r, dtypes[r % 4], codecs[(r / 4) % 4], r % 2 ? 'F' : 'C',
					   r % 3 ? '/' : '.', 0);
	for (int r = 0; r < 3; r++)
		failed_rounds += one_round(rounds + r, "<u4", r ? NULL : "null", 'C', '/', 1);
	fprintf(stderr, "%d concurrent rounds (2 processes x 2 threads), %d failed\n", rounds + 3,
		failed_rounds);
	scout__rmtree(root);
	return check_summary();
}
