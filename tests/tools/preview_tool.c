/*
 * preview_tool: runs the preview kernels for tests/py/test_cli_preview.py,
 * which compares their outputs with numpy.
 *
 *   preview_tool mip ARRAY OUT WORKERS KIND CHUNKS AXIS:START:STOP...
 *       scout_mip of an array (any kind scout opens) for each AXIS:START:STOP
 *       (STOP -1: the extent); KIND threads|processes; CHUNKS Z,Y,X processing
 *       chunks or - (automatic). OUT.k: the raw k-th projection (native
 *       order); prints each one's shape on a line.
 *   preview_tool project DTYPE IN OUT NDIM SHAPE...   scout_max_project along every
 *       axis a: OUT.a
 *   preview_tool contrast DTYPE IN PLO PHI [PLO PHI...]   prints "lo hi" (%.17g) per pair
 *   preview_tool map DTYPE IN OUT DEPTH LO HI [LO HI...]  OUT.k: uint8 / uint16 of pair k
 *   preview_tool blockmax DTYPE IN OUT H W F [F...]        OUT.F: block maxima
 *   preview_tool factor H W N                              prints the factor
 * Exit 1 with scout_last_error() on stderr when a call fails.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scout/scout.h"
#include "scout/preview.h"

static void die(const char *what)
{
	fprintf(stderr, "preview_tool: %s: %s\n", what, scout_last_error());
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

static char *numbered(const char *path, long k);

static int cmd_mip(int argc, char **argv)
{
	if (argc < 8)
		return 2;
	scout_array *arr;
	if (scout_array_open(&arr, argv[2], SCOUT_MODE_READ) < 0)
		die("open");
	int ndim = scout_array_ndim(arr);
	int64_t chunks[SCOUT_MAX_NDIM];
	scout_pmap_options po = SCOUT_PMAP_OPTIONS_INIT;
	scout_mip_options mo;
	if (scout_mip_options_init(&mo, SCOUT_MIP_OPTIONS_VERSION) < 0)
		die("options");
	po.nb_workers = atoi(argv[4]);
	po.workers = strcmp(argv[5], "processes") ? SCOUT_WORKERS_THREADS : SCOUT_WORKERS_PROCESSES;
	mo.pmap = &po;
	if (strcmp(argv[6], "-")) {
		if (sscanf(argv[6], "%" SCNd64 ",%" SCNd64 ",%" SCNd64, &chunks[0], &chunks[1],
			   &chunks[2]) != 3 ||
		    ndim != 3)
			return 2;
		mo.chunks = chunks;
	}
	for (int k = 7; k < argc; k++) {
		long long ax, st, sp;
		if (sscanf(argv[k], "%lld:%lld:%lld", &ax, &st, &sp) != 3)
			return 2;
		mo.axis = (int)ax;
		mo.start = st;
		mo.stop = sp;
		void *image;
		int64_t shape[SCOUT_MAX_NDIM];
		if (scout_mip(&image, shape, arr, &mo) < 0)
			die("mip");
		size_t n = 1;
		for (int i = 0; i < ndim - 1; i++) {
			n *= (size_t)shape[i];
			printf("%s%lld", i ? " " : "", (long long)shape[i]);
		}
		printf("\n");
		write_file(numbered(argv[3], k - 7), image,
			   n * scout_dtype_size(scout_array_dtype(arr)));
		scout_free(image);
	}
	scout_array_free(arr);
	return 0;
}

static char *numbered(const char *path, long k)
{
	static char buf[4096];
	snprintf(buf, sizeof buf, "%s.%ld", path, k);
	return buf;
}

static int cmd_project(int argc, char **argv)
{
	if (argc < 6)
		return 2;
	scout_dtype dt = parse_dtype(argv[2]);
	int ndim = atoi(argv[5]);
	if (ndim < 1 || ndim > SCOUT_MAX_NDIM || argc < 6 + ndim)
		return 2;
	int64_t shape[SCOUT_MAX_NDIM];
	for (int i = 0; i < ndim; i++)
		shape[i] = strtoll(argv[6 + i], NULL, 10);
	size_t size;
	void *in = read_file(argv[3], &size);
	for (int axis = 0; axis < ndim; axis++) {
		size_t nout = 1;
		for (int i = 0; i < ndim; i++)
			if (i != axis)
				nout *= (size_t)shape[i];
		void *out = malloc(nout * scout_dtype_size(dt) + 1);
		if (scout_max_project(out, in, dt, ndim, shape, axis) < 0)
			die("max_project");
		write_file(numbered(argv[4], axis), out, nout * scout_dtype_size(dt));
		free(out);
	}
	free(in);
	return 0;
}

static int cmd_contrast(int argc, char **argv)
{
	if (argc < 6)
		return 2;
	scout_dtype dt = parse_dtype(argv[2]);
	size_t size;
	void *in = read_file(argv[3], &size);
	for (int k = 4; k + 1 < argc; k += 2) {
		double lo, hi;
		if (scout_contrast_auto(&lo, &hi, in, dt, size / scout_dtype_size(dt),
					strtod(argv[k], NULL), strtod(argv[k + 1], NULL)) < 0)
			die("contrast_auto");
		printf("%.17g %.17g\n", lo, hi);
	}
	free(in);
	return 0;
}

static int cmd_map(int argc, char **argv)
{
	if (argc < 8)
		return 2;
	scout_dtype dt = parse_dtype(argv[2]);
	int depth = atoi(argv[5]);
	size_t size;
	void *in = read_file(argv[3], &size);
	size_t n = size / scout_dtype_size(dt);
	void *out = malloc(n * 2 + 1);
	for (int k = 6; k + 1 < argc; k += 2) {
		if (scout_contrast_map(out, depth, in, dt, n, strtod(argv[k], NULL),
				       strtod(argv[k + 1], NULL)) < 0)
			die("contrast_map");
		write_file(numbered(argv[4], (k - 6) / 2), out, n * (size_t)(depth / 8));
	}
	free(in);
	free(out);
	return 0;
}

static int cmd_blockmax(int argc, char **argv)
{
	if (argc < 8)
		return 2;
	scout_dtype dt = parse_dtype(argv[2]);
	int64_t h = strtoll(argv[5], NULL, 10), w = strtoll(argv[6], NULL, 10);
	size_t size;
	void *in = read_file(argv[3], &size);
	for (int k = 7; k < argc; k++) {
		int64_t f = strtoll(argv[k], NULL, 10);
		size_t on = (size_t)((h + f - 1) / f) * (size_t)((w + f - 1) / f);
		void *out = malloc(on * scout_dtype_size(dt) + 1);
		if (scout_block_max_2d(out, in, dt, h, w, f) < 0)
			die("block_max_2d");
		write_file(numbered(argv[4], (long)f), out, on * scout_dtype_size(dt));
		free(out);
	}
	free(in);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	if (!strcmp(argv[1], "mip"))
		return cmd_mip(argc, argv);
	if (!strcmp(argv[1], "project"))
		return cmd_project(argc, argv);
	if (!strcmp(argv[1], "contrast"))
		return cmd_contrast(argc, argv);
	if (!strcmp(argv[1], "map"))
		return cmd_map(argc, argv);
	if (!strcmp(argv[1], "blockmax"))
		return cmd_blockmax(argc, argv);
	if (!strcmp(argv[1], "factor") && argc >= 5) {
		printf("%lld\n", (long long)scout_downsample_factor(strtoll(argv[2], NULL, 10),
								    strtoll(argv[3], NULL, 10),
								    strtoll(argv[4], NULL, 10)));
		return 0;
	}
	return 2;
}
