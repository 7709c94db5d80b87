/* Open one level of an OME-Zarr multiscale group (see scout/ngff.h). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/internal.h"
#include "scout/ngff.h"
#include "scout/zarr.h"

/* NGFF 0.5: "dimension_names" of a level MUST match the names of the axes */
static int check_dimension_names(scout_array *arr, const scout_ngff_multiscale *ms,
				 const char *path)
{
	char *text = NULL;
	int rc = scout_zarr_metadata(&text, arr);
	if (rc < 0)
		return rc;
	json_t *meta = json_loads(text, 0, NULL);
	scout_free(text);
	json_t *names = json_object_get(meta, "dimension_names");
	int ok = json_is_array(names) && (int)json_array_size(names) == ms->ndim;
	for (int i = 0; ok && i < ms->ndim; i++) {
		const char *n = json_string_value(json_array_get(names, (size_t)i));
		ok = n && !strcmp(n, ms->axis_name[i]);
	}
	json_decref(meta);
	if (!ok)
		return scout__error(
		    SCOUT_EFORMAT,
		    "%s/zarr.json: dimension_names must be the names of the group's "
		    "axes (NGFF 0.5)",
		    path);
	return SCOUT_OK;
}

int scout_ngff_open_level(scout_array **out, scout_ngff_multiscale *ms_out, const char *group,
			  int level, int mode)
{
	if (!out || !group)
		return scout__error(SCOUT_EINVAL, "scout_ngff_open_level: NULL argument");
	*out = NULL;
	scout_ngff_multiscale ms;
	int rc = scout_ngff_read(&ms, group);
	if (rc < 0)
		return rc;
	if (level < 0 || level >= ms.nlevels)
		return scout__error(SCOUT_EINVAL, "%s: level %d does not exist (levels 0 to %d)",
				    group, level, ms.nlevels - 1);
	size_t n = strlen(group) + strlen(ms.path[level]) + 2;
	char *path = malloc(n);
	if (!path)
		return scout__error(SCOUT_ENOMEM, "scout_ngff_open_level: no memory");
	snprintf(path, n, "%s/%s", group, ms.path[level]);
	scout_array *arr = NULL;
	rc = scout_array_open(&arr, path, mode);
	if (rc == 0 && scout_array_ndim(arr) != ms.ndim) {
		rc = scout__error(SCOUT_EFORMAT, "%s: %d dimensions, but the group has %d axes",
				  path, scout_array_ndim(arr), ms.ndim);
		scout_array_free(arr);
		arr = NULL;
	}
	if (rc == 0 && !strcmp(ms.ngff_version, "0.5"))
		rc = check_dimension_names(arr, &ms, path);
	if (rc < 0) {
		scout_array_free(arr);
		arr = NULL;
	}
	free(path);
	if (rc < 0)
		return rc;
	*out = arr;
	if (ms_out)
		*ms_out = ms;
	return SCOUT_OK;
}
