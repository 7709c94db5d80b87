/*
 * Fault injection into the filesystem store's system calls, for tests only
 * (see store_fault.h): the shared fault state, SCOUT_FAULT parsing.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "store_fault.h"

/* ---- fault injection (tests only; see store.h) ---- */

typedef struct {
	long nth; /* written last (release) when armed; 0: count only */
	int err;
	int flags;
	long seen; /* operations of the kind since set */
	long hits; /* faults injected since set */
} fault_slot;

typedef struct {
	fault_slot slot[SCOUT_STORE_FAULT_NOPS];
} fault_state;

int scout__store_fault_on;         /* the only thing production paths look at */
static fault_state *fault_state_p; /* shared anonymous mapping, made once */
static pthread_mutex_t fault_mu = PTHREAD_MUTEX_INITIALIZER;

static const char *const fault_names[SCOUT_STORE_FAULT_NOPS] = {
    "read", "write", "fsync", "rename", "mkdir", "open_tmp",
};

const char *scout__store_fault_op_name(scout_store_fault_op op)
{
	return (unsigned)op < SCOUT_STORE_FAULT_NOPS ? fault_names[op] : "?";
}

static fault_state *fault_state_get(void)
{
	fault_state *st = __atomic_load_n(&fault_state_p, __ATOMIC_ACQUIRE);
	if (st)
		return st;
	pthread_mutex_lock(&fault_mu);
	st = fault_state_p;
	if (!st) {
		void *m = mmap(NULL, sizeof *st, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			       -1, 0);
		if (m != MAP_FAILED) {
			st = m;
			memset(st, 0, sizeof *st);
			__atomic_store_n(&fault_state_p, st, __ATOMIC_RELEASE);
		}
	}
	pthread_mutex_unlock(&fault_mu);
	return st;
}

int scout__store_fault_set(scout_store_fault_op op, long nth, int err, int flags)
{
	if ((unsigned)op >= SCOUT_STORE_FAULT_NOPS || nth < 0 || (nth > 0 && err <= 0) ||
	    (flags & ~(SCOUT_STORE_FAULT_SHORT | SCOUT_STORE_FAULT_STICKY)))
		return scout__error(SCOUT_EINVAL,
				    "store fault: bad op %d, nth %ld, err %d or "
				    "flags %d",
				    (int)op, nth, err, flags);
	fault_state *st = fault_state_get();
	if (!st)
		return scout__error(SCOUT_ENOMEM, "store fault: cannot map the fault state: %s",
				    strerror(errno));
	fault_slot *s = &st->slot[op];
	__atomic_store_n(&s->nth, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&s->seen, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&s->hits, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&s->err, err, __ATOMIC_RELAXED);
	__atomic_store_n(&s->flags, flags, __ATOMIC_RELAXED);
	__atomic_store_n(&s->nth, nth, __ATOMIC_RELEASE);
	__atomic_store_n(&scout__store_fault_on, 1, __ATOMIC_RELEASE);
	return SCOUT_OK;
}

void scout__store_fault_clear(void)
{
	__atomic_store_n(&scout__store_fault_on, 0, __ATOMIC_RELEASE);
	fault_state *st = __atomic_load_n(&fault_state_p, __ATOMIC_ACQUIRE);
	if (!st)
		return;
	for (int i = 0; i < SCOUT_STORE_FAULT_NOPS; i++) {
		fault_slot *s = &st->slot[i];
		__atomic_store_n(&s->nth, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&s->seen, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&s->hits, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&s->err, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&s->flags, 0, __ATOMIC_RELAXED);
	}
}

long scout__store_fault_hits(scout_store_fault_op op)
{
	fault_state *st = __atomic_load_n(&fault_state_p, __ATOMIC_ACQUIRE);
	if (!st || (unsigned)op >= SCOUT_STORE_FAULT_NOPS)
		return 0;
	return __atomic_load_n(&st->slot[op].hits, __ATOMIC_RELAXED);
}

long scout__store_fault_seen(scout_store_fault_op op)
{
	fault_state *st = __atomic_load_n(&fault_state_p, __ATOMIC_ACQUIRE);
	if (!st || (unsigned)op >= SCOUT_STORE_FAULT_NOPS)
		return 0;
	return __atomic_load_n(&st->slot[op].seen, __ATOMIC_RELAXED);
}

