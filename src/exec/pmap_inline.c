/* The inline runner: every chunk in the calling thread, in chunk order (nb_workers == 1). */
#include <stdlib.h>

#include "pmap_impl.h"

int scout__pmap_run_inline(pmap_ctx *c)
{
	scout_result r = {0};
	int64_t start[SCOUT_MAX_NDIM] = {0};
	int rc = SCOUT_OK;
	for (size_t i = 0; i < c->grid.count; i++) {
		if (scout__pmap_cancelled(c)) {
			rc = scout__pmap_interrupted(c);
			break;
		}
		rc = scout__pmap_call(c, start, &r);
		if (rc < 0)
			break;
		size_t size;
		void *data = scout__pmap_take_result(c, &r, &size);
		scout__pmap_finish(c, i, data, size);
		scout__pmap_next(&c->grid, start);
	}
	free(r.data);
	return rc;
}
