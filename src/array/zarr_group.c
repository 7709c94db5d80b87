/*
 * Zarr groups through the public API: creating v2 and v3 groups, describing
 * a group's hierarchy and writing its consolidated metadata (the work is in
 * format/zarr_hierarchy.c).
 */
#include <stdlib.h>
#include <string.h>

#include "format/zarr_hierarchy.h"
#include "format/zarray.h"
#include "scout/zarr.h"
#include "store/store.h"

int scout_zarr_group_create_format(const char *path, int zarr_format)
{
	if (!path || !*path)
		return scout__error(SCOUT_EINVAL, "zarr_group_create: path is NULL or empty");
	if (zarr_format != 0 && zarr_format != 2 && zarr_format != 3)
		return scout__error(SCOUT_EINVAL, "zarr_group_create: zarr_format %d is not 2 or 3",
				    zarr_format);
	scout_store *st;
	int rc = scout__store_open(&st, path, SCOUT_STORE_CREATE);
	if (rc < 0)
		return rc;
	const char *key = zarr_format == 3 ? "zarr.json" : ".zgroup";
	rc = scout__store_head(NULL, st, key);
	if (rc == SCOUT_ENOTFOUND) {
		if (zarr_format == 3) {
			char *t = scout__zarr_v3_group_text(NULL);
			rc = t ? scout__store_set(st, key, t, strlen(t), NULL) : SCOUT_ENOMEM;
			free(t);
		} else {
			const char *t = scout__zgroup_text();
			rc = scout__store_set(st, key, t, strlen(t), NULL);
		}
	}
	scout__store_free(st);
	return rc;
}

int scout_zarr_group_create(const char *path)
{
	return scout_zarr_group_create_format(path, 2);
}

int scout_zarr_group_describe(char **json_out, const char *path)
{
	if (!json_out || !path || !*path)
		return scout__error(SCOUT_EINVAL, "zarr_group_describe: NULL argument");
	*json_out = NULL;
	scout_store *st;
	int rc = scout__store_open(&st, path, 0);
	if (rc < 0)
		return rc;
	json_t *d = NULL;
	rc = scout__zarr_group_describe(&d, st, path);
	scout__store_free(st);
	if (rc == SCOUT_ENOTFOUND)
		return scout__error(SCOUT_ENOTFOUND, "%s: not a Zarr group", path);
	if (rc < 0)
		return rc;
	json_t *o = json_object();
	json_object_set_new(o, "path", json_string(path));
	const char *key;
	json_t *v;
	json_object_foreach(d, key, v)
	{
		json_object_set(o, key, v);
	}
	json_decref(d);
	*json_out = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
	json_decref(o);
	return *json_out ? SCOUT_OK
			 : scout__error(SCOUT_ENOMEM, "zarr_group_describe: out of memory");
}

int scout_zarr_consolidate(const char *path)
{
	if (!path || !*path)
		return scout__error(SCOUT_EINVAL, "zarr_consolidate: path is NULL or empty");
	scout_store *st;
	int rc = scout__store_open(&st, path, 0);
	if (rc < 0)
		return rc;
	rc = scout__zarr_group_consolidate(st, path);
	scout__store_free(st);
	return rc;
}

int scout_zarr_remove_temporaries(const char *path, size_t *removed_out)
{
	size_t removed = 0;
	if (removed_out)
		*removed_out = 0;
	if (!path || !*path)
		return scout__error(SCOUT_EINVAL, "zarr_remove_temporaries: path is NULL or empty");
	scout_store *st;
	int rc = scout__store_open(&st, path, 0);
	if (rc < 0)
		return rc;
	rc = scout__store_sweep(st, &removed);
	scout__store_free(st);
	if (removed_out)
		*removed_out = removed;
	return rc;
}
