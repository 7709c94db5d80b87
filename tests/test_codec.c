/*
 * Unit tests of the codec layer (src/codec): round trips of every codec and
 * its main options over several element sizes and byte counts (including 0
 * and counts that are not a multiple of the item size), corrupt, truncated,
 * wrong-size and decompression-bomb inputs, configs from JSON text, and
 * several threads sharing one scout_codec. The interop with numcodecs is in
 * tests/py/test_codec_numcodecs.py.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "check.h"
#include "codec/codec.h"

/* one config per codec and main option (JSON text) */
static const char *const configs[] = {
    "null",
    "{\"id\": \"blosc\"}",
    "{\"id\": \"blosc\", \"cname\": \"blosclz\", \"clevel\": 9, \"shuffle\": 0}",
    "{\"id\": \"blosc\", \"cname\": \"lz4\", \"clevel\": 1, \"shuffle\": 1}",
    "{\"id\": \"blosc\", \"cname\": \"lz4hc\", \"clevel\": 5, \"shuffle\": 2}",
    "{\"id\": \"blosc\", \"cname\": \"zlib\", \"clevel\": 3, \"shuffle\": -1}",
    "{\"id\": \"blosc\", \"cname\": \"zstd\", \"clevel\": 1, \"shuffle\": 2, \"blocksize\": 4096}",
    "{\"id\": \"blosc\", \"cname\": \"zstd\", \"clevel\": 0, \"shuffle\": 1}",
    "{\"id\": \"zlib\", \"level\": 1}",
    "{\"id\": \"zlib\", \"level\": -1}",
    "{\"id\": \"gzip\", \"level\": 9}",
    "{\"id\": \"gzip\", \"level\": 0}",
    "{\"id\": \"bz2\", \"level\": 1}",
    "{\"id\": \"bz2\", \"level\": 9}",
    "{\"id\": \"lzma\"}",
    "{\"id\": \"lzma\", \"format\": 1, \"check\": 10, \"preset\": 1}",
    "{\"id\": \"lzma\", \"format\": 2, \"preset\": 2}",
    "{\"id\": \"lzma\", \"format\": 3, \"filters\": [{\"id\": 3, \"dist\": 4}, {\"id\": 33, "
    "\"preset\": 1}]}",
    "{\"id\": \"lzma\", \"format\": 3, \"filters\": [{\"id\": 4611686018427387905, \"preset\": "
    "1}]}",
    "{\"id\": \"zstd\", \"level\": 1}",
    "{\"id\": \"zstd\", \"level\": 12, \"checksum\": true}",
    "{\"id\": \"zstd\", \"level\": -7}",
    "{\"id\": \"lz4\", \"acceleration\": 1}",
    "{\"id\": \"lz4\", \"acceleration\": 50}",
};
#define NCONFIGS (sizeof configs / sizeof configs[0])

/* Compressible but not trivial data: a slow ramp plus small noise. */
static unsigned char *make_data(size_t n, unsigned seed)
{
	unsigned char *p = malloc(n ? n : 1);
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (unsigned char)((i / 64) % 251 + ((x >> 16) & 3));
	}
	return p;
}

static scout_codec *new_codec(const char *text, size_t typesize)
{
	scout_codec *c = NULL;
	CHECK_OK(scout__codec_new_from_text(&c, text, typesize));
	return c;
}

static void test_round_trips(void)
{
	static const size_t sizes[] = {0, 1, 3, 7, 100, 4097, 65536, 150001};
	size_t nsizes = sizeof sizes / sizeof sizes[0];
	static const size_t typesizes[] = {1, 2, 4, 8, 16};
	for (size_t ci = 0; ci < NCONFIGS; ci++)
		/* only blosc depends on the typesize (shuffle) */
		for (size_t ti = 0; ti < sizeof typesizes / sizeof typesizes[0]; ti++) {
			if (ti > 0 && !strstr(configs[ci], "blosc"))
				break;
			scout_codec *c = new_codec(configs[ci], typesizes[ti]);
			if (!c)
				continue;
			/* the largest size with two typesizes only, to keep the test quick */
			for (size_t si = 0; si < nsizes - (ti % 2 == 0 && ti > 0); si++) {
				size_t n = sizes[si];
				unsigned char *src = make_data(n, (unsigned)(ci * 31 + si));
				void *enc = NULL;
				size_t m = 0;
				CHECK_OK(scout__codec_encode(c, src, n, &enc, &m));
				unsigned char *dec = malloc(n ? n : 1);
				CHECK_OK(scout__codec_decode(c, enc, m, dec, n));
				int same = n == 0 || memcmp(src, dec, n) == 0;
				CHECK(same);
				if (!same)
					fprintf(stderr, "  round trip %s typesize %zu n %zu\n",
						configs[ci], typesizes[ti], n);
				free(dec);
				free(enc);
				free(src);
			}
			scout__codec_free(c);
		}
}

