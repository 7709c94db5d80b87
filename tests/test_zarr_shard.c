/*
 * Sharded Zarr v3 arrays through the array API (src/array/zarr_shard.c):
 * round trips of values given by a formula (never by scout) across dtypes,
 * inner codec chains, index locations, shapes that are not multiples of the
 * shard or the inner chunk, writes by random unaligned boxes, whole shards,
 * fill-only regions; the two grids (scout_array_chunks() is the inner chunk,
 * scout_array_write_chunks() the shard); reads through the cache after other
 * handles rewrite shards; stored sizes worked out by hand for an uncompressed
 * chain; and a failed shard write (fault hook) leaving the old shard and no
 * temporary file.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "scout/scout.h"
#include "store/store.h"

static char tmpdir[256];

/* value of voxel (z, y, x) in generation g: fits every dtype used here */
static double value(int64_t z, int64_t y, int64_t x, int g)
{
	return (double)((z * 7 + y * 3 + x * 5 + g * 11) % 120 + 1);
}

static void put(void *p, size_t i, const char *dt, double v)
{
	if (strcmp(dt, "<u2") == 0 || strcmp(dt, ">u2") == 0)
		((uint16_t *)p)[i] = (uint16_t)v;
	else if (strcmp(dt, "<f8") == 0)
		((double *)p)[i] = v;
	else if (strcmp(dt, "|i1") == 0)
		((int8_t *)p)[i] = (int8_t)v;
	else
		((int32_t *)p)[i] = (int32_t)v;
}

static double get(const void *p, size_t i, const char *dt)
{
	if (strcmp(dt, "<u2") == 0 || strcmp(dt, ">u2") == 0)
		return ((const uint16_t *)p)[i];
	if (strcmp(dt, "<f8") == 0)
		return ((const double *)p)[i];
	if (strcmp(dt, "|i1") == 0)
		return ((const int8_t *)p)[i];
	return ((const int32_t *)p)[i];
}

static size_t isz_of(const char *dt)
{
	return strcmp(dt, "<f8") == 0 ? 8 : strcmp(dt, "|i1") == 0 ? 1 : dt[2] == '4' ? 4 : 2;
}

/* fill box [a, b) of buf (shape bs at origin a) with generation g (or 0 when g < 0) */
static void gen_box(void *buf, const char *dt, const int64_t *a, const int64_t *b, int g)
{
	size_t i = 0;
	for (int64_t z = a[0]; z < b[0]; z++)
		for (int64_t y = a[1]; y < b[1]; y++)
			for (int64_t x = a[2]; x < b[2]; x++)
				put(buf, i++, dt, g < 0 ? 0 : value(z, y, x, g));
}

typedef struct {
	const char *dtype;
	int64_t shape[3], shard[3], inner[3];
	const char *inner_codecs; /* JSON list */
	const char *index_codecs;
	const char *location;
} cfg;

static const cfg cases[] = {
    {"<u2",
     {13, 17, 9},
     {8, 8, 4},
     {4, 4, 2},
     "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},{\"name\":\"zstd\","
     "\"configuration\":{\"level\":0,\"checksum\":false}}]",
     "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},{\"name\":\"crc32c\"}]",
     "end"},
    {">u2",
     {10, 12, 14},
     {10, 6, 7},
     {5, 3, 7},
     "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"big\"}},{\"name\":\"gzip\","
     "\"configuration\":{\"level\":1}}]",
     "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"big\"}}]",
     "start"},
    {"<f8",
     {9, 9, 9},
     {4, 4, 4},
     {2, 2, 2},
     "[{\"name\":\"transpose\",\"configuration\":{\"order\":[2,1,0]}},{\"name\":\"bytes\","
     "\"configuration\":{\"endian\":\"little\"}},{\"name\":\"blosc\",\"configuration\":{"
     "\"cname\":\"lz4\",\"clevel\":5,\"shuffle\":\"shuffle\",\"typesize\":8,\"blocksize\":0}}]",
     "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},{\"name\":\"crc32c\"}]",
     "start"},
    {"|i1",
     {7, 16, 5},
     {7, 8, 5},
     {7, 4, 5},
     "[{\"name\":\"bytes\"}]",
     "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}]",
     "end"},
    /* nested: shards of 4x4x4 inner shards of 2x2x2 chunks */
    {"<i4",
     {8, 12, 10},
     {8, 8, 8},
     {4, 4, 4},
     "[{\"name\":\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[2,2,2],\"codecs\":[{"
     "\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},{\"name\":\"crc32c\"}],"
     "\"index_codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}],"
     "\"index_location\":\"start\"}}]",
     "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},{\"name\":\"crc32c\"}]",
     "end"},
};

