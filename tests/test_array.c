/*
 * Memory arrays (scout_array_new / scout_array_wrap) and box I/O: every dtype,
 * random boxes in 1-D..5-D checked element by element against a naive
 * reference, edge, empty and out-of-bounds boxes, NULL arguments, accessors.
 */
#include <stdint.h>

#include "check.h"

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;
static uint64_t rnd64(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}
static int64_t rnd(int64_t lo, int64_t hi) /* in [lo, hi] */
{
	return lo + (int64_t)(rnd64() % (uint64_t)(hi - lo + 1));
}
static void rnd_bytes(unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(rnd64() >> 56);
}

/* C-order linear index of point p in an array of the given shape */
static size_t lin(int ndim, const int64_t *shape, const int64_t *p)
{
	size_t k = 0;
	for (int i = 0; i < ndim; i++)
		k = k * (size_t)shape[i] + (size_t)p[i];
	return k;
}

/* advance p through the box [start, stop) in C order; 0 when done */
static int next(int ndim, int64_t *p, const int64_t *start, const int64_t *stop)
{
	for (int ax = ndim - 1; ax >= 0; ax--) {
		if (++p[ax] < stop[ax])
			return 1;
		p[ax] = start[ax];
	}
	return 0;
}

/*
 * Naive check of an extracted box: element q of the box (C order) equals
 * element start + q of the array.
 */
static int box_matches(const unsigned char *box, const unsigned char *arr, int ndim,
		       const int64_t *shape, const int64_t *start, const int64_t *stop,
		       size_t itemsize)
{
	int64_t p[8];
	for (int i = 0; i < ndim; i++)
		if (stop[i] == start[i])
			return 1;
	memcpy(p, start, (size_t)ndim * 8);
	size_t q = 0;
	do {
		if (memcmp(box + q * itemsize, arr + lin(ndim, shape, p) * itemsize, itemsize))
			return 0;
		q++;
	} while (next(ndim, p, start, stop));
	return 1;
}

static void test_random_boxes(scout_dtype dtype)
{
	size_t itemsize = scout_dtype_size(dtype);
	for (int ndim = 1; ndim <= 5; ndim++) {
		int64_t shape[5];
		size_t n = 1;
		for (int i = 0; i < ndim; i++) {
			shape[i] = rnd(1, ndim <= 2 ? 17 : 7);
			n *= (size_t)shape[i];
		}
		scout_array *arr;
		CHECK_OK(scout_array_new(&arr, ndim, shape, dtype));
		if (!arr)
			continue;
		/* accessors */
		CHECK(scout_array_ndim(arr) == ndim);
		CHECK(memcmp(scout_array_shape(arr), shape, (size_t)ndim * 8) == 0);
		CHECK(memcmp(scout_array_chunks(arr), shape, (size_t)ndim * 8) == 0);
		CHECK(scout_array_dtype(arr) == dtype);
		CHECK(strcmp(scout_array_kind(arr), "memory") == 0);
		CHECK(scout_array_writable(arr) == 1);
		CHECK(scout_array_nbytes(arr) == n * itemsize);
		unsigned char *data = scout_array_data(arr);
		CHECK(data != NULL);
		/* zero-filled */
		int zero = 1;
		for (size_t i = 0; i < n * itemsize; i++)
			zero &= data[i] == 0;
		CHECK(zero);
		rnd_bytes(data, n * itemsize);
		unsigned char *shadow = malloc(n * itemsize);
		memcpy(shadow, data, n * itemsize);
		unsigned char *box = malloc(n * itemsize), *src = malloc(n * itemsize);

		for (int t = 0; t < 30; t++) {
			int64_t start[5], stop[5];
			for (int i = 0; i < ndim; i++) {
				switch (t % 5) {
				case 0: /* whole array */
					start[i] = 0;
					stop[i] = shape[i];
					break;
				case 1: /* touching the far edge */
					start[i] = rnd(0, shape[i] - 1);
					stop[i] = shape[i];
					break;
				case 2: /* one element at the last corner */
					start[i] = shape[i] - 1;
					stop[i] = shape[i];
					break;
				default:
					start[i] = rnd(0, shape[i] - 1);
					stop[i] = rnd(start[i] + 1, shape[i]);
				}
			}
			size_t bn = 1;
			for (int i = 0; i < ndim; i++)
				bn *= (size_t)(stop[i] - start[i]);
			CHECK_OK(scout_extract_box(box, arr, start, stop));
			CHECK(box_matches(box, data, ndim, shape, start, stop, itemsize));

			/* insert: the box gets src, everything else is unchanged */
			rnd_bytes(src, bn * itemsize);
			CHECK_OK(scout_insert_box(arr, start, stop, src));
			int64_t p[5];
			memcpy(p, start, (size_t)ndim * 8);
			size_t q = 0;
			do {
				memcpy(shadow + lin(ndim, shape, p) * itemsize, src + q * itemsize,
				       itemsize);
				q++;
			} while (next(ndim, p, start, stop));
			CHECK(q == bn);
			CHECK(memcmp(shadow, data, n * itemsize) == 0);
		}
		free(box);
		free(src);
		free(shadow);
		scout_array_free(arr);
	}
}

