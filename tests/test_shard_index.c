/*
 * Unit tests of the shard index of sharding_indexed (src/codec/shard_index.c):
 * layouts, the index's bytes in both byte orders (checked byte by byte against
 * hand-written encodings), every validation error with its message naming
 * the shard key and the inner chunk, read plans with coalescing (expected
 * ranges worked out by hand), and shard assembly at the start and at the end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "codec/shard_index.h"

#define E SCOUT_SHARD_EMPTY

static void test_layout(void)
{
	scout_shard_layout l;
	int64_t shard[3] = {4, 6, 8}, inner[3] = {2, 3, 8};
	CHECK_OK(scout__shard_layout_init(&l, 3, shard, inner, 0, 0, NULL, "a/zarr.json"));
	CHECK(l.grid[0] == 2 && l.grid[1] == 2 && l.grid[2] == 1);
	CHECK(l.count == 4);
	CHECK(scout__shard_index_nbytes(&l) == 64);
	int64_t c[3];
	scout__shard_inner_coords(c, &l, 3);
	CHECK(c[0] == 1 && c[1] == 1 && c[2] == 0);
	scout__shard_inner_coords(c, &l, 2);
	CHECK(c[0] == 1 && c[1] == 0 && c[2] == 0);

	int64_t bad[3] = {3, 3, 8};
	CHECK_ERR(scout__shard_layout_init(&l, 3, shard, bad, 0, 0, NULL, "a/zarr.json"),
		  SCOUT_EFORMAT, "chunk_shape[0] = 3 does not divide the shard's extent 4");
	int64_t zero[3] = {0, 3, 8};
	CHECK_ERR(scout__shard_layout_init(&l, 3, shard, zero, 0, 0, NULL, "a/zarr.json"),
		  SCOUT_EFORMAT, "a/zarr.json");
	CHECK_ERR(scout__shard_layout_init(&l, 0, shard, inner, 0, 0, NULL, "x"), SCOUT_EFORMAT,
		  "0 dimensions");
	/* 2^31 x 2^31 x 2^31 inner chunks: the index would not fit */
	int64_t huge[3] = {INT64_C(1) << 31, INT64_C(1) << 31, INT64_C(1) << 31},
		one[3] = {1, 1, 1};
	CHECK_ERR(scout__shard_layout_init(&l, 3, huge, one, 0, 0, NULL, "x"), SCOUT_EOVERFLOW,
		  "too many inner chunks");
}

/* a 2 x 2 grid, index at the end unless at_start */
static void layout22(scout_shard_layout *l, int big, int at_start)
{
	int64_t shard[2] = {4, 6}, inner[2] = {2, 3};
	CHECK_OK(scout__shard_layout_init(l, 2, shard, inner, big, at_start, NULL, "t"));
}

static void test_encode_bytes(void)
{
	scout_shard_layout l;
	scout_shard_entry e[4] = {{0, 10}, {E, E}, {10, 0x0102030405060708}, {0x1122, 4}};
	unsigned char buf[64];
	layout22(&l, 0, 0);
	scout__shard_index_encode(buf, e, &l);
	/* little endian: (0, 10) is 0 x 8, then 0a 00 .. 00 */
	static const unsigned char le0[16] = {0, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0};
	CHECK(memcmp(buf, le0, 16) == 0);
	for (int k = 16; k < 32; k++)
		CHECK(buf[k] == 0xff);
	static const unsigned char le2[16] = {10, 0, 0, 0, 0, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1};
	CHECK(memcmp(buf + 32, le2, 16) == 0);
	static const unsigned char le3[16] = {0x22, 0x11, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0};
	CHECK(memcmp(buf + 48, le3, 16) == 0);

	layout22(&l, 1, 0);
	scout__shard_index_encode(buf, e, &l);
	static const unsigned char be2[16] = {0, 0, 0, 0, 0, 0, 0, 10, 1, 2, 3, 4, 5, 6, 7, 8};
	CHECK(memcmp(buf + 32, be2, 16) == 0);
	static const unsigned char be3[16] = {0, 0, 0, 0, 0, 0, 0x11, 0x22, 0, 0, 0, 0, 0, 0, 0, 4};
	CHECK(memcmp(buf + 48, be3, 16) == 0);

	/* decoding big-endian bytes written by hand */
	unsigned char hand[64];
	memset(hand, 0xff, sizeof hand);
	static const unsigned char p0[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5};
	static const unsigned char p3[16] = {0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 7};
	memcpy(hand, p0, 16);
	memcpy(hand + 48, p3, 16);
	scout_shard_entry d[4];
	CHECK_OK(scout__shard_index_decode(d, hand, 64, &l, 12 + 64, UINT64_MAX, "c/0/0"));
	CHECK(d[0].offset == 0 && d[0].nbytes == 5);
	CHECK(d[1].offset == E && d[1].nbytes == E);
	CHECK(d[2].offset == E && d[2].nbytes == E);
	CHECK(d[3].offset == 5 && d[3].nbytes == 7);
	/* the same bytes read as little endian: offset 5 << 56 lies beyond the shard */
	layout22(&l, 0, 0);
	CHECK_ERR(scout__shard_index_decode(d, hand, 64, &l, 12 + 64, UINT64_MAX, "c/0/0"),
		  SCOUT_EFORMAT, "shard c/0/0: inner chunk (0, 0): bytes 0 + 360287970189639680");
}

