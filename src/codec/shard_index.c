/* The shard index of sharding_indexed: decode, validate, encode, read plans, layout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bufpool.h"
#include "shard_index.h"

int scout__shard_layout_init(scout_shard_layout *layout, int ndim, const int64_t *shard_shape,
			     const int64_t *inner_shape, int big_endian, int at_start,
			     uint32_t (*crc32c)(const void *, size_t), const char *what)
{
	memset(layout, 0, sizeof *layout);
	if (ndim < 1 || ndim > SCOUT_MAX_NDIM)
		return scout__error(SCOUT_EFORMAT, "%s: sharding_indexed: %d dimensions (1 to %d)",
				    what, ndim, SCOUT_MAX_NDIM);
	uint64_t count = 1;
	for (int d = 0; d < ndim; d++) {
		if (shard_shape[d] <= 0 || inner_shape[d] <= 0)
			return scout__error(
			    SCOUT_EFORMAT,
			    "%s: sharding_indexed: chunk_shape[%d] = %lld and shard "
			    "extent %lld must be positive",
			    what, d, (long long)inner_shape[d], (long long)shard_shape[d]);
		if (shard_shape[d] % inner_shape[d] != 0)
			return scout__error(SCOUT_EFORMAT,
					    "%s: sharding_indexed: chunk_shape[%d] = %lld does not "
					    "divide the shard's extent %lld",
					    what, d, (long long)inner_shape[d],
					    (long long)shard_shape[d]);
		layout->grid[d] = shard_shape[d] / inner_shape[d];
		/* the bound keeps count * 16 + 4 within INT64_MAX and SIZE_MAX */
		uint64_t lim = (uint64_t)(SIZE_MAX < INT64_MAX ? SIZE_MAX : INT64_MAX) / 16 - 1;
		if ((uint64_t)layout->grid[d] > lim / count)
			return scout__error(SCOUT_EOVERFLOW,
					    "%s: sharding_indexed: too many inner chunks per shard "
					    "for an index in memory",
					    what);
		count *= (uint64_t)layout->grid[d];
	}
	layout->ndim = ndim;
	layout->count = count;
	layout->big_endian = big_endian != 0;
	layout->at_start = at_start != 0;
	layout->crc32c = crc32c;
	return SCOUT_OK;
}

size_t scout__shard_index_nbytes(const scout_shard_layout *layout)
{
	return (size_t)layout->count * 16 + (layout->crc32c ? 4 : 0);
}

void scout__shard_inner_coords(int64_t *coords, const scout_shard_layout *layout, uint64_t i)
{
	for (int d = layout->ndim - 1; d >= 0; d--) {
		coords[d] = (int64_t)(i % (uint64_t)layout->grid[d]);
		i /= (uint64_t)layout->grid[d];
	}
}

static uint64_t get_u64(const unsigned char *p, int big)
{
	uint64_t v = 0;
	for (int k = 0; k < 8; k++)
		v |= (uint64_t)p[big ? 7 - k : k] << (8 * k);
	return v;
}

static void put_u64(unsigned char *p, uint64_t v, int big)
{
	for (int k = 0; k < 8; k++)
		p[big ? 7 - k : k] = (unsigned char)(v >> (8 * k));
}

