/*
 * scout demo [DIR]: the main job on a synthetic nuclei-like volume.
 *
 * Synthesise a uint16 volume of Gaussian blobs (nuclei) at known random
 * centres on a noisy background, write it as a folder of TIFF slices, then run
 * convert -> stats -> blur -> peaks with the code of the commands, in-process,
 * and compare the detected peaks with the planted centres.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define DEMO_USAGE                                                                                 \
	"scout demo [-j N] [--size N] [--nuclei N] [--seed S] [--keep] [--processes]\n"            \
	"                  [--[no-]progress] [DIR]"

/* Detection parameters, chosen for the synthetic data (see docs/cli.md). */
#define DEMO_BACKGROUND   100.0
#define DEMO_NOISE        10.0 /* about the standard deviation of the background noise */
#define DEMO_AMP_MIN      600.0
#define DEMO_AMP_MAX      1200.0
#define DEMO_RADIUS_MIN   2.0 /* blob sigma range, voxels */
#define DEMO_RADIUS_MAX   3.0
#define DEMO_MIN_SEP      14.0
#define DEMO_MARGIN       6.0
#define DEMO_SIGMA        2.0
#define DEMO_MIN_DISTANCE 3
#define DEMO_THRESHOLD    200.0
#define DEMO_MATCH        2.0

static void demo_help(void)
{
	printf("usage: " DEMO_USAGE "\n\n"
	       "The main job end to end on a built-in example. Synthesises a nuclei-like\n"
	       "uint16 volume (Gaussian blobs of sigma %.0f..%.0f voxels and amplitude %.0f..%.0f\n"
	       "at known random centres, at least %.0f voxels apart, on a background of %.0f\n"
	       "with noise), writes it as a folder of TIFF slices, then runs\n"
	       "  convert slices/ -> volume.zarr (64^3 chunks, blosc zstd)\n"
	       "  stats volume.zarr\n"
	       "  blur volume.zarr -> blurred.zarr --sigma %.0f\n"
	       "  peaks volume.zarr -> peaks.csv --sigma %.0f --min-distance %d --threshold %.0f\n"
	       "  preview volume.zarr -> preview.png (MIP along z, planted centres as green +,\n"
	       "                        detected peaks as red rings)\n"
	       "and prints each step's time, the stats, the nuclei planted vs detected (a\n"
	       "nucleus is detected when a peak lies within %.0f voxels of its centre) and the\n"
	       "picture's path (with the default temporary DIR, the picture is kept beside it\n"
	       "as DIR.png).\n\n"
	       "Arguments and options:\n"
	       "  DIR               where to write the files (created if needed; the demo's\n"
	       "                    own files in it are replaced). Default: a temporary\n"
	       "                    directory, removed at the end unless --keep\n"
	       "  --size N          edge of the cubic volume (default 256)\n"
	       "  --nuclei N        number of nuclei (default 400 x (N/256)^3)\n"
	       "  --seed S          random seed (default 1)\n"
	       "  --keep            keep the temporary directory\n"
	       "  -j, --workers N   parallel workers (default: online CPUs)\n"
	       "  --processes       fork worker processes instead of threads\n"
	       "  --progress, --no-progress  progress bars on stderr (default: when a terminal)\n"
	       "  -h, --help        this help\n\n"
	       "Example:\n"
	       "  scout demo            # or: make demo\n"
	       "  scout demo --size 128 /tmp/demo && scout info /tmp/demo/volume.zarr\n",
	       DEMO_RADIUS_MIN, DEMO_RADIUS_MAX, DEMO_AMP_MIN, DEMO_AMP_MAX, DEMO_MIN_SEP,
	       DEMO_BACKGROUND, DEMO_SIGMA, DEMO_SIGMA, DEMO_MIN_DISTANCE, DEMO_THRESHOLD,
	       DEMO_MATCH);
}

/* ---- random numbers: splitmix64 ---- */

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static double uniform01(uint64_t *s)
{
	return (double)(splitmix64(s) >> 11) * (1.0 / 9007199254740992.0);
}

typedef struct {
	double c[3]; /* z, y, x */
	double sigma, amp;
} nucleus;

typedef struct {
	int64_t size;
	const nucleus *nuclei;
	size_t count;
	uint64_t seed;
	const char *slices_dir;
} synth_ctx;

