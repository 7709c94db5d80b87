/* Errors, dtypes, overflow checks and the N-D copy kernels. */
#include <stdint.h>

#include "check.h"
#include "core/internal.h"

static void test_errors(void)
{
	scout_clear_error();
	CHECK(strcmp(scout_last_error(), "") == 0);
	CHECK(scout__error(SCOUT_EIO, "file %s", "a.txt") == SCOUT_EIO);
	CHECK(strcmp(scout_last_error(), "file a.txt") == 0);
	CHECK(scout_last_error_code() == SCOUT_EIO);
	CHECK(scout__error_prefix(SCOUT_ECODEC, "chunk %s: ", "0/1") == SCOUT_ECODEC);
	CHECK(strcmp(scout_last_error(), "chunk 0/1: file a.txt") == 0);
	int codes[] = {SCOUT_OK,          SCOUT_EINVAL,    SCOUT_ENOMEM,    SCOUT_EIO,
		       SCOUT_ENOTFOUND,   SCOUT_EFORMAT,   SCOUT_ECODEC,    SCOUT_EWORKER,
		       SCOUT_EBOUNDS,     SCOUT_EOVERFLOW, SCOUT_EREADONLY, SCOUT_EUNSUPPORTED,
		       SCOUT_EINTERRUPTED};
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		CHECK(strcmp(scout_strerror(codes[i]), "unknown error") != 0);
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(scout_strerror(codes[i]), scout_strerror(codes[j])) != 0);
	}
	CHECK(strcmp(scout_strerror(12345), "unknown error") == 0);
	CHECK(strcmp(scout_version(), SCOUT_VERSION) == 0);
}

static void test_dtypes(void)
{
	/* numpy: np.dtype(t).itemsize for each name */
	struct {
		const char *name, *le, *be;
		scout_dtype d;
		size_t size;
	} t[] = {
	    {"bool", "|b1", "|b1", SCOUT_BOOL, 1},
	    {"int8", "|i1", "|i1", SCOUT_INT8, 1},
	    {"int16", "<i2", ">i2", SCOUT_INT16, 2},
	    {"int32", "<i4", ">i4", SCOUT_INT32, 4},
	    {"int64", "<i8", ">i8", SCOUT_INT64, 8},
	    {"uint8", "|u1", "|u1", SCOUT_UINT8, 1},
	    {"uint16", "<u2", ">u2", SCOUT_UINT16, 2},
	    {"uint32", "<u4", ">u4", SCOUT_UINT32, 4},
	    {"uint64", "<u8", ">u8", SCOUT_UINT64, 8},
	    {"float16", "<f2", ">f2", SCOUT_FLOAT16, 2},
	    {"float32", "<f4", ">f4", SCOUT_FLOAT32, 4},
	    {"float64", "<f8", ">f8", SCOUT_FLOAT64, 8},
	    {"complex64", "<c8", ">c8", SCOUT_COMPLEX64, 8},
	    {"complex128", "<c16", ">c16", SCOUT_COMPLEX128, 16},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		scout_dtype d;
		int be = -1;
		CHECK_OK(scout_dtype_parse(&d, &be, t[i].name));
		CHECK(d == t[i].d && be == 0);
		CHECK_OK(scout_dtype_parse(&d, &be, t[i].le));
		CHECK(d == t[i].d && be == 0);
		CHECK_OK(scout_dtype_parse(&d, &be, t[i].be));
		CHECK(d == t[i].d && be == (t[i].size > 1));
		CHECK(scout_dtype_size(d) == t[i].size);
		CHECK(strcmp(scout_dtype_name(d), t[i].name) == 0);
		char buf[8];
		CHECK_OK(scout_dtype_typestr(buf, d, 0));
		CHECK(strcmp(buf, t[i].le) == 0);
		CHECK_OK(scout_dtype_typestr(buf, d, 1));
		CHECK(strcmp(buf, t[i].be) == 0);
	}
	scout_dtype d;
	CHECK_ERR(scout_dtype_parse(&d, NULL, "<u3"), SCOUT_EFORMAT, "<u3");
	CHECK_ERR(scout_dtype_parse(&d, NULL, "|u2"), SCOUT_EFORMAT, "|u2");
	CHECK_ERR(scout_dtype_parse(&d, NULL, "<U10"), SCOUT_EFORMAT, "<U10");
	CHECK_ERR(scout_dtype_parse(&d, NULL, ""), SCOUT_EFORMAT, NULL);
	CHECK_ERR(scout_dtype_parse(&d, NULL, "<f"), SCOUT_EFORMAT, NULL);
	CHECK_ERR(scout_dtype_parse(&d, NULL, "<f4x"), SCOUT_EFORMAT, NULL);
	CHECK(scout_dtype_size(SCOUT_DTYPE_COUNT) == 0);
	CHECK(scout_dtype_is_float(SCOUT_FLOAT16) && scout_dtype_is_float(SCOUT_COMPLEX64));
	CHECK(!scout_dtype_is_float(SCOUT_INT32));
	CHECK(scout_dtype_is_signed(SCOUT_INT8) && !scout_dtype_is_signed(SCOUT_UINT8));
}

