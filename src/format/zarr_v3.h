/*
 * Zarr v3 metadata: zarr.json of arrays and groups (spec 3.0/3.1 core).
 * Not installed.
 *
 * Arrays: zarr_format 3, node_type "array", shape (1..SCOUT_MAX_NDIM
 * extents), data_type (bool, int8-64, uint8-64, float16/32/64, complex64/128),
 * chunk_grid "regular", chunk_key_encoding "default" (separator "/" or ".",
 * default "/") or "v2" (default "."), fill_value (numbers, true/false,
 * "NaN", "Infinity", "-Infinity", "0x..." bit patterns for floats, [re, im]
 * for complex), codecs (kept as JSON: the codec layer checks them),
 * attributes, dimension_names, storage_transformers (empty or absent only).
 * Any other field, and a chunk grid or key encoding scout does not know,
 * fails the open naming it, unless it is an object with "must_understand":
 * false (then it is ignored).
 *
 * Groups: zarr_format 3, node_type "group", attributes, and
 * consolidated_metadata (null or {"kind": "inline", "must_understand":
 * false, "metadata": {path: node metadata}}).
 *
 * Every error message names the file (`what`) and the field. Writing follows
 * zarr-python 3: 2-space indent, its key order (shape, data_type, chunk_grid,
 * chunk_key_encoding, fill_value, codecs, attributes, dimension_names,
 * zarr_format, node_type, storage_transformers).
 */
#ifndef SCOUT_ZARR_V3_H
#define SCOUT_ZARR_V3_H

#include <jansson.h>

#include "zarr_meta.h"

/*
 * The node type of a parsed zarr.json: 1 array, 2 group. SCOUT_EFORMAT when
 * it is not a v3 node (zarr_format or node_type missing or wrong).
 */
SCOUT_HIDDEN int scout__zarr_v3_node_type(const json_t *root, const char *what);

/* Fill m from an array's zarr.json object. *m is cleared first. */
SCOUT_HIDDEN int scout__zarr_v3_from_json(scout_zarr_meta *m, const json_t *root, const char *what);

/* Parse zarr.json text of an array. */
SCOUT_HIDDEN int scout__zarr_v3_parse(scout_zarr_meta *m, const char *text, size_t len,
				      const char *what);

/* The zarr.json object of an array (new reference; NULL: SCOUT_ENOMEM recorded). */
SCOUT_HIDDEN json_t *scout__zarr_v3_to_json(const scout_zarr_meta *m);

/* The zarr.json text of an array as zarr-python 3 writes it (malloc'd). */
SCOUT_HIDDEN int scout__zarr_v3_dump(char **text_out, const scout_zarr_meta *m);

/* JSON to text as zarr-python 3 writes it (indent 2, key order kept). malloc'd. */
SCOUT_HIDDEN char *scout__json_dumps_v3(const json_t *v);

/* The v3 name of a dtype ("uint16"); NULL for an invalid one. */
SCOUT_HIDDEN const char *scout__v3_data_type_name(scout_dtype dt);

/* The chunk_key_encoding object of an encoding (new reference). */
SCOUT_HIDDEN json_t *scout__key_encoding_json(const scout_key_encoding *enc);

/*
 * Parse a v3 fill value for dtype into native bytes (16 suffice).
 * SCOUT_EFORMAT naming `what` and "fill_value" for a value of the wrong type.
 */
SCOUT_HIDDEN int scout__v3_fill_parse(unsigned char *out, const json_t *v, scout_dtype dt,
				      const char *what);

/* The v3 JSON of a fill value (new reference). */
SCOUT_HIDDEN json_t *scout__v3_fill_json(const unsigned char *fill, scout_dtype dt);

#endif
