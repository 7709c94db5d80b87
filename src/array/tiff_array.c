/*
 * The TIFF backends, read-only:
 *   "tiff"       one TIFF file: 2-D for one page, (z, y, x) for several pages
 *                (chunks: single pages);
 *   "tiff-stack" a folder of 2-D TIFF slices in scout_tifs_in_dir() order,
 *                (z, y, x) with single-slice chunks, decoded lazily.
 *
 * No libtiff handle is kept: every read opens the files it needs, so reads
 * are safe from any number of threads and from forked processes, and decode
 * only the pages (slices) and strips/tiles the box touches.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scout/files.h"
#include "chunk_runner.h"
#include "core/prefault.h"
#include "core/workpool.h"
#include "format/tiff.h"
#include "tiff_array.h"

typedef struct {
	char *path;            /* the file (kind "tiff") or the folder ("tiff-stack") */
	scout_strlist *slices; /* tiff-stack: the slice files */
	scout__tiff_page page; /* layout of page 0 / the first slice; every page must match */
	long npages;           /* kind "tiff": number of pages */
} tiff_impl;

static void tiff_destroy(scout_array *arr)
{
	tiff_impl *t = arr->impl;
	if (!t)
		return;
	free(t->path);
	scout_strlist_free(t->slices);
	free(t);
	arr->impl = NULL;
}

/* the page's layout must equal the reference one (shape and dtype) */
static int check_same(scout__tiff_file *f, const scout__tiff_page *ref, const scout__tiff_page *pg,
		      long page, const char *what)
{
	if (pg->width == ref->width && pg->height == ref->height && pg->dtype == ref->dtype)
		return SCOUT_OK;
	char pn[40] = "";
	if (page >= 0)
		snprintf(pn, sizeof pn, " page %ld", page);
	return scout__error(
	    SCOUT_EFORMAT, "%s%s: shape (%u, %u) dtype %s differs from %s: (%u, %u) dtype %s",
	    f->path, pn, (unsigned)pg->height, (unsigned)pg->width, scout_dtype_name(pg->dtype),
	    what, (unsigned)ref->height, (unsigned)ref->width, scout_dtype_name(ref->dtype));
}

static int box_plane_read(scout__tiff_file *f, const scout__tiff_page *pg, long page, void *dst,
			  const int64_t *start, const int64_t *stop)
{
	return scout__tiff_page_read(f, pg, page, dst, (uint32_t)start[0], (uint32_t)stop[0],
				     (uint32_t)start[1], (uint32_t)stop[1]);
}

static int file_read(scout_array *arr, void *dst, const int64_t *start, const int64_t *stop)
{
	tiff_impl *t = arr->impl;
	scout__tiff_file f;
	int rc = scout__tiff_file_open(&f, t->path, "r");
	if (rc < 0)
		return rc;
	if (arr->ndim == 2) {
		rc = box_plane_read(&f, &t->page, -1, dst, start, stop);
		scout__tiff_file_close(&f);
		return rc;
	}
	size_t plane = (size_t)(stop[1] - start[1]) * (size_t)(stop[2] - start[2]) * arr->itemsize;
	for (int64_t z = start[0]; z < stop[0] && rc == SCOUT_OK; z++) {
		f.msg[0] = '\0';
		if (!TIFFSetDirectory(f.tif, (tdir_t)z)) {
			rc = scout__tiff_error(&f, SCOUT_EFORMAT, "cannot read page %lld",
					       (long long)z);
			break;
		}
		scout__tiff_page pg;
		rc = scout__tiff_page_info(&pg, &f, (long)z);
		if (rc == SCOUT_OK)
			rc = check_same(&f, &t->page, &pg, (long)z, "page 0");
		if (rc == SCOUT_OK)
			rc = box_plane_read(&f, &pg, (long)z,
					    (char *)dst + (size_t)(z - start[0]) * plane, start + 1,
					    stop + 1);
	}
	scout__tiff_file_close(&f);
	return rc;
}

