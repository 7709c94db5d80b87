/*
 * The codec pipeline (codec/pipeline.h): transpose, bytes and crc32c against
 * hand-computed bytes, CRC-32C against its published check value and values
 * from python3-crc32c, chains with compressors round-tripping, and the
 * errors of bad chains and bad data. The pooled encode gives the bytes of the
 * plain one, in the compressor's own scratch where the chain ends in one.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "codec/codec_impl.h"
#include "codec/pipeline.h"
#include "core/bufpool.h"
#include "format/chunk_key.h"

static json_t *J(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);
	if (!j)
		fprintf(stderr, "bad JSON in test: %s: %s\n", text, e.text);
	return j;
}

static scout_chunk_spec spec_of(scout_dtype dt, int ndim, const int64_t *shape)
{
	scout_chunk_spec s;
	memset(&s, 0, sizeof s);
	s.dtype = dt;
	s.itemsize = scout_dtype_size(dt);
	s.ndim = ndim;
	for (int i = 0; i < ndim; i++)
		s.shape[i] = shape[i];
	return s;
}

static int make(scout_pipeline **p, const char *codecs, scout_dtype dt, int ndim,
		const int64_t *shape)
{
	json_t *j = J(codecs);
	scout_chunk_spec s = spec_of(dt, ndim, shape);
	int rc = scout__pipeline_new(p, j, &s, "t/zarr.json");
	json_decref(j);
	return rc;
}

static void test_crc32c(void)
{
	/* the CRC-32C check value (RFC 3720 / iSCSI), and python3-crc32c's values */
	CHECK(scout__crc32c("123456789", 9) == 0xE3069283u);
	CHECK(scout__crc32c("", 0) == 0);
	unsigned char seq[32];
	for (int i = 0; i < 32; i++)
		seq[i] = (unsigned char)i;
	CHECK(scout__crc32c(seq, 32) == 0x46dd794eu);
	/* RFC 3720 B.4: 32 bytes of zeros -> 0x8A9136AA, of 0xFF -> 0x62A8AB43 */
	unsigned char z[32] = {0}, f[32];
	memset(f, 0xff, sizeof f);
	CHECK(scout__crc32c(z, 32) == 0x8A9136AAu);
	CHECK(scout__crc32c(f, 32) == 0x62A8AB43u);
}

static void test_bytes_crc(void)
{
	/* uint16 [1, 2] big-endian + crc32c: 00 01 00 02, then crc32c LE (python3-crc32c) */
	int64_t shape[1] = {2};
	scout_pipeline *p;
	CHECK_OK(make(&p,
		      "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"big\"}},"
		      "{\"name\":\"crc32c\"}]",
		      SCOUT_UINT16, 1, shape));
	if (!p)
		return;
	uint16_t v[2] = {1, 2};
	void *enc;
	size_t n;
	CHECK_OK(scout__pipeline_encode(p, v, &enc, &n));
	const unsigned char want[8] = {0x00, 0x01, 0x00, 0x02, 0x4e, 0xa9, 0x1d, 0x0c};
	CHECK(n == 8 && memcmp(enc, want, 8) == 0);
	uint16_t back[2] = {0};
	CHECK_OK(scout__pipeline_decode(p, enc, n, back, NULL));
	CHECK(back[0] == 1 && back[1] == 2);
	/* a flipped bit: crc32c mismatch */
	((unsigned char *)enc)[1] ^= 1;
	CHECK_ERR(scout__pipeline_decode(p, enc, n, back, NULL), SCOUT_ECODEC, "crc32c");
	/* truncated */
	CHECK_ERR(scout__pipeline_decode(p, enc, 3, back, NULL), SCOUT_ECODEC, "truncated");
	CHECK_ERR(scout__pipeline_decode(p, enc, 7, back, NULL), SCOUT_ECODEC, NULL);
	free(enc);
	json_t *j = scout__pipeline_json(p);
	char *t = json_dumps(j, JSON_COMPACT);
	CHECK(strcmp(t, "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"big\"}},"
			"{\"name\":\"crc32c\"}]") == 0);
	free(t);
	json_decref(j);
	scout__pipeline_free(p);

	/* little endian complex64: each float of the pair stays in place */
	int64_t one[1] = {1};
	CHECK_OK(make(&p, "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"big\"}}]",
		      SCOUT_COMPLEX64, 1, one));
	if (p) {
		float c[2] = {1.0f, -2.0f}; /* 0x3f800000, 0xc0000000 */
		CHECK_OK(scout__pipeline_encode(p, c, &enc, &n));
		const unsigned char w[8] = {0x3f, 0x80, 0, 0, 0xc0, 0, 0, 0};
		CHECK(n == 8 && memcmp(enc, w, 8) == 0);
		free(enc);
		scout__pipeline_free(p);
	}
}

