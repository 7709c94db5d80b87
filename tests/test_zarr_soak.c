/*
 * Concurrency soak: writers AND readers of one Zarr array at the same time,
 * for many rounds (test_zarr_concurrency.c covers writers alone, checked
 * between rounds; this test checks what readers see while writes happen).
 *
 * Workers are long-lived forked processes: WPROCS writer processes x WTHREADS
 * threads, and RPROCS reader processes x RTHREADS threads. Each round the
 * parent tiles the array with random unaligned boxes (smaller than a chunk in
 * most rounds, up to two chunks in others), gives each box to a random
 * writer, and publishes the layout in shared memory. Voxel i written by writer
 * w in round r holds enc(r, w, i) = (r + 1) << 40 | (w + 1) << 32 | i, so
 * every voxel has exactly two legal values during a round: the one of its
 * previous round's owner (or the fill value 0 in the first round of a phase)
 * and the one its owner writes now.
 *
 * Writers insert their boxes and read each one back through their handle
 * (nobody else writes it: it must hold the new values). Readers read random
 * boxes, single whole chunks and the whole array, alternately through a
 * long-lived handle (its decoded-chunk cache shared by the process's reader
 * threads and kept across rounds) and through a fresh handle per read, and
 * check:
 *   - every voxel is old or new (anything else is a wrong value);
 *   - a voxel this thread has seen new is never seen old again in the round
 *     (a stale cache entry or a file going back);
 *   - every read succeeds: a torn or partly written chunk file fails to
 *     decode (SCOUT_ECODEC / SCOUT_EFORMAT), counted as a torn read;
 *   - each (box, chunk) piece is all old or all new within one read, because
 *     one chunk write merges a box's whole piece of that chunk (a chunk seen
 *     half-updated is a torn read too).
 * When all writers are done, each reader reads the whole array once more
 * (both handles), and the parent reads it through its own long-lived handle
 * and a fresh one: every voxel must be new (otherwise a lost update).
 *
 * Rounds rotate through eight phases (arrays) with different chunk shapes,
 * dtypes, codecs (blosc, lz4, none, zlib), orders and separators: four Zarr
 * v2 arrays and four Zarr v3 ones (default and v2 chunk key encodings with
 * both separators, transpose, crc32c, big endian, zstd with checksum, gzip),
 * each phase checking that its zarr.json / .zarray says so. Writer
 * process 0 uses the parent's handle inherited through fork in the first
 * phase; reader process 0 likewise.
 *
 * Size: SOAK_ROUNDS rounds (fewer under AddressSanitizer); the environment
 * variable SCOUT_SOAK_ROUNDS overrides. SCOUT_SOAK_WRITER_THREADS=1 runs one
 * writer thread per process: the valgrind run needs it (tests/CMakeLists.txt
 * says why) and sets both.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "array/array_impl.h"
#include "check.h"
#include "store/store.h"

#if defined(__SANITIZE_ADDRESS__)
#define SOAK_ROUNDS 8
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SOAK_ROUNDS 8
#endif
#endif
#ifndef SOAK_ROUNDS
#define SOAK_ROUNDS 48
#endif

#define WPROCS   3
#define WTHREADS 2 /* at most; SCOUT_SOAK_WRITER_THREADS may lower it */
#define RPROCS   2
#define RTHREADS 2
#define NWRITERS (WPROCS * sh->wthreads)
#define NREADERS (RPROCS * RTHREADS)
#define NPHASES  8

#define NX   30
#define NY   28
#define NZ   26
#define NVOX (NX * NY * NZ)

/* seconds a phase of a round may take before the test gives up */
#define ROUND_TIMEOUT 120

static const int64_t shape[3] = {NX, NY, NZ};

typedef struct {
	const char *dtype, *codec;
	char order, sep;
	int64_t chunks[3];
	/* Zarr v3 phases: zarr_format 3, the codec chain (NULL: bytes + `codec`), the
	 * chunk key encoding, and a string zarr.json must hold (the layout really used) */
	int zarr_format;
	const char *codecs, *key_encoding, *marker;
} phase_config;

