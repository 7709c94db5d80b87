/*
 * scout_zarr_copy_box() (src/array/zarr_copy.c): values given by a formula
 * (never by scout) copied from a v2 array with absent chunks into
 *  - a v2 array of the same chunks and codec: every chunk file byte-identical
 *    to the source's, absent ones absent;
 *  - a sharded v3 array whose inner chunks are the source's chunks: the
 *    shards hold the source's bytes (the stored inner-chunk count worked out
 *    by hand: a stored chunk of zeros is left out), values as the formula;
 *  - a v3 array with another codec: values, no raw cell;
 * boxes covering cells in part (raw cells counted by hand), a copy over an
 * array that held other values (absent source chunks make them fill), a
 * corrupt source chunk (an error naming it, the destination cell unchanged;
 * without verification the bytes go through), and the argument errors.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "scout/scout.h"

static char tmpdir[256];
static const int64_t SHAPE[3] = {13, 17, 9}, CHUNKS[3] = {4, 5, 3};
#define NVOX (13 * 17 * 9)

/* generation g of voxel (z, y, x); 0 (the fill value) outside the box written */
static uint16_t value(int64_t z, int64_t y, int64_t x, int g)
{
	return (uint16_t)((z * 7 + y * 3 + x * 5 + g * 11) % 1000 + 1);
}

/* the source writes generation 1 in [WLO, WHI): chunks outside it are never stored */
static const int64_t WLO[3] = {0, 0, 0}, WHI[3] = {9, 12, 9};

static int in_box(int64_t z, int64_t y, int64_t x, const int64_t *lo, const int64_t *hi)
{
	return z >= lo[0] && z < hi[0] && y >= lo[1] && y < hi[1] && x >= lo[2] && x < hi[2];
}

static int create(scout_array **out, const char *name, int fmt, const char *compressor,
		  const int64_t *shards, const char *fill)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	scout_zarr_options o = SCOUT_ZARR_OPTIONS_INIT;
	o.ndim = 3;
	memcpy(o.shape, SHAPE, sizeof SHAPE);
	memcpy(o.chunks, CHUNKS, sizeof CHUNKS);
	o.dtype = "<u2";
	o.compressor = compressor;
	o.zarr_format = fmt;
	o.fill_value = fill;
	o.overwrite = 1;
	if (shards)
		memcpy(o.shards, shards, sizeof o.shards[0] * 3);
	return scout_zarr_create(out, path, &o);
}

/* fill the whole array with generation g in [lo, hi) and 0 elsewhere */
static void write_gen(scout_array *a, int g, const int64_t *lo, const int64_t *hi)
{
	uint16_t *buf =
	    malloc((size_t)(hi[0] - lo[0]) * (size_t)(hi[1] - lo[1]) * (size_t)(hi[2] - lo[2]) * 2);
	size_t i = 0;
	for (int64_t z = lo[0]; z < hi[0]; z++)
		for (int64_t y = lo[1]; y < hi[1]; y++)
			for (int64_t x = lo[2]; x < hi[2]; x++)
				buf[i++] = value(z, y, x, g);
	CHECK_OK(scout_insert_box(a, lo, hi, buf));
	free(buf);
}

/*
 * Voxels of a that differ from: generation 1 inside the source's written box
 * and inside [clo, chi) (the box copied); else generation `old` (0: fill).
 */
static int count_bad(scout_array *a, const int64_t *clo, const int64_t *chi, int old)
{
	uint16_t *buf = malloc(NVOX * 2);
	int64_t zero[3] = {0, 0, 0};
	int bad = 0;
	if (scout_extract_box(buf, a, zero, SHAPE) != SCOUT_OK) {
		fprintf(stderr, "extract: %s\n", scout_last_error());
		free(buf);
		return -1;
	}
	size_t i = 0;
	for (int64_t z = 0; z < SHAPE[0]; z++)
		for (int64_t y = 0; y < SHAPE[1]; y++)
			for (int64_t x = 0; x < SHAPE[2]; x++, i++) {
				uint16_t want;
				if (in_box(z, y, x, clo, chi))
					want = in_box(z, y, x, WLO, WHI) ? value(z, y, x, 1) : 0;
				else
					want = old ? value(z, y, x, old) : 0;
				bad += buf[i] != want;
			}
	free(buf);
	return bad;
}

static int64_t grid(int i)
{
	return (SHAPE[i] + CHUNKS[i] - 1) / CHUNKS[i];
}

/*
 * Copy the whole of src into d, checking that the stored-bytes path applies
 * (or not: raw_possible) and that d then reads as src; the cells copied as
 * stored bytes.
 */
static size_t copy_whole(scout_array *d, scout_array *src, int raw_possible)
{
	size_t raw = 7;
	int64_t zero[3] = {0, 0, 0};
	CHECK(scout_zarr_copy_raw_possible(d, src) == raw_possible);
	CHECK_OK(scout_zarr_copy_box(&raw, d, src, zero, SHAPE, 0));
	CHECK(count_bad(d, zero, SHAPE, 0) == 0);
	return raw;
}

