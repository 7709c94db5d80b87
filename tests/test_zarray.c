/* .zarray parsing and writing: round trips, fill values, every validation error. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "format/zarray.h"

static const char *base =
    "{\n    \"chunks\": [\n        10,\n        20\n    ],\n    \"compressor\": {\n        "
    "\"blocksize\": 0,\n        \"clevel\": 5,\n        \"cname\": \"lz4\",\n        \"id\": "
    "\"blosc\",\n        \"shuffle\": 1\n    },\n    \"dtype\": \">u2\",\n    "
    "\"fill_value\": 7,\n    \"filters\": null,\n    \"order\": \"F\",\n    \"shape\": [\n    "
    "    100,\n        35\n    ],\n    \"zarr_format\": 2\n}";

/* parse `text` (must fail with code and a message containing needle) */
static int parse_fails(const char *text, int code, const char *needle)
{
	scout_zarray z;
	int rc = scout__zarray_parse(&z, text, strlen(text), "/x/.zarray");
	if (rc == SCOUT_OK)
		scout__zarray_clear(&z);
	int ok = rc == code && strstr(scout_last_error(), needle) &&
		 strstr(scout_last_error(), "/x/.zarray");
	if (!ok)
		fprintf(stderr, "  text %s\n  gave %d: %s\n", text, rc, scout_last_error());
	return ok;
}

/* a .zarray with one field replaced by `value` (JSON text) */
static char *with_field(const char *field, const char *value)
{
	json_t *o = json_loads(base, 0, NULL);
	if (value)
		json_object_set_new(o, field, json_loads(value, JSON_DECODE_ANY, NULL));
	else
		json_object_del(o, field);
	char *s = json_dumps(o, 0);
	json_decref(o);
	return s;
}

static int field_fails(const char *field, const char *value, int code, const char *needle)
{
	char *t = with_field(field, value);
	int ok = parse_fails(t, code, needle);
	free(t);
	return ok;
}

static int fill_bytes(unsigned char *out, int *is_null, const char *json, scout_dtype dt)
{
	json_t *v = json_loads(json, JSON_DECODE_ANY, NULL);
	int rc = scout__fill_value_parse(out, is_null, v, dt, "t");
	json_decref(v);
	return rc;
}

