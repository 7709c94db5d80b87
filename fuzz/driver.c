/*
 * libFuzzer entry point for one target: build with
 * -DSCOUT_FUZZ_ENTRY=scout_fuzz_<name> and link with fuzz_<name>.c (build.sh).
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return SCOUT_FUZZ_ENTRY(data, size);
}