/* Wrong expected sizes, truncations and a garbage tail, for every codec. */
static void test_bad_inputs(void)
{
	const size_t n = 50000;
	unsigned char *src = make_data(n, 7);
	for (size_t ci = 0; ci < NCONFIGS; ci++) {
		scout_codec *c = new_codec(configs[ci], 4);
		if (!c)
			continue;
		const char *id = scout__codec_id(c);
		void *enc = NULL;
		size_t m = 0;
		CHECK_OK(scout__codec_encode(c, src, n, &enc, &m));
		/* exact-size destinations: ASan catches any write past them */
		unsigned char *small = malloc(n - 1), *big = malloc(n + 1);
		CHECK_ERR(scout__codec_decode(c, enc, m, small, n - 1), SCOUT_ECODEC, id);
		CHECK_ERR(scout__codec_decode(c, enc, m, big, n + 1), SCOUT_ECODEC, id);
		CHECK_ERR(scout__codec_decode(c, enc, m, big, 0), SCOUT_ECODEC, id);
		/* truncated: every codec (but none) must notice */
		const size_t cuts[] = {0, 1, 4, m / 2, m - 1};
		for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
			if (cuts[k] >= m)
				continue;
			unsigned char *cut = malloc(cuts[k] ? cuts[k] : 1);
			memcpy(cut, enc, cuts[k]);
			CHECK_ERR(scout__codec_decode(c, cut, cuts[k], big, n), SCOUT_ECODEC, id);
			free(cut);
		}
		/* trailing garbage after a complete stream */
		unsigned char *tail = malloc(m + 3);
		memcpy(tail, enc, m);
		memcpy(tail + m, "xyz", 3);
		CHECK_ERR(scout__codec_decode(c, tail, m + 3, big, n), SCOUT_ECODEC, id);
		free(tail);
		free(small);
		free(big);
		free(enc);
		scout__codec_free(c);
	}
	free(src);
}

/*
 * Corruption: for codecs with an integrity check (zlib adler32, gzip CRC32,
 * bz2 block CRCs, xz CRC64/SHA-256, zstd with checksum) flipping any one byte
 * must be an error; for all codecs, random corruption must never crash or
 * write out of bounds (rc is OK or SCOUT_ECODEC).
 */
static void test_corruption(void)
{
	static const char *const checked[] = {
	    "{\"id\": \"zlib\"}",
	    "{\"id\": \"gzip\"}",
	    "{\"id\": \"bz2\"}",
	    "{\"id\": \"lzma\"}",
	    "{\"id\": \"lzma\", \"check\": 10}",
	    "{\"id\": \"zstd\", \"checksum\": true}",
	};
	const size_t n = 20000;
	unsigned char *src = make_data(n, 3);
	unsigned char *dst = malloc(n);
	for (size_t ci = 0; ci < sizeof checked / sizeof checked[0]; ci++) {
		scout_codec *c = new_codec(checked[ci], 2);
		void *enc = NULL;
		size_t m = 0;
		CHECK_OK(scout__codec_encode(c, src, n, &enc, &m));
		unsigned char *bad = malloc(m);
		int undetected = 0;
		for (size_t pos = 0; pos < m; pos += m / 20 + 1) {
			memcpy(bad, enc, m);
			bad[pos] ^= 0x5a;
			int rc = scout__codec_decode(c, bad, m, dst, n);
			if (rc != SCOUT_ECODEC) {
				undetected++;
				fprintf(stderr, "  %s: flip at %zu of %zu gave %d\n", checked[ci],
					pos, m, rc);
			}
		}
		CHECK(undetected == 0);
		free(bad);
		free(enc);
		scout__codec_free(c);
	}
	uint32_t x = 12345;
	for (size_t ci = 0; ci < NCONFIGS; ci++) {
		scout_codec *c = new_codec(configs[ci], 4);
		void *enc = NULL;
		size_t m = 0;
		CHECK_OK(scout__codec_encode(c, src, n, &enc, &m));
		unsigned char *bad = malloc(m);
		int wrong_rc = 0;
		for (int trial = 0; trial < 40; trial++) {
			memcpy(bad, enc, m);
			for (int k = 0; k < 1 + trial % 4; k++) {
				x = x * 1103515245u + 12345u;
				bad[(x >> 8) % m] = (unsigned char)(x >> 24);
			}
			int rc = scout__codec_decode(c, bad, m, dst, n);
			if (rc != SCOUT_OK && rc != SCOUT_ECODEC)
				wrong_rc++;
		}
		CHECK(wrong_rc == 0);
		free(bad);
		free(enc);
		scout__codec_free(c);
	}
	free(src);
	free(dst);
}

