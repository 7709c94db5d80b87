/* The large-buffer pool: see bufpool.h for what it is for and its rules. */
#include "core/bufpool.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define SMALL_MAX      ((size_t)64 << 10) /* below: malloc */
#define CLASS_ALIGN    ((size_t)64 << 10) /* slot sizes are multiples of this */
#define SLAB_MAX_CLASS ((size_t)4 << 20)  /* above: a mapping per buffer */
#define SLAB_SIZE      ((size_t)32 << 20) /* one slab, carved into slots */
#define HUGE_ALIGN     ((size_t)2 << 20)  /* transparent huge page size on x86-64 */
#define DEFAULT_RETAIN ((size_t)256 << 20)

#if defined(__SANITIZE_ADDRESS__)
#define POOL_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POOL_SANITIZED 1
#endif
#endif
#ifndef POOL_SANITIZED
#define POOL_SANITIZED 0
#endif

typedef struct {
	char *base;
	size_t cls;      /* slot size */
	uint32_t nslots; /* slots carved from the slab */
	uint32_t nfree;  /* free slots: their indices are stack[0 .. nfree-1] */
	uint32_t *stack; /* top = most recently freed */
} slab;

typedef struct large {
	char *base;
	size_t size;
	struct large *next;
} large;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int enabled;
static size_t retain_limit;
static slab **slabs; /* sorted by base address */
static size_t nslabs, capslabs;
static large *free_large;
static size_t st_mapped, st_in_use, st_retained;

static void lock_for_fork(void)
{
	pthread_mutex_lock(&mu);
}

static void unlock_after_fork(void)
{
	pthread_mutex_unlock(&mu);
}

static void init(void)
{
	const char *e = getenv("SCOUT_POOL");
	enabled = !POOL_SANITIZED && !(e && !strcmp(e, "0"));
	retain_limit = DEFAULT_RETAIN;
	const char *r = getenv("SCOUT_POOL_RETAIN_MB");
	if (r && *r) {
		char *end;
		unsigned long long mb = strtoull(r, &end, 10);
		if (*end == '\0' && mb <= (SIZE_MAX >> 20))
			retain_limit = (size_t)mb << 20;
	}
	pthread_atfork(lock_for_fork, unlock_after_fork, unlock_after_fork);
}

/* size bytes, HUGE_ALIGN-aligned, marked for transparent huge pages; NULL on failure */
static char *map_aligned(size_t size)
{
	size_t span = size + HUGE_ALIGN;
	char *p = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	uintptr_t a = ((uintptr_t)p + HUGE_ALIGN - 1) & ~(uintptr_t)(HUGE_ALIGN - 1);
	char *base = (char *)a;
	size_t head = (size_t)(base - p), tail = span - head - size;
	if (head)
		munmap(p, head);
	if (tail)
		munmap(base + size, tail);
#ifdef MADV_HUGEPAGE
	(void)madvise(base, size, MADV_HUGEPAGE);
#endif
	return base;
}

/* index of the slab holding p, or nslabs */
static size_t find_slab(const void *p)
{
	size_t lo = 0, hi = nslabs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if ((const char *)p < slabs[mid]->base)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (lo == 0)
		return nslabs;
	slab *s = slabs[lo - 1];
	return (const char *)p < s->base + SLAB_SIZE ? lo - 1 : nslabs;
}

static slab *new_slab(size_t cls)
{
	if (nslabs == capslabs) {
		size_t nc = capslabs ? 2 * capslabs : 16;
		slab **ns = realloc(slabs, nc * sizeof *ns);
		if (!ns)
			return NULL;
		slabs = ns;
		capslabs = nc;
	}
	slab *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->nslots = (uint32_t)(SLAB_SIZE / cls);
	s->stack = malloc(s->nslots * sizeof *s->stack);
	s->base = s->stack ? map_aligned(SLAB_SIZE) : NULL;
	if (!s->base) {
		free(s->stack);
		free(s);
		return NULL;
	}
	s->cls = cls;
	/* slot 0 on top: slots are first used in address order */
	for (uint32_t i = 0; i < s->nslots; i++)
		s->stack[i] = s->nslots - 1 - i;
	s->nfree = s->nslots;
	size_t at = 0; /* keep slabs sorted: insert before the first slab above base */
	while (at < nslabs && slabs[at]->base < s->base)
		at++;
	memmove(slabs + at + 1, slabs + at, (nslabs - at) * sizeof *slabs);
	slabs[at] = s;
	nslabs++;
	st_mapped += SLAB_SIZE;
	return s;
}

