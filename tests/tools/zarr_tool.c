/*
 * zarr_tool: drives scout's Zarr backend for the Python interop tests.
 *
 *   zarr_tool batch FILE     run one command per line of FILE (fields separated
 *                            by tabs); print one result line per command:
 *                            "ok" or "err <code> <message>"
 *   zarr_tool CMD ARGS...    run one command; message on stderr, exit 1 on error
 *
 * Commands:
 *   read PATH OUT            whole array, native byte order, C order, into OUT
 *   readboxes PATH OUT SEED  same, assembled from random unaligned boxes
 *   write PATH DTYPE ORDER SEP COMPRESSOR FILL SHAPE CHUNKS IN MODE [FILTERS]
 *        create the array (COMPRESSOR: numcodecs JSON, "default" or "null";
 *        FILTERS: a JSON list of numcodecs filter configs;
 *        FILL: JSON or "-" for the default; SHAPE/CHUNKS: comma-separated)
 *        and write IN (the whole array, native, C order) by MODE:
 *          whole            one insert_box
 *          boxes:SEED       random unaligned boxes tiling the array, random order
 *          sub:A:B          only the box from A to B (comma-separated)
 *          pmap:W:K         pmap workers (W threads|procs) each inserting
 *                           one box of a grid of chunks+K, unaligned with storage
 *   setattrs PATH JSON       replace .zattrs
 *   attrs PATH               print .zattrs
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "read_file.h"
#include "scout/scout.h"

static int parse_list(int64_t *v, const char *s)
{
	int n = 0;
	while (*s && n < SCOUT_MAX_NDIM) {
		char *end;
		v[n++] = strtoll(s, &end, 10);
		s = *end == ',' ? end + 1 : end;
		if (*end != ',')
			break;
	}
	return n;
}

static int save(const char *path, const void *d, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	size_t w = fwrite(d, 1, n, f);
	return fclose(f) == 0 && w == n ? 0 : -1;
}

static uint64_t rng;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* copy box [a, b) of full (shape) into a compact buffer or back */
static void box_copy(void *box, void *full, int nd, const int64_t *shape, const int64_t *a,
		     const int64_t *b, size_t isz, int to_full)
{
	/* odometer over all but the last axis */
	int64_t idx[SCOUT_MAX_NDIM];
	for (int i = 0; i < nd; i++)
		idx[i] = a[i];
	size_t run = (size_t)(b[nd - 1] - a[nd - 1]) * isz, pos = 0;
	for (;;) {
		size_t off = 0;
		for (int i = 0; i < nd; i++)
			off = off * (size_t)shape[i] + (size_t)idx[i];
		if (to_full)
			memcpy((char *)full + off * isz, (char *)box + pos, run);
		else
			memcpy((char *)box + pos, (char *)full + off * isz, run);
		pos += run;
		int ax = nd - 2;
		while (ax >= 0 && ++idx[ax] >= b[ax]) {
			idx[ax] = a[ax];
			ax--;
		}
		if (ax < 0)
			break;
	}
}

/* random cut points of [0, n) into at most k pieces */
static int cuts(int64_t *c, int64_t n, int k)
{
	int m = 0;
	c[m++] = 0;
	for (int i = 1; i < k; i++) {
		int64_t x = n > 1 ? 1 + (int64_t)(rnd() % (uint64_t)(n - 1)) : 0;
		int dup = 0;
		for (int j = 0; j < m; j++)
			dup |= c[j] == x;
		if (!dup && x > 0)
			c[m++] = x;
	}
	/* sort */
	for (int i = 1; i < m; i++)
		for (int j = i; j > 0 && c[j] < c[j - 1]; j--) {
			int64_t t = c[j];
			c[j] = c[j - 1];
			c[j - 1] = t;
		}
	c[m] = n;
	return m;
}

typedef struct {
	void *full;
	const int64_t *shape;
	size_t isz;
} pmap_ctx;

static int pmap_write(scout_array *arr, const int64_t *start, const int64_t *chunks,
		      scout_result *res, void *payload)
{
	(void)res;
	pmap_ctx *c = payload;
	int nd = scout_array_ndim(arr);
	int64_t stop[SCOUT_MAX_NDIM];
	size_t n = c->isz;
	for (int i = 0; i < nd; i++) {
		stop[i] = start[i] + chunks[i] < c->shape[i] ? start[i] + chunks[i] : c->shape[i];
		n *= (size_t)(stop[i] - start[i]);
	}
	void *box = malloc(n ? n : 1);
	box_copy(box, c->full, nd, c->shape, start, stop, c->isz, 0);
	int rc = scout_insert_box(arr, start, stop, box);
	free(box);
	return rc;
}

