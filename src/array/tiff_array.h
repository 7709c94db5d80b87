/* Opening TIFF files and folders of TIFF slices as arrays (used by scout_array_open). */
#ifndef SCOUT_TIFF_ARRAY_H
#define SCOUT_TIFF_ARRAY_H

#include "array_impl.h"

/* 1 if path names a regular file whose first bytes are a TIFF/BigTIFF header. */
SCOUT_HIDDEN int scout__is_tiff_file(const char *path);

/* Open a TIFF file (kind "tiff") or a folder of TIFF slices (kind "tiff-stack"), read-only. */
SCOUT_HIDDEN int scout__tiff_open(scout_array **out, const char *path, int mode);

#endif
