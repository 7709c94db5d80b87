/*
 * The filesystem store (see store.h): a directory holding one file per key.
 *
 * - get / get_range: open, fstat, read; an absent file is SCOUT_ENOTFOUND.
 * - set: atomic. The value goes to a temporary file in the key's own
 *   directory (".<name>.scout-tmp-<pid>-<n>", created with O_EXCL, mode 0666
 *   minus umask as zarr-python), is fsync'ed if the store asks for it, then
 *   renamed over the key. Parent directories of nested keys are created. On
 *   any failure the temporary file is removed. While it exists, the calling
 *   thread holds SIGHUP, SIGINT, SIGQUIT and SIGTERM (they act once it is
 *   renamed or removed), so a process stopped by one leaves no temporary
 *   file; only SIGKILL or a crash can leave one (never listed, never read).
 *   With fsync on, a failing fsync of the directory after the rename is an
 *   error too (the new value is then in place but may not be durable).
 * - Large values (1 MiB and more: shards, big chunks; 64 KiB and more in a
 *   bulk write, scout__store_set_bulk) are written with
 *   O_DIRECT, past the page cache, unless SCOUT_DIRECT_IO=0. Such writes
 *   stream volumes far larger than memory, so caching them evicts what is
 *   worth caching (the input being read) for data nobody reads soon, and the
 *   copy into the page cache costs CPU next to the codec: on the benchmark
 *   VM, where every fresh page-cache page costs a host fault, 1 GiB of
 *   shards took 1.0-1.8 s of CPU through the page cache and 0.02 s with
 *   O_DIRECT (the device at 1.2-2.7 GB/s). The value goes in aligned pieces
 *   (through a 4 MiB bounce buffer from the pool when the caller's is not
 *   4 KiB-aligned), its unaligned tail through the page cache; a file system
 *   that refuses O_DIRECT (EINVAL at open or write) gets a buffered write.
 *   Durability is unchanged: fsync as above.
 * - list / list_dir: temporary files are skipped.
 * - version tokens: inode, device, size, mtime, ctime (fill_version()).
 * The system calls go through the fault hooks of store_fault.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/bufpool.h"
#include "store.h"

#define TMP_TAG  ".scout-tmp-"
#define TRUST_NS ((int64_t)200 * 1000000) /* 200 ms: far above any timestamp tick */

typedef struct {
	scout_store base;
	int fsync;
	int direct; /* write values of DIRECT_MIN bytes or more with O_DIRECT (see above) */
} fs_store;

/* direct I/O (see above): the smallest value, the alignment, the bounce buffer */
#define DIRECT_MIN      ((size_t)1 << 20)
#define DIRECT_MIN_BULK ((size_t)64 << 10) /* in a bulk write (scout__store_set_bulk) */
#define DIRECT_ALIGN    ((size_t)4096)
#define BOUNCE_BYTES    ((size_t)4 << 20)             /* one slot of the buffer pool */
#define BOUNCE_SIZE     (BOUNCE_BYTES - DIRECT_ALIGN) /* what goes through it at once */

static const scout_store_vtable fs_vtable;