static int cmd_read(char **a, int n, int boxes)
{
	if (n < 2 + boxes)
		return -100;
	scout_array *arr;
	int rc = scout_array_open(&arr, a[0], SCOUT_MODE_READ);
	if (rc < 0)
		return rc;
	size_t nb = scout_array_nbytes(arr);
	void *buf = malloc(nb ? nb : 1);
	int nd = scout_array_ndim(arr);
	const int64_t *shape = scout_array_shape(arr);
	int64_t z[SCOUT_MAX_NDIM] = {0};
	if (!boxes) {
		rc = scout_extract_box(buf, arr, z, shape);
	} else {
		rng = strtoull(a[2], NULL, 10) | 1;
		int64_t c[SCOUT_MAX_NDIM][8];
		int m[SCOUT_MAX_NDIM];
		for (int i = 0; i < nd; i++)
			m[i] = cuts(c[i], shape[i], 3);
		int64_t k[SCOUT_MAX_NDIM] = {0};
		for (int done = nb == 0; !done && rc == 0;) {
			int64_t s[SCOUT_MAX_NDIM], e[SCOUT_MAX_NDIM];
			size_t bn = scout_dtype_size(scout_array_dtype(arr));
			for (int i = 0; i < nd; i++) {
				s[i] = c[i][k[i]];
				e[i] = c[i][k[i] + 1];
				bn *= (size_t)(e[i] - s[i]);
			}
			void *box = malloc(bn ? bn : 1);
			rc = scout_extract_box(box, arr, s, e);
			if (rc == 0)
				box_copy(box, buf, nd, shape, s, e,
					 scout_dtype_size(scout_array_dtype(arr)), 1);
			free(box);
			int ax = nd - 1;
			while (ax >= 0 && ++k[ax] >= m[ax]) {
				k[ax] = 0;
				ax--;
			}
			done = ax < 0;
		}
	}
	if (rc == 0 && save(a[1], buf, nb) != 0)
		rc = -101;
	free(buf);
	scout_array_free(arr);
	return rc;
}

static int cmd_write(char **a, int n)
{
	if (n < 10)
		return -100;
	scout_zarr_options o = SCOUT_ZARR_OPTIONS_INIT;
	o.dtype = a[1];
	o.order = a[2][0];
	o.dimension_separator = a[3][0];
	o.compressor = strcmp(a[4], "default") == 0 ? NULL : a[4];
	o.fill_value = strcmp(a[5], "-") == 0 ? NULL : a[5];
	o.ndim = parse_list(o.shape, a[6]);
	parse_list(o.chunks, a[7]);
	o.overwrite = 1;
	if (n > 10)
		o.filters = a[10];
	scout_array *arr;
	int rc = scout_zarr_create(&arr, a[0], &o);
	if (rc < 0)
		return rc;
	size_t nb = scout_array_nbytes(arr), got = 0;
	void *full = test_read_file(a[8], &got);
	if (!full || got != nb) {
		free(full);
		scout_array_free(arr);
		return -102;
	}
	size_t isz = scout_dtype_size(scout_array_dtype(arr));
	int nd = o.ndim;
	const char *mode = a[9];
	int64_t z[SCOUT_MAX_NDIM] = {0};
	if (strcmp(mode, "whole") == 0) {
		rc = scout_insert_box(arr, z, o.shape, full);
	} else if (strncmp(mode, "sub:", 4) == 0) {
		int64_t s[SCOUT_MAX_NDIM], e[SCOUT_MAX_NDIM];
		parse_list(s, mode + 4);
		parse_list(e, strchr(mode + 4, ':') + 1);
		size_t bn = isz;
		int inside = 1;
		for (int i = 0; i < nd; i++) {
			inside &= 0 <= s[i] && s[i] < e[i] && e[i] <= o.shape[i];
			bn *= inside ? (size_t)(e[i] - s[i]) : 1;
		}
		void *box = malloc(bn ? bn : 1);
		if (inside) /* otherwise insert_box refuses the box before reading it */
			box_copy(box, full, nd, o.shape, s, e, isz, 0);
		rc = scout_insert_box(arr, s, e, box);
		free(box);
	} else if (strncmp(mode, "boxes:", 6) == 0) {
		rng = strtoull(mode + 6, NULL, 10) | 1;
		int64_t c[SCOUT_MAX_NDIM][8];
		int m[SCOUT_MAX_NDIM];
		size_t total = 1;
		for (int i = 0; i < nd; i++) {
			m[i] = cuts(c[i], o.shape[i], 3);
			total *= (size_t)m[i];
		}
		/* visit the boxes in a random order */
		size_t *order = malloc(total * sizeof *order);
		for (size_t i = 0; i < total; i++)
			order[i] = i;
		for (size_t i = total; i > 1; i--) {
			size_t j = rnd() % i, t = order[i - 1];
			order[i - 1] = order[j];
			order[j] = t;
		}
		for (size_t q = 0; q < total && rc == 0; q++) {
			size_t r = order[q];
			int64_t s[SCOUT_MAX_NDIM], e[SCOUT_MAX_NDIM];
			size_t bn = isz;
			for (int i = nd - 1; i >= 0; i--) {
				int k = (int)(r % (size_t)m[i]);
				r /= (size_t)m[i];
				s[i] = c[i][k];
				e[i] = c[i][k + 1];
				bn *= (size_t)(e[i] - s[i]);
			}
			void *box = malloc(bn ? bn : 1);
			box_copy(box, full, nd, o.shape, s, e, isz, 0);
			rc = scout_insert_box(arr, s, e, box);
			free(box);
		}
		free(order);
	} else if (strncmp(mode, "pmap:", 5) == 0) {
		scout_pmap_options po = SCOUT_PMAP_OPTIONS_INIT;
		po.nb_workers = 2;
		po.workers = strncmp(mode + 5, "procs", 5) == 0 ? SCOUT_WORKERS_PROCESSES
								: SCOUT_WORKERS_THREADS;
		int64_t k = strtoll(strrchr(mode, ':') + 1, NULL, 10), g[SCOUT_MAX_NDIM];
		for (int i = 0; i < nd; i++)
			g[i] = o.chunks[i] + k;
		pmap_ctx ctx = {full, o.shape, isz};
		rc = scout_pmap_chunks(NULL, pmap_write, &ctx, arr, g, &po);
	} else {
		rc = -103;
	}
	free(full);
	scout_array_free(arr);
	return rc;
}