static void test_transpose(void)
{
	/* a 2x3 uint8 array, order [1, 0]: stored as its 3x2 transpose */
	int64_t shape[2] = {2, 3};
	scout_pipeline *p;
	CHECK_OK(make(&p,
		      "[{\"name\":\"transpose\",\"configuration\":{\"order\":[1,0]}},"
		      "{\"name\":\"bytes\"}]",
		      SCOUT_UINT8, 2, shape));
	if (!p)
		return;
	const uint8_t a[6] = {1, 2, 3, 4, 5, 6};
	void *enc;
	size_t n;
	CHECK_OK(scout__pipeline_encode(p, a, &enc, &n));
	const uint8_t want[6] = {1, 4, 2, 5, 3, 6};
	CHECK(n == 6 && memcmp(enc, want, 6) == 0);
	uint8_t back[6];
	CHECK_OK(scout__pipeline_decode(p, enc, n, back, NULL));
	CHECK(memcmp(back, a, 6) == 0);
	free(enc);
	scout__pipeline_free(p);

	/* 3-D int32, order [2, 0, 1] on shape (2, 3, 4): encoded shape (4, 2, 3) */
	int64_t s3[3] = {2, 3, 4};
	CHECK_OK(make(&p,
		      "[{\"name\":\"transpose\",\"configuration\":{\"order\":[2,0,1]}},"
		      "{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}]",
		      SCOUT_INT32, 3, s3));
	if (!p)
		return;
	int32_t x[24], y[24];
	for (int i = 0; i < 24; i++)
		x[i] = 100 + i;
	CHECK_OK(scout__pipeline_encode(p, x, &enc, &n));
	CHECK(n == sizeof x);
	if (n == sizeof x) {
		/* encoded[k][i][j] = x[i][j][k] */
		const int32_t *e = enc;
		int ok = 1;
		for (int k = 0; k < 4; k++)
			for (int i = 0; i < 2; i++)
				for (int j = 0; j < 3; j++)
					ok &= e[(k * 2 + i) * 3 + j] == x[(i * 3 + j) * 4 + k];
		CHECK(ok);
	}
	CHECK_OK(scout__pipeline_decode(p, enc, n, y, NULL));
	CHECK(memcmp(x, y, sizeof x) == 0);
	free(enc);
	scout__pipeline_free(p);

	/* "F" (a v2 order) is the reversed permutation */
	CHECK_OK(make(&p,
		      "[{\"name\":\"transpose\",\"configuration\":{\"order\":\"F\"}},"
		      "{\"name\":\"bytes\"}]",
		      SCOUT_UINT8, 2, shape));
	if (p) {
		json_t *j = scout__pipeline_json(p);
		char *t = json_dumps(json_array_get(j, 0), JSON_COMPACT);
		CHECK(strcmp(t, "{\"name\":\"transpose\",\"configuration\":{\"order\":[1,0]}}") ==
		      0);
		free(t);
		json_decref(j);
		scout__pipeline_free(p);
	}
}

