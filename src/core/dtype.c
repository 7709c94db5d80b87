/* Element types and numpy type strings. */
#include <string.h>

#include "internal.h"

static const struct {
	const char *name;
	char kind; /* numpy kind letter */
	size_t size;
} dtypes[SCOUT_DTYPE_COUNT] = {
    [SCOUT_BOOL] = {"bool", 'b', 1},           [SCOUT_INT8] = {"int8", 'i', 1},
    [SCOUT_INT16] = {"int16", 'i', 2},         [SCOUT_INT32] = {"int32", 'i', 4},
    [SCOUT_INT64] = {"int64", 'i', 8},         [SCOUT_UINT8] = {"uint8", 'u', 1},
    [SCOUT_UINT16] = {"uint16", 'u', 2},       [SCOUT_UINT32] = {"uint32", 'u', 4},
    [SCOUT_UINT64] = {"uint64", 'u', 8},       [SCOUT_FLOAT16] = {"float16", 'f', 2},
    [SCOUT_FLOAT32] = {"float32", 'f', 4},     [SCOUT_FLOAT64] = {"float64", 'f', 8},
    [SCOUT_COMPLEX64] = {"complex64", 'c', 8}, [SCOUT_COMPLEX128] = {"complex128", 'c', 16},
};

static int valid(scout_dtype d)
{
	return (int)d >= 0 && d < SCOUT_DTYPE_COUNT;
}

size_t scout_dtype_size(scout_dtype dtype)
{
	return valid(dtype) ? dtypes[dtype].size : 0;
}

const char *scout_dtype_name(scout_dtype dtype)
{
	return valid(dtype) ? dtypes[dtype].name : NULL;
}

int scout_dtype_is_float(scout_dtype dtype)
{
	return valid(dtype) && (dtypes[dtype].kind == 'f' || dtypes[dtype].kind == 'c');
}

int scout_dtype_is_signed(scout_dtype dtype)
{
	return valid(dtype) && dtypes[dtype].kind == 'i';
}

int scout_dtype_parse(scout_dtype *out, int *big_endian_out, const char *s)
{
	if (!out || !s)
		return scout__error(SCOUT_EINVAL, "dtype: NULL argument");
	for (int d = 0; d < SCOUT_DTYPE_COUNT; d++) {
		if (strcmp(s, dtypes[d].name) == 0) {
			*out = (scout_dtype)d;
			if (big_endian_out)
				*big_endian_out = scout__host_big_endian();
			return SCOUT_OK;
		}
	}
	/* typestr: [<>|=] kind digits */
	char order = s[0];
	if (order == '<' || order == '>' || order == '|' || order == '=') {
		char kind = s[1];
		const char *num = s + 2;
		size_t size = 0;
		int digits = 0;
		while (*num >= '0' && *num <= '9' && digits < 3) {
			size = size * 10 + (size_t)(*num - '0');
			num++;
			digits++;
		}
		if (digits > 0 && *num == '\0') {
			for (int d = 0; d < SCOUT_DTYPE_COUNT; d++) {
				if (dtypes[d].kind != kind || dtypes[d].size != size)
					continue;
				/* '|' is only meaningful for one-byte types */
				if (order == '|' && size != 1)
					break;
				*out = (scout_dtype)d;
				if (big_endian_out)
					*big_endian_out =
					    order == '>' ||
					    (order == '=' && scout__host_big_endian());
				return SCOUT_OK;
			}
		}
	}
	return scout__error(
	    SCOUT_EFORMAT,
	    "dtype \"%s\" is not supported (expected a numpy typestr such as \"<u2\" "
	    "or a name such as \"uint16\")",
	    s);
}

int scout_dtype_typestr(char buf[8], scout_dtype dtype, int big_endian)
{
	if (!buf || !valid(dtype))
		return scout__error(SCOUT_EINVAL, "dtype: invalid dtype %d", (int)dtype);
	char order = dtypes[dtype].size == 1 ? '|' : (big_endian ? '>' : '<');
	/* sizes are at most 16 */
	size_t n = dtypes[dtype].size;
	buf[0] = order;
	buf[1] = dtypes[dtype].kind;
	if (n >= 10) {
		buf[2] = (char)('0' + n / 10);
		buf[3] = (char)('0' + n % 10);
		buf[4] = '\0';
	} else {
		buf[2] = (char)('0' + n);
		buf[3] = '\0';
	}
	return SCOUT_OK;
}

size_t scout__dtype_swap_unit(scout_dtype dtype)
{
	size_t n = scout_dtype_size(dtype);
	return dtypes[dtype].kind == 'c' ? n / 2 : n;
}
