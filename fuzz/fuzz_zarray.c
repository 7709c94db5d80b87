/*
 * Fuzz target "zarray": the input is the text of a .zarray file and of a
 * .zattrs file. As .zarray: scout__zarray_parse(), then the codec its
 * compressor names (scout__codec_new), then scout__zarray_dump() and a parse
 * of that text. As .zattrs: scout__json_parse() and, for an object,
 * scout__json_dumps() and a parse of that.
 * Properties: failures name the file; a parsed .zarray is within the limits
 * the header documents (ndim 1..SCOUT_MAX_NDIM, shape >= 0, chunks >= 1,
 * order C/F, separator . / or none) and survives dump + parse unchanged;
 * attributes survive dump + parse unchanged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"
#include "format/zarray.h"
#include "fuzz.h"

static void zarray_check_failure(int rc, const char *what)
{
	SCOUT_FUZZ_ASSERT(rc == SCOUT_EFORMAT || rc == SCOUT_EUNSUPPORTED ||
			  rc == SCOUT_EOVERFLOW || rc == SCOUT_EINVAL);
	if (!strstr(scout_last_error(), what))
		fprintf(stderr, "message without the file: %s\n", scout_last_error());
	SCOUT_FUZZ_ASSERT(strstr(scout_last_error(), what) != NULL);
}

static void fuzz_zarray_text(const char *text, size_t size)
{
	static const char what[] = "fuzz/.zarray";
	scout_zarray z;
	int rc = scout__zarray_parse(&z, text, size, what);
	if (rc < 0) {
		zarray_check_failure(rc, what);
		return;
	}
	SCOUT_FUZZ_ASSERT(z.ndim >= 1 && z.ndim <= SCOUT_MAX_NDIM);
	for (int i = 0; i < z.ndim; i++)
		SCOUT_FUZZ_ASSERT(z.shape[i] >= 0 && z.chunks[i] >= 1);
	SCOUT_FUZZ_ASSERT(z.order == 'C' || z.order == 'F');
	SCOUT_FUZZ_ASSERT(z.separator == 0 || z.separator == '.' || z.separator == '/');
	size_t itemsize = scout_dtype_size(z.dtype);
	SCOUT_FUZZ_ASSERT(itemsize >= 1 && itemsize <= 16);

	scout_codec *codec;
	if (scout__codec_new(&codec, z.compressor, itemsize) == 0)
		scout__codec_free(codec);

	char *dumped;
	SCOUT_FUZZ_ASSERT(scout__zarray_dump(&dumped, &z) == 0);
	scout_zarray back;
	rc = scout__zarray_parse(&back, dumped, strlen(dumped), what);
	if (rc < 0)
		fprintf(stderr, "re-parse of\n%s\nfailed: %s\n", dumped, scout_last_error());
	SCOUT_FUZZ_ASSERT(rc == 0);
	SCOUT_FUZZ_ASSERT(back.ndim == z.ndim && back.dtype == z.dtype &&
			  back.big_endian == z.big_endian && back.order == z.order &&
			  back.separator == z.separator && back.fill_null == z.fill_null);
	SCOUT_FUZZ_ASSERT(memcmp(back.shape, z.shape, (size_t)z.ndim * sizeof *z.shape) == 0);
	SCOUT_FUZZ_ASSERT(memcmp(back.chunks, z.chunks, (size_t)z.ndim * sizeof *z.chunks) == 0);
	SCOUT_FUZZ_ASSERT(memcmp(back.fill, z.fill, sizeof z.fill) == 0);
	SCOUT_FUZZ_ASSERT((back.compressor == NULL) == (z.compressor == NULL));
	SCOUT_FUZZ_ASSERT(!z.compressor || json_equal(back.compressor, z.compressor));
	scout__zarray_clear(&back);
	free(dumped);
	scout__zarray_clear(&z);
}

static void fuzz_zattrs_text(const char *text, size_t size)
{
	static const char what[] = "fuzz/.zattrs";
	json_t *j;
	int rc = scout__json_parse(&j, text, size, what);
	if (rc < 0) {
		zarray_check_failure(rc, what);
		return;
	}
	if (json_is_object(j)) {
		char *dumped = scout__json_dumps(j);
		SCOUT_FUZZ_ASSERT(dumped != NULL);
		json_t *back;
		SCOUT_FUZZ_ASSERT(scout__json_parse(&back, dumped, strlen(dumped), what) == 0);
		SCOUT_FUZZ_ASSERT(json_equal(back, j));
		json_decref(back);
		free(dumped);
	}
	json_decref(j);
}

int scout_fuzz_zarray(const uint8_t *data, size_t size)
{
	fuzz_zarray_text((const char *)data, size);
	fuzz_zattrs_text((const char *)data, size);
	return 0;
}
