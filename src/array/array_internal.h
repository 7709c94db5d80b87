/*
 * What the layers above the array layer (exec, ops) may ask of an array
 * beyond the public API, without seeing its inside (array_impl.h). Not
 * installed.
 */
#ifndef SCOUT_ARRAY_INTERNAL_H
#define SCOUT_ARRAY_INTERNAL_H

#include "scout/array.h"
#include "../core/internal.h"

/*
 * Prepare the array for use in a forked pmap worker process (drop caches the
 * parent may invalidate, reopen descriptors, reinitialise locks). A no-op for
 * backends that need nothing.
 */
SCOUT_HIDDEN void scout__array_after_fork(scout_array *arr);

#endif
