/*
 * Fuzz targets: one entry function per target, each in its own file
 * (fuzz_<name>.c), called by libFuzzer through driver.c and, without libFuzzer,
 * by tests/test_fuzz_regressions.c, which replays fuzz/regressions/<name>/ and
 * fuzz/seeds/<name>/ in the normal test build.
 *
 * An entry function takes any bytes, must never crash, leak or hang on them,
 * and returns 0. A violated property (a successful decode that does not
 * round-trip, ...) aborts, so libFuzzer records it as a crash.
 */
#ifndef SCOUT_FUZZ_H
#define SCOUT_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* Decode a chunk through a codec chosen by the input, into a buffer whose size it gives. */
int scout_fuzz_codec(const uint8_t *data, size_t size);
/* Open the input as a TIFF file (scout_array_open) and read boxes of it. */
int scout_fuzz_tiff(const uint8_t *data, size_t size);
/* Read the input as a voxel-size CSV (scout_read_voxel_size). */
int scout_fuzz_voxel_size(const uint8_t *data, size_t size);
/* Parse the input as .zarray text (and its compressor) and as .zattrs. */
int scout_fuzz_zarray(const uint8_t *data, size_t size);
/* zarr.json text of a Zarr v3 array (fuzz_zarr_json.c) */
int scout_fuzz_zarr_json(const uint8_t *data, size_t size);
/* Decode the input as a sharding_indexed shard (index + inner chunks). */
int scout_fuzz_shard(const uint8_t *data, size_t size);

/* Abort with a message when a property of a target does not hold. */
#define SCOUT_FUZZ_ASSERT(cond)                                                                    \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: fuzz property failed: %s\n", __FILE__, __LINE__,   \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#endif
