/*
 * numcodecs' Zstd codec: zstd frames, "level" (default 1; like numcodecs,
 * levels <= 0 compress at 1 and levels above ZSTD_maxCLevel() at the
 * maximum, while the config keeps the value given). The optional "checksum"
 * field of later numcodecs versions is accepted (and written only when true).
 *
 * Each thread keeps one compression and one decompression context for all
 * its calls (created on first use, freed when the thread exits): a context
 * per call cost a fresh mapping of its ~1 MiB workspace, faulted in and
 * unmapped again, for every chunk. Contexts are reset before each use, so no
 * parameter or stream state leaks from one call to the next. A forked child
 * inherits the forking thread's contexts (copies: safe). Decoding first sums the content
 * sizes of all frames (ZSTD_getFrameContentSize): a size other than the
 * chunk's is refused before decompressing; frames without a recorded size
 * are stream-decoded into the chunk buffer, stopping one byte past it.
 */
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <zstd.h>

#include "codec_impl.h"

typedef struct {
	scout_codec base;
	long long level;
	int checksum;
} zstd_codec;

/* ---- per-thread contexts ---- */

static pthread_key_t cctx_key, dctx_key;
static pthread_once_t keys_once = PTHREAD_ONCE_INIT;
static int keys_ok;

static void free_cctx(void *p)
{
	ZSTD_freeCCtx(p);
}

static void free_dctx(void *p)
{
	ZSTD_freeDCtx(p);
}

static void make_keys(void)
{
	keys_ok = pthread_key_create(&cctx_key, free_cctx) == 0 &&
		  pthread_key_create(&dctx_key, free_dctx) == 0;
}

/* The calling thread's compression context, reset; NULL when out of memory. */
static ZSTD_CCtx *thread_cctx(void)
{
	pthread_once(&keys_once, make_keys);
	ZSTD_CCtx *c = keys_ok ? pthread_getspecific(cctx_key) : NULL;
	if (!c) {
		c = ZSTD_createCCtx();
		if (c && keys_ok && pthread_setspecific(cctx_key, c) != 0) {
			ZSTD_freeCCtx(c);
			return NULL;
		}
		if (!keys_ok)
			return c; /* the caller frees it (release_cctx) */
	}
	if (c)
		ZSTD_CCtx_reset(c, ZSTD_reset_session_and_parameters);
	return c;
}

static void release_cctx(ZSTD_CCtx *c)
{
	if (!keys_ok)
		ZSTD_freeCCtx(c);
}

static ZSTD_DCtx *thread_dctx(void)
{
	pthread_once(&keys_once, make_keys);
	ZSTD_DCtx *d = keys_ok ? pthread_getspecific(dctx_key) : NULL;
	if (!d) {
		d = ZSTD_createDCtx();
		if (d && keys_ok && pthread_setspecific(dctx_key, d) != 0) {
			ZSTD_freeDCtx(d);
			return NULL;
		}
		if (!keys_ok)
			return d;
	}
	if (d)
		ZSTD_DCtx_reset(d, ZSTD_reset_session_and_parameters);
	return d;
}

static void release_dctx(ZSTD_DCtx *d)
{
	if (!keys_ok)
		ZSTD_freeDCtx(d);
}

static int zstd_codec_create(scout_codec **out, const json_t *config, size_t typesize)
{
	(void)typesize;
	static const char *const keys[] = {"level", "checksum", NULL};
	long long level;
	int rc = scout__codec_check_keys(config, "zstd", keys);
	if (rc || (rc = scout__codec_get_int(&level, NULL, config, "zstd", "level", 1, INT_MIN,
					     INT_MAX, 0)))
		return rc;
	int checksum = 0;
	json_t *cv = json_object_get(config, "checksum");
	if (cv) {
		if (!json_is_boolean(cv))
			return scout__error(SCOUT_EFORMAT,
					    "zstd codec: field \"checksum\" must be true or false");
		checksum = json_is_true(cv);
	}
	zstd_codec *c = scout__codec_malloc(sizeof *c, "zstd");
	if (!c)
		return SCOUT_ENOMEM;
	c->base.vt = &scout__codec_zstd;
	c->level = level;
	c->checksum = checksum;
	*out = &c->base;
	return SCOUT_OK;
}

static void zstd_codec_destroy(scout_codec *codec)
{
	free(codec);
}

static json_t *zstd_codec_config(const scout_codec *codec)
{
	const zstd_codec *c = (const zstd_codec *)codec;
	json_t *o = scout__codec_config_int("zstd", "level", c->level);
	if (o && c->checksum)
		json_object_set_new(o, "checksum", json_true());
	return o;
}

