/* scout convert INPUT OUTPUT: TIFF file / TIFF folder / Zarr -> Zarr v2 or v3 (or TIFF). */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "core/bufpool.h"

#define CONVERT_USAGE                                                                              \
	"scout convert [-j N] [--chunks Z,Y,X] [--codec SPEC] [--filters JSON] [--dtype T]\n"      \
	"                     [--separator /|.] [--zarr-format 2|3]"                               \
	" [--chunk-key-encoding default|v2]\n"                                                     \
	"                     [--shards Z,Y,X [--index-location end|start]]\n"                     \
	"                     [--ome [NGFF options of scout pyramid]] [--overwrite] [--resume]\n"  \
	"                     [--processes] [--[no-]progress] INPUT OUTPUT"

static void convert_help(void)
{
	printf(
	    "usage: " CONVERT_USAGE "\n\n"
	    "Convert a TIFF file, a folder of TIFF slices or a Zarr array (v2 or v3) to a\n"
	    "Zarr array (v2 by default, SCOUT's format; v3 with --zarr-format 3), or to a\n"
	    "TIFF file when OUTPUT ends in .tif or .tiff (2-D or 3-D arrays).\n"
	    "The work is split in slabs of whole output chunks along the first axis, run in\n"
	    "parallel in bounded memory. OUTPUT is built under OUTPUT.tmp-<pid> and renamed\n"
	    "when complete: after a failure or Ctrl-C nothing is left at OUTPUT.\n"
	    "A Zarr input whose chunks, codec and fill value the output keeps (its inner\n"
	    "chunks when sharded, no --dtype) is copied as stored bytes, each chunk decoded\n"
	    "once to check it: rechunking into shards encodes nothing again.\n"
	    "Output files of 1 MiB or more (shards) are written past the page cache\n"
	    "(O_DIRECT); SCOUT_DIRECT_IO=0 writes them through it.\n\n"
	    "Options:\n"
	    "  --chunks Z,Y,X    output chunk shape, one value per axis (default 64 on\n"
	    "                    every axis, not clipped to the shape, as SCOUT)\n"
	    "  --codec SPEC      compressor (default blosc:zstd:1:bitshuffle, as SCOUT):\n"
	    "                      a numcodecs JSON config, e.g. '{\"id\":\"zlib\",\"level\":5}',\n"
	    "                      or blosc:CNAME:CLEVEL:SHUFFLE (CNAME blosclz|lz4|lz4hc|\n"
	    "                      zlib|zstd, SHUFFLE noshuffle|shuffle|bitshuffle), zlib:L,\n"
	    "                      gzip:L, bz2:L, lzma:PRESET, zstd:L, lz4, none, default.\n"
	    "                    For Zarr v3 the short forms and numcodecs JSON give the\n"
	    "                    chain bytes + that codec (blosc, gzip, zstd in v3 form,\n"
	    "                    others as numcodecs.<id>); a SPEC starting with '[' is\n"
	    "                    the whole v3 codecs list, e.g.\n"
	    "                    '[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"big\"}},\n"
	    "                    {\"name\":\"crc32c\"}]'.\n"
	    "                    For TIFF output: none, zlib[:L] (deflate) or zstd[:L].\n"
	    "  --filters JSON    Zarr v2: numcodecs filters applied before the compressor,\n"
	    "                    as zarr-python, e.g. '[{\"id\":\"delta\",\"dtype\":\"<u2\"}]':\n"
	    "                    delta, fixedscaleoffset, quantize, astype, bitround,\n"
	    "                    packbits, shuffle (dtype fields are those of the output)\n"
	    "  --dtype T         convert values (bool, int8..int64, uint8..uint64, float32,\n"
	    "                    float64 or a numpy typestr): as numpy's astype; integers\n"
	    "                    wrap, float -> integer truncates toward zero and saturates\n"
	    "                    out-of-range values (NaN -> 0)\n"
	    "  --separator S     chunk key separator: / or . (default /, or . with\n"
	    "                    --chunk-key-encoding v2)\n"
	    "  --zarr-format N   2 (default: .zarray, as SCOUT) or 3 (zarr.json)\n"
	    "  --shards Z,Y,X    Zarr v3 sharding: shard shape, each a multiple of the\n"
	    "                    chunks, which become the inner chunks (default 64, or\n"
	    "                    the shard when 64 does not divide it); the codec chain\n"
	    "                    runs on each inner chunk; index bytes + crc32c\n"
	    "  --index-location L  end (default) or start: where each shard's index is\n"
	    "  --chunk-key-encoding E  Zarr v3 chunk keys: default (c/1/2/3, the default)\n"
	    "                    or v2 (1.2.3)\n"
	    "  --ome             write an OME-Zarr multiscale image (level 0 = the\n"
	    "                    conversion, level 1 computed from the same read, further\n"
	    "                    levels from the level above), as `scout pyramid`, which\n"
	    "                    documents the options this adds: --ngff, --voxel-size,\n"
	    "                    --voxel-size-file, --unit, --method, --levels\n"
	    "  --overwrite       replace an existing OUTPUT\n"
	    "  --resume          build in OUTPUT.partial with a journal of finished blocks,\n"
	    "                    kept after a failure; run again with --resume to complete\n"
	    "  -j, --workers N   parallel workers (default: online CPUs)\n"
	    "  --processes       fork worker processes instead of threads\n"
	    "  --progress, --no-progress  progress bar on stderr (default: when a terminal)\n"
	    "  -h, --help        this help\n\n"
	    "Examples:\n"
	    "  scout convert slices/ volume.zarr\n"
	    "  scout convert stack.tif volume.zarr --chunks 32,128,128 --codec zstd:3\n"
	    "  scout convert volume.zarr small.zarr --dtype uint8 --separator .\n"
	    "  scout convert volume.zarr volume.tif\n"
	    "  scout convert volume.zarr v3.zarr --zarr-format 3 --codec zstd:3\n"
	    "  scout convert slices/ image.ome.zarr --ome --voxel-size 2.0,0.65,0.65\n"
	    "  scout convert volume.zarr sharded.zarr --zarr-format 3 --shards 256,256,256 \\\n"
	    "      --chunks 64,64,64\n");
}

