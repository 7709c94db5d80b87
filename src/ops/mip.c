/*
 * Maximum-intensity projection: the per-block kernel (scout_max_project) and
 * the map-reduce over an array's chunks (scout_mip): each piece is read and
 * projected in a worker, the partial projections are merged with an
 * element-wise maximum in the calling thread as they arrive.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ops_internal.h"
#include "scout/preview.h"

static int check_dtype(scout_dtype dtype, const char *what)
{
	if (dtype == SCOUT_COMPLEX64 || dtype == SCOUT_COMPLEX128)
		return scout__error(SCOUT_EUNSUPPORTED, "%s: complex dtype %s is not supported",
				    what, scout_dtype_name(dtype));
	if (!scout__max_dtype_ok(dtype))
		return scout__error(SCOUT_EINVAL, "%s: invalid dtype %d", what, (int)dtype);
	return SCOUT_OK;
}

int scout_max_project(void *out, const void *in, scout_dtype dtype, int ndim, const int64_t *shape,
		      int axis)
{
	int rc;
	if (!shape)
		return scout__error(SCOUT_EINVAL, "max project: NULL shape");
	if ((rc = scout__check_shape(ndim, shape, "max project")) < 0 ||
	    (rc = check_dtype(dtype, "max project")) < 0)
		return rc;
	if (axis < 0 || axis >= ndim)
		return scout__error(SCOUT_EINVAL, "max project: axis %d of a %d-D array", axis,
				    ndim);
	if (shape[axis] < 1)
		return scout__error(
		    SCOUT_EINVAL, "max project: axis %d is empty (the maximum of no values)", axis);
	size_t count, isz = scout_dtype_size(dtype);
	if ((rc = scout__shape_size(&count, NULL, ndim, shape, isz)) < 0)
		return rc;
	if (count == 0)
		return SCOUT_OK;
	if (!out || !in)
		return scout__error(SCOUT_EINVAL, "max project: NULL buffer");
	size_t outer = 1, len = (size_t)shape[axis], inner = 1;
	for (int i = 0; i < axis; i++)
		outer *= (size_t)shape[i];
	for (int i = axis + 1; i < ndim; i++)
		inner *= (size_t)shape[i];
	const unsigned char *src = in;
	unsigned char *dst = out;
	for (size_t o = 0; o < outer; o++) {
		const unsigned char *s = src + o * len * inner * isz;
		unsigned char *d = dst + o * inner * isz;
		if (inner == 1) {
			scout__max_reduce(d, s, dtype, len);
			continue;
		}
		memcpy(d, s, inner * isz);
		for (size_t j = 1; j < len; j++)
			scout__max_into(d, s + j * inner * isz, dtype, inner);
	}
	return SCOUT_OK;
}

int scout_mip_options_init(scout_mip_options *opts, unsigned int version)
{
	if (!opts)
		return scout__error(SCOUT_EINVAL, "mip options: NULL");
	if (version != SCOUT_MIP_OPTIONS_VERSION)
		return scout__error(SCOUT_EINVAL, "mip options: version %u is not %u", version,
				    SCOUT_MIP_OPTIONS_VERSION);
	scout_mip_options d = SCOUT_MIP_OPTIONS_INIT;
	*opts = d;
	return SCOUT_OK;
}

/* what the map's workers and the merge share */
typedef struct {
	scout_dtype dtype;
	int ndim, axis;
	int64_t start, stop;            /* the slab along axis */
	int64_t oshape[SCOUT_MAX_NDIM]; /* projection shape (ndim - 1 extents) */
	unsigned char *image;           /* the projection being merged */
	int failed;                     /* a result of an unexpected size arrived */
} mip_ctx;

/*
 * One piece: read the box (clipped to the array and the slab), project it,
 * return [out start (ndim-1 int64), out extent (ndim-1 int64), data].
 */
