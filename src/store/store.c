/* Filesystem key/value store with atomic writes (see store.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"

#define TMP_TAG ".scout-tmp-"

struct scout_store {
	char *root;
	int fsync;
};

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

static int fault_on;               /* the only thing production paths look at */
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
	__atomic_store_n(&fault_on, 1, __ATOMIC_RELEASE);
	return SCOUT_OK;
}

void scout__store_fault_clear(void)
{
	__atomic_store_n(&fault_on, 0, __ATOMIC_RELEASE);
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

static int fault_hit_slow(scout_store_fault_op op, int *flags_out)
{
	if (!__atomic_load_n(&fault_on, __ATOMIC_ACQUIRE))
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

/*
 * 0: run the real call; otherwise the errno to fail it with (*flags_out, when
 * not NULL, gets the slot's flags). One relaxed load when no fault is armed.
 */
static inline int fault_hit(scout_store_fault_op op, int *flags_out)
{
	if (__builtin_expect(!__atomic_load_n(&fault_on, __ATOMIC_RELAXED), 1))
		return 0;
	return fault_hit_slow(op, flags_out);
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

/*
 * read(2) (wr 0) or write(2) (wr 1) through the fault hook. A short transfer
 * leaves its error in *pending for the next call of the same loop.
 */
static ssize_t io_call(int wr, int fd, void *p, size_t n, int *pending)
{
	int err = *pending, flags = 0;
	*pending = 0;
	if (!err) {
		err = fault_hit(wr ? SCOUT_STORE_FAULT_WRITE : SCOUT_STORE_FAULT_READ, &flags);
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
#define FAULTED_CALL(op, call)                                                                     \
	({                                                                                         \
		int fault_err_ = fault_hit((op), NULL);                                            \
		int fault_r_;                                                                      \
		if (fault_err_) {                                                                  \
			errno = fault_err_;                                                        \
			fault_r_ = -1;                                                             \
		} else {                                                                           \
			fault_r_ = (call);                                                         \
		}                                                                                  \
		fault_r_;                                                                          \
	})

int scout__store_open(scout_store **out, const char *root, int flags)
{
	if (!out || !root || !*root)
		return scout__error(SCOUT_EINVAL, "store: root path is NULL or empty");
	*out = NULL;
	pthread_once(&fault_env_once, fault_env_init);
	if (fault_env_rc < 0)
		return scout__error(fault_env_rc, "%s", fault_env_msg);
	scout_store *s = calloc(1, sizeof *s);
	if (!s)
		return scout__error(SCOUT_ENOMEM, "store: out of memory");
	size_t n = strlen(root);
	while (n > 1 && root[n - 1] == '/')
		n--;
	s->root = malloc(n + 1);
	if (!s->root) {
		free(s);
		return scout__error(SCOUT_ENOMEM, "store: out of memory");
	}
	memcpy(s->root, root, n);
	s->root[n] = '\0';
	const char *env = getenv("SCOUT_FSYNC");
	s->fsync = (flags & SCOUT_STORE_FSYNC) || (env && strcmp(env, "1") == 0);
	*out = s;
	return SCOUT_OK;
}

void scout__store_free(scout_store *store)
{
	if (!store)
		return;
	free(store->root);
	free(store);
}

const char *scout__store_root(const scout_store *store)
{
	return store->root;
}

static int check_key(const char *key)
{
	if (!key || !*key || key[0] == '/' || key[strlen(key) - 1] == '/')
		return scout__error(SCOUT_EINVAL, "store: invalid key \"%s\"",
				    key ? key : "(null)");
	const char *p = key;
	while (*p) {
		const char *e = strchr(p, '/');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == 0 || (len == 1 && p[0] == '.') ||
		    (len == 2 && p[0] == '.' && p[1] == '.'))
			return scout__error(SCOUT_EINVAL, "store: invalid key \"%s\"", key);
		p += len;
		if (*p == '/')
			p++;
	}
	return SCOUT_OK;
}

int scout__store_path(char *buf, size_t bufsize, const scout_store *store, const char *key)
{
	int rc = check_key(key);
	if (rc < 0)
		return rc;
	int n = snprintf(buf, bufsize, "%s/%s", store->root, key);
	if (n < 0 || (size_t)n >= bufsize)
		return scout__error(SCOUT_EOVERFLOW,
				    "store: path of key \"%s\" under %s is too long", key,
				    store->root);
	return SCOUT_OK;
}

static void fill_stamp(scout_store_stamp *st, const struct stat *sb)
{
	st->ino = (uint64_t)sb->st_ino;
	st->dev = (uint64_t)sb->st_dev;
	st->size = (int64_t)sb->st_size;
	st->mtime_ns = (int64_t)sb->st_mtim.tv_sec * 1000000000 + sb->st_mtim.tv_nsec;
	st->ctime_ns = (int64_t)sb->st_ctim.tv_sec * 1000000000 + sb->st_ctim.tv_nsec;
}

int scout__stamp_equal(const scout_store_stamp *a, const scout_store_stamp *b)
{
	return a->ino == b->ino && a->dev == b->dev && a->size == b->size &&
	       a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns;
}

int scout__store_stat(scout_store_stamp *stamp_out, const scout_store *store, const char *key)
{
	char path[PATH_MAX];
	int rc = scout__store_path(path, sizeof path, store, key);
	if (rc < 0)
		return rc;
	struct stat sb;
	if (stat(path, &sb) != 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return SCOUT_ENOTFOUND;
		return scout__error(SCOUT_EIO, "%s: %s", path, strerror(errno));
	}
	if (!S_ISREG(sb.st_mode))
		return scout__error(SCOUT_EIO, "%s: not a regular file", path);
	if (stamp_out)
		fill_stamp(stamp_out, &sb);
	return SCOUT_OK;
}

int scout__store_read(void **data_out, size_t *size_out, scout_store_stamp *stamp_out,
		      const scout_store *store, const char *key)
{
	*data_out = NULL;
	*size_out = 0;
	char path[PATH_MAX];
	int rc = scout__store_path(path, sizeof path, store, key);
	if (rc < 0)
		return rc;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return SCOUT_ENOTFOUND;
		return scout__error(SCOUT_EIO, "%s: cannot open: %s", path, strerror(errno));
	}
	struct stat sb;
	if (fstat(fd, &sb) != 0) {
		rc = scout__error(SCOUT_EIO, "%s: %s", path, strerror(errno));
		close(fd);
		return rc;
	}
	if (!S_ISREG(sb.st_mode)) {
		close(fd);
		return scout__error(SCOUT_EIO, "%s: not a regular file", path);
	}
	if ((uint64_t)sb.st_size > (uint64_t)PTRDIFF_MAX - 1) {
		close(fd);
		return scout__error(SCOUT_EOVERFLOW, "%s: file of %lld bytes is too large", path,
				    (long long)sb.st_size);
	}
	size_t size = (size_t)sb.st_size;
	unsigned char *buf = malloc(size ? size : 1);
	if (!buf) {
		close(fd);
		return scout__error(SCOUT_ENOMEM, "%s: cannot allocate %zu bytes", path, size);
	}
	size_t got = 0;
	int pending = 0;
	while (got < size) {
		ssize_t r = io_call(0, fd, buf + got, size - got, &pending);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = scout__error(SCOUT_EIO, "%s: read failed: %s", path, strerror(errno));
			free(buf);
			close(fd);
			return rc;
		}
		if (r == 0)
			break; /* the file shrank: cannot happen with atomic writers; use what we
				  got */
		got += (size_t)r;
	}
	close(fd);
	if (got != size) {
		free(buf);
		return scout__error(SCOUT_EIO, "%s: file shrank from %zu to %zu bytes while read",
				    path, size, got);
	}
	if (stamp_out)
		fill_stamp(stamp_out, &sb);
	*data_out = buf;
	*size_out = size;
	return SCOUT_OK;
}

/* mkdir -p of the directory part of path (everything before the last '/'), below root. */
static int make_parents(const char *path, size_t root_len)
{
	char tmp[PATH_MAX];
	size_t n = strlen(path);
	if (n >= sizeof tmp)
		return scout__error(SCOUT_EOVERFLOW, "%s: path too long", path);
	memcpy(tmp, path, n + 1);
	char *last = strrchr(tmp, '/');
	if (!last)
		return SCOUT_OK;
	*last = '\0';
	/* fast path: the directory exists */
	struct stat sb;
	if (stat(tmp, &sb) == 0 && S_ISDIR(sb.st_mode))
		return SCOUT_OK;
	for (char *p = tmp + (root_len ? 1 : 0); *p; p++) {
		if (*p != '/' || (size_t)(p - tmp) < root_len)
			continue;
		*p = '\0';
		if (tmp[0] && FAULTED_CALL(SCOUT_STORE_FAULT_MKDIR, mkdir(tmp, 0777)) != 0 &&
		    errno != EEXIST)
			return scout__error(SCOUT_EIO, "%s: cannot create directory: %s", tmp,
					    strerror(errno));
		*p = '/';
	}
	if (FAULTED_CALL(SCOUT_STORE_FAULT_MKDIR, mkdir(tmp, 0777)) != 0 && errno != EEXIST)
		return scout__error(SCOUT_EIO, "%s: cannot create directory: %s", tmp,
				    strerror(errno));
	if (stat(tmp, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return scout__error(SCOUT_EIO, "%s: not a directory", tmp);
	return SCOUT_OK;
}

static int write_all(int fd, const void *data, size_t size)
{
	const unsigned char *p = data;
	int pending = 0;
	while (size > 0) {
		ssize_t w = io_call(1, fd, (void *)p, size, &pending);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		size -= (size_t)w;
	}
	return 0;
}

/*
 * fsync the directory holding path, so that a rename into it is durable. A
 * file system that cannot fsync directories (EINVAL) is not an error; any
 * other failure is: the new value is in place but may not survive a crash.
 */
static int fsync_dir(const char *path)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash)
		return SCOUT_OK;
	*slash = '\0';
	const char *d = dir[0] ? dir : "/";
	int fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return scout__error(SCOUT_EIO,
				    "%s: written, but its directory %s cannot be opened "
				    "to fsync it: %s",
				    path, d, strerror(errno));
	int rc = SCOUT_OK;
	if (FAULTED_CALL(SCOUT_STORE_FAULT_FSYNC, fsync(fd)) != 0 && errno != EINVAL)
		rc =
		    scout__error(SCOUT_EIO, "%s: written, but fsync of its directory %s failed: %s",
				 path, d, strerror(errno));
	close(fd);
	return rc;
}

int scout__store_write(const scout_store *store, const char *key, const void *data, size_t size,
		       scout_store_stamp *stamp_out)
{
	static unsigned long counter;
	char path[PATH_MAX], tmp[PATH_MAX];
	int rc = scout__store_path(path, sizeof path, store, key);
	if (rc < 0)
		return rc;
	rc = make_parents(path, strlen(store->root));
	if (rc < 0)
		return rc;
	const char *slash = strrchr(path, '/');
	size_t dirlen = (size_t)(slash - path);
	unsigned long n = __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);
	int len = snprintf(tmp, sizeof tmp, "%.*s/.%s" TMP_TAG "%ld-%lu", (int)dirlen, path,
			   slash + 1, (long)getpid(), n);
	if (len < 0 || (size_t)len >= sizeof tmp)
		return scout__error(SCOUT_EOVERFLOW, "%s: path too long", path);
	/*
	 * While the temporary file exists, the signals that terminate a process
	 * by default (or run a handler that may exit) are held in this thread:
	 * one that arrives meanwhile acts when the file has been renamed or
	 * removed, so a worker stopped with SIGTERM (pmap after a failure, or a
	 * Ctrl-C) leaves no temporary file. SIGKILL cannot be held; a process
	 * killed by it mid-write leaves one (never listed, never read).
	 */
	sigset_t hold, old_mask;
	sigemptyset(&hold);
	sigaddset(&hold, SIGHUP);
	sigaddset(&hold, SIGINT);
	sigaddset(&hold, SIGQUIT);
	sigaddset(&hold, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &hold, &old_mask);
	int fd = FAULTED_CALL(SCOUT_STORE_FAULT_OPEN_TMP,
			      open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666));
	if (fd < 0) {
		rc = scout__error(SCOUT_EIO, "%s: cannot create temporary file %s: %s", path, tmp,
				  strerror(errno));
		pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
		return rc;
	}
	struct stat sb;
	if (write_all(fd, data, size) != 0) {
		rc = scout__error(SCOUT_EIO, "%s: write failed: %s", path, strerror(errno));
		goto fail;
	}
	if (store->fsync && FAULTED_CALL(SCOUT_STORE_FAULT_FSYNC, fsync(fd)) != 0) {
		rc = scout__error(SCOUT_EIO, "%s: fsync failed: %s", path, strerror(errno));
		goto fail;
	}
	if (fstat(fd, &sb) != 0) {
		rc = scout__error(SCOUT_EIO, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (close(fd) != 0) {
		fd = -1;
		rc = scout__error(SCOUT_EIO, "%s: close failed: %s", path, strerror(errno));
		goto fail;
	}
	fd = -1;
	if (FAULTED_CALL(SCOUT_STORE_FAULT_RENAME, rename(tmp, path)) != 0) {
		rc = scout__error(SCOUT_EIO, "%s: cannot rename the temporary file into place: %s",
				  path, strerror(errno));
		goto fail;
	}
	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	if (store->fsync) {
		rc = fsync_dir(path);
		if (rc < 0)
			return rc; /* the new value is in place; its temporary file is gone */
	}
	if (stamp_out) {
		/* rename keeps the inode and times (ctime may change on some file systems) */
		struct stat after;
		if (stat(path, &after) == 0 && after.st_ino == sb.st_ino)
			fill_stamp(stamp_out, &after);
		else
			fill_stamp(stamp_out, &sb);
	}
	return SCOUT_OK;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	return rc;
}

int scout__store_delete(const scout_store *store, const char *key)
{
	char path[PATH_MAX];
	int rc = scout__store_path(path, sizeof path, store, key);
	if (rc < 0)
		return rc;
	if (unlink(path) != 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return SCOUT_ENOTFOUND;
		return scout__error(SCOUT_EIO, "%s: cannot delete: %s", path, strerror(errno));
	}
	return SCOUT_OK;
}

typedef struct {
	char **keys;
	size_t count, cap;
} key_list;

static int list_push(key_list *l, const char *key)
{
	if (l->count == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		char **k = realloc(l->keys, cap * sizeof *k);
		if (!k)
			return scout__error(SCOUT_ENOMEM, "store: out of memory listing keys");
		l->keys = k;
		l->cap = cap;
	}
	char *s = scout__strdup(key);
	if (!s)
		return SCOUT_ENOMEM;
	l->keys[l->count++] = s;
	return SCOUT_OK;
}

/* walk dir (absolute path) whose key prefix is rel ("" at the root) */
static int list_dir(key_list *l, const char *dir, const char *rel, int depth)
{
	if (depth > 64)
		return scout__error(SCOUT_EIO, "%s: directories nested too deeply", dir);
	DIR *d = opendir(dir);
	if (!d) {
		if (errno == ENOENT || errno == ENOTDIR)
			return SCOUT_OK;
		return scout__error(SCOUT_EIO, "%s: cannot list: %s", dir, strerror(errno));
	}
	int rc = SCOUT_OK;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (strstr(e->d_name, TMP_TAG))
			continue;
		char child[PATH_MAX], key[PATH_MAX];
		int n1 = snprintf(child, sizeof child, "%s/%s", dir, e->d_name);
		int n2 = snprintf(key, sizeof key, "%s%s%s", rel, *rel ? "/" : "", e->d_name);
		if (n1 < 0 || (size_t)n1 >= sizeof child || n2 < 0 || (size_t)n2 >= sizeof key) {
			rc = scout__error(SCOUT_EOVERFLOW, "%s: path too long", dir);
			break;
		}
		int is_dir = e->d_type == DT_DIR;
		if (e->d_type == DT_UNKNOWN || e->d_type == DT_LNK) {
			struct stat sb;
			is_dir = stat(child, &sb) == 0 && S_ISDIR(sb.st_mode);
		}
		rc = is_dir ? list_dir(l, child, key, depth + 1) : list_push(l, key);
		if (rc < 0)
			break;
	}
	closedir(d);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void scout__store_list_free(char **keys, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(keys[i]);
	free(keys);
}

int scout__store_list(char ***keys_out, size_t *count_out, const scout_store *store,
		      const char *prefix)
{
	*keys_out = NULL;
	*count_out = 0;
	key_list l = {0};
	int rc = list_dir(&l, store->root, "", 0);
	if (rc < 0) {
		scout__store_list_free(l.keys, l.count);
		return rc;
	}
	if (prefix && *prefix) {
		size_t plen = strlen(prefix), kept = 0;
		for (size_t i = 0; i < l.count; i++) {
			if (strncmp(l.keys[i], prefix, plen) == 0)
				l.keys[kept++] = l.keys[i];
			else
				free(l.keys[i]);
		}
		l.count = kept;
	}
	if (l.count)
		qsort(l.keys, l.count, sizeof *l.keys, cmp_str);
	*keys_out = l.keys;
	*count_out = l.count;
	return SCOUT_OK;
}

static int rm_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	int r = (type == FTW_DP) ? rmdir(path) : unlink(path);
	return r != 0 && errno != ENOENT ? -1 : 0;
}

int scout__rmtree(const char *path)
{
	struct stat sb;
	if (lstat(path, &sb) != 0)
		return errno == ENOENT ? SCOUT_OK
				       : scout__error(SCOUT_EIO, "%s: %s", path, strerror(errno));
	if (!S_ISDIR(sb.st_mode)) {
		if (unlink(path) != 0)
			return scout__error(SCOUT_EIO, "%s: cannot remove: %s", path,
					    strerror(errno));
		return SCOUT_OK;
	}
	if (nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
		return scout__error(SCOUT_EIO, "%s: cannot remove the directory tree: %s", path,
				    strerror(errno));
	return SCOUT_OK;
}

int scout__chunk_key(char *buf, size_t bufsize, int ndim, const int64_t *idx, char sep)
{
	if (sep != '.' && sep != '/')
		return scout__error(SCOUT_EINVAL, "chunk key: separator '%c' is not '.' or '/'",
				    sep);
	if (ndim < 1 || ndim > SCOUT_MAX_NDIM)
		return scout__error(SCOUT_EINVAL, "chunk key: ndim %d is outside 1..%d", ndim,
				    SCOUT_MAX_NDIM);
	size_t used = 0;
	for (int i = 0; i < ndim; i++) {
		if (idx[i] < 0)
			return scout__error(SCOUT_EINVAL, "chunk key: negative index %lld",
					    (long long)idx[i]);
		int n = i ? snprintf(buf + used, bufsize - used, "%c%lld", sep, (long long)idx[i])
			  : snprintf(buf + used, bufsize - used, "%lld", (long long)idx[i]);
		if (n < 0 || (size_t)n >= bufsize - used)
			return scout__error(SCOUT_EOVERFLOW,
					    "chunk key: buffer of %zu bytes too small", bufsize);
		used += (size_t)n;
	}
	return SCOUT_OK;
}
