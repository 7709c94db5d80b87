/*
 * Zarr hierarchies (v2 and v3): what a group holds, and consolidated
 * metadata. Not installed.
 *
 * A group is a store whose root holds .zgroup (v2) or a zarr.json with
 * node_type "group" (v3). Its members are found in its consolidated metadata
 * when it has some (v2: .zmetadata; v3: "consolidated_metadata" of its
 * zarr.json), otherwise by walking the store: every child holding .zarray,
 * .zgroup or zarr.json is a member (arrays are not walked into; groups and
 * directories without metadata are, up to 32 levels).
 *
 * describe() gives {"kind": "group", "zarr_format", "attributes",
 * "consolidated", "members": [...]} with members sorted by relative path
 * ('/' separators), each {"path", "node_type"} and, for arrays, "shape",
 * "chunks", "dtype_name", "codecs" (the chain in v3 form), or "error" (the
 * message) when scout cannot read an array's metadata: one unreadable member
 * does not hide the others.
 *
 * consolidate() writes what zarr-python writes: v2 .zmetadata ({"metadata":
 * {key: document}, "zarr_consolidated_format": 1}, indent 4, sorted keys),
 * v3 "consolidated_metadata": {"kind": "inline", "must_understand": false,
 * "metadata": {path: zarr.json document}} in the group's zarr.json.
 */
#ifndef SCOUT_ZARR_HIERARCHY_H
#define SCOUT_ZARR_HIERARCHY_H

#include <jansson.h>

#include "core/internal.h"
#include "store/store.h"

/*
 * The group's format: 2 or 3; SCOUT_ENOTFOUND (silent) when the store's root
 * is not a group; other errors name the metadata file (name: how to call the
 * store's root in messages).
 */
SCOUT_HIDDEN int scout__zarr_group_format(const scout_store *st, const char *name);

/* Describe the group at the store's root (see above). *out: new reference. */
SCOUT_HIDDEN int scout__zarr_group_describe(json_t **out, const scout_store *st, const char *name);

/* Write the group's consolidated metadata (see above). */
SCOUT_HIDDEN int scout__zarr_group_consolidate(const scout_store *st, const char *name);

/* The text of a v3 group's zarr.json as zarr-python 3 writes it (malloc'd). */
SCOUT_HIDDEN char *scout__zarr_v3_group_text(const json_t *attributes);

#endif
