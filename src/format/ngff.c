/*
 * OME-NGFF multiscales metadata: check, write (0.4 .zattrs, 0.5 zarr.json
 * attributes.ome) and read (see scout/ngff.h).
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/internal.h"
#include "../store/store.h"
#include "scout/ngff.h"
#include "zarray.h"

static int axis_rank(const char *type)
{
	if (!strcmp(type, "time"))
		return 0;
	if (!strcmp(type, "space"))
		return 2;
	return 1; /* channel, custom or none */
}

int scout_ngff_check(const scout_ngff_multiscale *ms)
{
	if (!ms)
		return scout__error(SCOUT_EINVAL, "NGFF metadata: NULL");
	if (ms->version != SCOUT_NGFF_MULTISCALE_VERSION)
		return scout__error(SCOUT_EINVAL, "NGFF metadata: struct version %u, expected %d",
				    ms->version, SCOUT_NGFF_MULTISCALE_VERSION);
	if (strcmp(ms->ngff_version, "0.4") && strcmp(ms->ngff_version, "0.5"))
		return scout__error(SCOUT_EINVAL,
				    "NGFF metadata: version '%.8s' (scout writes 0.4 and 0.5)",
				    ms->ngff_version);
	if (ms->ndim < 2 || ms->ndim > 5)
		return scout__error(SCOUT_EINVAL, "NGFF metadata: axes: %d axes (must be 2 to 5)",
				    ms->ndim);
	int nspace = 0, ntime = 0, nother = 0, prev = -1;
	for (int i = 0; i < ms->ndim; i++) {
		const char *n = ms->axis_name[i];
		if (!n[0] || !memchr(n, 0, sizeof ms->axis_name[i]))
			return scout__error(SCOUT_EINVAL, "NGFF metadata: axes[%d]: no name", i);
		for (int j = 0; j < i; j++)
			if (!strcmp(n, ms->axis_name[j]))
				return scout__error(SCOUT_EINVAL,
						    "NGFF metadata: axes[%d]: name '%s' repeated",
						    i, n);
		int r = axis_rank(ms->axis_type[i]);
		if (r < prev)
			return scout__error(SCOUT_EINVAL,
					    "NGFF metadata: axes[%d]: type '%s' after a later type "
					    "(order: time, channel, space)",
					    i, ms->axis_type[i]);
		prev = r;
		nspace += r == 2;
		ntime += r == 0;
		nother += r == 1;
	}
	if (nspace < 2 || nspace > 3 || ntime > 1 || nother > 1)
		return scout__error(SCOUT_EINVAL,
				    "NGFF metadata: axes: %d space axes (must be 2 or 3), %d time, "
				    "%d channel/custom (at most 1 each)",
				    nspace, ntime, nother);
	if (ms->nlevels < 1 || ms->nlevels > SCOUT_NGFF_MAX_LEVELS)
		return scout__error(SCOUT_EINVAL, "NGFF metadata: datasets: %d levels",
				    ms->nlevels);
	for (int l = 0; l < ms->nlevels; l++) {
		if (!ms->path[l][0] || !memchr(ms->path[l], 0, sizeof ms->path[l]))
			return scout__error(SCOUT_EINVAL, "NGFF metadata: datasets[%d]: no path",
					    l);
		for (int k = 0; k < l; k++)
			if (!strcmp(ms->path[l], ms->path[k]))
				return scout__error(
				    SCOUT_EINVAL, "NGFF metadata: datasets[%d]: path '%s' repeated",
				    l, ms->path[l]);
		for (int i = 0; i < ms->ndim; i++) {
			if (!isfinite(ms->scale[l][i]) || ms->scale[l][i] <= 0)
				return scout__error(SCOUT_EINVAL,
						    "NGFF metadata: datasets[%d]: scale[%d] = %g "
						    "(must be positive)",
						    l, i, ms->scale[l][i]);
			if (ms->has_translation[l] && !isfinite(ms->translation[l][i]))
				return scout__error(
				    SCOUT_EINVAL,
				    "NGFF metadata: datasets[%d]: translation[%d] is "
				    "not finite",
				    l, i);
		}
	}
	return SCOUT_OK;
}

