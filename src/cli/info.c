/* scout info PATH: what an array is and how it is stored. */
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <tiffio.h>

#include "cli.h"

#define INFO_USAGE "scout info [--json] [-h] PATH"

static void info_help(void)
{
	printf("usage: " INFO_USAGE "\n\n"
	       "Describe an array: a Zarr v2 array directory, a TIFF file or a folder of TIFF\n"
	       "slices. Prints its kind (zarr, tiff, tiff-stack), shape, chunks, dtype, codec,\n"
	       "number of chunks, uncompressed and stored bytes, compression ratio and\n"
	       "attributes. An OME-Zarr group: its NGFF version, axes with units and every\n"
	       "level's path, shape, scale, translation and chunks.\n\n"
	       "Options:\n"
	       "  --json        one JSON object: path, kind, shape, chunks, dtype (numpy\n"
	       "                typestr), compressor (numcodecs config or null), nchunks,\n"
	       "                chunk_grid, nbytes, stored_bytes, ratio, attributes, ...\n"
	       "  -h, --help    this help\n\n"
	       "Example:\n"
	       "  scout info data.zarr\n"
	       "  scout info --json slices/ | jq .shape\n");
}

/* ---- stored bytes of a directory tree ---- */

static _Thread_local uint64_t walk_bytes, walk_chunks;

static int walk_entry(const char *fpath, const struct stat *sb, int typeflag, struct FTW *ftwbuf)
{
	(void)fpath;
	if (typeflag == FTW_F && S_ISREG(sb->st_mode)) {
		walk_bytes += (uint64_t)sb->st_size;
		const char *name = fpath + ftwbuf->base;
		/* chunk keys never start with '.' (.zarray, .zattrs, .scout.lock ...) */
		if (name[0] != '.' && !strstr(name, ".tmp"))
			walk_chunks++;
	}
	return 0;
}

static int dir_usage(uint64_t *bytes, uint64_t *files, const char *path)
{
	walk_bytes = walk_chunks = 0;
	if (nftw(path, walk_entry, 16, FTW_PHYS) != 0)
		return scout__error(SCOUT_EIO, "%s: cannot walk the directory: %s", path,
				    strerror(errno));
	*bytes = walk_bytes;
	*files = walk_chunks;
	return 0;
}

static const char *tiff_compression_name(uint16_t c)
{
	switch (c) {
	case COMPRESSION_NONE:
		return "none";
	case COMPRESSION_LZW:
		return "lzw";
	case COMPRESSION_ADOBE_DEFLATE:
	case COMPRESSION_DEFLATE:
		return "deflate";
	case COMPRESSION_PACKBITS:
		return "packbits";
	case COMPRESSION_JPEG:
		return "jpeg";
#ifdef COMPRESSION_ZSTD
	case COMPRESSION_ZSTD:
		return "zstd";
#endif
#ifdef COMPRESSION_LZMA
	case COMPRESSION_LZMA:
		return "lzma";
#endif
#ifdef COMPRESSION_WEBP
	case COMPRESSION_WEBP:
		return "webp";
#endif
	default:
		return "other";
	}
}

/* Compression of the first directory of a TIFF file ("?" when it cannot be read). */
static const char *tiff_file_compression(const char *path)
{
	TIFFErrorHandler oe = TIFFSetErrorHandler(NULL), ow = TIFFSetWarningHandler(NULL);
	const char *name = "?";
	TIFF *t = TIFFOpen(path, "r");
	if (t) {
		uint16_t c = COMPRESSION_NONE;
		if (TIFFGetFieldDefaulted(t, TIFFTAG_COMPRESSION, &c))
			name = tiff_compression_name(c);
		TIFFClose(t);
	}
	TIFFSetErrorHandler(oe);
	TIFFSetWarningHandler(ow);
	return name;
}

static json_t *coords_json(int ndim, const int64_t *v)
{
	json_t *a = json_array();
	for (int i = 0; i < ndim; i++)
		json_array_append_new(a, json_integer((json_int_t)v[i]));
	return a;
}