/* ---- shared with blur: a Zarr output built under a temporary name ---- */

static int create_output(scout_array **out, const cli_output *o, int ndim, const int64_t *shape,
			 const int64_t *chunks, const int64_t *shards, const char *index_location,
			 scout_dtype dtype, const char *codec_spec, char separator, int zarr_format,
			 const char *key_encoding, const char *fill_value,
			 const char *dimension_names, const char *filters);

int cli_zarr_output_create(scout_array **out, const cli_output *o, int ndim, const int64_t *shape,
			   const int64_t *chunks, scout_dtype dtype, const char *codec_spec,
			   char separator)
{
	return cli_zarr_output_create_fmt(out, o, ndim, shape, chunks, dtype, codec_spec, separator,
					  2, NULL, NULL, NULL, NULL);
}

int cli_zarr_output_create_fmt(scout_array **out, const cli_output *o, int ndim,
			       const int64_t *shape, const int64_t *chunks, scout_dtype dtype,
			       const char *codec_spec, char separator, int zarr_format,
			       const char *key_encoding, const char *fill_value,
			       const char *dimension_names, const char *filters)
{
	return create_output(out, o, ndim, shape, chunks, NULL, NULL, dtype, codec_spec, separator,
			     zarr_format, key_encoding, fill_value, dimension_names, filters);
}

int cli_zarr_output_create_sharded(scout_array **out, const cli_output *o, int ndim,
				   const int64_t *shape, const int64_t *chunks,
				   const int64_t *shards, const char *index_location,
				   scout_dtype dtype, const char *codec_spec, char separator,
				   const char *key_encoding, const char *fill_value,
				   const char *dimension_names)
{
	return create_output(out, o, ndim, shape, chunks, shards, index_location, dtype, codec_spec,
			     separator, 3, key_encoding, fill_value, dimension_names, NULL);
}

