/* libscout._core kernels: stats, histogram, blur and peaks over a whole
 * array on the C library's thread pool, the GIL released (as the CLI's). */
#include "core.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Parallel kernels                                                         */
/* ------------------------------------------------------------------------ */

/* Work chunks: the storage chunks for chunked arrays; for unchunked ones,
 * slabs along axis 0 of about 4 MiB so the threads have work to share. */
static void work_chunks(int64_t *out, scout_array *arr)
{
	int ndim = scout_array_ndim(arr);
	const int64_t *shape = scout_array_shape(arr), *ch = scout_array_chunks(arr);
	memcpy(out, ch, (size_t)ndim * sizeof *out);
	int unchunked = 1;
	for (int i = 0; i < ndim; i++)
		if (ch[i] != shape[i])
			unchunked = 0;
	if (!unchunked)
		return;
	size_t row = scout_dtype_size(scout_array_dtype(arr));
	for (int i = 1; i < ndim; i++)
		row *= (size_t)(shape[i] > 0 ? shape[i] : 1);
	int64_t rows = (int64_t)(((size_t)4 << 20) / (row ? row : 1));
	out[0] = rows < 1 ? 1 : rows;
	if (out[0] > shape[0])
		out[0] = shape[0] > 0 ? shape[0] : 1;
	for (int i = 0; i < ndim; i++)
		if (out[i] < 1)
			out[i] = 1;
}

typedef struct {
	scout_dtype dtype;
	int want_stats;
	size_t nbins;
	double lo, hi;
	scout_stats acc;
	uint64_t *hist;
	int merge_rc;
} stats_ctx;

static int box_of(int64_t *stop, size_t *n, scout_array *arr, const int64_t *start,
		  const int64_t *chunks)
{
	int ndim = scout_array_ndim(arr);
	const int64_t *shape = scout_array_shape(arr);
	*n = 1;
	for (int i = 0; i < ndim; i++) {
		stop[i] = start[i] + chunks[i] < shape[i] ? start[i] + chunks[i] : shape[i];
		*n *= (size_t)(stop[i] - start[i]);
	}
	return ndim;
}

static int stats_chunk(scout_array *arr, const int64_t *start, const int64_t *chunks,
		       scout_result *result, void *payload)
{
	stats_ctx *c = payload;
	int64_t stop[SCOUT_MAX_NDIM];
	size_t n;
	box_of(stop, &n, arr, start, chunks);
	size_t rsize = sizeof(scout_stats) + c->nbins * sizeof(uint64_t);
	unsigned char *res = calloc(1, rsize);
	void *buf = malloc(n * scout_dtype_size(c->dtype) + 1);
	int rc = SCOUT_ENOMEM;
	if (!res || !buf)
		goto done;
	scout_stats st;
	rc = scout_stats_init(&st, c->dtype);
	if (rc == 0 && n)
		rc = scout_extract_box(buf, arr, start, stop);
	if (rc == 0 && c->want_stats)
		rc = scout_stats_update(&st, buf, n);
	if (rc == 0 && c->nbins)
		rc = scout_histogram_update((uint64_t *)(void *)(res + sizeof st), c->nbins, c->lo,
					    c->hi, c->dtype, buf, n);
	if (rc == 0) {
		memcpy(res, &st, sizeof st);
		rc = scout_result_set(result, res, rsize);
	}
done:
	free(buf);
	free(res);
	return rc;
}

static void stats_merge(size_t idx, const void *data, size_t size, void *payload)
{
	(void)idx;
	stats_ctx *c = payload;
	if (c->merge_rc < 0 || size != sizeof(scout_stats) + c->nbins * sizeof(uint64_t))
		return;
	scout_stats st;
	memcpy(&st, data, sizeof st);
	if (c->want_stats && (c->merge_rc = scout_stats_merge(&c->acc, &st)) < 0)
		return;
	const unsigned char *h = (const unsigned char *)data + sizeof st;
	for (size_t i = 0; i < c->nbins; i++) {
		uint64_t v;
		memcpy(&v, h + i * sizeof v, sizeof v);
		c->hist[i] += v;
	}
}

