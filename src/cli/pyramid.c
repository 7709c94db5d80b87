/* scout pyramid INPUT OUTPUT: an OME-Zarr multiscale pyramid (also `convert --ome`). */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "scout/ngff.h"

#define PYRAMID_USAGE                                                                              \
	"scout pyramid [-j N] [--ngff 0.4|0.5] [--voxel-size Z,Y,X | --voxel-size-file "           \
	"FILE.csv]\n"                                                                              \
	"                     [--unit U] [--method mean|gaussian|nearest|mode] [--levels N]\n"     \
	"                     [--chunks Z,Y,X] [--codec SPEC] [--dtype T] [--separator /|.]\n"     \
	"                     [--overwrite] [--processes] [--[no-]progress] INPUT OUTPUT"

static void pyramid_help(void)
{
	printf("usage: " PYRAMID_USAGE "\n\n"
	       "Write an OME-Zarr (OME-NGFF) multiscale image of INPUT (a TIFF file, a folder of\n"
	       "TIFF slices or a Zarr array; 2-D gives axes y, x, 3-D axes z, y, x): level 0 is\n"
	       "the input, each further level the one above downsampled by 1 or 2 per axis,\n"
	       "with the physical voxel size of every level. napari, neuroglancer, vizarr,\n"
	       "BigDataViewer and webKnossos open it. Level 0 and level 1 are written in one\n"
	       "read of the input; each further level is computed from the level above, in\n"
	       "parallel blocks of whole chunks (bounded memory, every chunk written once).\n"
	       "OUTPUT is built under OUTPUT.tmp-<pid> and renamed when complete.\n\n"
	       "Levels: an axis whose voxel is finer than the coarsest by more than sqrt(2) is\n"
	       "halved alone (light-sheet z is coarse: the first levels halve y and x only);\n"
	       "when the voxel is about isotropic every axis is halved. Levels stop when one\n"
	       "fits in one chunk, or after --levels N levels (level 0 included).\n\n"
	       "Options:\n"
	       "  --ngff V          NGFF version: 0.4 (default: Zarr v2, .zattrs multiscales,\n"
	       "                    opens in every tool today) or 0.5 (Zarr v3: the group's\n"
	       "                    zarr.json attributes.ome, dimension_names on every level)\n"
	       "  --voxel-size Z,Y,X  level 0's voxel size per axis, in --unit (default\n"
	       "                    micrometer); one value per axis\n"
	       "  --voxel-size-file F  SCOUT's voxel-size CSV: one line of integers in\n"
	       "                    nanometres, one per axis (e.g. 2000,650,650), read as\n"
	       "                    micrometres. Without either: scale 1 and a warning\n"
	       "  --unit U          unit of the axes (UDUNITS-2 name, default micrometer)\n"
	       "  --method M        mean (default; block mean, integers rounded to nearest),\n"
	       "                    nearest (the block's first voxel), mode (most frequent\n"
	       "                    value, ties to the smallest: label images, integer types)\n"
	       "                    or gaussian (sigma 2f/6 as skimage's pyramid_reduce,\n"
	       "                    then the block's first voxel)\n"
	       "  --levels N        at most N levels (level 0 included; default: until a\n"
	       "                    level fits in one chunk)\n"
	       "  --chunks Z,Y,X    chunk shape of every level (default 64 per axis, clipped)\n"
	       "  --codec SPEC      compressor, as in `scout convert` (default\n"
	       "                    blosc:zstd:1:bitshuffle)\n"
	       "  --dtype T         convert values first, as `scout convert --dtype`\n"
	       "  --shards Z,Y,X    NGFF 0.5: every level sharded (Zarr v3 sharding_indexed,\n"
	       "                    index at the end), each a multiple of the chunks, which\n"
	       "                    become the inner chunks; a level smaller than a shard is\n"
	       "                    one shard\n"
	       "  --separator S     chunk key separator: / (nested, default) or . (0.4)\n"
	       "  --overwrite       replace an existing OUTPUT\n"
	       "  -j, --workers N   parallel workers (default: online CPUs)\n"
	       "  --processes       fork worker processes instead of threads\n"
	       "  --progress, --no-progress  progress bar on stderr (default: when a terminal)\n"
	       "  -h, --help        this help\n\n"
	       "Examples:\n"
	       "  scout pyramid slices/ image.ome.zarr --voxel-size 2.0,0.65,0.65\n"
	       "  scout pyramid volume.zarr image.ome.zarr --voxel-size-file voxel_size.csv\n"
	       "  scout pyramid labels.zarr labels.ome.zarr --method mode\n"
	       "  napari --plugin napari-ome-zarr image.ome.zarr\n");
}

