/* N-D box copy and fill kernels, and byte swapping. */
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#define SCOUT_HAVE_STREAM 1
#else
#define SCOUT_HAVE_STREAM 0
#endif

#include "scout/common.h"
#include "internal.h"

/*
 * Reduce a box copy to as few axes as possible: trailing axes whose extent
 * covers the whole of both arrays are folded into the axis before them. The
 * result is an equivalent copy over `*nd` axes whose last axis is the longest
 * possible contiguous run.
 */
static void fold_axes(int *nd, int64_t *ds, int64_t *doff, int64_t *ss, int64_t *soff, int64_t *ext)
{
	int n = *nd;
	while (n > 1 && ext[n - 1] == ds[n - 1] && ext[n - 1] == ss[n - 1]) {
		int64_t e = ext[n - 1];
		ds[n - 2] *= e;
		ss[n - 2] *= e;
		doff[n - 2] *= e;
		soff[n - 2] *= e;
		ext[n - 2] *= e;
		n--;
	}
	*nd = n;
}

/*
 * One run of a copy into memory that is not read again soon: the destination's
 * whole 64-byte lines written with non-temporal stores (no read of the line
 * into the cache first), the partial lines at the ends with memcpy. Only whole
 * lines are streamed: a streamed partial line costs the memory a
 * read-modify-write, which made 128-byte runs into a destination at 16 mod 64
 * (any big malloc) 7x slower than aligned ones on the benchmark VM.
 */
void scout__copy_stream(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
#if SCOUT_HAVE_STREAM
	size_t head = (size_t)(-(uintptr_t)d & 63);
	if (n < head + 64) {
		memcpy(d, s, n);
		return;
	}
	memcpy(d, s, head);
	d += head;
	s += head;
	n -= head;
	for (; n >= 64; n -= 64, d += 64, s += 64) {
		__m128i a = _mm_loadu_si128((const __m128i *)s);
		__m128i b = _mm_loadu_si128((const __m128i *)(s + 16));
		__m128i c = _mm_loadu_si128((const __m128i *)(s + 32));
		__m128i e = _mm_loadu_si128((const __m128i *)(s + 48));
		_mm_stream_si128((__m128i *)d, a);
		_mm_stream_si128((__m128i *)(d + 16), b);
		_mm_stream_si128((__m128i *)(d + 32), c);
		_mm_stream_si128((__m128i *)(d + 48), e);
	}
	memcpy(d, s, n);
#else
	memcpy(d, s, n);
#endif
}

void scout__copy_stream_end(void)
{
#if SCOUT_HAVE_STREAM
	_mm_sfence();
#endif
}

static void copy_nd(void *dst, const int64_t *dst_shape, const int64_t *dst_off, const void *src,
		    const int64_t *src_shape, const int64_t *src_off, const int64_t *extent,
		    int ndim, size_t itemsize, int stream)
{
	int64_t ds[SCOUT_MAX_NDIM], doff[SCOUT_MAX_NDIM], ss[SCOUT_MAX_NDIM], soff[SCOUT_MAX_NDIM],
	    ext[SCOUT_MAX_NDIM];
	for (int i = 0; i < ndim; i++) {
		if (extent[i] <= 0)
			return;
		ds[i] = dst_shape[i];
		doff[i] = dst_off[i];
		ss[i] = src_shape[i];
		soff[i] = src_off[i];
		ext[i] = extent[i];
	}
	int nd = ndim;
	fold_axes(&nd, ds, doff, ss, soff, ext);

	/* element strides of each axis */
	int64_t dstr[SCOUT_MAX_NDIM], sstr[SCOUT_MAX_NDIM];
	dstr[nd - 1] = 1;
	sstr[nd - 1] = 1;
	for (int i = nd - 2; i >= 0; i--) {
		dstr[i] = dstr[i + 1] * ds[i + 1];
		sstr[i] = sstr[i + 1] * ss[i + 1];
	}
	size_t run = (size_t)ext[nd - 1] * itemsize;
	unsigned char *d = (unsigned char *)dst;
	const unsigned char *s = (const unsigned char *)src;
	int64_t dbase = 0, sbase = 0;
	for (int i = 0; i < nd; i++) {
		dbase += doff[i] * dstr[i];
		sbase += soff[i] * sstr[i];
	}
	if (nd == 1) {
		if (stream)
			scout__copy_stream(d + (size_t)dbase * itemsize,
					   s + (size_t)sbase * itemsize, run);
		else
			memcpy(d + (size_t)dbase * itemsize, s + (size_t)sbase * itemsize, run);
		return;
	}
	/* odometer over the outer nd-1 axes */
	int64_t idx[SCOUT_MAX_NDIM] = {0};
	int64_t dp = dbase, sp = sbase;
	for (;;) {
		if (stream)
			scout__copy_stream(d + (size_t)dp * itemsize, s + (size_t)sp * itemsize,
					   run);
		else
			memcpy(d + (size_t)dp * itemsize, s + (size_t)sp * itemsize, run);
		int ax = nd - 2;
		while (ax >= 0) {
			idx[ax]++;
			dp += dstr[ax];
			sp += sstr[ax];
			if (idx[ax] < ext[ax])
				break;
			dp -= dstr[ax] * ext[ax];
			sp -= sstr[ax] * ext[ax];
			idx[ax] = 0;
			ax--;
		}
		if (ax < 0)
			break;
	}
}

