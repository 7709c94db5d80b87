/*
 * Concurrent writers and readers of one sharded Zarr v3 array: no update lost.
 *
 * Each round, the array is tiled with random unaligned boxes (1 to 7 voxels
 * per axis: they straddle inner-chunk and shard boundaries, and every shard
 * is shared by several boxes) and each box is given to one of WPROCS forked
 * writer processes x WTHREADS threads, each process with its own handle.
 * Voxel i written by writer w in round r holds enc(r, w, i) = (r + 1) << 40 |
 * (w + 1) << 32 | i. RPROCS reader processes x RTHREADS threads read random
 * boxes while the writers run and check that every voxel holds its old value
 * (its owner's of the previous round, or 0 in the first) or its new one, and
 * that each box's piece of each shard is all old or all new within one read
 * (a shard is replaced whole, atomically: a reader never sees half of a write).
 * After each round the parent reads the whole array through a fresh handle:
 * every voxel must hold its new value, else an update was lost.
 *
 * Each partial write of a shard is a read-modify-write of the whole shard,
 * so without the shard lock two writers of one shard overwrite each other:
 * the last phase runs the same rounds with the lock disabled
 * (SCOUT_TEST_UNLOCKED_WRITES=1, a test-only hook of chunk_lock.c) and
 * requires lost updates, proving the test can fail.
 *
 * Rounds: SHARD_ROUNDS (fewer under AddressSanitizer); SCOUT_SOAK_ROUNDS overrides.
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pthread.h>

#include "check.h"
#include "scout/scout.h"

#if defined(__SANITIZE_ADDRESS__)
#define SHARD_ROUNDS 4
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SHARD_ROUNDS 4
#endif
#endif
#ifndef SHARD_ROUNDS
#define SHARD_ROUNDS 12
#endif

#define WPROCS   3
#define WTHREADS 2
#define NWRITERS (WPROCS * WTHREADS)
#define RPROCS   1
#define RTHREADS 2
#define NZ       20
#define NY       18
#define NX       17
#define NVOX     (NZ * NY * NX)
#define MAXBOX   7

static const int64_t shape[3] = {NZ, NY, NX};

typedef struct {
	atomic_int writers_done;
	atomic_llong reads, voxels, wrong, errors, torn;
} shared_state;

/* shard shape of the array (see phase()) */
#define SZ 8
#define SY 6
#define SX 8

/*
 * piece[i]: the (writer box, shard) piece voxel i belongs to in the current
 * round, numbered 0..npieces-1 (set by the parent before forking): one shard
 * write replaces a box's whole piece of that shard at once, so a read sees
 * each piece all old or all new.
 */
static int32_t piece[NVOX];
static int npieces;

static shared_state *sh;
static char path[256];

static unsigned rnd(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 8) & 0xffffff;
}

typedef struct {
	int64_t a[3], b[3];
	int owner;
} box;

/* the boxes of round r (deterministic from r: every process computes the same) */
static int layout(box *out, int r)
{
	unsigned s = 1000u + (unsigned)r * 7919u;
	int64_t cut[3][NZ + 2];
	int nc[3];
	for (int d = 0; d < 3; d++) {
		nc[d] = 0;
		cut[d][nc[d]++] = 0;
		int64_t p = 0;
		while (p < shape[d]) {
			p += 1 + rnd(&s) % MAXBOX;
			if (p > shape[d])
				p = shape[d];
			cut[d][nc[d]++] = p;
		}
	}
	int n = 0;
	for (int i = 0; i + 1 < nc[0]; i++)
		for (int j = 0; j + 1 < nc[1]; j++)
			for (int k = 0; k + 1 < nc[2]; k++) {
				box *b = &out[n++];
				b->a[0] = cut[0][i];
				b->a[1] = cut[1][j];
				b->a[2] = cut[2][k];
				b->b[0] = cut[0][i + 1];
				b->b[1] = cut[1][j + 1];
				b->b[2] = cut[2][k + 1];
				b->owner = (int)(rnd(&s) % NWRITERS);
			}
	return n;
}

static void pieces(int r)
{
	static box bx[NVOX];
	int n = layout(bx, r);
	npieces = 0;
	for (int k = 0; k < n; k++) {
		int first = npieces;
		int64_t sh0 = bx[k].a[0] / SZ, sh1 = bx[k].a[1] / SY, sh2 = bx[k].a[2] / SX;
		int64_t n1 = (bx[k].b[1] - 1) / SY - sh1 + 1, n2 = (bx[k].b[2] - 1) / SX - sh2 + 1;
		int64_t n0 = (bx[k].b[0] - 1) / SZ - sh0 + 1;
		for (int64_t z = bx[k].a[0]; z < bx[k].b[0]; z++)
			for (int64_t y = bx[k].a[1]; y < bx[k].b[1]; y++)
				for (int64_t x = bx[k].a[2]; x < bx[k].b[2]; x++) {
					int64_t s = ((z / SZ - sh0) * n1 + (y / SY - sh1)) * n2 +
						    (x / SX - sh2);
					piece[(z * NY + y) * NX + x] = first + (int32_t)s;
				}
		npieces += (int)(n0 * n1 * n2);
	}
}

