/*
 * Fuzz target "v3_chunk": decode a whole Zarr v3 chunk through a codec chain
 * built from the input (scout__pipeline_new + scout__pipeline_decode), as the
 * array layer decodes a chunk of a zarr.json array.
 *
 * Input layout:
 *   [0]     dtype (mod SCOUT_DTYPE_COUNT)
 *   [1]     bits 0-1: ndim - 1; bit 7: the chain is JSON text from [6] up to
 *           the first NUL (at most 1024 bytes), the chunk follows the NUL;
 *           otherwise bit 6 keeps the codecs in input order (else they are
 *           put in a valid order and a "bytes" codec is added when missing)
 *   [2..5]  chunk extents (each mod 16, + 1)
 *   [6]     (structured chains) number of codecs, mod 7; then 2 bytes per
 *           codec: kind (transpose, bytes, blosc, gzip, zstd, crc32c) and a
 *           parameter (permutation, endian, cname/clevel/shuffle, level, ...);
 *           the chunk's encoded bytes follow
 * Properties: a chain the pipeline refuses fails with SCOUT_EFORMAT or
 * SCOUT_EUNSUPPORTED and a message; a decode fails with SCOUT_ECODEC (or
 * SCOUT_ENOMEM) and a message, or fills the chunk, which then encodes and
 * decodes back to the same bytes through the same chain.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/pipeline.h"
#include "fuzz.h"

#define V3_CHUNK_MAX_CODECS 6

/* The i-th permutation (Lehmer code) of 0..n-1. */
static void v3_nth_permutation(int *perm, int n, unsigned k)
{
	int avail[SCOUT_MAX_NDIM];
	for (int i = 0; i < n; i++)
		avail[i] = i;
	for (int i = 0; i < n; i++) {
		int left = n - i;
		int j = (int)(k % (unsigned)left);
		k /= (unsigned)left;
		perm[i] = avail[j];
		memmove(avail + j, avail + j + 1, (size_t)(left - j - 1) * sizeof *avail);
	}
}

/* 0: array->array, 1: array->bytes, 2: bytes->bytes */
static int v3_codec_class(unsigned kind)
{
	return kind == 0 ? 0 : kind == 1 ? 1 : 2;
}

static json_t *v3_codec_json(unsigned kind, unsigned par, int ndim, size_t itemsize)
{
	static const char *const cnames[] = {"blosclz", "lz4", "lz4hc", "zlib", "zstd", "snappy"};
	static const char *const shuffles[] = {"noshuffle", "shuffle", "bitshuffle"};
	switch (kind) {
	case 0: {
		int perm[SCOUT_MAX_NDIM];
		v3_nth_permutation(perm, ndim, par);
		json_t *order = json_array();
		for (int i = 0; i < ndim; i++)
			json_array_append_new(order, json_integer(perm[i]));
		return json_pack("{s:s, s:{s:o}}", "name", "transpose", "configuration", "order",
				 order);
	}
	case 1:
		if (par & 0x80)
			return json_pack("{s:s}", "name", "bytes");
		return json_pack("{s:s, s:{s:s}}", "name", "bytes", "configuration", "endian",
				 par & 1 ? "big" : "little");
	case 2:
		return json_pack("{s:s, s:{s:s, s:i, s:s, s:i, s:i}}", "name", "blosc",
				 "configuration", "cname", cnames[par % 6], "clevel",
				 (int)(par / 6 % 10), "shuffle", shuffles[par / 60 % 3], "typesize",
				 par & 0x80 ? (int)(par % 9) : (int)itemsize, "blocksize",
				 par & 0x40 ? (int)par * 16 : 0);
	case 3:
		return json_pack("{s:s, s:{s:i}}", "name", "gzip", "configuration", "level",
				 (int)(par % 10));
	case 4:
		return json_pack("{s:s, s:{s:i, s:b}}", "name", "zstd", "configuration", "level",
				 (int)(par % 24) - 1, "checksum", (int)(par >> 7));
	default:
		return json_pack("{s:s}", "name", "crc32c");
	}
}