void scout__copy_nd(void *dst, const int64_t *dst_shape, const int64_t *dst_off, const void *src,
		    const int64_t *src_shape, const int64_t *src_off, const int64_t *extent,
		    int ndim, size_t itemsize)
{
	copy_nd(dst, dst_shape, dst_off, src, src_shape, src_off, extent, ndim, itemsize, 0);
}

void scout__copy_nd_stream(void *dst, const int64_t *dst_shape, const int64_t *dst_off,
			   const void *src, const int64_t *src_shape, const int64_t *src_off,
			   const int64_t *extent, int ndim, size_t itemsize)
{
	copy_nd(dst, dst_shape, dst_off, src, src_shape, src_off, extent, ndim, itemsize, 1);
	scout__copy_stream_end();
}

static void fill_run(unsigned char *d, size_t count, size_t itemsize, const unsigned char *value)
{
	int zero = 1;
	for (size_t k = 0; k < itemsize; k++)
		if (value[k]) {
			zero = 0;
			break;
		}
	if (zero) {
		memset(d, 0, count * itemsize);
		return;
	}
	if (itemsize == 1) {
		memset(d, value[0], count);
		return;
	}
	/* doubling copy: write one element, then copy what is written */
	if (count == 0)
		return;
	memcpy(d, value, itemsize);
	size_t done = 1;
	while (done < count) {
		size_t n = done < count - done ? done : count - done;
		memcpy(d + done * itemsize, d, n * itemsize);
		done += n;
	}
}

void scout__fill_nd(void *dst, const int64_t *dst_shape, const int64_t *dst_off,
		    const int64_t *extent, int ndim, size_t itemsize, const void *value)
{
	int64_t ds[SCOUT_MAX_NDIM], doff[SCOUT_MAX_NDIM], ext[SCOUT_MAX_NDIM];
	int64_t ss[SCOUT_MAX_NDIM], soff[SCOUT_MAX_NDIM];
	for (int i = 0; i < ndim; i++) {
		if (extent[i] <= 0)
			return;
		ds[i] = ss[i] = dst_shape[i];
		doff[i] = soff[i] = dst_off[i];
		ext[i] = extent[i];
	}
	int nd = ndim;
	fold_axes(&nd, ds, doff, ss, soff, ext);
	int64_t dstr[SCOUT_MAX_NDIM];
	dstr[nd - 1] = 1;
	for (int i = nd - 2; i >= 0; i--)
		dstr[i] = dstr[i + 1] * ds[i + 1];
	int64_t dp = 0;
	for (int i = 0; i < nd; i++)
		dp += doff[i] * dstr[i];
	unsigned char *d = (unsigned char *)dst;
	int64_t idx[SCOUT_MAX_NDIM] = {0};
	for (;;) {
		fill_run(d + (size_t)dp * itemsize, (size_t)ext[nd - 1], itemsize, value);
		int ax = nd - 2;
		while (ax >= 0) {
			idx[ax]++;
			dp += dstr[ax];
			if (idx[ax] < ext[ax])
				break;
			dp -= dstr[ax] * ext[ax];
			idx[ax] = 0;
			ax--;
		}
		if (ax < 0)
			break;
	}
}

void scout__byteswap(void *data, size_t count, size_t itemsize)
{
	unsigned char *p = (unsigned char *)data;
	switch (itemsize) {
	case 1:
		return;
	case 2:
		for (size_t i = 0; i < count; i++) {
			uint16_t v;
			memcpy(&v, p + 2 * i, 2);
			v = __builtin_bswap16(v);
			memcpy(p + 2 * i, &v, 2);
		}
		return;
	case 4:
		for (size_t i = 0; i < count; i++) {
			uint32_t v;
			memcpy(&v, p + 4 * i, 4);
			v = __builtin_bswap32(v);
			memcpy(p + 4 * i, &v, 4);
		}
		return;
	case 8:
		for (size_t i = 0; i < count; i++) {
			uint64_t v;
			memcpy(&v, p + 8 * i, 8);
			v = __builtin_bswap64(v);
			memcpy(p + 8 * i, &v, 8);
		}
		return;
	default:
		for (size_t i = 0; i < count; i++) {
			unsigned char *e = p + itemsize * i;
			for (size_t a = 0, b = itemsize - 1; a < b; a++, b--) {
				unsigned char t = e[a];
				e[a] = e[b];
				e[b] = t;
			}
		}
	}
}

int scout__host_big_endian(void)
{
	const uint16_t one = 1;
	unsigned char b;
	memcpy(&b, &one, 1);
	return b == 0;
}

int scout__is_fill(const void *p, size_t n, const void *value, size_t itemsize)
{
	/* the first element is the fill value and each element equals the one before it */
	if (n < itemsize || itemsize == 0)
		return 1;
	const unsigned char *b = p;
	return memcmp(b, value, itemsize) == 0 && memcmp(b, b + itemsize, n - itemsize) == 0;
}
