/*
 * Temporary stand-ins until the Zarr and TIFF backends land; each backend's
 * file replaces its half (delete the matching functions here when it does).
 */
#include "tiff_array.h"
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

int scout__is_tiff_file(const char *path)
{
	(void)path;
	return 0;
}

int scout__tiff_open(scout_array **out, const char *path, int mode)
{
	(void)mode;
	*out = NULL;
	return scout__error(SCOUT_EUNSUPPORTED, "%s: TIFF support is not built yet", path);
}