static int create_output(scout_array **out, const cli_output *o, int ndim, const int64_t *shape,
			 const int64_t *chunks, const int64_t *shards, const char *index_location,
			 scout_dtype dtype, const char *codec_spec, char separator, int zarr_format,
			 const char *key_encoding, const char *fill_value,
			 const char *dimension_names, const char *filters)
{
	char *comp = NULL;
	const char *list = NULL;
	char ts[8];
	int rc;
	*out = NULL;
	const char *s = codec_spec;
	while (s && (*s == ' ' || *s == '\t' || *s == '\n'))
		s++;
	if (s && *s == '[') {
		if (zarr_format != 3)
			return scout__error(
			    SCOUT_EINVAL, "codec spec '%.60s': a codec list needs --zarr-format 3",
			    codec_spec);
		list = s;
	} else if (codec_spec && (rc = cli_codec_spec(&comp, codec_spec)) < 0) {
		return rc;
	}
	if ((rc = scout_dtype_typestr(ts, dtype, 0)) < 0) {
		free(comp);
		return rc;
	}
	scout_zarr_options zo = SCOUT_ZARR_OPTIONS_INIT;
	zo.ndim = ndim;
	for (int i = 0; i < ndim; i++) {
		zo.shape[i] = shape[i];
		zo.chunks[i] = chunks[i];
	}
	zo.dtype = ts;
	zo.compressor = comp; /* NULL: SCOUT's default */
	zo.dimension_separator = separator ? separator : '/';
	zo.zarr_format = zarr_format;
	zo.codecs = list;
	zo.chunk_key_encoding = key_encoding;
	zo.fill_value = fill_value;
	for (int i = 0; shards && i < ndim; i++)
		zo.shards[i] = shards[i];
	zo.index_location = index_location;
	zo.dimension_names = zarr_format == 3 ? dimension_names : NULL;
	zo.filters = filters;
	zo.overwrite = 1;                                       /* the temporary name is ours */
	rc = cli_output_create_zarr(out, (cli_output *)o, &zo); /* MPI, --resume: resume.c */
	free(comp);
	if (rc < 0)
		return scout__error_prefix(rc, "%s: ", o->path);
	return SCOUT_OK;
}

/* Default chunks: 64 on every axis, not clipped to the shape (as SCOUT and zarr-python). */
void cli_default_chunks(int64_t *chunks, int ndim, const int64_t *shape)
{
	(void)shape;
	for (int i = 0; i < ndim; i++)
		chunks[i] = 64;
}

int cli_resolve_chunks(int64_t *chunks, int nchunks, const int64_t *given, int ndim,
		       const int64_t *shape)
{
	if (!nchunks) {
		cli_default_chunks(chunks, ndim, shape);
		return 0;
	}
	if (nchunks != ndim)
		return scout__error(SCOUT_EINVAL,
				    "--chunks has %d values but the array has %d axes", nchunks,
				    ndim);
	for (int i = 0; i < ndim; i++)
		chunks[i] = given[i];
	return 0;
}

/*
 * Slab shape: whole output chunks along axis 0, whole extents on the other
 * axes, halved (in whole chunks) while a slab is larger than the per-worker
 * budget.
 */
void cli_slab_shape(int64_t *slab, int ndim, const int64_t *shape, const int64_t *chunks,
		    const int64_t *in_chunks, size_t bytes_per_elem, size_t budget,
		    size_t min_pieces)
{
	for (int i = 0; i < ndim; i++)
		slab[i] = i == 0 ? chunks[0] : (shape[i] > chunks[i] ? shape[i] : chunks[i]);
	for (;;) {
		double bytes = (double)bytes_per_elem, pieces = 1;
		for (int i = 0; i < ndim; i++) {
			bytes *= (double)slab[i];
			pieces *= ceil((double)shape[i] / (double)slab[i]);
		}
		if (bytes <= (double)budget && pieces >= (double)min_pieces)
			return;
		int best = scout__axis_to_halve(ndim, slab, chunks, NULL, in_chunks, shape);
		if (best < 0)
			return;
		int64_t nc = (slab[best] + chunks[best] - 1) / chunks[best];
		slab[best] = ((nc + 1) / 2) * chunks[best];
		if (nc == 1)
			return;
	}
}

/* ---- the conversion ---- */

typedef struct {
	scout_array *out;
	scout_dtype in_type, out_type;
	int raw; /* Zarr to Zarr, chunks and codecs alike: stored bytes copied (verified) */
} convert_ctx;

