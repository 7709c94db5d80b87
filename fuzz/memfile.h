/*
 * The fuzz targets that read files get their input as a file: a memfd, named
 * "/proc/self/fd/N", created once per process and rewritten for each input.
 */
#ifndef SCOUT_FUZZ_MEMFILE_H
#define SCOUT_FUZZ_MEMFILE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* Write data to this process's memfd number `slot` (0..3); the path to open it by, or NULL. */
static inline const char *scout_fuzz_memfile(int slot, const uint8_t *data, size_t size)
{
	static int fds[4] = {-1, -1, -1, -1};
	static char paths[4][64];
	if (fds[slot] < 0) {
		fds[slot] = memfd_create("scout-fuzz", MFD_CLOEXEC);
		if (fds[slot] < 0) {
			perror("memfd_create");
			abort();
		}
		snprintf(paths[slot], sizeof paths[slot], "/proc/self/fd/%d", fds[slot]);
	}
	if (ftruncate(fds[slot], 0) != 0) {
		perror("ftruncate");
		abort();
	}
	size_t done = 0;
	while (done < size) {
		ssize_t w = pwrite(fds[slot], data + done, size - done, (off_t)done);
		if (w <= 0) {
			perror("pwrite");
			abort();
		}
		done += (size_t)w;
	}
	return paths[slot];
}

#endif