/* One z slice: background + blobs + noise, rounded to uint16, written as a TIFF. */
static int synth_slice(scout_array *arr, const int64_t *start, const int64_t *chunks,
		       scout_result *result, void *payload)
{
	(void)arr;
	(void)chunks;
	(void)result;
	const synth_ctx *c = payload;
	int64_t z = start[0], n = c->size;
	size_t nn = (size_t)(n * n);
	int rc = cli_check_interrupt();
	if (rc < 0)
		return rc;
	float *acc = calloc(nn, sizeof *acc);
	uint16_t *img = malloc(nn * sizeof *img);
	double *wy = malloc((size_t)n * sizeof *wy), *wx = malloc((size_t)n * sizeof *wx);
	if (!acc || !img || !wy || !wx) {
		rc = scout__error(SCOUT_ENOMEM, "demo: out of memory");
		goto done;
	}
	for (size_t b = 0; b < c->count; b++) {
		const nucleus *nu = &c->nuclei[b];
		double r = ceil(4.0 * nu->sigma), dz = (double)z - nu->c[0];
		if (fabs(dz) > r)
			continue;
		double inv = 1.0 / (2.0 * nu->sigma * nu->sigma);
		double wz = nu->amp * exp(-dz * dz * inv);
		int64_t y0 = (int64_t)fmax(0, floor(nu->c[1] - r)),
			y1 = (int64_t)fmin((double)n - 1, ceil(nu->c[1] + r));
		int64_t x0 = (int64_t)fmax(0, floor(nu->c[2] - r)),
			x1 = (int64_t)fmin((double)n - 1, ceil(nu->c[2] + r));
		for (int64_t y = y0; y <= y1; y++)
			wy[y] = exp(-((double)y - nu->c[1]) * ((double)y - nu->c[1]) * inv);
		for (int64_t x = x0; x <= x1; x++)
			wx[x] = exp(-((double)x - nu->c[2]) * ((double)x - nu->c[2]) * inv);
		for (int64_t y = y0; y <= y1; y++)
			for (int64_t x = x0; x <= x1; x++)
				acc[y * n + x] += (float)(wz * wy[y] * wx[x]);
	}
	/* noise: sum of three uniforms on [-1, 1) (sd 1), scaled; seeded per slice */
	uint64_t s = c->seed * 0x100000001B3ull + (uint64_t)z * 0x9E3779B97F4A7C15ull + 12345;
	for (size_t i = 0; i < nn; i++) {
		double u = uniform01(&s) + uniform01(&s) + uniform01(&s) - 1.5;
		double v = DEMO_BACKGROUND + acc[i] + DEMO_NOISE * 2.0 * u;
		v = floor(v + 0.5);
		img[i] = (uint16_t)(v < 0 ? 0 : v > 65535 ? 65535 : v);
	}
	char path[4096];
	snprintf(path, sizeof path, "%s/z%05lld.tif", c->slices_dir, (long long)z);
	scout_array *slice = NULL;
	int64_t shape[2] = {n, n};
	if ((rc = scout_array_wrap(&slice, img, 2, shape, SCOUT_UINT16)) < 0)
		goto done;
	scout_tiff_write_options to = SCOUT_TIFF_WRITE_OPTIONS_INIT;
	rc = scout_tiff_write(path, slice, &to);
	scout_array_free(slice);
done:
	free(acc);
	free(img);
	free(wy);
	free(wx);
	return rc;
}