static void fs_destroy(scout_store *store)
{
	free(store->root);
	free(store);
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* root + "/" + key into buf. SCOUT_EINVAL for a bad key, EOVERFLOW if too long. */
static int fs_path(char *buf, size_t bufsize, const scout_store *store, const char *key)
{
	int rc = scout__store_check_key(key);
	if (rc < 0)
		return rc;
	int n = snprintf(buf, bufsize, "%s/%s", store->root, key);
	if (n < 0 || (size_t)n >= bufsize)
		return scout__error(SCOUT_EOVERFLOW,
				    "store: path of key \"%s\" under %s is too long", key,
				    store->root);
	return SCOUT_OK;
}

static _Thread_local int bulk; /* scout__store_set_bulk() */

void scout__store_set_bulk(int on)
{
	bulk = on;
}

int scout__store_bulk_direct(const scout_store *store)
{
	return store->vt == &fs_vtable && ((const fs_store *)store)->direct;
}

int scout__store_path(char *buf, size_t bufsize, const scout_store *store, const char *key)
{
	if (store->vt != &fs_vtable)
		return scout__error(SCOUT_EUNSUPPORTED, "%s: not a filesystem store", store->root);
	return fs_path(buf, bufsize, store, key);
}

/* mkdir -p path */
static int mkdirs(const char *path)
{
	char tmp[PATH_MAX];
	size_t n = strlen(path);
	if (n == 0 || n >= sizeof tmp)
		return scout__error(SCOUT_EINVAL, "store: bad path \"%s\"", path);
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0777) != 0 && errno != EEXIST)
			return scout__error(SCOUT_EIO, "%s: cannot create directory: %s", tmp,
					    strerror(errno));
		*p = '/';
	}
	if (mkdir(tmp, 0777) != 0 && errno != EEXIST)
		return scout__error(SCOUT_EIO, "%s: cannot create directory: %s", tmp,
				    strerror(errno));
	struct stat sb;
	if (stat(tmp, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return scout__error(SCOUT_EIO, "%s: not a directory", tmp);
	return SCOUT_OK;
}

int scout__store_open(scout_store **out, const char *root, int flags)
{
	if (!out || !root || !*root)
		return scout__error(SCOUT_EINVAL, "store: root path is NULL or empty");
	*out = NULL;
	int rc = scout__store_fault_env_check();
	if (rc < 0)
		return rc;
	fs_store *s = calloc(1, sizeof *s);
	if (!s)
		return scout__error(SCOUT_ENOMEM, "store: out of memory");
	s->base.vt = &fs_vtable;
	size_t n = strlen(root);
	while (n > 1 && root[n - 1] == '/')
		n--;
	s->base.root = malloc(n + 1);
	if (!s->base.root) {
		free(s);
		return scout__error(SCOUT_ENOMEM, "store: out of memory");
	}
	memcpy(s->base.root, root, n);
	s->base.root[n] = '\0';
	const char *env = getenv("SCOUT_FSYNC");
	s->fsync = (flags & SCOUT_STORE_FSYNC) || (env && strcmp(env, "1") == 0);
	env = getenv("SCOUT_DIRECT_IO");
	s->direct = !(env && strcmp(env, "0") == 0);
	if (flags & SCOUT_STORE_CREATE) {
		rc = mkdirs(s->base.root);
		if (rc < 0) {
			fs_destroy(&s->base);
			return rc;
		}
	}
	*out = &s->base;
	return SCOUT_OK;
}

/*
 * The token of a file version: inode, device, size, mtime, ctime; strong when
 * the file was already older than TRUST_NS at `observed` (clock read before
 * the file was opened): any later replacement gets a later mtime, whereas a
 * new file may reuse a freed inode within one timestamp tick.
 */
static void fill_version(scout_store_version *v, const struct stat *sb, int64_t observed)
{
	int64_t f[5];
	f[0] = (int64_t)sb->st_ino;
	f[1] = (int64_t)sb->st_dev;
	f[2] = (int64_t)sb->st_size;
	int64_t mtime = (int64_t)sb->st_mtim.tv_sec * 1000000000 + sb->st_mtim.tv_nsec;
	f[3] = mtime;
	f[4] = (int64_t)sb->st_ctim.tv_sec * 1000000000 + sb->st_ctim.tv_nsec;
	memset(v, 0, sizeof *v);
	memcpy(v->data, f, sizeof f);
	v->len = sizeof f;
	v->strong = observed - mtime > TRUST_NS;
	v->size = (int64_t)sb->st_size;
}

static int fs_head(const scout_store *store, const char *key, scout_store_version *ver_out)
{
	char path[PATH_MAX];
	int rc = fs_path(path, sizeof path, store, key);
	if (rc < 0)
		return rc;
	int64_t observed = now_ns();
	struct stat sb;
	if (stat(path, &sb) != 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return SCOUT_ENOTFOUND;
		return scout__error(SCOUT_EIO, "%s: %s", path, strerror(errno));
	}
	if (!S_ISREG(sb.st_mode))
		return scout__error(SCOUT_EIO, "%s: not a regular file", path);
	if (ver_out)
		fill_version(ver_out, &sb, observed);
	return SCOUT_OK;
}

/*
 * Read [offset, offset + length) of a key (clipped to the file); offset
 * SCOUT_STORE_SUFFIX: the last length bytes; length UINT64_MAX: to the end.
 */
/* into: read into it (at most cap bytes; *size_out still the range's length), else malloc */
static int fs_read(const scout_store *store, const char *key, int64_t offset, uint64_t length,
		   void *into, size_t cap, void **data_out, size_t *size_out,
		   scout_store_version *ver_out)
{
	*data_out = NULL;
	*size_out = 0;
	char path[PATH_MAX];
	int rc = fs_path(path, sizeof path, store, key);
	if (rc < 0)
		return rc;
	int64_t observed = now_ns();
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
	uint64_t fsize = (uint64_t)sb.st_size, from = 0, size64 = fsize;
	if (offset == SCOUT_STORE_SUFFIX) {
		from = length < fsize ? fsize - length : 0;
		size64 = fsize - from;
	} else if (offset > 0 || length != UINT64_MAX) {
		from = (uint64_t)offset < fsize ? (uint64_t)offset : fsize;
		size64 = fsize - from < length ? fsize - from : length;
	}
	size_t size = (size_t)size64;
	if (from > 0 && lseek(fd, (off_t)from, SEEK_SET) < 0) {
		rc = scout__error(SCOUT_EIO, "%s: cannot seek: %s", path, strerror(errno));
		close(fd);
		return rc;
	}
	unsigned char *buf = into ? into : malloc(size ? size : 1);
	if (!buf) {
		close(fd);
		return scout__error(SCOUT_ENOMEM, "%s: cannot allocate %zu bytes", path, size);
	}
	size_t want = into && size > cap ? cap : size, got = 0;
	int pending = 0;
	while (got < want) {
		ssize_t r = scout__store_io_call(0, fd, buf + got, want - got, &pending);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = scout__error(SCOUT_EIO, "%s: read failed: %s", path, strerror(errno));
			if (!into)
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
	if (got != want) {
		if (!into)
			free(buf);
		return scout__error(SCOUT_EIO, "%s: file shrank from %llu to %llu bytes while read",
				    path, (unsigned long long)(from + want),
				    (unsigned long long)(from + got));
	}
	if (ver_out)
		fill_version(ver_out, &sb, observed);
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
		if (tmp[0] && SCOUT_FAULTED_CALL(SCOUT_STORE_FAULT_MKDIR, mkdir(tmp, 0777)) != 0 &&
		    errno != EEXIST)
			return scout__error(SCOUT_EIO, "%s: cannot create directory: %s", tmp,
					    strerror(errno));
		*p = '/';
	}
	if (SCOUT_FAULTED_CALL(SCOUT_STORE_FAULT_MKDIR, mkdir(tmp, 0777)) != 0 && errno != EEXIST)
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
		ssize_t w = scout__store_io_call(1, fd, (void *)p, size, &pending);
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
 * Write size bytes at the start of a new file opened with O_DIRECT: aligned
 * pieces past the page cache, then O_DIRECT is cleared for the unaligned
 * tail. A file system that refuses a direct write (EINVAL: alignment it does
 * not accept) gets the rest through the page cache. -1 with errno on failure.
 */
static int write_all_direct(int fd, const void *data, size_t size)
{
	const unsigned char *p = data;
	size_t body = size & ~(DIRECT_ALIGN - 1), done = 0;
	unsigned char *bounce = NULL, *aligned = NULL;
	if (((uintptr_t)p & (DIRECT_ALIGN - 1)) != 0) {
		bounce = scout__buf_alloc(BOUNCE_BYTES);
		if (!bounce)
			body = 0; /* no memory for it: everything through the page cache */
		else
			aligned = (unsigned char *)(((uintptr_t)bounce + DIRECT_ALIGN - 1) &
						    ~(uintptr_t)(DIRECT_ALIGN - 1));
	}
	int pending = 0;
	while (done < body) {
		size_t n = body - done;
		void *src = (void *)(p + done);
		if (aligned) {
			n = n < BOUNCE_SIZE ? n : BOUNCE_SIZE;
			memcpy(aligned, p + done, n);
			src = aligned;
		}
		ssize_t w = scout__store_io_call(1, fd, src, n, &pending);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EINVAL)
				break; /* not for this file system: the page cache takes the rest */
			int e = errno;
			scout__buf_free(bounce, BOUNCE_BYTES);
			errno = e;
			return -1;
		}
		done += (size_t)w;
		if ((size_t)w != n || (done & (DIRECT_ALIGN - 1)) != 0)
			break; /* a short write: finish through the page cache */
	}
	scout__buf_free(bounce, BOUNCE_BYTES);
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_DIRECT) != 0)
		return -1;
	if (pending) {
		errno = pending; /* a fault hook's short write: its error is next */
		return -1;
	}
	return write_all(fd, p + done, size - done);
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
	if (SCOUT_FAULTED_CALL(SCOUT_STORE_FAULT_FSYNC, fsync(fd)) != 0 && errno != EINVAL)
		rc =
		    scout__error(SCOUT_EIO, "%s: written, but fsync of its directory %s failed: %s",
				 path, d, strerror(errno));
	close(fd);
	return rc;
}

