/*
 * Fuzz target "codec": decode a chunk through one of the codecs into a buffer
 * of a size the input gives, as the Zarr backend decodes a chunk into an array
 * of its shape and dtype.
 *
 * Input layout:
 *   [0]     codec: blosc, zlib, gzip, bz2, lzma, zstd, lz4, none (mod 8)
 *   [1..3]  expected decoded size, little endian, mod (1 MiB + 1)
 *   [4]     low 2 bits: typesize 1, 2, 4 or 8; the rest picks a config variant
 *   [5]     bit 7 set: the config is JSON text from [6] up to the first NUL
 *           (at most 512 bytes), the chunk follows the NUL; otherwise the
 *           config is a valid one built from [4] and [5] and the chunk is [6..]
 * Properties (checked for small chunks): a successful decode writes every byte
 * of the buffer, and re-encoding the result with the same codec (except lzma,
 * whose encoder setup is slow) decodes back to the same bytes. Errors are SCOUT_ECODEC (or
 * SCOUT_ENOMEM) with a message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"
#include "fuzz.h"

#define FUZZ_CODEC_MAX_DECODED   ((size_t)1 << 20)
#define FUZZ_CODEC_ROUNDTRIP_MAX 4096

static const char *const codec_ids[] = {"blosc", "zlib", "gzip", "bz2",
					"lzma",  "zstd", "lz4",  "none"};

/* A valid config for codec k, varied by v. */
static void structured_config(char *buf, size_t n, unsigned k, unsigned v)
{
	static const char *const cnames[] = {"blosclz", "lz4", "lz4hc", "zlib", "zstd"};
	switch (k) {
	case 0:
		snprintf(buf, n,
			 "{\"id\": \"blosc\", \"cname\": \"%s\", \"clevel\": %u, "
			 "\"shuffle\": %d, \"blocksize\": 0}",
			 cnames[v % 5], v % 10, (int)(v / 5 % 4) - 1);
		break;
	case 1:
	case 2:
		snprintf(buf, n, "{\"id\": \"%s\", \"level\": %u}", codec_ids[k], v % 10);
		break;
	case 3:
		snprintf(buf, n, "{\"id\": \"bz2\", \"level\": %u}", 1 + v % 9);
		break;
	case 4: {
		unsigned format = v % 4;
		static const int checks[] = {-1, 0, 1, 4, 10};
		int check = format == 1 ? checks[v / 4 % 5] : -1;
		if (format == 3) {
			static const char *const filters[] = {
			    "[{\"id\": 33, \"preset\": 1}]",
			    "[{\"id\": 4611686018427387905, \"preset\": 1}]",
			    "[{\"id\": 3, \"dist\": 4}, {\"id\": 33, \"preset\": 1}]",
			    "[{\"id\": 4}, {\"id\": 33}]",
			};
			snprintf(buf, n,
				 "{\"id\": \"lzma\", \"format\": 3, \"check\": -1, \"preset\": "
				 "null, \"filters\": %s}",
				 filters[v / 4 % 4]);
		} else {
			snprintf(
			    buf, n,
			    "{\"id\": \"lzma\", \"format\": %u, \"check\": %d, \"preset\": %u, "
			    "\"filters\": null}",
			    format, check, v / 20 % 10);
		}
		break;
	}
	case 5:
		snprintf(buf, n, "{\"id\": \"zstd\", \"level\": %d}", (int)(v % 23) - 1);
		break;
	case 6:
		snprintf(buf, n, "{\"id\": \"lz4\", \"acceleration\": %u}", 1 + v % 4);
		break;
	default:
		snprintf(buf, n, "null");
	}
}

int scout_fuzz_codec(const uint8_t *data, size_t size)
{
	if (size < 6)
		return 0;
	unsigned k = data[0] % 8;
	size_t expected = ((size_t)data[1] | (size_t)data[2] << 8 | (size_t)data[3] << 16) %
			  (FUZZ_CODEC_MAX_DECODED + 1);
	size_t typesize = (size_t)1 << (data[4] & 3);
	char config[520];
	const uint8_t *chunk;
	size_t n;
	if (data[5] & 0x80) {
		const uint8_t *p = data + 6, *end = data + size;
		const uint8_t *nul = memchr(p, 0, (size_t)(end - p));
		if (!nul || nul - p > 512)
			return 0;
		memcpy(config, p, (size_t)(nul - p));
		config[nul - p] = '\0';
		chunk = nul + 1;
		n = (size_t)(end - chunk);
	} else {
		structured_config(config, sizeof config, k,
				  (unsigned)(data[4] >> 2) | data[5] << 6);
		chunk = data + 6;
		n = size - 6;
	}
	scout_codec *codec;
	if (scout__codec_new_from_text(&codec, config, typesize) < 0)
		return 0;
	/*
	 * dst is the last `expected` bytes of one heap block of the largest size,
	 * so ASan sees any write past them, without a fresh 1 MiB allocation (and
	 * its page faults) per input.
	 */
	static unsigned char *block;
	if (!block && !(block = malloc(FUZZ_CODEC_MAX_DECODED)))
		abort();
	unsigned char *dst = block + (FUZZ_CODEC_MAX_DECODED - expected);
	if (expected <= FUZZ_CODEC_ROUNDTRIP_MAX)
		memset(dst, 0xAA, expected);
	int rc = scout__codec_decode(codec, n ? chunk : NULL, n, dst, expected);
	/* not SCOUT_ENOMEM: whatever a header claims, decoding needs bounded memory */
	SCOUT_FUZZ_ASSERT(rc == 0 || rc == SCOUT_ECODEC);
	SCOUT_FUZZ_ASSERT(rc == 0 || scout_last_error()[0] != '\0');
	if (rc == 0 && expected <= FUZZ_CODEC_ROUNDTRIP_MAX) {
		/* a success writes every byte: decoding over another pattern gives the same */
		unsigned char *again = malloc(expected ? expected : 1);
		if (!again)
			abort();
		memset(again, 0x55, expected);
		SCOUT_FUZZ_ASSERT(
		    scout__codec_decode(codec, n ? chunk : NULL, n, again, expected) == 0);
		SCOUT_FUZZ_ASSERT(memcmp(again, dst, expected) == 0);
		free(again);
		void *enc = NULL;
		size_t enc_n = 0;
		/* not lzma: its encoder's setup (a dictionary of up to 64 MiB) is too slow */
		if (strcmp(scout__codec_id(codec), "lzma") != 0 &&
		    scout__codec_encode(codec, dst, expected, &enc, &enc_n) == 0) {
			unsigned char *back = malloc(expected ? expected : 1);
			if (!back)
				abort();
			int rc2 = scout__codec_decode(codec, enc, enc_n, back, expected);
			if (rc2 != 0)
				fprintf(stderr, "re-decode: %s\n", scout_last_error());
			SCOUT_FUZZ_ASSERT(rc2 == 0);
			SCOUT_FUZZ_ASSERT(memcmp(back, dst, expected) == 0);
			free(back);
		}
		free(enc);
	}
	scout__codec_free(codec);
	return 0;
}
