/* Overflow-checked size arithmetic and shape/box validation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scout/common.h"
#include "internal.h"

int scout__mul_size(size_t *out, size_t a, size_t b, const char *what)
{
	if (__builtin_mul_overflow(a, b, out))
		return scout__error(SCOUT_EOVERFLOW, "%s: size %zu x %zu overflows",
				    what ? what : "size", a, b);
	return SCOUT_OK;
}

int scout__check_shape(int ndim, const int64_t *shape, const char *what)
{
	if (ndim < 1 || ndim > SCOUT_MAX_NDIM)
		return scout__error(SCOUT_EINVAL, "%s: ndim %d is outside 1..%d", what, ndim,
				    SCOUT_MAX_NDIM);
	if (!shape)
		return scout__error(SCOUT_EINVAL, "%s: shape is NULL", what);
	for (int i = 0; i < ndim; i++)
		if (shape[i] < 0)
			return scout__error(SCOUT_EINVAL, "%s: extent %lld of axis %d is negative",
					    what, (long long)shape[i], i);
	return SCOUT_OK;
}

int scout__check_chunks(int ndim, const int64_t *chunks, const char *what)
{
	if (ndim < 1 || ndim > SCOUT_MAX_NDIM)
		return scout__error(SCOUT_EINVAL, "%s: ndim %d is outside 1..%d", what, ndim,
				    SCOUT_MAX_NDIM);
	if (!chunks)
		return scout__error(SCOUT_EINVAL, "%s: chunk shape is NULL", what);
	for (int i = 0; i < ndim; i++)
		if (chunks[i] < 1)
			return scout__error(SCOUT_EINVAL,
					    "%s: chunk extent %lld of axis %d is not >= 1", what,
					    (long long)chunks[i], i);
	return SCOUT_OK;
}

int scout__shape_size(size_t *count_out, size_t *nbytes_out, int ndim, const int64_t *shape,
		      size_t itemsize)
{
	int rc = scout__check_shape(ndim, shape, "shape");
	if (rc < 0)
		return rc;
	size_t n = 1;
	for (int i = 0; i < ndim; i++) {
		if ((uint64_t)shape[i] > SIZE_MAX)
			return scout__error(SCOUT_EOVERFLOW, "shape: extent %lld overflows",
					    (long long)shape[i]);
		if (__builtin_mul_overflow(n, (size_t)shape[i], &n))
			return scout__error(SCOUT_EOVERFLOW,
					    "shape: number of elements overflows at axis %d", i);
	}
	size_t bytes;
	if (__builtin_mul_overflow(n, itemsize, &bytes) || bytes > (size_t)PTRDIFF_MAX)
		return scout__error(SCOUT_EOVERFLOW, "shape: %zu elements of %zu bytes overflow", n,
				    itemsize);
	if (count_out)
		*count_out = n;
	if (nbytes_out)
		*nbytes_out = bytes;
	return SCOUT_OK;
}

const char *scout__fmt_coords(char *buf, size_t bufsize, int ndim, const int64_t *coords)
{
	size_t used = 0;
	if (bufsize == 0)
		return buf;
	buf[0] = '\0';
	for (int i = 0; i < ndim && used + 1 < bufsize; i++) {
		int n = snprintf(buf + used, bufsize - used, "%s%lld", i ? ", " : "(",
				 (long long)coords[i]);
		if (n < 0)
			break;
		used += (size_t)n;
	}
	if (used + 1 < bufsize)
		snprintf(buf + used, bufsize - used, ")");
	return buf;
}

int scout__check_box(int ndim, const int64_t *shape, const int64_t *start, const int64_t *stop)
{
	if (!start || !stop)
		return scout__error(SCOUT_EINVAL, "box: start or stop is NULL");
	for (int i = 0; i < ndim; i++) {
		if (start[i] < 0 || stop[i] < start[i] || stop[i] > shape[i]) {
			char a[256], b[256], s[256];
			return scout__error(
			    SCOUT_EBOUNDS,
			    "box %s to %s is outside the array of shape %s (axis %d)",
			    scout__fmt_coords(a, sizeof a, ndim, start),
			    scout__fmt_coords(b, sizeof b, ndim, stop),
			    scout__fmt_coords(s, sizeof s, ndim, shape), i);
		}
	}
	return SCOUT_OK;
}

char *scout__strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);
	if (!p) {
		scout__error(SCOUT_ENOMEM, "out of memory copying a string of %zu bytes", n);
		return NULL;
	}
	memcpy(p, s, n);
	return p;
}
