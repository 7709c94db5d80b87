/*
 * Fuzz target "zarr_json": the input is the text of a Zarr v3 zarr.json.
 * As an array: scout__zarr_v3_parse(), a codec pipeline for its chain and
 * chunk shape (scout__pipeline_new), scout__zarr_v3_dump() and a parse of
 * that text. As a group: the text is written as the zarr.json of a scratch
 * directory, which scout__zarr_group_describe() reads (consolidated metadata
 * included); the group's attributes are written back with
 * scout__zarr_v3_group_text() and parsed again.
 * Properties: failures are SCOUT_EFORMAT/EUNSUPPORTED/EOVERFLOW/EINVAL and
 * name the file; a parsed array is within the documented limits (ndim
 * 1..SCOUT_MAX_NDIM, shape >= 0, chunks >= 1, key separator '.' or '/') and
 * survives dump + parse unchanged (every field, the codec chain and the
 * attributes as JSON); a group's attributes survive write + parse unchanged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codec/pipeline.h"
#include "format/zarr_hierarchy.h"
#include "format/zarr_v3.h"
#include "fuzz.h"

static void zarr_json_check_failure(int rc, const char *what)
{
	if (!(rc == SCOUT_EFORMAT || rc == SCOUT_EUNSUPPORTED || rc == SCOUT_EOVERFLOW ||
	      rc == SCOUT_EINVAL))
		fprintf(stderr, "rc %d: %s\n", rc, scout_last_error());
	SCOUT_FUZZ_ASSERT(rc == SCOUT_EFORMAT || rc == SCOUT_EUNSUPPORTED ||
			  rc == SCOUT_EOVERFLOW || rc == SCOUT_EINVAL);
	if (!strstr(scout_last_error(), what))
		fprintf(stderr, "message without the file: %s\n", scout_last_error());
	SCOUT_FUZZ_ASSERT(strstr(scout_last_error(), what) != NULL);
}

static int json_same(const json_t *a, const json_t *b)
{
	if (!a || !b)
		return a == b;
	return json_equal((json_t *)a, (json_t *)b);
}

static void fuzz_zarr_json_array(const char *text, size_t size)
{
	static const char what[] = "fuzz/zarr.json";
	scout_zarr_meta m;
	int rc = scout__zarr_v3_parse(&m, text, size, what);
	if (rc < 0) {
		zarr_json_check_failure(rc, what);
		scout__zarr_meta_clear(&m);
		return;
	}
	SCOUT_FUZZ_ASSERT(m.zarr_format == 3);
	SCOUT_FUZZ_ASSERT(m.ndim >= 1 && m.ndim <= SCOUT_MAX_NDIM);
	for (int i = 0; i < m.ndim; i++)
		SCOUT_FUZZ_ASSERT(m.shape[i] >= 0 && m.chunks[i] >= 1);
	SCOUT_FUZZ_ASSERT(m.key_encoding.separator == '.' || m.key_encoding.separator == '/');
	SCOUT_FUZZ_ASSERT(m.key_encoding.kind == SCOUT_KEY_V2 ||
			  m.key_encoding.kind == SCOUT_KEY_DEFAULT);
	size_t itemsize = scout_dtype_size(m.dtype);
	SCOUT_FUZZ_ASSERT(itemsize >= 1 && itemsize <= 16);
	SCOUT_FUZZ_ASSERT(json_is_array(m.codecs));

	scout_chunk_spec spec = {.dtype = m.dtype, .itemsize = itemsize, .ndim = m.ndim};
	memcpy(spec.shape, m.chunks, sizeof spec.shape);
	scout_pipeline *p;
	rc = scout__pipeline_new(&p, m.codecs, &spec, what);
	if (rc == 0)
		scout__pipeline_free(p);
	else
		zarr_json_check_failure(rc, what);

	char *dumped;
	SCOUT_FUZZ_ASSERT(scout__zarr_v3_dump(&dumped, &m) == 0);
	scout_zarr_meta back;
	rc = scout__zarr_v3_parse(&back, dumped, strlen(dumped), what);
	if (rc < 0)
		fprintf(stderr, "re-parse of\n%s\nfailed: %s\n", dumped, scout_last_error());
	SCOUT_FUZZ_ASSERT(rc == 0);
	SCOUT_FUZZ_ASSERT(back.zarr_format == 3 && back.ndim == m.ndim && back.dtype == m.dtype &&
			  back.big_endian == m.big_endian && back.fill_null == m.fill_null);
	SCOUT_FUZZ_ASSERT(back.key_encoding.kind == m.key_encoding.kind &&
			  back.key_encoding.separator == m.key_encoding.separator);
	SCOUT_FUZZ_ASSERT(memcmp(back.shape, m.shape, (size_t)m.ndim * sizeof *m.shape) == 0);
	SCOUT_FUZZ_ASSERT(memcmp(back.chunks, m.chunks, (size_t)m.ndim * sizeof *m.chunks) == 0);
	if (memcmp(back.fill, m.fill, itemsize) != 0)
		fprintf(stderr, "fill value changed through\n%s\n", dumped);
	SCOUT_FUZZ_ASSERT(memcmp(back.fill, m.fill, itemsize) == 0);
	SCOUT_FUZZ_ASSERT(json_same(back.codecs, m.codecs));
	SCOUT_FUZZ_ASSERT(json_same(back.dimension_names, m.dimension_names));
	if (!json_same(back.attributes, m.attributes)) {
		/* absent and {} are the same attributes */
		const json_t *a = back.attributes ? back.attributes : m.attributes;
		SCOUT_FUZZ_ASSERT(json_is_object(a) && json_object_size(a) == 0);
	}
	scout__zarr_meta_clear(&back);
	free(dumped);
	scout__zarr_meta_clear(&m);
}