static void test_sizes(void)
{
	size_t n, b;
	int64_t s[3] = {4, 5, 6};
	CHECK_OK(scout__shape_size(&n, &b, 3, s, 8));
	CHECK(n == 120 && b == 960);
	int64_t big[2] = {INT64_C(1) << 40, INT64_C(1) << 40};
	CHECK_ERR(scout__shape_size(&n, &b, 2, big, 1), SCOUT_EOVERFLOW, NULL);
	int64_t big2[1] = {INT64_C(1) << 62};
	CHECK_ERR(scout__shape_size(&n, &b, 1, big2, 4), SCOUT_EOVERFLOW, NULL);
	int64_t neg[2] = {3, -1};
	CHECK_ERR(scout__shape_size(&n, &b, 2, neg, 1), SCOUT_EINVAL, "axis 1");
	CHECK_ERR(scout__shape_size(&n, &b, 0, s, 1), SCOUT_EINVAL, "ndim");
	CHECK_ERR(scout__shape_size(&n, &b, SCOUT_MAX_NDIM + 1, s, 1), SCOUT_EINVAL, "ndim");
	CHECK_ERR(scout__mul_size(&n, SIZE_MAX, 2, "x"), SCOUT_EOVERFLOW, NULL);
}

/* copy a box with a naive per-element loop, as the reference */
static void naive_copy3(uint16_t *dst, const int64_t *ds, const int64_t *doff, const uint16_t *src,
			const int64_t *ss, const int64_t *soff, const int64_t *ext)
{
	for (int64_t z = 0; z < ext[0]; z++)
		for (int64_t y = 0; y < ext[1]; y++)
			for (int64_t x = 0; x < ext[2]; x++)
				dst[((doff[0] + z) * ds[1] + doff[1] + y) * ds[2] + doff[2] + x] =
				    src[((soff[0] + z) * ss[1] + soff[1] + y) * ss[2] + soff[2] +
					x];
}

/* a number in [0, n) from a linear congruential sequence */
static int64_t rand_below(unsigned *seed, int64_t n)
{
	*seed = *seed * 1103515245u + 12345u;
	return (int64_t)((*seed >> 8) % (unsigned)n);
}

static void test_copy(void)
{
	int64_t ss[3] = {7, 9, 11}, ds[3] = {5, 9, 11};
	uint16_t src[7 * 9 * 11], a[5 * 9 * 11], b[5 * 9 * 11];
	for (int i = 0; i < 7 * 9 * 11; i++)
		src[i] = (uint16_t)(i * 7 + 3);
	unsigned seed = 1;
	for (int iter = 0; iter < 2000; iter++) {
		int64_t ext[3], so[3], doff[3];
		for (int k = 0; k < 3; k++) {
			int64_t lim = ds[k] < ss[k] ? ds[k] : ss[k];
			ext[k] = iter % 5 == 0 ? lim /* whole axes: exercises folding */
					       : rand_below(&seed, lim + 1);
			so[k] = rand_below(&seed, ss[k] - ext[k] + 1);
			doff[k] = rand_below(&seed, ds[k] - ext[k] + 1);
		}
		memset(a, 0xAB, sizeof a);
		memset(b, 0xAB, sizeof b);
		scout__copy_nd(a, ds, doff, src, ss, so, ext, 3, 2);
		if (ext[0] && ext[1] && ext[2])
			naive_copy3(b, ds, doff, src, ss, so, ext);
		CHECK(memcmp(a, b, sizeof a) == 0);
		memset(a, 0xAB, sizeof a);
		scout__copy_nd_stream(a, ds, doff, src, ss, so, ext, 3, 2);
		CHECK(memcmp(a, b, sizeof a) == 0);
	}
	/* fill */
	uint32_t f[4 * 6];
	memset(f, 0, sizeof f);
	int64_t fs[2] = {4, 6}, fo[2] = {1, 2}, fe[2] = {2, 3};
	uint32_t v = 0xDEADBEEF;
	scout__fill_nd(f, fs, fo, fe, 2, 4, &v);
	for (int y = 0; y < 4; y++)
		for (int x = 0; x < 6; x++) {
			int in = y >= 1 && y < 3 && x >= 2 && x < 5;
			CHECK(f[y * 6 + x] == (in ? v : 0u));
		}
	/* byteswap */
	uint32_t w[2] = {0x01020304u, 0xA0B0C0D0u};
	scout__byteswap(w, 2, 4);
	CHECK(w[0] == 0x04030201u && w[1] == 0xD0C0B0A0u);
	unsigned char c16[16];
	for (int i = 0; i < 16; i++)
		c16[i] = (unsigned char)i;
	scout__byteswap(c16, 1, 16);
	CHECK(c16[0] == 15 && c16[15] == 0);
	CHECK(scout__dtype_swap_unit(SCOUT_COMPLEX128) == 8);
	CHECK(scout__dtype_swap_unit(SCOUT_UINT16) == 2);
}

