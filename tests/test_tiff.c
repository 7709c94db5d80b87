/*
 * TIFF backend and writer, in C: round trips of every dtype against values
 * computed by formula, stacks read across slices, reads from many threads and
 * forked processes, the read-only contract, header sniffing and error paths.
 * (Comparisons against tifffile/numpy are in tests/py/test_tiff.py.)
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <tiffio.h>
#include <unistd.h>

#include "check.h"
#include "array/tiff_array.h"

static char tmpdir[64];

static const char *S(const char *s)
{
	return s;
}

static void rm_rf(const char *path)
{
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
	if (system(cmd) != 0)
		fprintf(stderr, "warning: cannot remove %s\n", path);
}

/* element i of a test pattern of dtype d, written to dst (distinct bytes in every position) */
static void pattern(void *dst, scout_dtype d, size_t i, unsigned seed)
{
	uint64_t v = (uint64_t)i * 0x9E3779B97F4A7C15ull + seed * 0x100000001B3ull;
	v ^= v >> 29;
	switch (d) {
	case SCOUT_BOOL:
		*(uint8_t *)dst = (uint8_t)(v & 1);
		break;
	case SCOUT_FLOAT32: {
		float f = (float)((int64_t)(v % 2000001) - 1000000) / 7.0f;
		memcpy(dst, &f, 4);
		break;
	}
	case SCOUT_FLOAT64: {
		double f = (double)((int64_t)(v % 2000000001) - 1000000000) / 13.0;
		memcpy(dst, &f, 8);
		break;
	}
	default:
		memcpy(dst, &v, scout_dtype_size(d)); /* low bytes on little-endian hosts */
		break;
	}
}

static scout_array *make_array(int ndim, const int64_t *shape, scout_dtype d, unsigned seed)
{
	scout_array *a = NULL;
	if (scout_array_new(&a, ndim, shape, d) < 0)
		return NULL;
	size_t isz = scout_dtype_size(d), n = scout_array_nbytes(a) / isz;
	char *p = scout_array_data(a);
	for (size_t i = 0; i < n; i++)
		pattern(p + i * isz, d, i, seed);
	return a;
}

static void test_roundtrip(void)
{
	scout_dtype dts[] = {SCOUT_UINT8,   SCOUT_UINT16,  SCOUT_UINT32, SCOUT_UINT64,
			     SCOUT_INT8,    SCOUT_INT16,   SCOUT_INT32,  SCOUT_INT64,
			     SCOUT_FLOAT32, SCOUT_FLOAT64, SCOUT_BOOL};
	scout_tiff_compression comps[] = {SCOUT_TIFF_NONE, SCOUT_TIFF_DEFLATE, SCOUT_TIFF_ZSTD};
	char path[200];
	snprintf(path, sizeof path, "%s/rt.tif", tmpdir);
	for (size_t di = 0; di < sizeof dts / sizeof dts[0]; di++) {
		for (int nd = 2; nd <= 3; nd++) {
			/* 3-D: rows wide enough for several 256 KiB strips per page */
			int64_t shape3[3] = {3, 300, 129}, shape2[2] = {1100, 257};
			const int64_t *shape = nd == 3 ? shape3 : shape2;
			scout_array *a = make_array(nd, shape, dts[di], (unsigned)di + 1);
			CHECK(a != NULL);
			if (!a)
				continue;
			scout_tiff_write_options o = SCOUT_TIFF_WRITE_OPTIONS_INIT;
			o.compression = comps[(di + (size_t)nd) % 3];
			o.bigtiff = (int)(di % 2);
			CHECK_OK(scout_tiff_write(path, a, &o));
			scout_array *t = NULL;
			CHECK_OK(scout_array_open(&t, path, SCOUT_MODE_READ));
			if (!t) {
				scout_array_free(a);
				continue;
			}
			scout_dtype want = dts[di] == SCOUT_BOOL ? SCOUT_UINT8 : dts[di];
			CHECK(strcmp(scout_array_kind(t), "tiff") == 0);
			CHECK(scout_array_dtype(t) == want);
			CHECK(scout_array_ndim(t) == nd);
			for (int i = 0; i < nd; i++)
				CHECK(scout_array_shape(t)[i] == shape[i]);
			CHECK(scout_array_chunks(t)[0] == (nd == 3 ? 1 : shape[0]));
			CHECK(!scout_array_writable(t));
			CHECK(scout_array_data(t) == NULL);
			size_t nb = scout_array_nbytes(t);
			char *buf = malloc(nb);
			int64_t zero[3] = {0};
			CHECK_OK(scout_extract_box(buf, t, zero, shape));
			CHECK(memcmp(buf, scout_array_data(a), nb) == 0);
			/* an inner box: partial strips, partial width */
			int64_t s[3], e[3];
			for (int i = 0; i < nd; i++) {
				s[i] = shape[i] / 3;
				e[i] = shape[i] - shape[i] / 4;
			}
			size_t isz = scout_dtype_size(want), cnt = 1;
			for (int i = 0; i < nd; i++)
				cnt *= (size_t)(e[i] - s[i]);
			char *box = malloc(cnt * isz), *ref = malloc(cnt * isz);
			CHECK_OK(scout_extract_box(box, t, s, e));
			CHECK_OK(scout_extract_box(ref, a, s, e));
			CHECK(memcmp(box, ref, cnt * isz) == 0);
			free(box);
			free(ref);
			free(buf);
			/* read-only */
			CHECK_ERR(scout_insert_box(t, zero, shape, scout_array_data(a)),
				  SCOUT_EREADONLY, NULL);
			scout_array_free(t);
			scout_array_free(a);
		}
	}
	/* no temporary file left beside the target */
	scout_strlist *l = NULL;
	CHECK_OK(scout_files_in_dir(&l, tmpdir));
	CHECK(scout_strlist_count(l) == 1);
	scout_strlist_free(l);
	unlink(path);
}