static void drop_slab(size_t at)
{
	slab *s = slabs[at];
	munmap(s->base, SLAB_SIZE);
	free(s->stack);
	free(s);
	memmove(slabs + at, slabs + at + 1, (nslabs - at - 1) * sizeof *slabs);
	nslabs--;
	st_mapped -= SLAB_SIZE;
}

static void *slab_alloc(size_t cls)
{
	slab *part = NULL, *empty = NULL;
	for (size_t i = 0; i < nslabs && !part; i++) {
		slab *s = slabs[i];
		if (s->cls != cls || s->nfree == 0)
			continue;
		if (s->nfree < s->nslots)
			part = s;
		else if (!empty)
			empty = s;
	}
	slab *s = part ? part : empty;
	if (s == empty && s)
		st_retained -= SLAB_SIZE;
	if (!s && !(s = new_slab(cls)))
		return NULL;
	uint32_t idx = s->stack[--s->nfree];
	return s->base + (size_t)idx * cls;
}

static void slab_free(void *p, size_t cls)
{
	size_t at = find_slab(p);
	if (at == nslabs || slabs[at]->cls != cls)
		abort(); /* not a pooled buffer of this size: a caller's bug */
	slab *s = slabs[at];
	s->stack[s->nfree++] = (uint32_t)((size_t)((char *)p - s->base) / cls);
	if (s->nfree < s->nslots)
		return;
	if (st_retained + SLAB_SIZE <= retain_limit)
		st_retained += SLAB_SIZE;
	else
		drop_slab(at);
}

static void *large_alloc(size_t size)
{
	for (large **pp = &free_large; *pp; pp = &(*pp)->next) {
		large *l = *pp;
		if (l->size != size)
			continue;
		*pp = l->next;
		char *p = l->base;
		free(l);
		st_retained -= size;
		return p;
	}
	char *p = map_aligned(size);
	if (p)
		st_mapped += size;
	return p;
}

static void large_free(void *p, size_t size)
{
	large *l = NULL;
	if (st_retained + size <= retain_limit)
		l = malloc(sizeof *l);
	if (!l) {
		munmap(p, size);
		st_mapped -= size;
		return;
	}
	l->base = p;
	l->size = size;
	l->next = free_large;
	free_large = l;
	st_retained += size;
}

static size_t rounded(size_t n)
{
	if (n <= SLAB_MAX_CLASS)
		return (n + CLASS_ALIGN - 1) & ~(CLASS_ALIGN - 1);
	return (n + HUGE_ALIGN - 1) & ~(HUGE_ALIGN - 1);
}

void *scout__buf_alloc(size_t n)
{
	pthread_once(&once, init);
	if (!enabled || n < SMALL_MAX)
		return malloc(n ? n : 1);
	if (n > SIZE_MAX - HUGE_ALIGN * 2)
		return NULL;
	size_t r = rounded(n);
	pthread_mutex_lock(&mu);
	void *p = r <= SLAB_MAX_CLASS ? slab_alloc(r) : large_alloc(r);
	if (p)
		st_in_use += r;
	pthread_mutex_unlock(&mu);
	return p;
}

void scout__buf_free(void *p, size_t n)
{
	if (!p)
		return;
	pthread_once(&once, init);
	if (!enabled || n < SMALL_MAX) {
		free(p);
		return;
	}
	size_t r = rounded(n);
	pthread_mutex_lock(&mu);
	st_in_use -= r;
	if (r <= SLAB_MAX_CLASS)
		slab_free(p, r);
	else
		large_free(p, r);
	pthread_mutex_unlock(&mu);
}

void scout__bufpool_stats(scout_bufpool_stats *out)
{
	pthread_once(&once, init);
	pthread_mutex_lock(&mu);
	out->mapped = st_mapped;
	out->in_use = st_in_use;
	out->retained = st_retained;
	out->slabs = nslabs;
	out->enabled = enabled;
	pthread_mutex_unlock(&mu);
}

void scout__bufpool_trim(void)
{
	pthread_once(&once, init);
	pthread_mutex_lock(&mu);
	for (size_t i = nslabs; i-- > 0;) {
		if (slabs[i]->nfree == slabs[i]->nslots) {
			st_retained -= SLAB_SIZE;
			drop_slab(i);
		}
	}
	while (free_large) {
		large *l = free_large;
		free_large = l->next;
		munmap(l->base, l->size);
		st_mapped -= l->size;
		st_retained -= l->size;
		free(l);
	}
	if (nslabs == 0) {
		free(slabs);
		slabs = NULL;
		capslabs = 0;
	}
	pthread_mutex_unlock(&mu);
}