/*
 * Decompression bombs: 2 MiB of zeros compress to little; decoding them as a
 * 4096-byte chunk must fail (headers that record the size are refused before
 * decoding; streams stop one byte past the chunk).
 */
static void test_bombs(void)
{
	const size_t big = 2u << 20, small = 4096;
	unsigned char *zeros = calloc(big, 1);
	unsigned char *dst = malloc(small);
	for (size_t ci = 1; ci < NCONFIGS; ci++) {
		scout_codec *c = new_codec(configs[ci], 1);
		void *enc = NULL;
		size_t m = 0;
		CHECK_OK(scout__codec_encode(c, zeros, big, &enc, &m));
		CHECK_ERR(scout__codec_decode(c, enc, m, dst, small), SCOUT_ECODEC,
			  scout__codec_id(c));
		free(enc);
		scout__codec_free(c);
	}
	/* forged size fields: blosc header, lz4 prefix, lzma alone header */
	scout_codec *c = new_codec("{\"id\": \"blosc\"}", 1);
	void *enc = NULL;
	size_t m = 0;
	CHECK_OK(scout__codec_encode(c, zeros, small, &enc, &m));
	unsigned char *h = enc;
	h[4] = h[5] = h[6] = 0xff;
	h[7] = 0x7f; /* nbytes = 2 GiB - 1 */
	CHECK_ERR(scout__codec_decode(c, enc, m, dst, small), SCOUT_ECODEC, "claims 2147483647");
	free(enc);
	scout__codec_free(c);

	c = new_codec("{\"id\": \"lz4\"}", 1);
	CHECK_OK(scout__codec_encode(c, zeros, small, &enc, &m));
	h = enc;
	h[0] = h[1] = h[2] = h[3] = 0xff;
	CHECK_ERR(scout__codec_decode(c, enc, m, dst, small), SCOUT_ECODEC, "4294967295");
	free(enc);
	scout__codec_free(c);

	c = new_codec("{\"id\": \"lzma\", \"format\": 2}", 1);
	CHECK_OK(scout__codec_encode(c, zeros, small, &enc, &m));
	h = enc;
	for (int i = 0; i < 8; i++) /* recorded size 2^40 instead of "unknown" */
		h[5 + i] = i == 5 ? 1 : 0;
	CHECK_ERR(scout__codec_decode(c, enc, m, dst, small), SCOUT_ECODEC, "1099511627776");
	free(enc);
	scout__codec_free(c);

	/* xz: the index records the size; refused before decoding */
	c = new_codec("{\"id\": \"lzma\"}", 1);
	CHECK_OK(scout__codec_encode(c, zeros, big, &enc, &m));
	CHECK_ERR(scout__codec_decode(c, enc, m, dst, small), SCOUT_ECODEC,
		  "index records 2097152");
	free(enc);
	scout__codec_free(c);
	free(zeros);
	free(dst);
}