static int stats_run(stats_ctx *c, scout_array *arr, int workers, int *flag)
{
	int64_t work[SCOUT_MAX_NDIM];
	work_chunks(work, arr);
	scout_pmap_options po;
	pmap_opts(&po, workers, flag);
	po.unordered = 1;
	po.on_result = stats_merge;
	po.on_result_payload = c;
	c->merge_rc = 0;
	int rc = scout_pmap_chunks(NULL, stats_chunk, c, arr, work, &po);
	return rc < 0 ? rc : c->merge_rc;
}

/* _core.stats(array, workers) -> dict */
PyObject *stats_py(PyObject *mod, PyObject *args)
{
	(void)mod;
	PyObject *ao;
	int workers = 0;
	if (!PyArg_ParseTuple(args, "O|i", &ao, &workers))
		return NULL;
	scout_array *arr = array_of(ao);
	if (!arr)
		return NULL;
	stats_ctx c;
	memset(&c, 0, sizeof c);
	c.dtype = scout_array_dtype(arr);
	c.want_stats = 1;
	int rc = scout_stats_init(&c.acc, c.dtype), flag = 0;
	if (rc < 0)
		return raise_scout(rc);
	scout_stats_result r;
	((ArrayObject *)ao)->busy++;
	GIL_RELEASE();
	rc = stats_run(&c, arr, workers, &flag);
	if (rc == 0)
		rc = scout_stats_finish(&r, &c.acc);
	GIL_ACQUIRE();
	((ArrayObject *)ao)->busy--;
	if (rc < 0)
		return map_error(rc, flag);
	int is_int = !scout_dtype_is_float(c.dtype);
	PyObject *sum, *mn, *mx;
	if (is_int) {
		sum = PyLong_FromString(r.sum_str, NULL, 10);
		mn = r.count ? PyLong_FromString(r.min_str, NULL, 10) : PyFloat_FromDouble(NAN);
		mx = r.count ? PyLong_FromString(r.max_str, NULL, 10) : PyFloat_FromDouble(NAN);
	} else {
		sum = PyFloat_FromDouble(r.sum);
		mn = PyFloat_FromDouble(r.min);
		mx = PyFloat_FromDouble(r.max);
	}
	if (!sum || !mn || !mx) {
		Py_XDECREF(sum);
		Py_XDECREF(mn);
		Py_XDECREF(mx);
		return NULL;
	}
	return Py_BuildValue("{s:s,s:K,s:K,s:N,s:N,s:N,s:d,s:d}", "dtype",
			     scout_dtype_name(c.dtype), "count", (unsigned long long)r.count,
			     "nan_count", (unsigned long long)r.nan_count, "sum", sum, "min", mn,
			     "max", mx, "mean", r.mean, "std", r.std);
}

/* _core.histogram(array, bins, lo, hi, workers) -> (counts uint64, edges float64) */
PyObject *histogram_py(PyObject *mod, PyObject *args)
{
	(void)mod;
	PyObject *ao;
	Py_ssize_t bins;
	double lo, hi;
	int workers = 0;
	if (!PyArg_ParseTuple(args, "Ondd|i", &ao, &bins, &lo, &hi, &workers))
		return NULL;
	scout_array *arr = array_of(ao);
	if (!arr)
		return NULL;
	if (bins < 1)
		return PyErr_Format(PyExc_ValueError, "bins must be >= 1");
	npy_intp nb = bins, ne = bins + 1;
	PyObject *counts = PyArray_ZEROS(1, &nb, NPY_UINT64, 0);
	PyObject *edges = PyArray_ZEROS(1, &ne, NPY_FLOAT64, 0);
	if (!counts || !edges)
		goto fail;
	int rc = scout_histogram_edges(PyArray_DATA((PyArrayObject *)edges), (size_t)bins, lo, hi);
	if (rc < 0) {
		raise_scout(rc);
		goto fail;
	}
	stats_ctx c;
	memset(&c, 0, sizeof c);
	c.dtype = scout_array_dtype(arr);
	c.nbins = (size_t)bins;
	c.lo = lo;
	c.hi = hi;
	c.hist = PyArray_DATA((PyArrayObject *)counts);
	int flag = 0;
	if ((rc = scout_stats_init(&c.acc, c.dtype)) < 0) {
		raise_scout(rc);
		goto fail;
	}
	((ArrayObject *)ao)->busy++;
	GIL_RELEASE();
	rc = stats_run(&c, arr, workers, &flag);
	GIL_ACQUIRE();
	((ArrayObject *)ao)->busy--;
	if (rc < 0) {
		map_error(rc, flag);
		goto fail;
	}
	return Py_BuildValue("NN", counts, edges);
fail:
	Py_XDECREF(counts);
	Py_XDECREF(edges);
	return NULL;
}