/* A scratch directory of this process (created once, removed at exit). */
static char scratch_dir[256];

static void scratch_remove(void)
{
	char path[300];
	snprintf(path, sizeof path, "%s/zarr.json", scratch_dir);
	unlink(path);
	rmdir(scratch_dir);
}

static const char *scratch(void)
{
	if (!scratch_dir[0]) {
		const char *tmp = getenv("TMPDIR");
		snprintf(scratch_dir, sizeof scratch_dir, "%s/scout-fuzz-group-XXXXXX",
			 tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(scratch_dir)) {
			perror("mkdtemp");
			abort();
		}
		atexit(scratch_remove);
	}
	return scratch_dir;
}

static void fuzz_zarr_json_group(const char *text, size_t size)
{
	static const char what[] = "fuzz/group";
	json_t *root;
	if (scout__json_parse(&root, text, size, what) < 0)
		return;
	if (scout__zarr_v3_node_type(root, what) != 2) {
		json_decref(root);
		return;
	}
	/* the whole document, as a group's zarr.json on disk */
	const char *dir = scratch();
	char path[300];
	snprintf(path, sizeof path, "%s/zarr.json", dir);
	FILE *f = fopen(path, "wb");
	SCOUT_FUZZ_ASSERT(f != NULL);
	SCOUT_FUZZ_ASSERT(fwrite(text, 1, size, f) == size);
	SCOUT_FUZZ_ASSERT(fclose(f) == 0);
	scout_store *st;
	SCOUT_FUZZ_ASSERT(scout__store_open(&st, dir, 0) == 0);
	json_t *desc = NULL;
	int rc = scout__zarr_group_describe(&desc, st, what);
	if (rc < 0) {
		zarr_json_check_failure(rc, what);
	} else {
		SCOUT_FUZZ_ASSERT(json_is_object(desc));
		json_t *members = json_object_get(desc, "members");
		SCOUT_FUZZ_ASSERT(json_is_array(members));
		json_decref(desc);
	}
	scout__store_free(st);

	json_t *attrs = json_object_get(root, "attributes");
	if (json_is_object(attrs)) {
		char *t = scout__zarr_v3_group_text(attrs);
		SCOUT_FUZZ_ASSERT(t != NULL);
		json_t *back;
		SCOUT_FUZZ_ASSERT(scout__json_parse(&back, t, strlen(t), what) == 0);
		SCOUT_FUZZ_ASSERT(scout__zarr_v3_node_type(back, what) == 2);
		SCOUT_FUZZ_ASSERT(json_same(json_object_get(back, "attributes"), attrs));
		json_decref(back);
		free(t);
	}
	json_decref(root);
}

int scout_fuzz_zarr_json(const uint8_t *data, size_t size)
{
	fuzz_zarr_json_array((const char *)data, size);
	fuzz_zarr_json_group((const char *)data, size);
	return 0;
}
