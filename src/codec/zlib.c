/*
 * numcodecs' Zlib codec (RFC 1950 stream, "level" -1..9, default 1) and the
 * zlib stream helpers gzip.c shares. Decoding writes straight into the
 * caller's chunk buffer and stops one byte past it: a stream that would
 * decode to more than the chunk is refused without decoding the rest.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "codec_impl.h"

typedef struct {
	scout_codec base;
	int level;
} zlib_codec;

int scout__zlib_deflate(const char *id, int level, int window_bits, const void *src, size_t n,
			void **dst_out, size_t *dst_size_out)
{
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	if (deflateInit2(&zs, level, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return scout__error(SCOUT_ENOMEM, "%s: cannot initialise the compressor", id);
	uLong bound = deflateBound(&zs, (uLong)n);
	size_t cap = (size_t)bound;
	unsigned char *dst = scout__codec_scratch(cap, id);
	if (!dst) {
		deflateEnd(&zs);
		return SCOUT_ENOMEM;
	}
	const unsigned char *in = src;
	size_t in_pos = 0, out_pos = 0;
	int zr;
	do {
		size_t in_chunk = n - in_pos < UINT_MAX ? n - in_pos : UINT_MAX;
		size_t out_chunk = cap - out_pos < UINT_MAX ? cap - out_pos : UINT_MAX;
		zs.next_in = (Bytef *)(in ? in + in_pos : NULL);
		zs.avail_in = (uInt)in_chunk;
		zs.next_out = dst + out_pos;
		zs.avail_out = (uInt)out_chunk;
		int flush = in_pos + in_chunk == n ? Z_FINISH : Z_NO_FLUSH;
		zr = deflate(&zs, flush);
		in_pos += in_chunk - zs.avail_in;
		out_pos += out_chunk - zs.avail_out;
		if (zr == Z_STREAM_ERROR || (zr == Z_BUF_ERROR && out_pos == cap)) {
			deflateEnd(&zs);
			scout__codec_scratch_free(dst, cap);
			return scout__error(SCOUT_ECODEC, "%s: compression failed", id);
		}
	} while (zr != Z_STREAM_END);
	deflateEnd(&zs);
	return scout__codec_take(dst_out, dst_size_out, dst, cap, out_pos, id);
}

int scout__zlib_inflate(const char *id, int window_bits, int gzip_members, const void *src,
			size_t n, void *dst, size_t expected)
{
	const unsigned char *s = src;
	if (n == 0) {
		/* Python's gzip reads empty input as no data; zlib refuses it */
		if (gzip_members)
			return expected == 0 ? SCOUT_OK : scout__codec_size_error(id, 0, expected);
		return scout__error(SCOUT_ECODEC, "%s: truncated input: no bytes", id);
	}
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	if (inflateInit2(&zs, window_bits) != Z_OK)
		return scout__error(SCOUT_ENOMEM, "%s: cannot initialise the decompressor", id);
	unsigned char *out = dst;
	unsigned char probe;
	size_t in_pos = 0, out_pos = 0;
	int rc = SCOUT_OK;
	for (;;) {
		size_t in_chunk = n - in_pos < UINT_MAX ? n - in_pos : UINT_MAX;
		zs.next_in = (Bytef *)(s + in_pos);
		zs.avail_in = (uInt)in_chunk;
		int probing = out_pos == expected;
		size_t out_chunk = probing                         ? 1
				   : expected - out_pos < UINT_MAX ? expected - out_pos
								   : UINT_MAX;
		zs.next_out = probing ? &probe : out + out_pos;
		zs.avail_out = (uInt)out_chunk;
		int zr = inflate(&zs, Z_NO_FLUSH);
		size_t made = out_chunk - zs.avail_out;
		size_t used = in_chunk - zs.avail_in;
		in_pos += used;
		if (probing && made) {
			rc = scout__codec_too_long_error(id, expected);
			break;
		}
		if (!probing)
			out_pos += made;
		if (zr == Z_STREAM_END) {
			if (gzip_members) {
				while (in_pos < n && s[in_pos] == 0)
					in_pos++;
				if (in_pos < n) {
					inflateReset(&zs);
					continue;
				}
			} else if (in_pos < n) {
				rc = scout__error(SCOUT_ECODEC,
						  "%s: %zu bytes of trailing data after the end of "
						  "the stream",
						  id, n - in_pos);
				break;
			}
			if (out_pos != expected)
				rc = scout__codec_size_error(id, out_pos, expected);
			break;
		}
		if (zr == Z_OK && (made || used))
			continue;
		if (zr == Z_OK || zr == Z_BUF_ERROR) {
			if (in_pos == n)
				rc =
				    scout__error(SCOUT_ECODEC,
						 "%s: truncated input: the stream ends early after "
						 "%zu decoded bytes",
						 id, out_pos);
			else
				rc = scout__error(SCOUT_ECODEC, "%s: decoder made no progress", id);
			break;
		}
		if (zr == Z_MEM_ERROR) {
			rc = scout__error(SCOUT_ENOMEM, "%s: out of memory while decoding", id);
			break;
		}
		rc =
		    scout__error(SCOUT_ECODEC, "%s: corrupt data at input byte %zu: %s", id, in_pos,
				 zs.msg              ? zs.msg
				 : zr == Z_NEED_DICT ? "needs a preset dictionary"
						     : "invalid stream");
		break;
	}
	inflateEnd(&zs);
	return rc;
}

static int zlib_codec_create(scout_codec **out, const json_t *config, size_t typesize)
{
	(void)typesize;
	static const char *const keys[] = {"level", NULL};
	long long level;
	int rc = scout__codec_check_keys(config, "zlib", keys);
	if (rc || (rc = scout__codec_get_int(&level, NULL, config, "zlib", "level", 1, -1, 9, 0)))
		return rc;
	zlib_codec *c = scout__codec_malloc(sizeof *c, "zlib");
	if (!c)
		return SCOUT_ENOMEM;
	c->base.vt = &scout__codec_zlib;
	c->level = (int)level;
	*out = &c->base;
	return SCOUT_OK;
}

static void zlib_codec_destroy(scout_codec *codec)
{
	free(codec);
}

static json_t *zlib_codec_config(const scout_codec *codec)
{
	return scout__codec_config_int("zlib", "level", ((const zlib_codec *)codec)->level);
}

static int zlib_codec_encode(const scout_codec *codec, const void *src, size_t n, void **dst_out,
			     size_t *dst_size_out)
{
	return scout__zlib_deflate("zlib", ((const zlib_codec *)codec)->level, 15, src, n, dst_out,
				   dst_size_out);
}

static int zlib_codec_decode(const scout_codec *codec, const void *src, size_t n, void *dst,
			     size_t expected)
{
	(void)codec;
	return scout__zlib_inflate("zlib", 15, 0, src, n, dst, expected);
}

const scout_codec_vtable scout__codec_zlib = {
    .id = "zlib",
    .create = zlib_codec_create,
    .destroy = zlib_codec_destroy,
    .config = zlib_codec_config,
    .encode = zlib_codec_encode,
    .decode = zlib_codec_decode,
};
