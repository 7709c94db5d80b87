/*
 * Chunk grids and boxes: hand-computed cases, a naive reference for random
 * 1-D..6-D grids, and every error path. (tests/py/test_geometry.py compares
 * the same functions with numpy / itertools.)
 */
#include <stdint.h>

#include "check.h"

/* simple deterministic generator (xorshift64*) */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static int64_t rnd(int64_t lo, int64_t hi) /* in [lo, hi] */
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	uint64_t r = rng_state * 2685821657736338717ull;
	return lo + (int64_t)(r % (uint64_t)(hi - lo + 1));
}

static void test_hand_cases(void)
{
	/* ceil(10/3) = 4, ceil(9/3) = 3, ceil(0/5) = 0, ceil(2/7) = 1 */
	int64_t shape[4] = {10, 9, 0, 2}, chunks[4] = {3, 3, 5, 7}, dims[4];
	CHECK_OK(scout_chunk_dims(dims, 4, shape, chunks));
	CHECK(dims[0] == 4 && dims[1] == 3 && dims[2] == 0 && dims[3] == 1);

	/* shape (5, 4), chunks (2, 3): rows start 0, 2, 4; columns 0, 3 */
	int64_t s2[2] = {5, 4}, c2[2] = {2, 3};
	int64_t expect[6][2] = {{0, 0}, {0, 3}, {2, 0}, {2, 3}, {4, 0}, {4, 3}};
	int64_t *coords = NULL;
	size_t count = 0;
	CHECK_OK(scout_chunk_coordinates(&coords, &count, 2, s2, c2));
	CHECK(count == 6);
	for (size_t i = 0; coords && i < 6 && i < count; i++)
		CHECK(coords[2 * i] == expect[i][0] && coords[2 * i + 1] == expect[i][1]);
	scout_free(coords);
	size_t n = 0;
	CHECK_OK(scout_chunk_count(&n, 2, s2, c2));
	CHECK(n == 6);
	int64_t st[2];
	CHECK_OK(scout_chunk_start(st, 3, 2, s2, c2));
	CHECK(st[0] == 2 && st[1] == 3);
	CHECK_ERR(scout_chunk_start(st, 6, 2, s2, c2), SCOUT_EBOUNDS, "index 6");

	/* zero extent: no chunks, NULL list */
	int64_t s0[3] = {4, 0, 4}, c0[3] = {2, 2, 2};
	coords = (int64_t *)&n; /* must be overwritten */
	count = 99;
	CHECK_OK(scout_chunk_coordinates(&coords, &count, 3, s0, c0));
	CHECK(count == 0 && coords == NULL);
	CHECK_OK(scout_chunk_count(&n, 3, s0, c0));
	CHECK(n == 0);
	CHECK_ERR(scout_chunk_start(st, 0, 3, s0, c0), SCOUT_EBOUNDS, NULL);

	/* chunk larger than the shape: one chunk at the origin */
	int64_t s1[3] = {3, 1, 2}, c1[3] = {64, 64, 64};
	CHECK_OK(scout_chunk_coordinates(&coords, &count, 3, s1, c1));
	CHECK(count == 1 && coords && coords[0] == 0 && coords[1] == 0 && coords[2] == 0);
	scout_free(coords);

	/* huge extents: count is exact, start of the last chunk computed by hand:
	 * shape (2^40, 5), chunks (3, 2): dims (ceil(2^40/3) = 366503875926, 3) */
	int64_t sh[2] = {INT64_C(1) << 40, 5}, ch[2] = {3, 2};
	CHECK_OK(scout_chunk_count(&n, 2, sh, ch));
	CHECK(n == (size_t)366503875926ull * 3);
	CHECK_OK(scout_chunk_start(st, n - 1, 2, sh, ch));
	CHECK(st[0] == (366503875926ll - 1) * 3 && st[1] == 4);
	/* INT64_MAX extent with a chunk just below it: 2 chunks, the second at INT64_MAX - 1 */
	int64_t sm[1] = {INT64_MAX}, cm[1] = {INT64_MAX - 1};
	CHECK_OK(scout_chunk_coordinates(&coords, &count, 1, sm, cm));
	CHECK(count == 2 && coords && coords[0] == 0 && coords[1] == INT64_MAX - 1);
	scout_free(coords);
}

/* Reference: enumerate start tuples by nested recursion over range(0, shape, chunk). */
static size_t ref_fill(int64_t *out, size_t k, int ax, int ndim, int64_t *cur, const int64_t *shape,
		       const int64_t *chunks)
{
	if (ax == ndim) {
		for (int i = 0; i < ndim; i++)
			out[k * (size_t)ndim + (size_t)i] = cur[i];
		return k + 1;
	}
	for (int64_t s = 0; s < shape[ax]; s += chunks[ax]) {
		cur[ax] = s;
		k = ref_fill(out, k, ax + 1, ndim, cur, shape, chunks);
	}
	return k;
}

