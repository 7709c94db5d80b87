/* scout info of an OME-Zarr group: NGFF version, axes with units, and every level. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static json_t *ints_json(int n, const int64_t *v)
{
	json_t *a = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(a, json_integer((json_int_t)v[i]));
	return a;
}

static json_t *reals_json(int n, const double *v)
{
	json_t *a = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(a, json_real(v[i]));
	return a;
}

static void print_list(const char *sep, int n, const int64_t *iv, const double *dv)
{
	for (int i = 0; i < n; i++) {
		if (iv)
			printf("%s%lld", i ? sep : "", (long long)iv[i]);
		else
			printf("%s%g", i ? sep : "", dv[i]);
	}
}

int cli_info_ngff(const char *path, int as_json)
{
	char buf[4096];
	snprintf(buf, sizeof buf, "%s/.zgroup", path);
	int v2 = access(buf, F_OK) == 0;
	snprintf(buf, sizeof buf, "%s/zarr.json", path);
	if (!v2 && access(buf, F_OK) != 0)
		return 1;
	scout_ngff_multiscale ms;
	int rc = scout_ngff_read(&ms, path);
	if (rc == SCOUT_ENOTFOUND)
		return 1;
	if (rc < 0)
		return rc;
	json_t *out = json_object(), *axes = json_array(), *levels = json_array();
	json_object_set_new(out, "path", json_string(path));
	json_object_set_new(out, "kind", json_string("ome-zarr"));
	json_object_set_new(out, "ngff_version", json_string(ms.ngff_version));
	json_object_set_new(out, "zarr_format",
			    json_integer(strcmp(ms.ngff_version, "0.4") ? 3 : 2));
	json_object_set_new(out, "name", json_string(ms.name));
	json_object_set_new(out, "type", json_string(ms.type));
	for (int i = 0; i < ms.ndim; i++) {
		json_t *a =
		    json_pack("{s:s,s:s}", "name", ms.axis_name[i], "type", ms.axis_type[i]);
		json_object_set_new(
		    a, "unit", ms.axis_unit[i][0] ? json_string(ms.axis_unit[i]) : json_null());
		json_array_append_new(axes, a);
	}
	json_object_set_new(out, "axes", axes);
	const char *dtype = NULL;
	for (int l = 0; l < ms.nlevels && rc == 0; l++) {
		scout_array *arr = NULL;
		if ((rc = scout_ngff_open_level(&arr, NULL, path, l, SCOUT_MODE_READ)) < 0)
			break;
		json_t *lv = json_object();
		json_object_set_new(lv, "path", json_string(ms.path[l]));
		json_object_set_new(lv, "shape", ints_json(ms.ndim, scout_array_shape(arr)));
		json_object_set_new(lv, "chunks", ints_json(ms.ndim, scout_array_chunks(arr)));
		json_object_set_new(lv, "scale", reals_json(ms.ndim, ms.scale[l]));
		json_object_set_new(lv, "translation",
				    ms.has_translation[l] ? reals_json(ms.ndim, ms.translation[l])
							  : json_null());
		json_array_append_new(levels, lv);
		dtype = scout_dtype_name(scout_array_dtype(arr));
		scout_array_free(arr);
	}
	json_object_set_new(out, "dtype", dtype ? json_string(dtype) : json_null());
	json_object_set_new(out, "levels", levels);
	if (rc == 0 && as_json) {
		char *t = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		if (t)
			printf("%s\n", t);
		free(t);
	} else if (rc == 0) {
		printf("path:       %s\n", path);
		printf("kind:       ome-zarr (NGFF %s, Zarr v%d)\n", ms.ngff_version,
		       strcmp(ms.ngff_version, "0.4") ? 3 : 2);
		printf("name:       %s\n", ms.name);
		printf("method:     %s\n", ms.type[0] ? ms.type : "(not given)");
		printf("dtype:      %s\n", dtype ? dtype : "?");
		printf("axes:       ");
		for (int i = 0; i < ms.ndim; i++)
			printf("%s%s (%s%s%s)", i ? ", " : "", ms.axis_name[i],
			       ms.axis_type[i][0] ? ms.axis_type[i] : "no type",
			       ms.axis_unit[i][0] ? ", " : "", ms.axis_unit[i]);
		printf("\nlevels:     %d\n", ms.nlevels);
		for (size_t l = 0; l < json_array_size(levels); l++) {
			json_t *lv = json_array_get(levels, l);
			int64_t sh[SCOUT_MAX_NDIM], ch[SCOUT_MAX_NDIM];
			for (int i = 0; i < ms.ndim; i++) {
				sh[i] = json_integer_value(
				    json_array_get(json_object_get(lv, "shape"), (size_t)i));
				ch[i] = json_integer_value(
				    json_array_get(json_object_get(lv, "chunks"), (size_t)i));
			}
			printf("  %-3zu path %-4s shape ", l, ms.path[l]);
			print_list(" x ", ms.ndim, sh, NULL);
			printf("  scale ");
			print_list(" x ", ms.ndim, NULL, ms.scale[l]);
			if (ms.has_translation[l]) {
				printf("  translation ");
				print_list(", ", ms.ndim, NULL, ms.translation[l]);
			}
			printf("  chunks ");
			print_list(" x ", ms.ndim, ch, NULL);
			printf("\n");
		}
	}
	json_decref(out);
	return rc < 0 ? rc : 0;
}
