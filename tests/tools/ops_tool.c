/*
 * ops_tool: runs the ops kernels on raw files for tests/py/test_ops_scipy.py.
 *
 *   ops_tool gauss DTYPE IN OUT NDIM SHAPE... SIGMA... TRUNCATE
 *       IN: raw DTYPE array; OUT: float32 gaussian_filter result
 *   ops_tool maxf IN OUT NDIM SHAPE... RADIUS...          (float32 in and out)
 *   ops_tool peaks IN OUT NDIM SHAPE... RADIUS... THRESHOLD [START... STOP...]
 *       OUT: int64 coordinates, point after point
 *   ops_tool convert DTYPE IN OUT N        (OUT: float32)
 *   ops_tool unconvert DTYPE IN OUT N      (IN: float32, OUT: DTYPE)
 *   ops_tool stats DTYPE IN NPARTS SEED [BINS LO HI]
 *       splits IN into NPARTS random pieces, accumulates each separately,
 *       merges them in a random order (pairwise tree), prints the JSON
 *   ops_tool bench N SIGMA REPEAT           gaussian_filter on an N^3 block, ms
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scout/scout.h"
#include "scout/ops.h"

static void die(const char *what)
{
	fprintf(stderr, "ops_tool: %s: %s\n", what, scout_last_error());
	exit(1);
}

static void *read_file(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		exit(1);
	}
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	void *buf = malloc(n > 0 ? (size_t)n : 1);
	if (!buf || (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n)) {
		perror(path);
		exit(1);
	}
	fclose(f);
	*size = (size_t)n;
	return buf;
}

static void write_file(const char *path, const void *buf, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f || (n > 0 && fwrite(buf, 1, n, f) != n) || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static scout_dtype parse_dtype(const char *s)
{
	scout_dtype d;
	if (scout_dtype_parse(&d, NULL, s) < 0)
		die("dtype");
	return d;
}

static uint64_t rng_state;
static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static int cmd_stats(int argc, char **argv)
{
	if (argc < 6)
		return 2;
	scout_dtype dt = parse_dtype(argv[2]);
	size_t size;
	unsigned char *data = read_file(argv[3], &size);
	size_t isz = scout_dtype_size(dt), n = size / isz;
	size_t nparts = strtoull(argv[4], NULL, 10);
	rng_state = strtoull(argv[5], NULL, 10) * 2654435761u + 1;
	size_t bins = 0;
	double lo = 0, hi = 0;
	if (argc >= 9) {
		bins = strtoull(argv[6], NULL, 10);
		lo = strtod(argv[7], NULL);
		hi = strtod(argv[8], NULL);
	}
	if (nparts < 1)
		nparts = 1;
	/* random cut points */
	size_t *cuts = calloc(nparts + 1, sizeof(size_t));
	for (size_t i = 1; i < nparts; i++)
		cuts[i] = n ? rng() % (n + 1) : 0;
	cuts[nparts] = n;
	for (size_t i = 1; i < nparts; i++) /* insertion sort */
		for (size_t j = i; j > 1 && cuts[j - 1] > cuts[j]; j--) {
			size_t t = cuts[j];
			cuts[j] = cuts[j - 1];
			cuts[j - 1] = t;
		}
	scout_stats *parts = calloc(nparts, sizeof(scout_stats));
	uint64_t *hists = bins ? calloc(nparts * bins, sizeof(uint64_t)) : NULL;
	for (size_t i = 0; i < nparts; i++) {
		if (scout_stats_init(&parts[i], dt) < 0)
			die("stats_init");
		size_t a = cuts[i], b = cuts[i + 1];
		/* feed the part in one or two updates */
		size_t mid = a + (b - a) / 3;
		if (scout_stats_update(&parts[i], data + a * isz, mid - a) < 0 ||
		    scout_stats_update(&parts[i], data + mid * isz, b - mid) < 0)
			die("stats_update");
		if (bins && scout_histogram_update(hists + i * bins, bins, lo, hi, dt,
						   data + a * isz, b - a) < 0)
			die("histogram_update");
	}
	/* merge in random order: repeatedly merge a random part into another */
	size_t live = nparts;
	size_t *ids = calloc(nparts, sizeof(size_t));
	for (size_t i = 0; i < nparts; i++)
		ids[i] = i;
	while (live > 1) {
		size_t x = rng() % live, y = rng() % (live - 1);
		if (y >= x)
			y++;
		if (scout_stats_merge(&parts[ids[x]], &parts[ids[y]]) < 0)
			die("stats_merge");
		if (bins &&
		    scout_histogram_merge(hists + ids[x] * bins, hists + ids[y] * bins, bins) < 0)
			die("histogram_merge");
		ids[y] = ids[live - 1];
		live--;
	}
	char *json;
	if (scout_stats_to_json(&json, &parts[ids[0]], bins ? hists + ids[0] * bins : NULL, bins,
				lo, hi) < 0)
		die("stats_to_json");
	printf("%s\n", json);
	scout_free(json);
	free(ids);
	free(hists);
	free(parts);
	free(cuts);
	free(data);
	return 0;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		goto usage;
	const char *cmd = argv[1];
	if (strcmp(cmd, "stats") == 0) {
		int rc = cmd_stats(argc, argv);
		if (rc == 2)
			goto usage;
		return rc;
	}
	if (strcmp(cmd, "bench") == 0 && argc >= 5) {
		int64_t n = atoll(argv[2]);
		double s = strtod(argv[3], NULL);
		int rep = atoi(argv[4]);
		int64_t shape[3] = {n, n, n};
		double sigma[3] = {s, s, s};
		size_t cnt = (size_t)(n * n * n);
		float *a = malloc(cnt * sizeof(float)), *b = malloc(cnt * sizeof(float));
		for (size_t i = 0; i < cnt; i++)
			a[i] = (float)(rng() % 1000);
		double best = 1e30;
		for (int k = 0; k < rep; k++) {
			double t0 = now_ms();
			if (scout_gaussian_filter(b, a, 3, shape, sigma, 4.0) < 0)
				die("gaussian");
			double t = now_ms() - t0;
			if (t < best)
				best = t;
		}
		printf("gaussian_filter %lld^3 float32 sigma %g: best of %d: %.1f ms\n",
		       (long long)n, s, rep, best);
		for (int ax = 0; ax < 3; ax++) {
			double one[3] = {0, 0, 0};
			one[ax] = s;
			best = 1e30;
			for (int k = 0; k < rep; k++) {
				double t0 = now_ms();
				if (scout_gaussian_filter(b, a, 3, shape, one, 4.0) < 0)
					die("gaussian");
				double t = now_ms() - t0;
				if (t < best)
					best = t;
			}
			printf("  axis %d only: %.1f ms\n", ax, best);
		}
		double t0 = now_ms();
		int64_t r[3] = {3, 3, 3};
		if (scout_maximum_filter(a, b, 3, shape, r) < 0)
			die("maxf");
		printf("maximum_filter %lld^3 radius 3: %.1f ms\n", (long long)n, now_ms() - t0);
		free(a);
		free(b);
		return 0;
	}
	if (strcmp(cmd, "statsbench") == 0 && argc >= 3) {
		size_t cnt = strtoull(argv[2], NULL, 10);
		uint16_t *u = malloc(cnt * 2);
		float *f = malloc(cnt * 4);
		for (size_t i = 0; i < cnt; i++) {
			u[i] = (uint16_t)rng();
			f[i] = (float)(rng() % 100000) / 7.0f;
		}
		scout_stats st;
		double t0 = now_ms();
		if (scout_stats_init(&st, SCOUT_UINT16) < 0 || scout_stats_update(&st, u, cnt) < 0)
			die("stats");
		double t1 = now_ms();
		if (scout_stats_init(&st, SCOUT_FLOAT32) < 0 || scout_stats_update(&st, f, cnt) < 0)
			die("stats");
		double t2 = now_ms();
		uint64_t counts[256] = {0};
		if (scout_histogram_update(counts, 256, 0, 65535, SCOUT_UINT16, u, cnt) < 0)
			die("histogram");
		double t3 = now_ms();
		printf("stats of %zu values: uint16 %.1f ms, float32 %.1f ms; histogram uint16 "
		       "%.1f ms\n",
		       cnt, t1 - t0, t2 - t1, t3 - t2);
		free(u);
		free(f);
		return 0;
	}
	if ((strcmp(cmd, "convert") == 0 || strcmp(cmd, "unconvert") == 0) && argc >= 6) {
		scout_dtype dt = parse_dtype(argv[2]);
		size_t size, n = strtoull(argv[5], NULL, 10);
		void *in = read_file(argv[3], &size);
		if (strcmp(cmd, "convert") == 0) {
			float *out = malloc(n * 4 + 1);
			if (scout_to_float32(out, in, dt, n) < 0)
				die("to_float32");
			write_file(argv[4], out, n * 4);
			free(out);
		} else {
			void *out = malloc(n * scout_dtype_size(dt) + 1);
			if (scout_from_float32(out, dt, in, n) < 0)
				die("from_float32");
			write_file(argv[4], out, n * scout_dtype_size(dt));
			free(out);
		}
		free(in);
		return 0;
	}
	int off = strcmp(cmd, "gauss") == 0 ? 1 : 0; /* gauss has a DTYPE first */
	if (argc < 5 + off)
		goto usage;
	scout_dtype dt = off ? parse_dtype(argv[2]) : SCOUT_FLOAT32;
	const char *inpath = argv[2 + off], *outpath = argv[3 + off];
	int ndim = atoi(argv[4 + off]);
	int pos = 5 + off;
	if (ndim < 1 || ndim > SCOUT_MAX_NDIM || argc < pos + 2 * ndim)
		goto usage;
	int64_t shape[SCOUT_MAX_NDIM];
	size_t n = 1;
	for (int i = 0; i < ndim; i++) {
		shape[i] = atoll(argv[pos++]);
		n *= (size_t)shape[i];
	}
	size_t size;
	void *raw = read_file(inpath, &size);
	if (size != n * scout_dtype_size(dt)) {
		fprintf(stderr, "ops_tool: %s has %zu bytes, expected %zu\n", inpath, size,
			n * scout_dtype_size(dt));
		return 1;
	}
	float *in = malloc(n * sizeof(float) + 1);
	if (scout_to_float32(in, raw, dt, n) < 0)
		die("to_float32");
	free(raw);
	if (strcmp(cmd, "gauss") == 0) {
		double sigma[SCOUT_MAX_NDIM];
		if (argc < pos + ndim + 1)
			goto usage;
		for (int i = 0; i < ndim; i++)
			sigma[i] = strtod(argv[pos++], NULL);
		double truncate = strtod(argv[pos++], NULL);
		/* in place, to exercise out == in */
		if (scout_gaussian_filter(in, in, ndim, shape, sigma, truncate) < 0)
			die("gaussian_filter");
		write_file(outpath, in, n * sizeof(float));
	} else if (strcmp(cmd, "maxf") == 0) {
		int64_t radius[SCOUT_MAX_NDIM];
		for (int i = 0; i < ndim; i++)
			radius[i] = atoll(argv[pos++]);
		float *out = malloc(n * sizeof(float) + 1);
		if (scout_maximum_filter(out, in, ndim, shape, radius) < 0)
			die("maximum_filter");
		write_file(outpath, out, n * sizeof(float));
		free(out);
	} else if (strcmp(cmd, "peaks") == 0) {
		int64_t radius[SCOUT_MAX_NDIM], start[SCOUT_MAX_NDIM], stop[SCOUT_MAX_NDIM];
		for (int i = 0; i < ndim; i++)
			radius[i] = atoll(argv[pos++]);
		if (argc < pos + 1)
			goto usage;
		double thr = strtod(argv[pos++], NULL);
		int box = argc >= pos + 2 * ndim;
		for (int i = 0; box && i < ndim; i++)
			start[i] = atoll(argv[pos++]);
		for (int i = 0; box && i < ndim; i++)
			stop[i] = atoll(argv[pos++]);
		int64_t *pts;
		size_t cnt;
		if (scout_local_maxima(&pts, &cnt, in, ndim, shape, radius, thr, box ? start : NULL,
				       box ? stop : NULL) < 0)
			die("local_maxima");
		write_file(outpath, pts, cnt * (size_t)ndim * sizeof(int64_t));
		scout_free(pts);
	} else {
		goto usage;
	}
	free(in);
	return 0;
usage:
	fprintf(stderr, "usage: see the comment at the top of tests/tools/ops_tool.c\n");
	return 2;
}
