/*
 * Zarr v3: zarr.json parse -> write -> parse for every core data type and
 * fill value form (numbers, NaN/Infinity, hex bit patterns, complex), both
 * chunk-key encodings, dimension names, attributes, must_understand; the text
 * written against a hand-written zarr.json (zarr-python 3's key order and
 * indent); arrays created and read back through scout_zarr_create with
 * several chains; a hand-built array (metadata from the spec, chunk bytes
 * and CRC-32C computed by hand / python3-crc32c) read; bad input errors
 * naming zarr.json and the field, codec or chunk key.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "format/zarr_v3.h"
#include "scout/zarr.h"
#include "store/store.h"

static char root[64];

static char *path_of(const char *name)
{
	static char buf[256];
	snprintf(buf, sizeof buf, "%s/%s", root, name);
	return buf;
}

static void write_file(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (f) {
		fwrite(data, 1, n, f);
		fclose(f);
	}
}

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = calloc(1, 1 << 16);
	size_t n = fread(buf, 1, (1 << 16) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static const char *array_json(const char *dtype, const char *fill, const char *extra)
{
	static char buf[2048];
	snprintf(buf, sizeof buf,
		 "{\"zarr_format\": 3, \"node_type\": \"array\", \"shape\": [5, 7],"
		 " \"data_type\": \"%s\", \"chunk_grid\": {\"name\": \"regular\","
		 " \"configuration\": {\"chunk_shape\": [2, 3]}}, \"chunk_key_encoding\":"
		 " {\"name\": \"default\", \"configuration\": {\"separator\": \"/\"}},"
		 " \"fill_value\": %s, \"codecs\": [{\"name\": \"bytes\", \"configuration\":"
		 " {\"endian\": \"little\"}}]%s}",
		 dtype, fill, extra);
	return buf;
}

static void test_parse_roundtrip(void)
{
	static const struct {
		const char *dtype, *fill;
		unsigned char bytes[16]; /* expected native (little-endian host) bytes */
		size_t n;
	} cases[] = {
	    {"bool", "true", {1}, 1},
	    {"int8", "-5", {0xfb}, 1},
	    {"int16", "-2", {0xfe, 0xff}, 2},
	    {"int32", "123456", {0x40, 0xe2, 0x01, 0x00}, 4},
	    {"int64", "-1", {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 8},
	    {"uint8", "255", {0xff}, 1},
	    {"uint16", "65535", {0xff, 0xff}, 2},
	    {"uint32", "7", {7, 0, 0, 0}, 4},
	    {"uint64", "9007199254740993", {1, 0, 0, 0, 0, 0, 0x20, 0}, 8},
	    {"float16", "1.5", {0x00, 0x3e}, 2},
	    {"float32", "\"NaN\"", {0x00, 0x00, 0xc0, 0x7f}, 4},
	    {"float32", "\"0x7fc00001\"", {0x01, 0x00, 0xc0, 0x7f}, 4},
	    {"float64", "\"-Infinity\"", {0, 0, 0, 0, 0, 0, 0xf0, 0xff}, 8},
	    {"float64", "0.5", {0, 0, 0, 0, 0, 0, 0xe0, 0x3f}, 8},
	    {"complex64", "[1.0, \"Infinity\"]", {0, 0, 0x80, 0x3f, 0, 0, 0x80, 0x7f}, 8},
	    {"complex128",
	     "[\"0x3ff0000000000000\", -2.0]",
	     {0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0xc0},
	     16},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		const char *t =
		    array_json(cases[i].dtype, cases[i].fill,
			       ", \"dimension_names\": [\"y\", null], \"attributes\":"
			       " {\"a\": [1, 2]}, \"ext\": {\"must_understand\": false}");
		scout_zarr_meta m, m2;
		CHECK_OK(scout__zarr_v3_parse(&m, t, strlen(t), "x/zarr.json"));
		CHECK(m.ndim == 2 && m.shape[1] == 7 && m.chunks[1] == 3);
		CHECK(strcmp(scout_dtype_name(m.dtype), cases[i].dtype) == 0);
		CHECK(memcmp(m.fill, cases[i].bytes, cases[i].n) == 0);
		CHECK(m.key_encoding.kind == SCOUT_KEY_DEFAULT && m.key_encoding.separator == '/');
		char *out = NULL;
		CHECK_OK(scout__zarr_v3_dump(&out, &m));
		if (!out)
			continue;
		CHECK_OK(scout__zarr_v3_parse(&m2, out, strlen(out), "y/zarr.json"));
		int same = m2.dtype == m.dtype && m2.ndim == m.ndim &&
			   memcmp(m2.fill, m.fill, 16) == 0 && json_equal(m2.codecs, m.codecs) &&
			   json_equal(m2.attributes, m.attributes) &&
			   json_equal(m2.dimension_names, m.dimension_names);
		if (strstr(cases[i].fill, "0x7fc00001"))
			same =
			    1; /* a NaN payload is written as "NaN" (as zarr-python): not exact */
		CHECK(same);
		if (!same)
			fprintf(stderr, "round trip of %s %s: %s\n", cases[i].dtype, cases[i].fill,
				out);
		/* the unknown optional field is dropped, dimension names kept */
		CHECK(!strstr(out, "\"ext\"") && strstr(out, "\"dimension_names\""));
		free(out);
		scout__zarr_meta_clear(&m);
		scout__zarr_meta_clear(&m2);
	}
	/* v2 encoding: separator defaults to "." */
	const char *t =
	    "{\"zarr_format\": 3, \"node_type\": \"array\", \"shape\": [4],"
	    " \"data_type\": \"uint8\", \"chunk_grid\": {\"name\": \"regular\","
	    " \"configuration\": {\"chunk_shape\": [2]}}, \"chunk_key_encoding\":"
	    " {\"name\": \"v2\"}, \"fill_value\": 0, \"codecs\": [{\"name\": \"bytes\"}]}";
	scout_zarr_meta m;
	CHECK_OK(scout__zarr_v3_parse(&m, t, strlen(t), "x/zarr.json"));
	CHECK(m.key_encoding.kind == SCOUT_KEY_V2 && m.key_encoding.separator == '.');
	scout__zarr_meta_clear(&m);
}

