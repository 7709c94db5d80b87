/* Populating a large destination before it is written (see prefault.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "prefault.h"
#include "scout/iothreads.h"
#include "workpool.h"

#define PAGE ((uintptr_t)4096)
#define HUGE ((uintptr_t)2 << 20)

typedef struct {
	uintptr_t a, b; /* page-aligned range */
	size_t part;    /* bytes per item, a multiple of HUGE */
} span_job;

static int populate_one(size_t item, void *payload)
{
#ifdef MADV_POPULATE_WRITE
	span_job *s = payload;
	uintptr_t a = s->a + item * s->part;
	uintptr_t b = a + s->part < s->b ? a + s->part : s->b;
	if (b > a)
		(void)madvise((void *)a, b - a, MADV_POPULATE_WRITE);
#else
	(void)item;
	(void)payload;
#endif
	return SCOUT_OK;
}

void scout__prefault(void *p, size_t n)
{
#ifdef MADV_POPULATE_WRITE
	if (n < SCOUT_PREFAULT_MIN)
		return;
	const char *env = getenv("SCOUT_PREFAULT");
	if (env && strcmp(env, "0") == 0)
		return;
	uintptr_t lo = (uintptr_t)p, hi = lo + n;
	uintptr_t ha = (lo + HUGE - 1) & ~(HUGE - 1), hb = hi & ~(HUGE - 1);
#ifdef MADV_HUGEPAGE
	if (hb > ha)
		(void)madvise((void *)ha, hb - ha, MADV_HUGEPAGE);
#endif
	span_job s = {(lo + PAGE - 1) & ~(PAGE - 1), hi & ~(PAGE - 1), 0};
	if (s.b <= s.a)
		return;
	/* a few spans per thread, whole huge pages each */
	size_t items = (size_t)scout_io_threads() * 4;
	s.part = ((s.b - s.a) / items + HUGE - 1) & ~(HUGE - 1);
	if (s.part == 0)
		s.part = HUGE;
	items = (s.b - s.a + s.part - 1) / s.part;
	(void)scout__workpool_run(items, populate_one, &s, NULL);
#else
	(void)p;
	(void)n;
#endif
}
