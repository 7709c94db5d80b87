/* Bounded, sharded, reference-counted LRU cache of decoded chunks (see chunk_cache.h). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chunk_cache.h"
#include "core/bufpool.h"

#define MAX_SHARDS  16
#define MAX_BUCKETS (1u << 16)

struct scout_cache_entry {
	uint64_t index;
	void *data;
	size_t cost; /* bytes counted against the budget */
	scout_cache_meta meta;
	int refs;
	int detached; /* no longer in the table: freed at the last release */
	scout_cache_entry *hnext;
	scout_cache_entry *prev, *next; /* LRU list, most recent first */
};

typedef struct {
	pthread_mutex_t mu;
	scout_cache_entry **buckets;
	size_t nbuckets; /* power of two */
	scout_cache_entry *head, *tail;
	size_t bytes, budget;
} shard;

struct scout_chunk_cache {
	size_t capacity, chunk_nbytes;
	int nshards;
	shard shards[MAX_SHARDS];
};

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= UINT64_C(0xff51afd7ed558ccd);
	x ^= x >> 33;
	x *= UINT64_C(0xc4ceb9fe1a85ec53);
	x ^= x >> 33;
	return x;
}

uint64_t scout__hash64(const void *data, size_t n)
{
	const unsigned char *p = data;
	uint64_t h = UINT64_C(0x9e3779b97f4a7c15) ^ (uint64_t)n;
	uint64_t a = UINT64_C(0x243f6a8885a308d3), b = UINT64_C(0x13198a2e03707344);
	size_t i = 0;
	for (; i + 16 <= n; i += 16) {
		uint64_t w0, w1;
		memcpy(&w0, p + i, 8);
		memcpy(&w1, p + i + 8, 8);
		a = (a ^ w0) * UINT64_C(0x9fb21c651e98df25);
		a = (a << 29) | (a >> 35);
		b = (b ^ w1) * UINT64_C(0xc2b2ae3d27d4eb4f);
		b = (b << 31) | (b >> 33);
	}
	for (; i < n; i++)
		h = (h ^ p[i]) * UINT64_C(0x100000001b3);
	return mix64(h ^ mix64(a) ^ (mix64(b) << 1));
}

int scout__cache_new(scout_chunk_cache **out, size_t capacity, size_t chunk_nbytes)
{
	*out = NULL;
	scout_chunk_cache *c = calloc(1, sizeof *c);
	if (!c)
		return scout__error(SCOUT_ENOMEM, "chunk cache: out of memory");
	c->capacity = capacity;
	c->chunk_nbytes = chunk_nbytes;
	size_t cost = chunk_nbytes + sizeof(scout_cache_entry);
	size_t fit = capacity / cost; /* chunks the whole budget holds */
	/* Shards only spread lock traffic between threads: each evicts by its own
	 * LRU order from an equal share of the budget, so the more shards, the
	 * further eviction strays from the whole cache's LRU order (and the more
	 * chunks are decoded again). Two per CPU keeps lock waits rare. */
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	size_t ns = fit / 8; /* at least 8 chunks per shard */
	size_t maxs = ncpu > 0 && (size_t)ncpu * 2 < MAX_SHARDS ? (size_t)ncpu * 2 : MAX_SHARDS;
	c->nshards = ns < 1 ? 1 : ns > maxs ? (int)maxs : (int)ns;
	size_t per = fit / (size_t)c->nshards + 1, nb = 16;
	while (nb < per * 2 && nb < MAX_BUCKETS)
		nb *= 2;
	for (int i = 0; i < c->nshards; i++) {
		shard *s = &c->shards[i];
		pthread_mutex_init(&s->mu, NULL);
		s->budget = capacity / (size_t)c->nshards;
		s->nbuckets = nb;
		s->buckets = calloc(nb, sizeof *s->buckets);
		if (!s->buckets) {
			c->nshards = i + 1;
			scout__cache_free(c);
			return scout__error(SCOUT_ENOMEM, "chunk cache: out of memory");
		}
	}
	*out = c;
	return SCOUT_OK;
}

static shard *shard_of(scout_chunk_cache *c, uint64_t index)
{
	return &c->shards[mix64(index) % (uint64_t)c->nshards];
}

static size_t bucket_of(const shard *s, uint64_t index)
{
	return (size_t)(mix64(index ^ UINT64_C(0x5bd1e995)) & (s->nbuckets - 1));
}

static void entry_free(scout_cache_entry *e)
{
	scout__buf_free(e->data, e->cost - sizeof *e); /* cost = chunk_nbytes + sizeof *e */
	free(e);
}

/* unlink from table and LRU; caller holds the lock; frees when unreferenced */
static void detach(shard *s, scout_cache_entry *e)
{
	scout_cache_entry **pp = &s->buckets[bucket_of(s, e->index)];
	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
	if (e->prev)
		e->prev->next = e->next;
	else
		s->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		s->tail = e->prev;
	e->prev = e->next = e->hnext = NULL;
	s->bytes -= e->cost;
	e->detached = 1;
	if (e->refs == 0)
		entry_free(e);
}