static int mip_piece(scout_array *arr, const int64_t *start, const int64_t *chunks,
		     scout_result *result, void *payload)
{
	const mip_ctx *c = payload;
	const int64_t *shape = scout_array_shape(arr);
	int ndim = c->ndim, m = ndim - 1;
	int64_t lo[SCOUT_MAX_NDIM], hi[SCOUT_MAX_NDIM], ext[SCOUT_MAX_NDIM];
	size_t n = 1, nout = 1, isz = scout_dtype_size(c->dtype);
	for (int i = 0; i < ndim; i++) {
		lo[i] = start[i];
		hi[i] = start[i] + chunks[i] < shape[i] ? start[i] + chunks[i] : shape[i];
		if (i == c->axis) {
			lo[i] = lo[i] > c->start ? lo[i] : c->start;
			hi[i] = hi[i] < c->stop ? hi[i] : c->stop;
		}
		if (hi[i] <= lo[i])
			return SCOUT_OK; /* outside the slab (or empty): no result */
		ext[i] = hi[i] - lo[i];
		n *= (size_t)ext[i];
		if (i != c->axis)
			nout *= (size_t)ext[i];
	}
	size_t head = 2 * (size_t)m * sizeof(int64_t);
	unsigned char *buf = malloc(n * isz);
	unsigned char *res = malloc(head + nout * isz);
	int rc;
	if (!buf || !res) {
		rc = scout__error(SCOUT_ENOMEM, "mip: cannot allocate a piece of %zu elements", n);
		goto done;
	}
	if ((rc = scout_extract_box(buf, arr, lo, hi)) < 0)
		goto done;
	int64_t hdr[2 * SCOUT_MAX_NDIM];
	for (int i = 0, k = 0; i < ndim; i++) {
		if (i == c->axis)
			continue;
		hdr[k] = lo[i];
		hdr[m + k] = ext[i];
		k++;
	}
	memcpy(res, hdr, head);
	if ((rc = scout_max_project(res + head, buf, c->dtype, ndim, ext, c->axis)) < 0)
		goto done;
	rc = scout_result_set(result, res, head + nout * isz);
done:
	free(buf);
	free(res);
	return rc;
}

/* merge a partial projection into the image (calling thread) */
static void mip_merge(size_t chunk_index, const void *data, size_t size, void *payload)
{
	(void)chunk_index;
	mip_ctx *c = payload;
	int m = c->ndim - 1;
	if (size == 0 || c->failed)
		return;
	size_t head = 2 * (size_t)m * sizeof(int64_t), isz = scout_dtype_size(c->dtype);
	int64_t hdr[2 * SCOUT_MAX_NDIM];
	if (size < head) {
		c->failed = 1;
		return;
	}
	memcpy(hdr, data, head);
	const int64_t *lo = hdr, *ext = hdr + m;
	size_t nout = 1;
	for (int i = 0; i < m; i++) {
		if (lo[i] < 0 || ext[i] < 1 || lo[i] + ext[i] > c->oshape[i]) {
			c->failed = 1;
			return;
		}
		nout *= (size_t)ext[i];
	}
	if (size != head + nout * isz) {
		c->failed = 1;
		return;
	}
	const unsigned char *src = (const unsigned char *)data + head;
	if (m == 0) {
		scout__max_into(c->image, src, c->dtype, 1);
		return;
	}
	/* rows along the last output axis */
	size_t row = (size_t)ext[m - 1], nrows = nout / row;
	int64_t idx[SCOUT_MAX_NDIM] = {0};
	for (size_t r = 0; r < nrows; r++) {
		size_t off = 0;
		for (int i = 0; i < m; i++)
			off =
			    off * (size_t)c->oshape[i] + (size_t)(lo[i] + (i < m - 1 ? idx[i] : 0));
		scout__max_into(c->image + off * isz, src + r * row * isz, c->dtype, row);
		for (int i = m - 2; i >= 0; i--) {
			if (++idx[i] < ext[i])
				break;
			idx[i] = 0;
		}
	}
}

/* the smallest value of a dtype (-inf for floats): the identity of max */
static void fill_identity(unsigned char *image, scout_dtype dtype, size_t n)
{
	size_t isz = scout_dtype_size(dtype);
	unsigned char v[8];
	switch (dtype) {
	case SCOUT_INT8:
	case SCOUT_INT16:
	case SCOUT_INT32:
	case SCOUT_INT64: {
		/* little or big endian: the most negative value has only the sign bit */
		int64_t x = INT64_MIN >> (64 - 8 * isz);
		int8_t a = (int8_t)x;
		int16_t b = (int16_t)x;
		int32_t d = (int32_t)x;
		if (isz == 1)
			memcpy(v, &a, 1);
		else if (isz == 2)
			memcpy(v, &b, 2);
		else if (isz == 4)
			memcpy(v, &d, 4);
		else
			memcpy(v, &x, 8);
		break;
	}
	case SCOUT_FLOAT16: {
		uint16_t h = 0xfc00u;
		memcpy(v, &h, 2);
		break;
	}
	case SCOUT_FLOAT32: {
		float f = -INFINITY;
		memcpy(v, &f, 4);
		break;
	}
	case SCOUT_FLOAT64: {
		double d = -INFINITY;
		memcpy(v, &d, 8);
		break;
	}
	default: /* bool, unsigned */
		memset(image, 0, n * isz);
		return;
	}
	for (size_t i = 0; i < n; i++)
		memcpy(image + i * isz, v, isz);
}