/* Copy the box [off, off + ext) of a C-contiguous src of shape sshape into a
 * C-contiguous dst of shape ext (element size isz). */
static void copy_box(char *dst, const char *src, const int64_t *sshape, const int64_t *off,
		     const int64_t *ext, int ndim, size_t isz)
{
	if (ndim == 1) {
		memcpy(dst, src + (size_t)off[0] * isz, (size_t)ext[0] * isz);
		return;
	}
	size_t sstride = isz, dstride = isz;
	for (int i = 1; i < ndim; i++) {
		sstride *= (size_t)sshape[i];
		dstride *= (size_t)ext[i];
	}
	for (int64_t k = 0; k < ext[0]; k++)
		copy_box(dst + (size_t)k * dstride, src + (size_t)(off[0] + k) * sstride,
			 sshape + 1, off + 1, ext + 1, ndim - 1, isz);
}

typedef struct {
	scout_array *dst;
	scout_dtype in_type, out_type;
	double sigma[SCOUT_MAX_NDIM];
	int64_t radius[SCOUT_MAX_NDIM]; /* blur radius */
	int64_t dist[SCOUT_MAX_NDIM];   /* peaks: min_distance */
	int64_t ghost[SCOUT_MAX_NDIM];
	double threshold;
} filter_ctx;

/* Read the ghosted block of a chunk as float32 and blur it in place. */
static int ghosted_blurred(float **f_out, int64_t *gstart, int64_t *gshape, scout_array *arr,
			   const int64_t *start, const int64_t *chunks, const filter_ctx *c)
{
	int ndim = scout_array_ndim(arr);
	const int64_t *shape = scout_array_shape(arr);
	size_t gmax = 1;
	for (int i = 0; i < ndim; i++) {
		int64_t g = chunks[i] + 2 * c->ghost[i];
		gmax *= (size_t)(g < shape[i] ? g : shape[i]);
	}
	void *raw =
	    c->in_type == SCOUT_FLOAT32 ? NULL : malloc(gmax * scout_dtype_size(c->in_type));
	float *f = malloc(gmax * sizeof(float) + 1);
	int rc;
	if ((!raw && c->in_type != SCOUT_FLOAT32) || !f) {
		rc = SCOUT_ENOMEM;
		goto fail;
	}
	rc = scout_extract_ghosted_chunk(raw ? raw : (void *)f, gstart, gshape, arr, start, chunks,
					 c->ghost);
	if (rc < 0)
		goto fail;
	size_t gn = 1;
	for (int i = 0; i < ndim; i++)
		gn *= (size_t)gshape[i];
	if (raw && (rc = scout_to_float32(f, raw, c->in_type, gn)) < 0)
		goto fail;
	if ((rc = scout_gaussian_filter(f, f, ndim, gshape, c->sigma, 4.0)) < 0)
		goto fail;
	free(raw);
	*f_out = f;
	return 0;
fail:
	free(raw);
	free(f);
	return rc;
}

