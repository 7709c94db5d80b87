/*
 * numcodecs' Blosc codec on c-blosc 1.x: cname, clevel, shuffle (0 none,
 * 1 byte, 2 bit, -1 auto: bit shuffle for 1-byte items, byte shuffle
 * otherwise, as numcodecs does), blocksize (0 automatic). Always the _ctx
 * entry points with one internal thread, so no global blosc state is used and
 * the output equals numcodecs' single-threaded output byte for byte.
 */
#include <blosc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec_impl.h"

typedef struct {
	scout_codec base;
	char cname[16];
	int clevel;
	int shuffle;   /* as configured: -1, 0, 1, 2 */
	int doshuffle; /* what blosc gets for this typesize */
	long long blocksize;
	size_t typesize; /* >= 1 */
} blosc_codec;

static const char *const cnames[] = {"blosclz", "lz4", "lz4hc", "snappy", "zlib", "zstd"};

static int blosc_codec_create(scout_codec **out, const json_t *config, size_t typesize)
{
	static const char *const keys[] = {"cname", "clevel", "shuffle", "blocksize", NULL};
	int rc = scout__codec_check_keys(config, "blosc", keys);
	if (rc)
		return rc;
	const char *cname = "lz4";
	json_t *cv = json_object_get(config, "cname");
	if (cv) {
		if (!json_is_string(cv))
			return scout__error(SCOUT_EFORMAT,
					    "blosc codec: field \"cname\" must be a string");
		cname = json_string_value(cv);
	}
	int known = 0;
	for (size_t i = 0; i < sizeof cnames / sizeof cnames[0]; i++)
		if (strcmp(cnames[i], cname) == 0)
			known = 1;
	/* (not blosc_list_compressors(): it fills a static buffer, racy across threads) */
	if (!known || blosc_compname_to_compcode(cname) < 0)
		return scout__error(SCOUT_EFORMAT,
				    "blosc codec: field \"cname\" is \"%s\", not a compressor of "
				    "this c-blosc (blosclz, lz4, lz4hc, zlib, zstd%s)",
				    cname,
				    blosc_compname_to_compcode("snappy") >= 0 ? ", snappy" : "");
	long long clevel, shuffle, blocksize;
	if ((rc = scout__codec_get_int(&clevel, NULL, config, "blosc", "clevel", 5, 0, 9, 0)) ||
	    (rc = scout__codec_get_int(&shuffle, NULL, config, "blosc", "shuffle", 1, -1, 2, 0)) ||
	    (rc = scout__codec_get_int(&blocksize, NULL, config, "blosc", "blocksize", 0, 0,
				       BLOSC_MAX_BLOCKSIZE, 0)))
		return rc;
	blosc_codec *c = scout__codec_malloc(sizeof *c, "blosc");
	if (!c)
		return SCOUT_ENOMEM;
	memset(c, 0, sizeof *c);
	c->base.vt = &scout__codec_blosc;
	snprintf(c->cname, sizeof c->cname, "%s", cname);
	c->clevel = (int)clevel;
	c->shuffle = (int)shuffle;
	c->blocksize = blocksize;
	c->typesize = typesize ? typesize : 1;
	if (shuffle == -1)
		c->doshuffle = c->typesize == 1 ? BLOSC_BITSHUFFLE : BLOSC_SHUFFLE;
	else
		c->doshuffle = (int)shuffle;
	*out = &c->base;
	return SCOUT_OK;
}

static void blosc_codec_destroy(scout_codec *codec)
{
	free(codec);
}

static json_t *blosc_codec_config(const scout_codec *codec)
{
	const blosc_codec *c = (const blosc_codec *)codec;
	json_t *o = json_object();
	if (!o)
		return NULL;
	json_object_set_new(o, "id", json_string("blosc"));
	json_object_set_new(o, "cname", json_string(c->cname));
	json_object_set_new(o, "clevel", json_integer(c->clevel));
	json_object_set_new(o, "shuffle", json_integer(c->shuffle));
	json_object_set_new(o, "blocksize", json_integer(c->blocksize));
	return o;
}

static int blosc_codec_encode(const scout_codec *codec, const void *src, size_t n, void **dst_out,
			      size_t *dst_size_out)
{
	const blosc_codec *c = (const blosc_codec *)codec;
	if (n > BLOSC_MAX_BUFFERSIZE)
		return scout__error(
		    SCOUT_ECODEC, "blosc: cannot compress %zu bytes (c-blosc's limit is %d bytes)",
		    n, BLOSC_MAX_BUFFERSIZE);
	size_t cap = n + BLOSC_MAX_OVERHEAD;
	void *dst = scout__codec_scratch(cap, "blosc");
	if (!dst)
		return SCOUT_ENOMEM;
	int r = blosc_compress_ctx(c->clevel, c->doshuffle, c->typesize, n, src, dst, cap, c->cname,
				   (size_t)c->blocksize, 1);
	if (r <= 0) {
		scout__codec_scratch_free(dst, cap);
		return scout__error(SCOUT_ECODEC, "blosc: compression with %s failed (error %d)",
				    c->cname, r);
	}
	return scout__codec_take(dst_out, dst_size_out, dst, cap, (size_t)r, "blosc");
}

static int blosc_codec_decode(const scout_codec *codec, const void *src, size_t n, void *dst,
			      size_t expected)
{
	(void)codec;
	const unsigned char *s = src;
	if (n < BLOSC_MIN_HEADER_LENGTH)
		return scout__error(SCOUT_ECODEC,
				    "blosc: truncated input: %zu bytes, shorter than the %d-byte "
				    "header",
				    n, BLOSC_MIN_HEADER_LENGTH);
	size_t nbytes = 0, cbytes = 0, blocksize = 0;
	blosc_cbuffer_sizes(src, &nbytes, &cbytes, &blocksize);
	if (s[0] == 0 || s[0] > BLOSC_VERSION_FORMAT || (nbytes == 0 && cbytes == 0))
		return scout__error(SCOUT_ECODEC,
				    "blosc: not a blosc buffer, or an unsupported format version "
				    "%d (this c-blosc reads up to %d)",
				    s[0], BLOSC_VERSION_FORMAT);
	if (cbytes != n)
		return scout__error(
		    SCOUT_ECODEC,
		    "blosc: header gives %zu compressed bytes but the input has %zu "
		    "(%s)",
		    cbytes, n, cbytes > n ? "truncated" : "trailing data");
	if (nbytes != expected)
		return scout__error(SCOUT_ECODEC,
				    "blosc: header claims %zu decoded bytes, the chunk has %zu",
				    nbytes, expected);
	size_t vnbytes = 0;
	if (blosc_cbuffer_validate(src, n, &vnbytes) != 0 || vnbytes != nbytes)
		return scout__error(SCOUT_ECODEC, "blosc: invalid header");
	int r = blosc_decompress_ctx(src, dst, expected, 1);
	if (r < 0 || (r == 0 && expected != 0))
		return scout__error(SCOUT_ECODEC, "blosc: corrupt data (c-blosc error %d)", r);
	if ((size_t)r != expected)
		return scout__codec_size_error("blosc", (size_t)r, expected);
	return SCOUT_OK;
}

const scout_codec_vtable scout__codec_blosc = {
    .id = "blosc",
    .create = blosc_codec_create,
    .destroy = blosc_codec_destroy,
    .config = blosc_codec_config,
    .encode = blosc_codec_encode,
    .decode = blosc_codec_decode,
};
