/*
 * first_touch: what writing to memory costs the first time a process touches
 * it, against writing it again. On the 2-core benchmark VM the first touch of
 * fresh memory ran at 0.25-0.45 GB/s and the rewrite at 16 GB/s: a fault per
 * 4 KiB page, taken again by the hypervisor. That cost, not the codecs, was
 * most of what W3 and W5 spent beyond the codec floor (bench/PROFILE.md).
 *
 * usage: first_touch [MIB]     (default 256: the size of W3's decoded chunks)
 * Copies a hot 512 KiB buffer (a decoded 64^3 uint16 chunk) into MIB MiB of
 * memory obtained four ways, then into the same memory again:
 *   malloc          one malloc() per 512 KiB (glibc maps each one afresh)
 *   malloc+populate the same, pages faulted in first by madvise(MADV_POPULATE_WRITE)
 *   hugepage        one 2 MiB-aligned mapping marked MADV_HUGEPAGE (what the
 *                   buffer pool of src/core/bufpool.c does)
 * prints one line per way: first-touch and rewrite throughput in MB/s.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define PIECE      ((size_t)512 << 10)
#define HUGE_ALIGN ((size_t)2 << 20)

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void populate(void *p, size_t n)
{
#ifdef MADV_POPULATE_WRITE
	uintptr_t a = ((uintptr_t)p + 4095) & ~(uintptr_t)4095;
	uintptr_t b = ((uintptr_t)p + n) & ~(uintptr_t)4095;
	if (b > a)
		madvise((void *)a, b - a, MADV_POPULATE_WRITE);
#else
	(void)p;
	(void)n;
#endif
}

static void run(const char *name, int way, size_t total, const char *src)
{
	size_t n = total / PIECE;
	char **piece = calloc(n, sizeof *piece);
	char *region = NULL;
	size_t span = total + HUGE_ALIGN;
	if (!piece)
		exit(1);
	double t0 = now();
	if (way == 2) {
		region =
		    mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (region == MAP_FAILED)
			exit(1);
		char *base =
		    (char *)(((uintptr_t)region + HUGE_ALIGN - 1) & ~(uintptr_t)(HUGE_ALIGN - 1));
#ifdef MADV_HUGEPAGE
		madvise(base, total, MADV_HUGEPAGE);
#endif
		for (size_t i = 0; i < n; i++)
			piece[i] = base + i * PIECE;
	}
	for (size_t i = 0; i < n; i++) {
		if (way != 2 && !(piece[i] = malloc(PIECE)))
			exit(1);
		if (way == 1)
			populate(piece[i], PIECE);
		memcpy(piece[i], src, PIECE);
	}
	double first = now() - t0;
	t0 = now();
	for (size_t i = 0; i < n; i++)
		memcpy(piece[i], src, PIECE);
	double again = now() - t0;
	printf("%-16s first touch %7.0f MB/s   rewrite %7.0f MB/s   (%zu MiB)\n", name,
	       (double)total / first / 1e6, (double)total / again / 1e6, total >> 20);
	if (way == 2)
		munmap(region, span);
	else
		for (size_t i = 0; i < n; i++)
			free(piece[i]);
	free(piece);
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? (size_t)atol(argv[1]) : 256;
	if (mib < 1)
		mib = 1;
	char *src = malloc(PIECE);
	if (!src)
		return 1;
	memset(src, 0x5a, PIECE);
	run("malloc", 0, mib << 20, src);
	run("malloc+populate", 1, mib << 20, src);
	run("hugepage", 2, mib << 20, src);
	free(src);
	return 0;
}
