/*
 * zarr_v3_write: creates Zarr v3 arrays through scout's C API for the v3
 * interop test (tests/py/test_v3_interop.py), which `scout convert` cannot:
 * a chosen fill_value (convert writes 0) and chunks left absent.
 *
 *   zarr_v3_write FILE
 *
 * FILE holds one array per line, fields separated by tabs:
 *   PATH DTYPE SHAPE CHUNKS FILL CODECS KEY_ENCODING SEPARATOR IN ABSENT
 * DTYPE a numpy typestr; SHAPE, CHUNKS comma-separated; FILL the JSON fill
 * value; CODECS the v3 codec list as JSON; KEY_ENCODING default|v2; IN the
 * whole array (native byte order, C order); ABSENT "-" or chunk coordinates
 * separated by ';' (e.g. "1,0,1;2,2,2"): every other chunk is written with
 * one scout_insert_box of its region, these are never written.
 * Prints "ok" or "err MESSAGE" per line; exits 1 if any line failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "read_file.h"
#include "scout/scout.h"

#define MAX_FIELDS 10

static int parse_list(int64_t *v, const char *s)
{
	int n = 0;
	while (*s && n < SCOUT_MAX_NDIM) {
		char *end;
		v[n++] = strtoll(s, &end, 10);
		if (*end != ',')
			break;
		s = end + 1;
	}
	return n;
}

/* whether chunk `c` is listed in `absent` ("-" or "a,b;c,d") */
static int is_absent(const int64_t *c, int nd, const char *absent)
{
	if (strcmp(absent, "-") == 0)
		return 0;
	const char *s = absent;
	while (*s) {
		int64_t v[SCOUT_MAX_NDIM];
		int n = parse_list(v, s);
		int same = n == nd;
		for (int i = 0; same && i < nd; i++)
			same = v[i] == c[i];
		if (same)
			return 1;
		const char *next = strchr(s, ';');
		if (!next)
			break;
		s = next + 1;
	}
	return 0;
}

/* copy the box [start, stop) of the C-order array `full` (shape `shape`) into `box` */
static void copy_box(char *box, const char *full, int nd, const int64_t *shape,
		     const int64_t *start, const int64_t *stop, size_t isz)
{
	int64_t idx[SCOUT_MAX_NDIM];
	int64_t n = 1;
	for (int i = 0; i < nd; i++) {
		idx[i] = start[i];
		n *= stop[i] - start[i];
	}
	for (int64_t k = 0; k < n; k++) {
		int64_t off = 0;
		for (int i = 0; i < nd; i++)
			off = off * shape[i] + idx[i];
		memcpy(box + (size_t)k * isz, full + (size_t)off * isz, isz);
		for (int i = nd - 1; i >= 0; i--) {
			if (++idx[i] < stop[i])
				break;
			idx[i] = start[i];
		}
	}
}

static int write_one(char **a)
{
	scout_zarr_options o = SCOUT_ZARR_OPTIONS_INIT;
	o.zarr_format = 3;
	o.dtype = a[1];
	o.ndim = parse_list(o.shape, a[2]);
	parse_list(o.chunks, a[3]);
	o.fill_value = a[4];
	o.codecs = a[5];
	o.chunk_key_encoding = a[6];
	o.dimension_separator = a[7][0];
	o.overwrite = 1;
	scout_array *arr;
	int rc = scout_zarr_create(&arr, a[0], &o);
	if (rc < 0)
		return rc;
	size_t isz = scout_dtype_size(scout_array_dtype(arr)), got = 0;
	int nd = o.ndim;
	int64_t total = 1, grid[SCOUT_MAX_NDIM], c[SCOUT_MAX_NDIM] = {0};
	for (int i = 0; i < nd; i++) {
		grid[i] = (o.shape[i] + o.chunks[i] - 1) / o.chunks[i];
		total *= grid[i];
	}
	char *full = test_read_file(a[8], &got);
	char *box = malloc(scout_array_nbytes(arr) + 1);
	if (!full || !box || got != scout_array_nbytes(arr)) {
		free(full);
		free(box);
		scout_array_free(arr);
		fprintf(stderr, "%s: input size\n", a[8]);
		return SCOUT_EINVAL;
	}
	for (int64_t k = 0; k < total && rc >= 0; k++) {
		if (!is_absent(c, nd, a[9])) {
			int64_t start[SCOUT_MAX_NDIM], stop[SCOUT_MAX_NDIM];
			for (int i = 0; i < nd; i++) {
				start[i] = c[i] * o.chunks[i];
				stop[i] = start[i] + o.chunks[i] < o.shape[i]
					      ? start[i] + o.chunks[i]
					      : o.shape[i];
			}
			copy_box(box, full, nd, o.shape, start, stop, isz);
			rc = scout_insert_box(arr, start, stop, box);
		}
		for (int i = nd - 1; i >= 0; i--) {
			if (++c[i] < grid[i])
				break;
			c[i] = 0;
		}
	}
	free(full);
	free(box);
	scout_array_free(arr);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: zarr_v3_write FILE\n");
		return 2;
	}
	FILE *f = fopen(argv[1], "r");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	char line[65536];
	int failed = 0;
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = 0;
		char *a[MAX_FIELDS];
		int n = 0;
		for (char *s = line; n < MAX_FIELDS; n++) {
			a[n] = s;
			char *t = strchr(s, '\t');
			if (!t) {
				n++;
				break;
			}
			*t = 0;
			s = t + 1;
		}
		int rc = n == MAX_FIELDS ? write_one(a) : SCOUT_EINVAL;
		if (rc < 0) {
			failed = 1;
			printf("err %s\n", n == MAX_FIELDS ? scout_last_error() : "bad line");
		} else {
			printf("ok\n");
		}
	}
	fclose(f);
	return failed;
}
