/* Zarr groups: members, description, consolidated metadata (see zarr_hierarchy.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/pipeline.h"
#include "zarr_hierarchy.h"
#include "zarr_meta.h"
#include "zarr_v3.h"

#define MAX_DEPTH 32

/* Read and parse a key; SCOUT_ENOTFOUND (silent) when absent. */
static int get_json(json_t **out, const scout_store *st, const char *key, const char *name)
{
	*out = NULL;
	void *text;
	size_t n;
	int rc = scout__store_get(&text, &n, NULL, st, key);
	if (rc < 0)
		return rc;
	char what[4096];
	snprintf(what, sizeof what, "%s/%s", name, key);
	rc = scout__json_parse(out, text, n, what);
	free(text);
	return rc;
}

static int join_key(char *buf, size_t size, const char *prefix, const char *name)
{
	int n =
	    *prefix ? snprintf(buf, size, "%s/%s", prefix, name) : snprintf(buf, size, "%s", name);
	if (n < 0 || (size_t)n >= size)
		return scout__error(SCOUT_EOVERFLOW, "key %s/%s is too long", prefix, name);
	return SCOUT_OK;
}

int scout__zarr_group_format(const scout_store *st, const char *name)
{
	json_t *doc;
	int rc = get_json(&doc, st, ".zgroup", name);
	if (rc == SCOUT_OK) {
		const json_t *f = json_is_object(doc) ? json_object_get(doc, "zarr_format") : NULL;
		int ok = json_is_integer(f) && json_integer_value(f) == 2;
		json_decref(doc);
		if (!ok)
			return scout__error(SCOUT_EFORMAT,
					    "%s/.zgroup: field \"zarr_format\" must be 2", name);
		return 2;
	}
	if (rc != SCOUT_ENOTFOUND)
		return rc;
	rc = get_json(&doc, st, "zarr.json", name);
	if (rc < 0)
		return rc;
	char what[4096];
	snprintf(what, sizeof what, "%s/zarr.json", name);
	rc = scout__zarr_v3_node_type(doc, what);
	json_decref(doc);
	if (rc < 0)
		return rc;
	return rc == 2 ? 3 : SCOUT_ENOTFOUND;
}

/* ---- members ---- */

/* entries: a JSON list of {"path", "format", "node_type", "doc"} */
static int add_entry(json_t *entries, const char *path, int fmt, const char *type, json_t *doc)
{
	json_t *e = json_object();
	json_object_set_new(e, "path", json_string(path));
	json_object_set_new(e, "format", json_integer(fmt));
	json_object_set_new(e, "node_type", json_string(type));
	json_object_set_new(e, "doc", doc ? doc : json_null());
	if (json_array_append_new(entries, e) != 0)
		return scout__error(SCOUT_ENOMEM, "out of memory");
	return SCOUT_OK;
}

/* A member whose metadata cannot be read: listed as an array with the current error. */
static int add_broken(json_t *entries, const char *path, int fmt)
{
	json_t *err = json_string(scout_last_error());
	int rc = add_entry(entries, path, fmt, "array", NULL);
	if (rc == SCOUT_OK)
		json_object_set_new(json_array_get(entries, json_array_size(entries) - 1), "error",
				    err);
	else
		json_decref(err);
	return rc;
}

