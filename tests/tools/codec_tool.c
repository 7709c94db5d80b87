/*
 * codec_tool: drive the codec layer from tests (tests/py/test_codec_numcodecs.py).
 *
 *   codec_tool config CONFIG_JSON              print the normalised config
 *   codec_tool encode CONFIG_JSON TYPESIZE IN OUT
 *   codec_tool decode CONFIG_JSON TYPESIZE EXPECTED IN OUT
 *   codec_tool batch                           one JSON case per stdin line:
 *       {"op": "encode"|"decode"|"config", "config": {...}|null, "typesize": 4,
 *        "expected": 400, "in": "path", "out": "path"}
 *     and one JSON result per stdout line: {"ok": true[, "config": {...}]} or
 *     {"ok": false, "code": -6, "error": "message"}.
 *
 * Errors go to stderr (single mode, exit status 1) or into the result line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"

static int read_file(const char *path, void **data, size_t *size)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return scout__error(SCOUT_EIO, "cannot open %s", path);
	size_t cap = 1 << 16, n = 0;
	unsigned char *buf = malloc(cap);
	for (;;) {
		if (!buf) {
			fclose(f);
			return scout__error(SCOUT_ENOMEM, "out of memory reading %s", path);
		}
		n += fread(buf + n, 1, cap - n, f);
		if (n < cap)
			break;
		cap *= 2;
		unsigned char *grown = realloc(buf, cap);
		if (!grown)
			free(buf);
		buf = grown;
	}
	int err = ferror(f);
	fclose(f);
	if (err) {
		free(buf);
		return scout__error(SCOUT_EIO, "cannot read %s", path);
	}
	*data = buf;
	*size = n;
	return SCOUT_OK;
}

static int write_file(const char *path, const void *data, size_t size)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return scout__error(SCOUT_EIO, "cannot create %s", path);
	size_t w = size ? fwrite(data, 1, size, f) : 0;
	if (fclose(f) != 0 || w != size)
		return scout__error(SCOUT_EIO, "cannot write %s", path);
	return SCOUT_OK;
}

static int do_encode(const scout_codec *c, const char *in, const char *out)
{
	void *src = NULL, *dst = NULL;
	size_t n = 0, m = 0;
	int rc = read_file(in, &src, &n);
	if (!rc)
		rc = scout__codec_encode(c, src, n, &dst, &m);
	if (!rc)
		rc = write_file(out, dst, m);
	free(src);
	free(dst);
	return rc;
}

static int do_decode(const scout_codec *c, size_t expected, const char *in, const char *out)
{
	void *src = NULL;
	size_t n = 0;
	int rc = read_file(in, &src, &n);
	if (rc)
		return rc;
	void *dst = malloc(expected ? expected : 1);
	if (!dst)
		rc = scout__error(SCOUT_ENOMEM, "out of memory");
	if (!rc)
		rc = scout__codec_decode(c, src, n, dst, expected);
	if (!rc)
		rc = write_file(out, dst, expected);
	free(src);
	free(dst);
	return rc;
}

static char *config_text(const scout_codec *c)
{
	json_t *cfg = scout__codec_config(c);
	char *text = cfg ? json_dumps(cfg, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
	json_decref(cfg);
	return text;
}

static int batch(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int failures = 0;
	while ((len = getline(&line, &cap, stdin)) > 0) {
		json_error_t jerr;
		json_t *req = json_loads(line, 0, &jerr);
		json_t *res = json_object();
		scout_codec *c = NULL;
		int rc;
		if (!req) {
			rc = scout__error(SCOUT_EINVAL, "bad request line: %s", jerr.text);
		} else {
			const char *op = json_string_value(json_object_get(req, "op"));
			size_t typesize =
			    (size_t)json_integer_value(json_object_get(req, "typesize"));
			const char *in = json_string_value(json_object_get(req, "in"));
			const char *out = json_string_value(json_object_get(req, "out"));
			rc = scout__codec_new(&c, json_object_get(req, "config"), typesize);
			if (rc) {
			} else if (!op) {
				rc = scout__error(SCOUT_EINVAL, "request has no op");
			} else if (strcmp(op, "config") == 0) {
				json_object_set_new(res, "config", scout__codec_config(c));
				json_object_set_new(res, "id", json_string(scout__codec_id(c)));
			} else if (strcmp(op, "encode") == 0 && in && out) {
				rc = do_encode(c, in, out);
			} else if (strcmp(op, "decode") == 0 && in && out) {
				size_t expected =
				    (size_t)json_integer_value(json_object_get(req, "expected"));
				rc = do_decode(c, expected, in, out);
			} else {
				rc = scout__error(SCOUT_EINVAL, "bad request");
			}
		}
		json_object_set_new(res, "ok", json_boolean(rc == SCOUT_OK));
		if (rc) {
			failures++;
			json_object_set_new(res, "code", json_integer(rc));
			json_object_set_new(res, "error", json_string(scout_last_error()));
		}
		char *text = json_dumps(res, JSON_COMPACT | JSON_ENCODE_ANY);
		printf("%s\n", text ? text : "{\"ok\": false, \"error\": \"out of memory\"}");
		fflush(stdout);
		free(text);
		json_decref(res);
		json_decref(req);
		scout__codec_free(c);
	}
	free(line);
	(void)failures;
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: codec_tool config CONFIG_JSON\n"
			"       codec_tool encode CONFIG_JSON TYPESIZE IN OUT\n"
			"       codec_tool decode CONFIG_JSON TYPESIZE EXPECTED IN OUT\n"
			"       codec_tool batch < requests.jsonl\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	if (strcmp(argv[1], "batch") == 0)
		return batch();
	if (argc < 3)
		return usage();
	size_t typesize = argc > 3 ? strtoul(argv[3], NULL, 10) : 1;
	scout_codec *c = NULL;
	int rc = scout__codec_new_from_text(&c, argv[2], typesize);
	if (!rc && strcmp(argv[1], "config") == 0 && argc == 3) {
		char *text = config_text(c);
		printf("%s\n", text ? text : "");
		free(text);
	} else if (!rc && strcmp(argv[1], "encode") == 0 && argc == 6) {
		rc = do_encode(c, argv[4], argv[5]);
	} else if (!rc && strcmp(argv[1], "decode") == 0 && argc == 7) {
		rc = do_decode(c, strtoull(argv[4], NULL, 10), argv[5], argv[6]);
	} else if (!rc) {
		scout__codec_free(c);
		return usage();
	}
	scout__codec_free(c);
	if (rc) {
		fprintf(stderr, "codec_tool: %s (%s)\n", scout_last_error(), scout_strerror(rc));
		return 1;
	}
	return 0;
}