static int fs_set(const scout_store *store, const char *key, const void *data, size_t size,
		  scout_store_version *ver_out)
{
	static unsigned long counter;
	const fs_store *fs = (const fs_store *)store;
	char path[PATH_MAX], tmp[PATH_MAX];
	int rc = fs_path(path, sizeof path, store, key);
	if (rc < 0)
		return rc;
	int64_t observed = now_ns();
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
	int direct = fs->direct && size >= (bulk ? DIRECT_MIN_BULK : DIRECT_MIN);
	int fd = SCOUT_FAULTED_CALL(
	    SCOUT_STORE_FAULT_OPEN_TMP,
	    open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | (direct ? O_DIRECT : 0), 0666));
	if (fd < 0 && direct && errno == EINVAL) {
		/*
		 * A file system without direct I/O (tmpfs before Linux 6.6, some
		 * FUSE mounts). The kernel refuses O_DIRECT after creating the
		 * file, so the temporary may exist: remove it (the name is ours).
		 */
		direct = 0;
		unlink(tmp);
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	}
	if (fd < 0) {
		rc = scout__error(SCOUT_EIO, "%s: cannot create temporary file %s: %s", path, tmp,
				  strerror(errno));
		pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
		return rc;
	}
	struct stat sb;
	if ((direct ? write_all_direct(fd, data, size) : write_all(fd, data, size)) != 0) {
		rc = scout__error(SCOUT_EIO, "%s: write failed: %s", path, strerror(errno));
		goto fail;
	}
	if (fs->fsync && SCOUT_FAULTED_CALL(SCOUT_STORE_FAULT_FSYNC, fsync(fd)) != 0) {
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
	if (SCOUT_FAULTED_CALL(SCOUT_STORE_FAULT_RENAME, rename(tmp, path)) != 0) {
		rc = scout__error(SCOUT_EIO, "%s: cannot rename the temporary file into place: %s",
				  path, strerror(errno));
		goto fail;
	}
	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	if (fs->fsync) {
		rc = fsync_dir(path);
		if (rc < 0)
			return rc; /* the new value is in place; its temporary file is gone */
	}
	if (ver_out) {
		/* rename keeps the inode and times (ctime may change on some file systems) */
		struct stat after;
		if (stat(path, &after) == 0 && after.st_ino == sb.st_ino)
			fill_version(ver_out, &after, observed);
		else
			fill_version(ver_out, &sb, observed);
	}
	return SCOUT_OK;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	return rc;
}