/* ---- writing ---- */

static json_t *numbers(const double *v, int n)
{
	json_t *a = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(a, json_real(v[i]));
	return a;
}

/* the multiscales list; with_version: 0.4 puts "version" in each entry */
static json_t *multiscales_json(const scout_ngff_multiscale *ms, int with_version)
{
	json_t *m = json_object();
	if (with_version)
		json_object_set_new(m, "version", json_string(ms->ngff_version));
	if (ms->name[0])
		json_object_set_new(m, "name", json_string(ms->name));
	if (ms->type[0])
		json_object_set_new(m, "type", json_string(ms->type));
	json_t *axes = json_array();
	for (int i = 0; i < ms->ndim; i++) {
		json_t *a = json_pack("{s:s}", "name", ms->axis_name[i]);
		if (ms->axis_type[i][0])
			json_object_set_new(a, "type", json_string(ms->axis_type[i]));
		if (ms->axis_unit[i][0])
			json_object_set_new(a, "unit", json_string(ms->axis_unit[i]));
		json_array_append_new(axes, a);
	}
	json_object_set_new(m, "axes", axes);
	json_t *ds = json_array();
	for (int l = 0; l < ms->nlevels; l++) {
		json_t *tr = json_array();
		json_array_append_new(tr, json_pack("{s:s,s:o}", "type", "scale", "scale",
						    numbers(ms->scale[l], ms->ndim)));
		if (ms->has_translation[l])
			json_array_append_new(tr, json_pack("{s:s,s:o}", "type", "translation",
							    "translation",
							    numbers(ms->translation[l], ms->ndim)));
		json_array_append_new(ds, json_pack("{s:s,s:o}", "path", ms->path[l],
						    "coordinateTransformations", tr));
	}
	json_object_set_new(m, "datasets", ds);
	json_object_set_new(m, "metadata",
			    json_pack("{s:s,s:s}", "method", "scout pyramid", "description",
				      !strcmp(ms->type, "mean")      ? "block mean, integers "
								       "rounded to nearest"
				      : !strcmp(ms->type, "nearest") ? "first voxel of each block"
				      : !strcmp(ms->type, "mode") ? "most frequent value of each "
								    "block, ties to the smallest"
				      : !strcmp(ms->type, "gaussian")
					  ? "gaussian (sigma 2f/6), then "
					    "first voxel of each block"
					  : ""));
	json_t *list = json_array();
	json_array_append_new(list, m);
	return list;
}

/* the fewest significant digits (15..17) that print every real under v exactly */
static int real_digits(const json_t *v, int digits)
{
	if (json_is_real(v)) {
		double x = json_real_value(v);
		char buf[40];
		for (; digits < 17; digits++) {
			snprintf(buf, sizeof buf, "%.*g", digits, x);
			if (strtod(buf, NULL) == x)
				break;
		}
	} else if (json_is_array(v)) {
		for (size_t i = 0; i < json_array_size(v); i++)
			digits = real_digits(json_array_get(v, i), digits);
	} else if (json_is_object(v)) {
		const char *k;
		json_t *e;
		json_object_foreach((json_t *)v, k, e) digits = real_digits(e, digits);
	}
	return digits;
}

static int write_json(const scout_store *st, const char *key, json_t *root, size_t indent)
{
	/* 15 digits as Python prints most voxel sizes ("0.65"), more when a value
	 * needs them to read back the same (0.9750000000000001) */
	char *text = json_dumps(root, JSON_INDENT(indent) | JSON_SORT_KEYS |
					  JSON_REAL_PRECISION(real_digits(root, 15)));
	if (!text)
		return scout__error(SCOUT_ENOMEM, "%s/%s: cannot format JSON",
				    scout__store_root(st), key);
	size_t n = strlen(text);
	int rc = scout__store_set(st, key, text, n, NULL);
	free(text);
	return rc;
}

