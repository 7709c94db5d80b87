/*
 * The large-buffer pool (src/core/bufpool.c): buffers never overlap and keep
 * their contents, sizes round as documented, freed memory is reused and its
 * retention is bounded, threads and fork are safe.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "core/bufpool.h"

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)

static _Thread_local uint64_t rng_state = 88172645463325252ull;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* fill with a pattern derived from tag so any overlap or reuse-while-live shows */
static void fill(unsigned char *p, size_t n, uint64_t tag)
{
	for (size_t i = 0; i < n; i += 4096)
		p[i] = (unsigned char)(tag + i / 4096);
	if ((n - 1) % 4096) /* the last byte, unless the loop wrote it */
		p[n - 1] = (unsigned char)(tag ^ 0x5a);
}

static int intact(const unsigned char *p, size_t n, uint64_t tag)
{
	for (size_t i = 0; i < n; i += 4096)
		if (p[i] != (unsigned char)(tag + i / 4096))
			return 0;
	return (n - 1) % 4096 == 0 || p[n - 1] == (unsigned char)(tag ^ 0x5a);
}

static size_t pick_size(void)
{
	switch (rnd() % 4) {
	case 0:
		return 1 + rnd() % (64 * KiB); /* malloc */
	case 1:
		return 512 * KiB; /* the common chunk size */
	case 2:
		return 64 * KiB + rnd() % (4 * MiB - 64 * KiB); /* slab classes */
	default:
		return 4 * MiB + 1 + rnd() % (12 * MiB); /* own mappings */
	}
}

/*
 * Live buffers of each workout, in static storage: a child forked while a
 * thread runs a workout inherits them, and the leak check of a child under
 * valgrind must find them reachable rather than lost with that thread's stack.
 */
#define SLOTS    8
#define LIVE_MAX 64
static unsigned char *g_ptr[SLOTS][LIVE_MAX];
static size_t g_size[SLOTS][LIVE_MAX];
static uint64_t g_tag[SLOTS][LIVE_MAX];

static void random_workout(int slot, int rounds, int live_max)
{
	unsigned char **ptr = g_ptr[slot];
	size_t *size = g_size[slot];
	uint64_t *tag = g_tag[slot];
	rng_state = 88172645463325252ull + (uint64_t)slot * 7919;
	CHECK(live_max <= LIVE_MAX);
	for (int r = 0; r < rounds; r++) {
		int k = (int)(rnd() % (uint64_t)live_max);
		if (ptr[k]) {
			CHECK(intact(ptr[k], size[k], tag[k]));
			scout__buf_free(ptr[k], size[k]);
			ptr[k] = NULL;
		} else {
			size[k] = pick_size();
			tag[k] = rnd();
			ptr[k] = scout__buf_alloc(size[k]);
			CHECK(ptr[k] != NULL);
			CHECK(((uintptr_t)ptr[k] & 15) == 0);
			fill(ptr[k], size[k], tag[k]);
		}
	}
	for (int k = 0; k < live_max; k++) {
		if (ptr[k]) {
			CHECK(intact(ptr[k], size[k], tag[k]));
			scout__buf_free(ptr[k], size[k]);
			ptr[k] = NULL;
		}
	}
}

static void *thread_main(void *arg)
{
	random_workout((int)(intptr_t)arg, 1500, 24);
	return NULL;
}

