/*
 * Fuzz target "voxel_size": the input is a voxel-size CSV file, read with
 * scout_read_voxel_size() with room for 3 and for 32 values.
 * Properties: failures are SCOUT_EFORMAT naming the file; a success returns
 * 1..max_count values, each an integer divided by 1000; when both reads
 * succeed they agree, and the 3-value read fails exactly when there are more
 * than 3 fields.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "memfile.h"
#include "scout/scout.h"

static int read_one(double *v, int *count, int max, const char *path)
{
	int rc = scout_read_voxel_size(v, count, max, path);
	if (rc < 0) {
		SCOUT_FUZZ_ASSERT(rc == SCOUT_EFORMAT);
		SCOUT_FUZZ_ASSERT(strstr(scout_last_error(), path) != NULL);
		SCOUT_FUZZ_ASSERT(*count == 0);
		return rc;
	}
	SCOUT_FUZZ_ASSERT(*count >= 1 && *count <= max);
	for (int i = 0; i < *count; i++) {
		double nm = v[i] * 1000.0;
		SCOUT_FUZZ_ASSERT(isfinite(v[i]));
		/* an integer number of nanometres (exact below 2^53) */
		SCOUT_FUZZ_ASSERT(fabs(nm) > 9e15 ||
				  fabs(nm - nearbyint(nm)) < 1e-6 * fabs(nm) + 1e-9);
	}
	return rc;
}

int scout_fuzz_voxel_size(const uint8_t *data, size_t size)
{
	const char *path = scout_fuzz_memfile(1, data, size);
	double small[3], big[SCOUT_MAX_NDIM];
	int n_small = -1, n_big = -1;
	int rc_small = read_one(small, &n_small, 3, path);
	char msg_small[512];
	snprintf(msg_small, sizeof msg_small, "%s", rc_small < 0 ? scout_last_error() : "");
	int rc_big = read_one(big, &n_big, SCOUT_MAX_NDIM, path);
	if (rc_small == 0) {
		/* what fits in 3 fits in 32, with the same values */
		SCOUT_FUZZ_ASSERT(rc_big == 0 && n_big == n_small);
		SCOUT_FUZZ_ASSERT(memcmp(small, big, (size_t)n_small * sizeof *small) == 0);
	} else if (rc_big == 0) {
		SCOUT_FUZZ_ASSERT(n_big > 3);
		SCOUT_FUZZ_ASSERT(strstr(msg_small, "more than 3 fields") != NULL);
	}
	return 0;
}