static void test_random_grids(void)
{
	for (int ndim = 1; ndim <= 6; ndim++) {
		for (int trial = 0; trial < 40; trial++) {
			int64_t shape[6], chunks[6], dims[6], cur[6];
			size_t refcount = 1;
			for (int i = 0; i < ndim; i++) {
				chunks[i] = rnd(1, 4);
				switch (trial % 4) {
				case 0: /* exact multiple */
					shape[i] = chunks[i] * rnd(1, 3);
					break;
				case 1: /* chunk larger than the shape */
					shape[i] = rnd(1, chunks[i]);
					chunks[i] += rnd(0, 3);
					break;
				default:
					shape[i] = rnd(0, 9);
				}
				size_t d = 0;
				for (int64_t s = 0; s < shape[i]; s += chunks[i])
					d++;
				refcount *= d;
			}
			int64_t *ref = malloc((refcount ? refcount : 1) * (size_t)ndim * 8);
			CHECK(ref_fill(ref, 0, 0, ndim, cur, shape, chunks) == refcount);
			int64_t *coords;
			size_t count, n;
			CHECK_OK(scout_chunk_dims(dims, ndim, shape, chunks));
			size_t prod = 1;
			for (int i = 0; i < ndim; i++)
				prod *= (size_t)dims[i];
			CHECK(prod == refcount);
			CHECK_OK(scout_chunk_count(&n, ndim, shape, chunks));
			CHECK(n == refcount);
			CHECK_OK(scout_chunk_coordinates(&coords, &count, ndim, shape, chunks));
			CHECK(count == refcount);
			if (count == refcount && count)
				CHECK(memcmp(coords, ref, count * (size_t)ndim * 8) == 0);
			for (size_t k = 0; k < count && k < refcount; k++) {
				int64_t st[6];
				CHECK_OK(scout_chunk_start(st, k, ndim, shape, chunks));
				CHECK(memcmp(st, ref + k * (size_t)ndim, (size_t)ndim * 8) == 0);
			}
			scout_free(coords);
			free(ref);
		}
	}
}

