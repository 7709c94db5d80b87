/* scout peaks INPUT OUTPUT.csv --sigma S: SCOUT-style nuclei detection with ghost borders. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define PEAKS_USAGE                                                                                \
	"scout peaks [-j N] --sigma S[,S,S] [--min-distance D] [--threshold T]\n"                  \
	"                   [--chunks Z,Y,X] [--overwrite] [--processes] [--[no-]progress]\n"      \
	"                   INPUT OUTPUT.csv"

static void peaks_help(void)
{
	printf("usage: " PEAKS_USAGE "\n\n"
	       "Nuclei detection as SCOUT: blur the array (Gaussian, mode nearest, truncate\n"
	       "4.0, as scout blur), then every voxel whose blurred value is >= T and equals\n"
	       "the maximum of the blurred volume over its (2D+1)^ndim neighbourhood (mode\n"
	       "nearest) is a peak. Each chunk is processed with a ghost shell of blur radius\n"
	       "+ D voxels and keeps only the peaks of the chunk proper, so the set equals the\n"
	       "whole-volume computation whatever the chunking. The peaks are written as CSV:\n"
	       "a header line z,y,x (y,x for 2-D) then one line per peak, global voxel\n"
	       "coordinates, sorted. Plateaus give every voxel of the plateau.\n\n"
	       "A Zarr input's decoded-chunk cache grows to what the ghost shells reuse (the\n"
	       "chunk rows a layer of blocks reads; at most 1/4 of the RAM): every chunk is\n"
	       "then decoded once. SCOUT_ZARR_CACHE=BYTES fixes the cache size instead.\n\n"
	       "Options:\n"
	       "  --sigma S[,S,S]     blur standard deviation in voxels (required; 0: no blur)\n"
	       "  --min-distance D    neighbourhood half-width (default 1)\n"
	       "  --threshold T       smallest blurred value of a peak (default: none)\n"
	       "  --chunks Z,Y,X      processing chunks (default: slabs of whole Zarr chunks of\n"
	       "                      the input (else 64^3) up to ~48 MiB per worker)\n"
	       "  --json              print {\"count\": N, \"output\": PATH} on stdout\n"
	       "  --overwrite         replace an existing OUTPUT\n"
	       "  -j, --workers N     parallel workers (default: online CPUs)\n"
	       "  --processes         fork worker processes instead of threads\n"
	       "  --progress, --no-progress  progress bar on stderr (default: when a terminal)\n"
	       "  --level N          PATH is an OME-Zarr group: use its level N (default 0)\n"
	       "  -h, --help          this help\n\n"
	       "Example:\n"
	       "  scout peaks volume.zarr nuclei.csv --sigma 2 --min-distance 3 --threshold 300\n");
}

typedef struct {
	scout_dtype in_type;
	double sigma[SCOUT_MAX_NDIM];
	int64_t radius[SCOUT_MAX_NDIM]; /* blur radius */
	int64_t dist[SCOUT_MAX_NDIM];   /* min_distance per axis */
	int64_t ghost[SCOUT_MAX_NDIM];  /* radius + dist */
	double threshold;
} peaks_ctx;

