/*
 * Element type conversion with numpy's astype semantics for the simple cases
 * (see cast.c for the rules). Not installed.
 */
#ifndef SCOUT_CORE_CAST_H
#define SCOUT_CORE_CAST_H

#include <stddef.h>

#include "scout/dtype.h"
#include "internal.h"

/* 1 if scout__cast_values() supports src -> dst (float16 and complex: only to themselves). */
SCOUT_HIDDEN int scout__cast_supported(scout_dtype src, scout_dtype dst);

/* Convert n elements (native order). dst and src must not overlap unless the types are equal. */
SCOUT_HIDDEN void scout__cast_values(void *dst, scout_dtype dst_type, const void *src,
				     scout_dtype src_type, size_t n);

#endif
