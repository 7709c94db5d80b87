/* Library version and release of memory handed to callers. */
#include <stdlib.h>

#include "scout/common.h"

const char *scout_version(void)
{
	return SCOUT_VERSION;
}

void scout_free(void *p)
{
	free(p);
}
