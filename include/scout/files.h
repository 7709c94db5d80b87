/**
 * @file scout/files.h
 * @brief Directory listings and the voxel-size CSV (SCOUT's files_in_dir,
 *        tifs_in_dir, read_voxel_size).
 */
#ifndef SCOUT_FILES_H
#define SCOUT_FILES_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An immutable list of strings. */
typedef struct scout_strlist scout_strlist;

/** Number of strings. */
SCOUT_API size_t scout_strlist_count(const scout_strlist *list);
/** String i (owned by the list), or NULL when i is out of range. */
SCOUT_API const char *scout_strlist_get(const scout_strlist *list, size_t i);
/** Release the list. NULL is allowed. */
SCOUT_API void scout_strlist_free(scout_strlist *list);

/**
 * Every entry of a directory (files and subdirectories, without "." and ".."),
 * as absolute paths sorted in byte order (like sorted(os.listdir())).
 * @return SCOUT_OK, SCOUT_ENOTFOUND, SCOUT_EINVAL (not a directory), SCOUT_EIO
 */
SCOUT_API int scout_files_in_dir(scout_strlist **out, const char *path);

/**
 * The .tif / .tiff files (any letter case) of a directory, sorted by name in
 * byte order.
 * @param paths_out receives absolute paths
 * @param names_out receives the file names with extension (may be NULL)
 * @return as scout_files_in_dir()
 */
SCOUT_API int scout_tifs_in_dir(scout_strlist **paths_out, scout_strlist **names_out,
				const char *path);

/**
 * Read a voxel size: one CSV line of integers in nanometres, returned in
 * micrometres (value / 1000) in file order.
 * @param size_out  receives up to max_count values
 * @param count_out receives the number of values
 * @param max_count capacity of size_out
 * @param path      the CSV file
 * @return SCOUT_OK, SCOUT_ENOTFOUND, SCOUT_EIO, SCOUT_EFORMAT (empty file,
 *         non-integer field, more than max_count fields: the message names the field)
 */
SCOUT_API int scout_read_voxel_size(double *size_out, int *count_out, int max_count,
				    const char *path);

#ifdef __cplusplus
}
#endif

#endif