static int blur_chunk(scout_array *arr, const int64_t *start, const int64_t *chunks,
		      scout_result *result, void *payload)
{
	(void)result;
	filter_ctx *c = payload;
	int64_t gstart[SCOUT_MAX_NDIM], gshape[SCOUT_MAX_NDIM], stop[SCOUT_MAX_NDIM];
	int64_t ext[SCOUT_MAX_NDIM], off[SCOUT_MAX_NDIM];
	size_t n;
	int ndim = box_of(stop, &n, arr, start, chunks);
	if (n == 0)
		return 0;
	float *f = NULL;
	int rc = ghosted_blurred(&f, gstart, gshape, arr, start, chunks, c);
	if (rc < 0)
		return rc;
	for (int i = 0; i < ndim; i++) {
		ext[i] = stop[i] - start[i];
		off[i] = start[i] - gstart[i];
	}
	float *interior = malloc(n * sizeof(float));
	void *outb =
	    c->out_type == SCOUT_FLOAT32 ? NULL : malloc(n * scout_dtype_size(c->out_type));
	if (!interior || (!outb && c->out_type != SCOUT_FLOAT32)) {
		rc = SCOUT_ENOMEM;
		goto done;
	}
	copy_box((char *)interior, (const char *)f, gshape, off, ext, ndim, sizeof(float));
	if (outb && (rc = scout_from_float32(outb, c->out_type, interior, n)) < 0)
		goto done;
	rc = scout_insert_box(c->dst, start, stop, outb ? outb : (void *)interior);
done:
	free(f);
	free(interior);
	free(outb);
	return rc;
}

static int parse_sigma(double *sigma, PyObject *o, int ndim)
{
	if (PyNumber_Check(o) && !PySequence_Check(o)) {
		double s = PyFloat_AsDouble(o);
		if (s == -1.0 && PyErr_Occurred())
			return -1;
		for (int i = 0; i < ndim; i++)
			sigma[i] = s;
		return 0;
	}
	PyObject *fast = PySequence_Fast(o, "sigma must be a number or a sequence");
	if (!fast)
		return -1;
	if (PySequence_Fast_GET_SIZE(fast) != ndim) {
		Py_DECREF(fast);
		PyErr_Format(PyExc_ValueError, "sigma needs 1 or %d values", ndim);
		return -1;
	}
	for (int i = 0; i < ndim; i++) {
		sigma[i] = PyFloat_AsDouble(PySequence_Fast_GET_ITEM(fast, i));
		if (sigma[i] == -1.0 && PyErr_Occurred()) {
			Py_DECREF(fast);
			return -1;
		}
	}
	Py_DECREF(fast);
	return 0;
}

/* _core.blur(src, dst, sigma, workers): dst has src's shape. */
PyObject *blur_py(PyObject *mod, PyObject *args)
{
	(void)mod;
	PyObject *so, *dobj, *sig;
	int workers = 0;
	if (!PyArg_ParseTuple(args, "OOO|i", &so, &dobj, &sig, &workers))
		return NULL;
	scout_array *src = array_of(so), *dst = src ? array_of(dobj) : NULL;
	if (!dst)
		return NULL;
	int ndim = scout_array_ndim(src);
	if (scout_array_ndim(dst) != ndim ||
	    memcmp(scout_array_shape(src), scout_array_shape(dst), (size_t)ndim * sizeof(int64_t)))
		return PyErr_Format(PyExc_ValueError, "blur: src and dst must have the same shape");
	filter_ctx c;
	memset(&c, 0, sizeof c);
	c.dst = dst;
	c.in_type = scout_array_dtype(src);
	c.out_type = scout_array_dtype(dst);
	if (parse_sigma(c.sigma, sig, ndim) < 0)
		return NULL;
	int rc = scout_gaussian_radius(c.radius, ndim, c.sigma, 4.0);
	if (rc < 0)
		return raise_scout(rc);
	memcpy(c.ghost, c.radius, sizeof c.ghost);
	int64_t work[SCOUT_MAX_NDIM];
	work_chunks(work, dst); /* whole output chunks: writers never share one */
	int flag = 0;
	scout_pmap_options po;
	pmap_opts(&po, workers, &flag);
	((ArrayObject *)so)->busy++;
	((ArrayObject *)dobj)->busy++;
	GIL_RELEASE();
	rc = scout_pmap_chunks(NULL, blur_chunk, &c, src, work, &po);
	GIL_ACQUIRE();
	((ArrayObject *)so)->busy--;
	((ArrayObject *)dobj)->busy--;
	if (rc < 0)
		return map_error(rc, flag);
	Py_RETURN_NONE;
}