void cli_pyramid_params_init(cli_pyramid_params *p)
{
	memset(p, 0, sizeof *p);
	p->method = SCOUT_DOWNSAMPLE_MEAN;
	p->out.separator = '/';
	cli_common_init(&p->common);
}

/* The voxel size of level 0 (vs, ndim values; all 0 when none was given). */
static int resolve_voxel_size(double *vs, const cli_pyramid_params *p, int ndim)
{
	for (int i = 0; i < ndim; i++)
		vs[i] = 0;
	if (p->voxel_size_file) {
		double v[SCOUT_MAX_NDIM];
		int n = 0;
		int rc = scout_read_voxel_size(v, &n, SCOUT_MAX_NDIM, p->voxel_size_file);
		if (rc < 0)
			return rc;
		if (n != ndim)
			return scout__error(SCOUT_EINVAL,
					    "%s: %d voxel sizes, but the array has %d axes (%s): "
					    "give one size per axis",
					    p->voxel_size_file, n, ndim,
					    ndim == 3 ? "z, y, x" : "y, x");
		for (int i = 0; i < n; i++) {
			if (!(v[i] > 0))
				return scout__error(SCOUT_EINVAL,
						    "%s: field %d is %g nm: voxel sizes must be "
						    "positive",
						    p->voxel_size_file, i + 1, v[i] * 1000.0);
			vs[i] = v[i];
		}
		return 0;
	}
	if (p->nvoxel) {
		if (p->nvoxel != ndim)
			return scout__error(SCOUT_EINVAL,
					    "--voxel-size has %d values, but the array has %d axes "
					    "(%s)",
					    p->nvoxel, ndim, ndim == 3 ? "z, y, x" : "y, x");
		for (int i = 0; i < ndim; i++) {
			if (!(isfinite(p->voxel_size[i]) && p->voxel_size[i] > 0))
				return scout__error(
				    SCOUT_EINVAL,
				    "--voxel-size: value %d is %g: voxel sizes must "
				    "be positive",
				    i + 1, p->voxel_size[i]);
			vs[i] = p->voxel_size[i];
		}
		return 0;
	}
	fprintf(stderr, "scout: warning: no --voxel-size or --voxel-size-file: the scale of "
			"level 0 is 1 (voxel units) on every axis\n");
	return 0;
}

int cli_pyramid_run(const cli_pyramid_params *p)
{
	scout_array *in = NULL, *view = NULL;
	cli_output o;
	int rc;
	memset(&o, 0, sizeof o);
	cli_signals_install();
	if ((rc = scout_array_open(&in, p->input, SCOUT_MODE_READ)) < 0)
		return rc;
	int ndim = scout_array_ndim(in);
	scout_dtype it = scout_array_dtype(in);
	scout_pyramid_options opts = SCOUT_PYRAMID_OPTIONS_INIT;
	scout_pmap_options po = SCOUT_PMAP_OPTIONS_INIT;
	char *comp = NULL;
	if (ndim != 2 && ndim != 3) {
		rc = scout__error(SCOUT_EINVAL,
				  "%s: an OME-Zarr image here is 2-D (y, x) or 3-D (z, y, x); "
				  "this array has %d axes",
				  p->input, ndim);
		goto done;
	}
	if ((rc = resolve_voxel_size(opts.voxel_size, p, ndim)) < 0)
		goto done;
	if (p->out.nchunks) {
		if (p->out.nchunks != ndim) {
			rc = scout__error(SCOUT_EINVAL,
					  "--chunks has %d values but the array has %d axes",
					  p->out.nchunks, ndim);
			goto done;
		}
		for (int i = 0; i < ndim; i++)
			opts.chunks[i] = p->out.chunks[i];
	}
	if (p->nshards) {
		if (p->nshards != ndim) {
			rc = scout__error(SCOUT_EINVAL,
					  "--shards has %d values but the array has %d axes",
					  p->nshards, ndim);
			goto done;
		}
		for (int i = 0; i < ndim; i++)
			opts.shards[i] = p->shards[i];
	}
	if (p->out.codec && (rc = cli_codec_spec(&comp, p->out.codec)) < 0)
		goto done;
	scout_array *src = in;
	if (p->out.has_dtype && p->out.dtype != it) {
		if (!cli_cast_supported(it, p->out.dtype)) {
			rc = scout__error(SCOUT_EUNSUPPORTED, "%s: cannot convert %s to %s",
					  p->input, scout_dtype_name(it),
					  scout_dtype_name(p->out.dtype));
			goto done;
		}
		if ((rc = cli_cast_view(&view, in, p->out.dtype)) < 0)
			goto done;
		src = view;
	}
	opts.ngff_version = p->ngff ? p->ngff : "0.4";
	opts.unit = p->unit;
	opts.method = p->method;
	opts.max_levels = p->levels;
	opts.compressor = comp;
	opts.dimension_separator = p->out.separator ? p->out.separator : '/';
	cli_pmap_options(&po, &p->common);
	opts.pmap = &po;
	if ((rc = cli_output_begin(&o, p->output, p->out.overwrite)) < 0)
		goto done;
	rc = scout_pyramid_write(o.tmp, src, &opts, NULL);
	if (rc == 0)
		rc = cli_check_interrupt();
	if (rc < 0 && cli_interrupted())
		rc = cli_check_interrupt();
	if (rc < 0)
		scout__error_prefix(rc, "%s: ", p->output);
	if (rc == 0)
		rc = cli_output_commit(&o);
	if (rc < 0)
		cli_output_abort(&o);
done:
	free(comp);
	scout_array_free(view);
	scout_array_free(in);
	return rc;
}