static int convert_chunk(scout_array *arr, const int64_t *start, const int64_t *chunks,
			 scout_result *result, void *payload)
{
	(void)result;
	convert_ctx *c = payload;
	int ndim = scout_array_ndim(arr);
	const int64_t *shape = scout_array_shape(arr);
	/* the write grid: whole shards of a sharded output, never a part of one */
	const int64_t *oc = scout_array_write_chunks(c->out);
	int64_t stop[SCOUT_MAX_NDIM], ext[SCOUT_MAX_NDIM];
	size_t n = 1, cn = 1;
	int rc = cli_check_interrupt();
	if (rc < 0)
		return rc;
	for (int i = 0; i < ndim; i++) {
		stop[i] = start[i] + chunks[i] < shape[i] ? start[i] + chunks[i] : shape[i];
		ext[i] = stop[i] - start[i];
		n *= (size_t)ext[i];
		cn *= (size_t)(oc[i] < ext[i] ? oc[i] : ext[i]);
	}
	if (n == 0)
		return 0;
	if (c->raw)
		return scout_zarr_copy_box(NULL, c->out, arr, start, stop, 0);
	size_t isz = scout_dtype_size(c->in_type), osz = scout_dtype_size(c->out_type);
	/* pooled: slab after slab reuses the same (already mapped) memory */
	void *in = scout__buf_alloc(n * isz);
	void *outb = c->in_type == c->out_type ? in : scout__buf_alloc(n * osz);
	void *piece = scout__buf_alloc(cn * osz);
	if (!in || !outb || !piece) {
		rc = scout__error(SCOUT_ENOMEM, "cannot allocate a slab of %zu elements", n);
		goto done;
	}
	rc = scout_extract_box(in, arr, start, stop);
	if (rc == 0)
		rc = cli_check_interrupt();
	if (rc < 0)
		goto done;
	if (outb != in)
		cli_cast_values(outb, c->out_type, in, c->in_type, n);
	/* write output chunk by chunk (the slab is made of whole output chunks), polling
	 * the interrupt flag between chunks so Ctrl-C stops promptly */
	int64_t *starts = NULL;
	size_t count = 0;
	if ((rc = scout_chunk_coordinates(&starts, &count, ndim, ext, oc)) < 0)
		goto done;
	for (size_t k = 0; k < count && rc == 0; k++) {
		int64_t cs[SCOUT_MAX_NDIM], ce[SCOUT_MAX_NDIM], cext[SCOUT_MAX_NDIM];
		int64_t zero[SCOUT_MAX_NDIM] = {0};
		const int64_t *off = starts + k * (size_t)ndim;
		for (int i = 0; i < ndim; i++) {
			cext[i] = off[i] + oc[i] < ext[i] ? oc[i] : ext[i] - off[i];
			cs[i] = start[i] + off[i];
			ce[i] = cs[i] + cext[i];
		}
		scout__copy_nd(piece, cext, zero, outb, ext, off, cext, ndim, osz);
		rc = scout_insert_box(c->out, cs, ce, piece);
		if (rc == 0)
			rc = cli_check_interrupt();
	}
	scout_free(starts);
done:
	scout__buf_free(piece, cn * osz);
	if (outb != in)
		scout__buf_free(outb, n * osz);
	scout__buf_free(in, n * isz);
	return rc;
}

static int tiff_options(scout_tiff_write_options *to, const char *spec)
{
	if (!spec || !strcmp(spec, "none"))
		return 0;
	const char *colon = strchr(spec, ':');
	size_t n = colon ? (size_t)(colon - spec) : strlen(spec);
	int level = 0;
	if (colon && cli_parse_int(&level, colon + 1) < 0)
		return scout__error(SCOUT_EINVAL, "codec spec '%s': bad level", spec);
	if (n == 4 && (!strncmp(spec, "zlib", 4) || !strncmp(spec, "gzip", 4)))
		to->compression = SCOUT_TIFF_DEFLATE;
	else if (n == 7 && !strncmp(spec, "deflate", 7))
		to->compression = SCOUT_TIFF_DEFLATE;
	else if (n == 4 && !strncmp(spec, "zstd", 4))
		to->compression = SCOUT_TIFF_ZSTD;
	else
		return scout__error(SCOUT_EINVAL,
				    "codec spec '%s': TIFF output supports none, zlib[:L] and "
				    "zstd[:L]",
				    spec);
	to->level = level;
	return 0;
}