static void expect_parse_error(const char *text, const char *needle)
{
	scout_zarr_meta m;
	CHECK_ERR(scout__zarr_v3_parse(&m, text, strlen(text), "/d/a/zarr.json"), SCOUT_EFORMAT,
		  needle);
	if (!strstr(scout_last_error(), "/d/a/zarr.json"))
		CHECK(!"the message names the file");
}

static void test_parse_errors(void)
{
	expect_parse_error(array_json("uint7", "0", ""), "\"data_type\"");
	expect_parse_error(array_json("uint8", "\"zero\"", ""), "\"fill_value\"");
	expect_parse_error(array_json("uint8", "1.5", ""), "\"fill_value\"");
	expect_parse_error(array_json("float32", "[1, 2]", ""), "\"fill_value\"");
	expect_parse_error(array_json("bool", "1", ""), "\"fill_value\"");
	expect_parse_error(array_json("float32", "\"0x7fc000001\"", ""), "\"fill_value\"");
	expect_parse_error(array_json("uint8", "0", ", \"future\": {\"x\": 1}"), "\"future\"");
	expect_parse_error(array_json("uint8", "0", ", \"future\": {\"must_understand\": true}"),
			   "\"future\"");
	expect_parse_error(
	    array_json("uint8", "0", ", \"storage_transformers\": [{\"name\": \"t\"}]"),
	    "\"storage_transformers\"");
	expect_parse_error(array_json("uint8", "0", ", \"dimension_names\": [\"a\"]"),
			   "\"dimension_names\"");
	expect_parse_error("{\"zarr_format\": 2, \"node_type\": \"array\"}", "\"zarr_format\"");
	expect_parse_error("{\"zarr_format\": 3}", "\"node_type\"");
	expect_parse_error("[1]", "not a JSON object");
}

/* The text written for a known array, as zarr-python 3 writes it. */
static void test_written_text(void)
{
	scout_zarr_options o = SCOUT_ZARR_OPTIONS_INIT;
	o.zarr_format = 3;
	o.ndim = 2;
	o.shape[0] = 5;
	o.shape[1] = 7;
	o.chunks[0] = 2;
	o.chunks[1] = 3;
	o.dtype = "<u2";
	o.fill_value = "9";
	o.dimension_names = "[\"y\", \"x\"]";
	o.codecs = "[{\"name\": \"bytes\", \"configuration\": {\"endian\": \"big\"}},"
		   " {\"name\": \"zstd\", \"configuration\": {\"level\": 3, \"checksum\": false}}]";
	scout_array *a = NULL;
	CHECK_OK(scout_zarr_create(&a, path_of("text.zarr"), &o));
	scout_array_free(a);
	char *got = read_text(path_of("text.zarr/zarr.json"));
	const char *want = "{\n"
			   "  \"shape\": [\n    5,\n    7\n  ],\n"
			   "  \"data_type\": \"uint16\",\n"
			   "  \"chunk_grid\": {\n    \"name\": \"regular\",\n"
			   "    \"configuration\": {\n      \"chunk_shape\": [\n        2,\n"
			   "        3\n      ]\n    }\n  },\n"
			   "  \"chunk_key_encoding\": {\n    \"name\": \"default\",\n"
			   "    \"configuration\": {\n      \"separator\": \"/\"\n    }\n  },\n"
			   "  \"fill_value\": 9,\n"
			   "  \"codecs\": [\n    {\n      \"name\": \"bytes\",\n"
			   "      \"configuration\": {\n        \"endian\": \"big\"\n      }\n"
			   "    },\n    {\n      \"name\": \"zstd\",\n"
			   "      \"configuration\": {\n        \"level\": 3,\n"
			   "        \"checksum\": false\n      }\n    }\n  ],\n"
			   "  \"attributes\": {},\n"
			   "  \"dimension_names\": [\n    \"y\",\n    \"x\"\n  ],\n"
			   "  \"zarr_format\": 3,\n"
			   "  \"node_type\": \"array\",\n"
			   "  \"storage_transformers\": []\n"
			   "}";
	CHECK(got && strcmp(got, want) == 0);
	if (got && strcmp(got, want) != 0)
		fprintf(stderr, "zarr.json written:\n%s\n", got);
	free(got);
}

