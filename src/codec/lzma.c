/*
 * numcodecs' LZMA codec on liblzma, with the meaning Python's lzma module
 * gives the config: "format" 1 xz container (default), 2 "alone" (.lzma),
 * 3 raw (needs "filters"), 0 auto-detect (decoding only, as in Python);
 * "check" -1 (CRC64 for xz), 0 none, 1 CRC32, 4 CRC64, 10 SHA-256 (xz only);
 * "preset" null (6) or 0..9, optionally | 0x80000000 (extreme); "filters"
 * null or a list of filter specs ({"id": 33, "preset": 1, "dict_size": ...},
 * {"id": 3, "dist": 4}, {"id": 4, "start_offset": 0}, ...).
 *
 * Decoding uses a memory limit (SCOUT_LZMA_MEMLIMIT), writes straight into the
 * chunk buffer and stops one byte past it; an "alone" header that records a
 * larger size than the chunk, or the index of a single xz stream that records
 * another size, is refused before decoding. Like Python,
 * concatenated streams are read (xz stream padding too).
 */
#include <lzma.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec_impl.h"

/* Enough for every preset (9e needs about 65 MiB) and dictionaries to 256 MiB. */
#define SCOUT_LZMA_MEMLIMIT ((uint64_t)320 << 20)

typedef union {
	lzma_options_lzma lzma;
	lzma_options_delta delta;
	lzma_options_bcj bcj;
} filter_options;

typedef struct {
	scout_codec base;
	int format; /* 0 auto, 1 xz, 2 alone, 3 raw */
	int check;  /* -1: default */
	int preset_null;
	uint32_t preset;
	int nfilters; /* 0: "filters" null */
	lzma_filter filters[LZMA_FILTERS_MAX + 1];
	filter_options opts[LZMA_FILTERS_MAX];
	char *filters_json;       /* "filters" as given, for the config */
	const char *encode_error; /* set when numcodecs could not encode either */
} lzma_codec;

static int get_u32(uint32_t *out, const json_t *spec, const char *key, int index)
{
	json_t *v = json_object_get(spec, key);
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > (json_int_t)UINT32_MAX)
		return scout__error(SCOUT_EFORMAT,
				    "lzma codec: field \"filters\"[%d].\"%s\" must be an integer "
				    "from 0 to %u",
				    index, key, (unsigned)UINT32_MAX);
	*out = (uint32_t)json_integer_value(v);
	return 1;
}

static int check_filter_keys(const json_t *spec, int index, const char *const *allowed)
{
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)spec, key, v)
	{
		(void)v;
		int ok = strcmp(key, "id") == 0;
		for (const char *const *a = allowed; *a && !ok; a++)
			ok = strcmp(*a, key) == 0;
		if (!ok)
			return scout__error(
			    SCOUT_EFORMAT,
			    "lzma codec: field \"filters\"[%d] has an option \"%s\" "
			    "this filter does not take",
			    index, key);
	}
	return SCOUT_OK;
}