/* open one slice of a stack and check it is a single 2-D page like the first slice */
static int slice_open(scout__tiff_file *f, scout__tiff_page *pg, const tiff_impl *t, size_t z)
{
	const char *path = scout_strlist_get(t->slices, z);
	int rc = scout__tiff_file_open(f, path, "r");
	if (rc < 0)
		return rc;
	rc = scout__tiff_page_info(pg, f, -1);
	if (rc == SCOUT_OK && !TIFFLastDirectory(f->tif))
		rc = scout__error(SCOUT_EFORMAT,
				  "%s: a multi-page TIFF; a folder of TIFFs must hold 2-D slices",
				  path);
	if (rc == SCOUT_OK && z > 0) {
		char what[600];
		snprintf(what, sizeof what, "the first slice %s", scout_strlist_get(t->slices, 0));
		rc = check_same(f, &t->page, pg, -1, what);
	}
	if (rc < 0)
		scout__tiff_file_close(f);
	return rc;
}

/* One box of a stack (the payload of slice_read). */
typedef struct {
	const tiff_impl *t;
	char *dst;
	const int64_t *start, *stop;
	size_t plane; /* bytes of one slice of the box */
} stack_box;

/* read slice start[0] + item of the box into its plane of dst */
static int slice_read(size_t item, void *payload)
{
	const stack_box *b = payload;
	int64_t z = b->start[0] + (int64_t)item;
	scout__tiff_file f;
	scout__tiff_page pg;
	int rc = slice_open(&f, &pg, b->t, (size_t)z);
	if (rc < 0)
		return rc;
	rc = box_plane_read(&f, &pg, -1, b->dst + item * b->plane, b->start + 1, b->stop + 1);
	scout__tiff_file_close(&f);
	if (rc < 0)
		return scout__error_prefix(rc, "slice %lld: ", (long long)z);
	return SCOUT_OK;
}

/*
 * Slices are independent files: a box of several slices reads them in
 * parallel on the I/O pool (chunk_runner.h), each into its own plane of dst.
 */
static int stack_read(scout_array *arr, void *dst, const int64_t *start, const int64_t *stop)
{
	stack_box b = {arr->impl, dst, start, stop,
		       (size_t)(stop[1] - start[1]) * (size_t)(stop[2] - start[2]) * arr->itemsize};
	size_t n = (size_t)(stop[0] - start[0]);
	if (scout__chunks_parallel(n, n * b.plane)) {
		scout__prefault(dst, n * b.plane);
		return scout__workpool_run(n, slice_read, &b, NULL);
	}
	for (size_t i = 0; i < n; i++) {
		int rc = slice_read(i, &b);
		if (rc < 0)
			return rc;
	}
	return SCOUT_OK;
}

static const scout_array_ops file_ops = {
    .kind = "tiff",
    .read = file_read,
    .destroy = tiff_destroy,
};

static const scout_array_ops stack_ops = {
    .kind = "tiff-stack",
    .read = stack_read,
    .destroy = tiff_destroy,
};