static void test_wrap(void)
{
	/* 3 x 4 float64 wrapped: reads see the caller's memory, writes land in it */
	double buf[12];
	for (int i = 0; i < 12; i++)
		buf[i] = i * 1.5;
	int64_t shape[2] = {3, 4};
	scout_array *arr;
	CHECK_OK(scout_array_wrap(&arr, buf, 2, shape, SCOUT_FLOAT64));
	CHECK(scout_array_data(arr) == buf);
	CHECK(strcmp(scout_array_kind(arr), "memory") == 0);
	CHECK(scout_array_nbytes(arr) == sizeof buf);
	double box[4];
	/* rows 1..2, columns 2..3: elements 6, 7, 10, 11 */
	CHECK_OK(scout_extract_box(box, arr, (int64_t[]){1, 2}, (int64_t[]){3, 4}));
	CHECK(box[0] == 9.0 && box[1] == 10.5 && box[2] == 15.0 && box[3] == 16.5);
	double src[3] = {-1, -2, -3};
	CHECK_OK(scout_insert_box(arr, (int64_t[]){0, 1}, (int64_t[]){3, 2}, src));
	CHECK(buf[1] == -1 && buf[5] == -2 && buf[9] == -3 && buf[0] == 0 && buf[2] == 3.0);
	scout_array_free(arr); /* must not free buf */
	CHECK(buf[11] == 16.5);

	/* a zero-size wrap may have NULL data; a non-empty one may not */
	int64_t empty[2] = {0, 4};
	CHECK_OK(scout_array_wrap(&arr, NULL, 2, empty, SCOUT_UINT8));
	CHECK(scout_array_nbytes(arr) == 0);
	scout_array_free(arr);
	arr = (scout_array *)buf;
	CHECK_ERR(scout_array_wrap(&arr, NULL, 2, shape, SCOUT_UINT8), SCOUT_EINVAL, "NULL");
	CHECK(arr == NULL);
	CHECK_ERR(scout_array_wrap(NULL, buf, 2, shape, SCOUT_UINT8), SCOUT_EINVAL, NULL);
}

