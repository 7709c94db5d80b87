/* scout stats PATH: a map-reduce of statistics (and a histogram) over all chunks. */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define STATS_USAGE                                                                                \
	"scout stats [-j N] [--histogram BINS] [--range LO,HI] [--json] [--processes]\n"           \
	"                   [--[no-]progress] PATH"

static void stats_help(void)
{
	printf("usage: " STATS_USAGE "\n\n"
	       "Statistics of every element of an array (Zarr, TIFF file or TIFF folder),\n"
	       "computed chunk by chunk in parallel and merged: count, sum, min, max, mean,\n"
	       "std (population, ddof 0) and, for floats, the number of NaNs (which are left\n"
	       "out of the others). Integer sums, min and max are exact; mean and std agree\n"
	       "with numpy's float64 results to ~1e-14 relative.\n\n"
	       "Options:\n"
	       "  --histogram BINS  also count values in BINS equal bins, as numpy.histogram\n"
	       "  --range LO,HI     histogram range (default: min..max, found by a first pass)\n"
	       "  --json            one JSON object: dtype, count, nan_count, sum, min, max,\n"
	       "                    mean, std and histogram {bins, range, edges, counts}\n"
	       "  -j, --workers N   parallel workers (default: online CPUs)\n"
	       "  --processes       fork worker processes instead of threads\n"
	       "  --progress, --no-progress  progress bar on stderr (default: when a terminal)\n"
	       "  --level N        PATH is an OME-Zarr group: use its level N (default 0)\n"
	       "  -h, --help        this help\n\n"
	       "Examples:\n"
	       "  scout stats volume.zarr\n"
	       "  scout stats --json --histogram 256 --range 0,65536 slices/\n");
}

typedef struct {
	scout_dtype dtype;
	size_t nbins; /* 0: no histogram in this pass */
	int want_stats;
	double lo, hi;
	/* merged in the calling thread by on_result */
	scout_stats acc;
	uint64_t *hist;
	int merge_rc;
} stats_ctx;

static int stats_chunk(scout_array *arr, const int64_t *start, const int64_t *chunks,
		       scout_result *result, void *payload)
{
	stats_ctx *c = payload;
	int ndim = scout_array_ndim(arr);
	const int64_t *shape = scout_array_shape(arr);
	int64_t stop[SCOUT_MAX_NDIM];
	size_t n = 1;
	int rc = cli_check_interrupt();
	if (rc < 0)
		return rc;
	for (int i = 0; i < ndim; i++) {
		stop[i] = start[i] + chunks[i] < shape[i] ? start[i] + chunks[i] : shape[i];
		n *= (size_t)(stop[i] - start[i]);
	}
	size_t isz = scout_dtype_size(c->dtype);
	size_t rsize = sizeof(scout_stats) + c->nbins * sizeof(uint64_t);
	unsigned char *res = calloc(1, rsize);
	void *buf = malloc(n * isz + 1);
	if (!res || !buf) {
		free(res);
		free(buf);
		return scout__error(SCOUT_ENOMEM, "cannot allocate %zu elements", n);
	}
	scout_stats st;
	rc = scout_stats_init(&st, c->dtype);
	if (rc == 0 && n)
		rc = scout_extract_box(buf, arr, start, stop);
	if (rc == 0 && c->want_stats)
		rc = scout_stats_update(&st, buf, n);
	if (rc == 0 && c->nbins) {
		/* res is malloc-aligned and sizeof(scout_stats) a multiple of 8 */
		uint64_t *counts = (uint64_t *)(void *)(res + sizeof(scout_stats));
		rc = scout_histogram_update(counts, c->nbins, c->lo, c->hi, c->dtype, buf, n);
	}
	if (rc == 0) {
		memcpy(res, &st, sizeof st);
		rc = scout_result_set(result, res, rsize);
	}
	free(buf);
	free(res);
	return rc;
}