static const phase_config phases[NPHASES] = {
    {"<u8", NULL, 'C', '/', {7, 6, 5}, 2, NULL, NULL, "\"zarr_format\": 2"},
    {">u8", "{\"id\": \"lz4\"}", 'F', '.', {16, 14, 13}, 2, NULL, NULL, "\"F\""},
    {"<u8", "null", 'C', '/', {5, 9, 7}, 2, NULL, NULL, "\"compressor\": null"},
    {"<u8", "{\"id\": \"zlib\", \"level\": 1}", 'F', '/', {10, 10, 10}, 2, NULL, NULL, "zlib"},
    /* v3: default keys (c/x/y/z) and SCOUT's default chain (bytes + blosc) */
    {"<u8", NULL, 'C', '/', {7, 6, 5}, 3, NULL, "default", "\"blosc\""},
    /* v3: v2 keys (x.y.z), transpose + crc32c */
    {"<u8",
     NULL,
     'C',
     '.',
     {16, 14, 13},
     3,
     "[{\"name\": \"transpose\", \"configuration\": {\"order\": [2, 1, 0]}}, "
     "{\"name\": \"bytes\", \"configuration\": {\"endian\": \"little\"}}, "
     "{\"name\": \"crc32c\"}]",
     "v2",
     "\"crc32c\""},
    /* v3: big endian, zstd with its checksum, default keys with '.' */
    {"<u8",
     NULL,
     'C',
     '.',
     {5, 9, 7},
     3,
     "[{\"name\": \"bytes\", \"configuration\": {\"endian\": \"big\"}}, "
     "{\"name\": \"zstd\", \"configuration\": {\"level\": 1, \"checksum\": true}}]",
     "default",
     "\"big\""},
    /* v3: v2 keys with '/', a partial transpose, gzip then crc32c */
    {"<u8",
     NULL,
     'C',
     '/',
     {10, 10, 10},
     3,
     "[{\"name\": \"transpose\", \"configuration\": {\"order\": [1, 0, 2]}}, "
     "{\"name\": \"bytes\", \"configuration\": {\"endian\": \"little\"}}, "
     "{\"name\": \"gzip\", \"configuration\": {\"level\": 1}}, {\"name\": \"crc32c\"}]",
     "v2",
     "\"gzip\""},
};

typedef struct {
	int32_t start[3], stop[3];
	int32_t owner;
} box;

/* counters, summed over all workers */
enum {
	C_WRITES,      /* scout_insert_box calls */
	C_READS,       /* scout_extract_box calls by readers */
	C_VOXELS,      /* voxels checked by readers */
	C_LOST,        /* voxels not new after their owner finished */
	C_TORN,        /* reads that failed to decode, or saw a piece half updated */
	C_BACKWARDS,   /* voxels seen old after being seen new */
	C_WRONG,       /* voxels neither old nor new */
	C_ERRORS,      /* other failures (open, insert, ...) */
	C_FRESH_READS, /* reads through a handle opened for that read */
	C_NCOUNTERS
};
static const char *counter_names[C_NCOUNTERS] = {
    "writes",       "reads",      "voxels checked",
    "lost updates", "torn reads", "stale (went back)",
    "wrong values", "errors",     "fresh-handle reads"};

/* shared by all processes (MAP_SHARED | MAP_ANONYMOUS) */
typedef struct {
	atomic_int round; /* round being written; -1 before the first, `rounds` to quit */
	atomic_int writers_done;
	atomic_int readers_done; /* cumulative over rounds */
	atomic_llong count[C_NCOUNTERS];
	int rounds;
	int wthreads; /* writer threads per writer process */
	int phase;
	int phase_first_round;
	char path[128];
	int nboxes;
	uint8_t owner[2][NVOX]; /* owner of each voxel in round r: owner[r & 1] */
	int32_t piece[NVOX];    /* (box, chunk) piece of each voxel in the current round */
	box boxes[NVOX];
} shared_state;

static shared_state *sh;
static char root[64];

static uint64_t enc(int round, int owner, size_t i)
{
	return (uint64_t)(round + 1) << 40 | (uint64_t)(owner + 1) << 32 | (uint64_t)i;
}