static void test_compressors(void)
{
	/* every compressor in a chain after transpose + big-endian bytes round-trips */
	static const char *const bb[] = {
	    "{\"name\":\"blosc\",\"configuration\":{\"typesize\":4,\"cname\":\"zstd\",\"clevel\":1,"
	    "\"shuffle\":\"bitshuffle\",\"blocksize\":0}}",
	    "{\"name\":\"blosc\",\"configuration\":{\"typesize\":4,\"cname\":\"lz4\",\"clevel\":5,"
	    "\"shuffle\":\"shuffle\",\"blocksize\":0}}",
	    "{\"name\":\"gzip\",\"configuration\":{\"level\":5}}",
	    "{\"name\":\"zstd\",\"configuration\":{\"level\":3,\"checksum\":true}}",
	    "{\"name\":\"numcodecs.zlib\",\"configuration\":{\"level\":1}}",
	    "{\"name\":\"numcodecs.lz4\",\"configuration\":{\"acceleration\":1}}",
	    "{\"name\":\"numcodecs.bz2\",\"configuration\":{\"level\":1}}",
	};
	int64_t shape[3] = {5, 6, 7};
	int32_t x[210], y[210];
	for (int i = 0; i < 210; i++)
		x[i] = (i * 7919) % 1000 - 500;
	for (size_t k = 0; k < sizeof bb / sizeof *bb; k++) {
		char chain[1024];
		snprintf(chain, sizeof chain,
			 "[{\"name\":\"transpose\",\"configuration\":{\"order\":[2,1,0]}},"
			 "{\"name\":\"bytes\",\"configuration\":{\"endian\":\"big\"}},%s,"
			 "{\"name\":\"crc32c\"}]",
			 bb[k]);
		scout_pipeline *p;
		CHECK_OK(make(&p, chain, SCOUT_INT32, 3, shape));
		if (!p)
			continue;
		void *enc;
		size_t n;
		CHECK_OK(scout__pipeline_encode(p, x, &enc, &n));
		memset(y, 0, sizeof y);
		CHECK_OK(scout__pipeline_decode(p, enc, n, y, NULL));
		CHECK(memcmp(x, y, sizeof x) == 0);
		/* a bad crc is caught before the compressor runs */
		((unsigned char *)enc)[n - 1] ^= 0x80;
		CHECK_ERR(scout__pipeline_decode(p, enc, n, y, NULL), SCOUT_ECODEC, "crc32c");
		free(enc);
		scout__pipeline_free(p);
	}
	/* two compressors: zstd after gzip (zstd records its decoded size; gzip, innermost, need
	 * not) */
	scout_pipeline *p;
	CHECK_OK(make(&p,
		      "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
		      "{\"name\":\"gzip\",\"configuration\":{\"level\":1}},"
		      "{\"name\":\"zstd\",\"configuration\":{\"level\":1,\"checksum\":false}}]",
		      SCOUT_INT32, 3, shape));
	if (p) {
		void *enc;
		size_t n;
		CHECK_OK(scout__pipeline_encode(p, x, &enc, &n));
		memset(y, 0, sizeof y);
		CHECK_OK(scout__pipeline_decode(p, enc, n, y, NULL));
		CHECK(memcmp(x, y, sizeof x) == 0);
		free(enc);
		scout__pipeline_free(p);
	}
}

static void test_bad_chains(void)
{
	int64_t shape[2] = {4, 4};
	scout_pipeline *p = NULL;
	CHECK_ERR(make(&p, "[{\"name\":\"gzip\",\"configuration\":{\"level\":1}}]", SCOUT_UINT8, 2,
		       shape),
		  SCOUT_EFORMAT, "before the array->bytes codec");
	CHECK_ERR(make(&p, "[]", SCOUT_UINT8, 2, shape), SCOUT_EFORMAT, "no array->bytes codec");
	CHECK_ERR(make(&p, "[{\"name\":\"bytes\"},{\"name\":\"bytes\"}]", SCOUT_UINT8, 2, shape),
		  SCOUT_EFORMAT, "after another array->bytes");
	CHECK_ERR(make(&p, "[{\"name\":\"bytes\"},{\"name\":\"nosuch\"}]", SCOUT_UINT8, 2, shape),
		  SCOUT_EFORMAT, "\"nosuch\"");
	CHECK_ERR(make(&p,
		       "[{\"name\":\"bytes\"},{\"name\":\"transpose\",\"configuration\":"
		       "{\"order\":[1,0]}}]",
		       SCOUT_UINT8, 2, shape),
		  SCOUT_EFORMAT, "after the array->bytes codec");
	CHECK_ERR(make(&p,
		       "[{\"name\":\"transpose\",\"configuration\":{\"order\":[0,0]}},"
		       "{\"name\":\"bytes\"}]",
		       SCOUT_UINT8, 2, shape),
		  SCOUT_EFORMAT, "permutation");
	CHECK_ERR(make(&p, "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"middle\"}}]",
		       SCOUT_UINT16, 2, shape),
		  SCOUT_EFORMAT, "endian");
	CHECK_ERR(make(&p,
		       "[{\"name\":\"bytes\"},{\"name\":\"blosc\",\"configuration\":{\"cname\":"
		       "\"zstd\",\"clevel\":1,\"shuffle\":\"sideways\"}}]",
		       SCOUT_UINT16, 2, shape),
		  SCOUT_EFORMAT, "shuffle");
	CHECK_ERR(make(&p, "{\"name\":\"bytes\"}", SCOUT_UINT8, 2, shape), SCOUT_EFORMAT, "list");
	CHECK(p == NULL);
	/* raw chunk of the wrong size */
	CHECK_OK(make(&p, "[{\"name\":\"bytes\"}]", SCOUT_UINT8, 2, shape));
	if (p) {
		unsigned char buf[16] = {0}, out[16];
		CHECK_ERR(scout__pipeline_decode(p, buf, 15, out, NULL), SCOUT_ECODEC,
			  "stored size 15");
		scout__pipeline_free(p);
	}
}