/* encode entries e for layout l, decode them back for a shard of size bytes */
static int roundtrip(scout_shard_entry *d, const scout_shard_entry *e, const scout_shard_layout *l,
		     uint64_t size, uint64_t max)
{
	unsigned char buf[64];
	scout__shard_index_encode(buf, e, l);
	return scout__shard_index_decode(d, buf, 64, l, size, max, "data/c/1/2");
}

static void test_validation(void)
{
	scout_shard_layout l;
	scout_shard_entry d[4];
	unsigned char buf[64];
	layout22(&l, 0, 0);
	/* chunks at 0..10, 10..15, 15..20, index at 20..84 */
	scout_shard_entry ok[4] = {{0, 10}, {E, E}, {15, 5}, {10, 5}};
	CHECK_OK(roundtrip(d, ok, &l, 84, 10));
	CHECK(memcmp(d, ok, sizeof ok) == 0);
	/* gaps are fine: chunks anywhere before the index */
	scout_shard_entry gaps[4] = {{30, 2}, {E, E}, {E, E}, {3, 4}};
	CHECK_OK(roundtrip(d, gaps, &l, 100, 10));

	scout__shard_index_encode(buf, ok, &l);
	CHECK_ERR(scout__shard_index_decode(d, buf, 64, &l, 63, 10, "data/c/1/2"), SCOUT_EFORMAT,
		  "shard data/c/1/2: truncated: 63 bytes, shorter than its 64-byte index");
	CHECK_ERR(scout__shard_index_decode(d, buf, 48, &l, 84, 10, "data/c/1/2"), SCOUT_EFORMAT,
		  "shard data/c/1/2: index of 48 bytes, 64 required");

	scout_shard_entry half[4] = {{0, 10}, {E, 3}, {15, 5}, {10, 5}};
	CHECK_ERR(
	    roundtrip(d, half, &l, 84, 10), SCOUT_EFORMAT,
	    "shard data/c/1/2: inner chunk (0, 1): offset 18446744073709551615, nbytes 3: half");
	scout_shard_entry far[4] = {{0, 10}, {E, E}, {85, 0}, {10, 5}};
	CHECK_ERR(roundtrip(d, far, &l, 84, 10), SCOUT_EFORMAT,
		  "inner chunk (1, 0): bytes 85 + 0 lie beyond the shard's 84 bytes");
	/* offset + nbytes wraps around 2^64: still beyond */
	scout_shard_entry wrap[4] = {{0, 10}, {E, E}, {15, UINT64_MAX - 10}, {10, 5}};
	CHECK_ERR(roundtrip(d, wrap, &l, 84, UINT64_MAX), SCOUT_EFORMAT,
		  "inner chunk (1, 0): bytes 15 + 18446744073709551605 lie beyond");
	scout_shard_entry big[4] = {{0, 10}, {E, E}, {15, 5}, {10, 5}};
	CHECK_ERR(roundtrip(d, big, &l, 84, 9), SCOUT_EFORMAT,
		  "shard data/c/1/2: inner chunk (0, 0): nbytes 10 exceeds the 9 bytes");
	/* into the index (at 20..84) */
	scout_shard_entry idx[4] = {{0, 10}, {E, E}, {15, 6}, {10, 5}};
	CHECK_ERR(roundtrip(d, idx, &l, 84, 10), SCOUT_EFORMAT,
		  "inner chunk (1, 0): bytes 15 + 6 overlap the index at bytes 20..84");
	/* index at the start: 0..64 */
	layout22(&l, 0, 1);
	scout_shard_entry st[4] = {{64, 10}, {E, E}, {74, 5}, {79, 5}};
	CHECK_OK(roundtrip(d, st, &l, 84, 10));
	scout_shard_entry st_bad[4] = {{64, 10}, {63, 1}, {74, 5}, {79, 5}};
	CHECK_ERR(roundtrip(d, st_bad, &l, 84, 10), SCOUT_EFORMAT,
		  "inner chunk (0, 1): bytes 63 + 1 overlap the index at bytes 0..64");
	/* a 0-byte range inside the index overlaps nothing */
	scout_shard_entry st_zero[4] = {{64, 10}, {10, 0}, {74, 5}, {79, 5}};
	CHECK_OK(roundtrip(d, st_zero, &l, 84, 10));
	layout22(&l, 0, 0);

	/* partial overlap of two chunks */
	scout_shard_entry ov[4] = {{0, 10}, {E, E}, {9, 5}, {15, 5}};
	CHECK_ERR(roundtrip(d, ov, &l, 84, 10), SCOUT_EFORMAT,
		  "inner chunk (1, 0): bytes 9 + 5 overlap those of inner chunk (0, 0) (0 + 10)");
	/* one inside another */
	scout_shard_entry in[4] = {{0, 10}, {E, E}, {2, 3}, {15, 5}};
	CHECK_ERR(roundtrip(d, in, &l, 84, 10), SCOUT_EFORMAT,
		  "inner chunk (1, 0): bytes 2 + 3 overlap those of inner chunk (0, 0)");
	/* overlap with a range that is not the previous one in offset order */
	scout_shard_entry ov2[4] = {{0, 10}, {2, 3}, {E, E}, {8, 4}};
	CHECK_ERR(roundtrip(d, ov2, &l, 84, 10), SCOUT_EFORMAT, "overlap those of");
	/* identical ranges: one stored chunk shared by two inner chunks */
	scout_shard_entry same[4] = {{0, 10}, {E, E}, {0, 10}, {10, 5}};
	CHECK_OK(roundtrip(d, same, &l, 84, 10));
	/* identical, then a third overlapping them */
	scout_shard_entry same3[4] = {{0, 10}, {0, 10}, {5, 10}, {E, E}};
	CHECK_ERR(roundtrip(d, same3, &l, 84, 10), SCOUT_EFORMAT, "inner chunk (1, 0): bytes 5");
	/* touching ranges do not overlap */
	scout_shard_entry touch[4] = {{0, 5}, {5, 5}, {10, 5}, {15, 5}};
	CHECK_OK(roundtrip(d, touch, &l, 84, 10));
}

