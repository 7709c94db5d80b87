/*
 * Reading a whole file, for the tests and the test tools: the file at path,
 * malloc'd and NUL-terminated (free()), *n its length; NULL when it cannot
 * be opened or read whole, or memory runs out.
 */
#ifndef SCOUT_TEST_READ_FILE_H
#define SCOUT_TEST_READ_FILE_H

#include <stdio.h>
#include <stdlib.h>

static inline void *test_read_file(const char *path, size_t *n)
{
	*n = 0;
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long len = ftell(f);
	fseek(f, 0, SEEK_SET);
	size_t want = len > 0 ? (size_t)len : 0;
	char *d = malloc(want + 1);
	if (d && fread(d, 1, want, f) != want) {
		free(d);
		d = NULL;
	}
	fclose(f);
	if (d) {
		d[want] = 0;
		*n = want;
	}
	return d;
}

#endif