static uint64_t enc(int r, int w, int64_t i)
{
	return (uint64_t)(r + 1) << 40 | (uint64_t)(w + 1) << 32 | (uint64_t)i;
}

/* the expected value of every voxel after round r (r < 0: all 0) */
static void expected(uint64_t *v, int r)
{
	static box bx[NVOX];
	if (r < 0) {
		memset(v, 0, NVOX * sizeof *v);
		return;
	}
	int n = layout(bx, r);
	for (int k = 0; k < n; k++)
		for (int64_t z = bx[k].a[0]; z < bx[k].b[0]; z++)
			for (int64_t y = bx[k].a[1]; y < bx[k].b[1]; y++)
				for (int64_t x = bx[k].a[2]; x < bx[k].b[2]; x++) {
					int64_t i = (z * NY + y) * NX + x;
					v[i] = enc(r, bx[k].owner, i);
				}
}

typedef struct {
	scout_array *arr;
	int round, writer;
} wjob;

static void *writer_thread(void *p)
{
	wjob *j = p;
	box *bx = malloc(NVOX * sizeof *bx);
	int n = layout(bx, j->round);
	for (int k = 0; k < n; k++) {
		if (bx[k].owner != j->writer)
			continue;
		int64_t cnt = 1;
		for (int d = 0; d < 3; d++)
			cnt *= bx[k].b[d] - bx[k].a[d];
		uint64_t *buf = malloc((size_t)cnt * 8);
		size_t q = 0;
		for (int64_t z = bx[k].a[0]; z < bx[k].b[0]; z++)
			for (int64_t y = bx[k].a[1]; y < bx[k].b[1]; y++)
				for (int64_t x = bx[k].a[2]; x < bx[k].b[2]; x++)
					buf[q++] = enc(j->round, j->writer, (z * NY + y) * NX + x);
		if (scout_insert_box(j->arr, bx[k].a, bx[k].b, buf) != SCOUT_OK) {
			fprintf(stderr, "writer %d: %s\n", j->writer, scout_last_error());
			atomic_fetch_add(&sh->errors, 1);
		}
		free(buf);
	}
	free(bx);
	return NULL;
}

typedef struct {
	scout_array *arr;
	int round;
	unsigned seed;
	const uint64_t *old, *new_;
} rjob;

static void *reader_thread(void *p)
{
	rjob *j = p;
	uint64_t *buf = malloc(NVOX * 8);
	unsigned char *seen = malloc((size_t)npieces + 1); /* 1 old, 2 new, per piece */
	while (atomic_load(&sh->writers_done) < WPROCS) {
		int64_t a[3], b[3];
		for (int d = 0; d < 3; d++) {
			a[d] = rnd(&j->seed) % (unsigned)shape[d];
			b[d] = a[d] + 1 + rnd(&j->seed) % (unsigned)(shape[d] - a[d]);
		}
		if (scout_extract_box(buf, j->arr, a, b) != SCOUT_OK) {
			fprintf(stderr, "reader: %s\n", scout_last_error());
			atomic_fetch_add(&sh->errors, 1);
			continue;
		}
		atomic_fetch_add(&sh->reads, 1);
		size_t q = 0;
		long long wrong = 0, torn = 0;
		memset(seen, 0, (size_t)npieces + 1);
		for (int64_t z = a[0]; z < b[0]; z++)
			for (int64_t y = a[1]; y < b[1]; y++)
				for (int64_t x = a[2]; x < b[2]; x++, q++) {
					int64_t i = (z * NY + y) * NX + x;
					unsigned char st = buf[q] == j->new_[i]  ? 2
							   : buf[q] == j->old[i] ? 1
										 : 0;
					if (!st) {
						wrong++;
						continue;
					}
					if (seen[piece[i]] && seen[piece[i]] != st)
						torn++;
					seen[piece[i]] = st;
				}
		atomic_fetch_add(&sh->voxels, (long long)q);
		atomic_fetch_add(&sh->wrong, wrong);
		atomic_fetch_add(&sh->torn, torn);
	}
	free(buf);
	free(seen);
	return NULL;
}

