/* The "none" codec (config null): chunks are stored as plain bytes. */
#include <stdlib.h>
#include <string.h>

#include "codec_impl.h"

static int none_codec_create(scout_codec **out, const json_t *config, size_t typesize)
{
	(void)config;
	(void)typesize;
	scout_codec *c = scout__codec_malloc(sizeof *c, "none");
	if (!c)
		return SCOUT_ENOMEM;
	c->vt = &scout__codec_none;
	*out = c;
	return SCOUT_OK;
}

static void none_codec_destroy(scout_codec *codec)
{
	free(codec);
}

static json_t *none_codec_config(const scout_codec *codec)
{
	(void)codec;
	return json_null();
}

static int none_codec_encode(const scout_codec *codec, const void *src, size_t n, void **dst_out,
			     size_t *dst_size_out)
{
	(void)codec;
	void *dst = scout__codec_malloc(n, "none");
	if (!dst)
		return SCOUT_ENOMEM;
	if (n)
		memcpy(dst, src, n);
	*dst_out = dst;
	*dst_size_out = n;
	return SCOUT_OK;
}

static int none_codec_decode(const scout_codec *codec, const void *src, size_t n, void *dst,
			     size_t expected)
{
	(void)codec;
	if (n != expected)
		return scout__error(
		    SCOUT_ECODEC,
		    "none (no compressor): stored size %zu differs from the chunk's "
		    "%zu bytes",
		    n, expected);
	if (n)
		memcpy(dst, src, n);
	return SCOUT_OK;
}

const scout_codec_vtable scout__codec_none = {
    .id = "none",
    .create = none_codec_create,
    .destroy = none_codec_destroy,
    .config = none_codec_config,
    .encode = none_codec_encode,
    .decode = none_codec_decode,
};
