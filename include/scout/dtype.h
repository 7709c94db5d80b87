/**
 * @file scout/dtype.h
 * @brief Element types of arrays, and numpy type strings.
 */
#ifndef SCOUT_DTYPE_H
#define SCOUT_DTYPE_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Element type of an array. Values are in native byte order in memory. */
typedef enum {
	SCOUT_BOOL = 0,
	SCOUT_INT8,
	SCOUT_INT16,
	SCOUT_INT32,
	SCOUT_INT64,
	SCOUT_UINT8,
	SCOUT_UINT16,
	SCOUT_UINT32,
	SCOUT_UINT64,
	SCOUT_FLOAT16,
	SCOUT_FLOAT32,
	SCOUT_FLOAT64,
	SCOUT_COMPLEX64,
	SCOUT_COMPLEX128,
	SCOUT_DTYPE_COUNT /**< number of dtypes; not a dtype */
} scout_dtype;

/**
 * Size in bytes of one element.
 * @return 1, 2, 4, 8 or 16; 0 for a value that is not a scout_dtype.
 */
SCOUT_API size_t scout_dtype_size(scout_dtype dtype);

/**
 * Parse a numpy type string or a dtype name.
 *
 * Accepted: typestrs such as "<u2", ">f8", "|b1", "|u1", "<c16" ('<' little,
 * '>' big, '|' not applicable, '=' native), and names "bool", "int8" ...
 * "uint64", "float16", "float32", "float64", "complex64", "complex128".
 *
 * @param out           receives the dtype
 * @param big_endian_out receives 1 for a big-endian typestr, 0 otherwise (may be NULL)
 * @param s             the string
 * @return SCOUT_OK, or SCOUT_EFORMAT naming the string when it is not recognised
 */
SCOUT_API int scout_dtype_parse(scout_dtype *out, int *big_endian_out, const char *s);

/**
 * The numpy name of a dtype ("uint16"), or NULL for an invalid value.
 */
SCOUT_API const char *scout_dtype_name(scout_dtype dtype);

/**
 * Write the numpy typestr of a dtype ("<u2", ">f8", "|b1") into buf.
 * @param buf        at least 8 bytes
 * @param dtype      the dtype
 * @param big_endian 1 for big-endian ('>'), 0 for little-endian ('<');
 *                   ignored for one-byte types, which use '|'
 * @return SCOUT_OK or SCOUT_EINVAL
 */
SCOUT_API int scout_dtype_typestr(char buf[8], scout_dtype dtype, int big_endian);

/** 1 if the dtype is a floating-point or complex type, 0 otherwise. */
SCOUT_API int scout_dtype_is_float(scout_dtype dtype);

/** 1 if the dtype is a signed integer type, 0 otherwise. */
SCOUT_API int scout_dtype_is_signed(scout_dtype dtype);

#ifdef __cplusplus
}
#endif

#endif