static void stats_merge(size_t chunk_index, const void *data, size_t size, void *payload)
{
	(void)chunk_index;
	stats_ctx *c = payload;
	size_t rsize = sizeof(scout_stats) + c->nbins * sizeof(uint64_t);
	if (c->merge_rc < 0)
		return;
	if (size != rsize) {
		c->merge_rc = scout__error(SCOUT_EWORKER,
					   "stats: a chunk result has %zu bytes, "
					   "expected %zu",
					   size, rsize);
		return;
	}
	scout_stats st;
	memcpy(&st, data, sizeof st);
	if (c->want_stats && (c->merge_rc = scout_stats_merge(&c->acc, &st)) < 0)
		return;
	if (c->nbins) {
		const unsigned char *h = (const unsigned char *)data + sizeof(scout_stats);
		for (size_t i = 0; i < c->nbins; i++) {
			uint64_t v;
			memcpy(&v, h + i * sizeof v, sizeof v);
			c->hist[i] += v;
		}
	}
}

static int stats_pass(stats_ctx *c, scout_array *arr, const int64_t *work, const cli_common *common)
{
	scout_pmap_options po = SCOUT_PMAP_OPTIONS_INIT;
	cli_pmap_options(&po, common);
	po.unordered = 1;
	po.on_result = stats_merge;
	po.on_result_payload = c;
	c->merge_rc = 0;
	int rc = cli_pmap_chunks(NULL, stats_chunk, c, arr, work, &po, NULL);
	if (rc == 0 && c->merge_rc < 0)
		rc = c->merge_rc;
	if (rc < 0 && cli_interrupted())
		rc = cli_check_interrupt();
	return rc;
}

int cli_stats_run(cli_stats_result *out, const cli_stats_params *p)
{
	scout_array *arr = NULL;
	stats_ctx c;
	int rc;
	memset(out, 0, sizeof *out);
	memset(&c, 0, sizeof c);
	cli_signals_install();
	if (p->nbins < 0)
		return scout__error(SCOUT_EINVAL, "--histogram needs at least 1 bin");
	if (p->has_range && !(p->lo < p->hi && isfinite(p->lo) && isfinite(p->hi)))
		return scout__error(SCOUT_EINVAL, "--range LO,HI needs finite LO < HI, not %g,%g",
				    p->lo, p->hi);
	if ((rc = cli_open_input(&arr, p->input, p->level)) < 0)
		return rc;
	int ndim = scout_array_ndim(arr);
	c.dtype = scout_array_dtype(arr);
	int64_t work[SCOUT_MAX_NDIM];
	cli_work_chunks(work, ndim, scout_array_chunks(arr), scout_dtype_size(c.dtype),
			(size_t)32 << 20);
	if ((rc = scout_stats_init(&c.acc, c.dtype)) < 0)
		goto done;
	c.want_stats = 1;
	if (p->nbins > 0 && p->has_range) {
		/* one pass: stats and histogram together */
		c.nbins = (size_t)p->nbins;
		c.lo = p->lo;
		c.hi = p->hi;
		c.hist = calloc(c.nbins, sizeof *c.hist);
		if (!c.hist) {
			rc = scout__error(SCOUT_ENOMEM, "out of memory");
			goto done;
		}
	}
	if ((rc = stats_pass(&c, arr, work, &p->common)) < 0)
		goto done;
	if ((rc = scout_stats_finish(&out->res, &c.acc)) < 0)
		goto done;
	if (p->nbins > 0 && !p->has_range) {
		/* second pass over the data with the range found by the first */
		c.want_stats = 0;
		c.nbins = (size_t)p->nbins;
		/* under MPI the first pass's results are on rank 0 */
		c.lo = cli_mpi_bcast_double(out->res.count ? out->res.min : 0.0);
		c.hi = cli_mpi_bcast_double(out->res.count ? out->res.max : 1.0);
		if (!isfinite(c.lo) || !isfinite(c.hi)) {
			rc = scout__error(SCOUT_EINVAL,
					  "%s: the data range [%g, %g] is not finite: give --range",
					  p->input, c.lo, c.hi);
			goto done;
		}
		c.hist = calloc(c.nbins, sizeof *c.hist);
		if (!c.hist) {
			rc = scout__error(SCOUT_ENOMEM, "out of memory");
			goto done;
		}
		if ((rc = stats_pass(&c, arr, work, &p->common)) < 0)
			goto done;
	}
	out->acc = c.acc;
	out->nbins = c.nbins;
	out->lo = c.lo;
	out->hi = c.hi;
	out->hist = c.hist;
	c.hist = NULL;
done:
	free(c.hist);
	scout_array_free(arr);
	if (rc < 0)
		rc = scout__error_prefix(rc, "stats of %s: ", p->input);
	return rc;
}