static void test_grid_errors(void)
{
	int64_t shape[SCOUT_MAX_NDIM + 1], chunks[SCOUT_MAX_NDIM + 1], out[SCOUT_MAX_NDIM + 1];
	for (int i = 0; i <= SCOUT_MAX_NDIM; i++) {
		shape[i] = 2;
		chunks[i] = 1;
	}
	int64_t *coords;
	size_t count;
	CHECK_ERR(scout_chunk_dims(out, 0, shape, chunks), SCOUT_EINVAL, "ndim 0");
	CHECK_ERR(scout_chunk_dims(out, SCOUT_MAX_NDIM + 1, shape, chunks), SCOUT_EINVAL,
		  "ndim 33");
	CHECK_ERR(scout_chunk_coordinates(&coords, &count, 0, shape, chunks), SCOUT_EINVAL,
		  "ndim 0");
	CHECK_ERR(scout_chunk_count(&count, -1, shape, chunks), SCOUT_EINVAL, "ndim -1");
	CHECK_ERR(scout_chunk_start(out, 0, 33, shape, chunks), SCOUT_EINVAL, "ndim 33");
	/* 32 dimensions are fine: 2^32 chunks, the last starting at (1, 1, ..., 1) */
	CHECK_OK(scout_chunk_count(&count, SCOUT_MAX_NDIM, shape, chunks));
	CHECK(count == (size_t)1 << 32);
	CHECK_OK(scout_chunk_start(out, count - 1, SCOUT_MAX_NDIM, shape, chunks));
	int ones = 1;
	for (int i = 0; i < SCOUT_MAX_NDIM; i++)
		ones &= out[i] == 1;
	CHECK(ones);

	int64_t s[3] = {4, 4, 4}, c[3] = {2, 0, 2};
	CHECK_ERR(scout_chunk_dims(out, 3, s, c), SCOUT_EINVAL, "axis 1");
	c[1] = -5;
	CHECK_ERR(scout_chunk_coordinates(&coords, &count, 3, s, c), SCOUT_EINVAL, "axis 1");
	c[1] = 2;
	s[2] = -1;
	CHECK_ERR(scout_chunk_count(&count, 3, s, c), SCOUT_EINVAL, "axis 2");
	CHECK_ERR(scout_chunk_dims(out, 3, s, c), SCOUT_EINVAL, "negative");
	s[2] = 4;
	CHECK_ERR(scout_chunk_dims(out, 3, NULL, c), SCOUT_EINVAL, NULL);
	CHECK_ERR(scout_chunk_dims(out, 3, s, NULL), SCOUT_EINVAL, NULL);
	CHECK_ERR(scout_chunk_dims(NULL, 3, s, c), SCOUT_EINVAL, NULL);
	CHECK_ERR(scout_chunk_coordinates(NULL, &count, 3, s, c), SCOUT_EINVAL, NULL);
	CHECK_ERR(scout_chunk_coordinates(&coords, NULL, 3, s, c), SCOUT_EINVAL, NULL);
	CHECK_ERR(scout_chunk_count(NULL, 3, s, c), SCOUT_EINVAL, NULL);
	CHECK_ERR(scout_chunk_start(NULL, 0, 3, s, c), SCOUT_EINVAL, NULL);

	/* overflow of the chunk count: 2^62 * 2^62 chunks */
	int64_t big[3] = {INT64_C(1) << 62, INT64_C(1) << 62, 1}, one[3] = {1, 1, 1};
	CHECK_ERR(scout_chunk_count(&count, 3, big, one), SCOUT_EOVERFLOW, "axis 1");
	CHECK_ERR(scout_chunk_coordinates(&coords, &count, 3, big, one), SCOUT_EOVERFLOW, "axis 1");
	CHECK_ERR(scout_chunk_start(out, 0, 3, big, one), SCOUT_EOVERFLOW, "axis 1");
	/* count fits but count * ndim * 8 bytes does not */
	CHECK_ERR(scout_chunk_coordinates(&coords, &count, 1, big, one), SCOUT_EOVERFLOW, NULL);
	/* 2^60 chunks of 8 bytes: the byte size fits size_t but not an object */
	int64_t b60[1] = {INT64_C(1) << 60};
	CHECK_ERR(scout_chunk_coordinates(&coords, &count, 1, b60, one), SCOUT_EOVERFLOW, "bytes");
	CHECK(coords == NULL && count == 0);
	/* but the dims themselves are fine */
	CHECK_OK(scout_chunk_dims(out, 3, big, one));
	CHECK(out[0] == INT64_C(1) << 62 && out[2] == 1);
	/* and a zero extent makes an otherwise overflowing grid empty */
	big[2] = 0;
	CHECK_OK(scout_chunk_count(&count, 3, big, one));
	CHECK(count == 0);
}

