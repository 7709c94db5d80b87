/*
 * Fuzz target "zarr_json": the input is the text of a Zarr v3 zarr.json.
 * scout__zarr_v3_parse(), then the codec pipeline of its chain
 * (scout__pipeline_new for the chunk spec), then scout__zarr_v3_dump() and a
 * parse of that text.
 * Properties: failures name the file; a parsed array is within the limits
 * zarr_v3.h documents (ndim 1..SCOUT_MAX_NDIM, shape >= 0, chunks >= 1, a
 * key encoding with '.' or '/'); it survives dump + parse unchanged (a NaN
 * fill value may come back with the canonical payload, as zarr-python
 * writes "NaN").
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/pipeline.h"
#include "format/zarr_v3.h"
#include "fuzz.h"

static void zarr_json_check_failure(int rc, const char *what)
{
	SCOUT_FUZZ_ASSERT(rc == SCOUT_EFORMAT || rc == SCOUT_EUNSUPPORTED ||
			  rc == SCOUT_EOVERFLOW || rc == SCOUT_EINVAL);
	if (!strstr(scout_last_error(), what))
		fprintf(stderr, "message without the file: %s\n", scout_last_error());
	SCOUT_FUZZ_ASSERT(strstr(scout_last_error(), what) != NULL);
}

/* fill values equal, a NaN equal to any NaN of its type */
static int fill_equal(const unsigned char *a, const unsigned char *b, scout_dtype dt)
{
	size_t size = scout_dtype_size(dt);
	if (memcmp(a, b, size) == 0)
		return 1;
	size_t part = dt == SCOUT_COMPLEX64 || dt == SCOUT_COMPLEX128 ? size / 2 : size;
	if (!scout_dtype_is_float(dt) && part == size)
		return 0;
	for (size_t off = 0; off < size; off += part) {
		double x, y;
		if (part == 4) {
			float fx, fy;
			memcpy(&fx, a + off, 4);
			memcpy(&fy, b + off, 4);
			x = fx;
			y = fy;
		} else if (part == 8) {
			memcpy(&x, a + off, 8);
			memcpy(&y, b + off, 8);
		} else { /* float16: NaN when the exponent is all ones and the mantissa not 0 */
			uint16_t hx, hy;
			memcpy(&hx, a + off, 2);
			memcpy(&hy, b + off, 2);
			int nx = (hx & 0x7c00) == 0x7c00 && (hx & 0x3ff);
			int ny = (hy & 0x7c00) == 0x7c00 && (hy & 0x3ff);
			if (!(hx == hy || (nx && ny)))
				return 0;
			continue;
		}
		if (!(memcmp(a + off, b + off, part) == 0 || (isnan(x) && isnan(y))))
			return 0;
	}
	return 1;
}

int scout_fuzz_zarr_json(const uint8_t *data, size_t size)
{
	static const char what[] = "fuzz/zarr.json";
	scout_zarr_meta m;
	int rc = scout__zarr_v3_parse(&m, (const char *)data, size, what);
	if (rc < 0) {
		zarr_json_check_failure(rc, what);
		return 0;
	}
	SCOUT_FUZZ_ASSERT(m.zarr_format == 3 && m.ndim >= 1 && m.ndim <= SCOUT_MAX_NDIM);
	for (int i = 0; i < m.ndim; i++)
		SCOUT_FUZZ_ASSERT(m.shape[i] >= 0 && m.chunks[i] >= 1);
	SCOUT_FUZZ_ASSERT(m.key_encoding.separator == '.' || m.key_encoding.separator == '/');
	SCOUT_FUZZ_ASSERT(json_is_array(m.codecs) && json_is_object(m.attributes));

	scout_chunk_spec spec;
	memset(&spec, 0, sizeof spec);
	spec.dtype = m.dtype;
	spec.itemsize = scout_dtype_size(m.dtype);
	spec.ndim = m.ndim;
	memcpy(spec.shape, m.chunks, sizeof spec.shape);
	scout_pipeline *p;
	rc = scout__pipeline_new(&p, m.codecs, &spec, what);
	if (rc < 0)
		zarr_json_check_failure(rc, what);
	else
		scout__pipeline_free(p);

	char *dumped;
	SCOUT_FUZZ_ASSERT(scout__zarr_v3_dump(&dumped, &m) == 0);
	scout_zarr_meta back;
	rc = scout__zarr_v3_parse(&back, dumped, strlen(dumped), what);
	if (rc < 0)
		fprintf(stderr, "re-parse of\n%s\nfailed: %s\n", dumped, scout_last_error());
	SCOUT_FUZZ_ASSERT(rc == 0);
	SCOUT_FUZZ_ASSERT(back.ndim == m.ndim && back.dtype == m.dtype &&
			  back.key_encoding.kind == m.key_encoding.kind &&
			  back.key_encoding.separator == m.key_encoding.separator &&
			  back.big_endian == m.big_endian);
	SCOUT_FUZZ_ASSERT(memcmp(back.shape, m.shape, (size_t)m.ndim * sizeof *m.shape) == 0);
	SCOUT_FUZZ_ASSERT(memcmp(back.chunks, m.chunks, (size_t)m.ndim * sizeof *m.chunks) == 0);
	SCOUT_FUZZ_ASSERT(fill_equal(back.fill, m.fill, m.dtype));
	SCOUT_FUZZ_ASSERT(json_equal(back.codecs, m.codecs) &&
			  json_equal(back.attributes, m.attributes));
	SCOUT_FUZZ_ASSERT((back.dimension_names == NULL) == (m.dimension_names == NULL));
	SCOUT_FUZZ_ASSERT(!m.dimension_names ||
			  json_equal(back.dimension_names, m.dimension_names));
	scout__zarr_meta_clear(&back);
	free(dumped);
	scout__zarr_meta_clear(&m);
	return 0;
}
