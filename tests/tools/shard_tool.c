/*
 * shard_tool: drive the sharding_indexed codec from tests (tests/py/test_sharding.py).
 *
 *   shard_tool batch    one JSON case per stdin line, one JSON result per stdout line
 *
 * Case: {"op": ..., "codecs": [...], "dtype": "uint16", "shape": [shard shape],
 *        "fill": "hex of the fill value's native bytes" (or absent: zeros), ...}
 *   "decode": "in" shard bytes -> "out" the shard array (native order, C order)
 *   "encode": "in" the shard array -> "out" the shard bytes
 *   "read":   range reads of inner chunks "wanted" (C-order indices) of key "key"
 *             in the filesystem store "store" with gap "gap": "out" gets the
 *             decoded inner chunks one after another; the result also says
 *             "ranges" (the store reads made for the inner chunks) when known
 *   "json":   the normalised codec list ("json" in the result)
 * Result: {"ok": true, ...} or {"ok": false, "code": -5, "error": "message"}.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/pipeline.h"
#include "codec/sharding.h"
#include "store/store.h"

static int read_file(const char *path, void **data, size_t *size)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return scout__error(SCOUT_EIO, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *buf = malloc(n > 0 ? (size_t)n : 1);
	if (!buf || (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n)) {
		free(buf);
		fclose(f);
		return scout__error(SCOUT_EIO, "cannot read %s", path);
	}
	fclose(f);
	*data = buf;
	*size = (size_t)n;
	return SCOUT_OK;
}

static int write_file(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f || (n && fwrite(data, 1, n, f) != n)) {
		if (f)
			fclose(f);
		return scout__error(SCOUT_EIO, "cannot write %s", path);
	}
	fclose(f);
	return SCOUT_OK;
}

static int run(json_t *c, json_t *res)
{
	const char *op = json_string_value(json_object_get(c, "op"));
	scout_chunk_spec spec;
	memset(&spec, 0, sizeof spec);
	int rc =
	    scout_dtype_parse(&spec.dtype, NULL, json_string_value(json_object_get(c, "dtype")));
	if (rc < 0)
		return rc;
	spec.itemsize = scout_dtype_size(spec.dtype);
	json_t *shape = json_object_get(c, "shape");
	spec.ndim = (int)json_array_size(shape);
	for (int i = 0; i < spec.ndim; i++)
		spec.shape[i] = json_integer_value(json_array_get(shape, (size_t)i));
	unsigned char fill[32] = {0};
	const char *fh = json_string_value(json_object_get(c, "fill"));
	for (size_t i = 0; fh && fh[2 * i] && i < sizeof fill; i++) {
		unsigned v;
		sscanf(fh + 2 * i, "%2x", &v);
		fill[i] = (unsigned char)v;
	}
	spec.fill = fill;
	scout_pipeline *p = NULL;
	rc = scout__pipeline_new(&p, json_object_get(c, "codecs"), &spec, "case");
	if (rc < 0)
		return rc;
	const char *in = json_string_value(json_object_get(c, "in"));
	const char *out = json_string_value(json_object_get(c, "out"));
	void *data = NULL, *o = NULL;
	size_t n = 0, on = 0;
	if (strcmp(op, "json") == 0) {
		json_object_set_new(res, "json", scout__pipeline_json(p));
	} else if (strcmp(op, "decode") == 0) {
		rc = read_file(in, &data, &n);
		on = scout__pipeline_chunk_nbytes(p);
		o = malloc(on ? on : 1);
		scout_chunk_source src = {NULL, json_string_value(json_object_get(c, "key"))};
		if (rc == SCOUT_OK)
			rc = scout__pipeline_decode(p, data, n, o, &src);
		if (rc == SCOUT_OK)
			rc = write_file(out, o, on);
	} else if (strcmp(op, "encode") == 0) {
		rc = read_file(in, &data, &n);
		if (rc == SCOUT_OK && n != scout__pipeline_chunk_nbytes(p))
			rc = scout__error(SCOUT_EINVAL, "input of %zu bytes", n);
		if (rc == SCOUT_OK)
			rc = scout__pipeline_encode(p, data, &o, &on);
		if (rc == SCOUT_OK)
			rc = write_file(out, o, on);
	} else if (strcmp(op, "read") == 0) {
		const scout_shard_codec *sc = scout__pipeline_shard_codec(p);
		const char *key = json_string_value(json_object_get(c, "key"));
		scout_store *st = NULL;
		scout_shard_entry *e = NULL;
		scout_store_version ver;
		json_t *w = json_object_get(c, "wanted");
		size_t nw = json_array_size(w), inb = sc ? scout__shard_codec_inner_nbytes(sc) : 0;
		uint64_t *wanted = calloc(nw + 1, sizeof *wanted);
		void **dst = calloc(nw + 1, sizeof *dst);
		o = malloc(nw * inb + 1);
		for (size_t i = 0; i < nw; i++) {
			wanted[i] = (uint64_t)json_integer_value(json_array_get(w, i));
			dst[i] = (unsigned char *)o + i * inb;
		}
		if (!sc)
			rc = scout__error(SCOUT_EINVAL, "not a sharded pipeline");
		if (rc == SCOUT_OK)
			rc = scout__store_open(&st, json_string_value(json_object_get(c, "store")),
					       0);
		if (rc == SCOUT_OK)
			rc = scout__shard_load_index(&e, &ver, sc, st, key);
		if (rc == SCOUT_OK) {
			json_object_set_new(res, "strong", json_boolean(ver.strong));
			rc = scout__shard_read_inner(
			    sc, st, key, e, &ver, wanted, nw, dst,
			    (uint64_t)json_integer_value(json_object_get(c, "gap")));
		}
		if (rc == SCOUT_OK)
			rc = write_file(out, o, nw * inb);
		free(e);
		free(wanted);
		free(dst);
		scout__store_free(st);
	} else {
		rc = scout__error(SCOUT_EINVAL, "unknown op %s", op);
	}
	free(data);
	free(o);
	scout__pipeline_free(p);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc != 2 || strcmp(argv[1], "batch") != 0) {
		fprintf(stderr, "usage: shard_tool batch\n");
		return 2;
	}
	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, stdin) > 0) {
		json_error_t err;
		json_t *c = json_loads(line, 0, &err);
		json_t *res = json_object();
		if (!c) {
			json_object_set_new(res, "ok", json_false());
			json_object_set_new(res, "error", json_string(err.text));
		} else {
			int rc = run(c, res);
			json_object_set_new(res, "ok", json_boolean(rc == SCOUT_OK));
			if (rc != SCOUT_OK) {
				json_object_set_new(res, "code", json_integer(rc));
				json_object_set_new(res, "error", json_string(scout_last_error()));
			}
		}
		char *s = json_dumps(res, JSON_COMPACT);
		printf("%s\n", s);
		fflush(stdout);
		free(s);
		json_decref(res);
		json_decref(c);
	}
	free(line);
	return 0;
}