static void test_plan(void)
{
	/* inner chunk: 0 at 100+10, 1 at 0+50, 2 empty, 3 at 115+5, 4 at 60+20 */
	scout_shard_entry e[5] = {{100, 10}, {0, 50}, {E, E}, {115, 5}, {60, 20}};
	uint64_t want[5] = {0, 3, 4, 2, 0};
	size_t of[5];
	scout_byte_range *r = NULL;
	size_t nr = 0;
	CHECK_OK(scout__shard_plan_reads(&r, &nr, of, e, 5, want, 5, 0));
	CHECK(nr == 3);
	if (nr == 3) {
		CHECK(r[0].offset == 60 && r[0].nbytes == 20);
		CHECK(r[1].offset == 100 && r[1].nbytes == 10);
		CHECK(r[2].offset == 115 && r[2].nbytes == 5);
	}
	CHECK(of[0] == 1 && of[1] == 2 && of[2] == 0 && of[3] == SIZE_MAX && of[4] == 1);
	free(r);
	/* gap 5: 110 -> 115 merges, 80 -> 100 does not */
	CHECK_OK(scout__shard_plan_reads(&r, &nr, of, e, 5, want, 5, 5));
	CHECK(nr == 2);
	if (nr == 2) {
		CHECK(r[0].offset == 60 && r[0].nbytes == 20);
		CHECK(r[1].offset == 100 && r[1].nbytes == 20);
	}
	CHECK(of[0] == 1 && of[1] == 1 && of[2] == 0 && of[3] == SIZE_MAX);
	free(r);
	/* gap 19 still splits at 80 -> 100; gap 20 gives one range 60..120 */
	CHECK_OK(scout__shard_plan_reads(&r, &nr, of, e, 5, want, 5, 19));
	CHECK(nr == 2);
	free(r);
	CHECK_OK(scout__shard_plan_reads(&r, &nr, of, e, 5, want, 5, 20));
	CHECK(nr == 1 && r && r[0].offset == 60 && r[0].nbytes == 60);
	CHECK(of[0] == 0 && of[1] == 0 && of[2] == 0);
	free(r);
	/* touching ranges merge at gap 0; identical ranges too */
	scout_shard_entry t[3] = {{0, 50}, {50, 10}, {0, 50}};
	uint64_t all[3] = {2, 1, 0};
	CHECK_OK(scout__shard_plan_reads(&r, &nr, of, t, 3, all, 3, 0));
	CHECK(nr == 1 && r && r[0].offset == 0 && r[0].nbytes == 60);
	free(r);
	/* only empty chunks: nothing to read */
	uint64_t empty[1] = {2};
	CHECK_OK(scout__shard_plan_reads(&r, &nr, of, e, 5, empty, 1, 0));
	CHECK(nr == 0 && r == NULL && of[0] == SIZE_MAX);
	uint64_t bad[1] = {5};
	CHECK_ERR(scout__shard_plan_reads(&r, &nr, of, e, 5, bad, 1, 0), SCOUT_EINVAL,
		  "inner chunk 5 of 5");
}