/* existing JSON object at key, or a new empty one (NULL on a parse error) */
static int load_object(json_t **out, const scout_store *st, const char *key)
{
	void *data = NULL;
	size_t size = 0;
	*out = NULL;
	int rc = scout__store_get(&data, &size, NULL, st, key);
	if (rc == SCOUT_ENOTFOUND) {
		*out = json_object();
		return SCOUT_OK;
	}
	if (rc < 0)
		return rc;
	json_error_t err;
	json_t *j = json_loadb(data, size, 0, &err);
	free(data);
	if (!j || !json_is_object(j)) {
		json_decref(j);
		return scout__error(SCOUT_EFORMAT, "%s/%s: not a JSON object (%s)",
				    scout__store_root(st), key, j ? "" : err.text);
	}
	*out = j;
	return SCOUT_OK;
}

int scout_ngff_write(const char *group, const scout_ngff_multiscale *ms)
{
	if (!group)
		return scout__error(SCOUT_EINVAL, "scout_ngff_write: NULL group");
	int rc = scout_ngff_check(ms);
	if (rc < 0)
		return scout__error_prefix(rc, "%s: ", group);
	scout_store *st = NULL;
	if ((rc = scout__store_open(&st, group, 0)) < 0)
		return rc;
	json_t *root = NULL;
	if (!strcmp(ms->ngff_version, "0.4")) {
		const char *zg = scout__zgroup_text();
		if ((rc = scout__store_set(st, ".zgroup", zg, strlen(zg), NULL)) < 0)
			goto done;
		if ((rc = load_object(&root, st, ".zattrs")) < 0)
			goto done;
		json_object_set_new(root, "multiscales", multiscales_json(ms, 1));
		rc = write_json(st, ".zattrs", root, 4);
	} else {
		if ((rc = load_object(&root, st, "zarr.json")) < 0)
			goto done;
		json_object_set_new(root, "zarr_format", json_integer(3));
		json_object_set_new(root, "node_type", json_string("group"));
		json_t *attrs = json_object_get(root, "attributes");
		if (!json_is_object(attrs)) {
			attrs = json_object();
			json_object_set_new(root, "attributes", attrs);
		}
		json_t *ome = json_object();
		json_object_set_new(ome, "version", json_string("0.5"));
		json_object_set_new(ome, "multiscales", multiscales_json(ms, 0));
		json_object_set_new(attrs, "ome", ome);
		rc = write_json(st, "zarr.json", root, 2);
	}
done:
	json_decref(root);
	scout__store_free(st);
	return rc;
}

/* ---- reading ---- */

static int copy_str(char *dst, size_t cap, json_t *v, const char *file, const char *field)
{
	if (!json_is_string(v))
		return scout__error(SCOUT_EFORMAT, "%s: %s must be a string", file, field);
	const char *s = json_string_value(v);
	if (strlen(s) >= cap)
		return scout__error(SCOUT_EFORMAT, "%s: %s '%.40s...' is longer than %zu bytes",
				    file, field, s, cap - 1);
	strcpy(dst, s);
	return SCOUT_OK;
}

static int read_vector(double *dst, int n, json_t *v, const char *file, int l, const char *what)
{
	if (!json_is_array(v) || (int)json_array_size(v) != n)
		return scout__error(SCOUT_EFORMAT,
				    "%s: multiscales[0].datasets[%d]: %s must be a list of %d "
				    "numbers (one per axis)",
				    file, l, what, n);
	for (int i = 0; i < n; i++) {
		json_t *x = json_array_get(v, (size_t)i);
		if (!json_is_number(x))
			return scout__error(
			    SCOUT_EFORMAT,
			    "%s: multiscales[0].datasets[%d]: %s[%d] is not a number", file, l,
			    what, i);
		dst[i] = json_number_value(x);
	}
	return SCOUT_OK;
}