static int peaks_chunk(scout_array *arr, const int64_t *start, const int64_t *chunks,
		       scout_result *result, void *payload)
{
	peaks_ctx *c = payload;
	int ndim = scout_array_ndim(arr);
	const int64_t *shape = scout_array_shape(arr);
	int64_t gstart[SCOUT_MAX_NDIM], gshape[SCOUT_MAX_NDIM];
	int64_t istart[SCOUT_MAX_NDIM], istop[SCOUT_MAX_NDIM];
	size_t gmax = 1;
	int64_t *pts = NULL;
	size_t count = 0;
	int rc = cli_check_interrupt();
	if (rc < 0)
		return rc;
	for (int i = 0; i < ndim; i++) {
		int64_t g = chunks[i] + 2 * c->ghost[i];
		gmax *= (size_t)(g < shape[i] ? g : shape[i]);
	}
	size_t isz = scout_dtype_size(c->in_type);
	void *raw = c->in_type == SCOUT_FLOAT32 ? NULL : malloc(gmax * isz + 1);
	float *f = malloc(gmax * sizeof(float) + 1);
	if ((!raw && c->in_type != SCOUT_FLOAT32) || !f) {
		rc = scout__error(SCOUT_ENOMEM, "cannot allocate a ghosted chunk of %zu elements",
				  gmax);
		goto done;
	}
	rc = scout_extract_ghosted_chunk(raw ? raw : (void *)f, gstart, gshape, arr, start, chunks,
					 c->ghost);
	if (rc < 0)
		goto done;
	size_t gn = 1;
	for (int i = 0; i < ndim; i++) {
		gn *= (size_t)gshape[i];
		istart[i] = start[i] - gstart[i];
		int64_t e = start[i] + chunks[i] < shape[i] ? start[i] + chunks[i] : shape[i];
		istop[i] = e - gstart[i];
	}
	if (raw && (rc = scout_to_float32(f, raw, c->in_type, gn)) < 0)
		goto done;
	if ((rc = scout_gaussian_filter(f, f, ndim, gshape, c->sigma, 4.0)) < 0)
		goto done;
	if ((rc = cli_check_interrupt()) < 0)
		goto done;
	rc =
	    scout_local_maxima(&pts, &count, f, ndim, gshape, c->dist, c->threshold, istart, istop);
	if (rc < 0)
		goto done;
	/* to global coordinates, keeping the points of the chunk proper */
	if (count && (rc = scout_filter_ghosted_points(pts, &count, gstart, start, chunks, pts,
						       count, ndim)) < 0)
		goto done;
	rc = scout_result_set(result, pts, count * (size_t)ndim * sizeof(int64_t));
done:
	scout_free(pts);
	free(raw);
	free(f);
	return rc;
}

static _Thread_local int sort_ndim;

static int cmp_points(const void *a, const void *b)
{
	const int64_t *p = a, *q = b;
	for (int i = 0; i < sort_ndim; i++)
		if (p[i] != q[i])
			return p[i] < q[i] ? -1 : 1;
	return 0;
}

static int write_csv(const char *path, const int64_t *pts, size_t count, int ndim)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return scout__error(SCOUT_EIO, "%s: %s", path, strerror(errno));
	static const char *const names3[] = {"z", "y", "x"};
	for (int i = 0; i < ndim; i++) {
		if (ndim <= 3)
			fprintf(f, "%s%s", i ? "," : "", names3[3 - ndim + i]);
		else
			fprintf(f, "%saxis%d", i ? "," : "", i);
	}
	fputc('\n', f);
	for (size_t k = 0; k < count; k++) {
		for (int i = 0; i < ndim; i++)
			fprintf(f, "%s%lld", i ? "," : "", (long long)pts[k * (size_t)ndim + i]);
		fputc('\n', f);
	}
	int bad = ferror(f);
	if (fclose(f) != 0 || bad)
		return scout__error(SCOUT_EIO, "%s: write failed: %s", path, strerror(errno));
	return 0;
}