static void test_assemble(void)
{
	scout_shard_layout l;
	const void *chunks[4] = {"abc", NULL, "de", ""};
	size_t sizes[4] = {3, 0, 2, 0};
	void *shard = NULL;
	size_t size = 0;
	scout_shard_entry e[4], d[4];
	layout22(&l, 0, 0);
	CHECK_OK(scout__shard_assemble(&shard, &size, e, chunks, sizes, &l));
	CHECK(size == 5 + 64);
	if (shard && size == 69) {
		const unsigned char *s = shard;
		CHECK(memcmp(s, "abcde", 5) == 0);
		/* pair of inner chunk (1, 0) at 5 + 32: offset 3, nbytes 2 */
		CHECK(s[5 + 32] == 3 && s[5 + 40] == 2);
		CHECK(s[5 + 16] == 0xff && s[5 + 31] == 0xff);
		/* inner chunk (1, 1): 0 bytes at 5 */
		CHECK(s[5 + 48] == 5 && s[5 + 56] == 0);
		CHECK_OK(scout__shard_index_decode(d, s + 5, 64, &l, size, 3, "k"));
		CHECK(d[0].offset == 0 && d[0].nbytes == 3 && d[1].offset == E &&
		      d[1].nbytes == E && d[2].offset == 3 && d[2].nbytes == 2 &&
		      d[3].offset == 5 && d[3].nbytes == 0);
		CHECK(memcmp(d, e, sizeof d) == 0);
	}
	free(shard);
	/* index first, big endian: chunks from byte 64 */
	layout22(&l, 1, 1);
	CHECK_OK(scout__shard_assemble(&shard, &size, e, chunks, sizes, &l));
	CHECK(size == 69);
	if (shard && size == 69) {
		const unsigned char *s = shard;
		CHECK(memcmp(s + 64, "abcde", 5) == 0);
		CHECK(s[7] == 64 && s[15] == 3);  /* (64, 3) big endian */
		CHECK(s[39] == 67 && s[47] == 2); /* (67, 2) */
		CHECK_OK(scout__shard_index_decode(d, s, 64, &l, size, 3, "k"));
		CHECK(memcmp(d, e, sizeof d) == 0);
	}
	free(shard);
	/* nothing stored: no shard */
	const void *none[4] = {NULL, NULL, NULL, NULL};
	shard = (void *)1;
	CHECK_OK(scout__shard_assemble(&shard, &size, e, none, sizes, &l));
	CHECK(shard == NULL && size == 0 && e[0].offset == E && e[3].nbytes == E);
}

int main(void)
{
	test_layout();
	test_encode_bytes();
	test_validation();
	test_plan();
	test_assemble();
	return check_summary();
}
