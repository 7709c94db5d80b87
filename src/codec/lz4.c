/*
 * numcodecs' LZ4 codec: a 4-byte little-endian decoded size, then one LZ4
 * block; "acceleration" (default 1; like numcodecs, values <= 0 compress
 * with 1, while the config keeps the value given). The size prefix must equal
 * the chunk's size before anything is decoded. Unlike numcodecs (which
 * refuses a zero size prefix), an empty chunk round-trips.
 */
#include <limits.h>
#include <lz4.h>
#include <stdlib.h>

#include "codec_impl.h"

typedef struct {
	scout_codec base;
	long long acceleration;
} lz4_codec;

static int lz4_codec_create(scout_codec **out, const json_t *config, size_t typesize)
{
	(void)typesize;
	static const char *const keys[] = {"acceleration", NULL};
	long long acc;
	int rc = scout__codec_check_keys(config, "lz4", keys);
	if (rc || (rc = scout__codec_get_int(&acc, NULL, config, "lz4", "acceleration", 1, INT_MIN,
					     INT_MAX, 0)))
		return rc;
	lz4_codec *c = scout__codec_malloc(sizeof *c, "lz4");
	if (!c)
		return SCOUT_ENOMEM;
	c->base.vt = &scout__codec_lz4;
	c->acceleration = acc;
	*out = &c->base;
	return SCOUT_OK;
}

static void lz4_codec_destroy(scout_codec *codec)
{
	free(codec);
}

static json_t *lz4_codec_config(const scout_codec *codec)
{
	return scout__codec_config_int("lz4", "acceleration",
				       ((const lz4_codec *)codec)->acceleration);
}

static int lz4_codec_encode(const scout_codec *codec, const void *src, size_t n, void **dst_out,
			    size_t *dst_size_out)
{
	const lz4_codec *c = (const lz4_codec *)codec;
	if (n > LZ4_MAX_INPUT_SIZE)
		return scout__error(SCOUT_ECODEC,
				    "lz4: cannot compress %zu bytes (LZ4's limit is %d bytes)", n,
				    LZ4_MAX_INPUT_SIZE);
	int bound = LZ4_compressBound((int)n);
	size_t cap = (size_t)bound + 4;
	unsigned char *dst = scout__codec_scratch(cap, "lz4");
	if (!dst)
		return SCOUT_ENOMEM;
	dst[0] = (unsigned char)(n & 0xff);
	dst[1] = (unsigned char)((n >> 8) & 0xff);
	dst[2] = (unsigned char)((n >> 16) & 0xff);
	dst[3] = (unsigned char)((n >> 24) & 0xff);
	/* LZ4_compress_fast keeps its state on the stack: safe from any thread */
	int r = LZ4_compress_fast(src, (char *)dst + 4, (int)n, bound,
				  c->acceleration <= 0 ? 1 : (int)c->acceleration);
	if (r <= 0) {
		scout__codec_scratch_free(dst, cap);
		return scout__error(SCOUT_ECODEC, "lz4: compression failed (%d)", r);
	}
	return scout__codec_take(dst_out, dst_size_out, dst, cap, (size_t)r + 4, "lz4");
}

static int lz4_codec_decode(const scout_codec *codec, const void *src, size_t n, void *dst,
			    size_t expected)
{
	(void)codec;
	const unsigned char *s = src;
	if (n < 5)
		return scout__error(SCOUT_ECODEC,
				    "lz4: truncated input: %zu bytes, less than the 4-byte size "
				    "prefix and a block",
				    n);
	uint32_t size =
	    (uint32_t)s[0] | (uint32_t)s[1] << 8 | (uint32_t)s[2] << 16 | (uint32_t)s[3] << 24;
	if ((size_t)size != expected)
		return scout__error(SCOUT_ECODEC,
				    "lz4: size prefix claims %u decoded bytes, the chunk has %zu",
				    (unsigned)size, expected);
	if (expected > (size_t)LZ4_MAX_INPUT_SIZE || n - 4 > (size_t)INT_MAX)
		return scout__error(SCOUT_ECODEC, "lz4: block too large for LZ4 (%zu bytes)",
				    expected);
	int r = LZ4_decompress_safe((const char *)s + 4, dst, (int)(n - 4), (int)expected);
	if (r < 0)
		return scout__error(SCOUT_ECODEC, "lz4: corrupt or truncated block (LZ4 error %d)",
				    r);
	if ((size_t)r != expected)
		return scout__codec_size_error("lz4", (size_t)r, expected);
	return SCOUT_OK;
}

const scout_codec_vtable scout__codec_lz4 = {
    .id = "lz4",
    .create = lz4_codec_create,
    .destroy = lz4_codec_destroy,
    .config = lz4_codec_config,
    .encode = lz4_codec_encode,
    .decode = lz4_codec_decode,
};