/*
 * From a Zarr array's metadata, as JSON text (malloc'd, NULL when absent or
 * not wanted): its fill value and its dimension names.
 */
static int input_metadata(char **fill_out, char **dims_out, const scout_array *in, int want_fill,
			  int want_dims)
{
	char *meta = NULL;
	*fill_out = *dims_out = NULL;
	int rc = scout_zarr_metadata(&meta, in);
	if (rc < 0)
		return rc;
	json_t *m = json_loads(meta, 0, NULL);
	scout_free(meta);
	json_t *fv = m ? json_object_get(m, "fill_value") : NULL;
	json_t *dn = m ? json_object_get(m, "dimension_names") : NULL;
	if (want_fill && fv && !json_is_null(fv))
		*fill_out = json_dumps(fv, JSON_ENCODE_ANY | JSON_COMPACT);
	if (want_dims && json_is_array(dn))
		*dims_out = json_dumps(dn, JSON_COMPACT);
	json_decref(m);
	return SCOUT_OK;
}

int cli_convert_run(const cli_convert_params *p)
{
	scout_array *in = NULL, *out = NULL, *view = NULL;
	cli_output o;
	int rc;
	memset(&o, 0, sizeof o);
	cli_signals_install();
	if ((rc = scout_array_open(&in, p->input, SCOUT_MODE_READ)) < 0)
		return rc;
	int ndim = scout_array_ndim(in);
	const int64_t *shape = scout_array_shape(in);
	scout_dtype it = scout_array_dtype(in);
	scout_dtype ot = p->out.has_dtype ? p->out.dtype : it;
	if (!cli_cast_supported(it, ot)) {
		rc = scout__error(SCOUT_EUNSUPPORTED, "%s: cannot convert %s to %s", p->input,
				  scout_dtype_name(it), scout_dtype_name(ot));
		goto done;
	}

	if (cli_is_tiff_path(p->output)) {
		scout_tiff_write_options to = SCOUT_TIFF_WRITE_OPTIONS_INIT;
		if (ndim != 2 && ndim != 3) {
			rc = scout__error(SCOUT_EINVAL,
					  "%s: TIFF output needs a 2-D or 3-D array, "
					  "this one has %d axes",
					  p->output, ndim);
			goto done;
		}
		if ((rc = tiff_options(&to, p->out.codec)) < 0)
			goto done;
		if ((rc = cli_output_begin(&o, p->output, p->out.overwrite)) < 0)
			goto done;
		if ((rc = cli_cast_view(&view, in, ot)) < 0)
			goto done;
		/* one file: written by rank 0 alone under MPI */
		rc = cli_mpi_rank() == 0 ? scout_tiff_write(o.tmp, view, &to) : 0;
		if (rc == 0)
			rc = cli_check_interrupt();
		goto finish;
	}

	int64_t chunks[SCOUT_MAX_NDIM], slab[SCOUT_MAX_NDIM];
	if ((rc = cli_resolve_chunks(chunks, p->out.nchunks, p->out.chunks, ndim, shape)) < 0)
		goto done;
	if ((rc = cli_output_begin_resumable(&o, p->output, p->out.overwrite, p->common.resume,
					     cli_resume_params())) < 0)
		goto done;
	char sep = p->out.separator;
	if (!sep)
		sep = p->key_encoding && !strcmp(p->key_encoding, "v2") ? '.' : '/';
	/*
	 * A Zarr input keeps its fill value when the dtype does not change (as
	 * zarr-python's copy), and its dimension names in a v3 output.
	 */
	char *fill = NULL, *dims = NULL;
	if (!strcmp(scout_array_kind(in), "zarr") &&
	    (rc = input_metadata(&fill, &dims, in, it == ot, p->zarr_format == 3)) < 0)
		goto finish;
	if (p->nshards) {
		if (p->nshards != ndim) {
			free(fill);
			free(dims);
			rc = scout__error(SCOUT_EINVAL,
					  "--shards has %d values but the array has %d axes",
					  p->nshards, ndim);
			goto finish;
		}
		if (!p->out.nchunks) /* inner chunks: 64, or the whole shard when 64 does not divide
				      * it
				      */
			for (int i = 0; i < ndim; i++)
				chunks[i] = p->shards[i] % 64 == 0 ? 64 : p->shards[i];
		rc = cli_zarr_output_create_sharded(&out, &o, ndim, shape, chunks, p->shards,
						    p->index_location, ot, p->out.codec, sep,
						    p->key_encoding, fill, dims);
	} else {
		rc = cli_zarr_output_create_fmt(&out, &o, ndim, shape, chunks, ot, p->out.codec,
						sep, p->zarr_format, p->key_encoding, fill, dims,
						p->filters);
	}
	free(fill);
	free(dims);
	if (rc < 0)
		goto finish;
	if (!strcmp(scout_array_kind(in), "zarr")) {
		char *attrs = NULL;
		if ((rc = scout_array_attrs_get(&attrs, in)) < 0)
			goto finish;
		if (strcmp(attrs, "{}") != 0)
			rc = scout_array_attrs_set(out, attrs);
		scout_free(attrs);
		if (rc < 0)
			goto finish;
	}
	/* slabs of whole write-grid cells (shards when sharded): writers never share one */
	cli_slab_shape(slab, ndim, shape, scout_array_write_chunks(out), scout_array_chunks(in),
		       scout_dtype_size(it) + (it == ot ? 0 : scout_dtype_size(ot)),
		       (size_t)256 << 20, 2 * (size_t)p->common.workers);
	convert_ctx ctx = {out, it, ot, it == ot && scout_zarr_copy_raw_possible(out, in)};
	scout_pmap_options po = SCOUT_PMAP_OPTIONS_INIT;
	cli_pmap_options(&po, &p->common);
	rc = cli_pmap_chunks(NULL, convert_chunk, &ctx, in, slab, &po, &o);
	if (rc == 0)
		rc = cli_check_interrupt();
	if (rc < 0 && cli_interrupted())
		rc = cli_check_interrupt(); /* "interrupted by SIGINT", whatever stopped the map */

finish:
	scout_array_free(out);
	out = NULL;
	if (rc == 0)
		rc = cli_output_commit(&o);
	if (rc < 0)
		cli_output_abort(&o);
done:
	scout_array_free(view);
	scout_array_free(in);
	return rc;
}

