/*
 * The Zarr v2 metadata format: .zarray, .zattrs, .zgroup and consolidated
 * .zmetadata (JSON, parsed and written with jansson). Not installed.
 *
 * .zarray fields (v2 spec):
 *   zarr_format          must be 2
 *   shape, chunks        arrays of ndim (1..SCOUT_MAX_NDIM) integers; shape >= 0,
 *                        chunks >= 1; shape x itemsize and chunks x itemsize must
 *                        not overflow
 *   dtype                numpy typestr of a scout dtype, either byte order
 *                        ("<u2", ">f8", "|b1", "|u1", "<c16", ...)
 *   compressor           numcodecs config object ({"id": ...}) or null; kept as
 *                        JSON here and checked by the codec layer
 *   fill_value           null, a number, true/false (bool), "NaN" / "Infinity" /
 *                        "-Infinity" (floats), [re, im] or a real
 *                        scalar as above (complex; imaginary part 0)
 *   order                "C" or "F"
 *   filters              null or a list of numcodecs configs ({"id": ...}), kept as
 *                        JSON here and mapped onto array->array codecs by
 *                        zarr_meta.c (an unknown id is SCOUT_EFORMAT naming it)
 *   dimension_separator  "." or "/"; optional (absent: the caller detects it)
 *
 * Every error message names the file (the `what` argument) and the field.
 * Malformed JSON gives the line and column from jansson.
 *
 * Writing follows zarr-python's json_dumps: indent 4, sorted keys, ASCII.
 */
#ifndef SCOUT_ZARRAY_H
#define SCOUT_ZARRAY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/internal.h"

typedef struct {
	int ndim;
	int64_t shape[SCOUT_MAX_NDIM];
	int64_t chunks[SCOUT_MAX_NDIM];
	scout_dtype dtype;
	int big_endian;         /* stored byte order: 1 '>', 0 '<' or '|' */
	json_t *compressor;     /* owned numcodecs config; NULL: no compressor */
	json_t *filters;        /* owned list of numcodecs configs; NULL: none (null or []) */
	char order;             /* 'C' or 'F' */
	char separator;         /* '.' or '/'; 0 when the file has none */
	int fill_null;          /* fill_value is null (reads give zeros) */
	unsigned char fill[16]; /* the fill value, native byte order */
} scout_zarray;

/* Release what a scout_zarray owns (the struct itself is the caller's). */
SCOUT_HIDDEN void scout__zarray_clear(scout_zarray *z);

/*
 * Parse JSON text into a json_t. SCOUT_EFORMAT "<what>: invalid JSON at line
 * L, column C: <jansson's message>".
 */
SCOUT_HIDDEN int scout__json_parse(json_t **out, const char *text, size_t len, const char *what);

/* Parse .zarray text. `what` names the file in messages. *out is cleared first. */
SCOUT_HIDDEN int scout__zarray_parse(scout_zarray *out, const char *text, size_t len,
				     const char *what);

/* Same from a parsed object. */
SCOUT_HIDDEN int scout__zarray_from_json(scout_zarray *out, const json_t *obj, const char *what);

/*
 * The .zarray text of z (indent 4, sorted keys, trailing newline absent as
 * zarr-python). *text_out is malloc'd (free()). The separator is written when
 * it is set. Errors: SCOUT_ENOMEM, SCOUT_EINVAL.
 */
SCOUT_HIDDEN int scout__zarray_dump(char **text_out, const scout_zarray *z);

/*
 * Parse a fill value for dtype into native-endian bytes (16 bytes suffice).
 * *is_null is set for JSON null (out is zeroed). SCOUT_EFORMAT naming `what`.
 */
SCOUT_HIDDEN int scout__fill_value_parse(unsigned char *out, int *is_null, const json_t *v,
					 scout_dtype dtype, const char *what);

/* The JSON encoding of a fill value as zarr-python writes it (new reference, NULL: ENOMEM). */
SCOUT_HIDDEN json_t *scout__fill_value_json(const unsigned char *fill, int is_null,
					    scout_dtype dtype);

/*
 * JSON value to text as zarr-python's json_dumps (indent 4, sorted keys).
 * malloc'd; NULL with SCOUT_ENOMEM recorded on failure.
 */
SCOUT_HIDDEN char *scout__json_dumps(const json_t *v);

/* The text of a .zgroup ({"zarr_format": 2}), static. */
SCOUT_HIDDEN const char *scout__zgroup_text(void);

/*
 * Look up a key ("a/b/.zarray") in a consolidated .zmetadata object
 * ({"metadata": {...}, "zarr_consolidated_format": 1}).
 * *out: borrowed reference into zmeta, or NULL (SCOUT_ENOTFOUND, silent) when absent.
 * SCOUT_EFORMAT when zmeta is not consolidated metadata.
 */
SCOUT_HIDDEN int scout__zmetadata_get(const json_t **out, const json_t *zmeta, const char *key,
				      const char *what);

/* IEEE half <-> double (round to nearest even, as numpy). */
SCOUT_HIDDEN uint16_t scout__zarray_double_to_half(double d);
SCOUT_HIDDEN double scout__zarray_half_to_double(uint16_t h);

#endif