/* Walk the store below prefix collecting member entries. */
static int walk(json_t *entries, const scout_store *st, const char *name, const char *prefix,
		int depth)
{
	if (depth > MAX_DEPTH)
		return SCOUT_OK;
	char **names;
	size_t n;
	int rc = scout__store_list_dir(&names, &n, st, prefix);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n && rc == SCOUT_OK; i++) {
		size_t len = strlen(names[i]);
		if (len < 2 || names[i][len - 1] != '/' || names[i][0] == '.')
			continue;
		names[i][len - 1] = '\0';
		char child[2048], key[2100];
		if ((rc = join_key(child, sizeof child, prefix, names[i])) < 0)
			break;
		json_t *doc;
		snprintf(key, sizeof key, "%s/.zarray", child);
		rc = get_json(&doc, st, key, name);
		if (rc == SCOUT_OK || rc == SCOUT_EFORMAT) {
			rc = rc == SCOUT_OK ? add_entry(entries, child, 2, "array", doc)
					    : add_broken(entries, child, 2);
			continue;
		}
		if (rc != SCOUT_ENOTFOUND)
			break;
		snprintf(key, sizeof key, "%s/.zgroup", child);
		rc = get_json(&doc, st, key, name);
		if (rc == SCOUT_OK) {
			json_decref(doc);
			doc = NULL;
			snprintf(key, sizeof key, "%s/.zattrs", child);
			if (get_json(&doc, st, key, name) < 0)
				doc = NULL;
			rc = add_entry(entries, child, 2, "group", doc);
			if (rc == SCOUT_OK)
				rc = walk(entries, st, name, child, depth + 1);
			continue;
		}
		if (rc != SCOUT_ENOTFOUND)
			break;
		snprintf(key, sizeof key, "%s/zarr.json", child);
		rc = get_json(&doc, st, key, name);
		if (rc == SCOUT_EFORMAT) {
			rc = add_broken(entries, child, 3);
			continue;
		}
		if (rc == SCOUT_OK) {
			char what[4200];
			snprintf(what, sizeof what, "%s/%s", name, key);
			int t = scout__zarr_v3_node_type(doc, what);
			if (t < 0) {
				json_decref(doc);
				rc = add_broken(entries, child, 3);
				continue;
			}
			rc = add_entry(entries, child, 3, t == 1 ? "array" : "group", doc);
			if (rc == SCOUT_OK && t == 2)
				rc = walk(entries, st, name, child, depth + 1);
			continue;
		}
		if (rc != SCOUT_ENOTFOUND)
			break;
		rc = walk(entries, st, name, child, depth + 1); /* a plain directory */
	}
	scout__store_list_free(names, n);
	return rc;
}

/* Entries from consolidated metadata; 0 when the group has none. */
static int from_consolidated(json_t *entries, const scout_store *st, const char *name, int fmt,
			     const json_t *root_doc)
{
	if (fmt == 3) {
		const json_t *cm = json_object_get(root_doc, "consolidated_metadata");
		const json_t *md = json_is_object(cm) ? json_object_get(cm, "metadata") : NULL;
		if (!json_is_object(md))
			return 0;
		const char *path;
		json_t *doc;
		json_object_foreach((json_t *)md, path, doc)
		{
			const json_t *t = json_object_get(doc, "node_type");
			const char *type = json_is_string(t) ? json_string_value(t) : "";
			if (strcmp(type, "array") && strcmp(type, "group"))
				return scout__error(SCOUT_EFORMAT,
						    "%s/zarr.json: consolidated_metadata: entry "
						    "\"%s\" has no valid \"node_type\"",
						    name, path);
			int rc = add_entry(entries, path, 3, type, json_deep_copy(doc));
			if (rc < 0)
				return rc;
		}
		return 1;
	}
	json_t *zm;
	int rc = get_json(&zm, st, ".zmetadata", name);
	if (rc == SCOUT_ENOTFOUND)
		return 0;
	if (rc < 0)
		return rc;
	const json_t *md = json_object_get(zm, "metadata");
	const json_t *f = json_object_get(zm, "zarr_consolidated_format");
	if (!json_is_object(md) || !json_is_integer(f) || json_integer_value(f) != 1) {
		json_decref(zm);
		return scout__error(SCOUT_EFORMAT,
				    "%s/.zmetadata: not consolidated metadata (expected "
				    "\"metadata\" and \"zarr_consolidated_format\": 1)",
				    name);
	}
	const char *key;
	json_t *doc;
	rc = 1;
	json_object_foreach((json_t *)md, key, doc)
	{
		size_t len = strlen(key);
		const char *type = NULL;
		size_t cut = 0;
		if (len > 8 && strcmp(key + len - 8, "/.zarray") == 0) {
			type = "array";
			cut = 8;
		} else if (len > 8 && strcmp(key + len - 8, "/.zgroup") == 0) {
			type = "group";
			cut = 8;
		}
		if (!type)
			continue;
		char path[2048];
		snprintf(path, sizeof path, "%.*s", (int)(len - cut), key);
		json_t *d = json_deep_copy(doc);
		if (!strcmp(type, "group")) {
			/* keep the group's attributes as its document */
			char ak[2100];
			snprintf(ak, sizeof ak, "%s/.zattrs", path);
			json_decref(d);
			const json_t *a = json_object_get(md, ak);
			d = a ? json_deep_copy(a) : NULL;
		}
		int r = add_entry(entries, path, 2, type, d);
		if (r < 0) {
			rc = r;
			break;
		}
	}
	json_decref(zm);
	return rc;
}

