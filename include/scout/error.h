/**
 * @file scout/error.h
 * @brief Error codes and the thread-local error message.
 *
 * Every scout function that can fail returns an int: SCOUT_OK (0) on success,
 * a negative SCOUT_E* code on failure. After a failure, scout_last_error()
 * gives a message for a person: which file, which chunk key, which field, what
 * was expected.
 */
#ifndef SCOUT_ERROR_H
#define SCOUT_ERROR_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Error codes. All failures are negative. */
typedef enum {
	SCOUT_OK = 0,             /**< success */
	SCOUT_EINVAL = -1,        /**< invalid argument (NULL pointer, bad ndim, bad shape, ...) */
	SCOUT_ENOMEM = -2,        /**< out of memory */
	SCOUT_EIO = -3,           /**< an operating-system I/O call failed */
	SCOUT_ENOTFOUND = -4,     /**< a file, directory, key or shared-memory segment is missing */
	SCOUT_EFORMAT = -5,       /**< malformed or unsupported file content or metadata */
	SCOUT_ECODEC = -6,        /**< a codec failed to encode or decode (corrupt data) */
	SCOUT_EWORKER = -7,       /**< a pmap worker failed, crashed or was killed */
	SCOUT_EBOUNDS = -8,       /**< a box lies outside the array */
	SCOUT_EOVERFLOW = -9,     /**< a size computation would overflow */
	SCOUT_EREADONLY = -10,    /**< writing to an array opened read-only */
	SCOUT_EUNSUPPORTED = -11, /**< a valid feature scout does not implement */
	SCOUT_EINTERRUPTED = -12  /**< the operation was cancelled (signal, callback) */
} scout_error_code;

/**
 * The message describing the last failure in the calling thread.
 * @return a NUL-terminated string owned by the library, valid until the next
 *         scout call in the same thread; "" when no error was recorded.
 */
SCOUT_API const char *scout_last_error(void);

/**
 * The last error code recorded in the calling thread (SCOUT_OK if none).
 */
SCOUT_API int scout_last_error_code(void);

/** Forget the calling thread's last error. */
SCOUT_API void scout_clear_error(void);

/**
 * A short, static description of an error code ("invalid argument", ...).
 * @param code a scout_error_code; unknown codes give "unknown error".
 */
SCOUT_API const char *scout_strerror(int code);

#ifdef __cplusplus
}
#endif

#endif