static uint32_t get_u32le(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_u32le(unsigned char *p, uint32_t v)
{
	for (int k = 0; k < 4; k++)
		p[k] = (unsigned char)(v >> (8 * k));
}

/* "inner chunk (1, 0, 2)" of C-order index i */
static const char *inner_name(char *buf, size_t bufsize, const scout_shard_layout *layout,
			      uint64_t i)
{
	int64_t c[SCOUT_MAX_NDIM];
	char co[256];
	scout__shard_inner_coords(c, layout, i);
	snprintf(buf, bufsize, "inner chunk %s", scout__fmt_coords(co, sizeof co, layout->ndim, c));
	return buf;
}

typedef struct {
	uint64_t offset, nbytes, index;
} span;

static int cmp_span(const void *a, const void *b)
{
	const span *x = a, *y = b;
	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	if (x->nbytes != y->nbytes)
		return x->nbytes < y->nbytes ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

int scout__shard_index_decode(scout_shard_entry *entries, const void *idx, size_t n,
			      const scout_shard_layout *layout, uint64_t shard_size,
			      uint64_t max_nbytes, const char *shard_key)
{
	size_t need = scout__shard_index_nbytes(layout);
	const unsigned char *p = idx;
	char nm[320], nm2[320];
	if (shard_size < need)
		return scout__error(
		    SCOUT_EFORMAT,
		    "shard %s: truncated: %llu bytes, shorter than its %zu-byte index", shard_key,
		    (unsigned long long)shard_size, need);
	if (n != need)
		return scout__error(
		    SCOUT_EFORMAT,
		    "shard %s: index of %zu bytes, %zu required (%llu inner chunks%s)", shard_key,
		    n, need, (unsigned long long)layout->count, layout->crc32c ? " + crc32c" : "");
	size_t raw = (size_t)layout->count * 16;
	if (layout->crc32c) {
		uint32_t want = get_u32le(p + raw), got = layout->crc32c(p, raw);
		if (want != got)
			return scout__error(
			    SCOUT_EFORMAT,
			    "shard %s: index crc32c mismatch (stored 0x%08x, computed "
			    "0x%08x)",
			    shard_key, (unsigned)want, (unsigned)got);
	}
	/* the index's own bytes */
	uint64_t ilo = layout->at_start ? 0 : shard_size - need;
	uint64_t ihi = ilo + need;
	size_t nspan = 0;
	for (uint64_t i = 0; i < layout->count; i++) {
		uint64_t off = get_u64(p + 16 * i, layout->big_endian);
		uint64_t nb = get_u64(p + 16 * i + 8, layout->big_endian);
		entries[i].offset = off;
		entries[i].nbytes = nb;
		if (off == SCOUT_SHARD_EMPTY && nb == SCOUT_SHARD_EMPTY)
			continue;
		if (off == SCOUT_SHARD_EMPTY || nb == SCOUT_SHARD_EMPTY)
			return scout__error(SCOUT_EFORMAT,
					    "shard %s: %s: offset %llu, nbytes %llu: half of the "
					    "empty pair (2^64-1, 2^64-1)",
					    shard_key, inner_name(nm, sizeof nm, layout, i),
					    (unsigned long long)off, (unsigned long long)nb);
		if (off > shard_size || nb > shard_size - off)
			return scout__error(
			    SCOUT_EFORMAT,
			    "shard %s: %s: bytes %llu + %llu lie beyond the shard's "
			    "%llu bytes",
			    shard_key, inner_name(nm, sizeof nm, layout, i),
			    (unsigned long long)off, (unsigned long long)nb,
			    (unsigned long long)shard_size);
		if (nb > max_nbytes)
			return scout__error(SCOUT_EFORMAT,
					    "shard %s: %s: nbytes %llu exceeds the %llu bytes its "
					    "codecs can produce",
					    shard_key, inner_name(nm, sizeof nm, layout, i),
					    (unsigned long long)nb, (unsigned long long)max_nbytes);
		if (nb > 0 && off < ihi && off + nb > ilo)
			return scout__error(SCOUT_EFORMAT,
					    "shard %s: %s: bytes %llu + %llu overlap the index at "
					    "bytes %llu..%llu",
					    shard_key, inner_name(nm, sizeof nm, layout, i),
					    (unsigned long long)off, (unsigned long long)nb,
					    (unsigned long long)ilo, (unsigned long long)ihi);
		if (nb > 0)
			nspan++;
	}
	if (nspan < 2)
		return SCOUT_OK;
	span *s = malloc(nspan * sizeof *s);
	if (!s)
		return scout__error(SCOUT_ENOMEM, "shard %s: out of memory checking the index",
				    shard_key);
	size_t k = 0;
	for (uint64_t i = 0; i < layout->count; i++)
		if (entries[i].offset != SCOUT_SHARD_EMPTY && entries[i].nbytes > 0)
			s[k++] = (span){entries[i].offset, entries[i].nbytes, i};
	qsort(s, nspan, sizeof *s, cmp_span);
	/* the range reaching furthest so far: a later start before its end overlaps it */
	size_t far = 0;
	int rc = SCOUT_OK;
	for (k = 1; k < nspan; k++) {
		uint64_t far_end = s[far].offset + s[far].nbytes;
		if (s[k].offset < far_end &&
		    !(s[k].offset == s[far].offset && s[k].nbytes == s[far].nbytes)) {
			rc = scout__error(
			    SCOUT_EFORMAT,
			    "shard %s: %s: bytes %llu + %llu overlap those of %s "
			    "(%llu + %llu)",
			    shard_key, inner_name(nm, sizeof nm, layout, s[k].index),
			    (unsigned long long)s[k].offset, (unsigned long long)s[k].nbytes,
			    inner_name(nm2, sizeof nm2, layout, s[far].index),
			    (unsigned long long)s[far].offset, (unsigned long long)s[far].nbytes);
			break;
		}
		if (s[k].offset + s[k].nbytes > far_end)
			far = k;
	}
	free(s);
	return rc;
}

void scout__shard_index_encode(void *dst, const scout_shard_entry *entries,
			       const scout_shard_layout *layout)
{
	unsigned char *p = dst;
	for (uint64_t i = 0; i < layout->count; i++) {
		put_u64(p + 16 * i, entries[i].offset, layout->big_endian);
		put_u64(p + 16 * i + 8, entries[i].nbytes, layout->big_endian);
	}
	if (layout->crc32c) {
		size_t raw = (size_t)layout->count * 16;
		put_u32le(p + raw, layout->crc32c(p, raw));
	}
}

typedef struct {
	uint64_t offset, end;
	size_t slot; /* position in wanted[] */
} want;

static int cmp_want(const void *a, const void *b)
{
	const want *x = a, *y = b;
	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	return x->slot < y->slot ? -1 : x->slot > y->slot;
}

int scout__shard_plan_reads(scout_byte_range **ranges_out, size_t *nranges_out, size_t *range_of,
			    const scout_shard_entry *entries, uint64_t count,
			    const uint64_t *wanted, size_t nwanted, uint64_t gap)
{
	*ranges_out = NULL;
	*nranges_out = 0;
	size_t nw = 0;
	for (size_t i = 0; i < nwanted; i++) {
		if (wanted[i] >= count)
			return scout__error(
			    SCOUT_EINVAL, "shard read plan: inner chunk %llu of %llu",
			    (unsigned long long)wanted[i], (unsigned long long)count);
		range_of[i] = SIZE_MAX;
		if (entries[wanted[i]].offset != SCOUT_SHARD_EMPTY)
			nw++;
	}
	if (nw == 0)
		return SCOUT_OK;
	want *w = malloc(nw * sizeof *w);
	scout_byte_range *r = malloc(nw * sizeof *r);
	if (!w || !r) {
		free(w);
		free(r);
		return scout__error(SCOUT_ENOMEM, "shard read plan: out of memory");
	}
	size_t k = 0;
	for (size_t i = 0; i < nwanted; i++) {
		const scout_shard_entry *e = &entries[wanted[i]];
		if (e->offset != SCOUT_SHARD_EMPTY)
			w[k++] = (want){e->offset, e->offset + e->nbytes, i};
	}
	qsort(w, nw, sizeof *w, cmp_want);
	size_t nr = 0;
	for (k = 0; k < nw; k++) {
		if (nr > 0) {
			scout_byte_range *last = &r[nr - 1];
			uint64_t end = last->offset + last->nbytes;
			/* w[k].offset >= last->offset (sorted); within gap of its end? */
			if (w[k].offset <= end || w[k].offset - end <= gap) {
				if (w[k].end > end)
					last->nbytes = w[k].end - last->offset;
				range_of[w[k].slot] = nr - 1;
				continue;
			}
		}
		r[nr] = (scout_byte_range){w[k].offset, w[k].end - w[k].offset};
		range_of[w[k].slot] = nr;
		nr++;
	}
	free(w);
	*ranges_out = r;
	*nranges_out = nr;
	return SCOUT_OK;
}

static int assemble(void **shard_out, size_t *size_out, scout_shard_entry *entries_out,
		    const void *const *chunks, const size_t *sizes,
		    const scout_shard_layout *layout, void *(*alloc)(size_t),
		    void (*dealloc)(void *, size_t))
{
	*shard_out = NULL;
	*size_out = 0;
	size_t inb = scout__shard_index_nbytes(layout);
	size_t total = 0;
	uint64_t stored = 0;
	for (uint64_t i = 0; i < layout->count; i++) {
		if (!chunks[i])
			continue;
		if (sizes[i] > SIZE_MAX - inb - total)
			return scout__error(SCOUT_EOVERFLOW,
					    "shard layout: inner chunks add up beyond SIZE_MAX");
		total += sizes[i];
		stored++;
	}
	if (stored == 0) {
		if (entries_out)
			for (uint64_t i = 0; i < layout->count; i++)
				entries_out[i] =
				    (scout_shard_entry){SCOUT_SHARD_EMPTY, SCOUT_SHARD_EMPTY};
		return SCOUT_OK;
	}
	scout_shard_entry *e = malloc((size_t)layout->count * sizeof *e);
	unsigned char *out = alloc(total + inb);
	if (!e || !out) {
		free(e);
		if (out)
			dealloc(out, total + inb);
		return scout__error(SCOUT_ENOMEM, "shard layout: out of memory for %zu bytes",
				    total + inb);
	}
	size_t pos = layout->at_start ? inb : 0;
	for (uint64_t i = 0; i < layout->count; i++) {
		if (!chunks[i]) {
			e[i] = (scout_shard_entry){SCOUT_SHARD_EMPTY, SCOUT_SHARD_EMPTY};
			continue;
		}
		e[i] = (scout_shard_entry){pos, sizes[i]};
		if (sizes[i])
			memcpy(out + pos, chunks[i], sizes[i]);
		pos += sizes[i];
	}
	scout__shard_index_encode(out + (layout->at_start ? 0 : total), e, layout);
	if (entries_out)
		memcpy(entries_out, e, (size_t)layout->count * sizeof *e);
	free(e);
	*shard_out = out;
	*size_out = total + inb;
	return SCOUT_OK;
}

static void *plain_alloc(size_t n)
{
	return malloc(n);
}

static void plain_free(void *p, size_t n)
{
	(void)n;
	free(p);
}

int scout__shard_assemble(void **shard_out, size_t *size_out, scout_shard_entry *entries_out,
			  const void *const *chunks, const size_t *sizes,
			  const scout_shard_layout *layout)
{
	return assemble(shard_out, size_out, entries_out, chunks, sizes, layout, plain_alloc,
			plain_free);
}

int scout__shard_assemble_pooled(void **shard_out, size_t *size_out, scout_shard_entry *entries_out,
				 const void *const *chunks, const size_t *sizes,
				 const scout_shard_layout *layout)
{
	return assemble(shard_out, size_out, entries_out, chunks, sizes, layout, scout__buf_alloc,
			scout__buf_free);
}