static scout_cache_entry *find(shard *s, uint64_t index)
{
	for (scout_cache_entry *e = s->buckets[bucket_of(s, index)]; e; e = e->hnext)
		if (e->index == index)
			return e;
	return NULL;
}

static void touch(shard *s, scout_cache_entry *e)
{
	if (s->head == e)
		return;
	/* unlink */
	e->prev->next = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		s->tail = e->prev;
	/* push front */
	e->prev = NULL;
	e->next = s->head;
	s->head->prev = e;
	s->head = e;
}

void scout__cache_free(scout_chunk_cache *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->nshards; i++) {
		shard *s = &c->shards[i];
		scout_cache_entry *e = s->head;
		while (e) {
			scout_cache_entry *n = e->next;
			entry_free(e);
			e = n;
		}
		free(s->buckets);
		pthread_mutex_destroy(&s->mu);
	}
	free(c);
}

size_t scout__cache_capacity(const scout_chunk_cache *c)
{
	return c->capacity;
}

size_t scout__cache_bytes(scout_chunk_cache *c)
{
	size_t total = 0;
	for (int i = 0; i < c->nshards; i++) {
		pthread_mutex_lock(&c->shards[i].mu);
		total += c->shards[i].bytes;
		pthread_mutex_unlock(&c->shards[i].mu);
	}
	return total;
}

scout_cache_entry *scout__cache_get(scout_chunk_cache *c, uint64_t index)
{
	if (c->capacity == 0)
		return NULL;
	shard *s = shard_of(c, index);
	pthread_mutex_lock(&s->mu);
	scout_cache_entry *e = find(s, index);
	if (e) {
		e->refs++;
		touch(s, e);
	}
	pthread_mutex_unlock(&s->mu);
	return e;
}

void scout__cache_release(scout_chunk_cache *c, scout_cache_entry *e)
{
	if (!e)
		return;
	shard *s = shard_of(c, e->index);
	pthread_mutex_lock(&s->mu);
	int dead = --e->refs == 0 && e->detached;
	pthread_mutex_unlock(&s->mu);
	if (dead)
		entry_free(e);
}

const void *scout__cache_entry_data(const scout_cache_entry *e)
{
	return e->data;
}

scout_cache_meta scout__cache_entry_meta(scout_chunk_cache *c, const scout_cache_entry *e)
{
	shard *s = shard_of(c, e->index);
	pthread_mutex_lock(&s->mu);
	scout_cache_meta m = e->meta;
	pthread_mutex_unlock(&s->mu);
	return m;
}

void scout__cache_entry_set_meta(scout_chunk_cache *c, scout_cache_entry *e,
				 const scout_cache_meta *meta)
{
	shard *s = shard_of(c, e->index);
	pthread_mutex_lock(&s->mu);
	e->meta = *meta;
	pthread_mutex_unlock(&s->mu);
}

int scout__cache_put(scout_chunk_cache *c, uint64_t index, void *data, const scout_cache_meta *meta,
		     scout_cache_entry **ref_out)
{
	if (ref_out)
		*ref_out = NULL;
	shard *s = shard_of(c, index);
	size_t cost = c->chunk_nbytes + sizeof(scout_cache_entry);
	scout_cache_entry *e = NULL;
	if (cost <= s->budget)
		e = calloc(1, sizeof *e);
	pthread_mutex_lock(&s->mu);
	scout_cache_entry *old = find(s, index);
	if (old)
		detach(s, old);
	if (!e) {
		pthread_mutex_unlock(&s->mu);
		return 0;
	}
	while (s->tail && s->bytes + cost > s->budget)
		detach(s, s->tail);
	e->index = index;
	e->data = data;
	e->cost = cost;
	e->meta = *meta;
	e->refs = ref_out ? 1 : 0;
	size_t b = bucket_of(s, index);
	e->hnext = s->buckets[b];
	s->buckets[b] = e;
	e->next = s->head;
	if (s->head)
		s->head->prev = e;
	s->head = e;
	if (!s->tail)
		s->tail = e;
	s->bytes += cost;
	pthread_mutex_unlock(&s->mu);
	if (ref_out)
		*ref_out = e;
	return 1;
}

void scout__cache_invalidate(scout_chunk_cache *c, uint64_t index)
{
	if (c->capacity == 0)
		return;
	shard *s = shard_of(c, index);
	pthread_mutex_lock(&s->mu);
	scout_cache_entry *e = find(s, index);
	if (e)
		detach(s, e);
	pthread_mutex_unlock(&s->mu);
}

void scout__cache_clear(scout_chunk_cache *c)
{
	for (int i = 0; i < c->nshards; i++) {
		shard *s = &c->shards[i];
		pthread_mutex_lock(&s->mu);
		while (s->head)
			detach(s, s->head);
		pthread_mutex_unlock(&s->mu);
	}
}

void scout__cache_after_fork(scout_chunk_cache *c)
{
	/*
	 * Entries stay: they are validated against the store on every use. Only
	 * the mutexes, which a parent thread may have held at fork time, are
	 * re-created.
	 */
	for (int i = 0; i < c->nshards; i++)
		pthread_mutex_init(&c->shards[i].mu, NULL);
}