static int zstd_codec_encode(const scout_codec *codec, const void *src, size_t n, void **dst_out,
			     size_t *dst_size_out)
{
	const zstd_codec *c = (const zstd_codec *)codec;
	int level = c->level <= 0                 ? 1
		    : c->level > ZSTD_maxCLevel() ? ZSTD_maxCLevel()
						  : (int)c->level;
	size_t cap = ZSTD_compressBound(n);
	if (ZSTD_isError(cap) || cap == 0)
		return scout__error(SCOUT_ECODEC, "zstd: cannot compress %zu bytes", n);
	void *dst = scout__codec_scratch(cap, "zstd");
	if (!dst)
		return SCOUT_ENOMEM;
	ZSTD_CCtx *cctx = thread_cctx();
	if (!cctx) {
		scout__codec_scratch_free(dst, cap);
		return scout__error(SCOUT_ENOMEM, "zstd: cannot create a compression context");
	}
	size_t r;
	if (c->checksum) {
		r = ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
		if (!ZSTD_isError(r))
			r = ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
		if (!ZSTD_isError(r))
			r = ZSTD_compress2(cctx, dst, cap, src, n);
	} else {
		r = ZSTD_compressCCtx(cctx, dst, cap, src, n, level);
	}
	release_cctx(cctx);
	if (ZSTD_isError(r)) {
		scout__codec_scratch_free(dst, cap);
		return scout__error(SCOUT_ECODEC, "zstd: compression failed: %s",
				    ZSTD_getErrorName(r));
	}
	return scout__codec_take(dst_out, dst_size_out, dst, cap, r, "zstd");
}

/* Frames without a content size: bounded streaming decode. */
static int zstd_stream_decode(ZSTD_DCtx *dctx, const void *src, size_t n, void *dst,
			      size_t expected)
{
	ZSTD_inBuffer in = {src, n, 0};
	ZSTD_outBuffer out = {dst, expected, 0};
	unsigned char probe;
	for (;;) {
		size_t before_in = in.pos, before_out = out.pos, last;
		if (out.pos == out.size) {
			ZSTD_outBuffer p = {&probe, 1, 0};
			last = ZSTD_decompressStream(dctx, &p, &in);
			if (!ZSTD_isError(last) && p.pos)
				return scout__codec_too_long_error("zstd", expected);
		} else {
			last = ZSTD_decompressStream(dctx, &out, &in);
		}
		if (ZSTD_isError(last))
			return scout__error(SCOUT_ECODEC, "zstd: corrupt data: %s",
					    ZSTD_getErrorName(last));
		if (last == 0 && in.pos == in.size)
			break;
		if (in.pos == before_in && out.pos == before_out) {
			if (in.pos == in.size)
				return scout__error(SCOUT_ECODEC,
						    "zstd: truncated input: the frame ends early "
						    "after %zu decoded bytes",
						    out.pos);
			return scout__error(SCOUT_ECODEC, "zstd: decoder made no progress");
		}
	}
	if (out.pos != expected)
		return scout__codec_size_error("zstd", out.pos, expected);
	return SCOUT_OK;
}

static int zstd_codec_decode(const scout_codec *codec, const void *src, size_t n, void *dst,
			     size_t expected)
{
	(void)codec;
	if (n == 0)
		return scout__error(SCOUT_ECODEC, "zstd: truncated input: no bytes");
	/* sum the recorded content sizes of all frames (skippable ones count 0) */
	const unsigned char *s = src;
	unsigned long long total = 0;
	int unknown = 0;
	for (size_t pos = 0; pos < n;) {
		unsigned long long fs = ZSTD_getFrameContentSize(s + pos, n - pos);
		size_t fc = ZSTD_findFrameCompressedSize(s + pos, n - pos);
		if (fs == ZSTD_CONTENTSIZE_ERROR || ZSTD_isError(fc) || fc == 0)
			return scout__error(
			    SCOUT_ECODEC, "zstd: %s at input byte %zu: %s",
			    pos ? "trailing data or a corrupt frame"
				: "not a zstd frame, or a corrupt or truncated one",
			    pos, ZSTD_isError(fc) ? ZSTD_getErrorName(fc) : "bad header");
		if (fs == ZSTD_CONTENTSIZE_UNKNOWN)
			unknown = 1;
		else if (fs > ULLONG_MAX - total)
			total = ULLONG_MAX;
		else
			total += fs;
		pos += fc;
	}
	if (total > (unsigned long long)expected || (!unknown && total != expected))
		return scout__error(
		    SCOUT_ECODEC,
		    "zstd: frame header%s claim%s %llu decoded bytes, the chunk has "
		    "%zu",
		    unknown ? "s (of the frames that record it)" : "", unknown ? "" : "s", total,
		    expected);
	ZSTD_DCtx *dctx = thread_dctx();
	if (!dctx)
		return scout__error(SCOUT_ENOMEM, "zstd: cannot create a decompression context");
	int rc = SCOUT_OK;
	if (unknown) {
		rc = zstd_stream_decode(dctx, src, n, dst, expected);
	} else {
		size_t r = ZSTD_decompressDCtx(dctx, dst, expected, src, n);
		if (ZSTD_isError(r))
			rc = scout__error(SCOUT_ECODEC, "zstd: corrupt data: %s",
					  ZSTD_getErrorName(r));
		else if (r != expected)
			rc = scout__codec_size_error("zstd", r, expected);
	}
	release_dctx(dctx);
	return rc;
}

const scout_codec_vtable scout__codec_zstd = {
    .id = "zstd",
    .create = zstd_codec_create,
    .destroy = zstd_codec_destroy,
    .config = zstd_codec_config,
    .encode = zstd_codec_encode,
    .decode = zstd_codec_decode,
};
