/*
 * Helper for tests/py/test_tiff.py: read TIFFs through scout, write them
 * through scout_tiff_write() or directly through libtiff (for codecs
 * tifffile cannot write without imagecodecs), and read concurrently.
 *
 *   tiff_tool info PATH                      kind, shape, chunks, dtype on stdout
 *   tiff_tool read PATH OUT.raw              the info line, and the whole array (native order)
 *   tiff_tool box PATH START STOP OUT.raw    one box (START/STOP comma lists)
 *   tiff_tool write IN.raw DTYPE SHAPE OUT.tif [none|deflate|zstd [LEVEL [BIGTIFF]]]
 *   tiff_tool libtiff IN.raw DTYPE SHAPE OUT.tif COMP [tile=W,L] [rps=N] [be] [big] [pred=P]
 *   tiff_tool concurrent PATH NTHREADS NPROCS   every chunk from threads and forked
 *                                               processes equals a one-thread read
 * Errors: "error: <code>: <message>" on stderr, exit 1.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <tiffio.h>
#include <unistd.h>

#include "read_file.h"
#include "scout/scout.h"

static int fail(int rc)
{
	fprintf(stderr, "error: %d: %s\n", rc, scout_last_error());
	return 1;
}

static int parse_list(int64_t *out, const char *s)
{
	int n = 0;
	while (*s && n < SCOUT_MAX_NDIM) {
		char *e;
		out[n++] = strtoll(s, &e, 10);
		if (*e == ',')
			e++;
		s = e;
	}
	return n;
}

static int write_file(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(data, 1, n, f) != n) {
		if (f)
			fclose(f);
		fprintf(stderr, "error: cannot write %s\n", path);
		return 1;
	}
	return fclose(f) == 0 ? 0 : 1;
}

static int cmd_info(const char *path)
{
	scout_array *a;
	int rc = scout_array_open(&a, path, SCOUT_MODE_READ);
	if (rc < 0)
		return fail(rc);
	printf("%s %s", scout_array_kind(a), scout_dtype_name(scout_array_dtype(a)));
	for (int k = 0; k < 2; k++) {
		const int64_t *v = k ? scout_array_chunks(a) : scout_array_shape(a);
		printf(" ");
		for (int i = 0; i < scout_array_ndim(a); i++)
			printf("%s%lld", i ? "," : "", (long long)v[i]);
	}
	printf(" %d\n", scout_array_writable(a));
	scout_array_free(a);
	return 0;
}

static int cmd_box(const char *path, const char *start_s, const char *stop_s, const char *out)
{
	scout_array *a;
	int rc = scout_array_open(&a, path, SCOUT_MODE_READ);
	if (rc < 0)
		return fail(rc);
	int nd = scout_array_ndim(a);
	int64_t start[SCOUT_MAX_NDIM] = {0}, stop[SCOUT_MAX_NDIM];
	memcpy(stop, scout_array_shape(a), sizeof(int64_t) * (size_t)nd);
	if (start_s && (parse_list(start, start_s) != nd || parse_list(stop, stop_s) != nd)) {
		fprintf(stderr, "error: box needs %d coordinates\n", nd);
		scout_array_free(a);
		return 1;
	}
	size_t n = scout_dtype_size(scout_array_dtype(a));
	for (int i = 0; i < nd; i++)
		n *= (size_t)(stop[i] > start[i] ? stop[i] - start[i] : 0);
	void *buf = malloc(n ? n : 1);
	rc = scout_extract_box(buf, a, start, stop);
	scout_array_free(a);
	if (rc < 0) {
		free(buf);
		return fail(rc);
	}
	rc = write_file(out, buf, n);
	free(buf);
	return rc;
}

static int cmd_write(int argc, char **argv)
{
	size_t size;
	void *data = test_read_file(argv[2], &size);
	scout_dtype dt;
	int be;
	int64_t shape[SCOUT_MAX_NDIM];
	if (!data || scout_dtype_parse(&dt, &be, argv[3]) < 0) {
		fprintf(stderr, "error: bad input or dtype\n");
		free(data);
		return 1;
	}
	int nd = parse_list(shape, argv[4]);
	scout_array *a;
	int rc = scout_array_wrap(&a, data, nd, shape, dt);
	if (rc < 0) {
		free(data);
		return fail(rc);
	}
	if (scout_array_nbytes(a) != size) {
		fprintf(stderr, "error: %zu bytes for %zu\n", size, scout_array_nbytes(a));
		scout_array_free(a);
		free(data);
		return 1;
	}
	scout_tiff_write_options o = SCOUT_TIFF_WRITE_OPTIONS_INIT;
	if (argc > 6)
		o.compression = strcmp(argv[6], "deflate") == 0 ? SCOUT_TIFF_DEFLATE
				: strcmp(argv[6], "zstd") == 0  ? SCOUT_TIFF_ZSTD
								: SCOUT_TIFF_NONE;
	if (argc > 7)
		o.level = atoi(argv[7]);
	if (argc > 8)
		o.bigtiff = atoi(argv[8]);
	rc = scout_tiff_write(argv[5], a, &o);
	scout_array_free(a);
	free(data);
	return rc < 0 ? fail(rc) : 0;
}

/* write with libtiff directly: any codec it has, tiles, big-endian, BigTIFF, predictor */
static int cmd_libtiff(int argc, char **argv)
{
	size_t size;
	void *data = test_read_file(argv[2], &size);
	scout_dtype dt;
	int be;
	int64_t shape[SCOUT_MAX_NDIM];
	if (!data || scout_dtype_parse(&dt, &be, argv[3]) < 0) {
		fprintf(stderr, "error: bad input or dtype\n");
		free(data);
		return 1;
	}
	int nd = parse_list(shape, argv[4]);
	const char *comp_s = argv[6];
	uint16_t comp = strcmp(comp_s, "lzw") == 0        ? COMPRESSION_LZW
			: strcmp(comp_s, "packbits") == 0 ? COMPRESSION_PACKBITS
			: strcmp(comp_s, "deflate") == 0  ? COMPRESSION_ADOBE_DEFLATE
			: strcmp(comp_s, "zstd") == 0     ? COMPRESSION_ZSTD
			: strcmp(comp_s, "lzma") == 0     ? COMPRESSION_LZMA
			: strcmp(comp_s, "webp") == 0     ? COMPRESSION_WEBP
							  : COMPRESSION_NONE;
	uint32_t tw = 0, tl = 0, rps = 0;
	int bigendian = 0, big = 0, pred = 1;
	for (int i = 7; i < argc; i++) {
		if (strncmp(argv[i], "tile=", 5) == 0)
			sscanf(argv[i] + 5, "%u,%u", &tw, &tl);
		else if (strncmp(argv[i], "rps=", 4) == 0)
			rps = (uint32_t)atoi(argv[i] + 4);
		else if (strcmp(argv[i], "be") == 0)
			bigendian = 1;
		else if (strcmp(argv[i], "big") == 0)
			big = 1;
		else if (strncmp(argv[i], "pred=", 5) == 0)
			pred = atoi(argv[i] + 5);
	}
	char mode[8] = "w";
	strcat(mode, bigendian ? "b" : "l");
	if (big)
		strcat(mode, "8");
	TIFF *tif = TIFFOpen(argv[5], mode);
	if (!tif) {
		free(data);
		return 1;
	}
	size_t isz = scout_dtype_size(dt);
	uint16_t fmt = scout_dtype_is_float(dt)    ? SAMPLEFORMAT_IEEEFP
		       : scout_dtype_is_signed(dt) ? SAMPLEFORMAT_INT
						   : SAMPLEFORMAT_UINT;
	uint32_t h = (uint32_t)shape[nd - 2], w = (uint32_t)shape[nd - 1];
	int64_t pages = nd == 3 ? shape[0] : 1;
	size_t plane = (size_t)h * w * isz;
	int ok = 1;
	for (int64_t z = 0; z < pages && ok; z++) {
		char *p = (char *)data + (size_t)z * plane;
		TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, w);
		TIFFSetField(tif, TIFFTAG_IMAGELENGTH, h);
		TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 1);
		TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, (int)(isz * 8));
		TIFFSetField(tif, TIFFTAG_SAMPLEFORMAT, fmt);
		TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
		TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
		TIFFSetField(tif, TIFFTAG_COMPRESSION, comp);
		if (pred != 1)
			TIFFSetField(tif, TIFFTAG_PREDICTOR, pred);
		if (tw) {
			TIFFSetField(tif, TIFFTAG_TILEWIDTH, tw);
			TIFFSetField(tif, TIFFTAG_TILELENGTH, tl);
			size_t tsz = (size_t)tw * tl * isz;
			char *tile = malloc(tsz);
			for (uint32_t y = 0; y < h && ok; y += tl)
				for (uint32_t x = 0; x < w && ok; x += tw) {
					memset(tile, 0, tsz);
					for (uint32_t r = 0; r < tl && y + r < h; r++) {
						uint32_t cols = w - x < tw ? w - x : tw;
						memcpy(tile + (size_t)r * tw * isz,
						       p + ((size_t)(y + r) * w + x) * isz,
						       (size_t)cols * isz);
					}
					ok = TIFFWriteTile(tif, tile, x, y, 0, 0) >= 0;
				}
			free(tile);
		} else {
			TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, rps ? rps : h);
			for (uint32_t y = 0; y < h && ok; y++)
				ok = TIFFWriteScanline(tif, p + (size_t)y * w * isz, y, 0) >= 0;
		}
		ok = ok && TIFFWriteDirectory(tif);
	}
	TIFFClose(tif);
	free(data);
	return ok ? 0 : 1;
}

