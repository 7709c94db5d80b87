/*
 * Ghosted chunks and point filters: bounds at corners, edges and the interior
 * computed by hand, ghosted chunk content against element-by-element values,
 * and the point filters on hand-made point sets (tests/py/test_geometry.py
 * compares the filters and bounds with numpy on random cases).
 */
#include <stdint.h>

#include "check.h"

static void check_bounds(int ndim, const int64_t *shape, const int64_t *start,
			 const int64_t *chunks, const int64_t *overlap, const int64_t *exp_start,
			 const int64_t *exp_stop)
{
	int64_t sg[8], eg[8];
	CHECK_OK(scout_ghosted_bounds(sg, eg, ndim, shape, start, chunks, overlap));
	CHECK(memcmp(sg, exp_start, (size_t)ndim * 8) == 0);
	CHECK(memcmp(eg, exp_stop, (size_t)ndim * 8) == 0);
}

static void test_bounds(void)
{
	/* shape (10, 12), chunks (4, 5), overlap (2, 1); chunk starts (0|4|8, 0|5|10) */
	int64_t shape[2] = {10, 12}, chunks[2] = {4, 5}, ov[2] = {2, 1};
	/* corner (0, 0): [0, 4+2) x [0, 5+1) */
	check_bounds(2, shape, (int64_t[]){0, 0}, chunks, ov, (int64_t[]){0, 0}, (int64_t[]){6, 6});
	/* interior (4, 5): [4-2, 8+2) x [5-1, 10+1) */
	check_bounds(2, shape, (int64_t[]){4, 5}, chunks, ov, (int64_t[]){2, 4},
		     (int64_t[]){10, 11});
	/* far corner (8, 10): clipped chunk [8, 10) x [10, 12), ghost clipped to the shape */
	check_bounds(2, shape, (int64_t[]){8, 10}, chunks, ov, (int64_t[]){6, 9},
		     (int64_t[]){10, 12});
	/* edge (0, 5): touches axis-0 start only */
	check_bounds(2, shape, (int64_t[]){0, 5}, chunks, ov, (int64_t[]){0, 4},
		     (int64_t[]){6, 11});
	/* no overlap: the clipped chunk itself */
	check_bounds(2, shape, (int64_t[]){8, 10}, chunks, (int64_t[]){0, 0}, (int64_t[]){8, 10},
		     (int64_t[]){10, 12});
	/* overlap larger than the array: the whole array */
	check_bounds(2, shape, (int64_t[]){4, 5}, chunks, (int64_t[]){100, 100}, (int64_t[]){0, 0},
		     (int64_t[]){10, 12});
	/* huge values do not overflow: stop clips to the shape */
	int64_t hs[1] = {INT64_MAX}, hc[1] = {INT64_MAX}, ho[1] = {INT64_MAX};
	check_bounds(1, hs, (int64_t[]){INT64_MAX - 1}, hc, ho, (int64_t[]){0},
		     (int64_t[]){INT64_MAX});

	int64_t sg[2], eg[2];
	CHECK_ERR(
	    scout_ghosted_bounds(sg, eg, 2, shape, (int64_t[]){0, 0}, chunks, (int64_t[]){0, -1}),
	    SCOUT_EINVAL, "axis 1");
	CHECK_ERR(scout_ghosted_bounds(sg, eg, 2, shape, (int64_t[]){11, 0}, chunks, ov),
		  SCOUT_EINVAL, "axis 0");
	CHECK_ERR(scout_ghosted_bounds(sg, eg, 2, shape, (int64_t[]){-1, 0}, chunks, ov),
		  SCOUT_EINVAL, "axis 0");
	CHECK_ERR(scout_ghosted_bounds(sg, eg, 2, shape, (int64_t[]){0, 0}, (int64_t[]){4, 0}, ov),
		  SCOUT_EINVAL, "axis 1");
	CHECK_ERR(scout_ghosted_bounds(sg, eg, 0, shape, (int64_t[]){0, 0}, chunks, ov),
		  SCOUT_EINVAL, "ndim 0");
	CHECK_ERR(scout_ghosted_bounds(NULL, eg, 2, shape, (int64_t[]){0, 0}, chunks, ov),
		  SCOUT_EINVAL, NULL);
	CHECK_ERR(scout_ghosted_bounds(sg, eg, 2, shape, NULL, chunks, ov), SCOUT_EINVAL, NULL);
	CHECK_ERR(scout_ghosted_bounds(sg, eg, 2, shape, (int64_t[]){0, 0}, chunks, NULL),
		  SCOUT_EINVAL, NULL);
}