static int parse_multiscale(scout_ngff_multiscale *ms, json_t *list, const char *file)
{
	char field[96];
	if (!json_is_array(list) || json_array_size(list) < 1)
		return scout__error(SCOUT_EFORMAT, "%s: multiscales must be a non-empty list",
				    file);
	json_t *m = json_array_get(list, 0);
	if (!json_is_object(m))
		return scout__error(SCOUT_EFORMAT, "%s: multiscales[0] is not an object", file);
	int rc;
	json_t *v;
	if ((v = json_object_get(m, "name")) &&
	    (rc = copy_str(ms->name, sizeof ms->name, v, file, "multiscales[0].name")) < 0)
		return rc;
	if ((v = json_object_get(m, "type")) &&
	    (rc = copy_str(ms->type, sizeof ms->type, v, file, "multiscales[0].type")) < 0)
		return rc;
	json_t *axes = json_object_get(m, "axes");
	if (!json_is_array(axes) || json_array_size(axes) < 2 || json_array_size(axes) > 5)
		return scout__error(SCOUT_EFORMAT,
				    "%s: multiscales[0].axes must be a list of 2 to 5 axes", file);
	ms->ndim = (int)json_array_size(axes);
	for (int i = 0; i < ms->ndim; i++) {
		json_t *a = json_array_get(axes, (size_t)i);
		snprintf(field, sizeof field, "multiscales[0].axes[%d]", i);
		if (!json_is_object(a))
			return scout__error(SCOUT_EFORMAT, "%s: %s is not an object", file, field);
		snprintf(field, sizeof field, "multiscales[0].axes[%d].name", i);
		if ((rc = copy_str(ms->axis_name[i], sizeof ms->axis_name[i],
				   json_object_get(a, "name"), file, field)) < 0)
			return rc;
		snprintf(field, sizeof field, "multiscales[0].axes[%d].type", i);
		if ((v = json_object_get(a, "type")) && !json_is_null(v) &&
		    (rc = copy_str(ms->axis_type[i], sizeof ms->axis_type[i], v, file, field)) < 0)
			return rc;
		snprintf(field, sizeof field, "multiscales[0].axes[%d].unit", i);
		if ((v = json_object_get(a, "unit")) && !json_is_null(v) &&
		    (rc = copy_str(ms->axis_unit[i], sizeof ms->axis_unit[i], v, file, field)) < 0)
			return rc;
	}
	json_t *ds = json_object_get(m, "datasets");
	if (!json_is_array(ds) || json_array_size(ds) < 1 ||
	    json_array_size(ds) > SCOUT_NGFF_MAX_LEVELS)
		return scout__error(SCOUT_EFORMAT,
				    "%s: multiscales[0].datasets must be a list of 1 to %d levels",
				    file, SCOUT_NGFF_MAX_LEVELS);
	ms->nlevels = (int)json_array_size(ds);
	for (int l = 0; l < ms->nlevels; l++) {
		json_t *d = json_array_get(ds, (size_t)l);
		snprintf(field, sizeof field, "multiscales[0].datasets[%d].path", l);
		if (!json_is_object(d))
			return scout__error(SCOUT_EFORMAT,
					    "%s: multiscales[0].datasets[%d] is not "
					    "an object",
					    file, l);
		if ((rc = copy_str(ms->path[l], sizeof ms->path[l], json_object_get(d, "path"),
				   file, field)) < 0)
			return rc;
		json_t *tr = json_object_get(d, "coordinateTransformations");
		if (!json_is_array(tr) || json_array_size(tr) < 1 || json_array_size(tr) > 2)
			return scout__error(
			    SCOUT_EFORMAT,
			    "%s: multiscales[0].datasets[%d].coordinateTransformations "
			    "must hold one scale and at most one translation",
			    file, l);
		for (size_t k = 0; k < json_array_size(tr); k++) {
			json_t *t = json_array_get(tr, k);
			const char *type = json_string_value(json_object_get(t, "type"));
			if (k == 0 && (!type || strcmp(type, "scale")))
				return scout__error(SCOUT_EFORMAT,
						    "%s: multiscales[0].datasets[%d]: the first "
						    "coordinate transformation must be a scale",
						    file, l);
			if (k == 1 && (!type || strcmp(type, "translation")))
				return scout__error(
				    SCOUT_EFORMAT,
				    "%s: multiscales[0].datasets[%d]: the second "
				    "coordinate transformation must be a translation",
				    file, l);
			if (k == 0)
				rc = read_vector(ms->scale[l], ms->ndim,
						 json_object_get(t, "scale"), file, l, "scale");
			else {
				rc = read_vector(ms->translation[l], ms->ndim,
						 json_object_get(t, "translation"), file, l,
						 "translation");
				ms->has_translation[l] = 1;
			}
			if (rc < 0)
				return rc;
		}
	}
	if ((rc = scout_ngff_check(ms)) < 0) {
		char msg[512];
		snprintf(msg, sizeof msg, "%s", scout_last_error());
		return scout__error(SCOUT_EFORMAT, "%s: %s", file, msg);
	}
	return SCOUT_OK;
}