static void test_configs(void)
{
	scout_codec *c = NULL;
	/* none */
	CHECK_OK(scout__codec_new_from_text(&c, NULL, 1));
	CHECK(c && strcmp(scout__codec_id(c), "none") == 0);
	json_t *cfg = c ? scout__codec_config(c) : NULL;
	CHECK(cfg && json_is_null(cfg));
	json_decref(cfg);
	scout__codec_free(c);
	CHECK_OK(scout__codec_new(&c, NULL, 1));
	CHECK(c && strcmp(scout__codec_id(c), "none") == 0);
	scout__codec_free(c);

	/* defaults filled in as numcodecs' get_config() does (see the Python test) */
	CHECK_OK(scout__codec_new_from_text(&c, "{\"id\": \"blosc\", \"cname\": \"zstd\"}", 2));
	cfg = scout__codec_config(c);
	char *text = json_dumps(cfg, JSON_COMPACT | JSON_SORT_KEYS);
	CHECK(text && strcmp(text, "{\"blocksize\":0,\"clevel\":5,\"cname\":\"zstd\",\"id\":"
				   "\"blosc\",\"shuffle\":1}") == 0);
	free(text);
	json_decref(cfg);
	scout__codec_free(c);

	/* errors name the id and field */
	CHECK_ERR(scout__codec_new_from_text(&c, "{\"id\": \"blosc\",", 1), SCOUT_EFORMAT,
		  "line 1");
	CHECK(c == NULL);
	CHECK_ERR(scout__codec_new_from_text(&c, "{\"id\": \"xz\"}", 1), SCOUT_EFORMAT, "\"xz\"");
	CHECK_ERR(scout__codec_new_from_text(&c, "[1]", 1), SCOUT_EFORMAT, "array");
	CHECK_ERR(scout__codec_new_from_text(&c, "{\"level\": 1}", 1), SCOUT_EFORMAT, "\"id\"");
	CHECK_ERR(scout__codec_new_from_text(&c, "{\"id\": \"zlib\", \"level\": 11}", 1),
		  SCOUT_EFORMAT, "zlib codec: field \"level\" is 11");
	CHECK_ERR(scout__codec_new_from_text(&c, "{\"id\": \"blosc\", \"shuffle\": \"bit\"}", 1),
		  SCOUT_EFORMAT, "\"shuffle\"");
	CHECK_ERR(scout__codec_new_from_text(&c, "{\"id\": \"blosc\", \"cname\": \"lzo\"}", 1),
		  SCOUT_EFORMAT, "lzo");
	CHECK_ERR(scout__codec_new_from_text(&c, "{\"id\": \"zstd\", \"lvl\": 1}", 1),
		  SCOUT_EFORMAT, "\"lvl\"");
	CHECK_ERR(
	    scout__codec_new_from_text(&c, "{\"id\": \"zstd\", \"level\": 1, \"level\": 2}", 1),
	    SCOUT_EFORMAT, "duplicate");
	CHECK_ERR(scout__codec_new_from_text(
		      &c, "{\"id\": \"lzma\", \"filters\": [{\"id\": 33}, {\"id\": 3}]}", 1),
		  SCOUT_EFORMAT, "filters");

	/* configs numcodecs accepts but cannot encode with: decoding works */
	CHECK_OK(scout__codec_new_from_text(&c, "{\"id\": \"lzma\", \"format\": 0}", 1));
	void *enc = NULL;
	size_t m = 0;
	unsigned char src[100], dst[100];
	memset(src, 'a', sizeof src);
	CHECK_ERR(scout__codec_encode(c, src, sizeof src, &enc, &m), SCOUT_EFORMAT, "format 0");
	scout_codec *xz = new_codec("{\"id\": \"lzma\", \"format\": 1}", 1);
	CHECK_OK(scout__codec_encode(xz, src, sizeof src, &enc, &m));
	CHECK_OK(scout__codec_decode(c, enc, m, dst, sizeof dst));
	CHECK(memcmp(src, dst, sizeof src) == 0);
	free(enc);
	scout__codec_free(xz);
	scout__codec_free(c);

	/* concatenated gzip members with zero padding, as Python's gzip reads */
	scout_codec *gz = new_codec("{\"id\": \"gzip\"}", 1);
	void *e1 = NULL, *e2 = NULL;
	size_t m1 = 0, m2 = 0;
	CHECK_OK(scout__codec_encode(gz, src, 60, &e1, &m1));
	CHECK_OK(scout__codec_encode(gz, src + 60, 40, &e2, &m2));
	unsigned char *both = calloc(m1 + m2 + 8, 1);
	memcpy(both, e1, m1);
	memcpy(both + m1 + 3, e2, m2); /* 3 zero bytes between, 5 after */
	memset(dst, 0, sizeof dst);
	CHECK_OK(scout__codec_decode(gz, both, m1 + m2 + 8, dst, 100));
	CHECK(memcmp(src, dst, 100) == 0);
	CHECK_ERR(scout__codec_decode(gz, both, m1 + m2 + 8, dst, 99), SCOUT_ECODEC, "gzip");
	free(both);
	free(e1);
	free(e2);
	scout__codec_free(gz);
}