/*
 * scout__copy_stream and scout__copy_nd_stream against byte loops: every
 * destination offset within two cache lines, runs from 0 to 300 bytes and a
 * few long ones (whole lines streamed, partial ends), nothing written outside;
 * and 3-D boxes whose rows are several lines long, at odd offsets.
 */
static void test_copy_stream(void)
{
	enum { CAP = 8192 + 256 };
	static unsigned char src[CAP], dst[CAP], want[CAP];
	for (size_t i = 0; i < CAP; i++)
		src[i] = (unsigned char)(i * 31 + 7);
	size_t lens[8] = {1000, 4096, 4097, 5000, 8000, 8001, 8063, 8191};
	int bad = 0;
	for (size_t off = 0; off < 128; off++)
		for (size_t k = 0; k < 301 + 8; k++) {
			size_t n = k < 301 ? k : lens[k - 301];
			size_t soff = (off * 7 + k) % 64;
			memset(dst, 0x5A, CAP);
			memset(want, 0x5A, CAP);
			for (size_t i = 0; i < n; i++)
				want[off + i] = src[soff + i];
			scout__copy_stream(dst + off, src + soff, n);
			scout__copy_stream_end();
			bad += memcmp(dst, want, CAP) != 0;
		}
	CHECK(bad == 0);
	/* rows of 150 to 600 bytes (uint16) */
	enum { SZ = 3 * 4 * 300 };
	static uint16_t s3[SZ], a[SZ], b[SZ];
	for (int i = 0; i < SZ; i++)
		s3[i] = (uint16_t)(i * 13 + 1);
	int64_t ss[3] = {3, 4, 300}, ds[3] = {3, 4, 300};
	unsigned seed = 7;
	for (int iter = 0; iter < 500; iter++) {
		int64_t ext[3], so[3], doff[3];
		for (int k = 0; k < 3; k++) {
			int64_t lo = k == 2 ? 75 : 1;
			ext[k] = lo + rand_below(&seed, ss[k] - lo + 1);
			so[k] = rand_below(&seed, ss[k] - ext[k] + 1);
			doff[k] = rand_below(&seed, ds[k] - ext[k] + 1);
		}
		memset(a, 0xCD, sizeof a);
		memset(b, 0xCD, sizeof b);
		scout__copy_nd_stream(a, ds, doff, s3, ss, so, ext, 3, 2);
		naive_copy3(b, ds, doff, s3, ss, so, ext);
		CHECK(memcmp(a, b, sizeof a) == 0);
	}
}

/* scout__box_next: every index of a box once, in C order, then back at lo */
static void test_box_next(void)
{
	int64_t lo[3] = {1, 2, 0}, hi[3] = {2, 3, 0}, idx[3] = {1, 2, 0};
	const int64_t want[4][2] = {{1, 3}, {2, 2}, {2, 3}, {1, 2}}; /* after each step */
	for (int k = 0; k < 4; k++) {
		int more = scout__box_next(idx, lo, hi, 3);
		CHECK(more == (k < 3));
		CHECK(idx[0] == want[k][0] && idx[1] == want[k][1] && idx[2] == 0);
	}
	int64_t one[1] = {5}, five[1] = {5};
	CHECK(scout__box_next(one, five, five, 1) == 0 && one[0] == 5); /* one index */
}

int main(void)
{
	test_errors();
	test_box_next();
	test_dtypes();
	test_sizes();
	test_copy();
	test_copy_stream();
	return check_summary();
}
