/*
 * Directory listings (files_in_dir, tifs_in_dir) and the voxel-size CSV
 * (read_voxel_size), after SCOUT's utils module.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "scout/files.h"
#include "internal.h"

struct scout_strlist {
	size_t count;
	char **items;
};

size_t scout_strlist_count(const scout_strlist *list)
{
	return list ? list->count : 0;
}

const char *scout_strlist_get(const scout_strlist *list, size_t i)
{
	if (!list || i >= list->count)
		return NULL;
	return list->items[i];
}

void scout_strlist_free(scout_strlist *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->count; i++)
		free(list->items[i]);
	free(list->items);
	free(list);
}

/* A growable list of owned strings, turned into a scout_strlist at the end. */
typedef struct {
	char **items;
	size_t count, cap;
} strvec;

static void strvec_clear(strvec *v)
{
	for (size_t i = 0; i < v->count; i++)
		free(v->items[i]);
	free(v->items);
	v->items = NULL;
	v->count = v->cap = 0;
}

/* Append s (taking ownership); frees s on failure. */
static int strvec_push(strvec *v, char *s)
{
	if (v->count == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 16;
		size_t bytes;
		if (scout__mul_size(&bytes, cap, sizeof *v->items, "directory listing") < 0) {
			free(s);
			return SCOUT_EOVERFLOW;
		}
		char **items = realloc(v->items, bytes);
		if (!items) {
			free(s);
			return scout__error(SCOUT_ENOMEM, "out of memory listing a directory");
		}
		v->items = items;
		v->cap = cap;
	}
	v->items[v->count++] = s;
	return SCOUT_OK;
}

static int strvec_finish(scout_strlist **out, strvec *v)
{
	scout_strlist *l = malloc(sizeof *l);
	if (!l) {
		strvec_clear(v);
		return scout__error(SCOUT_ENOMEM, "out of memory listing a directory");
	}
	l->items = v->items;
	l->count = v->count;
	v->items = NULL;
	v->count = v->cap = 0;
	*out = l;
	return SCOUT_OK;
}

/* byte order, as Python compares str of file names (UTF-8 byte order = code point order) */
static int cmp_bytes(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *join_path(const char *dir, const char *name)
{
	size_t nd = strlen(dir), nn = strlen(name);
	int slash = nd > 0 && dir[nd - 1] == '/';
	char *p = malloc(nd + nn + 2);
	if (!p) {
		scout__error(SCOUT_ENOMEM, "out of memory building a path");
		return NULL;
	}
	memcpy(p, dir, nd);
	if (!slash)
		p[nd++] = '/';
	memcpy(p + nd, name, nn + 1);
	return p;
}

/*
 * The entry names of a directory (without . and ..), sorted in byte order,
 * and its absolute path. When only_files is set, directories are skipped
 * (symbolic links are followed to decide).
 */
static int list_dir(strvec *names, char **absdir_out, const char *path, int only_files)
{
	*absdir_out = NULL;
	if (!path)
		return scout__error(SCOUT_EINVAL, "files_in_dir: path is NULL");
	struct stat st;
	if (stat(path, &st) != 0) {
		int e = errno;
		return scout__error(e == ENOENT || e == ENOTDIR ? SCOUT_ENOTFOUND : SCOUT_EIO,
				    "%s: %s", path, strerror(e));
	}
	if (!S_ISDIR(st.st_mode))
		return scout__error(SCOUT_EINVAL, "%s: not a directory", path);
	char *absdir = realpath(path, NULL);
	if (!absdir)
		return scout__error(SCOUT_EIO, "%s: cannot resolve the absolute path: %s", path,
				    strerror(errno));
	DIR *d = opendir(path);
	if (!d) {
		int e = errno;
		free(absdir);
		return scout__error(e == ENOENT ? SCOUT_ENOTFOUND : SCOUT_EIO,
				    "%s: cannot open the directory: %s", path, strerror(e));
	}
	int rc = SCOUT_OK;
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(d);
		if (!de) {
			if (errno)
				rc = scout__error(SCOUT_EIO, "%s: cannot read the directory: %s",
						  path, strerror(errno));
			break;
		}
		const char *n = de->d_name;
		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
			continue;
		if (only_files) {
			int is_dir = de->d_type == DT_DIR;
			if (de->d_type == DT_UNKNOWN || de->d_type == DT_LNK) {
				char *full = join_path(absdir, n);
				if (!full) {
					rc = SCOUT_ENOMEM;
					break;
				}
				struct stat est;
				is_dir = stat(full, &est) == 0 && S_ISDIR(est.st_mode);
				free(full);
			}
			if (is_dir)
				continue;
			size_t len = strlen(n);
			int tif = (len > 4 && strcasecmp(n + len - 4, ".tif") == 0) ||
				  (len > 5 && strcasecmp(n + len - 5, ".tiff") == 0);
			if (!tif)
				continue;
		}
		char *copy = scout__strdup(n);
		if (!copy) {
			rc = SCOUT_ENOMEM;
			break;
		}
		rc = strvec_push(names, copy);
		if (rc < 0)
			break;
	}
	closedir(d);
	if (rc < 0) {
		strvec_clear(names);
		free(absdir);
		return rc;
	}
	if (names->count > 1)
		qsort(names->items, names->count, sizeof *names->items, cmp_bytes);
	*absdir_out = absdir;
	return SCOUT_OK;
}

