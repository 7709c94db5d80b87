/*
 * The cast view: a read-only array over another one, with its elements cast
 * to another dtype. Not installed.
 */
#ifndef SCOUT_ARRAY_CAST_VIEW_H
#define SCOUT_ARRAY_CAST_VIEW_H

#include "scout/array.h"
#include "../core/internal.h"

/*
 * A read-only array whose elements are those of src cast to dtype (numpy's
 * astype, core/cast.c). Each read first calls poll (may be NULL) and stops
 * with its negative return. src must outlive the view.
 * Errors: SCOUT_EUNSUPPORTED (float16/complex to another type), SCOUT_ENOMEM.
 */
SCOUT_HIDDEN int scout__array_cast_view(scout_array **out, scout_array *src, scout_dtype dtype,
					int (*poll)(void));

#endif
