/*
 * geometry_tool: runs scout's geometry and point-filter functions on requests
 * read from stdin, one per line, and prints one answer line per request, so
 * tests/py/test_geometry.py can compare them with numpy / itertools.
 *
 * Requests (all numbers are integers, N is ndim):
 *   dims N shape[N] chunks[N]        -> ok nb_chunks[N]
 *   count N shape[N] chunks[N]       -> ok count
 *   coords N shape[N] chunks[N]      -> ok count c[count*N]
 *   start N index shape[N] chunks[N] -> ok start[N]
 *   bounds N shape[N] start[N] chunks[N] overlap[N] -> ok start_ghosted[N] stop_ghosted[N]
 *   filter N count start[N] stop[N] points[count*N] -> ok kept idx[kept] points[kept*N]
 *   gfilter N count start_ghosted[N] start_coord[N] chunks[N] points[count*N]
 *                                    -> ok kept points[kept*N]
 * A failure prints "err CODE message".
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scout/scout.h"

static int read_ints(int64_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (scanf("%" SCNd64, &v[i]) != 1)
			return -1;
	return 0;
}

static void print_ints(const int64_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf(" %" PRId64, v[i]);
}

static int fail(int rc)
{
	printf("err %d %s\n", rc, scout_last_error());
	return 0;
}

/* Handle one request; -1 on malformed input. */
static int request(const char *cmd)
{
	int ndim;
	if (scanf("%d", &ndim) != 1)
		return -1;
	/* read ndim as given, but never index past the buffers */
	int n = ndim < 1 ? 1 : ndim > SCOUT_MAX_NDIM ? SCOUT_MAX_NDIM : ndim;
	int64_t a[SCOUT_MAX_NDIM], b[SCOUT_MAX_NDIM], c[SCOUT_MAX_NDIM], d[SCOUT_MAX_NDIM];
	int rc;
	if (!strcmp(cmd, "dims") || !strcmp(cmd, "count") || !strcmp(cmd, "coords")) {
		if (read_ints(a, (size_t)n) || read_ints(b, (size_t)n))
			return -1;
		if (!strcmp(cmd, "dims")) {
			if ((rc = scout_chunk_dims(c, ndim, a, b)) < 0)
				return fail(rc);
			printf("ok");
			print_ints(c, (size_t)n);
		} else if (!strcmp(cmd, "count")) {
			size_t count;
			if ((rc = scout_chunk_count(&count, ndim, a, b)) < 0)
				return fail(rc);
			printf("ok %zu", count);
		} else {
			int64_t *coords;
			size_t count;
			if ((rc = scout_chunk_coordinates(&coords, &count, ndim, a, b)) < 0)
				return fail(rc);
			printf("ok %zu", count);
			print_ints(coords, count * (size_t)n);
			scout_free(coords);
		}
	} else if (!strcmp(cmd, "start")) {
		int64_t index;
		if (read_ints(&index, 1) || read_ints(a, (size_t)n) || read_ints(b, (size_t)n))
			return -1;
		if ((rc = scout_chunk_start(c, (size_t)index, ndim, a, b)) < 0)
			return fail(rc);
		printf("ok");
		print_ints(c, (size_t)n);
	} else if (!strcmp(cmd, "bounds")) {
		int64_t sg[SCOUT_MAX_NDIM], eg[SCOUT_MAX_NDIM];
		if (read_ints(a, (size_t)n) || read_ints(b, (size_t)n) || read_ints(c, (size_t)n) ||
		    read_ints(d, (size_t)n))
			return -1;
		if ((rc = scout_ghosted_bounds(sg, eg, ndim, a, b, c, d)) < 0)
			return fail(rc);
		printf("ok");
		print_ints(sg, (size_t)n);
		print_ints(eg, (size_t)n);
	} else if (!strcmp(cmd, "filter") || !strcmp(cmd, "gfilter")) {
		int64_t count;
		int g = !strcmp(cmd, "gfilter");
		if (read_ints(&count, 1) || count < 0 || read_ints(a, (size_t)n) ||
		    read_ints(b, (size_t)n) || (g && read_ints(c, (size_t)n)))
			return -1;
		size_t np = (size_t)count * (size_t)n;
		int64_t *pts = malloc((np ? np : 1) * sizeof *pts);
		size_t *idx = malloc((count ? (size_t)count : 1) * sizeof *idx);
		if (!pts || !idx || read_ints(pts, np)) {
			free(pts);
			free(idx);
			return -1;
		}
		size_t kept;
		if (g)
			rc = scout_filter_ghosted_points(pts, &kept, a, b, c, pts, (size_t)count,
							 ndim);
		else
			rc = scout_filter_points_in_box(pts, idx, &kept, pts, (size_t)count, ndim,
							a, b);
		if (rc < 0) {
			free(pts);
			free(idx);
			return fail(rc);
		}
		printf("ok %zu", kept);
		if (!g)
			for (size_t i = 0; i < kept; i++)
				printf(" %zu", idx[i]);
		print_ints(pts, kept * (size_t)n);
		free(pts);
		free(idx);
	} else {
		return -1;
	}
	printf("\n");
	return 0;
}

int main(void)
{
	char cmd[32];
	while (scanf("%31s", cmd) == 1) {
		if (request(cmd) < 0) {
			fprintf(stderr, "geometry_tool: malformed request \"%s\"\n", cmd);
			return 2;
		}
	}
	return 0;
}