int cli_peaks_run(int64_t **points_out, size_t *count_out, int *ndim_out, const cli_peaks_params *p)
{
	scout_array *in = NULL;
	scout_results *res = NULL;
	cli_output o;
	peaks_ctx c;
	int64_t *all = NULL;
	size_t total = 0;
	int rc;
	memset(&o, 0, sizeof o);
	memset(&c, 0, sizeof c);
	if (points_out)
		*points_out = NULL;
	if (count_out)
		*count_out = 0;
	cli_signals_install();
	if (p->min_distance < 0)
		return scout__error(SCOUT_EINVAL, "--min-distance must be >= 0, not %d",
				    p->min_distance);
	if ((rc = cli_open_input(&in, p->input, p->level)) < 0)
		return rc;
	int ndim = scout_array_ndim(in);
	const int64_t *shape = scout_array_shape(in);
	int64_t chunks[SCOUT_MAX_NDIM];
	if (ndim_out)
		*ndim_out = ndim;
	c.in_type = scout_array_dtype(in);
	c.threshold = p->has_threshold ? p->threshold : -INFINITY;
	if ((rc = cli_resolve_sigma(c.sigma, p->nsigma, p->sigma, ndim)) < 0)
		goto done;
	if ((rc = scout_gaussian_radius(c.radius, ndim, c.sigma, 4.0)) < 0)
		goto done;
	for (int i = 0; i < ndim; i++) {
		c.dist[i] = p->min_distance;
		c.ghost[i] = c.radius[i] + c.dist[i];
	}
	if (p->nchunks) {
		rc = cli_resolve_chunks(chunks, p->nchunks, p->chunks, ndim, shape);
	} else {
		/* slabs of whole storage chunks: fewer ghost voxels, each chunk decoded once */
		int64_t base[SCOUT_MAX_NDIM];
		if (!strcmp(scout_array_kind(in), "zarr"))
			memcpy(base, scout_array_chunks(in), (size_t)ndim * sizeof *base);
		else
			cli_default_chunks(base, ndim, shape);
		cli_slab_shape(chunks, ndim, shape, base, scout_array_chunks(in),
			       scout_dtype_size(c.in_type) + 2 * sizeof(float), (size_t)48 << 20,
			       2 * (size_t)p->common.workers);
	}
	if (rc < 0)
		goto done;
	cli_ghost_cache(in, chunks, c.ghost, (size_t)p->common.workers);
	if (p->output && (rc = cli_output_begin(&o, p->output, p->overwrite)) < 0)
		goto done;

	scout_pmap_options po = SCOUT_PMAP_OPTIONS_INIT;
	cli_pmap_options(&po, &p->common);
	rc = cli_pmap_chunks(&res, peaks_chunk, &c, in, chunks, &po, NULL);
	if (rc < 0) {
		if (cli_interrupted())
			rc = cli_check_interrupt();
		goto finish;
	}
	/* gather the variable-size results */
	size_t nres = scout_results_count(res);
	size_t rowsize = (size_t)ndim * sizeof(int64_t);
	for (size_t i = 0; i < nres; i++) {
		size_t sz = 0;
		scout_results_get(res, i, &sz);
		if (sz % rowsize) {
			rc = scout__error(SCOUT_EWORKER, "peaks: chunk %zu returned %zu bytes", i,
					  sz);
			goto finish;
		}
		total += sz / rowsize;
	}
	all = malloc(total * rowsize + 1);
	if (!all) {
		rc = scout__error(SCOUT_ENOMEM, "cannot allocate %zu points", total);
		goto finish;
	}
	size_t k = 0;
	for (size_t i = 0; i < nres; i++) {
		size_t sz = 0;
		const void *d = scout_results_get(res, i, &sz);
		if (sz)
			memcpy((char *)all + k * rowsize, d, sz);
		k += sz / rowsize;
	}
	sort_ndim = ndim;
	qsort(all, total, rowsize, cmp_points);
	if (p->output && cli_mpi_rank() == 0) /* the results are on rank 0 */
		rc = write_csv(o.tmp, all, total, ndim);
finish:
	scout_results_free(res);
	if (p->output) {
		if (rc == 0)
			rc = cli_output_commit(&o);
		if (rc < 0)
			cli_output_abort(&o);
	}
done:
	scout_array_free(in);
	if (rc == 0) {
		if (count_out)
			*count_out = total;
		if (points_out) {
			*points_out = all;
			all = NULL;
		}
	}
	free(all);
	return rc;
}

enum { OPT_SIGMA = CLI_OPT_FIRST_CMD, OPT_MIN_DISTANCE, OPT_THRESHOLD, OPT_CHUNKS, OPT_OVERWRITE };

