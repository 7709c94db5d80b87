/*
 * scout_tiff_write(): a 2-D array as one page or a 3-D array as pages, read
 * from any scout_array one plane at a time, written under a temporary name
 * beside the target and renamed into place when complete.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scout/tiff.h"
#include "array_impl.h"
#include "../format/tiff.h"

/* Above this many pixel bytes a classic TIFF (32-bit offsets) may not hold the file. */
#define CLASSIC_LIMIT ((size_t)0xF0000000u)

/* Target decoded bytes per strip. */
#define STRIP_BYTES ((size_t)256 * 1024)

static int sample_format(uint16_t *fmt, uint16_t *bits, scout_dtype d)
{
	switch (d) {
	case SCOUT_BOOL:
	case SCOUT_UINT8:
	case SCOUT_UINT16:
	case SCOUT_UINT32:
	case SCOUT_UINT64:
		*fmt = SAMPLEFORMAT_UINT;
		break;
	case SCOUT_INT8:
	case SCOUT_INT16:
	case SCOUT_INT32:
	case SCOUT_INT64:
		*fmt = SAMPLEFORMAT_INT;
		break;
	case SCOUT_FLOAT16:
	case SCOUT_FLOAT32:
	case SCOUT_FLOAT64:
		*fmt = SAMPLEFORMAT_IEEEFP;
		break;
	default:
		return 0;
	}
	*bits = (uint16_t)(scout_dtype_size(d) * 8);
	return 1;
}

static int write_page(scout__tiff_file *f, scout_array *arr, const scout_tiff_write_options *o,
		      int64_t z, int64_t npages, void *plane, uint16_t fmt, uint16_t bits)
{
	TIFF *tif = f->tif;
	int nd = arr->ndim;
	uint32_t h = (uint32_t)arr->shape[nd - 2], w = (uint32_t)arr->shape[nd - 1];
	size_t rowbytes = (size_t)w * arr->itemsize;
	uint32_t rps = (uint32_t)(STRIP_BYTES / rowbytes);
	if (rps < 1)
		rps = 1;
	if (rps > h)
		rps = h;
	char pn[48] = "";
	if (nd == 3)
		snprintf(pn, sizeof pn, " page %lld", (long long)z);

	/* read the plane from the array */
	int64_t start[3] = {0}, stop[3];
	if (nd == 3) {
		start[0] = z;
		stop[0] = z + 1;
	}
	stop[nd - 2] = h;
	stop[nd - 1] = w;
	int rc = scout_extract_box(plane, arr, start, stop);
	if (rc < 0)
		return scout__error_prefix(rc, "%s: reading%s from the array: ", f->path, pn);

	uint16_t comp = o->compression == SCOUT_TIFF_DEFLATE ? COMPRESSION_ADOBE_DEFLATE
			: o->compression == SCOUT_TIFF_ZSTD  ? COMPRESSION_ZSTD
							     : COMPRESSION_NONE;
	int ok = TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, w) &&
		 TIFFSetField(tif, TIFFTAG_IMAGELENGTH, h) &&
		 TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, (uint16_t)1) &&
		 TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, bits) &&
		 TIFFSetField(tif, TIFFTAG_SAMPLEFORMAT, fmt) &&
		 TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, (uint16_t)PHOTOMETRIC_MINISBLACK) &&
		 TIFFSetField(tif, TIFFTAG_PLANARCONFIG, (uint16_t)PLANARCONFIG_CONTIG) &&
		 TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, rps) &&
		 TIFFSetField(tif, TIFFTAG_COMPRESSION, comp);
	if (ok && nd == 3)
		ok = TIFFSetField(tif, TIFFTAG_SUBFILETYPE, (uint32_t)FILETYPE_PAGE) &&
		     TIFFSetField(tif, TIFFTAG_PAGENUMBER, (uint16_t)(z > 65535 ? 65535 : z),
				  (uint16_t)(npages > 65535 ? 65535 : npages));
	if (ok && o->level > 0 && comp == COMPRESSION_ADOBE_DEFLATE)
		ok = TIFFSetField(tif, TIFFTAG_ZIPQUALITY, o->level > 9 ? 9 : o->level);
	if (ok && o->level > 0 && comp == COMPRESSION_ZSTD)
		ok = TIFFSetField(tif, TIFFTAG_ZSTD_LEVEL, o->level > 22 ? 22 : o->level);
	if (!ok)
		return scout__tiff_error(f, SCOUT_EIO, "%s: cannot set the TIFF tags", pn);

	if (arr->dtype == SCOUT_BOOL) { /* stored as 0/1 bytes */
		unsigned char *p = plane;
		for (size_t i = 0; i < (size_t)h * w; i++)
			p[i] = p[i] != 0;
	}
	uint32_t nstrips = (h + rps - 1) / rps;
	for (uint32_t s = 0; s < nstrips; s++) {
		uint32_t rows = h - s * rps < rps ? h - s * rps : rps;
		char *src = (char *)plane + (size_t)s * rps * rowbytes;
		if (TIFFWriteEncodedStrip(tif, s, src, (tmsize_t)((size_t)rows * rowbytes)) < 0)
			return scout__tiff_error(f, SCOUT_EIO, "%s: cannot write strip %u", pn,
						 (unsigned)s);
	}
	if (!TIFFWriteDirectory(tif))
		return scout__tiff_error(f, SCOUT_EIO, "%s: cannot write the directory", pn);
	return SCOUT_OK;
}

