/*
 * Shared memory between processes: POSIX shm objects with a small header.
 *
 * Layout of a segment:
 *   [0, data_offset)       struct shm_header (magic, version, ndim, dtype, shape, sizes)
 *   [data_offset, +nbytes) the elements, C order, native byte order
 * data_offset is a multiple of 64 so the elements are cache-line aligned.
 *
 * The creator's handle owns the name: its free unlinks the segment. Every live
 * creator handle is also on a list that an atexit handler walks to unlink the
 * segments a program forgot to free. Handles remember the pid of the process
 * that created them, so a forked child (which inherits both the handles and
 * the list) never unlinks its parent's segments, whether it frees the
 * inherited handle or runs exit().
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "scout/shm.h"
#include "array_impl.h"
#include "memory.h"

#define SHM_MAGIC    "SCOUTSHM"
#define SHM_VERSION  1u
#define SHM_ALIGN    64u
#define SHM_NAME_MAX 64

struct shm_header {
	char magic[8];
	uint32_t version;
	uint32_t data_offset; /* multiple of SHM_ALIGN, >= sizeof(struct shm_header) */
	int32_t ndim;
	int32_t dtype;
	uint64_t nbytes; /* prod(shape) * itemsize */
	int64_t shape[SCOUT_MAX_NDIM];
};

struct scout_shm {
	char name[SHM_NAME_MAX];
	void *map;       /* the whole mapping */
	size_t map_size; /* data_offset + nbytes */
	void *data;
	int ndim;
	int64_t shape[SCOUT_MAX_NDIM];
	scout_dtype dtype;
	size_t nbytes;
	int creator;                   /* created by scout_shm_create() */
	pid_t creator_pid;             /* the process that created it (unlinks only there) */
	struct scout_shm *next, *prev; /* live creator handles */
};

/* ---- live creator handles, unlinked at exit ---- */

static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static struct scout_shm *live_head;
static pthread_once_t live_once = PTHREAD_ONCE_INIT;

static void live_atexit(void)
{
	/* Only unlink: the process is ending, the mappings go with it. */
	pid_t self = getpid();
	pthread_mutex_lock(&live_lock);
	for (struct scout_shm *s = live_head; s; s = s->next)
		if (s->creator_pid == self)
			shm_unlink(s->name);
	pthread_mutex_unlock(&live_lock);
}

static void live_prefork(void)
{
	pthread_mutex_lock(&live_lock);
}

static void live_postfork(void)
{
	pthread_mutex_unlock(&live_lock);
}

static void live_init(void)
{
	atexit(live_atexit);
	pthread_atfork(live_prefork, live_postfork, live_postfork);
}

static void live_add(struct scout_shm *s)
{
	pthread_once(&live_once, live_init);
	pthread_mutex_lock(&live_lock);
	s->prev = NULL;
	s->next = live_head;
	if (live_head)
		live_head->prev = s;
	live_head = s;
	pthread_mutex_unlock(&live_lock);
}

static void live_remove(struct scout_shm *s)
{
	pthread_mutex_lock(&live_lock);
	if (s->prev)
		s->prev->next = s->next;
	else if (live_head == s)
		live_head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->next = s->prev = NULL;
	pthread_mutex_unlock(&live_lock);
}

/* ---- helpers ---- */

static size_t header_space(void)
{
	return (sizeof(struct shm_header) + SHM_ALIGN - 1) / SHM_ALIGN * SHM_ALIGN;
}

