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
	       "Describe an array: a Zarr array directory (v2 or v3), a TIFF file or a folder\n"
	       "of TIFF slices. Prints its kind (zarr, tiff, tiff-stack), Zarr format, shape,\n"
	       "chunks, dtype, codec chain, dimension names, number of chunks, uncompressed\n"
	       "and stored bytes, compression ratio and attributes. For a sharded Zarr v3\n"
	       "array: the shards, the inner chunks (\"chunks\"), how many of each are stored\n"
	       "and the bytes its shard indexes take.\n"
	       "On a Zarr group (v2 or v3, e.g. OME-Zarr, GDAL or netCDF output) it prints the\n"
	       "tree of its arrays and subgroups, from its consolidated metadata when present;\n"
	       "on an OME-Zarr group, its NGFF version, axes with units and every level's\n"
	       "path, shape, scale, translation and chunks.\n\n"
	       "Options:\n"
	       "  --json        one JSON object: path, kind, shape, chunks, dtype (numpy\n"
	       "                typestr), compressor (numcodecs config or null), nchunks,\n"
	       "                chunk_grid, nbytes, stored_bytes, ratio, attributes, and\n"
	       "                for Zarr zarr_format, codecs (the chain as a v3 list, also\n"
	       "                for v2), dimension_names, chunk_key_encoding, ...; sharded:\n"
	       "                shards, shard_grid, stored_shards, stored_inner_chunks,\n"
	       "                index_bytes; for a group:\n"
	       "                path, kind \"group\", zarr_format, attributes, consolidated,\n"
	       "                members (every descendant: path, node_type, and for arrays\n"
	       "                shape, chunks, dtype_name, codecs)\n"
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
		if (name[0] != '.' && !strstr(name, ".tmp") && strcmp(name, "zarr.json") != 0)
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

/* "bytes+blosc" from a codec list */
static void codec_names(char *buf, size_t n, const json_t *codecs)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < json_array_size(codecs); i++) {
		const char *name =
		    json_string_value(json_object_get(json_array_get(codecs, i), "name"));
		int w = snprintf(buf + used, n - used, "%s%s", i ? "+" : "", name ? name : "?");
		if (w < 0 || (size_t)w >= n - used)
			break;
		used += (size_t)w;
	}
}

static void print_shape(const json_t *a)
{
	printf("(");
	for (size_t i = 0; i < json_array_size(a); i++)
		printf("%s%lld", i ? ", " : "",
		       (long long)json_integer_value(json_array_get(a, i)));
	printf(json_array_size(a) == 1 ? ",)" : ")");
}

/* A group: its tree (or the JSON of scout_zarr_group_describe()). */
static int info_group(const char *text, int as_json)
{
	if (as_json) {
		printf("%s\n", text);
		return SCOUT_OK;
	}
	json_error_t jerr;
	json_t *g = json_loads(text, 0, &jerr);
	if (!g)
		return scout__error(SCOUT_ENOMEM, "out of memory");
	json_t *members = json_object_get(g, "members");
	printf("path:        %s\n", json_string_value(json_object_get(g, "path")));
	printf("kind:        group\n");
	printf("format:      zarr v%d%s\n",
	       (int)json_integer_value(json_object_get(g, "zarr_format")),
	       json_is_true(json_object_get(g, "consolidated")) ? " (consolidated metadata)" : "");
	char *t = json_dumps(json_object_get(g, "attributes"), JSON_COMPACT | JSON_PRESERVE_ORDER);
	printf("attributes:  %s\n", t ? t : "{}");
	free(t);
	printf("members:     %zu\n", json_array_size(members));
	for (size_t i = 0; i < json_array_size(members); i++) {
		const json_t *m = json_array_get(members, i);
		const char *p = json_string_value(json_object_get(m, "path"));
		const char *base = strrchr(p, '/');
		int depth = 1;
		for (const char *c = p; *c; c++)
			depth += *c == '/';
		printf("%*s%s", 2 * depth, "", base ? base + 1 : p);
		if (!strcmp(json_string_value(json_object_get(m, "node_type")), "group")) {
			printf("/\n");
			continue;
		}
		const json_t *err = json_object_get(m, "error");
		if (err) {
			printf("  (cannot be read: %s)\n", json_string_value(err));
			continue;
		}
		char cn[256];
		codec_names(cn, sizeof cn, json_object_get(m, "codecs"));
		printf("  %s ", json_string_value(json_object_get(m, "dtype_name")));
		print_shape(json_object_get(m, "shape"));
		printf(" chunks ");
		print_shape(json_object_get(m, "chunks"));
		printf(" %s\n", cn);
	}
	json_decref(g);
	return SCOUT_OK;
}