void cli_stats_result_free(cli_stats_result *r)
{
	free(r->hist);
	r->hist = NULL;
}

void cli_stats_print(FILE *f, const cli_stats_result *r, int json)
{
	if (json) {
		char *t = NULL;
		if (scout_stats_to_json(&t, &r->acc, r->hist, r->nbins, r->lo, r->hi) == 0) {
			fprintf(f, "%s\n", t);
			scout_free(t);
		}
		return;
	}
	int is_float = scout_dtype_is_float((scout_dtype)r->acc.dtype);
	fprintf(f, "dtype:      %s\n", scout_dtype_name((scout_dtype)r->acc.dtype));
	fprintf(f, "count:      %llu\n", (unsigned long long)r->res.count);
	if (is_float)
		fprintf(f, "nan_count:  %llu\n", (unsigned long long)r->res.nan_count);
	fprintf(f, "sum:        %s\n", r->res.sum_str);
	fprintf(f, "min:        %s\n", r->res.min_str);
	fprintf(f, "max:        %s\n", r->res.max_str);
	fprintf(f, "mean:       %.17g\n", r->res.mean);
	fprintf(f, "std:        %.17g\n", r->res.std);
	if (r->nbins) {
		double *edges = malloc((r->nbins + 1) * sizeof *edges);
		if (!edges || scout_histogram_edges(edges, r->nbins, r->lo, r->hi) < 0) {
			free(edges);
			return;
		}
		fprintf(f, "histogram:  %zu bins over [%.10g, %.10g]\n", r->nbins, r->lo, r->hi);
		for (size_t i = 0; i < r->nbins; i++)
			fprintf(f, "  [%14.8g, %14.8g%c %llu\n", edges[i], edges[i + 1],
				i + 1 == r->nbins ? ']' : ')', (unsigned long long)r->hist[i]);
		free(edges);
	}
}

enum { OPT_HISTOGRAM = CLI_OPT_FIRST_CMD, OPT_RANGE };

int cli_stats_main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"level", required_argument, NULL, CLI_OPT_LEVEL},
	    CLI_COMMON_LONGOPTS,
	    CLI_JSON_LONGOPT,
	    {"histogram", required_argument, NULL, OPT_HISTOGRAM},
	    {"range", required_argument, NULL, OPT_RANGE},
	    {NULL, 0, NULL, 0},
	};
	cli_stats_params p;
	memset(&p, 0, sizeof p);
	cli_common_init(&p.common);
	int opt;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":hj:", longopts, NULL)) != -1) {
		switch (opt) {
		case CLI_OPT_LEVEL:
			if (cli_parse_level(&p.level, optarg) < 0)
				return cli_usage_error(
				    "stats", STATS_USAGE,
				    "--level needs a level number >= 0, not '%s'", optarg);
			break;
		case 'h':
			stats_help();
			return CLI_EXIT_OK;
		case OPT_HISTOGRAM:
			if (cli_parse_int(&p.nbins, optarg) < 0 || p.nbins < 1 ||
			    p.nbins > 100000000)
				return cli_usage_error("stats", STATS_USAGE,
						       "--histogram needs a number of bins >= 1, "
						       "not '%s'",
						       optarg);
			break;
		case OPT_RANGE: {
			double r[2];
			if (cli_parse_double_list(r, 2, optarg) != 2)
				return cli_usage_error("stats", STATS_USAGE,
						       "--range needs LO,HI, not '%s'", optarg);
			p.has_range = 1;
			p.lo = r[0];
			p.hi = r[1];
			break;
		}
		default: {
			int r = cli_other_option(&p.common, opt, "stats", STATS_USAGE, argv);
			if (r)
				return r;
		}
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("stats", STATS_USAGE, "expected one PATH, got %d arguments",
				       argc - optind);
	if (p.has_range && !p.nbins)
		return cli_usage_error("stats", STATS_USAGE, "--range needs --histogram BINS");
	p.input = argv[optind];
	cli_stats_result r;
	if (cli_stats_run(&r, &p) < 0)
		return cli_fail();
	if (cli_mpi_rank() == 0) /* the results are on rank 0 */
		cli_stats_print(stdout, &r, p.common.json);
	cli_stats_result_free(&r);
	return CLI_EXIT_OK;
}