int main(void)
{
	scout_zarray z;
	CHECK_OK(scout__zarray_parse(&z, base, strlen(base), "t"));
	CHECK(z.ndim == 2 && z.shape[0] == 100 && z.shape[1] == 35);
	CHECK(z.chunks[0] == 10 && z.chunks[1] == 20);
	CHECK(z.dtype == SCOUT_UINT16 && z.big_endian == 1);
	CHECK(z.order == 'F' && z.separator == 0 && !z.fill_null);
	uint16_t f16;
	memcpy(&f16, z.fill, 2);
	CHECK(f16 == 7);
	CHECK(z.compressor &&
	      strcmp(json_string_value(json_object_get(z.compressor, "cname")), "lz4") == 0);
	/* writing gives the same text as zarr-python's json.dumps(indent=4, sort_keys=True) */
	char *text;
	CHECK_OK(scout__zarray_dump(&text, &z));
	CHECK(text && strcmp(text, base) == 0);
	if (text && strcmp(text, base) != 0)
		fprintf(stderr, "%s\n", text);
	free(text);
	scout__zarray_clear(&z);

	/* every dtype in both byte orders round-trips */
	for (int d = 0; d < SCOUT_DTYPE_COUNT; d++) {
		for (int be = 0; be < 2; be++) {
			char ts[8];
			CHECK_OK(scout_dtype_typestr(ts, (scout_dtype)d, be));
			char *t = with_field("dtype", NULL);
			json_t *o = json_loads(t, 0, NULL);
			free(t);
			json_object_set_new(o, "dtype", json_string(ts));
			json_object_set_new(o, "fill_value", json_null());
			json_object_set_new(o, "dimension_separator", json_string(be ? "/" : "."));
			t = json_dumps(o, 0);
			json_decref(o);
			scout_zarray a, b;
			CHECK_OK(scout__zarray_parse(&a, t, strlen(t), "t"));
			free(t);
			CHECK(a.dtype == (scout_dtype)d);
			CHECK(a.big_endian == (scout_dtype_size((scout_dtype)d) > 1 ? be : 0));
			CHECK(a.separator == (be ? '/' : '.') && a.fill_null);
			CHECK_OK(scout__zarray_dump(&t, &a));
			CHECK(strstr(t, ts) != NULL);
			CHECK_OK(scout__zarray_parse(&b, t, strlen(t), "t"));
			free(t);
			CHECK(b.dtype == a.dtype && b.big_endian == a.big_endian &&
			      b.separator == a.separator && b.order == a.order && b.fill_null);
			scout__zarray_clear(&a);
			scout__zarray_clear(&b);
		}
	}

	/* fill values */
	unsigned char fb[16];
	int isnull;
	CHECK_OK(fill_bytes(fb, &isnull, "null", SCOUT_FLOAT32));
	CHECK(isnull);
	float ff;
	double fd;
	CHECK_OK(fill_bytes(fb, &isnull, "\"NaN\"", SCOUT_FLOAT32));
	memcpy(&ff, fb, 4);
	CHECK(!isnull && isnan(ff));
	CHECK_OK(fill_bytes(fb, &isnull, "\"Infinity\"", SCOUT_FLOAT64));
	memcpy(&fd, fb, 8);
	CHECK(isinf(fd) && fd > 0);
	CHECK_OK(fill_bytes(fb, &isnull, "\"-Infinity\"", SCOUT_FLOAT64));
	memcpy(&fd, fb, 8);
	CHECK(isinf(fd) && fd < 0);
	CHECK_OK(fill_bytes(fb, &isnull, "-2.5", SCOUT_FLOAT64));
	memcpy(&fd, fb, 8);
	CHECK(fd == -2.5);
	CHECK_OK(fill_bytes(fb, &isnull, "0.1", SCOUT_FLOAT16));
	memcpy(&f16, fb, 2);
	CHECK(f16 == 0x2e66); /* 0.1 = 1.6 * 2^-4: exponent 11, mantissa round(0.6*1024)=614 */
	CHECK_OK(fill_bytes(fb, &isnull, "true", SCOUT_BOOL));
	CHECK(fb[0] == 1);
	CHECK_OK(fill_bytes(fb, &isnull, "-128", SCOUT_INT8));
	CHECK((int8_t)fb[0] == -128);
	CHECK_OK(fill_bytes(fb, &isnull, "4294967295", SCOUT_UINT32));
	uint32_t u32;
	memcpy(&u32, fb, 4);
	CHECK(u32 == 4294967295u);
	CHECK_OK(fill_bytes(fb, &isnull, "[1.5, \"NaN\"]", SCOUT_COMPLEX64));
	float cf[2];
	memcpy(cf, fb, 8);
	CHECK(cf[0] == 1.5f && isnan(cf[1]));
	CHECK_ERR(fill_bytes(fb, &isnull, "256", SCOUT_UINT8), SCOUT_EFORMAT, "out of range");
	CHECK_ERR(fill_bytes(fb, &isnull, "-1", SCOUT_UINT16), SCOUT_EFORMAT, "out of range");
	CHECK_ERR(fill_bytes(fb, &isnull, "1.5", SCOUT_INT32), SCOUT_EFORMAT, "integer");
	CHECK_ERR(fill_bytes(fb, &isnull, "\"nan\"", SCOUT_FLOAT32), SCOUT_EFORMAT, "nan");
	CHECK_ERR(fill_bytes(fb, &isnull, "3", SCOUT_BOOL), SCOUT_EFORMAT, "bool");
	/* a real scalar for a complex dtype: imaginary part 0, as zarr-python accepts */
	CHECK_OK(fill_bytes(fb, &isnull, "1.5", SCOUT_COMPLEX128));
	double cd[2];
	memcpy(cd, fb, 16);
	CHECK(cd[0] == 1.5 && cd[1] == 0.0);
	CHECK_OK(fill_bytes(fb, &isnull, "\"NaN\"", SCOUT_COMPLEX64));
	memcpy(cf, fb, 8);
	CHECK(isnan(cf[0]) && cf[1] == 0.0f);
	CHECK_ERR(fill_bytes(fb, &isnull, "[1.0]", SCOUT_COMPLEX128), SCOUT_EFORMAT,
		  "[real, imag]");
	CHECK_ERR(fill_bytes(fb, &isnull, "true", SCOUT_COMPLEX128), SCOUT_EFORMAT, "[real, imag]");
	/* encoding as zarr-python */
	json_t *j = scout__fill_value_json(fb, 1, SCOUT_INT8);
	CHECK(json_is_null(j));
	json_decref(j);
	float nanf = NAN;
	j = scout__fill_value_json((unsigned char *)&nanf, 0, SCOUT_FLOAT32);
	CHECK(json_is_string(j) && strcmp(json_string_value(j), "NaN") == 0);
	json_decref(j);
	int16_t m5 = -5;
	j = scout__fill_value_json((unsigned char *)&m5, 0, SCOUT_INT16);
	CHECK(json_is_integer(j) && json_integer_value(j) == -5);
	json_decref(j);

	/* half precision by hand */
	CHECK(scout__zarray_double_to_half(1.0) == 0x3c00);
	CHECK(scout__zarray_double_to_half(-2.0) == 0xc000);
	CHECK(scout__zarray_double_to_half(65504.0) == 0x7bff);
	CHECK(scout__zarray_double_to_half(65520.0) == 0x7c00);  /* rounds up to infinity */
	CHECK(scout__zarray_double_to_half(ldexp(1, -24)) == 1); /* smallest subnormal */
	CHECK(scout__zarray_double_to_half(ldexp(1, -25)) == 0); /* tie to even: 0 */
	CHECK(scout__zarray_double_to_half(ldexp(3, -26)) == 1); /* 0.75 ulp rounds up */
	CHECK(scout__zarray_double_to_half(1.0 + ldexp(1, -11)) == 0x3c00); /* tie to even */
	CHECK(scout__zarray_double_to_half(1.0 + ldexp(3, -11)) == 0x3c02); /* tie to even, up */
	CHECK(scout__zarray_half_to_double(0x3555) == 0x155 * ldexp(1, -12) + 0.25);
	CHECK(scout__zarray_half_to_double(0x0001) == ldexp(1, -24));
	CHECK(isnan(scout__zarray_half_to_double(0x7e00)));

	/* validation errors, each naming the file and the field */
	CHECK(parse_fails("{\"zarr_format\": 2,\n \"shape\": [1,\n 2", SCOUT_EFORMAT, "line 3"));
	CHECK(parse_fails("{\"zarr_format\": 2,\n \"shape\": [1,\n 2", SCOUT_EFORMAT, "column"));
	CHECK(parse_fails("[1, 2]", SCOUT_EFORMAT, "not a JSON object"));
	CHECK(field_fails("zarr_format", NULL, SCOUT_EFORMAT, "\"zarr_format\" is missing"));
	CHECK(field_fails("zarr_format", "3", SCOUT_EFORMAT, "\"zarr_format\" must be 2"));
	CHECK(field_fails("shape", NULL, SCOUT_EFORMAT, "\"shape\" is missing"));
	CHECK(field_fails("shape", "\"big\"", SCOUT_EFORMAT, "\"shape\" must be an array"));
	CHECK(field_fails("shape", "[1, \"x\"]", SCOUT_EFORMAT, "not an integer"));
	CHECK(field_fails("shape", "[-1, 4]", SCOUT_EFORMAT, "expected >= 0"));
	CHECK(field_fails("shape", "[]", SCOUT_EUNSUPPORTED, "0-d"));
	CHECK(field_fails("chunks", "[0, 4]", SCOUT_EFORMAT, "\"chunks\": element 0 is 0"));
	CHECK(field_fails("chunks", "[-3, 4]", SCOUT_EFORMAT, "expected >= 1"));
	CHECK(field_fails("chunks", "[4]", SCOUT_EFORMAT, "\"chunks\" has 1 dimensions"));
	CHECK(field_fails("shape", "[4611686018427387904, 4611686018427387904]", SCOUT_EOVERFLOW,
			  "\"shape\""));
	CHECK(field_fails("chunks", "[4611686018427387904, 2]", SCOUT_EOVERFLOW, "\"chunks\""));
	CHECK(field_fails("shape",
			  "[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]",
			  SCOUT_EFORMAT, "more than the 32"));
	CHECK(field_fails("dtype", NULL, SCOUT_EFORMAT, "\"dtype\" is missing"));
	CHECK(field_fails("dtype", "\"<U4\"", SCOUT_EFORMAT, "\"<U4\""));
	CHECK(field_fails("dtype", "\"uint16\"", SCOUT_EFORMAT, "unsupported dtype \"uint16\""));
	CHECK(field_fails("dtype", "\"<f16\"", SCOUT_EFORMAT, "\"<f16\""));
	CHECK(field_fails("dtype", "[[\"a\", \"<u2\"]]", SCOUT_EFORMAT, "structured"));
	CHECK(field_fails("compressor", "5", SCOUT_EFORMAT, "\"compressor\""));
	CHECK(field_fails("compressor", "{\"cname\": \"lz4\"}", SCOUT_EFORMAT, "\"id\""));
	CHECK(field_fails("order", "\"X\"", SCOUT_EFORMAT, "\"order\""));
	CHECK(field_fails("order", "1", SCOUT_EFORMAT, "\"order\""));
	/* filters parse into a list of numcodecs configs (their ids are checked in zarr_meta.c) */
	CHECK(field_fails("filters", "[{\"dtype\": \"<u2\"}]", SCOUT_EFORMAT, "string \"id\""));
	CHECK(field_fails("filters", "{}", SCOUT_EFORMAT, "\"filters\""));
	CHECK(
	    field_fails("dimension_separator", "\"-\"", SCOUT_EFORMAT, "\"dimension_separator\""));
	CHECK(field_fails("fill_value", "\"x\"", SCOUT_EFORMAT, "\"fill_value\""));
	CHECK(field_fails("fill_value", "70000", SCOUT_EFORMAT, "out of range"));
	/* accepted variants */
	char *t = with_field("filters", "[]");
	CHECK_OK(scout__zarray_parse(&z, t, strlen(t), "t"));
	scout__zarray_clear(&z);
	free(t);
	t = with_field("compressor", "null");
	CHECK_OK(scout__zarray_parse(&z, t, strlen(t), "t"));
	CHECK(z.compressor == NULL);
	scout__zarray_clear(&z);
	free(t);

	/* consolidated metadata */
	json_t *zm = json_loads("{\"metadata\": {\".zgroup\": {\"zarr_format\": 2}, \"a/.zarray\": "
				"{\"x\": 1}}, \"zarr_consolidated_format\": 1}",
				0, NULL);
	const json_t *found;
	CHECK_OK(scout__zmetadata_get(&found, zm, "a/.zarray", "g/.zmetadata"));
	CHECK(found && json_integer_value(json_object_get(found, "x")) == 1);
	CHECK(scout__zmetadata_get(&found, zm, "b/.zarray", "g/.zmetadata") == SCOUT_ENOTFOUND);
	json_decref(zm);
	zm = json_loads("{\"metadata\": {}}", 0, NULL);
	CHECK_ERR(scout__zmetadata_get(&found, zm, "a/.zarray", "g/.zmetadata"), SCOUT_EFORMAT,
		  "g/.zmetadata");
	json_decref(zm);
	CHECK(strcmp(scout__zgroup_text(), "{\n    \"zarr_format\": 2\n}") == 0);
	return check_summary();
}
