/*
 * The CLI's dtype conversion for --dtype: numpy's astype for the simple cases
 * (core/cast.c) and the cast view, whose reads poll the interrupt flag.
 */
#include "array/cast_view.h"
#include "cli.h"
#include "core/cast.h"

int cli_cast_supported(scout_dtype src, scout_dtype dst)
{
	return scout__cast_supported(src, dst);
}

void cli_cast_values(void *dst, scout_dtype dst_type, const void *src, scout_dtype src_type,
		     size_t n)
{
	scout__cast_values(dst, dst_type, src, src_type, n);
}

int cli_cast_view(scout_array **out, scout_array *src, scout_dtype dtype)
{
	return scout__array_cast_view(out, src, dtype, cli_check_interrupt);
}