static int fs_del(const scout_store *store, const char *key)
{
	char path[PATH_MAX];
	int rc = fs_path(path, sizeof path, store, key);
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

/*
 * walk dir (absolute path) whose key prefix is rel ("" at the root): collect
 * the keys into l, or, when swept is not NULL, remove the temporary files and
 * count them instead
 */
static int walk_dir(key_list *l, const char *dir, const char *rel, int depth, size_t *swept)
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
		if (strstr(e->d_name, TMP_TAG) && !swept)
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
		if (is_dir) {
			rc = walk_dir(l, child, key, depth + 1, swept);
		} else if (!swept) {
			rc = list_push(l, key);
		} else if (strstr(e->d_name, TMP_TAG)) {
			if (unlink(child) == 0)
				(*swept)++;
			else if (errno != ENOENT)
				rc = scout__error(SCOUT_EIO, "%s: cannot remove: %s", child,
						  strerror(errno));
		}
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

static int fs_list(const scout_store *store, const char *prefix, char ***keys_out,
		   size_t *count_out)
{
	*keys_out = NULL;
	*count_out = 0;
	key_list l = {0};
	int rc = walk_dir(&l, store->root, "", 0, NULL);
	if (rc < 0) {
		for (size_t i = 0; i < l.count; i++)
			free(l.keys[i]);
		free(l.keys);
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

static int fs_get(const scout_store *store, const char *key, void **data_out, size_t *size_out,
		  scout_store_version *ver_out)
{
	return fs_read(store, key, 0, UINT64_MAX, NULL, 0, data_out, size_out, ver_out);
}

static int fs_get_range(const scout_store *store, const char *key, int64_t offset, uint64_t length,
			void **data_out, size_t *size_out, scout_store_version *ver_out)
{
	if (offset < 0 && offset != SCOUT_STORE_SUFFIX)
		return scout__error(SCOUT_EINVAL, "store: get_range of %s: bad offset %lld", key,
				    (long long)offset);
	return fs_read(store, key, offset, length, NULL, 0, data_out, size_out, ver_out);
}

static int fs_get_range_into(const scout_store *store, const char *key, int64_t offset,
			     uint64_t length, void *buf, size_t cap, size_t *size_out,
			     scout_store_version *ver_out)
{
	if (offset < 0 && offset != SCOUT_STORE_SUFFIX)
		return scout__error(SCOUT_EINVAL, "store: get_range of %s: bad offset %lld", key,
				    (long long)offset);
	void *d = NULL;
	return fs_read(store, key, offset, length, buf, cap, &d, size_out, ver_out);
}

static int fs_list_dir(const scout_store *store, const char *prefix, char ***names_out,
		       size_t *count_out)
{
	*names_out = NULL;
	*count_out = 0;
	char dir[PATH_MAX];
	size_t plen = prefix ? strlen(prefix) : 0;
	while (plen > 0 && prefix[plen - 1] == '/')
		plen--;
	int n = plen ? snprintf(dir, sizeof dir, "%s/%.*s", store->root, (int)plen, prefix)
		     : snprintf(dir, sizeof dir, "%s", store->root);
	if (n < 0 || (size_t)n >= sizeof dir)
		return scout__error(SCOUT_EOVERFLOW, "%s: path too long", store->root);
	key_list l = {0};
	DIR *d = opendir(dir);
	if (!d) {
		if (errno == ENOENT || errno == ENOTDIR)
			return SCOUT_OK;
		return scout__error(SCOUT_EIO, "%s: cannot list: %s", dir, strerror(errno));
	}
	int rc = SCOUT_OK;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
		    strstr(e->d_name, TMP_TAG))
			continue;
		int is_dir = e->d_type == DT_DIR;
		if (e->d_type == DT_UNKNOWN || e->d_type == DT_LNK) {
			char child[PATH_MAX];
			struct stat sb;
			int cn = snprintf(child, sizeof child, "%s/%s", dir, e->d_name);
			is_dir = cn > 0 && (size_t)cn < sizeof child && stat(child, &sb) == 0 &&
				 S_ISDIR(sb.st_mode);
		}
		char name[NAME_MAX + 2];
		snprintf(name, sizeof name, "%s%s", e->d_name, is_dir ? "/" : "");
		rc = list_push(&l, name);
		if (rc < 0)
			break;
	}
	closedir(d);
	if (rc < 0) {
		for (size_t i = 0; i < l.count; i++)
			free(l.keys[i]);
		free(l.keys);
		return rc;
	}
	if (l.count)
		qsort(l.keys, l.count, sizeof *l.keys, cmp_str);
	*names_out = l.keys;
	*count_out = l.count;
	return SCOUT_OK;
}

static int fs_delete_prefix(const scout_store *store, const char *prefix)
{
	if (!prefix || !*prefix)
		return scout__rmtree(store->root);
	char path[PATH_MAX];
	size_t plen = strlen(prefix);
	while (plen > 0 && prefix[plen - 1] == '/')
		plen--;
	int n = snprintf(path, sizeof path, "%s/%.*s", store->root, (int)plen, prefix);
	if (n < 0 || (size_t)n >= sizeof path)
		return scout__error(SCOUT_EOVERFLOW, "%s: path too long", store->root);
	return scout__rmtree(path);
}

static int fs_exists(const scout_store *store)
{
	struct stat sb;
	if (lstat(store->root, &sb) == 0)
		return 1;
	if (errno == ENOENT)
		return 0;
	return scout__error(SCOUT_EIO, "%s: %s", store->root, strerror(errno));
}

static int fs_sweep(const scout_store *store, size_t *removed_out)
{
	*removed_out = 0;
	return walk_dir(NULL, store->root, "", 0, removed_out);
}

static const scout_store_vtable fs_vtable = {
    .name = "file",
    .get = fs_get,
    .get_range = fs_get_range,
    .get_range_into = fs_get_range_into,
    .head = fs_head,
    .set = fs_set,
    .del = fs_del,
    .delete_prefix = fs_delete_prefix,
    .list = fs_list,
    .list_dir = fs_list_dir,
    .exists = fs_exists,
    .sweep = fs_sweep,
    .destroy = fs_destroy,
};
