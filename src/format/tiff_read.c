/*
 * TIFF directories through libtiff: opening with captured messages, page
 * layout validation and box decoding from strips or tiles.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tiff.h"

/*
 * Messages that libtiff sends to its global handlers (code paths without a
 * handle) land here, per thread, instead of on stderr.
 */
static _Thread_local char global_msg[512];
static pthread_once_t handlers_once = PTHREAD_ONCE_INIT;

static void global_error(const char *module, const char *fmt, va_list ap)
{
	char text[400];
	vsnprintf(text, sizeof text, fmt, ap);
	snprintf(global_msg, sizeof global_msg, "%s%s%s", module ? module : "", module ? ": " : "",
		 text);
}

static void install_handlers(void)
{
	TIFFSetWarningHandler(NULL);
	TIFFSetErrorHandler(global_error);
}

/* per-handle error handler: keep the first message (the cause) until cleared */
static int handle_error(TIFF *tif, void *user_data, const char *module, const char *fmt, va_list ap)
{
	(void)tif;
	scout__tiff_file *f = user_data;
	if (f->msg[0])
		return 1;
	char text[400];
	vsnprintf(text, sizeof text, fmt, ap);
	snprintf(f->msg, sizeof f->msg, "%s%s%s", module ? module : "", module ? ": " : "", text);
	return 1;
}

static int handle_warning(TIFF *tif, void *user_data, const char *module, const char *fmt,
			  va_list ap)
{
	(void)tif;
	(void)user_data;
	(void)module;
	(void)fmt;
	(void)ap;
	return 1; /* silenced */
}