static int info_run(const char *path, int as_json)
{
	{
		char *gtext = NULL;
		int grc = scout_zarr_group_describe(&gtext, path);
		if (grc == SCOUT_OK) {
			grc = info_group(gtext, as_json);
			scout_free(gtext);
			return grc;
		}
		if (grc == SCOUT_EFORMAT)
			return grc; /* a group with bad metadata */
		/* not a group (or not readable as one): describe it as an array */
	}
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
	int zarr_format = 0;
	scout_zarr_shard_info shi;
	memset(&shi, 0, sizeof shi);
	json_t *attrs = NULL;
	char codec_text[512] = "none";
	if (!strcmp(kind, "zarr")) {
		char *mt = NULL;
		json_error_t jerr;
		if ((rc = scout_zarr_metadata(&mt, arr)) < 0)
			goto done;
		meta = json_loads(mt, 0, &jerr);
		scout_free(mt);
		if (!meta) {
			rc = scout__error(SCOUT_ENOMEM, "out of memory");
			goto done;
		}
		/* the stored typestr keeps the byte order */
		json_object_set(out, "dtype", json_object_get(meta, "dtype"));
		json_t *comp = json_object_get(meta, "compressor");
		json_object_set(out, "compressor", comp);
		zarr_format = (int)json_integer_value(json_object_get(meta, "zarr_format"));
		json_t *codecs = json_object_get(meta, "codecs");
		if (zarr_format == 2 && !json_is_null(comp)) {
			char *t = json_dumps(comp, JSON_COMPACT);
			snprintf(codec_text, sizeof codec_text, "%s", t ? t : "?");
			free(t);
		} else if (zarr_format == 3) {
			char *t = json_dumps(codecs, JSON_COMPACT | JSON_PRESERVE_ORDER);
			snprintf(codec_text, sizeof codec_text, "%s", t ? t : "?");
			free(t);
		}
		static const char *const keys[] = {
		    "fill_value",  "order",  "filters",         "dimension_separator",
		    "zarr_format", "codecs", "dimension_names", "chunk_key_encoding"};
		for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
			json_t *v = json_object_get(meta, keys[i]);
			if (v)
				json_object_set(out, keys[i], v);
		}
		if ((rc = dir_usage(&stored, &files, path)) < 0)
			goto done;
		if ((rc = scout_zarr_shard_info_get(&shi, arr)) < 0)
			goto done;
		if (shi.sharded) {
			int64_t sg[SCOUT_MAX_NDIM];
			scout_chunk_dims(sg, ndim, shape, shi.shards);
			json_object_set_new(out, "shards", coords_json(ndim, shi.shards));
			json_object_set_new(out, "shard_grid", coords_json(ndim, sg));
			json_object_set_new(out, "stored_shards",
					    json_integer((json_int_t)shi.shards_stored));
			json_object_set_new(out, "stored_inner_chunks",
					    json_integer((json_int_t)shi.inner_stored));
			json_object_set_new(out, "index_bytes",
					    json_integer((json_int_t)shi.index_bytes));
		}
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
		if (zarr_format)
			printf("format:      zarr v%d\n", zarr_format);
		printf("shape:       ");
		print_coords(ndim, shape);
		printf("chunks:      ");
		print_coords(ndim, chunks);
		printf("dtype:       %s (%s)\n", scout_dtype_name(dt),
		       json_string_value(json_object_get(out, "dtype")));
		printf("codec:       %s\n", codec_text);
		json_t *dn = json_object_get(out, "dimension_names");
		if (dn && !json_is_null(dn)) {
			char *t = json_dumps(dn, JSON_COMPACT);
			printf("dimensions:  %s\n", t ? t : "?");
			free(t);
		}
		if (shi.sharded) {
			int64_t sg[SCOUT_MAX_NDIM];
			scout_chunk_dims(sg, ndim, shape, shi.shards);
			printf("shards:      ");
			print_coords(ndim, shi.shards);
			printf("nshards:     %llu (grid ", (unsigned long long)shi.shards_total);
			for (int i = 0; i < ndim; i++)
				printf("%s%lld", i ? " x " : "", (long long)sg[i]);
			printf("), %llu stored\n", (unsigned long long)shi.shards_stored);
			printf("inner:       %zu inner chunks (grid ", nchunks);
			for (int i = 0; i < ndim; i++)
				printf("%s%lld", i ? " x " : "", (long long)grid[i]);
			printf("), %llu stored\n", (unsigned long long)shi.inner_stored);
			printf("index:       %llu bytes in %llu shard indexes (%.2f%% of stored)\n",
			       (unsigned long long)shi.index_bytes,
			       (unsigned long long)shi.shards_stored,
			       stored ? 100.0 * (double)shi.index_bytes / (double)stored : 0.0);
		} else {
			printf("nchunks:     %zu (grid ", nchunks);
			for (int i = 0; i < ndim; i++)
				printf("%s%lld", i ? " x " : "", (long long)grid[i]);
			if (!strcmp(kind, "zarr"))
				printf("), %llu stored\n", (unsigned long long)files);
			else
				printf("), %llu file%s\n", (unsigned long long)files,
				       files == 1 ? "" : "s");
		}
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