/* a folder of slices: slice z holds the pattern with seed z */
static void write_stack(const char *dir, int n, int64_t h, int64_t w, scout_dtype d)
{
	mkdir(dir, 0700);
	for (int z = 0; z < n; z++) {
		int64_t shape[2] = {h, w};
		scout_array *a = make_array(2, shape, d, (unsigned)z + 100);
		char p[300];
		snprintf(p, sizeof p, "%s/slice_%03d.tif", dir, z);
		scout_tiff_write_options o = SCOUT_TIFF_WRITE_OPTIONS_INIT;
		o.compression = z % 2 ? SCOUT_TIFF_DEFLATE : SCOUT_TIFF_NONE;
		CHECK_OK(scout_tiff_write(p, a, &o));
		scout_array_free(a);
	}
}

typedef struct {
	scout_array *stack;
	int first, step, n;
	int64_t h, w;
	int bad;
} reader;

/* read every slice z = first, first + step, ... and compare with its pattern */
static void *read_slices(void *p)
{
	reader *r = p;
	size_t plane = (size_t)(r->h * r->w) * 2;
	uint16_t *buf = malloc(plane), *ref = malloc(plane);
	for (int rep = 0; rep < 3; rep++)
		for (int z = r->first; z < r->n; z += r->step) {
			int64_t s[3] = {z, 0, 0}, e[3] = {z + 1, r->h, r->w};
			if (scout_extract_box(buf, r->stack, s, e) < 0) {
				r->bad = 1;
				continue;
			}
			for (size_t i = 0; i < (size_t)(r->h * r->w); i++)
				pattern(&ref[i], SCOUT_UINT16, i, (unsigned)z + 100);
			if (memcmp(buf, ref, plane) != 0)
				r->bad = 1;
		}
	free(buf);
	free(ref);
	return NULL;
}

