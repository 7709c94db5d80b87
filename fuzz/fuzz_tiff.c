/*
 * Fuzz target "tiff": the input is a TIFF file. Open it with scout_array_open()
 * and read boxes of bounded size: the whole array when it holds at most 4 MiB,
 * otherwise corners of the first and last pages (at most 64 x 64 samples).
 * Properties: failures are the documented codes (never SCOUT_ENOMEM: reading
 * small boxes must not need much memory, whatever sizes the file claims) and
 * their messages name the file; the shape and chunks the open reports are
 * consistent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "memfile.h"
#include "scout/scout.h"

#define FUZZ_TIFF_WHOLE_MAX ((size_t)4 << 20)
#define FUZZ_TIFF_CORNER    64

static void tiff_check_failure(int rc, const char *path)
{
	/* not SCOUT_ENOMEM: the boxes read are small, so must be what the reads allocate */
	if (rc == SCOUT_ENOMEM)
		fprintf(stderr, "out of memory: %s\n", scout_last_error());
	SCOUT_FUZZ_ASSERT(rc == SCOUT_EFORMAT || rc == SCOUT_ECODEC || rc == SCOUT_EOVERFLOW ||
			  rc == SCOUT_EIO);
	if (!strstr(scout_last_error(), path))
		fprintf(stderr, "message without the path: %s\n", scout_last_error());
	SCOUT_FUZZ_ASSERT(strstr(scout_last_error(), path) != NULL);
}

/* Read [start, stop) (non-empty, small); 0 or a checked failure. */
static int read_box(scout_array *arr, const int64_t *start, const int64_t *stop, const char *path)
{
	int nd = scout_array_ndim(arr);
	size_t n = scout_dtype_size(scout_array_dtype(arr));
	for (int i = 0; i < nd; i++)
		n *= (size_t)(stop[i] - start[i]);
	void *buf = malloc(n ? n : 1);
	if (!buf)
		abort();
	int rc = scout_extract_box(buf, arr, start, stop);
	if (rc < 0)
		tiff_check_failure(rc, path);
	free(buf);
	return rc;
}

int scout_fuzz_tiff(const uint8_t *data, size_t size)
{
	const char *path = scout_fuzz_memfile(0, data, size);
	scout_array *arr;
	int rc = scout_array_open(&arr, path, SCOUT_MODE_READ);
	if (rc < 0) {
		/* not recognised as a TIFF at all is also fine */
		tiff_check_failure(rc, path);
		return 0;
	}
	int nd = scout_array_ndim(arr);
	SCOUT_FUZZ_ASSERT(nd == 2 || nd == 3);
	SCOUT_FUZZ_ASSERT(strcmp(scout_array_kind(arr), "tiff") == 0);
	const int64_t *shape = scout_array_shape(arr), *chunks = scout_array_chunks(arr);
	for (int i = 0; i < nd; i++)
		SCOUT_FUZZ_ASSERT(shape[i] >= 1 && chunks[i] >= 1 && chunks[i] <= shape[i]);
	SCOUT_FUZZ_ASSERT(chunks[nd - 1] == shape[nd - 1] && chunks[nd - 2] == shape[nd - 2]);
	int64_t start[3] = {0}, stop[3];
	if (scout_array_nbytes(arr) <= FUZZ_TIFF_WHOLE_MAX) {
		memcpy(stop, shape, (size_t)nd * sizeof *stop);
		read_box(arr, start, stop, path);
	} else {
		/* top-left corner of the first page, bottom-right corner of the last */
		for (int i = 0; i < nd; i++)
			stop[i] = i < nd - 2
				      ? 1
				      : (shape[i] < FUZZ_TIFF_CORNER ? shape[i] : FUZZ_TIFF_CORNER);
		if (read_box(arr, start, stop, path) == 0) {
			for (int i = 0; i < nd; i++) {
				start[i] = shape[i] - stop[i];
				stop[i] = shape[i];
			}
			read_box(arr, start, stop, path);
		}
	}
	scout_array_free(arr);
	return 0;
}