int scout__is_tiff_file(const char *path)
{
	struct stat st;
	if (!path || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	unsigned char h[4];
	ssize_t n = read(fd, h, sizeof h);
	close(fd);
	if (n != 4)
		return 0;
	return (h[0] == 'I' && h[1] == 'I' && (h[2] == 42 || h[2] == 43) && h[3] == 0) ||
	       (h[0] == 'M' && h[1] == 'M' && h[2] == 0 && (h[3] == 42 || h[3] == 43));
}

static int open_file(scout_array **out, const char *path)
{
	scout__tiff_file f;
	int rc = scout__tiff_file_open(&f, path, "r");
	if (rc < 0)
		return rc;
	tiff_impl *t = calloc(1, sizeof *t);
	if (!t) {
		scout__tiff_file_close(&f);
		return scout__error(SCOUT_ENOMEM, "%s: out of memory", path);
	}
	rc = scout__tiff_page_info(&t->page, &f, 0);
	/* walk the pages: every one must have the first page's shape and dtype */
	long n = 1;
	while (rc == SCOUT_OK && !TIFFLastDirectory(f.tif)) {
		f.msg[0] = '\0';
		if (!TIFFReadDirectory(f.tif)) {
			rc = scout__tiff_error(&f, SCOUT_EFORMAT, "cannot read page %ld", n);
			break;
		}
		scout__tiff_page pg;
		rc = scout__tiff_page_info(&pg, &f, n);
		if (rc == SCOUT_OK)
			rc = check_same(&f, &t->page, &pg, n, "page 0");
		n++;
	}
	scout__tiff_file_close(&f);
	t->npages = n;
	t->path = rc == SCOUT_OK ? scout__strdup(path) : NULL;
	if (rc == SCOUT_OK && !t->path)
		rc = SCOUT_ENOMEM;
	if (rc < 0) {
		free(t->path);
		free(t);
		return rc;
	}
	scout_array *a;
	if (n == 1) {
		int64_t shape[2] = {t->page.height, t->page.width};
		rc = scout__array_alloc(&a, &file_ops, 2, shape, NULL, t->page.dtype, 0);
	} else {
		int64_t shape[3] = {n, t->page.height, t->page.width};
		int64_t chunks[3] = {1, t->page.height, t->page.width};
		rc = scout__array_alloc(&a, &file_ops, 3, shape, chunks, t->page.dtype, 0);
	}
	if (rc < 0) {
		free(t->path);
		free(t);
		return scout__error_prefix(rc, "%s: ", path);
	}
	a->impl = t;
	*out = a;
	return SCOUT_OK;
}

static int open_stack(scout_array **out, const char *path)
{
	scout_strlist *slices = NULL;
	int rc = scout_tifs_in_dir(&slices, NULL, path);
	if (rc < 0)
		return rc;
	size_t n = scout_strlist_count(slices);
	if (n == 0) {
		scout_strlist_free(slices);
		return scout__error(SCOUT_EFORMAT,
				    "%s: not a Zarr array, and no .tif/.tiff files in the folder",
				    path);
	}
	tiff_impl *t = calloc(1, sizeof *t);
	if (!t) {
		scout_strlist_free(slices);
		return scout__error(SCOUT_ENOMEM, "%s: out of memory", path);
	}
	t->slices = slices;
	t->path = scout__strdup(path);
	if (!t->path) {
		tiff_destroy(&(scout_array){.impl = t});
		return SCOUT_ENOMEM;
	}
	/* the first slice gives shape and dtype; the others are checked when read */
	scout__tiff_file f;
	rc = slice_open(&f, &t->page, t, 0);
	if (rc < 0) {
		tiff_destroy(&(scout_array){.impl = t});
		return rc;
	}
	scout__tiff_file_close(&f);
	if (n > (size_t)INT64_MAX) {
		tiff_destroy(&(scout_array){.impl = t});
		return scout__error(SCOUT_EOVERFLOW, "%s: too many slices", path);
	}
	int64_t shape[3] = {(int64_t)n, t->page.height, t->page.width};
	int64_t chunks[3] = {1, t->page.height, t->page.width};
	scout_array *a;
	rc = scout__array_alloc(&a, &stack_ops, 3, shape, chunks, t->page.dtype, 0);
	if (rc < 0) {
		tiff_destroy(&(scout_array){.impl = t});
		return scout__error_prefix(rc, "%s: ", path);
	}
	a->impl = t;
	*out = a;
	return SCOUT_OK;
}

int scout__tiff_open(scout_array **out, const char *path, int mode)
{
	if (!out || !path)
		return scout__error(SCOUT_EINVAL, "tiff_open: NULL argument");
	*out = NULL;
	if (mode & SCOUT_MODE_WRITE)
		return scout__error(SCOUT_EREADONLY,
				    "%s: TIFF files and folders open read-only (SCOUT_MODE_READ)",
				    path);
	struct stat st;
	if (stat(path, &st) != 0)
		return scout__error(errno == ENOENT ? SCOUT_ENOTFOUND : SCOUT_EIO, "%s: %s", path,
				    strerror(errno));
	if (S_ISDIR(st.st_mode))
		return open_stack(out, path);
	return open_file(out, path);
}