/* paths[i] = absdir + "/" + names[i] */
static int make_paths(strvec *paths, const strvec *names, const char *absdir)
{
	for (size_t i = 0; i < names->count; i++) {
		char *p = join_path(absdir, names->items[i]);
		if (!p) {
			strvec_clear(paths);
			return SCOUT_ENOMEM;
		}
		int rc = strvec_push(paths, p);
		if (rc < 0) {
			strvec_clear(paths);
			return rc;
		}
	}
	return SCOUT_OK;
}

int scout_files_in_dir(scout_strlist **out, const char *path)
{
	if (!out)
		return scout__error(SCOUT_EINVAL, "files_in_dir: out is NULL");
	*out = NULL;
	strvec names = {0};
	char *absdir;
	int rc = list_dir(&names, &absdir, path, 0);
	if (rc < 0)
		return rc;
	free(absdir);
	return strvec_finish(out, &names);
}

int scout_tifs_in_dir(scout_strlist **paths_out, scout_strlist **names_out, const char *path)
{
	if (!paths_out)
		return scout__error(SCOUT_EINVAL, "tifs_in_dir: paths_out is NULL");
	*paths_out = NULL;
	if (names_out)
		*names_out = NULL;
	strvec names = {0}, paths = {0};
	char *absdir;
	int rc = list_dir(&names, &absdir, path, 1);
	if (rc < 0)
		return rc;
	rc = make_paths(&paths, &names, absdir);
	free(absdir);
	if (rc < 0) {
		strvec_clear(&names);
		return rc;
	}
	scout_strlist *pl = NULL, *nl = NULL;
	rc = strvec_finish(&pl, &paths);
	if (rc < 0) {
		strvec_clear(&names);
		return rc;
	}
	if (names_out) {
		rc = strvec_finish(&nl, &names);
		if (rc < 0) {
			scout_strlist_free(pl);
			return rc;
		}
		*names_out = nl;
	} else {
		strvec_clear(&names);
	}
	*paths_out = pl;
	return SCOUT_OK;
}

/* Largest voxel-size file accepted: one line of integers is far shorter. */
#define VOXEL_FILE_MAX 65536

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

int scout_read_voxel_size(double *size_out, int *count_out, int max_count, const char *path)
{
	if (!size_out || !count_out || !path)
		return scout__error(SCOUT_EINVAL, "read_voxel_size: NULL argument");
	*count_out = 0;
	if (max_count <= 0)
		return scout__error(SCOUT_EINVAL, "read_voxel_size: max_count must be >= 1, got %d",
				    max_count);
	FILE *f = fopen(path, "rb");
	if (!f)
		return scout__error(errno == ENOENT ? SCOUT_ENOTFOUND : SCOUT_EIO, "%s: %s", path,
				    strerror(errno));
	char *buf = malloc(VOXEL_FILE_MAX + 1);
	if (!buf) {
		fclose(f);
		return scout__error(SCOUT_ENOMEM, "%s: out of memory", path);
	}
	size_t n = fread(buf, 1, VOXEL_FILE_MAX + 1, f);
	int rerr = ferror(f);
	fclose(f);
	if (rerr) {
		free(buf);
		return scout__error(SCOUT_EIO, "%s: read error", path);
	}
	if (n > VOXEL_FILE_MAX) {
		free(buf);
		return scout__error(SCOUT_EFORMAT,
				    "%s: larger than %d bytes, not a one-line voxel-size CSV", path,
				    VOXEL_FILE_MAX);
	}
	buf[n] = '\0';
	if (memchr(buf, '\0', n)) {
		free(buf);
		return scout__error(SCOUT_EFORMAT, "%s: binary content (NUL byte), expected CSV",
				    path);
	}
	/* trim surrounding whitespace (including the trailing newline) */
	char *s = buf, *e = buf + n;
	while (s < e && is_space(*s))
		s++;
	while (e > s && is_space(e[-1]))
		e--;
	*e = '\0';
	if (s == e) {
		free(buf);
		return scout__error(SCOUT_EFORMAT, "%s: empty file, expected one line of integers",
				    path);
	}
	if (strchr(s, '\n')) {
		free(buf);
		return scout__error(SCOUT_EFORMAT, "%s: more than one line, expected one CSV line",
				    path);
	}
	int count = 0, rc = SCOUT_OK;
	char *field = s;
	for (;;) {
		char *comma = strchr(field, ',');
		if (comma)
			*comma = '\0';
		char *fs = field, *fe = field + strlen(field);
		while (fs < fe && is_space(*fs))
			fs++;
		while (fe > fs && is_space(fe[-1]))
			fe--;
		*fe = '\0';
		if (count >= max_count) {
			rc = scout__error(SCOUT_EFORMAT,
					  "%s: field %d (\"%s\"): more than %d fields", path,
					  count + 1, fs, max_count);
			break;
		}
		const char *d = fs;
		if (*d == '+' || *d == '-')
			d++;
		int ok = *d != '\0';
		for (const char *q = d; *q; q++)
			if (*q < '0' || *q > '9')
				ok = 0;
		long long v = 0;
		if (ok) {
			errno = 0;
			v = strtoll(fs, NULL, 10);
			if (errno == ERANGE)
				ok = 0;
		}
		if (!ok) {
			rc = scout__error(SCOUT_EFORMAT,
					  "%s: field %d (\"%s\") is not an integer (nanometres)",
					  path, count + 1, fs);
			break;
		}
		size_out[count++] = (double)v / 1000.0;
		if (!comma)
			break;
		field = comma + 1;
	}
	free(buf);
	if (rc < 0)
		return rc;
	*count_out = count;
	return SCOUT_OK;
}