static int parse_filter(lzma_codec *c, const json_t *spec, int i)
{
	if (!json_is_object(spec))
		return scout__error(SCOUT_EFORMAT,
				    "lzma codec: field \"filters\"[%d] must be an object", i);
	json_t *idv = json_object_get(spec, "id");
	if (!idv || !json_is_integer(idv))
		return scout__error(SCOUT_EFORMAT,
				    "lzma codec: field \"filters\"[%d] needs an integer \"id\"", i);
	lzma_vli id = (lzma_vli)json_integer_value(idv);
	int rc;
	uint32_t u;
	c->filters[i].id = id;
	c->filters[i].options = &c->opts[i];
	if (id == LZMA_FILTER_LZMA1 || id == LZMA_FILTER_LZMA2) {
		static const char *const keys[] = {"preset", "dict_size", "lc", "lp",    "pb",
						   "mode",   "nice_len",  "mf", "depth", NULL};
		if ((rc = check_filter_keys(spec, i, keys)))
			return rc;
		lzma_options_lzma *o = &c->opts[i].lzma;
		uint32_t preset = LZMA_PRESET_DEFAULT;
		if ((rc = get_u32(&preset, spec, "preset", i)) < 0)
			return rc;
		if (lzma_lzma_preset(o, preset))
			return scout__error(SCOUT_EFORMAT,
					    "lzma codec: field \"filters\"[%d].\"preset\" is %u, "
					    "not a valid preset",
					    i, (unsigned)preset);
		if ((rc = get_u32(&o->dict_size, spec, "dict_size", i)) < 0 ||
		    (rc = get_u32(&o->lc, spec, "lc", i)) < 0 ||
		    (rc = get_u32(&o->lp, spec, "lp", i)) < 0 ||
		    (rc = get_u32(&o->pb, spec, "pb", i)) < 0 ||
		    (rc = get_u32(&o->nice_len, spec, "nice_len", i)) < 0 ||
		    (rc = get_u32(&o->depth, spec, "depth", i)) < 0)
			return rc;
		if ((rc = get_u32(&u, spec, "mode", i)) < 0)
			return rc;
		if (rc)
			o->mode = (lzma_mode)u;
		if ((rc = get_u32(&u, spec, "mf", i)) < 0)
			return rc;
		if (rc)
			o->mf = (lzma_match_finder)u;
	} else if (id == LZMA_FILTER_DELTA) {
		static const char *const keys[] = {"dist", NULL};
		if ((rc = check_filter_keys(spec, i, keys)))
			return rc;
		lzma_options_delta *o = &c->opts[i].delta;
		o->type = LZMA_DELTA_TYPE_BYTE;
		o->dist = 1;
		if ((rc = get_u32(&o->dist, spec, "dist", i)) < 0)
			return rc;
	} else if (id == LZMA_FILTER_X86 || id == LZMA_FILTER_POWERPC || id == LZMA_FILTER_IA64 ||
		   id == LZMA_FILTER_ARM || id == LZMA_FILTER_ARMTHUMB || id == LZMA_FILTER_SPARC) {
		static const char *const keys[] = {"start_offset", NULL};
		if ((rc = check_filter_keys(spec, i, keys)))
			return rc;
		lzma_options_bcj *o = &c->opts[i].bcj;
		o->start_offset = 0;
		if ((rc = get_u32(&o->start_offset, spec, "start_offset", i)) < 0)
			return rc;
	} else {
		return scout__error(
		    SCOUT_EFORMAT,
		    "lzma codec: field \"filters\"[%d] has an unsupported filter id "
		    "%llu",
		    i, (unsigned long long)id);
	}
	return SCOUT_OK;
}

static void lzma_codec_destroy(scout_codec *codec)
{
	lzma_codec *c = (lzma_codec *)codec;
	if (c)
		free(c->filters_json);
	free(c);
}