static int cmp_entry(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	return strcmp(json_string_value(json_object_get(x, "path")),
		      json_string_value(json_object_get(y, "path")));
}

/* The member description of an array entry. */
static int describe_array(json_t *member, const json_t *e, const char *name)
{
	const char *path = json_string_value(json_object_get(e, "path"));
	int fmt = (int)json_integer_value(json_object_get(e, "format"));
	const json_t *doc = json_object_get(e, "doc");
	char what[4200];
	snprintf(what, sizeof what, "%s/%s/%s", name, path, fmt == 2 ? ".zarray" : "zarr.json");
	scout_zarr_meta m;
	int rc;
	if (fmt == 2) {
		scout_zarray za;
		rc = scout__zarray_from_json(&za, doc, what);
		if (rc < 0)
			return rc;
		rc = scout__zarr_meta_from_zarray(&m, &za, NULL, what);
		scout__zarray_clear(&za);
	} else {
		rc = scout__zarr_v3_from_json(&m, doc, what);
	}
	if (rc < 0)
		return rc;
	scout_chunk_spec spec;
	memset(&spec, 0, sizeof spec);
	spec.dtype = m.dtype;
	spec.itemsize = scout_dtype_size(m.dtype);
	spec.ndim = m.ndim;
	memcpy(spec.shape, m.chunks, sizeof spec.shape);
	scout_pipeline *p;
	rc = scout__pipeline_new(&p, m.codecs, &spec, what);
	if (rc == SCOUT_OK) {
		json_t *shape = json_array(), *chunks = json_array();
		for (int i = 0; i < m.ndim; i++) {
			json_array_append_new(shape, json_integer((json_int_t)m.shape[i]));
			json_array_append_new(chunks, json_integer((json_int_t)m.chunks[i]));
		}
		json_object_set_new(member, "shape", shape);
		json_object_set_new(member, "chunks", chunks);
		json_object_set_new(member, "dtype_name", json_string(scout_dtype_name(m.dtype)));
		json_object_set_new(member, "codecs", scout__pipeline_json(p));
		scout__pipeline_free(p);
	}
	scout__zarr_meta_clear(&m);
	return rc;
}

/* The root document (v3 zarr.json) or NULL for v2, and the group's attributes. */
static int root_docs(json_t **root_doc, json_t **attrs, const scout_store *st, const char *name,
		     int fmt)
{
	*root_doc = NULL;
	*attrs = NULL;
	int rc;
	if (fmt == 3) {
		rc = get_json(root_doc, st, "zarr.json", name);
		if (rc < 0)
			return rc;
		const json_t *a = json_object_get(*root_doc, "attributes");
		*attrs = json_is_object(a) ? json_deep_copy(a) : json_object();
		return SCOUT_OK;
	}
	rc = get_json(attrs, st, ".zattrs", name);
	if (rc == SCOUT_ENOTFOUND) {
		*attrs = json_object();
		return SCOUT_OK;
	}
	if (rc == SCOUT_OK && !json_is_object(*attrs)) {
		json_decref(*attrs);
		*attrs = NULL;
		return scout__error(SCOUT_EFORMAT, "%s/.zattrs: not a JSON object", name);
	}
	return rc;
}