static void test_v2_same_codec(scout_array *src)
{
	scout_array *d = NULL;
	CHECK_OK(create(&d, "v2copy", 2, NULL, NULL, NULL));
	if (!d)
		return;
	/* 4 x 4 x 3 chunks */
	CHECK(copy_whole(d, src, 1) == (size_t)(grid(0) * grid(1) * grid(2)));
	/* every chunk file: the source's bytes, or absent where the source has none */
	int same = 0, absent = 0, wrong = 0;
	for (int64_t z = 0; z < grid(0); z++)
		for (int64_t y = 0; y < grid(1); y++)
			for (int64_t x = 0; x < grid(2); x++) {
				char a[600], b[600];
				size_t na = 0, nb = 0;
				snprintf(a, sizeof a, "%s/src/%lld/%lld/%lld", tmpdir, (long long)z,
					 (long long)y, (long long)x);
				snprintf(b, sizeof b, "%s/v2copy/%lld/%lld/%lld", tmpdir,
					 (long long)z, (long long)y, (long long)x);
				char *pa = test_read_file(a, &na), *pb = test_read_file(b, &nb);
				if (!pa && !pb)
					absent++;
				else if (pa && pb && na == nb && memcmp(pa, pb, na) == 0)
					same++;
				else
					wrong++;
				free(pa);
				free(pb);
			}
	/* written box [0,9) x [0,12) x [0,9): 3 x 3 x 3 chunks stored, and the zeros */
	CHECK(same == 28 && absent == 48 - 28 && wrong == 0);
	scout_array_free(d);
}

static void test_sharded(scout_array *src)
{
	int64_t shards[3] = {8, 10, 6};
	scout_array *d = NULL;
	/* the v2 source's compressor in v3 form: bytes + blosc, the same chain */
	CHECK_OK(create(&d, "sharded", 3, NULL, shards, NULL));
	if (!d)
		return;
	CHECK(copy_whole(d, src, 1) == 2 * 2 * 2); /* the shard grid of 13 x 17 x 9 by 8 x 10 x 6 */
	scout_zarr_shard_info si;
	CHECK_OK(scout_zarr_shard_info_get(&si, d));
	/* 27 of the 28 stored source chunks, in the 8 shards: the one of zeros is not stored */
	CHECK(si.inner_stored == 27);
	CHECK(si.shards_stored == 8);
	/* a box covering shards in part: shard x-cells [0,6) whole, [6,9) from x = 7 on */
	scout_array *e = NULL;
	CHECK_OK(create(&e, "sharded2", 3, NULL, shards, NULL));
	if (e) {
		size_t raw = 7;
		int64_t lo[3] = {0, 0, 7}, hi[3] = {8, 10, 9};
		CHECK_OK(scout_zarr_copy_box(&raw, e, src, lo, hi, 0));
		CHECK(raw == 0); /* the one shard touched is covered in part */
		CHECK(count_bad(e, lo, hi, 0) == 0);
		int64_t lo2[3] = {0, 0, 0}, hi2[3] = {13, 10, 9};
		CHECK_OK(scout_zarr_copy_box(&raw, e, src, lo2, hi2, 0));
		CHECK(raw == 2 * 1 * 2); /* z cells [0,8) [8,13), y cell [0,10), x both */
		CHECK(count_bad(e, lo2, hi2, 0) == 0);
		scout_array_free(e);
	}
	scout_array_free(d);
}

static void test_other_codec_and_fill(scout_array *src)
{
	scout_array *d = NULL;
	CHECK_OK(create(&d, "gzip", 3, "{\"id\":\"gzip\",\"level\":1}", NULL, NULL));
	if (d) {
		CHECK(copy_whole(d, src, 0) == 0);
		scout_array_free(d);
	}
	/* another fill value: absent chunks would read differently, no raw copy */
	CHECK_OK(create(&d, "fill5", 2, NULL, NULL, "5"));
	if (d) {
		CHECK(scout_zarr_copy_raw_possible(d, src) == 0);
		scout_array_free(d);
	}
	/* other chunks */
	scout_zarr_options o = SCOUT_ZARR_OPTIONS_INIT;
	char path[512];
	snprintf(path, sizeof path, "%s/chunks", tmpdir);
	o.ndim = 3;
	memcpy(o.shape, SHAPE, sizeof SHAPE);
	o.chunks[0] = 4, o.chunks[1] = 5, o.chunks[2] = 9;
	o.dtype = "<u2";
	o.overwrite = 1;
	CHECK_OK(scout_zarr_create(&d, path, &o));
	if (d) {
		CHECK(scout_zarr_copy_raw_possible(d, src) == 0);
		scout_array_free(d);
	}
}

