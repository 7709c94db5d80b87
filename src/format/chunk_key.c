/* Chunk-key encodings of Zarr v2 and v3 (see chunk_key.h). */
#include <stdio.h>

#include "chunk_key.h"

static int join(char *buf, size_t bufsize, size_t used, int ndim, const int64_t *idx, char sep,
		int lead_sep)
{
	if (sep != '.' && sep != '/')
		return scout__error(SCOUT_EINVAL, "chunk key: separator '%c' is not '.' or '/'",
				    sep);
	if (ndim < 1 || ndim > SCOUT_MAX_NDIM)
		return scout__error(SCOUT_EINVAL, "chunk key: ndim %d is outside 1..%d", ndim,
				    SCOUT_MAX_NDIM);
	for (int i = 0; i < ndim; i++) {
		if (idx[i] < 0)
			return scout__error(SCOUT_EINVAL, "chunk key: negative index %lld",
					    (long long)idx[i]);
		int n = i || lead_sep
			    ? snprintf(buf + used, bufsize - used, "%c%lld", sep, (long long)idx[i])
			    : snprintf(buf + used, bufsize - used, "%lld", (long long)idx[i]);
		if (n < 0 || (size_t)n >= bufsize - used)
			return scout__error(SCOUT_EOVERFLOW,
					    "chunk key: buffer of %zu bytes too small", bufsize);
		used += (size_t)n;
	}
	return SCOUT_OK;
}

int scout__chunk_key(char *buf, size_t bufsize, int ndim, const int64_t *idx, char sep)
{
	if (bufsize < 1)
		return scout__error(SCOUT_EOVERFLOW, "chunk key: buffer of 0 bytes");
	buf[0] = '\0';
	return join(buf, bufsize, 0, ndim, idx, sep, 0);
}

int scout__chunk_key_encode(char *buf, size_t bufsize, const scout_key_encoding *enc, int ndim,
			    const int64_t *idx)
{
	if (enc->kind == SCOUT_KEY_V2)
		return scout__chunk_key(buf, bufsize, ndim, idx, enc->separator);
	if (bufsize < 2)
		return scout__error(SCOUT_EOVERFLOW, "chunk key: buffer of %zu bytes too small",
				    bufsize);
	buf[0] = 'c';
	buf[1] = '\0';
	return join(buf, bufsize, 1, ndim, idx, enc->separator, 1);
}