/* CPU seconds (user + system) of the process so far: all workers together. */
static double cpu_now(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

static size_t plant_nuclei(nucleus *out, size_t want, int64_t size, uint64_t seed)
{
	uint64_t s = seed ^ 0xD1B54A32D192ED03ull;
	size_t n = 0;
	double lo = DEMO_MARGIN, span = (double)size - 1 - 2 * DEMO_MARGIN;
	if (span < 1)
		span = 1, lo = 0;
	for (size_t attempt = 0; n < want && attempt < want * 200; attempt++) {
		nucleus nu;
		for (int i = 0; i < 3; i++)
			nu.c[i] = lo + uniform01(&s) * span;
		nu.sigma = DEMO_RADIUS_MIN + uniform01(&s) * (DEMO_RADIUS_MAX - DEMO_RADIUS_MIN);
		nu.amp = DEMO_AMP_MIN + uniform01(&s) * (DEMO_AMP_MAX - DEMO_AMP_MIN);
		int ok = 1;
		for (size_t j = 0; j < n && ok; j++) {
			double d2 = 0;
			for (int i = 0; i < 3; i++)
				d2 += (nu.c[i] - out[j].c[i]) * (nu.c[i] - out[j].c[i]);
			ok = d2 >= DEMO_MIN_SEP * DEMO_MIN_SEP;
		}
		if (ok)
			out[n++] = nu;
	}
	return n;
}

static int make_dir(const char *path)
{
	if (mkdir(path, 0777) != 0 && errno != EEXIST)
		return scout__error(SCOUT_EIO, "cannot create %s: %s", path, strerror(errno));
	return 0;
}

typedef struct {
	int64_t size;
	size_t nuclei; /* 0: default */
	uint64_t seed;
	int keep;
	const char *dir;
	cli_common common;
} demo_params;

static int demo_run(const demo_params *p)
{
	char tmpl[] = "/tmp/scout-demo-XXXXXX";
	char *dir = NULL, *slices = NULL, *zarr = NULL, *blurred = NULL, *csv = NULL, *png = NULL;
	double *planted_xyz = NULL, *found_xyz = NULL;
	nucleus *nuclei = NULL;
	int64_t *peaks = NULL;
	size_t npeaks = 0;
	scout_array *line = NULL;
	cli_stats_result st;
	int have_stats = 0, temp_dir = 0, rc;
	double t0, c0, t[6], cpu[6];
	memset(&st, 0, sizeof st);
	cli_signals_install();

	if (p->dir) {
		if ((rc = make_dir(p->dir)) < 0)
			return rc;
		dir = strdup(p->dir);
	} else {
		if (!mkdtemp(tmpl))
			return scout__error(SCOUT_EIO, "cannot create a directory in /tmp: %s",
					    strerror(errno));
		dir = strdup(tmpl);
		temp_dir = 1;
	}
	if (!dir || asprintf(&slices, "%s/slices", dir) < 0 ||
	    asprintf(&zarr, "%s/volume.zarr", dir) < 0 ||
	    asprintf(&blurred, "%s/blurred.zarr", dir) < 0 ||
	    asprintf(&csv, "%s/peaks.csv", dir) < 0 ||
	    /* a temporary DIR is removed at the end: the picture goes beside it */
	    asprintf(&png, temp_dir && !p->keep ? "%s.png" : "%s/preview.png", dir) < 0) {
		rc = scout__error(SCOUT_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = cli_remove_tree(slices)) < 0 || (rc = make_dir(slices)) < 0)
		goto done;

	int64_t n = p->size;
	size_t want = p->nuclei;
	if (!want) {
		double f = (double)n / 256.0;
		want = (size_t)fmax(1.0, floor(400.0 * f * f * f + 0.5));
	}
	nuclei = malloc(want * sizeof *nuclei);
	if (!nuclei) {
		rc = scout__error(SCOUT_ENOMEM, "out of memory");
		goto done;
	}
	size_t planted = plant_nuclei(nuclei, want, n, p->seed);
	printf("scout demo: %lldx%lldx%lld uint16 volume, %zu nuclei planted (seed %llu), "
	       "%d workers\n  in %s\n\n",
	       (long long)n, (long long)n, (long long)n, planted, (unsigned long long)p->seed,
	       p->common.workers, dir);
	printf("%-8s %9s %9s  %s\n", "step", "time", "cpu", "result");
	fflush(stdout);

	/* 1. synthesise the slices, one pmap chunk per z */
	t0 = cli_now();
	c0 = cpu_now();
	{
		int64_t shape1[1] = {n}, one[1] = {1};
		synth_ctx sc = {n, nuclei, planted, p->seed, slices};
		if ((rc = scout_array_new(&line, 1, shape1, SCOUT_UINT8)) < 0)
			goto done;
		scout_pmap_options po = SCOUT_PMAP_OPTIONS_INIT;
		cli_pmap_options(&po, &p->common);
		if ((rc = scout_pmap_chunks(NULL, synth_slice, &sc, line, one, &po)) < 0)
			goto done;
	}
	t[0] = cli_now() - t0;
	cpu[0] = cpu_now() - c0;
	printf("%-8s %7.2f s %7.2f s  %lld TIFF slices in slices/ (%.1f MiB)\n", "synth", t[0],
	       cpu[0], (long long)n, (double)n * (double)n * (double)n * 2 / 1048576.0);
	fflush(stdout);

	/* 2. convert */
	t0 = cli_now();
	c0 = cpu_now();
	{
		cli_convert_params cp;
		memset(&cp, 0, sizeof cp);
		cp.input = slices;
		cp.output = zarr;
		cp.out.separator = '/';
		cp.out.overwrite = 1;
		cp.common = p->common;
		if ((rc = cli_convert_run(&cp)) < 0)
			goto done;
	}
	t[1] = cli_now() - t0;
	cpu[1] = cpu_now() - c0;
	printf("%-8s %7.2f s %7.2f s  volume.zarr: 64^3 chunks, blosc zstd 1 bitshuffle\n",
	       "convert", t[1], cpu[1]);
	fflush(stdout);

	/* 3. stats */
	t0 = cli_now();
	c0 = cpu_now();
	{
		cli_stats_params sp;
		memset(&sp, 0, sizeof sp);
		sp.input = zarr;
		sp.common = p->common;
		if ((rc = cli_stats_run(&st, &sp)) < 0)
			goto done;
		have_stats = 1;
	}
	t[2] = cli_now() - t0;
	cpu[2] = cpu_now() - c0;
	printf("%-8s %7.2f s %7.2f s  mean %.3f, std %.3f, min %s, max %s\n", "stats", t[2], cpu[2],
	       st.res.mean, st.res.std, st.res.min_str, st.res.max_str);
	fflush(stdout);

	/* 4. blur */
	t0 = cli_now();
	c0 = cpu_now();
	{
		cli_blur_params bp;
		memset(&bp, 0, sizeof bp);
		bp.input = zarr;
		bp.output = blurred;
		bp.nsigma = 1;
		bp.sigma[0] = DEMO_SIGMA;
		bp.overwrite = 1;
		bp.common = p->common;
		if ((rc = cli_blur_run(&bp)) < 0)
			goto done;
	}
	t[3] = cli_now() - t0;
	cpu[3] = cpu_now() - c0;
	printf("%-8s %7.2f s %7.2f s  blurred.zarr: float32, sigma %.1f\n", "blur", t[3], cpu[3],
	       DEMO_SIGMA);
	fflush(stdout);

	/* 5. peaks */
	t0 = cli_now();
	c0 = cpu_now();
	{
		cli_peaks_params pp;
		memset(&pp, 0, sizeof pp);
		pp.input = zarr;
		pp.output = csv;
		pp.nsigma = 1;
		pp.sigma[0] = DEMO_SIGMA;
		pp.min_distance = DEMO_MIN_DISTANCE;
		pp.has_threshold = 1;
		pp.threshold = DEMO_THRESHOLD;
		pp.overwrite = 1;
		pp.common = p->common;
		int nd = 0;
		if ((rc = cli_peaks_run(&peaks, &npeaks, &nd, &pp)) < 0)
			goto done;
	}
	t[4] = cli_now() - t0;
	cpu[4] = cpu_now() - c0;
	printf("%-8s %7.2f s %7.2f s  %zu peaks in peaks.csv (sigma %.1f, min distance %d, "
	       "threshold %.0f)\n",
	       "peaks", t[4], cpu[4], npeaks, DEMO_SIGMA, DEMO_MIN_DISTANCE, DEMO_THRESHOLD);
	fflush(stdout);

	/* 6. preview: the MIP along z, planted centres (green +) and peaks (red rings) */
	t0 = cli_now();
	c0 = cpu_now();
	{
		planted_xyz = malloc((planted ? planted : 1) * 3 * sizeof(double));
		found_xyz = malloc((npeaks ? npeaks : 1) * 3 * sizeof(double));
		if (!planted_xyz || !found_xyz) {
			rc = scout__error(SCOUT_ENOMEM, "out of memory");
			goto done;
		}
		for (size_t i = 0; i < planted; i++)
			for (int a = 0; a < 3; a++)
				planted_xyz[i * 3 + (size_t)a] = nuclei[i].c[a];
		for (size_t k = 0; k < npeaks * 3; k++)
			found_xyz[k] = (double)peaks[k];
		cli_preview_params vp;
		cli_preview_info vi;
		memset(&vp, 0, sizeof vp);
		vp.input = zarr;
		vp.output = png;
		vp.axis = -1;
		vp.depth = 8;
		vp.max_size = 2048;
		vp.overwrite = 1;
		vp.nsets = 2;
		vp.sets[0] = (cli_marker_set){found_xyz, npeaks, SCOUT_MARKER_RING, {255, 0, 0}};
		vp.sets[1] = (cli_marker_set){planted_xyz, planted, SCOUT_MARKER_PLUS, {0, 255, 0}};
		vp.common = p->common;
		if ((rc = cli_preview_run(&vi, &vp)) < 0)
			goto done;
	}
	t[5] = cli_now() - t0;
	cpu[5] = cpu_now() - c0;
	printf(
	    "%-8s %7.2f s %7.2f s  MIP along z with the planted (green +) and detected (red o)\n",
	    "preview", t[5], cpu[5]);
	if ((rc = cli_demo_pyramid(dir, zarr, &p->common)) < 0) /* OME-Zarr, not in the total */
		goto done;
	printf("%-8s %7.2f s %7.2f s  (cpu: all workers, user + system)\n\n", "total",
	       t[0] + t[1] + t[2] + t[3] + t[4] + t[5],
	       cpu[0] + cpu[1] + cpu[2] + cpu[3] + cpu[4] + cpu[5]);

	/* planted vs detected */
	size_t detected = 0, false_peaks = 0;
	double worst = 0;
	for (size_t i = 0; i < planted; i++) {
		double best = INFINITY;
		for (size_t k = 0; k < npeaks; k++) {
			double d2 = 0;
			for (int a = 0; a < 3; a++) {
				double d = (double)peaks[k * 3 + a] - nuclei[i].c[a];
				d2 += d * d;
			}
			if (d2 < best)
				best = d2;
		}
		if (best <= DEMO_MATCH * DEMO_MATCH) {
			detected++;
			if (best > worst)
				worst = best;
		}
	}
	for (size_t k = 0; k < npeaks; k++) {
		int near = 0;
		for (size_t i = 0; i < planted && !near; i++) {
			double d2 = 0;
			for (int a = 0; a < 3; a++) {
				double d = (double)peaks[k * 3 + a] - nuclei[i].c[a];
				d2 += d * d;
			}
			near = d2 <= DEMO_MATCH * DEMO_MATCH;
		}
		false_peaks += !near;
	}
	printf("nuclei     planted  detected  missed  false peaks  worst distance\n");
	printf("           %7zu  %8zu  %6zu  %11zu  %8.2f voxels\n\n", planted, detected,
	       planted - detected, false_peaks, sqrt(worst));
	printf("stats of volume.zarr:\n");
	cli_stats_print(stdout, &st, 0);
	printf("\npreview: %s\n", png);
	cli_demo_pyramid_hint(dir, !temp_dir || p->keep);
	if (temp_dir && !p->keep)
		printf("\n(removing %s; pass --keep or a DIR to keep the files)\n", dir);
	rc = 0;
done:
	scout_array_free(line);
	if (have_stats)
		cli_stats_result_free(&st);
	free(peaks);
	free(nuclei);
	if (temp_dir && !p->keep && dir)
		cli_remove_tree(dir);
	free(slices);
	free(zarr);
	free(blurred);
	free(csv);
	free(png);
	free(planted_xyz);
	free(found_xyz);
	free(dir);
	return rc;
}

enum { OPT_SIZE = CLI_OPT_FIRST_CMD, OPT_NUCLEI, OPT_SEED, OPT_KEEP };

int cli_demo_main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    CLI_COMMON_LONGOPTS,
	    {"size", required_argument, NULL, OPT_SIZE},
	    {"nuclei", required_argument, NULL, OPT_NUCLEI},
	    {"seed", required_argument, NULL, OPT_SEED},
	    {"keep", no_argument, NULL, OPT_KEEP},
	    {NULL, 0, NULL, 0},
	};
	demo_params p;
	memset(&p, 0, sizeof p);
	p.size = 256;
	p.seed = 1;
	cli_common_init(&p.common);
	int opt, v;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":hj:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			demo_help();
			return CLI_EXIT_OK;
		case OPT_SIZE:
			if (cli_parse_int(&v, optarg) < 0 || v < 16 || v > 4096)
				return cli_usage_error("demo", DEMO_USAGE,
						       "--size needs an integer 16..4096, not '%s'",
						       optarg);
			p.size = v;
			break;
		case OPT_NUCLEI:
			if (cli_parse_int(&v, optarg) < 0 || v < 1 || v > 1000000)
				return cli_usage_error("demo", DEMO_USAGE,
						       "--nuclei needs an integer 1..1000000, not "
						       "'%s'",
						       optarg);
			p.nuclei = (size_t)v;
			break;
		case OPT_SEED:
			if (cli_parse_int(&v, optarg) < 0 || v < 0)
				return cli_usage_error("demo", DEMO_USAGE,
						       "--seed needs an integer >= 0, not '%s'",
						       optarg);
			p.seed = (uint64_t)v;
			break;
		case OPT_KEEP:
			p.keep = 1;
			break;
		default: {
			int r = cli_other_option(&p.common, opt, "demo", DEMO_USAGE, argv);
			if (r)
				return r;
		}
		}
	}
	if (argc - optind > 1)
		return cli_usage_error("demo", DEMO_USAGE, "expected at most one DIR, got %d",
				       argc - optind);
	p.dir = argc - optind == 1 ? argv[optind] : NULL;
	if (demo_run(&p) < 0)
		return cli_fail();
	return CLI_EXIT_OK;
}
