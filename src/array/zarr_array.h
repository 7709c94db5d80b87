/* Opening Zarr v2 array directories (used by scout_array_open). */
#ifndef SCOUT_ZARR_ARRAY_H
#define SCOUT_ZARR_ARRAY_H

#include "array_impl.h"

/* 1 if path is a directory holding a .zarray file. */
SCOUT_HIDDEN int scout__is_zarr_array(const char *path);

/* Open a Zarr v2 array directory (kind "zarr"). */
SCOUT_HIDDEN int scout__zarr_open(scout_array **out, const char *path, int mode);

#endif
