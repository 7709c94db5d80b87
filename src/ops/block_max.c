/* Block-max downsampling of 2-D pictures by an integer factor (partial edge blocks). */
#include <stdlib.h>
#include <string.h>

#include "ops_internal.h"
#include "scout/preview.h"

int64_t scout_downsample_factor(int64_t height, int64_t width, int64_t max_size)
{
	int64_t l = height > width ? height : width;
	if (max_size <= 0 || l <= 0)
		return 1;
	int64_t f = l / max_size + (l % max_size != 0);
	return f < 1 ? 1 : f;
}

int scout_block_max_2d(void *out, const void *in, scout_dtype dtype, int64_t height, int64_t width,
		       int64_t f)
{
	if (dtype == SCOUT_COMPLEX64 || dtype == SCOUT_COMPLEX128)
		return scout__error(SCOUT_EUNSUPPORTED,
				    "block max: complex dtype %s is not supported",
				    scout_dtype_name(dtype));
	if (!scout__max_dtype_ok(dtype))
		return scout__error(SCOUT_EINVAL, "block max: invalid dtype %d", (int)dtype);
	if (height < 0 || width < 0 || f < 1)
		return scout__error(SCOUT_EINVAL, "block max: bad size %lldx%lld or factor %lld",
				    (long long)height, (long long)width, (long long)f);
	size_t isz = scout_dtype_size(dtype), n;
	int64_t shape[2] = {height, width};
	int rc = scout__shape_size(&n, NULL, 2, shape, isz);
	if (rc < 0)
		return rc;
	if (n == 0)
		return SCOUT_OK;
	if (!out || !in)
		return scout__error(SCOUT_EINVAL, "block max: NULL buffer");
	int64_t oh = (height + f - 1) / f, ow = (width + f - 1) / f;
	const unsigned char *src = in;
	unsigned char *dst = out;
	size_t rowb = (size_t)width * isz;
	unsigned char *acc = malloc(rowb);
	if (!acc)
		return scout__error(SCOUT_ENOMEM, "block max: out of memory");
	for (int64_t i = 0; i < oh; i++) {
		int64_t r0 = i * f, r1 = r0 + f < height ? r0 + f : height;
		/* the block rows' element-wise max, then each column block's max */
		memcpy(acc, src + (size_t)r0 * rowb, rowb);
		for (int64_t r = r0 + 1; r < r1; r++)
			scout__max_into(acc, src + (size_t)r * rowb, dtype, (size_t)width);
		for (int64_t j = 0; j < ow; j++) {
			int64_t c0 = j * f, c1 = c0 + f < width ? c0 + f : width;
			scout__max_reduce(dst + ((size_t)i * (size_t)ow + (size_t)j) * isz,
					  acc + (size_t)c0 * isz, dtype, (size_t)(c1 - c0));
		}
	}
	free(acc);
	return SCOUT_OK;
}