int scout_tiff_write(const char *path, scout_array *arr, const scout_tiff_write_options *opts)
{
	scout_tiff_write_options o = SCOUT_TIFF_WRITE_OPTIONS_INIT;
	if (!path || !arr)
		return scout__error(SCOUT_EINVAL, "tiff_write: NULL argument");
	if (opts) {
		if (opts->version != SCOUT_TIFF_WRITE_OPTIONS_VERSION)
			return scout__error(SCOUT_EINVAL,
					    "tiff_write: options version %u, expected %u",
					    opts->version, SCOUT_TIFF_WRITE_OPTIONS_VERSION);
		o = *opts;
	}
	if (o.compression != SCOUT_TIFF_NONE && o.compression != SCOUT_TIFF_DEFLATE &&
	    o.compression != SCOUT_TIFF_ZSTD)
		return scout__error(SCOUT_EINVAL, "%s: unknown TIFF compression %d", path,
				    (int)o.compression);
	if (o.compression == SCOUT_TIFF_ZSTD && !TIFFIsCODECConfigured(COMPRESSION_ZSTD))
		return scout__error(SCOUT_EUNSUPPORTED, "%s: this libtiff cannot write zstd", path);
	if (o.level < 0)
		return scout__error(SCOUT_EINVAL, "%s: negative compression level %d", path,
				    o.level);
	int nd = arr->ndim;
	if (nd != 2 && nd != 3)
		return scout__error(
		    SCOUT_EINVAL, "%s: a TIFF holds 2-D or 3-D (pages) arrays, not %d-D", path, nd);
	uint16_t fmt, bits;
	if (!sample_format(&fmt, &bits, arr->dtype))
		return scout__error(SCOUT_EUNSUPPORTED, "%s: dtype %s cannot be written as TIFF",
				    path, scout_dtype_name(arr->dtype));
	for (int i = 0; i < nd; i++)
		if (arr->shape[i] < 1 || arr->shape[i] > (int64_t)UINT32_MAX)
			return scout__error(SCOUT_EINVAL,
					    "%s: extent %lld of axis %d cannot be written as "
					    "TIFF (1 .. 2^32-1)",
					    path, (long long)arr->shape[i], i);
	size_t plane_bytes;
	int rc = scout__shape_size(NULL, &plane_bytes, 2, arr->shape + nd - 2, arr->itemsize);
	if (rc < 0)
		return scout__error_prefix(rc, "%s: ", path);
	void *plane = malloc(plane_bytes);
	if (!plane)
		return scout__error(SCOUT_ENOMEM, "%s: cannot allocate a plane of %zu bytes", path,
				    plane_bytes);

	/* temporary file beside path, renamed when complete */
	static atomic_uint counter;
	size_t plen = strlen(path);
	char *tmp = malloc(plen + 64);
	if (!tmp) {
		free(plane);
		return scout__error(SCOUT_ENOMEM, "%s: out of memory", path);
	}
	int fd = -1;
	for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
		snprintf(tmp, plen + 64, "%s.tmp-%ld-%u", path, (long)getpid(),
			 atomic_fetch_add(&counter, 1));
		fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		rc = scout__error(errno == ENOENT ? SCOUT_ENOTFOUND : SCOUT_EIO,
				  "%s: cannot create a temporary file beside it: %s", path,
				  strerror(errno));
		free(tmp);
		free(plane);
		return rc;
	}
	int big = o.bigtiff || arr->nbytes > CLASSIC_LIMIT;
	scout__tiff_file f;
	rc = scout__tiff_file_fdopen(&f, fd, path, big ? "w8" : "w");
	int64_t npages = nd == 3 ? arr->shape[0] : 1;
	for (int64_t z = 0; rc == SCOUT_OK && z < npages; z++)
		rc = write_page(&f, arr, &o, z, npages, plane, fmt, bits);
	if (f.tif) {
		if (rc == SCOUT_OK)
			rc = scout__tiff_file_close(&f);
		else
			scout__tiff_file_close(&f);
	}
	if (rc == SCOUT_OK && rename(tmp, path) != 0)
		rc = scout__error(SCOUT_EIO,
				  "%s: cannot rename the temporary file %s into place: %s", path,
				  tmp, strerror(errno));
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	free(plane);
	return rc;
}