int scout__tiff_error(scout__tiff_file *f, int code, const char *fmt, ...)
{
	char text[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	const char *lib = f->msg[0] ? f->msg : global_msg;
	/* text may start with " page N: ..." to follow the path directly */
	const char *sep = text[0] == ' ' ? "" : ": ";
	if (lib[0])
		return scout__error(code, "%s%s%s (libtiff: %s)", f->path, sep, text, lib);
	return scout__error(code, "%s%s%s", f->path, sep, text);
}

static TIFFOpenOptions *make_options(scout__tiff_file *f)
{
	pthread_once(&handlers_once, install_handlers);
	global_msg[0] = '\0';
	f->msg[0] = '\0';
	TIFFOpenOptions *o = TIFFOpenOptionsAlloc();
	if (!o)
		return NULL;
	TIFFOpenOptionsSetErrorHandlerExtR(o, handle_error, f);
	TIFFOpenOptionsSetWarningHandlerExtR(o, handle_warning, f);
	return o;
}

int scout__tiff_file_open(scout__tiff_file *f, const char *path, const char *mode)
{
	f->tif = NULL;
	f->path = path;
	TIFFOpenOptions *o = make_options(f);
	if (!o)
		return scout__error(SCOUT_ENOMEM, "%s: out of memory opening the TIFF", path);
	errno = 0;
	/* 'm': read with read(2), not through a memory map of the file. Mapped pages
	 * fault in one by one when first read (costly on virtual machines), and
	 * uncompressed strips are then read straight into the caller's buffer. */
	f->tif = TIFFOpenExt(path, !strcmp(mode, "r") ? "rm" : mode, o);
	int e = errno;
	TIFFOpenOptionsFree(o);
	if (f->tif)
		return SCOUT_OK;
	if (mode[0] == 'r') {
		struct stat st;
		if (stat(path, &st) != 0)
			return scout__error(errno == ENOENT ? SCOUT_ENOTFOUND : SCOUT_EIO, "%s: %s",
					    path, strerror(errno));
		if (e == EACCES)
			return scout__error(SCOUT_EIO, "%s: %s", path, strerror(e));
		return scout__tiff_error(f, SCOUT_EFORMAT, "cannot open as a TIFF");
	}
	return scout__tiff_error(f, SCOUT_EIO, "cannot create the TIFF");
}

int scout__tiff_file_fdopen(scout__tiff_file *f, int fd, const char *path, const char *mode)
{
	f->tif = NULL;
	f->path = path;
	TIFFOpenOptions *o = make_options(f);
	if (!o) {
		close(fd);
		return scout__error(SCOUT_ENOMEM, "%s: out of memory opening the TIFF", path);
	}
	f->tif = TIFFFdOpenExt(fd, path, mode, o);
	TIFFOpenOptionsFree(o);
	if (!f->tif) {
		close(fd);
		return scout__tiff_error(f, SCOUT_EIO, "cannot open the TIFF");
	}
	return SCOUT_OK;
}

int scout__tiff_file_close(scout__tiff_file *f)
{
	if (!f->tif)
		return SCOUT_OK;
	int rc = SCOUT_OK;
	if (TIFFGetMode(f->tif) != O_RDONLY && !TIFFFlush(f->tif))
		rc = scout__tiff_error(f, SCOUT_EIO, "cannot write the TIFF");
	TIFFClose(f->tif);
	f->tif = NULL;
	return rc;
}

/* " page N" for messages, or "" */
static const char *page_name(char *buf, size_t n, long page)
{
	if (page < 0)
		buf[0] = '\0';
	else
		snprintf(buf, n, " page %ld", page);
	return buf;
}

static int to_dtype(scout_dtype *out, uint16_t fmt, uint16_t bits)
{
	switch (fmt) {
	case SAMPLEFORMAT_UINT:
	case SAMPLEFORMAT_VOID:
		*out = bits == 8    ? SCOUT_UINT8
		       : bits == 16 ? SCOUT_UINT16
		       : bits == 32 ? SCOUT_UINT32
				    : SCOUT_UINT64;
		return 1;
	case SAMPLEFORMAT_INT:
		*out = bits == 8    ? SCOUT_INT8
		       : bits == 16 ? SCOUT_INT16
		       : bits == 32 ? SCOUT_INT32
				    : SCOUT_INT64;
		return 1;
	case SAMPLEFORMAT_IEEEFP:
		if (bits == 8)
			return 0;
		*out = bits == 16 ? SCOUT_FLOAT16 : bits == 32 ? SCOUT_FLOAT32 : SCOUT_FLOAT64;
		return 1;
	default:
		return 0;
	}
}

int scout__tiff_page_info(scout__tiff_page *pg, scout__tiff_file *f, long page)
{
	TIFF *tif = f->tif;
	char pn[40];
	page_name(pn, sizeof pn, page);
	memset(pg, 0, sizeof *pg);
	uint32_t w = 0, h = 0, depth = 1;
	uint16_t spp = 1, bits = 1, fmt = SAMPLEFORMAT_UINT, comp = COMPRESSION_NONE;
	if (!TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &w) ||
	    !TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &h))
		return scout__tiff_error(f, SCOUT_EFORMAT, "%s has no image width or length", pn);
	TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &spp);
	TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bits);
	TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &fmt);
	TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &comp);
	TIFFGetFieldDefaulted(tif, TIFFTAG_IMAGEDEPTH, &depth);
	if (spp != 1) {
		uint16_t photo = 0;
		TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photo);
		return scout__tiff_error(f, SCOUT_EFORMAT,
					 "%s has %u samples per pixel%s; only one sample per pixel "
					 "(grayscale) is supported",
					 pn[0] ? pn + 1 : "image", (unsigned)spp,
					 photo == PHOTOMETRIC_RGB     ? " (RGB)"
					 : photo == PHOTOMETRIC_YCBCR ? " (YCbCr)"
								      : "");
	}
	if (bits != 8 && bits != 16 && bits != 32 && bits != 64)
		return scout__tiff_error(f, SCOUT_EFORMAT,
					 "%s has %u bits per sample%s; only 8, 16, 32 or 64 are "
					 "supported",
					 pn[0] ? pn + 1 : "image", (unsigned)bits,
					 bits == 1 ? " (bilevel)" : "");
	if (!to_dtype(&pg->dtype, fmt, bits))
		return scout__tiff_error(
		    f, SCOUT_EFORMAT,
		    "%s has sample format %u with %u bits; only unsigned/signed "
		    "integers and IEEE floats are supported",
		    pn[0] ? pn + 1 : "image", (unsigned)fmt, (unsigned)bits);
	if (depth != 1)
		return scout__tiff_error(f, SCOUT_EFORMAT,
					 "%s has image depth %u; only 2-D pages are supported",
					 pn[0] ? pn + 1 : "image", (unsigned)depth);
	if (w == 0 || h == 0)
		return scout__tiff_error(f, SCOUT_EFORMAT, "%s is empty (%u x %u)",
					 pn[0] ? pn + 1 : "image", (unsigned)w, (unsigned)h);
	if (!TIFFIsCODECConfigured(comp))
		return scout__tiff_error(f, SCOUT_EFORMAT,
					 "%s uses compression %u, which this libtiff cannot decode",
					 pn[0] ? pn + 1 : "image", (unsigned)comp);
	size_t itemsize = scout_dtype_size(pg->dtype);
	pg->width = w;
	pg->height = h;
	pg->compression = comp;
	pg->tiled = TIFFIsTiled(tif);
	uint64_t libsize;
	if (pg->tiled) {
		uint32_t tw = 0, tl = 0;
		if (!TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tw) ||
		    !TIFFGetField(tif, TIFFTAG_TILELENGTH, &tl) || tw == 0 || tl == 0)
			return scout__tiff_error(f, SCOUT_EFORMAT, "%s has an invalid tile size",
						 pn[0] ? pn + 1 : "image");
		/*
		 * Tiles beyond the image (rounded up to 16, or 4096 for small
		 * images) only make reads allocate for samples that do not exist:
		 * a 1 x 1 image with 65536 x 65536 tiles would need 4 GiB per tile.
		 */
		uint32_t wmax = w > 4096 - 15 ? (uint32_t)(((uint64_t)w + 15) / 16 * 16) : 4096;
		uint32_t hmax = h > 4096 - 15 ? (uint32_t)(((uint64_t)h + 15) / 16 * 16) : 4096;
		if (tw > wmax || tl > hmax)
			return scout__tiff_error(f, SCOUT_EFORMAT,
						 "%s has %u x %u tiles, larger than the %u x %u "
						 "image needs",
						 pn[0] ? pn + 1 : "image", (unsigned)tl,
						 (unsigned)tw, (unsigned)h, (unsigned)w);
		pg->block_w = tw;
		pg->block_h = tl;
		libsize = TIFFTileSize64(tif);
	} else {
		uint32_t rps = 0;
		TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &rps);
		if (rps == 0 || rps > h)
			rps = h;
		pg->block_w = w;
		pg->block_h = rps;
		libsize = TIFFVStripSize64(tif, rps);
	}
	size_t n;
	if (scout__mul_size(&n, pg->block_w, pg->block_h, f->path) < 0 ||
	    scout__mul_size(&pg->block_bytes, n, itemsize, f->path) < 0 ||
	    pg->block_bytes > (size_t)INT64_MAX)
		return scout__error_prefix(SCOUT_EOVERFLOW, "%s%s: ", f->path, pn);
	/* what one decode needs at least: a row of a strip, or a whole tile */
	size_t unit = pg->tiled ? pg->block_bytes : (size_t)pg->block_w * itemsize;
	if (unit > SCOUT_TIFF_MAX_DECODE)
		return scout__tiff_error(f, SCOUT_EFORMAT,
					 "%s has %s of %zu bytes; more than %zu bytes per %s is "
					 "not supported",
					 pn[0] ? pn + 1 : "image", pg->tiled ? "tiles" : "rows",
					 unit, (size_t)SCOUT_TIFF_MAX_DECODE,
					 pg->tiled ? "tile" : "row");
	if (libsize != pg->block_bytes)
		return scout__tiff_error(f, SCOUT_EFORMAT,
					 "%s: a %s holds %llu bytes, expected %zu for %u x %u "
					 "samples of %zu bytes",
					 pn, pg->tiled ? "tile" : "strip",
					 (unsigned long long)libsize, pg->block_bytes,
					 (unsigned)pg->block_h, (unsigned)pg->block_w, itemsize);
	return SCOUT_OK;
}

