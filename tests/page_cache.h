/*
 * Counting a file's pages in the page cache, for the tests of direct I/O:
 * mincore() over a read-only mapping (mapping does not read the file in;
 * nothing here touches the mapped bytes). Returns the cached pages and sets
 * *total to the file's pages; -1 when they cannot be counted (an empty file,
 * no mapping). test_counts_pages(dir): 0 where every page is in memory anyway
 * (tmpfs), so the count says nothing.
 */
#ifndef SCOUT_TEST_PAGE_CACHE_H
#define SCOUT_TEST_PAGE_CACHE_H

#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

static inline long test_cached_pages(const char *path, long *total)
{
	int fd = open(path, O_RDONLY);
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) != 0 || sb.st_size == 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	size_t len = (size_t)sb.st_size, ps = (size_t)sysconf(_SC_PAGESIZE);
	void *m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return -1;
	*total = (long)((len + ps - 1) / ps);
	unsigned char *vec = malloc((size_t)*total);
	long n = -1;
	if (vec && mincore(m, len, vec) == 0) {
		n = 0;
		for (long i = 0; i < *total; i++)
			n += vec[i] & 1;
	}
	free(vec);
	munmap(m, len);
	return n;
}

static inline int test_counts_pages(const char *dir)
{
	struct statfs fsb;
	return statfs(dir, &fsb) == 0 && fsb.f_type != 0x01021994 /* TMPFS_MAGIC */;
}

#endif