static void test_chunk_keys(void)
{
	char key[64];
	int64_t idx[3] = {1, 0, 3};
	scout_key_encoding d = {SCOUT_KEY_DEFAULT, '/'}, dd = {SCOUT_KEY_DEFAULT, '.'},
			   v2 = {SCOUT_KEY_V2, '.'};
	CHECK_OK(scout__chunk_key_encode(key, sizeof key, &d, 3, idx));
	CHECK(strcmp(key, "c/1/0/3") == 0);
	CHECK_OK(scout__chunk_key_encode(key, sizeof key, &dd, 3, idx));
	CHECK(strcmp(key, "c.1.0.3") == 0);
	CHECK_OK(scout__chunk_key_encode(key, sizeof key, &v2, 3, idx));
	CHECK(strcmp(key, "1.0.3") == 0);
	CHECK_ERR(scout__chunk_key_encode(key, 4, &d, 3, idx), SCOUT_EOVERFLOW, NULL);
}

/* Encode v (nbytes) through codecs; compare with want (wn bytes); decode back and compare with
 * back_want. */
static void roundtrip(const char *codecs, scout_dtype dt, int ndim, const int64_t *shape,
		      const void *v, const void *want, size_t wn, const void *back_want)
{
	scout_pipeline *p;
	CHECK_OK(make(&p, codecs, dt, ndim, shape));
	if (!p)
		return;
	void *enc = NULL;
	size_t n = 0;
	CHECK_OK(scout__pipeline_encode(p, v, &enc, &n));
	CHECK(n == wn && enc && memcmp(enc, want, wn) == 0);
	size_t cn = scout__pipeline_chunk_nbytes(p);
	unsigned char back[64];
	CHECK(cn <= sizeof back);
	if (enc && n == wn) {
		CHECK_OK(scout__pipeline_decode(p, enc, n, back, NULL));
		CHECK(memcmp(back, back_want, cn) == 0);
	}
	free(enc);
	scout__pipeline_free(p);
}