/* value of element (i, j, k) of the test volume */
static int32_t vol(int64_t i, int64_t j, int64_t k)
{
	return (int32_t)(i * 10000 + j * 100 + k);
}

static void test_extract_ghosted(void)
{
	int64_t shape[3] = {9, 7, 11}, chunks[3] = {4, 3, 5}, ov[3] = {2, 1, 3};
	scout_array *arr;
	CHECK_OK(scout_array_new(&arr, 3, shape, SCOUT_INT32));
	int32_t *data = scout_array_data(arr);
	for (int64_t i = 0; i < 9; i++)
		for (int64_t j = 0; j < 7; j++)
			for (int64_t k = 0; k < 11; k++)
				data[(i * 7 + j) * 11 + k] = vol(i, j, k);
	/* buffer of prod(chunks + 2 * overlap) elements, as the header promises */
	size_t cap = (size_t)(4 + 4) * (3 + 2) * (5 + 6);
	int32_t *buf = malloc(cap * sizeof *buf), *ref = malloc(cap * sizeof *ref);
	int64_t *starts;
	size_t count;
	CHECK_OK(scout_chunk_coordinates(&starts, &count, 3, shape, chunks));
	CHECK(count == 3 * 3 * 3);
	for (size_t c = 0; c < count; c++) {
		const int64_t *st = starts + 3 * c;
		int64_t sg[3], gshape[3], bs[3], be[3];
		memset(buf, 0xAB, cap * sizeof *buf);
		CHECK_OK(scout_extract_ghosted_chunk(buf, sg, gshape, arr, st, chunks, ov));
		CHECK_OK(scout_ghosted_bounds(bs, be, 3, shape, st, chunks, ov));
		int ok = 1;
		for (int a = 0; a < 3; a++) {
			/* SCOUT: max(0, start - overlap), min(shape, min(start + chunks, shape) +
			 * ov) */
			int64_t es = st[a] - ov[a] < 0 ? 0 : st[a] - ov[a];
			int64_t end = st[a] + chunks[a] < shape[a] ? st[a] + chunks[a] : shape[a];
			int64_t ee = end + ov[a] < shape[a] ? end + ov[a] : shape[a];
			ok &= sg[a] == es && gshape[a] == ee - es && bs[a] == es && be[a] == ee;
		}
		CHECK(ok);
		/* content against the volume's formula */
		for (int64_t i = 0; i < gshape[0]; i++)
			for (int64_t j = 0; j < gshape[1]; j++)
				for (int64_t k = 0; k < gshape[2]; k++)
					ok &= buf[(i * gshape[1] + j) * gshape[2] + k] ==
					      vol(sg[0] + i, sg[1] + j, sg[2] + k);
		CHECK(ok);
		/* and against a direct extraction of the same box */
		int64_t stop[3] = {sg[0] + gshape[0], sg[1] + gshape[1], sg[2] + gshape[2]};
		CHECK_OK(scout_extract_box(ref, arr, sg, stop));
		CHECK(memcmp(buf, ref, (size_t)(gshape[0] * gshape[1] * gshape[2]) * 4) == 0);
		/* shape_out may be NULL */
		int64_t sg2[3];
		CHECK_OK(scout_extract_ghosted_chunk(buf, sg2, NULL, arr, st, chunks, ov));
		CHECK(memcmp(sg2, sg, sizeof sg) == 0);
	}
	scout_free(starts);

	int64_t sg[3], gs[3], zero[3] = {0, 0, 0};
	CHECK_ERR(scout_extract_ghosted_chunk(buf, sg, gs, NULL, zero, chunks, ov), SCOUT_EINVAL,
		  NULL);
	CHECK_ERR(scout_extract_ghosted_chunk(buf, NULL, gs, arr, zero, chunks, ov), SCOUT_EINVAL,
		  NULL);
	CHECK_ERR(
	    scout_extract_ghosted_chunk(buf, sg, gs, arr, zero, chunks, (int64_t[]){0, -2, 0}),
	    SCOUT_EINVAL, "axis 1");
	CHECK_ERR(scout_extract_ghosted_chunk(NULL, sg, gs, arr, zero, chunks, ov), SCOUT_EINVAL,
		  "chunk at (0, 0, 0): extract_box: destination is NULL");
	/* a chunk start at the end of an axis gives an empty ghosted box: nothing to read */
	int64_t at_end[3] = {9, 0, 0};
	CHECK_OK(
	    scout_extract_ghosted_chunk(buf, sg, gs, arr, at_end, chunks, (int64_t[]){0, 0, 0}));
	CHECK(sg[0] == 9 && gs[0] == 0);
	free(buf);
	free(ref);
	scout_array_free(arr);
}

