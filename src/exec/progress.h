/*
 * A tqdm-like progress bar on a stream (stderr):
 *
 *   desc:  42%|#########               | 420/1000 [00:03<00:04, 140.00it/s]
 *
 * Redrawn in place (carriage return) at most every 0.1 s; the final draw ends
 * the line. Internal API shared by pmap and the command-line tool.
 */
#ifndef SCOUT_EXEC_PROGRESS_H
#define SCOUT_EXEC_PROGRESS_H

#include <stddef.h>
#include <stdio.h>

#include "../core/internal.h"

typedef struct scout__progress {
	FILE *out;           /* NULL: disabled, every call is a no-op */
	char desc[64];       /* printed before the bar, "" for none */
	size_t total;        /* number of items (0 allowed) */
	size_t done;         /* items done so far */
	double t0;           /* start time (monotonic seconds) */
	double last_draw;    /* time of the last draw, < 0 before the first */
	double min_interval; /* seconds between redraws (0.1) */
	int width;           /* bar width in characters */
} scout__progress;

/* Monotonic clock in seconds. */
SCOUT_HIDDEN double scout__now(void);

/*
 * Start a bar of total items on out (NULL disables it); desc may be NULL.
 * Draws the 0% line at once.
 */
SCOUT_HIDDEN void scout__progress_init(scout__progress *p, FILE *out, const char *desc,
				       size_t total);

/* Set the number of items done; redraws when 0.1 s passed since the last draw. */
SCOUT_HIDDEN void scout__progress_update(scout__progress *p, size_t done);

/* Add n items done (see scout__progress_update). */
SCOUT_HIDDEN void scout__progress_add(scout__progress *p, size_t n);

/* Draw the final state and end the line (also after a failure). */
SCOUT_HIDDEN void scout__progress_finish(scout__progress *p);

/*
 * Format the bar line for the given state into buf (no "\r", no newline);
 * exposed for tests and for callers that print elsewhere.
 */
SCOUT_HIDDEN void scout__progress_format(char *buf, size_t bufsize, const char *desc, size_t done,
					 size_t total, double elapsed, int width);

#endif
