/* Striped mutexes + OFD byte-range locks on one lock file per array (see chunk_lock.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chunk_lock.h"

#define STRIPES 64

struct scout_chunk_locks {
	char *path;
	int fd;       /* -1 until first use */
	int disabled; /* SCOUT_TEST_UNLOCKED_WRITES=1 (tests only) */
	pthread_mutex_t fd_mu;
	pthread_mutex_t stripes[STRIPES];
};

int scout__chunk_locks_new(scout_chunk_locks **out, const char *lock_path)
{
	*out = NULL;
	scout_chunk_locks *l = calloc(1, sizeof *l);
	if (!l)
		return scout__error(SCOUT_ENOMEM, "chunk locks: out of memory");
	l->path = scout__strdup(lock_path);
	if (!l->path) {
		free(l);
		return SCOUT_ENOMEM;
	}
	l->fd = -1;
	const char *t = getenv("SCOUT_TEST_UNLOCKED_WRITES");
	l->disabled = t && strcmp(t, "1") == 0;
	pthread_mutex_init(&l->fd_mu, NULL);
	for (int i = 0; i < STRIPES; i++)
		pthread_mutex_init(&l->stripes[i], NULL);
	*out = l;
	return SCOUT_OK;
}

void scout__chunk_locks_free(scout_chunk_locks *l)
{
	if (!l)
		return;
	if (l->fd >= 0)
		close(l->fd);
	pthread_mutex_destroy(&l->fd_mu);
	for (int i = 0; i < STRIPES; i++)
		pthread_mutex_destroy(&l->stripes[i]);
	free(l->path);
	free(l);
}

static int get_fd(scout_chunk_locks *l, int *fd_out)
{
	pthread_mutex_lock(&l->fd_mu);
	if (l->fd < 0) {
		l->fd = open(l->path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
		if (l->fd < 0) {
			int e = errno;
			pthread_mutex_unlock(&l->fd_mu);
			return scout__error(SCOUT_EIO, "%s: cannot open the lock file: %s", l->path,
					    strerror(e));
		}
	}
	*fd_out = l->fd;
	pthread_mutex_unlock(&l->fd_mu);
	return SCOUT_OK;
}

static pthread_mutex_t *stripe(scout_chunk_locks *l, uint64_t index)
{
	uint64_t h = index * UINT64_C(0x9e3779b97f4a7c15);
	return &l->stripes[h >> 58];
}

static int ofd(int fd, uint64_t index, short type)
{
	struct flock fl;
	memset(&fl, 0, sizeof fl);
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	fl.l_start = (off_t)index;
	fl.l_len = 1;
	int r;
	do
		r = fcntl(fd, F_OFD_SETLKW, &fl);
	while (r != 0 && errno == EINTR);
	return r;
}

int scout__chunk_lock(scout_chunk_locks *l, uint64_t index)
{
	if (index > (uint64_t)INT64_MAX - 1)
		return scout__error(SCOUT_EOVERFLOW, "%s: chunk index %llu too large to lock",
				    l->path, (unsigned long long)index);
	if (l->disabled)
		return SCOUT_OK;
	int fd = -1;
	int rc = get_fd(l, &fd);
	if (rc < 0)
		return rc;
	pthread_mutex_t *m = stripe(l, index);
	pthread_mutex_lock(m);
	if (ofd(fd, index, F_WRLCK) != 0) {
		int e = errno;
		pthread_mutex_unlock(m);
		return scout__error(SCOUT_EIO, "%s: cannot lock chunk %llu: %s", l->path,
				    (unsigned long long)index, strerror(e));
	}
	return SCOUT_OK;
}

void scout__chunk_unlock(scout_chunk_locks *l, uint64_t index)
{
	if (l->disabled)
		return;
	int fd = l->fd; /* set before the matching lock */
	ofd(fd, index, F_UNLCK);
	pthread_mutex_unlock(stripe(l, index));
}

void scout__chunk_locks_after_fork(scout_chunk_locks *l)
{
	pthread_mutex_init(&l->fd_mu, NULL);
	for (int i = 0; i < STRIPES; i++)
		pthread_mutex_init(&l->stripes[i], NULL);
	if (l->fd >= 0) {
		/* closing our duplicate does not release the parent's OFD locks */
		close(l->fd);
		l->fd = -1;
	}
}
