/*
 * Replays the fuzz targets' committed inputs through the same entry functions
 * libFuzzer calls (fuzz/fuzz_<target>.c), without libFuzzer: every file under
 * fuzz/regressions/<target>/ (inputs that once crashed or broke a property,
 * kept after the fix) and fuzz/seeds/<target>/ (small valid files written by
 * numcodecs, tifffile, zarr-python and csv).
 *
 * An entry function aborts when a property fails, and the sanitizer build
 * reports memory errors, so reaching the summary means every input passed.
 * Without ASan the process's address space is limited to 1 GiB above its size
 * at start, so an input that makes the library allocate what a file claims
 * (the decompression bombs the fuzzers found) fails with SCOUT_ENOMEM, which
 * the codec and TIFF targets treat as a failure.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "../fuzz/fuzz_codec.c"
#include "../fuzz/fuzz_tiff.c"
#include "../fuzz/fuzz_voxel_size.c"
#include "../fuzz/fuzz_zarr_json.c"
#include "../fuzz/fuzz_shard.c"
#include "../fuzz/fuzz_zarray.c"
#include "check.h"

typedef int (*entry_fn)(const uint8_t *, size_t);

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replay every regular file of dir (sorted); -1 if dir is missing. */
static int replay_dir(const char *dir, entry_fn fn)
{
	DIR *d = opendir(dir);
	if (!d) {
		if (errno == ENOENT)
			return -1;
		CHECK(!"opendir failed");
		return 0;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			names = realloc(names, cap * sizeof *names);
			CHECK(names != NULL);
			if (!names)
				abort();
		}
		names[n++] = strdup(e->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof *names, cmp_str);
	int count = 0;
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		FILE *f = fopen(path, "rb");
		CHECK(f != NULL);
		if (f) {
			uint8_t *buf = NULL;
			size_t len = 0, cap2 = 0, got;
			do {
				if (len == cap2) {
					cap2 = cap2 ? 2 * cap2 : 65536;
					buf = realloc(buf, cap2);
					if (!buf)
						abort();
				}
				got = fread(buf + len, 1, cap2 - len, f);
				len += got;
			} while (got > 0);
			fclose(f);
			fprintf(stderr, "replay %s (%zu bytes)\n", path, len);
			CHECK(fn(buf, len) == 0);
			free(buf);
			count++;
		}
		free(names[i]);
	}
	free(names);
	return count;
}

#if defined(__SANITIZE_ADDRESS__)
#define HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_ASAN 1
#endif
#endif

static void limit_address_space(void)
{
#ifndef HAVE_ASAN
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long pages = 0;
	if (!f || fscanf(f, "%lu", &pages) != 1)
		pages = 0;
	if (f)
		fclose(f);
	struct rlimit rl;
	rl.rlim_cur = rl.rlim_max =
	    (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + ((rlim_t)1 << 30);
	CHECK(pages > 0 && setrlimit(RLIMIT_AS, &rl) == 0);
#endif
}

int main(void)
{
	limit_address_space();
	/* the source tree: from ctest's environment, else from this file's path */
	const char *src = getenv("SCOUT_SOURCE_DIR");
	char here[4096];
	if (!src) {
		snprintf(here, sizeof here, "%s", __FILE__);
		char *slash = strrchr(here, '/');
		if (slash)
			*slash = '\0';
		snprintf(here + strlen(here), sizeof here - strlen(here), "/..");
		src = here;
	}
	static const struct {
		const char *name;
		entry_fn fn;
	} targets[] = {
	    {"codec", scout_fuzz_codec},           {"tiff", scout_fuzz_tiff},
	    {"voxel_size", scout_fuzz_voxel_size}, {"zarray", scout_fuzz_zarray},
	    {"zarr_json", scout_fuzz_zarr_json},   {"shard", scout_fuzz_shard},
	};
	for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
		char dir[4096 + 64];
		snprintf(dir, sizeof dir, "%s/fuzz/seeds/%s", src, targets[i].name);
		int seeds = replay_dir(dir, targets[i].fn);
		CHECK(seeds > 0); /* every target has committed seeds */
		snprintf(dir, sizeof dir, "%s/fuzz/regressions/%s", src, targets[i].name);
		int regs = replay_dir(dir, targets[i].fn);
		fprintf(stderr, "%s: %d seeds, %d regression inputs replayed\n", targets[i].name,
			seeds, regs < 0 ? 0 : regs);
	}
	/* inputs too short for a target's header are ignored, not read past */
	static const uint8_t tiny[1] = {0};
	for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
		CHECK(targets[i].fn(tiny, 0) == 0);
		CHECK(targets[i].fn(tiny, 1) == 0);
	}
	return check_summary();
}