int scout_fuzz_v3_chunk(const uint8_t *data, size_t size)
{
	static const char what[] = "fuzz/zarr.json";
	if (size < 7)
		return 0;
	scout_chunk_spec spec = {0};
	spec.dtype = (scout_dtype)(data[0] % SCOUT_DTYPE_COUNT);
	spec.itemsize = scout_dtype_size(spec.dtype);
	spec.ndim = 1 + (data[1] & 3);
	for (int i = 0; i < spec.ndim; i++)
		spec.shape[i] = 1 + data[2 + i] % 16;

	json_t *chain = NULL;
	const uint8_t *enc;
	size_t n;
	if (data[1] & 0x80) {
		const uint8_t *nul = memchr(data + 6, 0, size - 6 < 1025 ? size - 6 : 1025);
		if (!nul)
			return 0;
		chain = json_loadb((const char *)data + 6, (size_t)(nul - (data + 6)), 0, NULL);
		if (!chain)
			return 0;
		enc = nul + 1;
		n = size - (size_t)(enc - data);
	} else {
		unsigned count = data[6] % (V3_CHUNK_MAX_CODECS + 1);
		if (size < 7 + 2 * (size_t)count)
			return 0;
		unsigned kinds[V3_CHUNK_MAX_CODECS], pars[V3_CHUNK_MAX_CODECS];
		for (unsigned i = 0; i < count; i++) {
			kinds[i] = data[7 + 2 * i] % 6;
			pars[i] = data[8 + 2 * i];
		}
		chain = json_array();
		if (data[1] & 0x40) {
			for (unsigned i = 0; i < count; i++)
				json_array_append_new(
				    chain,
				    v3_codec_json(kinds[i], pars[i], spec.ndim, spec.itemsize));
		} else {
			/* a valid order: array->array, one array->bytes, bytes->bytes */
			int have_bytes = 0;
			for (int cls = 0; cls < 3; cls++) {
				for (unsigned i = 0; i < count; i++) {
					if (v3_codec_class(kinds[i]) != cls ||
					    (cls == 1 && have_bytes))
						continue;
					have_bytes |= cls == 1;
					json_array_append_new(
					    chain, v3_codec_json(kinds[i], pars[i], spec.ndim,
								 spec.itemsize));
				}
				if (cls == 1 && !have_bytes)
					json_array_append_new(chain,
							      v3_codec_json(1, 0, spec.ndim, 0));
			}
		}
		enc = data + 7 + 2 * count;
		n = size - 7 - 2 * count;
	}

	scout_pipeline *p;
	int rc = scout__pipeline_new(&p, chain, &spec, what);
	if (rc < 0) {
		if (!(rc == SCOUT_EFORMAT || rc == SCOUT_EUNSUPPORTED))
			fprintf(stderr, "pipeline_new: rc %d: %s\n", rc, scout_last_error());
		SCOUT_FUZZ_ASSERT(rc == SCOUT_EFORMAT || rc == SCOUT_EUNSUPPORTED);
		SCOUT_FUZZ_ASSERT(scout_last_error()[0] != '\0');
		json_decref(chain);
		return 0;
	}
	json_decref(chain);
	/* the normalised chain builds the same pipeline */
	json_t *norm = scout__pipeline_json(p);
	SCOUT_FUZZ_ASSERT(norm != NULL);
	scout_pipeline *p2;
	rc = scout__pipeline_new(&p2, norm, &spec, what);
	if (rc < 0)
		fprintf(stderr, "normalised chain refused: %s\n", scout_last_error());
	SCOUT_FUZZ_ASSERT(rc == 0);
	json_t *norm2 = scout__pipeline_json(p2);
	SCOUT_FUZZ_ASSERT(norm2 && json_equal(norm, norm2));
	json_decref(norm2);
	json_decref(norm);
	scout__pipeline_free(p2);

	size_t nbytes = scout__pipeline_chunk_nbytes(p);
	size_t want = spec.itemsize;
	for (int i = 0; i < spec.ndim; i++)
		want *= (size_t)spec.shape[i];
	SCOUT_FUZZ_ASSERT(nbytes == want);
	unsigned char *out = malloc(nbytes), *back = malloc(nbytes);
	SCOUT_FUZZ_ASSERT(out && back);
	memset(out, 0xA5, nbytes);
	scout_chunk_source src = {NULL, "fuzz/c/0"};
	rc = scout__pipeline_decode(p, enc, n, out, &src);
	if (rc < 0) {
		if (!(rc == SCOUT_ECODEC || rc == SCOUT_ENOMEM))
			fprintf(stderr, "decode: rc %d: %s\n", rc, scout_last_error());
		SCOUT_FUZZ_ASSERT(rc == SCOUT_ECODEC || rc == SCOUT_ENOMEM);
		SCOUT_FUZZ_ASSERT(scout_last_error()[0] != '\0');
	} else {
		/* what decoded encodes and decodes back to the same bytes */
		void *re;
		size_t re_n;
		rc = scout__pipeline_encode(p, out, &re, &re_n);
		if (rc < 0)
			fprintf(stderr, "re-encode: %s\n", scout_last_error());
		SCOUT_FUZZ_ASSERT(rc == 0);
		rc = scout__pipeline_decode(p, re, re_n, back, &src);
		if (rc < 0)
			fprintf(stderr, "decode of the re-encoded chunk: %s\n", scout_last_error());
		SCOUT_FUZZ_ASSERT(rc == 0);
		SCOUT_FUZZ_ASSERT(memcmp(out, back, nbytes) == 0);
		free(re);
	}
	free(out);
	free(back);
	scout__pipeline_free(p);
	return 0;
}