static int create(scout_array **out, const char *path, const cfg *c)
{
	char codecs[2048];
	snprintf(
	    codecs, sizeof codecs,
	    "[{\"name\":\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[%lld,%lld,%lld],"
	    "\"codecs\":%s,\"index_codecs\":%s,\"index_location\":\"%s\"}}]",
	    (long long)c->inner[0], (long long)c->inner[1], (long long)c->inner[2], c->inner_codecs,
	    c->index_codecs, c->location);
	scout_zarr_options o = SCOUT_ZARR_OPTIONS_INIT;
	o.ndim = 3;
	memcpy(o.shape, c->shape, sizeof o.shape[0] * 3);
	memcpy(o.chunks, c->shard, sizeof o.chunks[0] * 3);
	o.dtype = c->dtype;
	o.zarr_format = 3;
	o.codecs = codecs;
	o.overwrite = 1;
	return scout_zarr_create(out, path, &o);
}

static unsigned rnd(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 8) & 0xffffff;
}

/* compare the whole array with generation g in [lo, hi) and 0 elsewhere */
static int check_all(scout_array *a, const cfg *c, int g, const int64_t *lo, const int64_t *hi)
{
	size_t isz = isz_of(c->dtype), n = (size_t)(c->shape[0] * c->shape[1] * c->shape[2]);
	void *buf = malloc(n * isz);
	int64_t zero[3] = {0, 0, 0};
	int bad = 0;
	if (scout_extract_box(buf, a, zero, c->shape) != SCOUT_OK) {
		fprintf(stderr, "extract: %s\n", scout_last_error());
		free(buf);
		return -1;
	}
	size_t i = 0;
	for (int64_t z = 0; z < c->shape[0]; z++)
		for (int64_t y = 0; y < c->shape[1]; y++)
			for (int64_t x = 0; x < c->shape[2]; x++, i++) {
				int in = z >= lo[0] && z < hi[0] && y >= lo[1] && y < hi[1] &&
					 x >= lo[2] && x < hi[2];
				double want = in ? value(z, y, x, g) : 0;
				if (get(buf, i, c->dtype) != want)
					bad++;
			}
	free(buf);
	return bad;
}

static void test_round_trip(const cfg *c, int n)
{
	char path[512];
	snprintf(path, sizeof path, "%s/rt%d", tmpdir, n);
	scout_array *a = NULL;
	CHECK_OK(create(&a, path, c));
	if (!a)
		return;
	const int64_t *ch = scout_array_chunks(a), *wc = scout_array_write_chunks(a);
	for (int i = 0; i < 3; i++) {
		CHECK(ch[i] == c->inner[i]);
		CHECK(wc[i] == c->shard[i]);
	}
	size_t isz = isz_of(c->dtype);
	int64_t zero[3] = {0, 0, 0};
	/* nothing written: all fill */
	CHECK(check_all(a, c, 0, zero, zero) == 0);
	/* generation 1 by random unaligned boxes tiling the array */
	unsigned seed = 77u + (unsigned)n;
	int64_t cut[3][8];
	int ncut[3];
	for (int d = 0; d < 3; d++) {
		ncut[d] = 0;
		cut[d][ncut[d]++] = 0;
		int64_t p = 0;
		while (p < c->shape[d]) {
			p += 1 + rnd(&seed) % (unsigned)(c->shard[d] + 2);
			if (p > c->shape[d] || ncut[d] == 7)
				p = c->shape[d];
			cut[d][ncut[d]++] = p;
		}
	}
	for (int i = 0; i + 1 < ncut[0]; i++)
		for (int j = 0; j + 1 < ncut[1]; j++)
			for (int k = 0; k + 1 < ncut[2]; k++) {
				int64_t a0[3] = {cut[0][i], cut[1][j], cut[2][k]};
				int64_t b0[3] = {cut[0][i + 1], cut[1][j + 1], cut[2][k + 1]};
				size_t cnt =
				    (size_t)((b0[0] - a0[0]) * (b0[1] - a0[1]) * (b0[2] - a0[2]));
				void *buf = malloc(cnt * isz);
				gen_box(buf, c->dtype, a0, b0, 1);
				CHECK_OK(scout_insert_box(a, a0, b0, buf));
				free(buf);
			}
	CHECK(check_all(a, c, 1, zero, c->shape) == 0);
	/* a second handle sees the same; random boxes read back */
	scout_array *b = NULL;
	CHECK_OK(scout_array_open(&b, path, SCOUT_MODE_READ | SCOUT_MODE_WRITE));
	if (b) {
		CHECK(check_all(b, c, 1, zero, c->shape) == 0);
		for (int r = 0; r < 20; r++) {
			int64_t a0[3], b0[3];
			for (int d = 0; d < 3; d++) {
				a0[d] = rnd(&seed) % (unsigned)c->shape[d];
				b0[d] = a0[d] + 1 + rnd(&seed) % (unsigned)(c->shape[d] - a0[d]);
			}
			size_t cnt = (size_t)((b0[0] - a0[0]) * (b0[1] - a0[1]) * (b0[2] - a0[2]));
			void *buf = malloc(cnt * isz), *want = malloc(cnt * isz);
			gen_box(want, c->dtype, a0, b0, 1);
			CHECK_OK(scout_extract_box(buf, b, a0, b0));
			CHECK(memcmp(buf, want, cnt * isz) == 0);
			free(buf);
			free(want);
		}
		/* the other handle rewrites everything (generation 2) whole; a's cache must notice
		 */
		size_t all = (size_t)(c->shape[0] * c->shape[1] * c->shape[2]);
		void *buf = malloc(all * isz);
		gen_box(buf, c->dtype, zero, c->shape, 2);
		CHECK_OK(scout_insert_box(b, zero, c->shape, buf));
		free(buf);
		CHECK(check_all(a, c, 2, zero, c->shape) == 0);
		/* zeros over a region: its fill-only inner chunks are dropped, values stay right */
		int64_t z0[3] = {0, 0, 0}, z1[3] = {c->shape[0] / 2 + 1, c->shape[1], c->shape[2]};
		size_t cnt = (size_t)(z1[0] * z1[1] * z1[2]);
		buf = calloc(cnt, isz);
		CHECK_OK(scout_insert_box(b, z0, z1, buf));
		free(buf);
		int64_t lo[3] = {z1[0], 0, 0};
		CHECK(check_all(a, c, 2, lo, c->shape) == 0);
		scout_array_free(b);
	}
	scout_array_free(a);
}