static void test_stack(void)
{
	char dir[128];
	snprintf(dir, sizeof dir, "%s/stack", tmpdir);
	const int n = 9;
	const int64_t h = 70, w = 45;
	write_stack(dir, n, h, w, SCOUT_UINT16);
	scout_array *s = NULL;
	CHECK_OK(scout_array_open(&s, dir, SCOUT_MODE_READ));
	if (!s)
		return;
	CHECK(strcmp(scout_array_kind(s), "tiff-stack") == 0);
	CHECK(scout_array_ndim(s) == 3);
	CHECK(scout_array_shape(s)[0] == n && scout_array_shape(s)[1] == h &&
	      scout_array_shape(s)[2] == w);
	CHECK(scout_array_chunks(s)[0] == 1 && scout_array_chunks(s)[1] == h &&
	      scout_array_chunks(s)[2] == w);
	CHECK(scout_array_dtype(s) == SCOUT_UINT16);
	CHECK(!scout_array_writable(s));

	/* a box across slices 2..6 */
	int64_t b0[3] = {2, 11, 5}, b1[3] = {7, 60, 44};
	size_t cnt = 5 * 49 * 39;
	uint16_t *box = malloc(cnt * 2);
	CHECK_OK(scout_extract_box(box, s, b0, b1));
	int ok = 1;
	for (int64_t z = b0[0]; z < b1[0]; z++)
		for (int64_t y = b0[1]; y < b1[1]; y++)
			for (int64_t x = b0[2]; x < b1[2]; x++) {
				uint16_t v;
				pattern(&v, SCOUT_UINT16, (size_t)(y * w + x), (unsigned)z + 100);
				size_t k =
				    (size_t)(((z - b0[0]) * 49 + (y - b0[1])) * 39 + (x - b0[2]));
				ok &= box[k] == v;
			}
	CHECK(ok);
	free(box);

	/* the same slices from 4 threads at once */
	pthread_t th[4];
	reader rs[4];
	for (int t = 0; t < 4; t++) {
		rs[t] = (reader){s, t % 3, 1 + t % 2, n, h, w, 0};
		pthread_create(&th[t], NULL, read_slices, &rs[t]);
	}
	for (int t = 0; t < 4; t++) {
		pthread_join(th[t], NULL);
		CHECK(!rs[t].bad);
	}
	/* and from forked processes (the handle was used before the fork) */
	pid_t pids[3];
	for (int p = 0; p < 3; p++) {
		pids[p] = fork();
		if (pids[p] == 0) {
			reader r = {s, p, 3, n, h, w, 0};
			read_slices(&r);
			_exit(r.bad ? 3 : 0);
		}
	}
	for (int p = 0; p < 3; p++) {
		int st = 0;
		CHECK(waitpid(pids[p], &st, 0) == pids[p] && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}

	/* a slice of another shape, added after opening: reading it names the file */
	char bad[300];
	snprintf(bad, sizeof bad, "%s/slice_%03d.tif", dir, 4);
	int64_t other[2] = {h, w + 1};
	scout_array *o = make_array(2, other, SCOUT_UINT16, 1);
	CHECK_OK(scout_tiff_write(bad, o, NULL));
	scout_array_free(o);
	uint16_t *plane = malloc((size_t)(h * w) * 2);
	int64_t p0[3] = {4, 0, 0}, p1[3] = {5, h, w};
	CHECK_ERR(scout_extract_box(plane, s, p0, p1), SCOUT_EFORMAT, S(bad));
	CHECK_ERR(scout_extract_box(plane, s, p0, p1), SCOUT_EFORMAT, "slice_000.tif");
	int64_t q0[3] = {3, 0, 0}, q1[3] = {4, h, w};
	CHECK_OK(scout_extract_box(plane, s, q0, q1)); /* its neighbours still read */
	free(plane);
	scout_array_free(s);

	/* a stack cannot be opened for writing */
	CHECK_ERR(scout_array_open(&s, dir, SCOUT_MODE_READ | SCOUT_MODE_WRITE), SCOUT_EREADONLY,
		  S(dir));
	CHECK(s == NULL);
	rm_rf(dir);
}

static void write_bytes(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (f) {
		fwrite(data, 1, n, f);
		fclose(f);
	}
}

static void test_sniff_and_errors(void)
{
	char p[200];
	snprintf(p, sizeof p, "%s/h.bin", tmpdir);
	struct {
		const char *bytes;
		int is_tiff;
	} hdr[] = {{"II*\0", 1}, {"MM\0*", 1}, {"II+\0", 1},  {"MM\0+", 1},
		   {"II\0*", 0}, {"MM*\0", 0}, {"PK\3\4", 0}, {"II*", 0}};
	for (size_t i = 0; i < sizeof hdr / sizeof hdr[0]; i++) {
		write_bytes(p, hdr[i].bytes, i == 7 ? 3 : 4);
		CHECK(scout__is_tiff_file(p) == hdr[i].is_tiff);
	}
	CHECK(scout__is_tiff_file(tmpdir) == 0);
	CHECK(scout__is_tiff_file("/nonexistent/x.tif") == 0);

	/* a header and nothing else: libtiff's complaint is in the message, not on stderr */
	write_bytes(p, "II*\0\x08\0\0\0", 8);
	scout_array *a = NULL;
	CHECK_ERR(scout_array_open(&a, p, SCOUT_MODE_READ), SCOUT_EFORMAT, S(p));
	CHECK(a == NULL);
	CHECK_ERR(scout__tiff_open(&a, p, SCOUT_MODE_READ), SCOUT_EFORMAT, "libtiff");
	/* not a TIFF at all, through the backend directly */
	write_bytes(p, "hello", 5);
	CHECK_ERR(scout__tiff_open(&a, p, SCOUT_MODE_READ), SCOUT_EFORMAT, S(p));
	unlink(p);
	CHECK_ERR(scout__tiff_open(&a, p, SCOUT_MODE_READ), SCOUT_ENOTFOUND, S(p));

	/* an RGB image written by libtiff */
	snprintf(p, sizeof p, "%s/rgb.tif", tmpdir);
	TIFF *tif = TIFFOpen(p, "w");
	CHECK(tif != NULL);
	if (tif) {
		unsigned char row[8 * 3] = {0};
		TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, 8);
		TIFFSetField(tif, TIFFTAG_IMAGELENGTH, 4);
		TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 3);
		TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 8);
		TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_RGB);
		TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
		for (uint32_t y = 0; y < 4; y++)
			TIFFWriteScanline(tif, row, y, 0);
		TIFFClose(tif);
		CHECK_ERR(scout_array_open(&a, p, SCOUT_MODE_READ), SCOUT_EFORMAT,
			  "3 samples per pixel (RGB)");
		CHECK_ERR(scout_array_open(&a, p, SCOUT_MODE_READ), SCOUT_EFORMAT, S(p));
	}

	/* an empty folder */
	char d[160];
	snprintf(d, sizeof d, "%s/empty", tmpdir);
	mkdir(d, 0700);
	CHECK_ERR(scout_array_open(&a, d, SCOUT_MODE_READ), SCOUT_EFORMAT, S(d));
	CHECK_ERR(scout_array_open(&a, d, SCOUT_MODE_READ), SCOUT_EFORMAT, "no .tif/.tiff");
	rmdir(d);

	/* writer argument errors */
	int64_t s1[1] = {5}, s4[4] = {2, 2, 2, 2}, s2[2] = {3, 4}, s0[2] = {0, 4};
	scout_array *x = NULL;
	snprintf(p, sizeof p, "%s/w.tif", tmpdir);
	CHECK_OK(scout_array_new(&x, 1, s1, SCOUT_UINT8));
	CHECK_ERR(scout_tiff_write(p, x, NULL), SCOUT_EINVAL, "1-D");
	scout_array_free(x);
	CHECK_OK(scout_array_new(&x, 4, s4, SCOUT_UINT8));
	CHECK_ERR(scout_tiff_write(p, x, NULL), SCOUT_EINVAL, "4-D");
	scout_array_free(x);
	CHECK_OK(scout_array_new(&x, 2, s0, SCOUT_UINT8));
	CHECK_ERR(scout_tiff_write(p, x, NULL), SCOUT_EINVAL, S(p));
	scout_array_free(x);
	CHECK_OK(scout_array_new(&x, 2, s2, SCOUT_COMPLEX64));
	CHECK_ERR(scout_tiff_write(p, x, NULL), SCOUT_EUNSUPPORTED, "complex64");
	scout_array_free(x);
	CHECK_OK(scout_array_new(&x, 2, s2, SCOUT_UINT16));
	scout_tiff_write_options o = SCOUT_TIFF_WRITE_OPTIONS_INIT;
	o.version = 99;
	CHECK_ERR(scout_tiff_write(p, x, &o), SCOUT_EINVAL, "version");
	o = (scout_tiff_write_options)SCOUT_TIFF_WRITE_OPTIONS_INIT;
	o.compression = (scout_tiff_compression)7;
	CHECK_ERR(scout_tiff_write(p, x, &o), SCOUT_EINVAL, "compression");
	CHECK_ERR(scout_tiff_write(NULL, x, NULL), SCOUT_EINVAL, NULL);
	char nodir[220];
	snprintf(nodir, sizeof nodir, "%s/nodir/w.tif", tmpdir);
	CHECK_ERR(scout_tiff_write(nodir, x, NULL), SCOUT_ENOTFOUND, S(nodir));
	/* a write over an existing file replaces it whole */
	CHECK_OK(scout_tiff_write(p, x, NULL));
	scout_array_free(x);
	CHECK(access(p, F_OK) == 0);
	unlink(p);
	snprintf(p, sizeof p, "%s/rgb.tif", tmpdir);
	unlink(p);
}

int main(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/scout_tiff_XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	test_roundtrip();
	test_stack();
	test_sniff_and_errors();
	rm_rf(tmpdir);
	return check_summary();
}