static int lzma_codec_create(scout_codec **out, const json_t *config, size_t typesize)
{
	(void)typesize;
	static const char *const keys[] = {"format", "check", "preset", "filters", NULL};
	long long format, check, preset;
	int preset_null, rc = scout__codec_check_keys(config, "lzma", keys);
	if (rc ||
	    (rc = scout__codec_get_int(&format, NULL, config, "lzma", "format", 1, 0, 3, 0)) ||
	    (rc = scout__codec_get_int(&check, NULL, config, "lzma", "check", -1, -1, 15, 0)) ||
	    (rc = scout__codec_get_int(&preset, &preset_null, config, "lzma", "preset", 0, 0,
				       UINT32_MAX, 1)))
		return rc;
	if (!json_object_get(config, "preset"))
		preset_null = 1;
	if (check != -1 && check != LZMA_CHECK_NONE && check != LZMA_CHECK_CRC32 &&
	    check != LZMA_CHECK_CRC64 && check != LZMA_CHECK_SHA256)
		return scout__error(SCOUT_EFORMAT,
				    "lzma codec: field \"check\" is %lld, expected -1, 0 (none), 1 "
				    "(CRC32), 4 (CRC64) or 10 (SHA-256)",
				    check);
	if (!preset_null && ((preset & ~(long long)LZMA_PRESET_EXTREME) > 9))
		return scout__error(SCOUT_EFORMAT,
				    "lzma codec: field \"preset\" is %lld, expected 0 to 9, "
				    "optionally | 0x80000000 (extreme)",
				    preset);
	json_t *fv = json_object_get(config, "filters");
	if (fv && !json_is_null(fv) && !json_is_array(fv))
		return scout__error(
		    SCOUT_EFORMAT,
		    "lzma codec: field \"filters\" must be a list of filter specs or "
		    "null");
	size_t nf = fv && json_is_array(fv) ? json_array_size(fv) : 0;
	if (nf > LZMA_FILTERS_MAX || (fv && json_is_array(fv) && nf == 0))
		return scout__error(
		    SCOUT_EFORMAT,
		    "lzma codec: field \"filters\" has %zu filters, expected 1 to %d", nf,
		    LZMA_FILTERS_MAX);
	if (format == 3 && nf == 0)
		return scout__error(SCOUT_EFORMAT,
				    "lzma codec: format 3 (raw) needs field \"filters\"");
	lzma_codec *c = scout__codec_malloc(sizeof *c, "lzma");
	if (!c)
		return SCOUT_ENOMEM;
	memset(c, 0, sizeof *c);
	c->base.vt = &scout__codec_lzma;
	c->format = (int)format;
	c->check = (int)check;
	c->preset_null = preset_null;
	c->preset = (uint32_t)preset;
	c->nfilters = (int)nf;
	for (size_t i = 0; i < nf; i++)
		if ((rc = parse_filter(c, json_array_get(fv, i), (int)i))) {
			lzma_codec_destroy(&c->base);
			return rc;
		}
	c->filters[nf].id = LZMA_VLI_UNKNOWN;
	if (nf) {
		if (lzma_raw_decoder_memusage(c->filters) == UINT64_MAX) {
			lzma_codec_destroy(&c->base);
			return scout__error(SCOUT_EFORMAT,
					    "lzma codec: field \"filters\" is a chain liblzma "
					    "refuses (order, options or ranges)");
		}
		c->filters_json = json_dumps(fv, JSON_COMPACT);
		if (!c->filters_json) {
			lzma_codec_destroy(&c->base);
			return scout__error(SCOUT_ENOMEM, "lzma: out of memory");
		}
	}
	/* what Python's lzma.compress() refuses, numcodecs cannot have written */
	if (format == 0)
		c->encode_error = "format 0 (auto-detect) can only decode";
	else if (nf && !preset_null)
		c->encode_error = "\"preset\" and \"filters\" cannot both be given";
	else if (format != 1 && check != -1 && check != LZMA_CHECK_NONE)
		c->encode_error = "integrity checks (\"check\") exist only in format 1 (xz)";
	else if (format == 2 && nf && (nf != 1 || c->filters[0].id != LZMA_FILTER_LZMA1))
		c->encode_error = "format 2 (alone) needs a single LZMA1 filter";
	else if (nf && lzma_raw_encoder_memusage(c->filters) == UINT64_MAX)
		c->encode_error = "liblzma cannot encode with this filter chain";
	*out = &c->base;
	return SCOUT_OK;
}

static json_t *lzma_codec_config(const scout_codec *codec)
{
	const lzma_codec *c = (const lzma_codec *)codec;
	json_t *o = json_object();
	if (!o)
		return NULL;
	json_object_set_new(o, "id", json_string("lzma"));
	json_object_set_new(o, "format", json_integer(c->format));
	json_object_set_new(o, "check", json_integer(c->check));
	json_object_set_new(o, "preset", c->preset_null ? json_null() : json_integer(c->preset));
	json_object_set_new(o, "filters",
			    c->filters_json ? json_loads(c->filters_json, 0, NULL) : json_null());
	return o;
}

static const char *ret_text(lzma_ret r)
{
	switch (r) {
	case LZMA_FORMAT_ERROR:
		return "not in the expected container format";
	case LZMA_OPTIONS_ERROR:
		return "unsupported options in a header";
	case LZMA_DATA_ERROR:
		return "corrupt data";
	case LZMA_BUF_ERROR:
		return "truncated input";
	case LZMA_UNSUPPORTED_CHECK:
		return "unsupported integrity check";
	case LZMA_PROG_ERROR:
		return "invalid arguments";
	default:
		return "liblzma error";
	}
}