/* numcodecs filters, against values computed by hand from numcodecs 0.11's sources */
static void test_filters(void)
{
	int64_t s4[1] = {4}, s10[1] = {10}, s3[1] = {3}, s2[1] = {2};
	/* delta in uint8 wraps: 5, 3-5, 250-3, 4-250 */
	unsigned char d[4] = {5, 3, 250, 4}, dw[4] = {5, 254, 247, 10};
	roundtrip("[{\"name\":\"numcodecs.delta\",\"configuration\":{\"dtype\":\"|u1\"}},"
		  "{\"name\":\"bytes\"}]",
		  SCOUT_UINT8, 1, s4, d, dw, 4, d);
	/* packbits: header = padding bits (6 for 10 bits), MSB first */
	unsigned char b[10] = {1, 0, 1, 1, 0, 0, 0, 1, 1, 1}, bw[3] = {6, 0xB1, 0xC0};
	roundtrip("[{\"name\":\"numcodecs.packbits\"},{\"name\":\"bytes\"}]", SCOUT_BOOL, 1, s10, b,
		  bw, 3, b);
	/* shuffle elementsize 2: low bytes first */
	uint16_t u[3] = {0x0102, 0x0304, 0x0506};
	unsigned char uw[6] = {2, 4, 6, 1, 3, 5};
	roundtrip("[{\"name\":\"numcodecs.shuffle\",\"configuration\":{\"elementsize\":2}},"
		  "{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}]",
		  SCOUT_UINT16, 1, s3, u, uw, 6, u);
	/* fixedscaleoffset: rint((x - 1000) * 10) ties to even, to uint8; back x / 10 + 1000 */
	double f[2] = {1000.25, 1001.05}, fb[2] = {1000.2, 1001.0};
	unsigned char fw[2] = {2, 10};
	roundtrip("[{\"name\":\"numcodecs.fixedscaleoffset\",\"configuration\":{\"offset\":1000,"
		  "\"scale\":10,\"dtype\":\"<f8\",\"astype\":\"|u1\"}},"
		  "{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}]",
		  SCOUT_FLOAT64, 1, s2, f, fw, 2, fb);
	/* bitround keepbits 0: 1.5 -> 2.0 (tie to even), 1.25 -> 1.0 */
	float r[2] = {1.5f, 1.25f}, rw[2] = {2.0f, 1.0f};
	roundtrip("[{\"name\":\"numcodecs.bitround\",\"configuration\":{\"keepbits\":0}},"
		  "{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}]",
		  SCOUT_FLOAT32, 1, s2, r, rw, 8, rw);
	/* quantize digits 1: scale 2^4, 0.3 -> 5/16 */
	double q[2] = {0.3, -1.0}, qw[2] = {0.3125, -1.0};
	roundtrip("[{\"name\":\"numcodecs.quantize\",\"configuration\":{\"digits\":1,"
		  "\"dtype\":\"<f8\"}},{\"name\":\"bytes\",\"configuration\":{\"endian\":"
		  "\"little\"}}]",
		  SCOUT_FLOAT64, 1, s2, q, qw, 16, qw);
	/* astype f8 -> i2 truncates; the element type travels to the next filter */
	double a[2] = {2.9, -3.9}, ab[2] = {2.0, -3.0};
	int16_t aw[2] = {2, -2}; /* then delta in int16: 2, -3 - 2 = -5... */
	aw[1] = -5;
	roundtrip("[{\"name\":\"numcodecs.astype\",\"configuration\":{\"encode_dtype\":\"<i2\","
		  "\"decode_dtype\":\"<f8\"}},{\"name\":\"numcodecs.delta\",\"configuration\":"
		  "{\"dtype\":\"<i2\"}},{\"name\":\"bytes\",\"configuration\":{\"endian\":"
		  "\"little\"}}]",
		  SCOUT_FLOAT64, 1, s2, a, aw, 4, ab);
	/* errors name the filter: a dtype that is not the chunk's, a float filter after astype to
	 * int */
	scout_pipeline *p = NULL;
	CHECK_ERR(make(&p,
		       "[{\"name\":\"numcodecs.delta\",\"configuration\":{\"dtype\":\"<i4\"}},"
		       "{\"name\":\"bytes\"}]",
		       SCOUT_INT16, 1, s2),
		  SCOUT_EFORMAT, "delta");
	CHECK_ERR(
	    make(&p,
		 "[{\"name\":\"numcodecs.astype\",\"configuration\":{\"encode_dtype\":\"<i4\","
		 "\"decode_dtype\":\"<f8\"}},{\"name\":\"numcodecs.bitround\","
		 "\"configuration\":{\"keepbits\":3}},{\"name\":\"bytes\"}]",
		 SCOUT_FLOAT64, 1, s2),
	    SCOUT_EFORMAT, "bitround");
	CHECK_ERR(make(&p,
		       "[{\"name\":\"numcodecs.shuffle\",\"configuration\":{\"elementsize\":4}},"
		       "{\"name\":\"bytes\"}]",
		       SCOUT_UINT16, 1, s3),
		  SCOUT_EFORMAT, "elementsize");
	/* the v2 "filters" of a chain: numcodecs' get_config */
	CHECK_OK(make(&p,
		      "[{\"name\":\"numcodecs.delta\",\"configuration\":{\"dtype\":\"|u1\"}},"
		      "{\"name\":\"bytes\"}]",
		      SCOUT_UINT8, 1, s4));
	if (p) {
		json_t *fl = scout__pipeline_filters(p);
		char *t = json_dumps(fl, JSON_COMPACT | JSON_SORT_KEYS);
		CHECK(t &&
		      strcmp(t, "[{\"astype\":\"|u1\",\"dtype\":\"|u1\",\"id\":\"delta\"}]") == 0);
		free(t);
		json_decref(fl);
		scout__pipeline_free(p);
	}
}