int cli_peaks_main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"level", required_argument, NULL, CLI_OPT_LEVEL},
	    CLI_COMMON_LONGOPTS,
	    CLI_JSON_LONGOPT,
	    {"sigma", required_argument, NULL, OPT_SIGMA},
	    {"min-distance", required_argument, NULL, OPT_MIN_DISTANCE},
	    {"threshold", required_argument, NULL, OPT_THRESHOLD},
	    {"chunks", required_argument, NULL, OPT_CHUNKS},
	    {"overwrite", no_argument, NULL, OPT_OVERWRITE},
	    {NULL, 0, NULL, 0},
	};
	cli_peaks_params p;
	memset(&p, 0, sizeof p);
	p.min_distance = 1;
	cli_common_init(&p.common);
	int opt;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":hj:", longopts, NULL)) != -1) {
		switch (opt) {
		case CLI_OPT_LEVEL:
			if (cli_parse_level(&p.level, optarg) < 0)
				return cli_usage_error(
				    "peaks", PEAKS_USAGE,
				    "--level needs a level number >= 0, not '%s'", optarg);
			break;
		case 'h':
			peaks_help();
			return CLI_EXIT_OK;
		case OPT_SIGMA:
			p.nsigma = cli_parse_double_list(p.sigma, SCOUT_MAX_NDIM, optarg);
			if (p.nsigma < 0)
				return cli_usage_error("peaks", PEAKS_USAGE,
						       "--sigma needs numbers S or S,S,S, not '%s'",
						       optarg);
			break;
		case OPT_MIN_DISTANCE:
			if (cli_parse_int(&p.min_distance, optarg) < 0 || p.min_distance < 0 ||
			    p.min_distance > 100000)
				return cli_usage_error("peaks", PEAKS_USAGE,
						       "--min-distance needs an integer >= 0, not "
						       "'%s'",
						       optarg);
			break;
		case OPT_THRESHOLD:
			if (cli_parse_double(&p.threshold, optarg) < 0)
				return cli_usage_error("peaks", PEAKS_USAGE,
						       "--threshold needs a number, not '%s'",
						       optarg);
			p.has_threshold = 1;
			break;
		case OPT_CHUNKS:
			p.nchunks = cli_parse_int64_list(p.chunks, SCOUT_MAX_NDIM, optarg, 1);
			if (p.nchunks < 0)
				return cli_usage_error(
				    "peaks", PEAKS_USAGE,
				    "--chunks needs positive integers Z,Y,X, not "
				    "'%s'",
				    optarg);
			break;
		case OPT_OVERWRITE:
			p.overwrite = 1;
			break;
		default: {
			int r = cli_other_option(&p.common, opt, "peaks", PEAKS_USAGE, argv);
			if (r)
				return r;
		}
		}
	}
	if (argc - optind != 2)
		return cli_usage_error("peaks", PEAKS_USAGE,
				       "expected INPUT and OUTPUT.csv, got %d arguments",
				       argc - optind);
	if (!p.nsigma)
		return cli_usage_error("peaks", PEAKS_USAGE, "--sigma is required");
	p.input = argv[optind];
	p.output = argv[optind + 1];
	size_t count = 0;
	if (cli_peaks_run(NULL, &count, NULL, &p) < 0)
		return cli_fail();
	if (cli_mpi_rank() > 0) /* rank 0 reports */
		return CLI_EXIT_OK;
	if (p.common.json) {
		json_t *j = json_pack("{s:I, s:s}", "count", (json_int_t)count, "output", p.output);
		char *t = j ? json_dumps(j, JSON_COMPACT) : NULL;
		printf("%s\n", t ? t : "{}");
		free(t);
		json_decref(j);
	} else
		printf("%zu peaks written to %s\n", count, p.output);
	return CLI_EXIT_OK;
}