static int peaks_chunk(scout_array *arr, const int64_t *start, const int64_t *chunks,
		       scout_result *result, void *payload)
{
	filter_ctx *c = payload;
	int64_t gstart[SCOUT_MAX_NDIM], gshape[SCOUT_MAX_NDIM], stop[SCOUT_MAX_NDIM];
	int64_t istart[SCOUT_MAX_NDIM], istop[SCOUT_MAX_NDIM];
	size_t n, count = 0;
	int ndim = box_of(stop, &n, arr, start, chunks);
	if (n == 0)
		return 0;
	float *f = NULL;
	int64_t *pts = NULL;
	int rc = ghosted_blurred(&f, gstart, gshape, arr, start, chunks, c);
	if (rc < 0)
		return rc;
	for (int i = 0; i < ndim; i++) {
		istart[i] = start[i] - gstart[i];
		istop[i] = stop[i] - gstart[i];
	}
	rc =
	    scout_local_maxima(&pts, &count, f, ndim, gshape, c->dist, c->threshold, istart, istop);
	if (rc == 0 && count)
		rc = scout_filter_ghosted_points(pts, &count, gstart, start, chunks, pts, count,
						 ndim);
	if (rc == 0)
		rc = scout_result_set(result, pts, count * (size_t)ndim * sizeof(int64_t));
	scout_free(pts);
	free(f);
	return rc;
}

static _Thread_local int sort_ndim;

static int cmp_points(const void *a, const void *b)
{
	const int64_t *p = a, *q = b;
	for (int i = 0; i < sort_ndim; i++)
		if (p[i] != q[i])
			return p[i] < q[i] ? -1 : 1;
	return 0;
}

/* _core.peaks(array, sigma, min_distance, threshold, workers) -> (N, ndim) int64 */
PyObject *peaks_py(PyObject *mod, PyObject *args)
{
	(void)mod;
	PyObject *ao, *sig;
	long long mind;
	double threshold;
	int workers = 0;
	if (!PyArg_ParseTuple(args, "OOLd|i", &ao, &sig, &mind, &threshold, &workers))
		return NULL;
	scout_array *arr = array_of(ao);
	if (!arr)
		return NULL;
	if (mind < 0)
		return PyErr_Format(PyExc_ValueError, "min_distance must be >= 0");
	int ndim = scout_array_ndim(arr);
	filter_ctx c;
	memset(&c, 0, sizeof c);
	c.in_type = scout_array_dtype(arr);
	c.threshold = threshold;
	if (parse_sigma(c.sigma, sig, ndim) < 0)
		return NULL;
	int rc = scout_gaussian_radius(c.radius, ndim, c.sigma, 4.0);
	if (rc < 0)
		return raise_scout(rc);
	for (int i = 0; i < ndim; i++) {
		c.dist[i] = mind;
		c.ghost[i] = c.radius[i] + mind;
	}
	int64_t work[SCOUT_MAX_NDIM];
	work_chunks(work, arr);
	int flag = 0;
	scout_pmap_options po;
	pmap_opts(&po, workers, &flag);
	scout_results *res = NULL;
	((ArrayObject *)ao)->busy++;
	GIL_RELEASE();
	rc = scout_pmap_chunks(&res, peaks_chunk, &c, arr, work, &po);
	GIL_ACQUIRE();
	((ArrayObject *)ao)->busy--;
	if (rc < 0)
		return map_error(rc, flag);
	size_t total = 0, nres = scout_results_count(res), row = (size_t)ndim * sizeof(int64_t);
	for (size_t i = 0; i < nres; i++) {
		size_t sz = 0;
		scout_results_get(res, i, &sz);
		total += sz / row;
	}
	npy_intp dims[2] = {(npy_intp)total, ndim};
	PyObject *out = PyArray_ZEROS(2, dims, NPY_INT64, 0);
	if (!out) {
		scout_results_free(res);
		return NULL;
	}
	char *o = PyArray_DATA((PyArrayObject *)out);
	for (size_t i = 0, k = 0; i < nres; i++) {
		size_t sz = 0;
		const void *d = scout_results_get(res, i, &sz);
		sz -= sz % row;
		if (sz)
			memcpy(o + k * row, d, sz);
		k += sz / row;
	}
	scout_results_free(res);
	sort_ndim = ndim;
	qsort(o, total, row, cmp_points);
	return out;
}
