/* scout_array_open(): recognise what is at a path and open it with the right backend. */
#include "array_impl.h"

int scout_array_open(scout_array **out, const char *path, int mode)
{
	(void)mode;
	if (!out || !path)
		return scout__error(SCOUT_EINVAL, "array_open: NULL argument");
	*out = NULL;
	return scout__error(SCOUT_EUNSUPPORTED, "%s: no backend can open this path yet", path);
}