/* ---- argument parsing ---- */

enum {
	OPT_OME = CLI_OPT_FIRST_CMD,
	OPT_ZARR_FORMAT,
	OPT_KEY_ENCODING,
	OPT_SHARDS,
	OPT_INDEX_LOCATION,
	OPT_FILTERS
};

int cli_parse_dtype(scout_dtype *out, const char *s)
{
	int be = 0;
	if (scout_dtype_parse(out, &be, s) < 0)
		return -1;
	return 0;
}

int cli_convert_main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    CLI_COMMON_LONGOPTS,
	    CLI_OUTPUT_LONGOPTS,
	    {"shards", required_argument, NULL, OPT_SHARDS}, /* before the pyramid's */
	    {"ome", no_argument, NULL, OPT_OME},
	    CLI_PYRAMID_LONGOPTS,
	    {"zarr-format", required_argument, NULL, OPT_ZARR_FORMAT},
	    {"chunk-key-encoding", required_argument, NULL, OPT_KEY_ENCODING},
	    {"index-location", required_argument, NULL, OPT_INDEX_LOCATION},
	    {"filters", required_argument, NULL, OPT_FILTERS},
	    {NULL, 0, NULL, 0},
	};
	cli_pyramid_params pp; /* --ome */
	int ome = 0, ngff_opts = 0;
	cli_pyramid_params_init(&pp);
	cli_convert_params p;
	memset(&p, 0, sizeof p);
	p.zarr_format = 2;
	cli_common_init(&p.common);
	int opt;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":hj:", longopts, NULL)) != -1) {
		int pr = cli_pyramid_option(&pp, opt, optarg, "convert", CONVERT_USAGE);
		if (pr >= 1000)
			return pr - 1000;
		if (pr) {
			ngff_opts = 1;
			continue;
		}
		pr = cli_output_option(&p.out, opt, optarg, "convert", CONVERT_USAGE);
		if (pr >= 1000)
			return pr - 1000;
		if (pr)
			continue;
		switch (opt) {
		case OPT_OME:
			ome = 1;
			break;
		case 'h':
			convert_help();
			return CLI_EXIT_OK;
		case OPT_ZARR_FORMAT:
			if (strcmp(optarg, "2") && strcmp(optarg, "3"))
				return cli_usage_error("convert", CONVERT_USAGE,
						       "--zarr-format must be 2 or 3, not '%s'",
						       optarg);
			p.zarr_format = optarg[0] - '0';
			break;
		case OPT_FILTERS:
			p.filters = optarg;
			break;
		case OPT_KEY_ENCODING:
			if (strcmp(optarg, "default") && strcmp(optarg, "v2"))
				return cli_usage_error(
				    "convert", CONVERT_USAGE,
				    "--chunk-key-encoding must be default or v2, not '%s'", optarg);
			p.key_encoding = optarg;
			break;
		case OPT_SHARDS:
			p.nshards = cli_parse_int64_list(p.shards, SCOUT_MAX_NDIM, optarg, 1);
			if (p.nshards < 0)
				return cli_usage_error(
				    "convert", CONVERT_USAGE,
				    "--shards needs positive integers Z,Y,X, not '%s'", optarg);
			break;
		case OPT_INDEX_LOCATION:
			if (strcmp(optarg, "start") && strcmp(optarg, "end"))
				return cli_usage_error(
				    "convert", CONVERT_USAGE,
				    "--index-location must be start or end, not '%s'", optarg);
			p.index_location = optarg;
			break;
		default: {
			int r = cli_other_option(&p.common, opt, "convert", CONVERT_USAGE, argv);
			if (r)
				return r;
		}
		}
	}
	if (argc - optind != 2)
		return cli_usage_error("convert", CONVERT_USAGE,
				       "expected INPUT and OUTPUT, got %d arguments",
				       argc - optind);
	if (p.key_encoding && p.zarr_format != 3)
		return cli_usage_error("convert", CONVERT_USAGE,
				       "--chunk-key-encoding needs --zarr-format 3");
	if (!ome && (p.nshards || p.index_location) && p.zarr_format != 3)
		return cli_usage_error("convert", CONVERT_USAGE,
				       "--shards and --index-location need --zarr-format 3");
	if (p.index_location && !p.nshards)
		return cli_usage_error("convert", CONVERT_USAGE, "--index-location needs --shards");
	p.input = argv[optind];
	p.output = argv[optind + 1];
	if (p.filters && (p.zarr_format != 2 || ome || cli_is_tiff_path(p.output)))
		return cli_usage_error("convert", CONVERT_USAGE,
				       "--filters is for Zarr v2 output (Zarr v3: give the "
				       "\"numcodecs.<id>\" codecs in --codec '[...]')");
	if (ngff_opts && !ome)
		return cli_usage_error(
		    "convert", CONVERT_USAGE,
		    "--ngff, --voxel-size, --unit, --method and --levels need --ome");
	if (ome) {
		if (cli_is_tiff_path(p.output))
			return cli_usage_error("convert", CONVERT_USAGE,
					       "--ome writes an OME-Zarr group, not a TIFF file");
		if (p.zarr_format != 2 || p.key_encoding)
			return cli_usage_error(
			    "convert", CONVERT_USAGE,
			    "--ome chooses the Zarr format with --ngff (0.4: v2, "
			    "0.5: v3), not --zarr-format");
		if (pp.voxel_size_file && pp.nvoxel)
			return cli_usage_error("convert", CONVERT_USAGE,
					       "give --voxel-size or --voxel-size-file, not both");
		pp.input = p.input;
		pp.output = p.output;
		pp.out = p.out;
		if (!pp.out.separator)
			pp.out.separator = '/';
		pp.nshards = p.nshards;
		memcpy(pp.shards, p.shards, sizeof pp.shards);
		pp.common = p.common;
		if (cli_pyramid_run(&pp) < 0)
			return cli_fail();
		return CLI_EXIT_OK;
	}
	if (cli_convert_run(&p) < 0)
		return cli_fail();
	return CLI_EXIT_OK;
}
