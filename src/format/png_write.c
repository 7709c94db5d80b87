/*
 * PNG files through libpng, written atomically: a temporary beside the path,
 * flushed (and fsync'ed when SCOUT_FSYNC=1, as the stores do), then renamed over
 * it; on any error the temporary is removed.
 */
#include <errno.h>
#include <png.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/internal.h"
#include "scout/preview.h"

static atomic_uint png_counter;

/* libpng's error callback: keep the message, then leave through setjmp */
static void png_fail(png_structp png, png_const_charp msg)
{
	char *buf = png_get_error_ptr(png);
	if (buf)
		snprintf(buf, 256, "%s", msg);
	png_longjmp(png, 1);
}

static void png_warn(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg;
}

/* write the image to an open FILE; 0 or a scout error */
static int write_png(FILE *f, const char *path, const void *pixels, int64_t height, int64_t width,
		     int channels, int depth)
{
	char msg[256] = "";
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, msg, png_fail, png_warn);
	if (!png)
		return scout__error(SCOUT_ENOMEM, "%s: cannot create a PNG writer", path);
	png_infop info = png_create_info_struct(png);
	if (!info) {
		png_destroy_write_struct(&png, NULL);
		return scout__error(SCOUT_ENOMEM, "%s: cannot create a PNG writer", path);
	}
	/* rows: pointers into pixels (no copy); libpng swaps 16-bit samples */
	png_bytep *volatile rows = malloc((size_t)height * sizeof(png_bytep));
	if (!rows) {
		png_destroy_write_struct(&png, &info);
		return scout__error(SCOUT_ENOMEM, "%s: out of memory", path);
	}
	size_t rowbytes = (size_t)width * (size_t)channels * (size_t)(depth / 8);
	for (int64_t r = 0; r < height; r++)
		rows[r] = (png_bytep)pixels + (size_t)r * rowbytes;
	if (setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, &info);
		free(rows);
		return scout__error(SCOUT_EIO, "%s: writing PNG failed: %s%s%s", path, msg,
				    errno ? ": " : "", errno ? strerror(errno) : "");
	}
	png_init_io(png, f);
	png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, depth,
		     channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	uint16_t one = 1;
	if (depth == 16 && *(const unsigned char *)&one == 1)
		png_set_swap(png); /* PNG stores 16-bit samples big-endian */
	errno = 0;
	png_write_image(png, rows);
	png_write_end(png, info);
	png_destroy_write_struct(&png, &info);
	free(rows);
	return SCOUT_OK;
}

int scout_png_write(const char *path, const void *pixels, int64_t height, int64_t width,
		    int channels, int depth)
{
	if (!path || !pixels)
		return scout__error(SCOUT_EINVAL, "png write: NULL argument");
	if (height < 1 || width < 1 || height > INT32_MAX || width > INT32_MAX)
		return scout__error(SCOUT_EINVAL, "%s: PNG size %lldx%lld is not 1..2^31-1", path,
				    (long long)height, (long long)width);
	if ((channels != 1 && channels != 3) || (depth != 8 && depth != 16))
		return scout__error(SCOUT_EINVAL,
				    "%s: PNG with %d channels of %d bits (need 1 or 3, 8 or 16)",
				    path, channels, depth);
	if ((uint64_t)width * (uint64_t)channels * 2 > (uint64_t)PNG_UINT_31_MAX)
		return scout__error(SCOUT_EOVERFLOW, "%s: PNG rows of %lld pixels are too long",
				    path, (long long)width);
	char *tmp = NULL;
	if (asprintf(&tmp, "%s.tmp-%ld-%u", path, (long)getpid(),
		     atomic_fetch_add(&png_counter, 1)) < 0)
		return scout__error(SCOUT_ENOMEM, "png write: out of memory");
	FILE *f = fopen(tmp, "wbx");
	if (!f) {
		int e = errno;
		free(tmp);
		return scout__error(SCOUT_EIO, "%s: cannot create the PNG file: %s", path,
				    strerror(e));
	}
	int rc = write_png(f, path, pixels, height, width, channels, depth);
	/* durable before the rename only when asked, as the stores (SCOUT_FSYNC=1) */
	const char *sync = getenv("SCOUT_FSYNC");
	int want_sync = sync && !strcmp(sync, "1");
	if (rc == 0 && (fflush(f) != 0 || (want_sync && fsync(fileno(f)) != 0)))
		rc = scout__error(SCOUT_EIO, "%s: writing PNG failed: %s", path, strerror(errno));
	if (fclose(f) != 0 && rc == 0)
		rc = scout__error(SCOUT_EIO, "%s: writing PNG failed: %s", path, strerror(errno));
	if (rc == 0 && rename(tmp, path) != 0)
		rc = scout__error(SCOUT_EIO, "%s: cannot rename the PNG into place: %s", path,
				  strerror(errno));
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	return rc;
}