int scout__store_fault_hit_slow(scout_store_fault_op op, int *flags_out)
{
	if (!__atomic_load_n(&scout__store_fault_on, __ATOMIC_ACQUIRE))
		return 0;
	fault_state *st = __atomic_load_n(&fault_state_p, __ATOMIC_ACQUIRE);
	if (!st)
		return 0;
	fault_slot *s = &st->slot[op];
	long k = __atomic_add_fetch(&s->seen, 1, __ATOMIC_RELAXED);
	long nth = __atomic_load_n(&s->nth, __ATOMIC_ACQUIRE);
	int flags = __atomic_load_n(&s->flags, __ATOMIC_RELAXED);
	if (nth <= 0 || k < nth || (k > nth && !(flags & SCOUT_STORE_FAULT_STICKY)))
		return 0;
	__atomic_add_fetch(&s->hits, 1, __ATOMIC_RELAXED);
	if (flags_out)
		*flags_out = flags;
	return __atomic_load_n(&s->err, __ATOMIC_RELAXED);
}

static const struct {
	const char *name;
	int err;
} errno_names[] = {
    {"EIO", EIO},       {"ENOSPC", ENOSPC}, {"EDQUOT", EDQUOT}, {"EACCES", EACCES},
    {"EPERM", EPERM},   {"EROFS", EROFS},   {"EINTR", EINTR},   {"EAGAIN", EAGAIN},
    {"EFBIG", EFBIG},   {"EMFILE", EMFILE}, {"ENFILE", ENFILE}, {"ENOMEM", ENOMEM},
    {"EEXIST", EEXIST}, {"ENOENT", ENOENT}, {"EXDEV", EXDEV},   {"ENOTDIR", ENOTDIR},
};

static int parse_one(const char *item, size_t len)
{
	char buf[128];
	if (len == 0 || len >= sizeof buf)
		return SCOUT_EINVAL;
	memcpy(buf, item, len);
	buf[len] = '\0';
	char *save = NULL, *f[6];
	int nf = 0;
	for (char *t = strtok_r(buf, ":", &save); t && nf < 6; t = strtok_r(NULL, ":", &save))
		f[nf++] = t;
	if (nf < 3 || nf > 5)
		return SCOUT_EINVAL;
	int op = -1;
	for (int i = 0; i < SCOUT_STORE_FAULT_NOPS; i++)
		if (strcmp(f[0], fault_names[i]) == 0)
			op = i;
	char *end;
	errno = 0;
	long nth = strtol(f[1], &end, 10);
	if (op < 0 || *end || errno || nth < 1)
		return SCOUT_EINVAL;
	int err = 0;
	for (size_t i = 0; i < sizeof errno_names / sizeof *errno_names; i++)
		if (strcmp(f[2], errno_names[i].name) == 0)
			err = errno_names[i].err;
	if (!err) {
		long v = strtol(f[2], &end, 10);
		if (*end || v <= 0 || v > 4095)
			return SCOUT_EINVAL;
		err = (int)v;
	}
	int flags = 0;
	for (int i = 3; i < nf; i++) {
		if (strcmp(f[i], "short") == 0)
			flags |= SCOUT_STORE_FAULT_SHORT;
		else if (strcmp(f[i], "sticky") == 0)
			flags |= SCOUT_STORE_FAULT_STICKY;
		else
			return SCOUT_EINVAL;
	}
	return scout__store_fault_set((scout_store_fault_op)op, nth, err, flags);
}

int scout__store_fault_parse(const char *spec)
{
	const char *p = spec;
	for (;;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		int rc = parse_one(p, len);
		if (rc < 0) {
			scout__store_fault_clear();
			return scout__error(SCOUT_EINVAL,
					    "SCOUT_FAULT: bad item \"%.*s\" (expected "
					    "op:nth:ERRNO[:short][:sticky], op one of read, write, "
					    "fsync, rename, mkdir, open_tmp)",
					    (int)(len < 200 ? len : 200), p);
		}
		if (!e)
			return SCOUT_OK;
		p = e + 1;
	}
}

static pthread_once_t fault_env_once = PTHREAD_ONCE_INIT;
static int fault_env_rc;
static char fault_env_msg[512];

static void fault_env_init(void)
{
	const char *spec = getenv("SCOUT_FAULT");
	if (!spec || !*spec)
		return;
	fault_env_rc = scout__store_fault_parse(spec);
	if (fault_env_rc < 0)
		snprintf(fault_env_msg, sizeof fault_env_msg, "%s", scout_last_error());
}

int scout__store_fault_env_check(void)
{
	pthread_once(&fault_env_once, fault_env_init);
	if (fault_env_rc < 0)
		return scout__error(fault_env_rc, "%s", fault_env_msg);
	return SCOUT_OK;
}