static void test_filter_points(void)
{
	/* 2-D points; box [2, 5) x [1, 3): kept by hand are #1 (2,1), #3 (4,2) */
	int64_t pts[6][2] = {{1, 1}, {2, 1}, {5, 2}, {4, 2}, {3, 3}, {2, 0}};
	int64_t start[2] = {2, 1}, stop[2] = {5, 3};
	int64_t out[12];
	size_t idx[6], n = 99;
	CHECK_OK(scout_filter_points_in_box(out, idx, &n, &pts[0][0], 6, 2, start, stop));
	CHECK(n == 2 && idx[0] == 1 && idx[1] == 3);
	CHECK(out[0] == 2 && out[1] == 1 && out[2] == 4 && out[3] == 2);
	/* in place, without indices */
	CHECK_OK(scout_filter_points_in_box(&pts[0][0], NULL, &n, &pts[0][0], 6, 2, start, stop));
	CHECK(n == 2 && pts[0][0] == 2 && pts[0][1] == 1 && pts[1][0] == 4 && pts[1][1] == 2);
	/* empty box keeps nothing; no points is fine with NULL arrays */
	CHECK_OK(scout_filter_points_in_box(out, idx, &n, &pts[0][0], 2, 2, start, start));
	CHECK(n == 0);
	CHECK_OK(scout_filter_points_in_box(NULL, NULL, &n, NULL, 0, 2, start, stop));
	CHECK(n == 0);
	CHECK_ERR(scout_filter_points_in_box(out, idx, NULL, &pts[0][0], 2, 2, start, stop),
		  SCOUT_EINVAL, NULL);
	CHECK_ERR(scout_filter_points_in_box(out, idx, &n, NULL, 2, 2, start, stop), SCOUT_EINVAL,
		  NULL);
	CHECK_ERR(scout_filter_points_in_box(out, idx, &n, &pts[0][0], 2, 0, start, stop),
		  SCOUT_EINVAL, "ndim 0");
	CHECK_ERR(scout_filter_points_in_box(out, idx, &n, &pts[0][0], 2, 2, NULL, stop),
		  SCOUT_EINVAL, NULL);
	CHECK_ERR(
	    scout_filter_points_in_box(out, idx, &n, &pts[0][0], SIZE_MAX / 2, 2, start, stop),
	    SCOUT_EOVERFLOW, NULL);

	/*
	 * 3-D ghosted points: ghosted box starts at (2, 0, 6), chunk at (4, 0, 8)
	 * of shape (4, 3, 5) -> interior [4, 8) x [0, 3) x [8, 13).
	 * local (2, 0, 2) -> global (4, 0, 8): kept (corner of the chunk)
	 * local (1, 1, 3) -> (3, 1, 9): in the ghost shell along axis 0
	 * local (5, 2, 6) -> (7, 2, 12): kept (far corner)
	 * local (6, 0, 3) -> (8, 0, 9): shell past the chunk's end
	 * local (3, 2, 1) -> (5, 2, 7): shell along axis 2
	 */
	int64_t sg[3] = {2, 0, 6}, sc[3] = {4, 0, 8}, ch[3] = {4, 3, 5};
	int64_t loc[5][3] = {{2, 0, 2}, {1, 1, 3}, {5, 2, 6}, {6, 0, 3}, {3, 2, 1}};
	int64_t g[15];
	CHECK_OK(scout_filter_ghosted_points(g, &n, sg, sc, ch, &loc[0][0], 5, 3));
	CHECK(n == 2);
	CHECK(g[0] == 4 && g[1] == 0 && g[2] == 8 && g[3] == 7 && g[4] == 2 && g[5] == 12);
	/* in place */
	CHECK_OK(scout_filter_ghosted_points(&loc[0][0], &n, sg, sc, ch, &loc[0][0], 5, 3));
	CHECK(n == 2 && memcmp(&loc[0][0], g, 6 * 8) == 0);
	/* a coordinate whose global value overflows int64 is dropped, not wrapped */
	int64_t far[1] = {INT64_MAX}, sg1[1] = {5}, sc1[1] = {0}, ch1[1] = {INT64_MAX};
	CHECK_OK(scout_filter_ghosted_points(g, &n, sg1, sc1, ch1, far, 1, 1));
	CHECK(n == 0);
	CHECK_ERR(
	    scout_filter_ghosted_points(g, &n, sg, sc, (int64_t[]){4, 0, 5}, &loc[0][0], 2, 3),
	    SCOUT_EINVAL, "axis 1");
	CHECK_ERR(
	    scout_filter_ghosted_points(g, &n, (int64_t[]){0, -1, 0}, sc, ch, &loc[0][0], 2, 3),
	    SCOUT_EINVAL, "axis 1");
	CHECK_ERR(scout_filter_ghosted_points(g, &n, NULL, sc, ch, &loc[0][0], 2, 3), SCOUT_EINVAL,
		  NULL);
	CHECK_ERR(scout_filter_ghosted_points(g, NULL, sg, sc, ch, &loc[0][0], 2, 3), SCOUT_EINVAL,
		  NULL);
	CHECK_ERR(scout_filter_ghosted_points(g, &n, sg, sc, ch, &loc[0][0], 2, 33), SCOUT_EINVAL,
		  "ndim 33");
}

