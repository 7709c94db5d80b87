/*
 * Chunk keys: how a chunk's grid indices become a store key. Not installed.
 *
 * Zarr v2 (and the v3 "v2" encoding): indices joined by the separator, "1.0.3"
 * or "1/0/3". Zarr v3 "default": "c" then each index after the separator,
 * "c/1/0/3" or "c.1.0.3".
 */
#ifndef SCOUT_CHUNK_KEY_H
#define SCOUT_CHUNK_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "core/internal.h"

typedef enum { SCOUT_KEY_V2 = 0, SCOUT_KEY_DEFAULT = 1 } scout_key_kind;

/* A chunk-key encoding: its kind and separator ('.' or '/'). */
typedef struct {
	scout_key_kind kind;
	char separator;
} scout_key_encoding;

/*
 * The v2 key of a chunk from its grid indices: indices joined by sep. Errors:
 * SCOUT_EINVAL (bad sep, negative index), SCOUT_EOVERFLOW (buffer too small;
 * 1024 bytes always suffice).
 */
SCOUT_HIDDEN int scout__chunk_key(char *buf, size_t bufsize, int ndim, const int64_t *idx,
				  char sep);

/* The key of a chunk under an encoding; errors as scout__chunk_key(). */
SCOUT_HIDDEN int scout__chunk_key_encode(char *buf, size_t bufsize, const scout_key_encoding *enc,
					 int ndim, const int64_t *idx);

#endif
