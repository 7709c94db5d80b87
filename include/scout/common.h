/**
 * @file scout/common.h
 * @brief Version, limits and the memory-release function shared by every module.
 */
#ifndef SCOUT_COMMON_H
#define SCOUT_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && !defined(SCOUT_STATIC_ONLY)
#define SCOUT_API __attribute__((visibility("default")))
#else
#define SCOUT_API
#endif

/** Library version, as MAJOR.MINOR.PATCH. */
#define SCOUT_VERSION_MAJOR 0
#define SCOUT_VERSION_MINOR 1
#define SCOUT_VERSION_PATCH 0
#define SCOUT_VERSION       "0.1.0"

/** Largest number of dimensions an array, box or chunk grid may have. */
#define SCOUT_MAX_NDIM 32

/**
 * Return the library's version string ("0.1.0"): the version of the library
 * actually linked, which may differ from SCOUT_VERSION in the headers.
 */
SCOUT_API const char *scout_version(void);

/**
 * Release memory the library handed to the caller (start coordinates from
 * scout_chunk_coordinates(), JSON text from scout_array_attrs_get(), ...).
 * @param p memory returned by a scout function documented as "free with
 *          scout_free"; NULL is allowed and does nothing.
 */
SCOUT_API void scout_free(void *p);

#ifdef __cplusplus
}
#endif

#endif
