/* Opening Zarr array directories (used by scout_array_open). */
#ifndef SCOUT_ZARR_ARRAY_H
#define SCOUT_ZARR_ARRAY_H

#include "array_impl.h"

/*
 * 1 if path holds a Zarr array (its metadata, or an entry in a consolidated
 * .zmetadata of an enclosing group), 0 if not, < 0 when the store cannot be
 * read (SCOUT_EIO naming the file).
 */
SCOUT_HIDDEN int scout__zarr_probe(const char *path);

/* Open a Zarr array directory (kind "zarr"). */
SCOUT_HIDDEN int scout__zarr_open(scout_array **out, const char *path, int mode);

#endif