/* Create, write, read back with several chains; check keys and raw bytes. */
static void test_create_roundtrip(void)
{
	static const char *const chains[] = {
	    NULL, /* SCOUT's default: bytes + blosc zstd 1 bitshuffle */
	    "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"big\"}}]",
	    "[{\"name\":\"transpose\",\"configuration\":{\"order\":[1,2,0]}},"
	    "{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
	    "{\"name\":\"gzip\",\"configuration\":{\"level\":1}},{\"name\":\"crc32c\"}]",
	    "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"big\"}},"
	    "{\"name\":\"blosc\",\"configuration\":{\"cname\":\"lz4\",\"clevel\":5,"
	    "\"shuffle\":\"shuffle\",\"typesize\":4,\"blocksize\":0}}]",
	};
	static const char *const cke[] = {"default", "v2"};
	int64_t shape[3] = {5, 7, 4}, chunks[3] = {2, 3, 4};
	int32_t ref[140], got[140];
	for (int i = 0; i < 140; i++)
		ref[i] = i * 1000 - 7;
	for (size_t c = 0; c < sizeof chains / sizeof *chains; c++)
		for (int k = 0; k < 2; k++) {
			char name[32];
			snprintf(name, sizeof name, "rt%zu_%d.zarr", c, k);
			scout_zarr_options o = SCOUT_ZARR_OPTIONS_INIT;
			o.zarr_format = 3;
			o.ndim = 3;
			memcpy(o.shape, shape, sizeof shape);
			memcpy(o.chunks, chunks, sizeof chunks);
			o.dtype = "<i4";
			o.fill_value = "-1";
			o.codecs = chains[c];
			o.chunk_key_encoding = cke[k];
			o.dimension_separator = k ? '.' : '/';
			o.overwrite = 1;
			scout_array *a = NULL;
			CHECK_OK(scout_zarr_create(&a, path_of(name), &o));
			if (!a)
				continue;
			int64_t start[3] = {0, 0, 0};
			/* write all but the last row of chunks: those read as the fill value */
			int64_t stop[3] = {4, 7, 4};
			CHECK_OK(scout_insert_box(a, start, stop, ref));
			scout_array_free(a);
			CHECK_OK(scout_array_open(&a, path_of(name), SCOUT_MODE_READ));
			if (!a)
				continue;
			int64_t all[3] = {5, 7, 4};
			CHECK_OK(scout_extract_box(got, a, start, all));
			int ok = 1;
			for (int i = 0; i < 140; i++)
				ok &= got[i] == (i < 112 ? ref[i] : -1);
			CHECK(ok);
			char *meta = NULL;
			CHECK_OK(scout_zarr_metadata(&meta, a));
			CHECK(meta && strstr(meta, "\"zarr_format\": 3"));
			scout_free(meta);
			scout_array_free(a);
			/* chunk keys: c/1/2/0 or 1.2.0; chunk (2, *, *) absent */
			char key[96];
			struct stat sb;
			snprintf(key, sizeof key, "%s/%s", name, k ? "1.2.0" : "c/1/2/0");
			CHECK(stat(path_of(key), &sb) == 0);
			snprintf(key, sizeof key, "%s/%s", name, k ? "2.0.0" : "c/2/0/0");
			CHECK(stat(path_of(key), &sb) != 0);
			if (c == 1) {
				/* raw big-endian: chunk (0,0,0) holds ref[0..] rows, byte by byte
				 */
				snprintf(key, sizeof key, "%s/%s", name, k ? "0.0.0" : "c/0/0/0");
				FILE *f = fopen(path_of(key), "rb");
				unsigned char b[96];
				size_t n = f ? fread(b, 1, sizeof b, f) : 0;
				if (f)
					fclose(f);
				CHECK(n == 96);
				/* element (0,0,1) = ref[1] = 993 = 0x3e1, big-endian */
				CHECK(n == 96 && b[4] == 0 && b[5] == 0 && b[6] == 0x03 &&
				      b[7] == 0xe1);
			}
		}
}

