/* Box I/O on an array whose elements are one C-contiguous block (arr->data). */
#ifndef SCOUT_MEMORY_H
#define SCOUT_MEMORY_H

#include "array_impl.h"

SCOUT_HIDDEN int scout__memory_read(scout_array *arr, void *dst, const int64_t *start,
				    const int64_t *stop);
SCOUT_HIDDEN int scout__memory_write(scout_array *arr, const int64_t *start, const int64_t *stop,
				     const void *src);

#endif
