/*
 * Fault injection into the filesystem store (tests only). Not installed.
 * store.h includes this header; only store_fault.c and fs_store.c use the
 * hooks at its end.
 */
#ifndef SCOUT_STORE_FAULT_H
#define SCOUT_STORE_FAULT_H

#include <errno.h>
#include <unistd.h>

#include "core/internal.h"

/*
 * Fault injection, for tests only: make the store's system calls fail as a
 * failing disk would, to prove that every failure surfaces as an error, that
 * each key keeps its old value or gets its new one, and that no temporary file
 * is left behind.
 *
 * Each kind of operation (op) has its own counter. scout__store_fault_set(op,
 * nth, err, flags) makes the nth next operation of that kind (1 = the next
 * one) behave as if the system call had returned -1 with errno err; the code
 * after it is the production code path (an injected EINTR is retried, an
 * ENOSPC or EIO becomes SCOUT_EIO naming the file). Flags:
 * - SCOUT_STORE_FAULT_SHORT (READ, WRITE): the nth call transfers only half
 *   of the bytes asked for (it really writes or reads them), and the next
 *   call of the same loop fails with err; this is how a disk filling up looks.
 * - SCOUT_STORE_FAULT_STICKY: the nth and every later operation of the kind
 *   fail (a disk that stays full), until scout__store_fault_clear().
 * nth = 0 arms nothing but counts the operations of the kind (see
 * scout__store_fault_seen()), to size a test's range of nth.
 *
 * Operations:
 * - READ: one read(2) of a key's bytes in scout__store_read() (an empty key
 *   makes none).
 * - WRITE: one write(2) of a temporary file's bytes.
 * - FSYNC: fsync(2) of a temporary file, or of its directory after the
 *   rename (only when the store fsyncs: SCOUT_FSYNC=1 or SCOUT_STORE_FSYNC).
 * - RENAME: renaming a temporary file over its key.
 * - MKDIR: mkdir(2) of a missing parent directory of a key.
 * - OPEN_TMP: creating a temporary file.
 *
 * Cost when no fault was ever set: one relaxed atomic load per operation.
 * Once armed, the counters live in a shared anonymous mapping (MAP_SHARED),
 * so workers forked after scout__store_fault_set() (pmap process workers)
 * share them with the parent: "the nth write" counts the writes of all the
 * processes, and scout__store_fault_hits() in the parent sees faults injected
 * in the workers. Counters are atomic (threads). Arming while other threads
 * or workers run store operations is not supported: arm, run, clear.
 *
 * The environment variable SCOUT_FAULT arms faults too, when the first store
 * is opened in a process, so that tests of the scout command can use them:
 * a comma-separated list of op:nth:ERR[:short][:sticky], e.g.
 * SCOUT_FAULT=write:3:ENOSPC:short,rename:1:EIO (op in read, write, fsync,
 * rename, mkdir, open_tmp; ERR an errno name such as EIO, ENOSPC, EDQUOT,
 * EACCES, EROFS, EINTR, or a number). A malformed value makes every store
 * open fail with SCOUT_EINVAL, so a mistyped test cannot pass silently.
 * This is a test facility: production code never sets it.
 */
typedef enum {
	SCOUT_STORE_FAULT_READ = 0,
	SCOUT_STORE_FAULT_WRITE,
	SCOUT_STORE_FAULT_FSYNC,
	SCOUT_STORE_FAULT_RENAME,
	SCOUT_STORE_FAULT_MKDIR,
	SCOUT_STORE_FAULT_OPEN_TMP,
	SCOUT_STORE_FAULT_NOPS
} scout_store_fault_op;

#define SCOUT_STORE_FAULT_SHORT  1 /* transfer half, then the next call fails */
#define SCOUT_STORE_FAULT_STICKY 2 /* the nth and every later op of the kind fail */

/*
 * Arm op (see above) and reset its counters. nth >= 0; err > 0 when nth > 0.
 * Errors: SCOUT_EINVAL (bad op, nth, err or flags), SCOUT_ENOMEM (mapping).
 */
SCOUT_HIDDEN int scout__store_fault_set(scout_store_fault_op op, long nth, int err, int flags);

/* Disarm every op and zero the counters (operations are no longer counted). */
SCOUT_HIDDEN void scout__store_fault_clear(void);

/* Faults injected for op since it was set (all processes sharing the state). */
SCOUT_HIDDEN long scout__store_fault_hits(scout_store_fault_op op);

/* Operations of kind op seen since it was set (counted only while some op is armed). */
SCOUT_HIDDEN long scout__store_fault_seen(scout_store_fault_op op);

/* Name of an op ("read", "write", ...). */
SCOUT_HIDDEN const char *scout__store_fault_op_name(scout_store_fault_op op);

/*
 * Arm faults from a SCOUT_FAULT-style spec (see above); what the environment
 * variable does. Errors: SCOUT_EINVAL (malformed, with the offending item).
 */
SCOUT_HIDDEN int scout__store_fault_parse(const char *spec);

/* ---- hooks for the filesystem store (not for other layers) ---- */

/* Nonzero once a fault was armed (relaxed loads only). */
SCOUT_HIDDEN extern int scout__store_fault_on;

/* The slow path of scout__store_fault_hit(). */
SCOUT_HIDDEN int scout__store_fault_hit_slow(scout_store_fault_op op, int *flags_out);

/*
 * Arm faults from SCOUT_FAULT once per process; its parse error (SCOUT_EINVAL)
 * on every call when it is malformed, so every store open fails.
 */
SCOUT_HIDDEN int scout__store_fault_env_check(void);

/*
 * 0: run the real call; otherwise the errno to fail it with (*flags_out, when
 * not NULL, gets the slot's flags). One relaxed load when no fault is armed.
 */
static inline int scout__store_fault_hit(scout_store_fault_op op, int *flags_out)
{
	if (__builtin_expect(!__atomic_load_n(&scout__store_fault_on, __ATOMIC_RELAXED), 1))
		return 0;
	return scout__store_fault_hit_slow(op, flags_out);
}

/*
 * read(2) (wr 0) or write(2) (wr 1) through the fault hook. A short transfer
 * leaves its error in *pending for the next call of the same loop.
 */
static inline ssize_t scout__store_io_call(int wr, int fd, void *p, size_t n, int *pending)
{
	int err = *pending, flags = 0;
	*pending = 0;
	if (!err) {
		err = scout__store_fault_hit(wr ? SCOUT_STORE_FAULT_WRITE : SCOUT_STORE_FAULT_READ,
					     &flags);
		if (err && (flags & SCOUT_STORE_FAULT_SHORT) && n > 1) {
			*pending = err;
			n /= 2;
			err = 0;
		}
	}
	if (err) {
		errno = err;
		return -1;
	}
	return wr ? write(fd, p, n) : read(fd, p, n);
}

/* A system call returning int through the fault hook: nonzero result with errno. */
#define SCOUT_FAULTED_CALL(op, call)                                                               \
	({                                                                                         \
		int fault_err_ = scout__store_fault_hit((op), NULL);                               \
		int fault_r_;                                                                      \
		if (fault_err_) {                                                                  \
			errno = fault_err_;                                                        \
			fault_r_ = -1;                                                             \
		} else {                                                                           \
			fault_r_ = (call);                                                         \
		}                                                                                  \
		fault_r_;                                                                          \
	})

#endif
