/*
 * The Zarr v3 "crc32c" codec (bytes->bytes): appends the CRC-32C
 * (Castagnoli, reflected polynomial 0x82F63B78, init and final xor
 * 0xFFFFFFFF) of the data as 4 little-endian bytes; decoding verifies it.
 *
 * Written here, table-driven, because no Debian C library provides CRC-32C:
 * zlib has only CRC-32 (another polynomial), and the Debian packages with
 * CRC-32C are Python's (python3-crc32c, used by the tests as the reference)
 * or kernel-internal. It is 30 lines; a byte-at-a-time table is fast enough
 * next to the compressors it follows.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec_impl.h"

static uint32_t table[256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void make_table(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
		table[i] = c;
	}
}

uint32_t scout__crc32c(const void *data, size_t n)
{
	pthread_once(&table_once, make_table);
	const unsigned char *p = data;
	uint32_t c = 0xFFFFFFFFu;
	for (size_t i = 0; i < n; i++)
		c = table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
	return c ^ 0xFFFFFFFFu;
}

static int crc_create(scout_stage **out, const json_t *config, const scout_chunk_spec *in,
		      const char *what)
{
	if (config && json_object_size(config) > 0)
		return scout__error(SCOUT_EFORMAT,
				    "%s: codec \"crc32c\": unknown configuration field \"%s\"",
				    what, json_object_iter_key(json_object_iter((json_t *)config)));
	scout_stage *s = scout__stage_alloc(sizeof *s, &scout__stage_crc32c, in);
	if (!s)
		return SCOUT_ENOMEM;
	*out = s;
	return SCOUT_OK;
}

static void crc_destroy(scout_stage *s)
{
	free(s);
}

static json_t *crc_json(const scout_stage *s)
{
	(void)s;
	return scout__stage_json("crc32c", NULL);
}

static int crc_encode(const scout_stage *s, const void *src, size_t n, void **dst_out,
		      size_t *dst_size_out)
{
	(void)s;
	if (n > SIZE_MAX - 4)
		return scout__error(SCOUT_EOVERFLOW, "crc32c: %zu bytes is too large", n);
	unsigned char *d = scout__codec_malloc(n + 4, "crc32c");
	if (!d)
		return SCOUT_ENOMEM;
	if (n)
		memcpy(d, src, n);
	uint32_t c = scout__crc32c(src, n);
	for (int i = 0; i < 4; i++)
		d[n + (size_t)i] = (unsigned char)(c >> (8 * i));
	*dst_out = d;
	*dst_size_out = n + 4;
	return SCOUT_OK;
}

static int crc_decode(const scout_stage *s, const void *src, size_t n, void *dst, size_t expected,
		      const scout_chunk_source *from)
{
	(void)s;
	(void)from;
	const unsigned char *p = src;
	if (n < 4)
		return scout__error(SCOUT_ECODEC,
				    "crc32c: truncated input: %zu bytes, shorter than the 4-byte "
				    "checksum",
				    n);
	if (n - 4 != expected)
		return scout__codec_size_error("crc32c", n - 4, expected);
	uint32_t stored = (uint32_t)p[n - 4] | (uint32_t)p[n - 3] << 8 | (uint32_t)p[n - 2] << 16 |
			  (uint32_t)p[n - 1] << 24;
	uint32_t c = scout__crc32c(p, n - 4);
	if (c != stored)
		return scout__error(SCOUT_ECODEC,
				    "crc32c: checksum mismatch (stored 0x%08X, computed 0x%08X)",
				    stored, c);
	if (expected && dst != src)
		memmove(dst, p, expected);
	return SCOUT_OK;
}

static int crc_decoded_size(const scout_stage *s, const void *src, size_t n, size_t *size_out)
{
	(void)s;
	(void)src;
	if (n < 4)
		return scout__error(SCOUT_ECODEC,
				    "crc32c: truncated input: %zu bytes, shorter than the 4-byte "
				    "checksum",
				    n);
	*size_out = n - 4;
	return SCOUT_OK;
}

const scout_stage_vtable scout__stage_crc32c = {
    .name = "crc32c",
    .kind = SCOUT_STAGE_BB,
    .create = crc_create,
    .destroy = crc_destroy,
    .to_json = crc_json,
    .encode = crc_encode,
    .decode = crc_decode,
    .decoded_size = crc_decoded_size,
};
