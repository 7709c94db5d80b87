/* Temporary stand-in until the Zarr backend lands: that backend deletes this file. */
#include "zarr_array.h"

int scout__is_zarr_array(const char *path)
{
	(void)path;
	return 0;
}

int scout__zarr_open(scout_array **out, const char *path, int mode)
{
	(void)mode;
	*out = NULL;
	return scout__error(SCOUT_EUNSUPPORTED, "%s: Zarr support is not built yet", path);
}