/* A hand-built array: zarr.json from the spec's example form, chunks made here. */
static void test_hand_built(void)
{
	char dir[256];
	snprintf(dir, sizeof dir, "%s/hand.zarr", root);
	mkdir(dir, 0777);
	const char *meta =
	    "{\"zarr_format\": 3, \"node_type\": \"array\", \"shape\": [3, 2],"
	    " \"data_type\": \"uint16\", \"chunk_grid\": {\"name\": \"regular\","
	    " \"configuration\": {\"chunk_shape\": [2, 2]}}, \"chunk_key_encoding\":"
	    " {\"name\": \"default\", \"configuration\": {\"separator\": \".\"}},"
	    " \"fill_value\": 7, \"codecs\": [{\"name\": \"bytes\", \"configuration\":"
	    " {\"endian\": \"big\"}}, {\"name\": \"crc32c\"}], \"attributes\": {\"k\": 1}}";
	char p[320];
	snprintf(p, sizeof p, "%s/zarr.json", dir);
	write_file(p, meta, strlen(meta));
	/* chunk (0, 0): [[1, 2], [3, 4]] big-endian + crc32c (python3-crc32c: 0xb9bd1676) */
	const unsigned char c00[12] = {0, 1, 0, 2, 0, 3, 0, 4, 0x76, 0x16, 0xbd, 0xb9};
	snprintf(p, sizeof p, "%s/c.0.0", dir);
	write_file(p, c00, sizeof c00);
	scout_array *a = NULL;
	CHECK_OK(scout_array_open(&a, dir, SCOUT_MODE_READ));
	if (a) {
		uint16_t v[6];
		int64_t s[2] = {0, 0}, e[2] = {3, 2};
		CHECK_OK(scout_extract_box(v, a, s, e));
		CHECK(v[0] == 1 && v[1] == 2 && v[2] == 3 && v[3] == 4 && v[4] == 7 && v[5] == 7);
		char *at = NULL;
		CHECK_OK(scout_array_attrs_get(&at, a));
		CHECK(at && strcmp(at, "{\"k\":1}") == 0);
		scout_free(at);
		scout_array_free(a);
	}
	/* a flipped bit: the crc32c mismatch names the chunk key */
	unsigned char bad[12];
	memcpy(bad, c00, sizeof bad);
	bad[1] ^= 4;
	write_file(p, bad, sizeof bad);
	CHECK_OK(scout_array_open(&a, dir, SCOUT_MODE_READ));
	if (a) {
		uint16_t v[4];
		int64_t s[2] = {0, 0}, e[2] = {2, 2};
		CHECK_ERR(scout_extract_box(v, a, s, e), SCOUT_ECODEC, "c.0.0");
		CHECK(strstr(scout_last_error(), "crc32c") != NULL);
		scout_array_free(a);
	}
	/* truncated */
	write_file(p, c00, 7);
	CHECK_OK(scout_array_open(&a, dir, SCOUT_MODE_READ));
	if (a) {
		uint16_t v[4];
		int64_t s[2] = {0, 0}, e[2] = {2, 2};
		CHECK_ERR(scout_extract_box(v, a, s, e), SCOUT_ECODEC, "c.0.0");
		scout_array_free(a);
	}
	/* attributes can be replaced: zarr.json is rewritten, the rest kept */
	write_file(p, c00, sizeof c00);
	CHECK_OK(scout_array_open(&a, dir, SCOUT_MODE_READ | SCOUT_MODE_WRITE));
	if (a) {
		CHECK_OK(scout_array_attrs_set(a, "{\"b\": \"x\"}"));
		scout_array_free(a);
		CHECK_OK(scout_array_open(&a, dir, SCOUT_MODE_READ));
		char *at = NULL;
		if (a)
			CHECK_OK(scout_array_attrs_get(&at, a));
		CHECK(at && strcmp(at, "{\"b\":\"x\"}") == 0);
		scout_free(at);
		uint16_t v[2];
		int64_t s[2] = {0, 0}, e[2] = {1, 2};
		if (a)
			CHECK_OK(scout_extract_box(v, a, s, e));
		CHECK(v[0] == 1 && v[1] == 2);
		scout_array_free(a);
	}
}