/* default processing chunks: see scout_mip_options */
static void auto_chunks(int64_t *c, const mip_ctx *x, scout_array *arr, int workers)
{
	const int64_t *shape = scout_array_shape(arr), *sc = scout_array_chunks(arr);
	int ndim = x->ndim;
	size_t isz = scout_dtype_size(x->dtype);
	const double budget = 16.0 * 1048576.0;
	for (int i = 0; i < ndim; i++) {
		c[i] = sc ? sc[i] : shape[i];
		c[i] = c[i] < shape[i] ? c[i] : shape[i];
		if (c[i] < 1)
			c[i] = 1;
	}
	for (;;) { /* halve the longest axis of a piece larger than the budget */
		double bytes = (double)isz;
		int big = 0;
		for (int i = 0; i < ndim; i++) {
			bytes *= (double)c[i];
			if (c[i] > c[big])
				big = i;
		}
		if (bytes <= budget || c[big] == 1)
			break;
		c[big] = (c[big] + 1) / 2;
	}
	/* thin pieces along the axis (TIFF slices): deepen them by whole chunks
	 * up to 16, so the merge handles at most 1/16 of the data read */
	int64_t depth = x->stop - x->start, unit = c[x->axis];
	while (c[x->axis] < 16 && c[x->axis] + unit <= depth) {
		int64_t t = c[x->axis] + unit;
		double bytes = (double)isz, pieces = 1;
		for (int i = 0; i < ndim; i++) {
			int64_t e = i == x->axis ? t : c[i];
			int64_t span = i == x->axis ? depth : shape[i];
			bytes *= (double)e;
			pieces *= ceil((double)span / (double)e);
		}
		if (bytes > budget || pieces < 4.0 * workers)
			break;
		c[x->axis] = t;
	}
}

int scout_mip(void **image_out, int64_t *shape_out, scout_array *arr, const scout_mip_options *opts)
{
	if (!image_out || !shape_out || !arr)
		return scout__error(SCOUT_EINVAL, "mip: NULL argument");
	*image_out = NULL;
	scout_mip_options def = SCOUT_MIP_OPTIONS_INIT;
	if (!opts)
		opts = &def;
	if (opts->version != SCOUT_MIP_OPTIONS_VERSION)
		return scout__error(SCOUT_EINVAL,
				    "mip: options version %u is not %u (use "
				    "SCOUT_MIP_OPTIONS_INIT)",
				    opts->version, SCOUT_MIP_OPTIONS_VERSION);
	mip_ctx c;
	memset(&c, 0, sizeof c);
	c.ndim = scout_array_ndim(arr);
	c.dtype = scout_array_dtype(arr);
	c.axis = opts->axis;
	const int64_t *shape = scout_array_shape(arr);
	int rc = check_dtype(c.dtype, "mip");
	if (rc < 0)
		return rc;
	if (c.axis < 0 || c.axis >= c.ndim)
		return scout__error(SCOUT_EINVAL, "mip: axis %d of a %d-D array", c.axis, c.ndim);
	int64_t ext = shape[c.axis];
	c.start = opts->start;
	c.stop = opts->stop == -1 ? ext : opts->stop;
	if (c.start < 0 || c.stop > ext || c.start >= c.stop)
		return scout__error(
		    SCOUT_EBOUNDS, "mip: slab %lld:%lld of axis %d is outside 0:%lld or empty",
		    (long long)c.start, (long long)opts->stop, c.axis, (long long)ext);
	int m = c.ndim - 1;
	size_t nout = 1, nbytes;
	for (int i = 0, k = 0; i < c.ndim; i++) {
		if (i == c.axis)
			continue;
		c.oshape[k++] = shape[i];
	}
	if ((rc = scout__shape_size(&nout, &nbytes, m, c.oshape, scout_dtype_size(c.dtype))) < 0)
		return rc;
	c.image = malloc(nbytes ? nbytes : 1);
	if (!c.image)
		return scout__error(SCOUT_ENOMEM, "mip: cannot allocate the %zu-byte projection",
				    nbytes);
	fill_identity(c.image, c.dtype, nout);

	scout_pmap_options po = SCOUT_PMAP_OPTIONS_INIT;
	if (opts->pmap)
		po = *opts->pmap;
	po.on_result = mip_merge;
	po.on_result_payload = &c;
	po.unordered = 0;
	int64_t chunks[SCOUT_MAX_NDIM];
	if (opts->chunks) {
		memcpy(chunks, opts->chunks, (size_t)c.ndim * sizeof *chunks);
	} else {
		long nw = po.nb_workers > 0 ? po.nb_workers : sysconf(_SC_NPROCESSORS_ONLN);
		auto_chunks(chunks, &c, arr, nw > 0 ? (int)nw : 1);
	}
	if (nout > 0) {
		rc = scout_pmap_chunks(NULL, mip_piece, &c, arr, chunks, &po);
		if (rc == 0 && c.failed)
			rc = scout__error(SCOUT_EWORKER,
					  "mip: a worker returned a partial projection of the "
					  "wrong size");
	}
	if (rc < 0) {
		free(c.image);
		return rc;
	}
	for (int i = 0; i < m; i++)
		shape_out[i] = c.oshape[i];
	*image_out = c.image;
	return SCOUT_OK;
}