static void test_edges_and_errors(void)
{
	int64_t shape[3] = {4, 5, 6};
	scout_array *arr;
	CHECK_OK(scout_array_new(&arr, 3, shape, SCOUT_UINT16));
	uint16_t *d = scout_array_data(arr);
	for (int i = 0; i < 120; i++)
		d[i] = (uint16_t)(i * 7);
	uint16_t out[120];

	/* empty boxes: nothing read or written, NULL buffers allowed */
	out[0] = 0xBEEF;
	CHECK_OK(scout_extract_box(out, arr, (int64_t[]){1, 2, 3}, (int64_t[]){3, 2, 6}));
	CHECK(out[0] == 0xBEEF);
	CHECK_OK(scout_extract_box(NULL, arr, (int64_t[]){4, 0, 0}, (int64_t[]){4, 5, 6}));
	CHECK_OK(scout_insert_box(arr, (int64_t[]){0, 0, 6}, (int64_t[]){4, 5, 6}, NULL));
	CHECK(d[119] == 119 * 7);

	/* edge box: last plane along axis 0, linear elements 90..119 */
	CHECK_OK(scout_extract_box(out, arr, (int64_t[]){3, 0, 0}, (int64_t[]){4, 5, 6}));
	int ok = 1;
	for (int i = 0; i < 30; i++)
		ok &= out[i] == (uint16_t)((90 + i) * 7);
	CHECK(ok);
	/* last column: (i, j, 5) for all i, j -> linear (i*5+j)*6+5 */
	CHECK_OK(scout_extract_box(out, arr, (int64_t[]){0, 0, 5}, (int64_t[]){4, 5, 6}));
	ok = 1;
	for (int i = 0; i < 20; i++)
		ok &= out[i] == (uint16_t)((i * 6 + 5) * 7);
	CHECK(ok);

	/* out of bounds: EBOUNDS naming the box and the shape */
	CHECK_ERR(scout_extract_box(out, arr, (int64_t[]){0, 0, 0}, (int64_t[]){4, 6, 6}),
		  SCOUT_EBOUNDS, "(0, 0, 0) to (4, 6, 6)");
	CHECK_ERR(scout_extract_box(out, arr, (int64_t[]){0, 0, 0}, (int64_t[]){4, 6, 6}),
		  SCOUT_EBOUNDS, "(4, 5, 6)");
	CHECK_ERR(scout_extract_box(out, arr, (int64_t[]){0, -1, 0}, (int64_t[]){1, 1, 1}),
		  SCOUT_EBOUNDS, "(0, -1, 0) to (1, 1, 1)");
	CHECK_ERR(scout_extract_box(out, arr, (int64_t[]){2, 0, 0}, (int64_t[]){1, 1, 1}),
		  SCOUT_EBOUNDS, "(2, 0, 0) to (1, 1, 1)");
	CHECK_ERR(scout_insert_box(arr, (int64_t[]){0, 0, 5}, (int64_t[]){1, 1, 7}, out),
		  SCOUT_EBOUNDS, "(0, 0, 5) to (1, 1, 7)");
	/* an out-of-bounds box is rejected even when it is empty elsewhere */
	CHECK_ERR(scout_insert_box(arr, (int64_t[]){0, 0, 9}, (int64_t[]){0, 0, 9}, out),
		  SCOUT_EBOUNDS, NULL);
	CHECK(d[0] == 0 && d[5] == 35); /* nothing written by the failed calls */

	/* NULL arguments */
	CHECK_ERR(scout_extract_box(out, NULL, (int64_t[]){0, 0, 0}, (int64_t[]){1, 1, 1}),
		  SCOUT_EINVAL, "NULL");
	CHECK_ERR(scout_extract_box(out, arr, NULL, (int64_t[]){1, 1, 1}), SCOUT_EINVAL, "NULL");
	CHECK_ERR(scout_extract_box(out, arr, (int64_t[]){0, 0, 0}, NULL), SCOUT_EINVAL, "NULL");
	CHECK_ERR(scout_extract_box(NULL, arr, (int64_t[]){0, 0, 0}, (int64_t[]){1, 1, 1}),
		  SCOUT_EINVAL, "NULL");
	CHECK_ERR(scout_insert_box(NULL, (int64_t[]){0, 0, 0}, (int64_t[]){1, 1, 1}, out),
		  SCOUT_EINVAL, "NULL");
	CHECK_ERR(scout_insert_box(arr, (int64_t[]){0, 0, 0}, (int64_t[]){1, 1, 1}, NULL),
		  SCOUT_EINVAL, "NULL");
	CHECK_ERR(scout_insert_box(arr, NULL, (int64_t[]){1, 1, 1}, out), SCOUT_EINVAL, "NULL");
	scout_array_free(arr);

	/* accessors on NULL */
	CHECK(scout_array_ndim(NULL) == 0);
	CHECK(scout_array_shape(NULL) == NULL && scout_array_chunks(NULL) == NULL);
	CHECK(scout_array_kind(NULL) == NULL && scout_array_data(NULL) == NULL);
	CHECK(scout_array_nbytes(NULL) == 0 && scout_array_writable(NULL) == 0);
	scout_array_free(NULL);

	/* creation errors */
	int64_t s[SCOUT_MAX_NDIM + 1];
	for (int i = 0; i <= SCOUT_MAX_NDIM; i++)
		s[i] = 1;
	CHECK_ERR(scout_array_new(&arr, 0, s, SCOUT_UINT8), SCOUT_EINVAL, "ndim 0");
	CHECK_ERR(scout_array_new(&arr, SCOUT_MAX_NDIM + 1, s, SCOUT_UINT8), SCOUT_EINVAL,
		  "ndim 33");
	CHECK_OK(scout_array_new(&arr, SCOUT_MAX_NDIM, s, SCOUT_UINT8));
	CHECK(scout_array_nbytes(arr) == 1);
	scout_array_free(arr);
	CHECK_ERR(scout_array_new(&arr, 2, (int64_t[]){3, -2}, SCOUT_UINT8), SCOUT_EINVAL,
		  "axis 1");
	CHECK_ERR(scout_array_new(&arr, 2, s, SCOUT_DTYPE_COUNT), SCOUT_EINVAL, "dtype");
	CHECK_ERR(scout_array_new(&arr, 2, NULL, SCOUT_UINT8), SCOUT_EINVAL, NULL);
	CHECK_ERR(scout_array_new(NULL, 2, s, SCOUT_UINT8), SCOUT_EINVAL, NULL);
	/* 2^40 x 2^40 elements, and 2^61 elements of 8 bytes, overflow */
	CHECK_ERR(
	    scout_array_new(&arr, 2, (int64_t[]){INT64_C(1) << 40, INT64_C(1) << 40}, SCOUT_UINT8),
	    SCOUT_EOVERFLOW, "axis 1");
	CHECK_ERR(scout_array_new(&arr, 1, (int64_t[]){INT64_C(1) << 61}, SCOUT_FLOAT64),
		  SCOUT_EOVERFLOW, NULL);
	/* a zero extent gives an empty array */
	CHECK_OK(scout_array_new(&arr, 2, (int64_t[]){0, 7}, SCOUT_COMPLEX128));
	CHECK(scout_array_nbytes(arr) == 0 && scout_array_shape(arr)[1] == 7);
	CHECK_OK(scout_extract_box(NULL, arr, (int64_t[]){0, 0}, (int64_t[]){0, 7}));
	CHECK_ERR(scout_extract_box(out, arr, (int64_t[]){0, 0}, (int64_t[]){1, 7}), SCOUT_EBOUNDS,
		  NULL);
	scout_array_free(arr);
}

int main(void)
{
	for (int dt = 0; dt < SCOUT_DTYPE_COUNT; dt++) {
		CHECK(scout_dtype_size((scout_dtype)dt) > 0);
		test_random_boxes((scout_dtype)dt);
	}
	test_wrap();
	test_edges_and_errors();
	return check_summary();
}