int main(void)
{
	/* before the pool's first use: retention limit of 64 MiB, and the pool on
	 * even where the test environment turns it off for the other tests (valgrind) */
	setenv("SCOUT_POOL_RETAIN_MB", "64", 1);
	unsetenv("SCOUT_POOL");
	scout_bufpool_stats st;
	scout__bufpool_stats(&st);
	if (!st.enabled) {
		/* AddressSanitizer builds and SCOUT_POOL=0 use malloc: still exercise the API */
		random_workout(0, 2000, 16);
		printf(
		    "bufpool: disabled (sanitizer build or SCOUT_POOL=0), malloc path checked\n");
		return check_summary();
	}
	CHECK(st.mapped == 0 && st.in_use == 0 && st.retained == 0);

	/* small buffers come from malloc: the pool maps nothing */
	void *small = scout__buf_alloc(1000);
	CHECK(small != NULL);
	scout__bufpool_stats(&st);
	CHECK(st.mapped == 0 && st.in_use == 0);
	scout__buf_free(small, 1000);

	/* slab classes: rounded to 64 KiB, carved from one 32 MiB slab */
	unsigned char *a = scout__buf_alloc(512 * KiB);
	unsigned char *b = scout__buf_alloc(512 * KiB - 100);
	CHECK(a && b && a != b);
	scout__bufpool_stats(&st);
	CHECK(st.slabs == 1);
	CHECK(st.mapped == 32 * MiB);
	CHECK(st.in_use == 1024 * KiB);
	CHECK(((uintptr_t)a & (64 * KiB - 1)) == 0);
	CHECK((size_t)(b > a ? b - a : a - b) >= 512 * KiB); /* no overlap */
	fill(a, 512 * KiB, 1);
	fill(b, 512 * KiB - 100, 2);
	CHECK(intact(a, 512 * KiB, 1) && intact(b, 512 * KiB - 100, 2));
	/* last freed is reused first */
	scout__buf_free(a, 512 * KiB);
	unsigned char *c = scout__buf_alloc(500 * KiB); /* same 512 KiB class */
	CHECK(c == a);
	CHECK(intact(b, 512 * KiB - 100, 2));
	scout__buf_free(c, 500 * KiB);
	scout__buf_free(b, 512 * KiB - 100);
	scout__bufpool_stats(&st);
	CHECK(st.in_use == 0);
	CHECK(st.retained == 32 * MiB); /* the wholly free slab is kept (limit 64 MiB) */
	CHECK(st.mapped == 32 * MiB);
	/* the next request of that class takes the kept slab instead of mapping one */
	unsigned char *d = scout__buf_alloc(512 * KiB);
	scout__bufpool_stats(&st);
	CHECK(st.mapped == 32 * MiB && st.retained == 0);
	scout__buf_free(d, 512 * KiB);

	/* a whole slab's worth of slots, then one more: a second slab */
	enum { NSLOT = 64 };
	unsigned char *slot[NSLOT + 1];
	for (int i = 0; i <= NSLOT; i++) {
		slot[i] = scout__buf_alloc(512 * KiB);
		CHECK(slot[i] != NULL);
		fill(slot[i], 512 * KiB, (uint64_t)i);
	}
	scout__bufpool_stats(&st);
	CHECK(st.slabs == 2 && st.mapped == 64 * MiB && st.retained == 0);
	for (int i = 0; i <= NSLOT; i++)
		CHECK(intact(slot[i], 512 * KiB, (uint64_t)i));
	for (int i = 0; i <= NSLOT; i++)
		scout__buf_free(slot[i], 512 * KiB);
	scout__bufpool_stats(&st);
	CHECK(st.in_use == 0);
	CHECK(st.retained == 64 * MiB); /* both kept: exactly the limit */

	/* large buffers: own 2 MiB-rounded mapping, reused for the same rounded size */
	unsigned char *big = scout__buf_alloc(10 * MiB + 1);
	CHECK(big != NULL && ((uintptr_t)big & (2 * MiB - 1)) == 0);
	fill(big, 10 * MiB + 1, 7);
	scout__bufpool_stats(&st);
	CHECK(st.in_use == 12 * MiB);
	scout__buf_free(big, 10 * MiB + 1);
	/* retention is full (64 MiB of slabs): the large buffer goes back to the system */
	scout__bufpool_stats(&st);
	CHECK(st.retained == 64 * MiB && st.mapped == 64 * MiB);
	scout__bufpool_trim();
	scout__bufpool_stats(&st);
	CHECK(st.mapped == 0 && st.retained == 0 && st.slabs == 0);
	big = scout__buf_alloc(10 * MiB + 1);
	scout__buf_free(big, 10 * MiB + 1);
	unsigned char *big2 = scout__buf_alloc(11 * MiB); /* same rounded size: 12 MiB */
	CHECK(big2 == big);
	scout__buf_free(big2, 11 * MiB);
	scout__bufpool_stats(&st);
	CHECK(st.retained == 12 * MiB && st.mapped == 12 * MiB);

	/* random single-threaded workout, then four threads at once */
	random_workout(0, 8000, 40);
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		CHECK(pthread_create(&t[i], NULL, thread_main, (void *)(intptr_t)(i + 1)) == 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	scout__bufpool_stats(&st);
	CHECK(st.in_use == 0);
	CHECK(st.retained <= 64 * MiB);
	CHECK(st.mapped == st.retained); /* nothing live: all that is mapped is retained */

	/* fork while another thread uses the pool: the child can use it (no deadlock) */
	pthread_t busy;
	CHECK(pthread_create(&busy, NULL, thread_main, (void *)(intptr_t)5) == 0);
	for (int k = 0; k < 5; k++) {
		pid_t pid = fork();
		if (pid == 0) {
			unsigned char *x = scout__buf_alloc(512 * KiB);
			if (!x)
				_exit(3);
			fill(x, 512 * KiB, 9);
			int ok = intact(x, 512 * KiB, 9);
			scout__buf_free(x, 512 * KiB);
			_exit(ok ? 0 : 4);
		}
		CHECK(pid > 0);
		int status = 0;
		CHECK(waitpid(pid, &status, 0) == pid);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	pthread_join(busy, NULL);
	scout__bufpool_trim();
	scout__bufpool_stats(&st);
	CHECK(st.mapped == 0 && st.in_use == 0);
	return check_summary();
}