static int lzma_codec_encode(const scout_codec *codec, const void *src, size_t n, void **dst_out,
			     size_t *dst_size_out)
{
	const lzma_codec *c = (const lzma_codec *)codec;
	if (c->encode_error)
		return scout__error(SCOUT_EFORMAT, "lzma codec: cannot encode: %s",
				    c->encode_error);
	lzma_stream strm = LZMA_STREAM_INIT;
	uint32_t preset = c->preset_null ? LZMA_PRESET_DEFAULT : c->preset;
	lzma_check check = c->check == -1 ? LZMA_CHECK_CRC64 : (lzma_check)c->check;
	lzma_options_lzma alone_opts;
	lzma_ret r;
	if (c->format == 1)
		r = c->nfilters ? lzma_stream_encoder(&strm, c->filters, check)
				: lzma_easy_encoder(&strm, preset, check);
	else if (c->format == 2 && c->nfilters)
		r = lzma_alone_encoder(&strm, c->filters[0].options);
	else if (c->format == 2)
		r = lzma_lzma_preset(&alone_opts, preset) ? LZMA_OPTIONS_ERROR
							  : lzma_alone_encoder(&strm, &alone_opts);
	else
		r = lzma_raw_encoder(&strm, c->filters);
	if (r == LZMA_MEM_ERROR)
		return scout__error(SCOUT_ENOMEM, "lzma: out of memory for the encoder");
	if (r != LZMA_OK)
		return scout__error(SCOUT_ECODEC, "lzma: cannot start the encoder: %s",
				    ret_text(r));
	size_t cap = lzma_stream_buffer_bound(n);
	if (cap == 0 || cap < n)
		cap = n + n / 2 + 4096;
	unsigned char *dst = scout__codec_malloc(cap, "lzma");
	if (!dst) {
		lzma_end(&strm);
		return SCOUT_ENOMEM;
	}
	strm.next_in = src;
	strm.avail_in = n;
	size_t out_pos = 0;
	for (;;) {
		if (out_pos == cap) {
			size_t ncap = cap + cap / 2;
			unsigned char *grown = ncap > cap ? realloc(dst, ncap) : NULL;
			if (!grown) {
				lzma_end(&strm);
				free(dst);
				return scout__error(SCOUT_ENOMEM, "lzma: cannot grow the output");
			}
			dst = grown;
			cap = ncap;
		}
		strm.next_out = dst + out_pos;
		strm.avail_out = cap - out_pos;
		r = lzma_code(&strm, LZMA_FINISH);
		out_pos = cap - strm.avail_out;
		if (r == LZMA_STREAM_END)
			break;
		if (r != LZMA_OK) {
			lzma_end(&strm);
			free(dst);
			return scout__error(r == LZMA_MEM_ERROR ? SCOUT_ENOMEM : SCOUT_ECODEC,
					    "lzma: compression failed: %s", ret_text(r));
		}
	}
	lzma_end(&strm);
	void *shrunk = realloc(dst, out_pos ? out_pos : 1);
	*dst_out = shrunk ? shrunk : dst;
	*dst_size_out = out_pos;
	return SCOUT_OK;
}

static const char *format_name(int format)
{
	return format == 0   ? "xz or lzma"
	       : format == 1 ? "xz"
	       : format == 2 ? "lzma (alone)"
			     : "raw";
}

/*
 * An xz stream records its decoded size in its index (at the end): when the
 * input is exactly one stream, compare that size with the chunk's before
 * decoding anything. Anything unusual is left to the decoder to report.
 */
static int xz_index_check(const uint8_t *s, size_t n, size_t expected)
{
	lzma_stream_flags flags;
	if (n < 2 * LZMA_STREAM_HEADER_SIZE ||
	    memcmp(s,
		   "\xfd"
		   "7zXZ",
		   6) != 0 ||
	    lzma_stream_footer_decode(&flags, s + n - LZMA_STREAM_HEADER_SIZE) != LZMA_OK ||
	    flags.backward_size > n - 2 * LZMA_STREAM_HEADER_SIZE)
		return SCOUT_OK;
	lzma_index *idx = NULL;
	uint64_t memlimit = (uint64_t)16 << 20;
	size_t in_pos = n - LZMA_STREAM_HEADER_SIZE - (size_t)flags.backward_size;
	if (lzma_index_buffer_decode(&idx, &memlimit, NULL, s, &in_pos,
				     n - LZMA_STREAM_HEADER_SIZE) != LZMA_OK)
		return SCOUT_OK;
	lzma_vli file_size = lzma_index_file_size(idx);
	lzma_vli size = lzma_index_uncompressed_size(idx);
	lzma_index_end(idx, NULL);
	if (file_size == n && size != (lzma_vli)expected)
		return scout__error(SCOUT_ECODEC,
				    "lzma: xz index records %llu decoded bytes, the chunk has %zu",
				    (unsigned long long)size, expected);
	return SCOUT_OK;
}