static void print_coords(int ndim, const int64_t *v)
{
	printf("(");
	for (int i = 0; i < ndim; i++)
		printf("%s%lld", i ? ", " : "", (long long)v[i]);
	printf(ndim == 1 ? ",)\n" : ")\n");
}

static void human(char *buf, size_t n, double bytes)
{
	static const char *const u[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
	int i = 0;
	while (bytes >= 1024 && i < 5) {
		bytes /= 1024;
		i++;
	}
	snprintf(buf, n, i ? "%.1f %s" : "%.0f %s", bytes, u[i]);
}

static int info_run(const char *path, int as_json)
{
	scout_array *arr = NULL;
	json_t *meta = NULL, *out = NULL;
	int rc = scout_array_open(&arr, path, SCOUT_MODE_READ);
	if (rc < 0)
		return rc;
	int ndim = scout_array_ndim(arr);
	const int64_t *shape = scout_array_shape(arr);
	const int64_t *chunks = scout_array_chunks(arr);
	scout_dtype dt = scout_array_dtype(arr);
	const char *kind = scout_array_kind(arr);
	int64_t grid[SCOUT_MAX_NDIM];
	size_t nchunks = 0;
	if ((rc = scout_chunk_dims(grid, ndim, shape, chunks)) < 0 ||
	    (rc = scout_chunk_count(&nchunks, ndim, shape, chunks)) < 0)
		goto done;

	out = json_object();
	json_object_set_new(out, "path", json_string(path));
	json_object_set_new(out, "kind", json_string(kind));
	json_object_set_new(out, "shape", coords_json(ndim, shape));
	json_object_set_new(out, "chunks", coords_json(ndim, chunks));
	char ts[8];
	scout_dtype_typestr(ts, dt, 0);
	json_object_set_new(out, "dtype", json_string(ts));
	json_object_set_new(out, "dtype_name", json_string(scout_dtype_name(dt)));
	json_object_set_new(out, "nchunks", json_integer((json_int_t)nchunks));
	json_object_set_new(out, "chunk_grid", coords_json(ndim, grid));
	size_t nbytes = scout_array_nbytes(arr);
	json_object_set_new(out, "nbytes", json_integer((json_int_t)nbytes));

	uint64_t stored = 0, files = 0;
	json_t *attrs = NULL;
	char codec_text[512] = "none";
	if (!strcmp(kind, "zarr")) {
		char *zpath;
		json_error_t jerr;
		if (asprintf(&zpath, "%s/.zarray", path) < 0) {
			rc = scout__error(SCOUT_ENOMEM, "out of memory");
			goto done;
		}
		meta = json_load_file(zpath, 0, &jerr);
		free(zpath);
		if (!meta) {
			rc = scout__error(SCOUT_EFORMAT, "%s/.zarray: %s", path, jerr.text);
			goto done;
		}
		/* the stored typestr keeps the byte order */
		json_t *d = json_object_get(meta, "dtype");
		if (json_is_string(d))
			json_object_set(out, "dtype", d);
		json_t *comp = json_object_get(meta, "compressor");
		json_object_set_new(out, "compressor", comp ? json_incref(comp) : json_null());
		if (comp && !json_is_null(comp)) {
			char *t = json_dumps(comp, JSON_COMPACT);
			snprintf(codec_text, sizeof codec_text, "%s", t ? t : "?");
			free(t);
		}
		static const char *const keys[] = {"fill_value", "order", "filters",
						   "dimension_separator"};
		for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
			json_t *v = json_object_get(meta, keys[i]);
			if (v)
				json_object_set(out, keys[i], v);
		}
		if (!json_object_get(out, "dimension_separator"))
			json_object_set_new(out, "dimension_separator", json_string("."));
		if ((rc = dir_usage(&stored, &files, path)) < 0)
			goto done;
		json_object_set_new(out, "stored_chunks", json_integer((json_int_t)files));
		char *at = NULL;
		if ((rc = scout_array_attrs_get(&at, arr)) < 0)
			goto done;
		attrs = json_loads(at, 0, &jerr);
		scout_free(at);
		if (!attrs)
			attrs = json_object();
	} else {
		json_object_set_new(out, "compressor", json_null());
		struct stat st;
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			scout_strlist *paths = NULL;
			if ((rc = scout_tifs_in_dir(&paths, NULL, path)) < 0)
				goto done;
			files = scout_strlist_count(paths);
			for (size_t i = 0; i < files; i++) {
				struct stat fs;
				if (stat(scout_strlist_get(paths, i), &fs) == 0)
					stored += (uint64_t)fs.st_size;
			}
			snprintf(codec_text, sizeof codec_text, "tiff %s",
				 files ? tiff_file_compression(scout_strlist_get(paths, 0))
				       : "none");
			scout_strlist_free(paths);
		} else {
			stored = (uint64_t)st.st_size;
			files = 1;
			snprintf(codec_text, sizeof codec_text, "tiff %s",
				 tiff_file_compression(path));
		}
		json_object_set_new(out, "tiff_compression", json_string(codec_text + 5));
		json_object_set_new(out, "files", json_integer((json_int_t)files));
		attrs = json_object();
	}
	json_object_set_new(out, "stored_bytes", json_integer((json_int_t)stored));
	double ratio = stored ? (double)nbytes / (double)stored : 0.0;
	json_object_set_new(out, "ratio", stored ? json_real(ratio) : json_null());
	json_object_set_new(out, "attributes", attrs);

	if (as_json) {
		char *t = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		if (!t) {
			rc = scout__error(SCOUT_ENOMEM, "out of memory");
			goto done;
		}
		printf("%s\n", t);
		free(t);
	} else {
		char h1[32], h2[32];
		human(h1, sizeof h1, (double)nbytes);
		human(h2, sizeof h2, (double)stored);
		printf("path:        %s\n", path);
		printf("kind:        %s\n", kind);
		printf("shape:       ");
		print_coords(ndim, shape);
		printf("chunks:      ");
		print_coords(ndim, chunks);
		printf("dtype:       %s (%s)\n", scout_dtype_name(dt),
		       json_string_value(json_object_get(out, "dtype")));
		printf("codec:       %s\n", codec_text);
		printf("nchunks:     %zu (grid ", nchunks);
		for (int i = 0; i < ndim; i++)
			printf("%s%lld", i ? " x " : "", (long long)grid[i]);
		if (!strcmp(kind, "zarr"))
			printf("), %llu stored\n", (unsigned long long)files);
		else
			printf("), %llu file%s\n", (unsigned long long)files,
			       files == 1 ? "" : "s");
		printf("size:        %zu bytes (%s)\n", nbytes, h1);
		printf("stored:      %llu bytes (%s)", (unsigned long long)stored, h2);
		if (stored)
			printf(", ratio %.2f\n", ratio);
		else
			printf("\n");
		char *t = json_dumps(attrs, JSON_COMPACT | JSON_PRESERVE_ORDER);
		printf("attributes:  %s\n", t ? t : "{}");
		free(t);
	}
	rc = SCOUT_OK;
done:
	json_decref(out);
	json_decref(meta);
	scout_array_free(arr);
	return rc;
}

int cli_info_main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    CLI_COMMON_LONGOPTS, CLI_JSON_LONGOPT, {NULL, 0, NULL, 0}};
	cli_common common;
	cli_common_init(&common);
	int opt;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":hj:", longopts, NULL)) != -1) {
		if (opt == 'h') {
			info_help();
			return CLI_EXIT_OK;
		}
		int r = cli_other_option(&common, opt, "info", INFO_USAGE, argv);
		if (r)
			return r;
	}
	if (argc - optind != 1)
		return cli_usage_error("info", INFO_USAGE, "expected one PATH, got %d arguments",
				       argc - optind);
	int g = cli_info_ngff(argv[optind], common.json); /* an OME-Zarr group (info_ngff.c) */
	if (g <= 0)
		return g < 0 ? cli_fail() : CLI_EXIT_OK;
	if (info_run(argv[optind], common.json) < 0)
		return cli_fail();
	return CLI_EXIT_OK;
}