static uint64_t old_value(int round, size_t i)
{
	if (round == sh->phase_first_round)
		return 0;
	return enc(round - 1, sh->owner[(round - 1) & 1][i], i);
}

static uint64_t new_value(int round, size_t i)
{
	return enc(round, sh->owner[round & 1][i], i);
}

static uint64_t xs(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static void add(int c, long long n)
{
	if (n)
		atomic_fetch_add(&sh->count[c], n);
}

static void sleep_us(long us)
{
	struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
	nanosleep(&ts, NULL);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* wait until the published round is >= r; returns it */
static int wait_round(int r)
{
	int cur;
	while ((cur = atomic_load(&sh->round)) < r)
		sleep_us(200);
	return cur;
}

static size_t lin(int64_t x, int64_t y, int64_t z)
{
	return (size_t)((x * NY + y) * NZ + z);
}

/* ---- layout of a round (parent) ---- */

static int make_cuts(int32_t *c, int n, int maxlen, uint64_t *s)
{
	int m = 0, x = 0;
	c[m++] = 0;
	while (x < n) {
		x += 1 + (int)(xs(s) % (uint64_t)maxlen);
		if (x > n)
			x = n;
		c[m++] = x;
	}
	return m - 1;
}

static void make_layout(int round, uint64_t *s)
{
	const int64_t *ch = phases[sh->phase].chunks;
	int big = xs(s) % 4 == 0; /* some rounds: boxes up to two chunks wide */
	int32_t cut[3][NX + 2];
	int m[3];
	for (int i = 0; i < 3; i++) {
		int maxlen = big ? 2 * (int)ch[i] : (int)ch[i] - 1;
		m[i] = make_cuts(cut[i], (int)shape[i], maxlen < 1 ? 1 : maxlen, s);
	}
	int nb = 0;
	for (int a = 0; a < m[0]; a++)
		for (int b = 0; b < m[1]; b++)
			for (int c = 0; c < m[2]; c++) {
				box *bx = &sh->boxes[nb++];
				int k[3] = {a, b, c};
				for (int i = 0; i < 3; i++) {
					bx->start[i] = cut[i][k[i]];
					bx->stop[i] = cut[i][k[i] + 1];
				}
				bx->owner = (int32_t)(xs(s) % NWRITERS);
			}
	for (int i = nb; i > 1; i--) {
		int j = (int)(xs(s) % (uint64_t)i);
		box t = sh->boxes[i - 1];
		sh->boxes[i - 1] = sh->boxes[j];
		sh->boxes[j] = t;
	}
	sh->nboxes = nb;
	/* owners and (box, chunk) pieces of every voxel */
	int32_t next_piece = 0;
	for (int b = 0; b < nb; b++) {
		const box *bx = &sh->boxes[b];
		int64_t lo[3], n[3];
		for (int i = 0; i < 3; i++) {
			lo[i] = bx->start[i] / ch[i];
			n[i] = (bx->stop[i] - 1) / ch[i] - lo[i] + 1;
		}
		for (int64_t x = bx->start[0]; x < bx->stop[0]; x++)
			for (int64_t y = bx->start[1]; y < bx->stop[1]; y++)
				for (int64_t z = bx->start[2]; z < bx->stop[2]; z++) {
					size_t i = lin(x, y, z);
					sh->owner[round & 1][i] = (uint8_t)bx->owner;
					int64_t local =
					    ((x / ch[0] - lo[0]) * n[1] + (y / ch[1] - lo[1])) *
						n[2] +
					    (z / ch[2] - lo[2]);
					sh->piece[i] = next_piece + (int32_t)local;
				}
		next_piece += (int32_t)(n[0] * n[1] * n[2]);
	}
}

/* ---- readers ---- */

typedef struct {
	scout_array **arr; /* the process's long-lived handle (shared by its threads) */
	pthread_barrier_t *barrier;
	int id; /* 0..NREADERS-1 */
	int tid;
	int phase_opened;
	uint64_t rng;
	uint64_t *buf;
	uint8_t *seen;   /* voxels seen new this round */
	uint8_t *pstate; /* per piece, during one read: 0 unseen, 1 old, 2 new */
	int32_t *touched;
	long long c[C_NCOUNTERS];
	int messages;
} reader;

/* print a failure, at most 5 per worker thread (budget NULL: always) */
static void report(int *budget, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(int *budget, const char *fmt, ...)
{
	if (budget && (*budget)++ >= 5)
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "[pid %d] ", (int)getpid());
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/*
 * Read [lo, hi) through arr and check it. `final`: the writers are done, so
 * every voxel must be new.
 */
static void read_check(reader *rd, scout_array *arr, int round, const int64_t *lo,
		       const int64_t *hi, int final)
{
	int rc = scout_extract_box(rd->buf, arr, lo, hi);
	rd->c[C_READS]++;
	if (rc != SCOUT_OK) {
		int torn = rc == SCOUT_ECODEC || rc == SCOUT_EFORMAT;
		rd->c[torn ? C_TORN : C_ERRORS]++;
		report(&rd->messages,
		       "round %d: read [%lld:%lld, %lld:%lld, %lld:%lld] failed (%d): %s", round,
		       (long long)lo[0], (long long)hi[0], (long long)lo[1], (long long)hi[1],
		       (long long)lo[2], (long long)hi[2], rc, scout_last_error());
		return;
	}
	size_t k = 0, ntouched = 0;
	int torn = 0;
	for (int64_t x = lo[0]; x < hi[0]; x++)
		for (int64_t y = lo[1]; y < hi[1]; y++)
			for (int64_t z = lo[2]; z < hi[2]; z++) {
				size_t i = lin(x, y, z);
				uint64_t v = rd->buf[k++];
				uint64_t nv = new_value(round, i);
				uint8_t st;
				if (v == nv) {
					st = 2;
					rd->seen[i] = 1;
				} else if (v == old_value(round, i)) {
					st = 1;
					if (final) {
						rd->c[C_LOST]++;
						report(&rd->messages,
						       "round %d: voxel (%lld,%lld,%lld) still old "
						       "after the writers finished",
						       round, (long long)x, (long long)y,
						       (long long)z);
					} else if (rd->seen[i]) {
						rd->c[C_BACKWARDS]++;
						report(&rd->messages,
						       "round %d: voxel (%lld,%lld,%lld) seen new, "
						       "then old",
						       round, (long long)x, (long long)y,
						       (long long)z);
					}
				} else {
					rd->c[C_WRONG]++;
					report(&rd->messages,
					       "round %d: voxel (%lld,%lld,%lld) = %#llx, expected "
					       "%#llx or %#llx",
					       round, (long long)x, (long long)y, (long long)z,
					       (unsigned long long)v,
					       (unsigned long long)old_value(round, i),
					       (unsigned long long)nv);
					continue;
				}
				int32_t p = sh->piece[i];
				if (!rd->pstate[p]) {
					rd->pstate[p] = st;
					rd->touched[ntouched++] = p;
				} else if (rd->pstate[p] != st) {
					torn = 1;
				}
			}
	for (size_t t = 0; t < ntouched; t++)
		rd->pstate[rd->touched[t]] = 0;
	if (torn) {
		rd->c[C_TORN]++;
		report(&rd->messages, "round %d: a (box, chunk) piece was half updated in one read",
		       round);
	}
	rd->c[C_VOXELS] += (long long)k;
}

static void random_region(reader *rd, int64_t *lo, int64_t *hi)
{
	const int64_t *ch = phases[sh->phase].chunks;
	uint64_t kind = xs(&rd->rng) % 32;
	for (int i = 0; i < 3; i++) {
		if (kind < 12) { /* one whole chunk */
			int64_t nchunks = (shape[i] + ch[i] - 1) / ch[i];
			lo[i] = (int64_t)(xs(&rd->rng) % (uint64_t)nchunks) * ch[i];
			hi[i] = lo[i] + ch[i] < shape[i] ? lo[i] + ch[i] : shape[i];
		} else if (kind < 31) { /* a random box up to two chunks wide */
			int64_t len = 1 + (int64_t)(xs(&rd->rng) % (uint64_t)(2 * ch[i]));
			if (len > shape[i])
				len = shape[i];
			lo[i] = (int64_t)(xs(&rd->rng) % (uint64_t)(shape[i] - len + 1));
			hi[i] = lo[i] + len;
		} else { /* everything */
			lo[i] = 0;
			hi[i] = shape[i];
		}
	}
}

static int open_fresh(scout_array **out, reader *rd)
{
	int rc = scout_array_open(out, sh->path, SCOUT_MODE_READ);
	if (rc != SCOUT_OK) {
		rd->c[C_ERRORS]++;
		report(&rd->messages, "open %s: %s", sh->path, scout_last_error());
	}
	return rc;
}

static void *reader_main(void *p)
{
	reader *rd = p;
	for (int r = 0;; r++) {
		if (wait_round(r) >= sh->rounds)
			break;
		/* thread 0 reopens the process's handle when a new phase starts */
		pthread_barrier_wait(rd->barrier);
		if (rd->tid == 0 && rd->phase_opened != sh->phase) {
			if (*rd->arr)
				scout_array_free(*rd->arr);
			*rd->arr = NULL;
			open_fresh(rd->arr, rd);
		}
		pthread_barrier_wait(rd->barrier);
		rd->phase_opened = sh->phase;
		scout_array *arr = *rd->arr;
		memset(rd->seen, 0, NVOX);
		int64_t lo[3], hi[3];
		while (atomic_load(&sh->writers_done) < NWRITERS * (r + 1)) {
			random_region(rd, lo, hi);
			if (xs(&rd->rng) % 3 == 0 || !arr) {
				scout_array *fresh = NULL;
				if (open_fresh(&fresh, rd) == SCOUT_OK) {
					read_check(rd, fresh, r, lo, hi, 0);
					rd->c[C_FRESH_READS]++;
				}
				scout_array_free(fresh);
			} else {
				read_check(rd, arr, r, lo, hi, 0);
			}
		}
		/* the round's writes are complete: everything must be new */
		int64_t zero[3] = {0, 0, 0};
		if (arr)
			read_check(rd, arr, r, zero, shape, 1);
		scout_array *fresh = NULL;
		if (open_fresh(&fresh, rd) == SCOUT_OK) {
			read_check(rd, fresh, r, zero, shape, 1);
			rd->c[C_FRESH_READS]++;
		}
		scout_array_free(fresh);
		for (int c = 0; c < C_NCOUNTERS; c++) {
			add(c, rd->c[c]);
			rd->c[c] = 0;
		}
		atomic_fetch_add(&sh->readers_done, 1);
	}
	return NULL;
}

static int reader_process(int proc, scout_array *inherited)
{
	scout_array *arr = NULL;
	int phase_opened = -1;
	if (inherited) {
		inherited->ops->after_fork(inherited);
		arr = inherited;
		phase_opened = 0;
	}
	pthread_barrier_t bar;
	pthread_barrier_init(&bar, NULL, RTHREADS);
	reader rd[RTHREADS];
	pthread_t th[RTHREADS];
	for (int t = 0; t < RTHREADS; t++) {
		memset(&rd[t], 0, sizeof rd[t]);
		rd[t].arr = &arr;
		rd[t].barrier = &bar;
		rd[t].id = proc * RTHREADS + t;
		rd[t].tid = t;
		rd[t].phase_opened = phase_opened;
		rd[t].rng = 0x9E3779B97F4A7C15ull * (uint64_t)(rd[t].id + 1) ^ (uint64_t)getpid();
		rd[t].buf = malloc(NVOX * sizeof(uint64_t));
		rd[t].seen = malloc(NVOX);
		rd[t].pstate = calloc(NVOX, 1);
		rd[t].touched = malloc(NVOX * sizeof(int32_t));
		if (!rd[t].buf || !rd[t].seen || !rd[t].pstate || !rd[t].touched)
			_exit(3);
		pthread_create(&th[t], NULL, reader_main, &rd[t]);
	}
	for (int t = 0; t < RTHREADS; t++) {
		pthread_join(th[t], NULL);
		free(rd[t].buf);
		free(rd[t].seen);
		free(rd[t].pstate);
		free(rd[t].touched);
	}
	pthread_barrier_destroy(&bar);
	scout_array_free(arr);
	return 0;
}

/* ---- writers ---- */

typedef struct {
	scout_array **arr;
	pthread_barrier_t *barrier;
	int id; /* 0..NWRITERS-1: the owner number */
	int tid;
	int phase_opened;
	uint64_t *vals, *back;
	long long c[C_NCOUNTERS];
	int messages;
} writer;

static void *writer_main(void *p)
{
	writer *w = p;
	for (int r = 0;; r++) {
		if (wait_round(r) >= sh->rounds)
			break;
		pthread_barrier_wait(w->barrier);
		if (w->tid == 0 && w->phase_opened != sh->phase) {
			if (*w->arr)
				scout_array_free(*w->arr);
			*w->arr = NULL;
			if (scout_array_open(w->arr, sh->path,
					     SCOUT_MODE_READ | SCOUT_MODE_WRITE) != SCOUT_OK) {
				w->c[C_ERRORS]++;
				report(&w->messages, "open %s: %s", sh->path, scout_last_error());
			}
		}
		pthread_barrier_wait(w->barrier);
		w->phase_opened = sh->phase;
		scout_array *arr = *w->arr;
		for (int b = 0; arr && b < sh->nboxes; b++) {
			const box *bx = &sh->boxes[b];
			if (bx->owner != w->id)
				continue;
			int64_t lo[3], hi[3];
			for (int i = 0; i < 3; i++) {
				lo[i] = bx->start[i];
				hi[i] = bx->stop[i];
			}
			size_t k = 0;
			for (int64_t x = lo[0]; x < hi[0]; x++)
				for (int64_t y = lo[1]; y < hi[1]; y++)
					for (int64_t z = lo[2]; z < hi[2]; z++)
						w->vals[k++] = enc(r, w->id, lin(x, y, z));
			w->c[C_WRITES]++;
			if (scout_insert_box(arr, lo, hi, w->vals) != SCOUT_OK) {
				w->c[C_ERRORS]++;
				report(&w->messages, "round %d: insert: %s", r, scout_last_error());
				continue;
			}
			/* read our own box back: nobody else writes it */
			int rc = scout_extract_box(w->back, arr, lo, hi);
			if (rc != SCOUT_OK) {
				w->c[rc == SCOUT_ECODEC || rc == SCOUT_EFORMAT ? C_TORN
									       : C_ERRORS]++;
				report(&w->messages, "round %d: read back: %s", r,
				       scout_last_error());
				continue;
			}
			size_t lost = 0;
			for (size_t j = 0; j < k; j++)
				lost += w->back[j] != w->vals[j];
			if (lost)
				report(&w->messages,
				       "round %d: writer %d: %zu voxels of its box lost", r, w->id,
				       lost);
			w->c[C_LOST] += (long long)lost;
		}
		for (int c = 0; c < C_NCOUNTERS; c++) {
			add(c, w->c[c]);
			w->c[c] = 0;
		}
		atomic_fetch_add(&sh->writers_done, 1);
	}
	return NULL;
}

static int writer_process(int proc, scout_array *inherited)
{
	scout_array *arr = NULL;
	int phase_opened = -1;
	if (inherited) {
		inherited->ops->after_fork(inherited);
		arr = inherited;
		phase_opened = 0;
	}
	pthread_barrier_t bar;
	pthread_barrier_init(&bar, NULL, (unsigned)sh->wthreads);
	writer w[WTHREADS];
	pthread_t th[WTHREADS];
	for (int t = 0; t < sh->wthreads; t++) {
		memset(&w[t], 0, sizeof w[t]);
		w[t].arr = &arr;
		w[t].barrier = &bar;
		w[t].id = proc * sh->wthreads + t;
		w[t].tid = t;
		w[t].phase_opened = phase_opened;
		w[t].vals = malloc(NVOX * sizeof(uint64_t));
		w[t].back = malloc(NVOX * sizeof(uint64_t));
		if (!w[t].vals || !w[t].back)
			_exit(3);
		pthread_create(&th[t], NULL, writer_main, &w[t]);
	}
	for (int t = 0; t < sh->wthreads; t++) {
		pthread_join(th[t], NULL);
		free(w[t].vals);
		free(w[t].back);
	}
	pthread_barrier_destroy(&bar);
	scout_array_free(arr);
	return 0;
}

/* ---- parent ---- */

static pid_t children[WPROCS + RPROCS];

static void kill_children(void)
{
	for (int i = 0; i < WPROCS + RPROCS; i++)
		if (children[i] > 0)
			kill(children[i], SIGKILL);
}

/* wait until *counter reaches target; 0, or -1 on timeout or a dead child */
static int wait_counter(atomic_int *counter, int target, const char *what, int round)
{
	double t0 = now_s();
	while (atomic_load(counter) < target) {
		for (int i = 0; i < WPROCS + RPROCS; i++) {
			int status;
			if (children[i] > 0 &&
			    waitpid(children[i], &status, WNOHANG) == children[i]) {
				report(NULL, "round %d: worker process %d ended early (status %#x)",
				       round, (int)children[i], status);
				children[i] = -1;
				return -1;
			}
		}
		if (now_s() - t0 > ROUND_TIMEOUT) {
			report(NULL, "round %d: timed out waiting for the %s", round, what);
			return -1;
		}
		sleep_us(500);
	}
	return 0;
}

/* compare the whole array with the round's new values; returns voxels that differ */
static long long verify_all(scout_array *arr, int round, uint64_t *buf)
{
	int64_t zero[3] = {0, 0, 0};
	if (scout_extract_box(buf, arr, zero, shape) != SCOUT_OK) {
		report(NULL, "round %d: verify: %s", round, scout_last_error());
		return NVOX;
	}
	long long bad = 0;
	for (size_t i = 0; i < NVOX; i++)
		bad += buf[i] != new_value(round, i);
	return bad;
}

/* the metadata file of a phase's array says what the phase means to test */
static void check_layout(const char *path, const phase_config *pc)
{
	char file[256];
	snprintf(file, sizeof file, "%s/%s", path, pc->zarr_format == 3 ? "zarr.json" : ".zarray");
	FILE *f = fopen(file, "r");
	CHECK(f != NULL);
	if (!f)
		return;
	char text[8192];
	size_t n = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[n] = '\0';
	CHECK(strstr(text, pc->marker) != NULL);
	if (pc->zarr_format == 3) {
		CHECK(strstr(text, "\"zarr_format\": 3") != NULL);
		CHECK(strstr(text, pc->key_encoding) != NULL);
	}
}

int main(void)
{
	int rounds = SOAK_ROUNDS;
	const char *env = getenv("SCOUT_SOAK_ROUNDS");
	if (env && atoi(env) > 0)
		rounds = atoi(env);
	if (rounds < 2)
		rounds = 2;
	snprintf(root, sizeof root, "/tmp/scout_soak_XXXXXX");
	if (!mkdtemp(root))
		return 1;
	sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 1;
	memset(sh, 0, sizeof *sh);
	atomic_store(&sh->round, -1);
	sh->rounds = rounds;
	sh->wthreads = WTHREADS;
	env = getenv("SCOUT_SOAK_WRITER_THREADS");
	if (env && atoi(env) > 0 && atoi(env) < WTHREADS)
		sh->wthreads = atoi(env);
	sh->phase = 0;
	snprintf(sh->path, sizeof sh->path, "%s/phase0", root);

	/* the first phase's array exists before the fork: process 0 of each kind inherits it */
	scout_array *arr = NULL;
	uint64_t rng = 0x2545F4914F6CDD1Dull;
	uint64_t *buf = malloc(NVOX * sizeof(uint64_t));
	double t0 = now_s();
	int failed = 0;
	for (int r = 0; r < rounds && !failed; r++) {
		/* phases in turn, each for rounds / NPHASES rounds (fewer rounds than
		 * phases: every other phase, v2 and v3 alike) */
		int ph = (int)((long long)r * NPHASES / rounds);
		if (r == 0 || ph != sh->phase) {
			const phase_config *pc = &phases[ph];
			scout_array_free(arr);
			arr = NULL;
			sh->phase = ph;
			sh->phase_first_round = r;
			snprintf(sh->path, sizeof sh->path, "%s/phase%d", root, ph);
			scout_zarr_options o = SCOUT_ZARR_OPTIONS_INIT;
			o.ndim = 3;
			memcpy(o.shape, shape, sizeof shape);
			memcpy(o.chunks, pc->chunks, sizeof pc->chunks);
			o.dtype = pc->dtype;
			o.compressor = pc->codec;
			o.order = pc->order;
			o.dimension_separator = pc->sep;
			o.zarr_format = pc->zarr_format;
			o.codecs = pc->codecs;
			o.chunk_key_encoding = pc->key_encoding;
			CHECK_OK(scout_zarr_create(&arr, sh->path, &o));
			if (!arr) {
				failed = 1;
				break;
			}
			check_layout(sh->path, pc);
			/* the parent's long-lived handle caches the fill-value chunks... */
			int64_t zero[3] = {0, 0, 0};
			CHECK_OK(scout_extract_box(buf, arr, zero, shape));
		}
		if (r == 0) {
			for (int i = 0; i < WPROCS + RPROCS; i++) {
				pid_t pid = fork();
				if (pid == 0) {
					int wr = i < WPROCS;
					int proc = wr ? i : i - WPROCS;
					scout_array *inh = proc == 0 ? arr : NULL;
					if (!inh)
						scout_array_free(arr);
					int rc = wr ? writer_process(proc, inh)
						    : reader_process(proc, inh);
					free(buf);
					_exit(rc);
				}
				children[i] = pid;
			}
		}
		make_layout(r, &rng);
		atomic_store(&sh->round, r);
		if (wait_counter(&sh->writers_done, NWRITERS * (r + 1), "writers", r) < 0) {
			failed = 1;
			break;
		}
		/* ...and must now see every new value, as must a fresh handle */
		long long lost = verify_all(arr, r, buf);
		scout_array *fresh = NULL;
		CHECK_OK(scout_array_open(&fresh, sh->path, SCOUT_MODE_READ));
		lost += fresh ? verify_all(fresh, r, buf) : NVOX;
		scout_array_free(fresh);
		if (lost)
			report(NULL, "round %d: %lld voxels not new after the round", r, lost);
		add(C_LOST, lost);
		if (wait_counter(&sh->readers_done, NREADERS * (r + 1), "readers", r) < 0) {
			failed = 1;
			break;
		}
	}
	if (failed)
		kill_children();
	atomic_store(&sh->round, rounds); /* tells the workers to quit */
	for (int i = 0; i < WPROCS + RPROCS; i++) {
		if (children[i] <= 0)
			continue;
		int status;
		while (waitpid(children[i], &status, 0) < 0 && errno == EINTR)
			;
		if (!failed) {
			CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
			if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0))
				report(NULL, "worker process %d: status %#x", (int)children[i],
				       status);
		}
	}
	double secs = now_s() - t0;
	scout_array_free(arr);
	free(buf);

	long long c[C_NCOUNTERS];
	for (int i = 0; i < C_NCOUNTERS; i++)
		c[i] = atomic_load(&sh->count[i]);
	int done = atomic_load(&sh->readers_done) / NREADERS;
	fprintf(stderr,
		"soak: %d of %d rounds in %.1f s, %d writer processes x %d threads, %d reader "
		"processes x %d threads, %d phases\n",
		done, rounds, secs, WPROCS, sh->wthreads, RPROCS, RTHREADS, NPHASES);
	for (int i = 0; i < C_NCOUNTERS; i++)
		fprintf(stderr, "soak: %-19s %lld\n", counter_names[i], c[i]);
	CHECK(!failed);
	CHECK(done == rounds);
	CHECK(c[C_WRITES] > 0 && c[C_READS] > 0);
	CHECK(c[C_LOST] == 0);
	CHECK(c[C_TORN] == 0);
	CHECK(c[C_BACKWARDS] == 0);
	CHECK(c[C_WRONG] == 0);
	CHECK(c[C_ERRORS] == 0);
	munmap(sh, sizeof *sh);
	scout__rmtree(root);
	return check_summary();
}
