/* N-D box copy and fill kernels, and byte swapping. */
#include <string.h>

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

void scout__copy_nd(void *dst, const int64_t *dst_shape, const int64_t *dst_off, const void *src,
		    const int64_t *src_shape, const int64_t *src_off, const int64_t *extent,
		    int ndim, size_t itemsize)
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
		memcpy(d + (size_t)dbase * itemsize, s + (size_t)sbase * itemsize, run);
		return;
	}
	/* odometer over the outer nd-1 axes */
	int64_t idx[SCOUT_MAX_NDIM] = {0};
	int64_t dp = dbase, sp = sbase;
	for (;;) {
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