/*
 * scout__pipeline_encode_pooled: the same bytes as scout__pipeline_encode;
 * handed out in the compressor's pooled scratch (4 KiB-aligned, for direct
 * writes) only when a compressor is the chain's last stage and wrote 4 KiB or
 * more; and a sharding codec last hands out its own result, its inner
 * chunks' compressors never the outer scratch.
 */
static void test_pooled_encode(void)
{
	static const struct {
		const char *chain;
		int pooled_big; /* a 64 KiB chunk of noise comes back in the scratch */
	} cases[] = {
	    {"[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},{\"name\":"
	     "\"blosc\",\"configuration\":{\"typesize\":4,\"cname\":\"zstd\",\"clevel\":1,"
	     "\"shuffle\":\"bitshuffle\",\"blocksize\":0}}]",
	     1},
	    {"[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},{\"name\":"
	     "\"zstd\",\"configuration\":{\"level\":3,\"checksum\":true}}]",
	     1},
	    {"[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},{\"name\":"
	     "\"numcodecs.lz4\",\"configuration\":{\"acceleration\":1}}]",
	     1},
	    {"[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},{\"name\":"
	     "\"gzip\",\"configuration\":{\"level\":1}}]",
	     1},
	    /* not pooled: a compressor that does not write into a scratch, a checksum last */
	    {"[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},{\"name\":"
	     "\"numcodecs.bz2\",\"configuration\":{\"level\":1}}]",
	     0},
	    {"[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},{\"name\":"
	     "\"zstd\",\"configuration\":{\"level\":1,\"checksum\":false}},{\"name\":"
	     "\"crc32c\"}]",
	     0},
	    {"[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}]", 0},
	    /* a shard of 4 inner chunks, each zstd-compressed: the shard codec assembles its own */
	    {"[{\"name\":\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[32,128],"
	     "\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
	     "{\"name\":\"zstd\",\"configuration\":{\"level\":1,\"checksum\":false}}],"
	     "\"index_codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":"
	     "\"little\"}}],\"index_location\":\"end\"}}]",
	     0},
	};
	int64_t shape[2] = {128, 128};
	size_t count = 128 * 128;
	int32_t *noise = malloc(count * sizeof *noise), *flat = malloc(count * sizeof *flat),
		*back = malloc(count * sizeof *back);
	if (!noise || !flat || !back) {
		CHECK(0);
		goto out;
	}
	uint32_t s = 12345;
	for (size_t i = 0; i < count; i++) {
		s = s * 1103515245u + 12345u;
		noise[i] = (int32_t)s;
		flat[i] = 7;
	}
	scout_bufpool_stats st;
	scout__bufpool_stats(&st);
	for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
		scout_pipeline *p = NULL;
		CHECK_OK(make(&p, cases[k].chain, SCOUT_INT32, 2, shape));
		if (!p)
			continue;
		for (int big = 0; big < 2; big++) {
			const int32_t *src = big ? noise : flat;
			void *ref = NULL, *enc = NULL;
			size_t rn = 0, n = 0, cap = 99;
			CHECK_OK(scout__pipeline_encode(p, src, &ref, &rn));
			CHECK_OK(scout__pipeline_encode_pooled(p, src, &enc, &n, &cap));
			CHECK(enc && n == rn && memcmp(enc, ref, n) == 0);
			/* pooled: only a big result of a compressor last (a flat chunk is tiny) */
			int want = big && cases[k].pooled_big;
			CHECK(want ? cap >= n : cap == 0);
			if (cap && st.enabled)
				CHECK(((uintptr_t)enc & 4095) == 0);
			memset(back, 0, count * sizeof *back);
			CHECK_OK(scout__pipeline_decode(p, enc, n, back, NULL));
			CHECK(memcmp(back, src, count * sizeof *back) == 0);
			free(ref);
			scout__pipeline_free_encoded(enc, cap);
		}
		scout__pipeline_free(p);
	}
out:
	free(noise);
	free(flat);
	free(back);
}

int main(void)
{
	test_crc32c();
	test_bytes_crc();
	test_transpose();
	test_compressors();
	test_bad_chains();
	test_chunk_keys();
	test_filters();
	test_pooled_encode();
	return check_summary();
}