/* run one round; returns the number of voxels not holding their new value */
static long run_round(int r, const uint64_t *old, const uint64_t *new_)
{
	atomic_store(&sh->writers_done, 0);
	pieces(r);
	pid_t pids[WPROCS + RPROCS];
	for (int p = 0; p < WPROCS + RPROCS; p++) {
		pids[p] = fork();
		if (pids[p] == 0) {
			scout_array *arr = NULL;
			if (scout_array_open(&arr, path, SCOUT_MODE_READ | SCOUT_MODE_WRITE) !=
			    SCOUT_OK) {
				fprintf(stderr, "open: %s\n", scout_last_error());
				atomic_fetch_add(&sh->errors, 1);
				if (p < WPROCS)
					atomic_fetch_add(&sh->writers_done, 1);
				_exit(1);
			}
			if (p < WPROCS) {
				pthread_t t[WTHREADS];
				wjob j[WTHREADS];
				for (int k = 0; k < WTHREADS; k++) {
					j[k] = (wjob){arr, r, p * WTHREADS + k};
					pthread_create(&t[k], NULL, writer_thread, &j[k]);
				}
				for (int k = 0; k < WTHREADS; k++)
					pthread_join(t[k], NULL);
				atomic_fetch_add(&sh->writers_done, 1);
			} else {
				pthread_t t[RTHREADS];
				rjob j[RTHREADS];
				for (int k = 0; k < RTHREADS; k++) {
					j[k] = (rjob){arr, r, 17u * (unsigned)(r + 1) + (unsigned)k,
						      old, new_};
					pthread_create(&t[k], NULL, reader_thread, &j[k]);
				}
				for (int k = 0; k < RTHREADS; k++)
					pthread_join(t[k], NULL);
			}
			scout_array_free(arr);
			_exit(0);
		}
	}
	for (int p = 0; p < WPROCS + RPROCS; p++) {
		int st;
		waitpid(pids[p], &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			atomic_fetch_add(&sh->errors, 1);
	}
	scout_array *arr = NULL;
	uint64_t *got = malloc(NVOX * 8);
	long lost = 0;
	int64_t zero[3] = {0, 0, 0};
	if (scout_array_open(&arr, path, SCOUT_MODE_READ) != SCOUT_OK ||
	    scout_extract_box(got, arr, zero, shape) != SCOUT_OK) {
		fprintf(stderr, "check: %s\n", scout_last_error());
		atomic_fetch_add(&sh->errors, 1);
		lost = NVOX;
	} else {
		for (int i = 0; i < NVOX; i++)
			lost += got[i] != new_[i];
	}
	scout_array_free(arr);
	free(got);
	return lost;
}

static long phase(const char *name, int rounds, int unlocked, long *writes)
{
	snprintf(path, sizeof path, "/tmp/scout-test-shardconc-%d-%s", (int)getpid(), name);
	scout_zarr_options o = SCOUT_ZARR_OPTIONS_INIT;
	o.ndim = 3;
	memcpy(o.shape, shape, sizeof shape);
	/* shards of 8 x 6 x 8 in inner chunks of 4 x 3 x 2 (edges on every axis) */
	o.chunks[0] = SZ;
	o.chunks[1] = SY;
	o.chunks[2] = SX;
	o.dtype = "<u8";
	o.zarr_format = 3;
	o.overwrite = 1;
	o.codecs = "[{\"name\":\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[4,3,2],"
		   "\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
		   "{\"name\":\"zstd\",\"configuration\":{\"level\":1,\"checksum\":false}}],"
		   "\"index_codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":"
		   "\"little\"}},{\"name\":\"crc32c\"}],\"index_location\":\"end\"}}]";
	scout_array *arr = NULL;
	if (scout_zarr_create(&arr, path, &o) != SCOUT_OK) {
		fprintf(stderr, "create: %s\n", scout_last_error());
		return -1;
	}
	scout_array_free(arr);
	if (unlocked)
		setenv("SCOUT_TEST_UNLOCKED_WRITES", "1", 1);
	static uint64_t old[NVOX], new_[NVOX];
	static box bx[NVOX];
	long lost = 0;
	for (int r = 0; r < rounds; r++) {
		expected(old, r - 1);
		expected(new_, r);
		int n = layout(bx, r);
		*writes += n;
		long l = run_round(r, old, new_);
		lost += l;
		fprintf(stderr, "%s round %d: %d boxes, %ld lost\n", name, r, n, l);
		if (unlocked && lost > 0)
			break;
	}
	unsetenv("SCOUT_TEST_UNLOCKED_WRITES");
	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf %s", path);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", path);
	return lost;
}

int main(void)
{
	sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 1;
	memset(sh, 0, sizeof *sh);
	int rounds = SHARD_ROUNDS;
	const char *e = getenv("SCOUT_SOAK_ROUNDS");
	if (e && atoi(e) > 0)
		rounds = atoi(e);
	long writes = 0;
	long lost = phase("locked", rounds, 0, &writes);
	fprintf(
	    stderr,
	    "locked: %d rounds, %ld box writes, %lld reads (%lld voxels checked): %ld lost, "
	    "%lld wrong, %lld torn (a box's piece of a shard half old, half new), %lld errors\n",
	    rounds, writes, (long long)sh->reads, (long long)sh->voxels, lost, (long long)sh->wrong,
	    (long long)sh->torn, (long long)sh->errors);
	CHECK(lost == 0);
	CHECK(atomic_load(&sh->wrong) == 0);
	CHECK(atomic_load(&sh->torn) == 0);
	CHECK(atomic_load(&sh->errors) == 0);
	CHECK(atomic_load(&sh->reads) > 0);
	/* the same without the shard lock: updates are lost (up to 20 rounds to see it) */
	long w2 = 0;
	long lost2 = phase("unlocked", 20, 1, &w2);
	fprintf(stderr, "unlocked: %ld box writes: %ld lost\n", w2, lost2);
	CHECK(lost2 > 0);
	munmap(sh, sizeof *sh);
	return check_summary();
}