int scout_ngff_read(scout_ngff_multiscale *out, const char *group)
{
	if (!out || !group)
		return scout__error(SCOUT_EINVAL, "scout_ngff_read: NULL argument");
	memset(out, 0, sizeof *out);
	out->version = SCOUT_NGFF_MULTISCALE_VERSION;
	scout_store *st = NULL;
	int rc = scout__store_open(&st, group, 0);
	if (rc < 0)
		return rc;
	char file[4096];
	json_t *root = NULL, *list = NULL;
	const char *version = NULL;
	void *data = NULL;
	size_t size = 0;
	const char *key = "zarr.json";
	rc = scout__store_get(&data, &size, NULL, st, key);
	if (rc == SCOUT_ENOTFOUND) {
		key = ".zattrs";
		rc = scout__store_get(&data, &size, NULL, st, key);
	}
	snprintf(file, sizeof file, "%s/%s", group, key);
	if (rc == SCOUT_ENOTFOUND) {
		rc = scout__error(SCOUT_ENOTFOUND,
				  "%s: not an OME-Zarr group (no .zattrs or "
				  "zarr.json)",
				  group);
		goto done;
	}
	if (rc < 0)
		goto done;
	json_error_t err;
	root = json_loadb(data, size, 0, &err);
	if (!json_is_object(root)) {
		rc = scout__error(SCOUT_EFORMAT, "%s: not a JSON object%s%s", file,
				  root ? "" : ": ", root ? "" : err.text);
		goto done;
	}
	if (!strcmp(key, "zarr.json")) {
		json_t *ome = json_object_get(json_object_get(root, "attributes"), "ome");
		if (!json_is_object(ome)) {
			rc = scout__error(SCOUT_ENOTFOUND,
					  "%s: not an OME-Zarr image (no attributes.ome)", file);
			goto done;
		}
		version = json_string_value(json_object_get(ome, "version"));
		list = json_object_get(ome, "multiscales");
		if (!version) {
			rc = scout__error(SCOUT_EFORMAT, "%s: attributes.ome.version is missing",
					  file);
			goto done;
		}
	} else {
		list = json_object_get(root, "multiscales");
		if (!list) {
			rc = scout__error(SCOUT_ENOTFOUND,
					  "%s: not an OME-Zarr image (no multiscales)", file);
			goto done;
		}
		version = json_string_value(json_object_get(json_array_get(list, 0), "version"));
		if (!version)
			version = "0.4"; /* "SHOULD contain version": 0.4 readers assume it */
	}
	if (!list) {
		rc = scout__error(SCOUT_ENOTFOUND, "%s: no multiscales", file);
		goto done;
	}
	if (strcmp(version, "0.4") && strcmp(version, "0.5")) {
		rc = scout__error(SCOUT_EUNSUPPORTED,
				  "%s: NGFF version '%.20s' (scout reads 0.4 and 0.5)", file,
				  version);
		goto done;
	}
	if ((!strcmp(key, "zarr.json")) != (!strcmp(version, "0.5"))) {
		rc = scout__error(SCOUT_EFORMAT, "%s: NGFF %s metadata in a Zarr v%d group", file,
				  version, strcmp(key, "zarr.json") ? 2 : 3);
		goto done;
	}
	strcpy(out->ngff_version, version);
	rc = parse_multiscale(out, list, file);
done:
	free(data);
	json_decref(root);
	scout__store_free(st);
	return rc;
}