/*
 * The use SCOUT makes of these: every chunk read ghosted, a "detector" that
 * reports every voxel above a threshold in local coordinates, filtered back to
 * the chunk. Together the chunks must find each voxel exactly once.
 */
static void test_ghosted_round_trip(void)
{
	int64_t shape[2] = {13, 10}, chunks[2] = {4, 3}, ov[2] = {2, 2};
	scout_array *arr;
	CHECK_OK(scout_array_new(&arr, 2, shape, SCOUT_UINT8));
	uint8_t *d = scout_array_data(arr);
	for (int i = 0; i < 130; i++)
		d[i] = (uint8_t)((i * 37) % 11 == 0);
	int found[130] = {0};
	int64_t *starts;
	size_t count;
	CHECK_OK(scout_chunk_coordinates(&starts, &count, 2, shape, chunks));
	uint8_t buf[(4 + 4) * (3 + 4)];
	for (size_t c = 0; c < count; c++) {
		int64_t sg[2], gs[2], pts[2 * 56], glob[2 * 56];
		size_t np = 0, nk;
		CHECK_OK(scout_extract_ghosted_chunk(buf, sg, gs, arr, starts + 2 * c, chunks, ov));
		for (int64_t i = 0; i < gs[0]; i++)
			for (int64_t j = 0; j < gs[1]; j++)
				if (buf[i * gs[1] + j]) {
					pts[2 * np] = i;
					pts[2 * np + 1] = j;
					np++;
				}
		CHECK_OK(
		    scout_filter_ghosted_points(glob, &nk, sg, starts + 2 * c, chunks, pts, np, 2));
		for (size_t k = 0; k < nk; k++)
			found[glob[2 * k] * 10 + glob[2 * k + 1]]++;
	}
	int ok = 1;
	for (int i = 0; i < 130; i++)
		ok &= found[i] == d[i];
	CHECK(ok);
	scout_free(starts);
	scout_array_free(arr);
}

int main(void)
{
	test_bounds();
	test_extract_ghosted();
	test_filter_points();
	test_ghosted_round_trip();
	return check_summary();
}