static int collect(json_t **entries_out, int *consolidated, const scout_store *st, const char *name,
		   int fmt, const json_t *root_doc, int use_consolidated)
{
	json_t *entries = json_array();
	*entries_out = NULL;
	int rc = use_consolidated ? from_consolidated(entries, st, name, fmt, root_doc) : 0;
	if (rc < 0) {
		json_decref(entries);
		return rc;
	}
	*consolidated = rc == 1;
	if (!*consolidated) {
		json_array_clear(entries);
		rc = walk(entries, st, name, "", 0);
		if (rc < 0) {
			json_decref(entries);
			return rc;
		}
	}
	*entries_out = entries;
	return SCOUT_OK;
}

int scout__zarr_group_describe(json_t **out, const scout_store *st, const char *name)
{
	*out = NULL;
	int fmt = scout__zarr_group_format(st, name);
	if (fmt < 0)
		return fmt;
	json_t *root_doc, *attrs, *entries = NULL;
	int consolidated = 0;
	int rc = root_docs(&root_doc, &attrs, st, name, fmt);
	if (rc == SCOUT_OK)
		rc = collect(&entries, &consolidated, st, name, fmt, root_doc, 1);
	json_t *o = NULL;
	if (rc == SCOUT_OK) {
		size_t n = json_array_size(entries);
		json_t **sorted = calloc(n ? n : 1, sizeof *sorted);
		for (size_t i = 0; sorted && i < n; i++)
			sorted[i] = json_array_get(entries, i);
		if (sorted && n)
			qsort(sorted, n, sizeof *sorted, cmp_entry);
		json_t *members = json_array();
		for (size_t i = 0; sorted && i < n && rc == SCOUT_OK; i++) {
			const json_t *e = sorted[i];
			json_t *m = json_object();
			json_object_set(m, "path", json_object_get(e, "path"));
			json_object_set(m, "node_type", json_object_get(e, "node_type"));
			if (!strcmp(json_string_value(json_object_get(e, "node_type")), "array")) {
				/*
				 * An array scout cannot read (a string dtype of a GDAL
				 * coordinate, a 0-d netCDF variable) is listed with the
				 * reason instead of failing the whole tree.
				 */
				const json_t *ee = json_object_get(e, "error");
				int arc =
				    ee ? scout__error(SCOUT_EFORMAT, "%s", json_string_value(ee))
				       : describe_array(m, e, name);
				if (arc == SCOUT_ENOMEM)
					rc = arc;
				else if (arc < 0)
					json_object_set_new(m, "error",
							    json_string(scout_last_error()));
			}
			json_array_append_new(members, m);
		}
		if (!sorted)
			rc = scout__error(SCOUT_ENOMEM, "out of memory");
		free(sorted);
		o = json_object();
		json_object_set_new(o, "kind", json_string("group"));
		json_object_set_new(o, "zarr_format", json_integer(fmt));
		json_object_set_new(o, "attributes", attrs);
		attrs = NULL;
		json_object_set_new(o, "consolidated", json_boolean(consolidated));
		json_object_set_new(o, "members", members);
	}
	json_decref(attrs);
	json_decref(root_doc);
	json_decref(entries);
	if (rc < 0) {
		json_decref(o);
		return rc;
	}
	*out = o;
	return SCOUT_OK;
}

/* ---- consolidation ---- */

char *scout__zarr_v3_group_text(const json_t *attributes)
{
	json_t *o = json_object();
	json_object_set_new(o, "attributes",
			    attributes ? json_deep_copy(attributes) : json_object());
	json_object_set_new(o, "zarr_format", json_integer(3));
	json_object_set_new(o, "consolidated_metadata", json_null());
	json_object_set_new(o, "node_type", json_string("group"));
	char *t = scout__json_dumps_v3(o);
	json_decref(o);
	return t;
}

