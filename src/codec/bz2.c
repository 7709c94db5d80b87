/*
 * numcodecs' BZ2 codec: a bzip2 stream, "level" 1..9 (block size in 100 kB,
 * default 1), written as Python's bz2 module does (work factor 0). Decoding
 * accepts concatenated streams (as Python does), writes straight into the
 * caller's buffer and stops one byte past it.
 */
#include <bzlib.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "codec_impl.h"

typedef struct {
	scout_codec base;
	int level;
} bz2_codec;

static int bz2_codec_create(scout_codec **out, const json_t *config, size_t typesize)
{
	(void)typesize;
	static const char *const keys[] = {"level", NULL};
	long long level;
	int rc = scout__codec_check_keys(config, "bz2", keys);
	if (rc || (rc = scout__codec_get_int(&level, NULL, config, "bz2", "level", 1, 1, 9, 0)))
		return rc;
	bz2_codec *c = scout__codec_malloc(sizeof *c, "bz2");
	if (!c)
		return SCOUT_ENOMEM;
	c->base.vt = &scout__codec_bz2;
	c->level = (int)level;
	*out = &c->base;
	return SCOUT_OK;
}

static void bz2_codec_destroy(scout_codec *codec)
{
	free(codec);
}

static json_t *bz2_codec_config(const scout_codec *codec)
{
	return scout__codec_config_int("bz2", "level", ((const bz2_codec *)codec)->level);
}

static size_t min_uint(size_t a)
{
	return a < UINT_MAX ? a : UINT_MAX;
}

static int bz2_codec_encode(const scout_codec *codec, const void *src, size_t n, void **dst_out,
			    size_t *dst_size_out)
{
	const bz2_codec *c = (const bz2_codec *)codec;
	bz_stream bs;
	memset(&bs, 0, sizeof bs);
	if (BZ2_bzCompressInit(&bs, c->level, 0, 0) != BZ_OK)
		return scout__error(SCOUT_ENOMEM, "bz2: cannot initialise the compressor");
	size_t cap = n + n / 100 + 600;
	if (cap < n) {
		BZ2_bzCompressEnd(&bs);
		return scout__error(SCOUT_EOVERFLOW, "bz2: input of %zu bytes is too large", n);
	}
	unsigned char *dst = scout__codec_malloc(cap, "bz2");
	if (!dst) {
		BZ2_bzCompressEnd(&bs);
		return SCOUT_ENOMEM;
	}
	const char *in = src;
	size_t in_pos = 0, out_pos = 0;
	int r;
	do {
		if (out_pos == cap) {
			size_t ncap = cap + cap / 2;
			unsigned char *grown = ncap > cap ? realloc(dst, ncap) : NULL;
			if (!grown) {
				BZ2_bzCompressEnd(&bs);
				free(dst);
				return scout__error(SCOUT_ENOMEM, "bz2: cannot grow the output");
			}
			dst = grown;
			cap = ncap;
		}
		size_t in_chunk = min_uint(n - in_pos), out_chunk = min_uint(cap - out_pos);
		bs.next_in = (char *)(in ? in + in_pos : NULL);
		bs.avail_in = (unsigned)in_chunk;
		bs.next_out = (char *)dst + out_pos;
		bs.avail_out = (unsigned)out_chunk;
		r = BZ2_bzCompress(&bs, in_pos + in_chunk == n ? BZ_FINISH : BZ_RUN);
		in_pos += in_chunk - bs.avail_in;
		out_pos += out_chunk - bs.avail_out;
		if (r < 0) {
			BZ2_bzCompressEnd(&bs);
			free(dst);
			return scout__error(SCOUT_ECODEC,
					    "bz2: compression failed (bzip2 error %d)", r);
		}
	} while (r != BZ_STREAM_END);
	BZ2_bzCompressEnd(&bs);
	void *shrunk = realloc(dst, out_pos);
	*dst_out = shrunk ? shrunk : dst;
	*dst_size_out = out_pos;
	return SCOUT_OK;
}

static int bz2_codec_decode(const scout_codec *codec, const void *src, size_t n, void *dst,
			    size_t expected)
{
	(void)codec;
	const unsigned char *s = src;
	if (n == 0)
		return scout__error(SCOUT_ECODEC, "bz2: truncated input: no bytes");
	bz_stream bs;
	memset(&bs, 0, sizeof bs);
	if (BZ2_bzDecompressInit(&bs, 0, 0) != BZ_OK)
		return scout__error(SCOUT_ENOMEM, "bz2: cannot initialise the decompressor");
	unsigned char *out = dst;
	char probe;
	size_t in_pos = 0, out_pos = 0;
	int rc = SCOUT_OK;
	for (;;) {
		size_t in_chunk = min_uint(n - in_pos);
		int probing = out_pos == expected;
		size_t out_chunk = probing ? 1 : min_uint(expected - out_pos);
		bs.next_in = (char *)(s + in_pos);
		bs.avail_in = (unsigned)in_chunk;
		bs.next_out = probing ? &probe : (char *)out + out_pos;
		bs.avail_out = (unsigned)out_chunk;
		int r = BZ2_bzDecompress(&bs);
		size_t made = out_chunk - bs.avail_out, used = in_chunk - bs.avail_in;
		in_pos += used;
		if (probing && made) {
			rc = scout__codec_too_long_error("bz2", expected);
			break;
		}
		if (!probing)
			out_pos += made;
		if (r == BZ_STREAM_END) {
			if (in_pos < n) {
				/* another stream follows (Python's bz2 reads them all) */
				if (n - in_pos < 3 || memcmp(s + in_pos, "BZh", 3) != 0) {
					rc = scout__error(
					    SCOUT_ECODEC,
					    "bz2: %zu bytes of trailing data after the "
					    "end of the stream",
					    n - in_pos);
					break;
				}
				BZ2_bzDecompressEnd(&bs);
				memset(&bs, 0, sizeof bs);
				if (BZ2_bzDecompressInit(&bs, 0, 0) != BZ_OK) {
					rc =
					    scout__error(SCOUT_ENOMEM,
							 "bz2: cannot initialise the decompressor");
					return rc;
				}
				continue;
			}
			if (out_pos != expected)
				rc = scout__codec_size_error("bz2", out_pos, expected);
			break;
		}
		if (r == BZ_OK && (made || used))
			continue;
		if (r == BZ_OK) {
			rc = scout__error(SCOUT_ECODEC,
					  "bz2: truncated input: the stream ends early after %zu "
					  "decoded bytes",
					  out_pos);
			break;
		}
		if (r == BZ_MEM_ERROR)
			rc = scout__error(SCOUT_ENOMEM, "bz2: out of memory while decoding");
		else
			rc = scout__error(SCOUT_ECODEC,
					  "bz2: corrupt data near input byte %zu (%s)", in_pos,
					  r == BZ_DATA_ERROR_MAGIC ? "not a bzip2 stream"
					  : r == BZ_DATA_ERROR     ? "bad block or checksum"
								   : "bzip2 error");
		break;
	}
	BZ2_bzDecompressEnd(&bs);
	return rc;
}

const scout_codec_vtable scout__codec_bz2 = {
    .id = "bz2",
    .create = bz2_codec_create,
    .destroy = bz2_codec_destroy,
    .config = bz2_codec_config,
    .encode = bz2_codec_encode,
    .decode = bz2_codec_decode,
};