/* Start the decoder of one stream at s[pos..n). */
static int start_decoder(const lzma_codec *c, lzma_stream *strm, const uint8_t *s, size_t n,
			 size_t room)
{
	lzma_ret r;
	if ((c->format == 1 || c->format == 0) && xz_index_check(s, n, room))
		return SCOUT_ECODEC;
	if (c->format == 2 && n >= 13) {
		uint64_t size = 0;
		for (int i = 0; i < 8; i++)
			size |= (uint64_t)s[5 + i] << (8 * i);
		if (size != UINT64_MAX && size > (uint64_t)room)
			return scout__error(SCOUT_ECODEC,
					    "lzma: header claims %llu decoded bytes, more than the "
					    "chunk's remaining %zu",
					    (unsigned long long)size, room);
	}
	if (c->format == 1)
		r = lzma_stream_decoder(strm, SCOUT_LZMA_MEMLIMIT, LZMA_CONCATENATED);
	else if (c->format == 2)
		r = lzma_alone_decoder(strm, SCOUT_LZMA_MEMLIMIT);
	else if (c->format == 0)
		r = lzma_auto_decoder(strm, SCOUT_LZMA_MEMLIMIT, 0);
	else if (lzma_raw_decoder_memusage(c->filters) > SCOUT_LZMA_MEMLIMIT)
		return scout__error(
		    SCOUT_ECODEC,
		    "lzma: the filter chain needs %llu MiB to decode, more than the "
		    "limit of %llu MiB",
		    (unsigned long long)(lzma_raw_decoder_memusage(c->filters) >> 20),
		    (unsigned long long)(SCOUT_LZMA_MEMLIMIT >> 20));
	else
		r = lzma_raw_decoder(strm, c->filters);
	if (r == LZMA_MEM_ERROR)
		return scout__error(SCOUT_ENOMEM, "lzma: out of memory for the decoder");
	if (r != LZMA_OK)
		return scout__error(SCOUT_ECODEC, "lzma: cannot start the decoder: %s",
				    ret_text(r));
	strm->next_in = s;
	strm->avail_in = n;
	return SCOUT_OK;
}

static int lzma_codec_decode(const scout_codec *codec, const void *src, size_t n, void *dst,
			     size_t expected)
{
	const lzma_codec *c = (const lzma_codec *)codec;
	const uint8_t *s = src;
	if (n == 0)
		return scout__error(SCOUT_ECODEC, "lzma: truncated input: no bytes");
	lzma_stream strm = LZMA_STREAM_INIT;
	int rc = start_decoder(c, &strm, s, n, expected);
	if (rc)
		return rc;
	uint8_t *out = dst;
	uint8_t probe;
	size_t out_pos = 0;
	for (;;) {
		int probing = out_pos == expected;
		strm.next_out = probing ? &probe : out + out_pos;
		strm.avail_out = probing ? 1 : expected - out_pos;
		size_t room = strm.avail_out;
		lzma_ret r = lzma_code(&strm, LZMA_FINISH);
		size_t made = room - strm.avail_out;
		if (probing && made) {
			rc = scout__codec_too_long_error("lzma", expected);
			break;
		}
		if (!probing)
			out_pos += made;
		if (r == LZMA_OK)
			continue;
		if (r == LZMA_STREAM_END) {
			if (c->format != 1 && strm.avail_in > 0) {
				/* another stream follows (Python's lzma reads them all) */
				size_t pos = n - strm.avail_in;
				lzma_end(&strm);
				strm = (lzma_stream)LZMA_STREAM_INIT;
				if ((rc = start_decoder(c, &strm, s + pos, n - pos,
							expected - out_pos)))
					return rc;
				continue;
			}
			if (out_pos != expected)
				rc = scout__codec_size_error("lzma", out_pos, expected);
			break;
		}
		if (r == LZMA_MEMLIMIT_ERROR)
			rc = scout__error(SCOUT_ECODEC,
					  "lzma: decoding needs %llu MiB, more than the limit of "
					  "%llu MiB",
					  (unsigned long long)(lzma_memusage(&strm) >> 20),
					  (unsigned long long)(SCOUT_LZMA_MEMLIMIT >> 20));
		else if (r == LZMA_MEM_ERROR)
			rc = scout__error(SCOUT_ENOMEM, "lzma: out of memory while decoding");
		else if (r == LZMA_BUF_ERROR)
			rc = scout__error(
			    SCOUT_ECODEC,
			    "lzma: truncated input: the %s stream ends early after %zu "
			    "decoded bytes",
			    format_name(c->format), out_pos);
		else
			rc = scout__error(SCOUT_ECODEC, "lzma: %s (%s stream, near input byte %zu)",
					  ret_text(r), format_name(c->format), n - strm.avail_in);
		break;
	}
	lzma_end(&strm);
	return rc;
}

const scout_codec_vtable scout__codec_lzma = {
    .id = "lzma",
    .create = lzma_codec_create,
    .destroy = lzma_codec_destroy,
    .config = lzma_codec_config,
    .encode = lzma_codec_encode,
    .decode = lzma_codec_decode,
};
