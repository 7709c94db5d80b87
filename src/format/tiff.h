/*
 * TIFF directories through libtiff: opening files with libtiff's messages
 * turned into scout errors, reading and validating one page's layout, and
 * decoding a 2-D box of a page from only the strips or tiles it touches.
 * Not installed.
 *
 * libtiff handles are not thread-safe: every scout__tiff_file belongs to one
 * thread at a time. The array backend opens one per read, so reads work from
 * any number of threads and from forked processes.
 */
#ifndef SCOUT_FORMAT_TIFF_H
#define SCOUT_FORMAT_TIFF_H

#include <stdint.h>
#include <tiffio.h>

#include "core/internal.h"

/* An open TIFF and the last message libtiff reported on it. */
typedef struct {
	TIFF *tif;
	const char *path; /* not owned */
	char msg[512];    /* libtiff's last error, "" if none */
} scout__tiff_file;

/*
 * Open path with libtiff (mode as TIFFOpen: "r", "w", "w8", ...), its error
 * messages captured in f->msg and its warnings silenced.
 * Errors: SCOUT_ENOTFOUND, SCOUT_EIO, SCOUT_EFORMAT (not a TIFF), naming the file.
 */
SCOUT_HIDDEN int scout__tiff_file_open(scout__tiff_file *f, const char *path, const char *mode);

/* The same on an open descriptor (owned by libtiff from then on, even on failure). */
SCOUT_HIDDEN int scout__tiff_file_fdopen(scout__tiff_file *f, int fd, const char *path,
					 const char *mode);

/* Close (NULL tif allowed). Returns SCOUT_EIO naming the file if libtiff failed to flush. */
SCOUT_HIDDEN int scout__tiff_file_close(scout__tiff_file *f);

/* Record code with "<path>: <message>[: <libtiff's message>]". */
SCOUT_HIDDEN int scout__tiff_error(scout__tiff_file *f, int code, const char *fmt, ...)
    SCOUT_PRINTF(3, 4);

/* The layout of one page (image file directory) with one sample per pixel. */
typedef struct {
	uint32_t width, height;
	scout_dtype dtype;
	int tiled;
	uint32_t block_w, block_h; /* tile size, or (width, rows per strip clipped to height) */
	size_t block_bytes;        /* bytes of one decoded tile/strip */
	uint16_t compression;
} scout__tiff_page;

/*
 * Read and validate the current directory of f: one sample per pixel, 8/16/32/64
 * bits, unsigned/signed integers or IEEE floats, a codec this libtiff has.
 * page is the 0-based page number used in messages (-1: do not name a page).
 * Errors: SCOUT_EFORMAT naming the file (and page), SCOUT_EOVERFLOW.
 */
SCOUT_HIDDEN int scout__tiff_page_info(scout__tiff_page *pg, scout__tiff_file *f, long page);

/*
 * Decode rows [y0, y1) and columns [x0, x1) of the current directory of f
 * (whose layout is pg) into dst, a C-contiguous (y1 - y0, x1 - x0) plane in
 * native byte order, decoding only the strips or tiles the box touches (and
 * decoding whole-width strips straight into dst).
 * Errors: SCOUT_ECODEC / SCOUT_EFORMAT / SCOUT_ENOMEM naming the file and page.
 */
SCOUT_HIDDEN int scout__tiff_page_read(scout__tiff_file *f, const scout__tiff_page *pg, long page,
				       void *dst, uint32_t y0, uint32_t y1, uint32_t x0,
				       uint32_t x1);

#endif