static void test_boxes(void)
{
	scout_box b, c, r;
	int64_t start[3] = {1, 0, 5}, stop[3] = {4, 0, 7};
	CHECK_OK(scout_box_slice_idx(&b, 3, start, stop));
	CHECK(b.ndim == 3 && b.start[0] == 1 && b.stop[0] == 4 && b.start[1] == 0 &&
	      b.stop[1] == 0 && b.start[2] == 5 && b.stop[2] == 7);
	size_t n = 99;
	CHECK_OK(scout_box_count(&n, &b));
	CHECK(n == 0); /* empty extent on axis 1 */
	stop[1] = 2;
	CHECK_OK(scout_box_slice_idx(&b, 3, start, stop));
	CHECK_OK(scout_box_count(&n, &b));
	CHECK(n == 3 * 2 * 2);

	/* errors name the axis */
	int64_t bad_start[2] = {0, -1}, bad_stop[2] = {1, 1};
	CHECK_ERR(scout_box_slice_idx(&b, 2, bad_start, bad_stop), SCOUT_EINVAL, "axis 1");
	int64_t s2[2] = {3, 3}, e2[2] = {2, 4};
	CHECK_ERR(scout_box_slice_idx(&b, 2, s2, e2), SCOUT_EINVAL, "axis 0");
	CHECK_ERR(scout_box_slice_idx(&b, 0, s2, e2), SCOUT_EINVAL, "ndim 0");
	CHECK_ERR(scout_box_slice_idx(&b, 33, s2, e2), SCOUT_EINVAL, "ndim 33");
	CHECK_ERR(scout_box_slice_idx(NULL, 2, s2, e2), SCOUT_EINVAL, NULL);
	CHECK_ERR(scout_box_slice_idx(&b, 2, NULL, e2), SCOUT_EINVAL, NULL);
	CHECK_ERR(scout_box_count(&n, NULL), SCOUT_EINVAL, NULL);
	CHECK_ERR(scout_box_count(NULL, &b), SCOUT_EINVAL, NULL);

	/* box_count overflow, and no overflow when another extent is empty */
	int64_t z[3] = {0, 0, 0}, huge[3] = {INT64_C(1) << 40, INT64_C(1) << 40, 1};
	CHECK_OK(scout_box_slice_idx(&b, 3, z, huge));
	CHECK_ERR(scout_box_count(&n, &b), SCOUT_EOVERFLOW, "axis 1");
	huge[2] = 0;
	CHECK_OK(scout_box_slice_idx(&b, 3, z, huge));
	CHECK_OK(scout_box_count(&n, &b));
	CHECK(n == 0);
	b.ndim = 0;
	CHECK_ERR(scout_box_count(&n, &b), SCOUT_EINVAL, "ndim 0");

	/* intersections: overlapping, touching (empty), disjoint (empty), contained */
	int64_t as[2] = {0, 0}, ae[2] = {5, 5}, bs[2] = {3, 4}, be[2] = {8, 9};
	CHECK_OK(scout_box_slice_idx(&b, 2, as, ae));
	CHECK_OK(scout_box_slice_idx(&c, 2, bs, be));
	CHECK_OK(scout_box_intersect(&r, &b, &c));
	CHECK(r.ndim == 2 && r.start[0] == 3 && r.stop[0] == 5 && r.start[1] == 4 &&
	      r.stop[1] == 5);
	CHECK_OK(scout_box_count(&n, &r));
	CHECK(n == 2);
	int64_t ts[2] = {5, 0}, te[2] = {7, 5}; /* touches b along axis 0 */
	CHECK_OK(scout_box_slice_idx(&c, 2, ts, te));
	CHECK_OK(scout_box_intersect(&r, &b, &c));
	CHECK_OK(scout_box_count(&n, &r));
	CHECK(n == 0 && r.start[0] == 5 && r.stop[0] == 5);
	int64_t ds[2] = {7, 7}, de[2] = {9, 9}; /* disjoint: stop clamped to start */
	CHECK_OK(scout_box_slice_idx(&c, 2, ds, de));
	CHECK_OK(scout_box_intersect(&r, &b, &c));
	CHECK(r.start[0] == 7 && r.stop[0] == 7 && r.start[1] == 7 && r.stop[1] == 7);
	int64_t is[2] = {1, 2}, ie[2] = {2, 3}; /* contained, result written over an input */
	CHECK_OK(scout_box_slice_idx(&c, 2, is, ie));
	CHECK_OK(scout_box_intersect(&b, &b, &c));
	CHECK(b.start[0] == 1 && b.stop[0] == 2 && b.start[1] == 2 && b.stop[1] == 3);
	scout_box d3;
	CHECK_OK(scout_box_slice_idx(&d3, 3, start, stop));
	CHECK_ERR(scout_box_intersect(&r, &b, &d3), SCOUT_EINVAL, "2 and 3");
	CHECK_ERR(scout_box_intersect(NULL, &b, &c), SCOUT_EINVAL, NULL);
	CHECK_ERR(scout_box_intersect(&r, NULL, &c), SCOUT_EINVAL, NULL);

	/* random boxes: intersection equals the element-wise AND of membership */
	for (int t = 0; t < 200; t++) {
		int nd = (int)rnd(1, 3);
		int64_t a0[3], a1[3], b0[3], b1[3];
		for (int i = 0; i < nd; i++) {
			a0[i] = rnd(0, 6);
			a1[i] = a0[i] + rnd(0, 4);
			b0[i] = rnd(0, 6);
			b1[i] = b0[i] + rnd(0, 4);
		}
		scout_box A, B, R;
		CHECK_OK(scout_box_slice_idx(&A, nd, a0, a1));
		CHECK_OK(scout_box_slice_idx(&B, nd, b0, b1));
		CHECK_OK(scout_box_intersect(&R, &A, &B));
		size_t inter = 0, rc = 0;
		CHECK_OK(scout_box_count(&rc, &R));
		int64_t p[3] = {0, 0, 0};
		int ok = 1;
		for (;;) { /* every point of [0, 11)^nd */
			int ina = 1, inb = 1, inr = 1;
			for (int i = 0; i < nd; i++) {
				ina &= p[i] >= a0[i] && p[i] < a1[i];
				inb &= p[i] >= b0[i] && p[i] < b1[i];
				inr &= p[i] >= R.start[i] && p[i] < R.stop[i];
			}
			ok &= (ina && inb) == inr;
			inter += ina && inb;
			int ax = nd - 1;
			while (ax >= 0 && ++p[ax] == 11)
				p[ax--] = 0;
			if (ax < 0)
				break;
		}
		CHECK(ok && inter == rc);
	}
}

int main(void)
{
	test_hand_cases();
	test_random_grids();
	test_grid_errors();
	test_boxes();
	return check_summary();
}