static uint64_t random_u64(void)
{
	uint64_t r;
	if (getrandom(&r, sizeof r, GRND_NONBLOCK) == (ssize_t)sizeof r)
		return r;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	r = (uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15ull ^ (uint64_t)ts.tv_sec ^
	    ((uint64_t)getpid() << 32);
	return r;
}

static int make_name(char *buf, size_t bufsize)
{
	static atomic_uint counter;
	unsigned n = atomic_fetch_add(&counter, 1);
	int len = snprintf(buf, bufsize, "/scout-%ld-%u-%016llx", (long)getpid(), n,
			   (unsigned long long)random_u64());
	return len > 0 && (size_t)len < bufsize ? 0 : -1;
}

/* ---- public API ---- */

int scout_shm_create(scout_shm **out, int ndim, const int64_t *shape, scout_dtype dtype)
{
	if (!out)
		return scout__error(SCOUT_EINVAL, "shm_create: out is NULL");
	*out = NULL;
	size_t itemsize = scout_dtype_size(dtype);
	if (itemsize == 0)
		return scout__error(SCOUT_EINVAL, "shm_create: invalid dtype %d", (int)dtype);
	size_t nbytes;
	int rc = scout__shape_size(NULL, &nbytes, ndim, shape, itemsize);
	if (rc < 0)
		return scout__error_prefix(rc, "shm_create: ");
	size_t off = header_space();
	size_t total;
	if (__builtin_add_overflow(nbytes, off, &total) || total > (size_t)INT64_MAX)
		return scout__error(SCOUT_EOVERFLOW, "shm_create: %zu bytes overflow", nbytes);

	scout_shm *s = calloc(1, sizeof *s);
	if (!s)
		return scout__error(SCOUT_ENOMEM, "shm_create: out of memory");
	int fd = -1;
	for (int attempt = 0; attempt < 8; attempt++) {
		if (make_name(s->name, sizeof s->name) < 0)
			break;
		fd = shm_open(s->name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0) {
		int e = errno;
		free(s);
		return scout__error(SCOUT_EIO, "shm_create: shm_open failed: %s", strerror(e));
	}
	if (ftruncate(fd, (off_t)total) < 0) {
		int e = errno;
		close(fd);
		shm_unlink(s->name);
		rc = scout__error(SCOUT_EIO,
				  "shm_create %s: cannot size the segment to %zu bytes: %s",
				  s->name, total, strerror(e));
		free(s);
		return rc;
	}
	void *map = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	int e = errno;
	close(fd);
	if (map == MAP_FAILED) {
		shm_unlink(s->name);
		rc = scout__error(e == ENOMEM ? SCOUT_ENOMEM : SCOUT_EIO,
				  "shm_create %s: mmap of %zu bytes failed: %s", s->name, total,
				  strerror(e));
		free(s);
		return rc;
	}
	struct shm_header *h = map;
	memcpy(h->magic, SHM_MAGIC, 8);
	h->version = SHM_VERSION;
	h->data_offset = (uint32_t)off;
	h->ndim = ndim;
	h->dtype = (int32_t)dtype;
	h->nbytes = nbytes;
	for (int i = 0; i < ndim; i++)
		h->shape[i] = shape[i];

	s->map = map;
	s->map_size = total;
	s->data = (char *)map + off;
	s->ndim = ndim;
	memcpy(s->shape, shape, (size_t)ndim * sizeof *shape);
	s->dtype = dtype;
	s->nbytes = nbytes;
	s->creator = 1;
	s->creator_pid = getpid();
	live_add(s);
	*out = s;
	return SCOUT_OK;
}

/* Validate a mapped header against the object's size; fills s on success. */
static int check_header(scout_shm *s, const struct shm_header *h, size_t size)
{
	const char *n = s->name;
	if (memcmp(h->magic, SHM_MAGIC, 8) != 0)
		return scout__error(SCOUT_EFORMAT, "shm_attach %s: not a scout segment (bad magic)",
				    n);
	if (h->version != SHM_VERSION)
		return scout__error(SCOUT_EFORMAT, "shm_attach %s: header version %u, expected %u",
				    n, (unsigned)h->version, SHM_VERSION);
	if (h->ndim < 1 || h->ndim > SCOUT_MAX_NDIM)
		return scout__error(SCOUT_EFORMAT, "shm_attach %s: ndim %d is outside 1..%d", n,
				    (int)h->ndim, SCOUT_MAX_NDIM);
	size_t itemsize =
	    h->dtype >= 0 && h->dtype < SCOUT_DTYPE_COUNT ? scout_dtype_size(h->dtype) : 0;
	if (itemsize == 0)
		return scout__error(SCOUT_EFORMAT, "shm_attach %s: invalid dtype %d", n,
				    (int)h->dtype);
	size_t nbytes;
	if (scout__shape_size(NULL, &nbytes, h->ndim, h->shape, itemsize) < 0)
		return scout__error_prefix(SCOUT_EFORMAT, "shm_attach %s: bad shape: ", n);
	if (nbytes != h->nbytes)
		return scout__error(
		    SCOUT_EFORMAT,
		    "shm_attach %s: header says %llu bytes, shape and dtype give %zu", n,
		    (unsigned long long)h->nbytes, nbytes);
	if (h->data_offset < sizeof *h || h->data_offset % SHM_ALIGN != 0)
		return scout__error(SCOUT_EFORMAT, "shm_attach %s: bad data offset %u", n,
				    (unsigned)h->data_offset);
	if (nbytes > size || h->data_offset > size - nbytes)
		return scout__error(SCOUT_EFORMAT,
				    "shm_attach %s: segment has %zu bytes, header needs %u + %zu",
				    n, size, (unsigned)h->data_offset, nbytes);
	s->ndim = h->ndim;
	memcpy(s->shape, h->shape, (size_t)h->ndim * sizeof h->shape[0]);
	s->dtype = (scout_dtype)h->dtype;
	s->nbytes = nbytes;
	s->data = (char *)s->map + h->data_offset;
	return SCOUT_OK;
}

int scout_shm_attach(scout_shm **out, const char *name)
{
	if (!out)
		return scout__error(SCOUT_EINVAL, "shm_attach: out is NULL");
	*out = NULL;
	if (!name || name[0] != '/' || strlen(name) >= SHM_NAME_MAX || strchr(name + 1, '/'))
		return scout__error(SCOUT_EINVAL,
				    "shm_attach: invalid name \"%s\" (expected \"/name\", under %d "
				    "characters)",
				    name ? name : "(null)", SHM_NAME_MAX);
	scout_shm *s = calloc(1, sizeof *s);
	if (!s)
		return scout__error(SCOUT_ENOMEM, "shm_attach: out of memory");
	strcpy(s->name, name);
	int rc;
	int fd = shm_open(name, O_RDWR | O_CLOEXEC, 0);
	if (fd < 0) {
		int e = errno;
		rc = scout__error(e == ENOENT ? SCOUT_ENOTFOUND : SCOUT_EIO, "shm_attach %s: %s",
				  name, strerror(e));
		free(s);
		return rc;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		free(s);
		return scout__error(SCOUT_EIO, "shm_attach %s: fstat: %s", name, strerror(e));
	}
	if (st.st_size < (off_t)sizeof(struct shm_header)) {
		close(fd);
		free(s);
		return scout__error(SCOUT_EFORMAT,
				    "shm_attach %s: %lld bytes, too small for a scout header", name,
				    (long long)st.st_size);
	}
	if ((uint64_t)st.st_size > SIZE_MAX) {
		close(fd);
		free(s);
		return scout__error(SCOUT_EOVERFLOW, "shm_attach %s: size overflows", name);
	}
	size_t size = (size_t)st.st_size;
	void *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	int e = errno;
	close(fd);
	if (map == MAP_FAILED) {
		free(s);
		return scout__error(SCOUT_EIO, "shm_attach %s: mmap of %zu bytes failed: %s", name,
				    size, strerror(e));
	}
	s->map = map;
	s->map_size = size;
	rc = check_header(s, map, size);
	if (rc < 0) {
		munmap(map, size);
		free(s);
		return rc;
	}
	s->creator = 0;
	s->creator_pid = 0;
	*out = s;
	return SCOUT_OK;
}

const char *scout_shm_name(const scout_shm *shm)
{
	return shm ? shm->name : NULL;
}

void *scout_shm_data(scout_shm *shm)
{
	return shm ? shm->data : NULL;
}

int scout_shm_ndim(const scout_shm *shm)
{
	return shm ? shm->ndim : 0;
}

const int64_t *scout_shm_shape(const scout_shm *shm)
{
	return shm ? shm->shape : NULL;
}

scout_dtype scout_shm_dtype(const scout_shm *shm)
{
	return shm ? shm->dtype : SCOUT_DTYPE_COUNT;
}

size_t scout_shm_nbytes(const scout_shm *shm)
{
	return shm ? shm->nbytes : 0;
}

int scout_shm_is_owner(const scout_shm *shm)
{
	return shm && shm->creator && shm->creator_pid == getpid();
}

void scout_shm_free(scout_shm *shm)
{
	if (!shm)
		return;
	if (shm->creator) {
		live_remove(shm);
		if (shm->creator_pid == getpid())
			shm_unlink(shm->name);
	}
	munmap(shm->map, shm->map_size);
	free(shm);
}

/* ---- the "shm" array backend: the memory kernels over the mapping ---- */

static const scout_array_ops shm_ops = {
    .kind = "shm",
    .read = scout__memory_read,
    .write = scout__memory_write,
    /* the mapping is MAP_SHARED: forked workers see and write the same pages */
    .after_fork = NULL,
};

int scout_shm_array(scout_array **out, scout_shm *shm)
{
	if (!out)
		return scout__error(SCOUT_EINVAL, "shm_array: out is NULL");
	*out = NULL;
	if (!shm)
		return scout__error(SCOUT_EINVAL, "shm_array: shm is NULL");
	scout_array *a;
	int rc = scout__array_alloc(&a, &shm_ops, shm->ndim, shm->shape, NULL, shm->dtype, 1);
	if (rc < 0)
		return scout__error_prefix(rc, "shm_array %s: ", shm->name);
	a->data = shm->data;
	a->impl = shm;
	*out = a;
	return SCOUT_OK;
}
