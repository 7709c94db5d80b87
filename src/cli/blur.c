/* scout blur INPUT OUTPUT --sigma S: Gaussian smoothing chunk by chunk with ghost borders. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define BLUR_USAGE                                                                                 \
	"scout blur [-j N] --sigma S[,S,S] [--dtype T] [--chunks Z,Y,X] [--block Z,Y,X]\n"         \
	"                  [--codec SPEC] [--overwrite] [--resume] [--processes]\n"                \
	"                  [--[no-]progress] INPUT OUTPUT"

static void blur_help(void)
{
	printf("usage: " BLUR_USAGE "\n\n"
	       "Gaussian smoothing of an array (Zarr, TIFF file or TIFF folder) into a Zarr\n"
	       "array, as SCOUT's preprocessing. Each output chunk is computed from the input\n"
	       "box grown by the kernel radius (4 sigma) on every side, clipped to the array,\n"
	       "so the result equals scipy.ndimage.gaussian_filter(x.astype(float32), sigma,\n"
	       "mode='nearest', truncate=4.0) on the whole volume, whatever the chunking.\n\n"
	       "A Zarr input's decoded-chunk cache grows to what the ghost shells reuse (the\n"
	       "chunk rows a layer of blocks reads; at most 1/4 of the RAM): every chunk is\n"
	       "then decoded once. SCOUT_ZARR_CACHE=BYTES fixes the cache size instead.\n\n"
	       "Options:\n"
	       "  --sigma S[,S,S]   standard deviation in voxels: one for every axis or one\n"
	       "                    per axis (required; 0 leaves an axis alone)\n"
	       "  --dtype T         output dtype (default float32); integers are rounded to\n"
	       "                    nearest and saturated to the type's range\n"
	       "  --chunks Z,Y,X    output chunks (default: the input's Zarr chunks, else 64)\n"
	       "  --block Z,Y,X     processing block, whole output chunks (default: slabs of\n"
	       "                    whole chunks up to ~48 MiB of work memory per worker;\n"
	       "                    bigger blocks read fewer ghost voxels)\n"
	       "  --codec SPEC      output compressor, as for convert (default blosc zstd 1\n"
	       "                    bitshuffle)\n"
	       "  --overwrite       replace an existing OUTPUT\n"
	       "  --resume          build in OUTPUT.partial with a journal of finished blocks,\n"
	       "                    kept after a failure; run again with --resume to complete\n"
	       "  -j, --workers N   parallel workers (default: online CPUs)\n"
	       "  --processes       fork worker processes instead of threads\n"
	       "  --progress, --no-progress  progress bar on stderr (default: when a terminal)\n"
	       "  --level N        PATH is an OME-Zarr group: use its level N (default 0)\n"
	       "  -h, --help        this help\n\n"
	       "Examples:\n"
	       "  scout blur volume.zarr smooth.zarr --sigma 2\n"
	       "  scout blur volume.zarr smooth.zarr --sigma 1,2,2 --dtype uint16\n");
}

typedef struct {
	scout_array *out;
	scout_dtype in_type, out_type;
	double sigma[SCOUT_MAX_NDIM];
	int64_t radius[SCOUT_MAX_NDIM];
} blur_ctx;

static int blur_chunk(scout_array *arr, const int64_t *start, const int64_t *chunks,
		      scout_result *result, void *payload)
{
	(void)result;
	blur_ctx *c = payload;
	int ndim = scout_array_ndim(arr);
	const int64_t *shape = scout_array_shape(arr);
	int64_t gstart[SCOUT_MAX_NDIM], gshape[SCOUT_MAX_NDIM], stop[SCOUT_MAX_NDIM];
	int64_t ext[SCOUT_MAX_NDIM], off[SCOUT_MAX_NDIM], zero[SCOUT_MAX_NDIM];
	size_t gmax = 1, n = 1;
	int rc = cli_check_interrupt();
	if (rc < 0)
		return rc;
	for (int i = 0; i < ndim; i++) {
		int64_t g = chunks[i] + 2 * c->radius[i];
		if (g > shape[i])
			g = shape[i];
		gmax *= (size_t)g;
		stop[i] = start[i] + chunks[i] < shape[i] ? start[i] + chunks[i] : shape[i];
		ext[i] = stop[i] - start[i];
		n *= (size_t)ext[i];
		zero[i] = 0;
	}
	if (n == 0)
		return 0;
	size_t isz = scout_dtype_size(c->in_type);
	void *raw = c->in_type == SCOUT_FLOAT32 ? NULL : malloc(gmax * isz);
	float *f = malloc(gmax * sizeof(float));
	float *interior = malloc(n * sizeof(float));
	void *outb =
	    c->out_type == SCOUT_FLOAT32 ? NULL : malloc(n * scout_dtype_size(c->out_type));
	if ((!raw && c->in_type != SCOUT_FLOAT32) || !f || !interior ||
	    (!outb && c->out_type != SCOUT_FLOAT32)) {
		rc = scout__error(SCOUT_ENOMEM, "cannot allocate a ghosted chunk of %zu elements",
				  gmax);
		goto done;
	}
	rc = scout_extract_ghosted_chunk(raw ? raw : (void *)f, gstart, gshape, arr, start, chunks,
					 c->radius);
	if (rc < 0)
		goto done;
	size_t gn = 1;
	for (int i = 0; i < ndim; i++)
		gn *= (size_t)gshape[i];
	if (raw && (rc = scout_to_float32(f, raw, c->in_type, gn)) < 0)
		goto done;
	if ((rc = cli_check_interrupt()) < 0)
		goto done;
	if ((rc = scout_gaussian_filter(f, f, ndim, gshape, c->sigma, 4.0)) < 0)
		goto done;
	for (int i = 0; i < ndim; i++)
		off[i] = start[i] - gstart[i];
	scout__copy_nd(interior, ext, zero, f, gshape, off, ext, ndim, sizeof(float));
	if (outb && (rc = scout_from_float32(outb, c->out_type, interior, n)) < 0)
		goto done;
	rc = scout_insert_box(c->out, start, stop, outb ? outb : (void *)interior);
done:
	free(raw);
	free(f);
	free(interior);
	free(outb);
	return rc;
}

int cli_blur_run(const cli_blur_params *p)
{
	scout_array *in = NULL, *out = NULL;
	cli_output o;
	blur_ctx c;
	int rc;
	memset(&o, 0, sizeof o);
	memset(&c, 0, sizeof c);
	cli_signals_install();
	if ((rc = cli_open_input(&in, p->input, p->level)) < 0)
		return rc;
	int ndim = scout_array_ndim(in);
	const int64_t *shape = scout_array_shape(in);
	int64_t chunks[SCOUT_MAX_NDIM], block[SCOUT_MAX_NDIM];
	c.in_type = scout_array_dtype(in);
	c.out_type = p->has_dtype ? p->dtype : SCOUT_FLOAT32;
	if ((rc = cli_resolve_sigma(c.sigma, p->nsigma, p->sigma, ndim)) < 0)
		goto done;
	if ((rc = scout_gaussian_radius(c.radius, ndim, c.sigma, 4.0)) < 0)
		goto done;
	if (p->nchunks)
		rc = cli_resolve_chunks(chunks, p->nchunks, p->chunks, ndim, shape);
	else if (!strcmp(scout_array_kind(in), "zarr"))
		memcpy(chunks, scout_array_chunks(in), (size_t)ndim * sizeof *chunks);
	else
		cli_default_chunks(chunks, ndim, shape);
	if (rc < 0)
		goto done;
	if (p->nblock) {
		if ((rc = cli_resolve_chunks(block, p->nblock, p->block, ndim, shape)) < 0)
			goto done;
		for (int i = 0; i < ndim; i++)
			if (block[i] % chunks[i] && block[i] < shape[i]) {
				rc = scout__error(
				    SCOUT_EINVAL,
				    "--block must be made of whole output chunks: %lld "
				    "is not a multiple of %lld on axis %d",
				    (long long)block[i], (long long)chunks[i], i);
				goto done;
			}
	} else {
		cli_slab_shape(block, ndim, shape, chunks, scout_array_chunks(in),
			       scout_dtype_size(c.in_type) + sizeof(float) +
				   scout_dtype_size(c.out_type),
			       (size_t)48 << 20, 2 * (size_t)p->common.workers);
	}
	cli_ghost_cache(in, block, c.radius, (size_t)p->common.workers);
	if ((rc = cli_output_begin_resumable(&o, p->output, p->overwrite, p->common.resume,
					     cli_resume_params())) < 0)
		goto done;
	if ((rc = cli_zarr_output_create(&out, &o, ndim, shape, chunks, c.out_type, p->codec,
					 '/')) < 0)
		goto finish;
	c.out = out;
	scout_pmap_options po = SCOUT_PMAP_OPTIONS_INIT;
	cli_pmap_options(&po, &p->common);
	rc = cli_pmap_chunks(NULL, blur_chunk, &c, in, block, &po, &o);
	if (rc < 0 && cli_interrupted())
		rc = cli_check_interrupt();
finish:
	scout_array_free(out);
	if (rc == 0)
		rc = cli_output_commit(&o);
	if (rc < 0)
		cli_output_abort(&o);
done:
	scout_array_free(in);
	return rc;
}

enum { OPT_SIGMA = CLI_OPT_FIRST_CMD, OPT_DTYPE, OPT_CHUNKS, OPT_BLOCK, OPT_CODEC, OPT_OVERWRITE };

int cli_blur_main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"level", required_argument, NULL, CLI_OPT_LEVEL},
	    CLI_COMMON_LONGOPTS,
	    {"sigma", required_argument, NULL, OPT_SIGMA},
	    {"dtype", required_argument, NULL, OPT_DTYPE},
	    {"chunks", required_argument, NULL, OPT_CHUNKS},
	    {"block", required_argument, NULL, OPT_BLOCK},
	    {"codec", required_argument, NULL, OPT_CODEC},
	    {"overwrite", no_argument, NULL, OPT_OVERWRITE},
	    {NULL, 0, NULL, 0},
	};
	cli_blur_params p;
	memset(&p, 0, sizeof p);
	cli_common_init(&p.common);
	int opt;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":hj:", longopts, NULL)) != -1) {
		switch (opt) {
		case CLI_OPT_LEVEL:
			if (cli_parse_level(&p.level, optarg) < 0)
				return cli_usage_error(
				    "blur", BLUR_USAGE,
				    "--level needs a level number >= 0, not '%s'", optarg);
			break;
		case 'h':
			blur_help();
			return CLI_EXIT_OK;
		case OPT_SIGMA:
			p.nsigma = cli_parse_double_list(p.sigma, SCOUT_MAX_NDIM, optarg);
			if (p.nsigma < 0)
				return cli_usage_error("blur", BLUR_USAGE,
						       "--sigma needs numbers S or S,S,S, not '%s'",
						       optarg);
			break;
		case OPT_DTYPE:
			if (cli_parse_dtype(&p.dtype, optarg) < 0)
				return cli_usage_error("blur", BLUR_USAGE, "unknown --dtype '%s'",
						       optarg);
			p.has_dtype = 1;
			break;
		case OPT_CHUNKS:
			p.nchunks = cli_parse_int64_list(p.chunks, SCOUT_MAX_NDIM, optarg, 1);
			if (p.nchunks < 0)
				return cli_usage_error(
				    "blur", BLUR_USAGE,
				    "--chunks needs positive integers Z,Y,X, not "
				    "'%s'",
				    optarg);
			break;
		case OPT_BLOCK:
			p.nblock = cli_parse_int64_list(p.block, SCOUT_MAX_NDIM, optarg, 1);
			if (p.nblock < 0)
				return cli_usage_error("blur", BLUR_USAGE,
						       "--block needs positive integers Z,Y,X, not "
						       "'%s'",
						       optarg);
			break;
		case OPT_CODEC:
			p.codec = optarg;
			break;
		case OPT_OVERWRITE:
			p.overwrite = 1;
			break;
		default: {
			int r = cli_other_option(&p.common, opt, "blur", BLUR_USAGE, argv);
			if (r)
				return r;
		}
		}
	}
	if (argc - optind != 2)
		return cli_usage_error("blur", BLUR_USAGE,
				       "expected INPUT and OUTPUT, got %d arguments",
				       argc - optind);
	if (!p.nsigma)
		return cli_usage_error("blur", BLUR_USAGE, "--sigma is required");
	p.input = argv[optind];
	p.output = argv[optind + 1];
	if (cli_blur_run(&p) < 0)
		return cli_fail();
	return CLI_EXIT_OK;
}