/* concurrent reads: every chunk from NTHREADS threads, then from NPROCS forked processes */
typedef struct {
	scout_array *a;
	const unsigned char *ref;
	size_t nchunks, next_start, step;
	int bad;
} conc;

static int check_chunk(scout_array *a, const unsigned char *ref, size_t c)
{
	int nd = scout_array_ndim(a);
	const int64_t *shape = scout_array_shape(a), *chunks = scout_array_chunks(a);
	size_t isz = scout_dtype_size(scout_array_dtype(a));
	/* chunks of these arrays are (1, Y, X) or the whole 2-D shape */
	int64_t start[3] = {0}, stop[3];
	for (int i = 0; i < nd; i++)
		stop[i] = shape[i];
	if (nd == 3) {
		start[0] = (int64_t)c * chunks[0];
		stop[0] = start[0] + 1;
	}
	size_t plane = isz * (size_t)shape[nd - 1] * (size_t)shape[nd - 2];
	unsigned char *buf = malloc(plane);
	int rc = scout_extract_box(buf, a, start, stop);
	int bad = rc < 0 || memcmp(buf, ref + c * plane, plane) != 0;
	if (rc < 0)
		fprintf(stderr, "error: %d: %s\n", rc, scout_last_error());
	free(buf);
	return bad;
}