static int put_key(json_t *md, const scout_store *st, const char *key, const char *name)
{
	json_t *doc;
	int rc = get_json(&doc, st, key, name);
	if (rc == SCOUT_ENOTFOUND)
		return SCOUT_OK;
	if (rc < 0)
		return rc;
	json_object_set_new(md, key, doc);
	return SCOUT_OK;
}

int scout__zarr_group_consolidate(const scout_store *st, const char *name)
{
	int fmt = scout__zarr_group_format(st, name);
	if (fmt == SCOUT_ENOTFOUND)
		return scout__error(SCOUT_ENOTFOUND, "%s: not a Zarr group", name);
	if (fmt < 0)
		return fmt;
	json_t *root_doc, *attrs, *entries = NULL;
	int consolidated = 0;
	int rc = root_docs(&root_doc, &attrs, st, name, fmt);
	json_decref(attrs);
	if (rc == SCOUT_OK)
		rc = collect(&entries, &consolidated, st, name, fmt, root_doc, 0);
	json_t *md = json_object();
	char *text = NULL;
	if (rc == SCOUT_OK && fmt == 2) {
		rc = put_key(md, st, ".zgroup", name);
		if (rc == SCOUT_OK)
			rc = put_key(md, st, ".zattrs", name);
		for (size_t i = 0; rc == SCOUT_OK && i < json_array_size(entries); i++) {
			const json_t *e = json_array_get(entries, i);
			const char *path = json_string_value(json_object_get(e, "path"));
			int efmt = (int)json_integer_value(json_object_get(e, "format"));
			if (efmt != 2)
				continue; /* a v3 node inside a v2 group: not consolidated */
			static const char *const files[] = {".zarray", ".zgroup", ".zattrs"};
			for (int k = 0; k < 3 && rc == SCOUT_OK; k++) {
				char key[2100];
				snprintf(key, sizeof key, "%s/%s", path, files[k]);
				rc = put_key(md, st, key, name);
			}
		}
		json_t *o = json_object();
		json_object_set_new(o, "metadata", md);
		md = NULL;
		json_object_set_new(o, "zarr_consolidated_format", json_integer(1));
		if (rc == SCOUT_OK)
			text = scout__json_dumps(o);
		json_decref(o);
		if (rc == SCOUT_OK && !text)
			rc = SCOUT_ENOMEM;
		if (rc == SCOUT_OK)
			rc = scout__store_set(st, ".zmetadata", text, strlen(text), NULL);
	} else if (rc == SCOUT_OK) {
		for (size_t i = 0; i < json_array_size(entries); i++) {
			const json_t *e = json_array_get(entries, i);
			if (json_integer_value(json_object_get(e, "format")) != 3 ||
			    !json_is_object(json_object_get(e, "doc")))
				continue; /* a v2 node inside a v3 group, or unreadable */
			json_t *doc = json_deep_copy(json_object_get(e, "doc"));
			if (json_object_get(doc, "consolidated_metadata"))
				json_object_set_new(doc, "consolidated_metadata", json_null());
			json_object_set_new(md, json_string_value(json_object_get(e, "path")), doc);
		}
		json_t *cm = json_object();
		json_object_set_new(cm, "kind", json_string("inline"));
		json_object_set_new(cm, "must_understand", json_false());
		json_object_set_new(cm, "metadata", md);
		md = NULL;
		json_object_set_new(root_doc, "consolidated_metadata", cm);
		text = scout__json_dumps_v3(root_doc);
		if (!text)
			rc = SCOUT_ENOMEM;
		else
			rc = scout__store_set(st, "zarr.json", text, strlen(text), NULL);
	}
	free(text);
	json_decref(md);
	json_decref(root_doc);
	json_decref(entries);
	return rc;
}