static void expect_open_error(const char *name, const char *json, const char *needle)
{
	char dir[256], p[320];
	snprintf(dir, sizeof dir, "%s/%s", root, name);
	mkdir(dir, 0777);
	snprintf(p, sizeof p, "%s/zarr.json", dir);
	write_file(p, json, strlen(json));
	scout_array *a = NULL;
	CHECK_ERR(scout_array_open(&a, dir, SCOUT_MODE_READ), SCOUT_EFORMAT, needle);
	CHECK(strstr(scout_last_error(), p) != NULL);
	CHECK(a == NULL);
}

static void test_open_errors(void)
{
	char buf[2048];
	snprintf(buf, sizeof buf, "%s", array_json("uint8", "0", ""));
	char *c = strstr(buf, "\"codecs\"");
	snprintf(c, sizeof buf - (size_t)(c - buf),
		 "\"codecs\": [{\"name\": \"bytes\"}, {\"name\": \"frobnicate\"}]}");
	expect_open_error("e1", buf, "\"frobnicate\"");
	snprintf(
	    c, sizeof buf - (size_t)(c - buf),
	    "\"codecs\": [{\"name\": \"transpose\", \"configuration\": {\"order\": [1, 0]}}]}");
	expect_open_error("e2", buf, "no array->bytes codec");
	expect_open_error("e3", array_json("uint8", "0", ", \"x\": 1"), "\"x\"");
	expect_open_error("e4", array_json("text", "0", ""), "\"data_type\"");
	expect_open_error("e5", array_json("int16", "\"a\"", ""), "\"fill_value\"");
	expect_open_error("e6", "{\"zarr_format\": 3, \"node_type\": \"group\"}", "group");
	expect_open_error("e7", "{\"zarr_format\": 3,", "invalid JSON");
}

/* Version 1 options (without the v3 fields) create v2, whatever follows them. */
static void test_options_v1(void)
{
	scout_zarr_options o = SCOUT_ZARR_OPTIONS_INIT;
	o.version = 1;
	o.ndim = 1;
	o.shape[0] = 4;
	o.dtype = "<u2";
	o.zarr_format = 3; /* not part of a version 1 struct: ignored */
	o.codecs = "not JSON";
	scout_array *a = NULL;
	CHECK_OK(scout_zarr_create(&a, path_of("v1.zarr"), &o));
	scout_array_free(a);
	struct stat sb;
	CHECK(stat(path_of("v1.zarr/.zarray"), &sb) == 0);
	CHECK(stat(path_of("v1.zarr/zarr.json"), &sb) != 0);
	o.version = 7;
	CHECK_ERR(scout_zarr_create(&a, path_of("v7.zarr"), &o), SCOUT_EINVAL, "version");
	/* version 2 (without shards and filters): what follows is ignored, no filters written */
	scout_zarr_options o2 = SCOUT_ZARR_OPTIONS_INIT;
	o2.version = 2;
	o2.ndim = 1;
	o2.shape[0] = 4;
	o2.dtype = "<u2";
	o2.filters = "not JSON"; /* not part of a version 2 struct */
	CHECK_OK(scout_zarr_create(&a, path_of("v2opts.zarr"), &o2));
	scout_array_free(a);
	FILE *f = fopen(path_of("v2opts.zarr/.zarray"), "r");
	char text[2048] = {0};
	if (f) {
		CHECK(fread(text, 1, sizeof text - 1, f) > 0);
		fclose(f);
	}
	CHECK(strstr(text, "\"filters\": null") != NULL);
	/* the current version: the filters are parsed, and v3 refuses them (they go in codecs) */
	o2.version = SCOUT_ZARR_OPTIONS_VERSION;
	CHECK_ERR(scout_zarr_create(&a, path_of("v3opts.zarr"), &o2), SCOUT_EFORMAT, "filters");
	o2.filters = "[{\"id\": \"delta\", \"dtype\": \"<u2\"}]";
	o2.zarr_format = 3;
	CHECK_ERR(scout_zarr_create(&a, path_of("v3opts.zarr"), &o2), SCOUT_EINVAL, "codecs");
}

int main(void)
{
	snprintf(root, sizeof root, "/tmp/scout_v3_XXXXXX");
	if (!mkdtemp(root))
		return 1;
	test_parse_roundtrip();
	test_parse_errors();
	test_written_text();
	test_create_roundtrip();
	test_hand_built();
	test_open_errors();
	test_options_v1();
	scout__rmtree(root);
	return check_summary();
}