static void test_over_old_values(scout_array *src)
{
	/* the destination held generation 2 everywhere: afterwards, absent source chunks
	 * read as fill in the box copied, the rest keeps generation 2 */
	int64_t shards[3] = {8, 10, 6}, zero[3] = {0, 0, 0};
	for (int sharded = 0; sharded < 2; sharded++) {
		scout_array *d = NULL;
		CHECK_OK(create(&d, sharded ? "old3" : "old2", sharded ? 3 : 2, NULL,
				sharded ? shards : NULL, NULL));
		if (!d)
			continue;
		write_gen(d, 2, zero, SHAPE);
		int64_t hi[3] = {13, 17, 6}; /* whole cells in both layouts */
		size_t raw = 0;
		CHECK_OK(scout_zarr_copy_box(&raw, d, src, zero, hi, 0));
		CHECK(raw == (sharded ? 2u * 2 * 1 : 4u * 4 * 2));
		CHECK(count_bad(d, zero, hi, 2) == 0);
		scout_array_free(d);
	}
}

static void test_corrupt_source(scout_array *src)
{
	int64_t zero[3] = {0, 0, 0};
	char path[600];
	snprintf(path, sizeof path, "%s/src/1/1/1", tmpdir);
	FILE *f = fopen(path, "wb");
	fputs("these are not blosc bytes at all, not a chunk", f);
	fclose(f);
	for (int sharded = 0; sharded < 2; sharded++) {
		int64_t shards[3] = {8, 10, 6};
		scout_array *d = NULL;
		CHECK_OK(create(&d, sharded ? "bad3" : "bad2", sharded ? 3 : 2, NULL,
				sharded ? shards : NULL, NULL));
		if (!d)
			continue;
		write_gen(d, 2, zero, SHAPE);
		/* the cell holding source chunk (1,1,1): [4,8) x [5,10) x [3,6) or shard 0 */
		int64_t lo[3] = {4, 5, 3}, hi[3] = {8, 10, 6};
		if (sharded)
			lo[0] = lo[1] = lo[2] = 0;
		CHECK_ERR(scout_zarr_copy_box(NULL, d, src, lo, hi, 0), SCOUT_ECODEC,
			  "chunk 1/1/1");
		CHECK(count_bad(d, zero, zero, 2) == 0); /* nothing copied: all generation 2 */
		/* without verification the stored bytes go through, and reading them fails */
		CHECK_OK(scout_zarr_copy_box(NULL, d, src, lo, hi, SCOUT_ZARR_COPY_NO_VERIFY));
		uint16_t tmp[8 * 10 * 6];
		CHECK(scout_extract_box(tmp, d, lo, hi) == SCOUT_ECODEC);
		scout_array_free(d);
	}
}

static void test_errors(scout_array *src)
{
	int64_t zero[3] = {0, 0, 0}, big[3] = {14, 17, 9};
	scout_array *d = NULL;
	CHECK_ERR(scout_zarr_copy_box(NULL, NULL, src, zero, SHAPE, 0), SCOUT_EINVAL, NULL);
	CHECK(scout_zarr_copy_raw_possible(NULL, src) == 0);
	CHECK_ERR(scout_zarr_copy_box(NULL, src, src, zero, SHAPE, 0), SCOUT_EREADONLY, NULL);
	CHECK_OK(create(&d, "err", 2, NULL, NULL, NULL));
	if (d) {
		CHECK_ERR(scout_zarr_copy_box(NULL, d, src, zero, big, 0), SCOUT_EBOUNDS, NULL);
		scout_array *m = NULL;
		int64_t s2[2] = {13, 17};
		CHECK_OK(scout_array_new(&m, 2, s2, SCOUT_UINT16));
		CHECK_ERR(scout_zarr_copy_box(NULL, d, m, zero, SHAPE, 0), SCOUT_EINVAL, "ndim");
		scout_array_free(m);
		scout_array_free(d);
	}
}

int main(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/scout-test-copy-%d", (int)getpid());
	mkdir(tmpdir, 0755);
	scout_array *w = NULL, *src = NULL;
	CHECK_OK(create(&w, "src", 2, NULL, NULL, NULL)); /* SCOUT's blosc zstd 1 bitshuffle */
	if (!w)
		return check_summary();
	write_gen(w, 1, WLO, WHI);
	/* and a stored chunk of only the fill value: (3, 0, 0), the edge chunk z in [12, 13) */
	int64_t flo[3] = {12, 0, 0}, fhi[3] = {13, 5, 3};
	uint16_t zeros[15] = {0};
	CHECK_OK(scout_insert_box(w, flo, fhi, zeros));
	scout_array_free(w);
	char path[512];
	snprintf(path, sizeof path, "%s/src", tmpdir);
	CHECK_OK(scout_array_open(&src, path, SCOUT_MODE_READ));
	if (src) {
		test_v2_same_codec(src);
		test_sharded(src);
		test_other_codec_and_fill(src);
		test_over_old_values(src);
		test_errors(src);
		test_corrupt_source(src); /* last: it damages the source */
		scout_array_free(src);
	}
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
	return check_summary();
}