/*
 * The NGFF options shared by `pyramid` and `convert --ome`. Returns 1 when
 * opt was one of them, 0 when not, CLI_EXIT_USAGE + 1000 on a bad value
 * (message printed).
 */
int cli_pyramid_option(cli_pyramid_params *p, int opt, const char *arg, const char *cmd,
		       const char *usage)
{
	switch (opt) {
	case CLI_OPT_NGFF:
		if (strcmp(arg, "0.4") && strcmp(arg, "0.5"))
			return 1000 + cli_usage_error(cmd, usage,
						      "--ngff must be 0.4 or 0.5, not '%s'", arg);
		p->ngff = arg;
		return 1;
	case CLI_OPT_VOXEL_SIZE:
		p->nvoxel = cli_parse_double_list(p->voxel_size, SCOUT_MAX_NDIM, arg);
		if (p->nvoxel < 0)
			return 1000 + cli_usage_error(cmd, usage,
						      "--voxel-size needs numbers Z,Y,X, not '%s'",
						      arg);
		for (int i = 0; i < p->nvoxel; i++)
			if (!(isfinite(p->voxel_size[i]) && p->voxel_size[i] > 0))
				return 1000 + cli_usage_error(cmd, usage,
							      "--voxel-size: %g is not a positive "
							      "size",
							      p->voxel_size[i]);
		return 1;
	case CLI_OPT_VOXEL_FILE:
		p->voxel_size_file = arg;
		return 1;
	case CLI_OPT_UNIT:
		p->unit = arg;
		return 1;
	case CLI_OPT_METHOD:
		if (scout_downsample_method_parse(&p->method, arg) < 0)
			return 1000 + cli_usage_error(cmd, usage,
						      "--method must be mean, gaussian, nearest or "
						      "mode, not '%s'",
						      arg);
		return 1;
	case CLI_OPT_LEVELS:
		if (cli_parse_int(&p->levels, arg) < 0 || p->levels < 1)
			return 1000 + cli_usage_error(cmd, usage,
						      "--levels needs a number of levels >= 1 "
						      "(level 0 included), not '%s'",
						      arg);
		return 1;
	case CLI_OPT_SHARDS:
		p->nshards = cli_parse_int64_list(p->shards, SCOUT_MAX_NDIM, arg, 1);
		if (p->nshards < 0)
			return 1000 + cli_usage_error(cmd, usage,
						      "--shards needs positive integers Z,Y,X, not "
						      "'%s'",
						      arg);
		return 1;
	default:
		return 0;
	}
}

int cli_pyramid_main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    CLI_COMMON_LONGOPTS,
	    CLI_PYRAMID_LONGOPTS,
	    CLI_OUTPUT_LONGOPTS,
	    {NULL, 0, NULL, 0},
	};
	cli_pyramid_params p;
	cli_pyramid_params_init(&p);
	int opt;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":hj:", longopts, NULL)) != -1) {
		int r = cli_pyramid_option(&p, opt, optarg, "pyramid", PYRAMID_USAGE);
		if (!r)
			r = cli_output_option(&p.out, opt, optarg, "pyramid", PYRAMID_USAGE);
		if (r >= 1000)
			return r - 1000;
		if (r)
			continue;
		switch (opt) {
		case 'h':
			pyramid_help();
			return CLI_EXIT_OK;
		default: {
			int rr = cli_other_option(&p.common, opt, "pyramid", PYRAMID_USAGE, argv);
			if (rr)
				return rr;
		}
		}
	}
	if (p.voxel_size_file && p.nvoxel)
		return cli_usage_error("pyramid", PYRAMID_USAGE,
				       "give --voxel-size or --voxel-size-file, not both");
	if (argc - optind != 2)
		return cli_usage_error("pyramid", PYRAMID_USAGE,
				       "expected INPUT and OUTPUT, got %d arguments",
				       argc - optind);
	p.input = argv[optind];
	p.output = argv[optind + 1];
	if (cli_pyramid_run(&p) < 0)
		return cli_fail();
	return CLI_EXIT_OK;
}