static int run(char **a, int n, FILE *out)
{
	if (n < 1)
		return -100;
	const char *cmd = a[0];
	a++;
	n--;
	if (!strcmp(cmd, "read"))
		return cmd_read(a, n, 0);
	if (!strcmp(cmd, "readboxes"))
		return cmd_read(a, n, 1);
	if (!strcmp(cmd, "write"))
		return cmd_write(a, n);
	if (!strcmp(cmd, "setattrs") || !strcmp(cmd, "attrs")) {
		scout_array *arr;
		int rc = scout_array_open(&arr, a[0], cmd[0] == 's' ? 3 : 1);
		if (rc < 0)
			return rc;
		char *js = NULL;
		if (cmd[0] == 's')
			rc = n > 1 ? scout_array_attrs_set(arr, a[1]) : -100;
		else
			rc = scout_array_attrs_get(&js, arr);
		if (js) {
			for (char *p = js; *p; p++)
				if (*p == '\n' || *p == '\t')
					*p = ' ';
			fprintf(out, "%s ", js);
		}
		scout_free(js);
		scout_array_free(arr);
		return rc;
	}
	return -100;
}

static const char *msg(int rc)
{
	switch (rc) {
	case -100:
		return "zarr_tool: bad command";
	case -101:
		return "zarr_tool: cannot write the output file";
	case -102:
		return "zarr_tool: input file missing or of the wrong size";
	case -103:
		return "zarr_tool: unknown write mode";
	default:
		return scout_last_error();
	}
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "batch") == 0) {
		FILE *f = fopen(argv[2], "r");
		if (!f)
			return 2;
		static char line[1 << 16];
		while (fgets(line, sizeof line, f)) {
			line[strcspn(line, "\n")] = 0;
			char *fields[32];
			int n = 0;
			for (char *p = strtok(line, "\t"); p && n < 32; p = strtok(NULL, "\t"))
				fields[n++] = p;
			int rc = run(fields, n, stdout);
			if (rc == 0)
				printf("ok\n");
			else
				printf("err %d %s\n", rc, msg(rc));
			fflush(stdout);
		}
		fclose(f);
		return 0;
	}
	int rc = run(argv + 1, argc - 1, stdout);
	if (rc != 0) {
		fprintf(stderr, "zarr_tool: %s\n", msg(rc));
		return 1;
	}
	printf("\n");
	return 0;
}
