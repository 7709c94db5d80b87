/**
 * @file scout/scout.h
 * @brief libscout: map-reduce processing of large chunk-compressed N-D arrays.
 *
 * Include this header to get the whole public API:
 *  - scout/error.h    error codes, scout_last_error()
 *  - scout/dtype.h    element types, numpy typestrs
 *  - scout/geometry.h chunk grids and boxes
 *  - scout/array.h    array handles, extract/insert box
 *  - scout/iothreads.h threads used by one extract/insert of a large box
 *  - scout/shm.h      shared memory between processes
 *  - scout/pmap.h     parallel map over chunks
 *  - scout/ghost.h    ghosted chunks and point filtering
 *  - scout/files.h    directory listings and voxel sizes
 *  - scout/zarr.h     Zarr v2 arrays
 *  - scout/tiff.h     TIFF files and folders of TIFF slices
 *  - scout/ops.h      per-chunk kernels: stats, Gaussian blur, local maxima
 */
#ifndef SCOUT_SCOUT_H
#define SCOUT_SCOUT_H

#include "common.h"
#include "error.h"
#include "dtype.h"
#include "geometry.h"
#include "array.h"
#include "iothreads.h"
#include "shm.h"
#include "pmap.h"
#include "ghost.h"
#include "files.h"
#include "zarr.h"
#include "tiff.h"
#include "ops.h"
#include "preview.h"
#include "ngff.h"

#endif
