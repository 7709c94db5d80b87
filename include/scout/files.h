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
 * Every entry of a directory (files, subdirectories and hidden entries, without
 * "." and ".."): the entry names, not paths, sorted by name in byte order,
 * exactly as SCOUT's files_in_dir, which returns sorted(os.listdir(path))
 * ("B" < "_" < "a", "10" < "2"). Join them with the directory yourself;
 * scout_tifs_in_dir() gives absolute paths.
 * @param out  receives the list; free with scout_strlist_free(). NULL on error.
 * @param path the directory; relative paths are resolved against the current
 *             directory (symbolic links in it are resolved too, as realpath())
 * @return SCOUT_OK, SCOUT_ENOTFOUND (path missing), SCOUT_EINVAL (NULL argument,
 *         or path is not a directory), SCOUT_EIO (permission denied, read error),
 *         SCOUT_ENOMEM; the message names the path
 */
SCOUT_API int scout_files_in_dir(scout_strlist **out, const char *path);

/**
 * The .tif / .tiff files (any letter case: ".TIF", ".Tiff", ...) of a
 * directory, sorted by name in byte order. Subdirectories are left out even
 * when their name ends in .tif; hidden files are kept (as SCOUT does).
 * @param paths_out receives absolute paths; free with scout_strlist_free()
 * @param names_out receives the file names with extension, in the same order
 *                  (may be NULL); free with scout_strlist_free()
 * @param path      the directory
 * @return as scout_files_in_dir(); on error both outputs are NULL
 */
SCOUT_API int scout_tifs_in_dir(scout_strlist **paths_out, scout_strlist **names_out,
				const char *path);

/**
 * Read a voxel size: one CSV line of integers in nanometres (such as
 * "2000,1800,1800"), returned in micrometres (value / 1000.0) in file order.
 * Whitespace around fields and a trailing newline are accepted; fields are
 * decimal integers with an optional sign.
 * @param size_out  receives up to max_count values
 * @param count_out receives the number of values (0 on error)
 * @param max_count capacity of size_out, >= 1
 * @param path      the CSV file (at most 64 KiB)
 * @return SCOUT_OK, SCOUT_EINVAL (NULL argument, max_count < 1),
 *         SCOUT_ENOTFOUND, SCOUT_EIO, SCOUT_EFORMAT (empty file, a second
 *         non-empty line, a non-integer or empty field, more than max_count
 *         fields: the message names the file and the field's 1-based number
 *         and text, as in `voxel.csv: field 2 ("1.8") is not an integer`)
 */
SCOUT_API int scout_read_voxel_size(double *size_out, int *count_out, int max_count,
				    const char *path);

#ifdef __cplusplus
}
#endif

#endif