/* bytes only, index at the end: stored sizes worked out by hand */
static void test_sizes(void)
{
	char path[512];
	snprintf(path, sizeof path, "%s/sizes", tmpdir);
	cfg c = {"<u2",
		 {4, 4, 4},
		 {4, 4, 4},
		 {2, 2, 2},
		 "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}]",
		 "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},{\"name\":"
		 "\"crc32c\"}]",
		 "end"};
	scout_array *a = NULL;
	CHECK_OK(create(&a, path, &c));
	if (!a)
		return;
	/* one voxel in inner chunk (1, 0, 1): one inner chunk of 2*2*2*2 bytes + 8*16+4 index */
	int64_t p0[3] = {2, 1, 3}, p1[3] = {3, 2, 4};
	uint16_t v = 9;
	CHECK_OK(scout_insert_box(a, p0, p1, &v));
	char f[600];
	snprintf(f, sizeof f, "%s/c/0/0/0", path);
	struct stat sb;
	CHECK(stat(f, &sb) == 0 && sb.st_size == 16 + 132);
	/* the inner chunk's bytes come first: voxel (0, 1, 1) of it is element 3 */
	FILE *fp = fopen(f, "rb");
	unsigned char s[148] = {0};
	if (fp) {
		CHECK(fread(s, 1, sizeof s, fp) == sizeof s);
		fclose(fp);
	}
	CHECK(s[6] == 9 && s[7] == 0);
	/* pair 5 = inner chunk (1, 0, 1): (0, 16) */
	CHECK(s[16 + 5 * 16] == 0 && s[16 + 5 * 16 + 8] == 16);
	CHECK(s[16] == 0xff && s[16 + 15] == 0xff);
	/* back to fill: the shard holds its index alone */
	v = 0;
	CHECK_OK(scout_insert_box(a, p0, p1, &v));
	CHECK(stat(f, &sb) == 0 && sb.st_size == 132);
	scout_array_free(a);
}

static int count_tmp(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;
	if (!d)
		return 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += strstr(e->d_name, "scout-tmp") != NULL;
	closedir(d);
	return n;
}

/* a failed write or rename of a shard leaves the old shard and no temporary file */
static void test_fault(void)
{
	char path[512];
	snprintf(path, sizeof path, "%s/fault", tmpdir);
	cfg c = cases[0];
	scout_array *a = NULL;
	CHECK_OK(create(&a, path, &c));
	if (!a)
		return;
	int64_t zero[3] = {0, 0, 0};
	size_t all = (size_t)(c.shape[0] * c.shape[1] * c.shape[2]);
	void *buf = malloc(all * 2);
	gen_box(buf, c.dtype, zero, c.shape, 1);
	CHECK_OK(scout_insert_box(a, zero, c.shape, buf));
	char dir[600];
	snprintf(dir, sizeof dir, "%s/c/0/0", path);
	scout_store_fault_op ops[3] = {SCOUT_STORE_FAULT_WRITE, SCOUT_STORE_FAULT_RENAME,
				       SCOUT_STORE_FAULT_OPEN_TMP};
	for (int k = 0; k < 3; k++) {
		/* a partial box of shard (0, 0, 0): read-modify-write, the write fails */
		int64_t a0[3] = {1, 1, 1}, b0[3] = {3, 3, 3};
		uint16_t small[8];
		for (int i = 0; i < 8; i++)
			small[i] = 999;
		CHECK_OK(scout__store_fault_set(ops[k], 1, k == 0 ? 28 /* ENOSPC */ : 5 /* EIO */,
						k == 0 ? SCOUT_STORE_FAULT_SHORT : 0));
		CHECK_ERR(scout_insert_box(a, a0, b0, small), SCOUT_EIO, "shard c/0/0/0");
		scout__store_fault_clear();
		CHECK(count_tmp(dir) == 0);
		CHECK(check_all(a, &c, 1, zero, c.shape) == 0);
	}
	free(buf);
	scout_array_free(a);
}

int main(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/scout-test-shard-%d", (int)getpid());
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		test_round_trip(&cases[i], (int)i);
	test_sizes();
	test_fault();
	if (getenv("KEEP")) /* keep the arrays for a look */
		return check_summary();
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
	return check_summary();
}