static void *conc_thread(void *p)
{
	conc *c = p;
	for (size_t i = c->next_start; i < c->nchunks; i += c->step)
		if (check_chunk(c->a, c->ref, i))
			c->bad = 1;
	return NULL;
}

static int cmd_concurrent(const char *path, int nthreads, int nprocs)
{
	scout_array *a;
	int rc = scout_array_open(&a, path, SCOUT_MODE_READ);
	if (rc < 0)
		return fail(rc);
	int nd = scout_array_ndim(a);
	size_t nchunks = nd == 3 ? (size_t)scout_array_shape(a)[0] : 1;
	unsigned char *ref = malloc(scout_array_nbytes(a));
	int64_t zero[3] = {0};
	rc = scout_extract_box(ref, a, zero, scout_array_shape(a));
	if (rc < 0)
		return fail(rc);
	int bad = 0;
	pthread_t th[64];
	conc cs[64];
	if (nthreads > 64)
		nthreads = 64;
	for (int round = 0; round < 3; round++) {
		for (int t = 0; t < nthreads; t++) {
			cs[t] = (conc){a,
				       ref,
				       nchunks,
				       (size_t)t % (nchunks ? nchunks : 1),
				       (size_t)(t % 2 ? 1 : 2),
				       0};
			pthread_create(&th[t], NULL, conc_thread, &cs[t]);
		}
		for (int t = 0; t < nthreads; t++) {
			pthread_join(th[t], NULL);
			bad |= cs[t].bad;
		}
	}
	for (int p = 0; p < nprocs; p++) {
		pid_t pid = fork();
		if (pid == 0) {
			int b = 0;
			for (size_t i = (size_t)p; i < nchunks; i += (size_t)nprocs)
				b |= check_chunk(a, ref, i);
			_exit(b ? 3 : 0);
		}
	}
	for (int p = 0; p < nprocs; p++) {
		int st;
		if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			bad = 1;
	}
	free(ref);
	scout_array_free(a);
	printf("%s\n", bad ? "MISMATCH" : "OK");
	return bad;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "info") == 0)
		return cmd_info(argv[2]);
	if (argc >= 4 && strcmp(argv[1], "read") == 0) {
		int rc = cmd_info(argv[2]);
		return rc ? rc : cmd_box(argv[2], NULL, NULL, argv[3]);
	}
	if (argc >= 6 && strcmp(argv[1], "box") == 0)
		return cmd_box(argv[2], argv[3], argv[4], argv[5]);
	if (argc >= 6 && strcmp(argv[1], "write") == 0)
		return cmd_write(argc, argv);
	if (argc >= 7 && strcmp(argv[1], "libtiff") == 0)
		return cmd_libtiff(argc, argv);
	if (argc >= 5 && strcmp(argv[1], "concurrent") == 0)
		return cmd_concurrent(argv[2], atoi(argv[3]), atoi(argv[4]));
	fprintf(stderr, "usage: see the comment at the top of tiff_tool.c\n");
	return 2;
}
