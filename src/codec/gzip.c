/*
 * numcodecs' GZip codec: an RFC 1952 gzip member ("level" -1..9, default 1),
 * written by zlib with mtime 0 so equal chunks give equal bytes. Decoding
 * accepts what Python's gzip module reads: one or more members, zero padding
 * after them, and empty input (no data).
 */
#include <stdlib.h>

#include "codec_impl.h"

typedef struct {
	scout_codec base;
	int level;
} gzip_codec;

static int gzip_codec_create(scout_codec **out, const json_t *config, size_t typesize)
{
	(void)typesize;
	static const char *const keys[] = {"level", NULL};
	long long level;
	int rc = scout__codec_check_keys(config, "gzip", keys);
	if (rc || (rc = scout__codec_get_int(&level, NULL, config, "gzip", "level", 1, -1, 9, 0)))
		return rc;
	gzip_codec *c = scout__codec_malloc(sizeof *c, "gzip");
	if (!c)
		return SCOUT_ENOMEM;
	c->base.vt = &scout__codec_gzip;
	c->level = (int)level;
	*out = &c->base;
	return SCOUT_OK;
}

static void gzip_codec_destroy(scout_codec *codec)
{
	free(codec);
}

static json_t *gzip_codec_config(const scout_codec *codec)
{
	return scout__codec_config_int("gzip", "level", ((const gzip_codec *)codec)->level);
}

static int gzip_codec_encode(const scout_codec *codec, const void *src, size_t n, void **dst_out,
			     size_t *dst_size_out)
{
	return scout__zlib_deflate("gzip", ((const gzip_codec *)codec)->level, 16 + 15, src, n,
				   dst_out, dst_size_out);
}

static int gzip_codec_decode(const scout_codec *codec, const void *src, size_t n, void *dst,
			     size_t expected)
{
	(void)codec;
	return scout__zlib_inflate("gzip", 16 + 15, 1, src, n, dst, expected);
}

const scout_codec_vtable scout__codec_gzip = {
    .id = "gzip",
    .create = gzip_codec_create,
    .destroy = gzip_codec_destroy,
    .config = gzip_codec_config,
    .encode = gzip_codec_encode,
    .decode = gzip_codec_decode,
};