/*
 * Strips are decoded row by row (TIFFReadScanline, one row of memory) when the
 * rows a box needs from one strip would take more than this; below it, in
 * one call (TIFFReadEncodedStrip, faster).
 */
#define SCOUT_TIFF_SCANLINE_OVER ((size_t)64 << 20)

/* Read the box [y0, y1) x [x0, x1) of a stripped page one row at a time. */
static int read_by_scanlines(scout__tiff_file *f, const scout__tiff_page *pg, const char *pn,
			     void *dst, uint32_t y0, uint32_t y1, uint32_t x0, uint32_t x1)
{
	size_t itemsize = scout_dtype_size(pg->dtype);
	size_t rowbytes = (size_t)pg->width * itemsize, outbytes = (size_t)(x1 - x0) * itemsize;
	unsigned char *row = malloc(rowbytes);
	if (!row)
		return scout__tiff_error(f, SCOUT_ENOMEM, "%scannot allocate %zu bytes for a row",
					 pn, rowbytes);
	int rc = SCOUT_OK;
	/* libtiff decodes a strip from its start: begin there */
	for (uint32_t y = y0 / pg->block_h * pg->block_h; y < y1; y++) {
		if (TIFFReadScanline(f->tif, row, y, 0) < 0) {
			rc = scout__tiff_error(f, SCOUT_ECODEC, "%scannot decode row %u", pn,
					       (unsigned)y);
			break;
		}
		if (y >= y0)
			memcpy((unsigned char *)dst + (size_t)(y - y0) * outbytes,
			       row + (size_t)x0 * itemsize, outbytes);
	}
	free(row);
	return rc;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

int scout__tiff_page_read(scout__tiff_file *f, const scout__tiff_page *pg, long page, void *dst,
			  uint32_t y0, uint32_t y1, uint32_t x0, uint32_t x1)
{
	TIFF *tif = f->tif;
	size_t itemsize = scout_dtype_size(pg->dtype);
	size_t rowbytes = (size_t)pg->width * itemsize; /* fits: block_bytes checked */
	char pn[40];
	if (page >= 0)
		snprintf(pn, sizeof pn, " page %ld: ", page);
	else
		pn[0] = '\0';
	int64_t dst_shape[2] = {(int64_t)(y1 - y0), (int64_t)(x1 - x0)};
	size_t blk_rowbytes = (size_t)pg->block_w * itemsize; /* fits: block_bytes checked */
	void *buf = NULL;
	int rc = SCOUT_OK;
	uint64_t by0 = (uint64_t)y0 / pg->block_h * pg->block_h;
	/*
	 * A strip or tile is decoded only down to the last row the box needs
	 * (libtiff stops at the size asked for), so the buffer holds at most
	 * that many rows: reading a corner of a page stored as one huge strip
	 * does not allocate the whole strip.
	 */
	size_t buf_rows = (size_t)min_u64(pg->block_h, (uint64_t)y1 - by0);
	uint64_t bx_first = (uint64_t)x0 / pg->block_w * pg->block_w;
	f->msg[0] = '\0';
	global_msg[0] = '\0';
	/* a strip only partly in the box is decoded into buf: too big, go row by row */
	int partial_strip = x0 != 0 || x1 != pg->width || y0 % pg->block_h != 0 ||
			    (y1 % pg->block_h != 0 && y1 != pg->height);
	if (!pg->tiled && partial_strip && buf_rows * blk_rowbytes > SCOUT_TIFF_SCANLINE_OVER)
		return read_by_scanlines(f, pg, pn, dst, y0, y1, x0, x1);
	for (uint64_t by = by0; by < y1; by += pg->block_h) {
		uint64_t rows = min_u64(pg->block_h, pg->height - by); /* rows in this block */
		for (uint64_t bx = bx_first; bx < x1; bx += pg->block_w) {
			uint64_t iy0 = max_u64(by, y0), iy1 = min_u64(by + rows, y1);
			uint64_t ix0 = max_u64(bx, x0), ix1 = min_u64(bx + pg->block_w, x1);
			if (!pg->tiled && x0 == 0 && x1 == pg->width && iy0 == by &&
			    iy1 == by + rows) {
				/* a whole strip inside the box: decode straight into dst */
				tmsize_t want = (tmsize_t)((size_t)rows * rowbytes);
				char *d = (char *)dst + (size_t)(by - y0) * rowbytes;
				uint32_t strip = TIFFComputeStrip(tif, (uint32_t)by, 0);
				tmsize_t got;
				if (pg->compression == COMPRESSION_NONE && itemsize <= 8) {
					/* stored as is: one read() into dst (libtiff would read
					 * into its buffer and copy), then the byte order */
					got = TIFFReadRawStrip(tif, strip, d, want);
					size_t unit = scout__dtype_swap_unit(pg->dtype);
					if (got == want && TIFFIsByteSwapped(tif) && unit > 1)
						scout__byteswap(d, (size_t)want / unit, unit);
				} else {
					got = TIFFReadEncodedStrip(tif, strip, d, want);
				}
				if (got < want) {
					rc = scout__tiff_error(f, SCOUT_ECODEC,
							       "%scannot decode the strip at row "
							       "%u",
							       pn, (unsigned)by);
					goto done;
				}
				continue;
			}
			if (!buf) {
				buf = malloc(buf_rows * blk_rowbytes);
				if (!buf) {
					rc = scout__tiff_error(f, SCOUT_ENOMEM,
							       "%scannot allocate %zu bytes for a "
							       "strip/tile",
							       pn, buf_rows * blk_rowbytes);
					goto done;
				}
			}
			size_t need = (size_t)(iy1 - by); /* rows decoded: <= buf_rows */
			tmsize_t want = (tmsize_t)(need * blk_rowbytes), got;
			if (pg->tiled)
				got = TIFFReadEncodedTile(
				    tif, TIFFComputeTile(tif, (uint32_t)bx, (uint32_t)by, 0, 0),
				    buf, want);
			else
				got = TIFFReadEncodedStrip(
				    tif, TIFFComputeStrip(tif, (uint32_t)by, 0), buf, want);
			if (got < want) {
				rc = scout__tiff_error(f, SCOUT_ECODEC,
						       "%scannot decode the %s at row %u, column "
						       "%u",
						       pn, pg->tiled ? "tile" : "strip",
						       (unsigned)by, (unsigned)bx);
				goto done;
			}
			int64_t src_off[2] = {(int64_t)(iy0 - by), (int64_t)(ix0 - bx)};
			int64_t dst_off[2] = {(int64_t)(iy0 - y0), (int64_t)(ix0 - x0)};
			int64_t ext[2] = {(int64_t)(iy1 - iy0), (int64_t)(ix1 - ix0)};
			int64_t blk_shape[2] = {(int64_t)need, (int64_t)pg->block_w};
			scout__copy_nd(dst, dst_shape, dst_off, buf, blk_shape, src_off, ext, 2,
				       itemsize);
		}
	}
done:
	free(buf);
	return rc;
}
