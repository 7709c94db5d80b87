/*
 * A minimal test harness: CHECK(cond) records a failure with file and line
 * and goes on; CHECK_OK(call) expects SCOUT_OK and prints scout_last_error()
 * otherwise; a test's main() ends with `return check_summary();`.
 */
#ifndef SCOUT_CHECK_H
#define SCOUT_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "read_file.h"
#include "scout/scout.h"

static int check_failures;

/* 1 if needle is NULL or occurs in haystack */
static inline int check_contains_(const char *haystack, const char *needle)
{
	return !needle || strstr(haystack, needle) != NULL;
}
static int check_count;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		check_count++;                                                                     \
		if (!(cond)) {                                                                     \
			check_failures++;                                                          \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
		}                                                                                  \
	} while (0)

#define CHECK_OK(call)                                                                             \
	do {                                                                                       \
		check_count++;                                                                     \
		int check_rc_ = (call);                                                            \
		if (check_rc_ != SCOUT_OK) {                                                       \
			check_failures++;                                                          \
			fprintf(stderr, "%s:%d: %s returned %d: %s\n", __FILE__, __LINE__, #call,  \
				check_rc_, scout_last_error());                                    \
		}                                                                                  \
	} while (0)

/* expect a specific error code, and a message containing `needle` (or NULL) */
#define CHECK_ERR(call, code, needle)                                                              \
	do {                                                                                       \
		check_count++;                                                                     \
		int check_rc_ = (call);                                                            \
		const char *check_msg_ = scout_last_error();                                       \
		if (check_rc_ != (code) || !check_contains_(check_msg_, (needle))) {               \
			check_failures++;                                                          \
			fprintf(stderr, "%s:%d: %s returned %d (%s), expected %d with \"%s\"\n",   \
				__FILE__, __LINE__, #call, check_rc_, check_msg_, (int)(code),     \
				(needle) ? (const char *)(needle) : "");                           \
		}                                                                                  \
	} while (0)

static inline int check_summary(void)
{
	fprintf(stderr, "%d checks, %d failed\n", check_count, check_failures);
	return check_failures ? 1 : 0;
}

#endif