/* zstd frames that do not record their size take the bounded streaming path. */
static void test_zstd_unknown_size(void)
{
	const size_t n = 100000;
	unsigned char *src = make_data(n, 5);
	ZSTD_CCtx *cctx = ZSTD_createCCtx();
	ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0);
	size_t cap = ZSTD_compressBound(n) * 2 + 64;
	unsigned char *enc = malloc(cap);
	size_t m = ZSTD_compress2(cctx, enc, cap, src, n);
	CHECK(!ZSTD_isError(m));
	CHECK(ZSTD_getFrameContentSize(enc, m) == ZSTD_CONTENTSIZE_UNKNOWN);
	/* a second frame of the same data right after the first */
	size_t m2 = ZSTD_compress2(cctx, enc + m, cap - m, src, n);
	CHECK(!ZSTD_isError(m2));
	ZSTD_freeCCtx(cctx);
	scout_codec *c = new_codec("{\"id\": \"zstd\"}", 1);
	unsigned char *dst = malloc(2 * n + 1);
	CHECK_OK(scout__codec_decode(c, enc, m, dst, n));
	CHECK(memcmp(dst, src, n) == 0);
	CHECK_OK(scout__codec_decode(c, enc, m + m2, dst, 2 * n));
	CHECK(memcmp(dst, src, n) == 0 && memcmp(dst + n, src, n) == 0);
	CHECK_ERR(scout__codec_decode(c, enc, m, dst, n - 1), SCOUT_ECODEC, "more than");
	CHECK_ERR(scout__codec_decode(c, enc, m, dst, n + 1), SCOUT_ECODEC, "decoded size");
	CHECK_ERR(scout__codec_decode(c, enc, m + m2, dst, 2 * n + 1), SCOUT_ECODEC, "zstd");
	CHECK_ERR(scout__codec_decode(c, enc, m - 1, dst, n), SCOUT_ECODEC, "zstd");
	free(dst);
	free(enc);
	free(src);
	scout__codec_free(c);
}

/* Several threads decoding (and encoding) with one shared scout_codec. */
typedef struct {
	const scout_codec *codec;
	const void *enc;
	size_t m;
	const unsigned char *src;
	size_t n;
	int errors;
} thread_job;

static void *thread_main(void *arg)
{
	thread_job *job = arg;
	unsigned char *dst = malloc(job->n);
	for (int i = 0; i < 8; i++) {
		memset(dst, 0, job->n);
		if (scout__codec_decode(job->codec, job->enc, job->m, dst, job->n) != SCOUT_OK ||
		    memcmp(dst, job->src, job->n) != 0)
			job->errors++;
		if (i == 0) {
			void *enc = NULL;
			size_t m = 0;
			if (scout__codec_encode(job->codec, job->src, job->n, &enc, &m) !=
				SCOUT_OK ||
			    scout__codec_decode(job->codec, enc, m, dst, job->n) != SCOUT_OK ||
			    memcmp(dst, job->src, job->n) != 0)
				job->errors++;
			free(enc);
		}
	}
	free(dst);
	return NULL;
}

static void test_threads(void)
{
	const size_t n = 65537;
	unsigned char *src = make_data(n, 11);
	/* one config of each codec */
	static const size_t pick[] = {0, 1, 6, 8, 10, 12, 14, 17, 19, 22};
	for (size_t pi = 0; pi < sizeof pick / sizeof pick[0]; pi++) {
		size_t ci = pick[pi];
		scout_codec *c = new_codec(configs[ci], 2);
		void *enc = NULL;
		size_t m = 0;
		CHECK_OK(scout__codec_encode(c, src, n, &enc, &m));
		enum { NT = 4 };
		pthread_t th[NT];
		thread_job jobs[NT];
		for (int t = 0; t < NT; t++) {
			jobs[t] = (thread_job){c, enc, m, src, n, 0};
			CHECK(pthread_create(&th[t], NULL, thread_main, &jobs[t]) == 0);
		}
		int errors = 0;
		for (int t = 0; t < NT; t++) {
			pthread_join(th[t], NULL);
			errors += jobs[t].errors;
		}
		CHECK(errors == 0);
		free(enc);
		scout__codec_free(c);
	}
	free(src);
}

int main(void)
{
	test_configs();
	test_round_trips();
	test_bad_inputs();
	test_corruption();
	test_bombs();
	test_zstd_unknown_size();
	test_threads();
	return check_summary();
}
