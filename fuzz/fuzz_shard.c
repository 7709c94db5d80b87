/*
 * Fuzz target "shard": decode a shard of the sharding_indexed codec (index +
 * inner chunks) from memory, as the Zarr backend decodes a whole shard.
 *
 * Input layout:
 *   [0]  bit 0: index at the start; bit 1: big-endian index; bit 2: crc32c
 *        after the index; bits 3-4: inner chain (0 bytes, 1 bytes + gzip,
 *        2 bytes + crc32c, 3 a nested sharding_indexed of bytes chunks with a
 *        crc32c index at the start); bits 5-6: item size 1, 2, 4 or 8
 *   [1]  shard shape: 1 + low 3 bits, 1 + high 3 bits (2-D, at most 8 x 8)
 *   [2]  inner chunk: a divisor of each shard extent picked by the low and
 *        high nibbles
 *   [3..] the shard's bytes
 * Properties: the index alone is checked by scout__shard_index_decode(); when
 * it is valid, every stored pair lies inside the shard and outside the index,
 * and a read plan of all inner chunks gives sorted, disjoint ranges inside the
 * shard that hold each chunk. A whole decode either fails with
 * SCOUT_EFORMAT / SCOUT_ECODEC / SCOUT_ENOMEM and a message, or succeeds, and
 * then re-encoding the array and decoding that gives the same array.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "codec/pipeline.h"
#include "codec/sharding.h"
#include "fuzz.h"
#include "scout/error.h"

static int64_t divisor(int64_t n, unsigned pick)
{
	int64_t d[8];
	int nd = 0;
	for (int64_t k = 1; k <= n; k++)
		if (n % k == 0)
			d[nd++] = k;
	return d[pick % (unsigned)nd];
}

static const char *inner_chain(unsigned k)
{
	switch (k) {
	case 1:
		return "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
		       "{\"name\":\"gzip\",\"configuration\":{\"level\":1}}]";
	case 2:
		return "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"big\"}},"
		       "{\"name\":\"crc32c\"}]";
	case 3:
		return "[{\"name\":\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[1,1],"
		       "\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}]"
		       ","
		       "\"index_codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":"
		       "\"little\"}},{\"name\":\"crc32c\"}],\"index_location\":\"start\"}}]";
	default:
		return "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}]";
	}
}

int scout_fuzz_shard(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	unsigned f = data[0];
	int64_t shard[2] = {1 + (data[1] & 7), 1 + (data[1] >> 3 & 7)};
	int64_t inner[2] = {divisor(shard[0], data[2] & 15), divisor(shard[1], data[2] >> 4)};
	static const scout_dtype types[4] = {SCOUT_UINT8, SCOUT_UINT16, SCOUT_UINT32,
					     SCOUT_FLOAT64};
	scout_chunk_spec spec;
	memset(&spec, 0, sizeof spec);
	spec.dtype = types[f >> 5 & 3];
	spec.itemsize = scout_dtype_size(spec.dtype);
	spec.ndim = 2;
	spec.shape[0] = shard[0];
	spec.shape[1] = shard[1];
	static const unsigned char fill[8] = {0};
	spec.fill = fill;
	char text[2048];
	snprintf(text, sizeof text,
		 "[{\"name\":\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[%lld,%lld],"
		 "\"codecs\":%s,\"index_codecs\":[{\"name\":\"bytes\",\"configuration\":{"
		 "\"endian\":\"%s\"}}%s],\"index_location\":\"%s\"}}]",
		 (long long)inner[0], (long long)inner[1], inner_chain(f >> 3 & 3),
		 f & 2 ? "big" : "little", f & 4 ? ",{\"name\":\"crc32c\"}" : "",
		 f & 1 ? "start" : "end");
	json_error_t err;
	json_t *codecs = json_loads(text, 0, &err);
	SCOUT_FUZZ_ASSERT(codecs != NULL);
	scout_pipeline *p = NULL;
	int rc = scout__pipeline_new(&p, codecs, &spec, "fuzz");
	json_decref(codecs);
	SCOUT_FUZZ_ASSERT(rc == SCOUT_OK);
	const scout_shard_codec *sc = scout__pipeline_shard_codec(p);
	SCOUT_FUZZ_ASSERT(sc != NULL);
	const scout_shard_layout *l = scout__shard_codec_layout(sc);
	const uint8_t *shard_bytes = data + 3;
	size_t n = size - 3;

	/* the index alone, and a read plan of every inner chunk */
	size_t inb = scout__shard_index_nbytes(l);
	if (n >= inb) {
		scout_shard_entry *e = malloc((size_t)l->count * sizeof *e);
		SCOUT_FUZZ_ASSERT(e != NULL);
		const uint8_t *idx = l->at_start ? shard_bytes : shard_bytes + n - inb;
		rc = scout__shard_index_decode(e, idx, inb, l, n, UINT64_MAX, "fuzz");
		SCOUT_FUZZ_ASSERT(rc == SCOUT_OK || rc == SCOUT_EFORMAT || rc == SCOUT_ENOMEM);
		if (rc == SCOUT_OK) {
			uint64_t ilo = l->at_start ? 0 : n - inb, ihi = ilo + inb;
			uint64_t *want = malloc((size_t)l->count * sizeof *want);
			size_t *of = malloc((size_t)l->count * sizeof *of);
			SCOUT_FUZZ_ASSERT(want && of);
			for (uint64_t i = 0; i < l->count; i++) {
				want[i] = i;
				if (e[i].offset == SCOUT_SHARD_EMPTY)
					continue;
				SCOUT_FUZZ_ASSERT(e[i].offset <= n &&
						  e[i].nbytes <= n - e[i].offset);
				SCOUT_FUZZ_ASSERT(e[i].nbytes == 0 || e[i].offset >= ihi ||
						  e[i].offset + e[i].nbytes <= ilo);
			}
			scout_byte_range *r = NULL;
			size_t nr = 0;
			rc = scout__shard_plan_reads(&r, &nr, of, e, l->count, want,
						     (size_t)l->count, 7);
			SCOUT_FUZZ_ASSERT(rc == SCOUT_OK);
			for (size_t k = 0; k < nr; k++) {
				SCOUT_FUZZ_ASSERT(r[k].offset + r[k].nbytes <= n);
				SCOUT_FUZZ_ASSERT(k == 0 ||
						  r[k].offset > r[k - 1].offset + r[k - 1].nbytes);
			}
			for (uint64_t i = 0; i < l->count; i++) {
				if (e[i].offset == SCOUT_SHARD_EMPTY) {
					SCOUT_FUZZ_ASSERT(of[i] == SIZE_MAX);
					continue;
				}
				SCOUT_FUZZ_ASSERT(of[i] < nr && e[i].offset >= r[of[i]].offset &&
						  e[i].offset + e[i].nbytes <=
						      r[of[i]].offset + r[of[i]].nbytes);
			}
			free(r);
			free(want);
			free(of);
		}
		free(e);
	}

	/* the whole shard */
	size_t nb = scout__pipeline_chunk_nbytes(p);
	unsigned char *out = malloc(nb), *again = malloc(nb);
	SCOUT_FUZZ_ASSERT(out && again);
	scout_chunk_source src = {NULL, "c/0/0"};
	rc = scout__pipeline_decode(p, shard_bytes, n, out, &src);
	if (rc != SCOUT_OK) {
		SCOUT_FUZZ_ASSERT(rc == SCOUT_EFORMAT || rc == SCOUT_ECODEC || rc == SCOUT_ENOMEM);
		SCOUT_FUZZ_ASSERT(strstr(scout_last_error(), "c/0/0") != NULL);
	} else {
		void *enc = NULL;
		size_t en = 0;
		rc = scout__pipeline_encode(p, out, &enc, &en);
		SCOUT_FUZZ_ASSERT(rc == SCOUT_OK);
		rc = scout__pipeline_decode(p, enc, en, again, &src);
		SCOUT_FUZZ_ASSERT(rc == SCOUT_OK);
		SCOUT_FUZZ_ASSERT(memcmp(out, again, nb) == 0);
		free(enc);
	}
	free(out);
	free(again);
	scout__pipeline_free(p);
	return 0;
}
