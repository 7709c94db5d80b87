/* Temporary stand-in until the TIFF backend lands: that backend deletes this file. */
#include "tiff_array.h"

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
