/*
 * The multiscale pyramid builder (see scout/ngff.h).
 *
 * Pass 1 reads the input once, in blocks of whole chunks of level 0 and of
 * level 1, writing each block to level 0 and its downsampled image to level 1.
 * Pass l (l >= 2) reads level l - 1 in the same way and writes level l. Every
 * block is an independent pmap chunk: workers never share an output chunk,
 * and every chunk is written once, whole (no read-modify-write).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/bufpool.h"
#include "ops_internal.h"
#include "scout/ngff.h"
#include "scout/zarr.h"

typedef struct {
	scout_array *src;  /* the level above (or the input) */
	scout_array *copy; /* pass 1: level 0, written with the block as read; else NULL */
	scout_array *dst;  /* the level written (NULL: copy only, a one-level pyramid) */
	int ndim;
	int64_t f[SCOUT_MAX_NDIM], margin[SCOUT_MAX_NDIM];
	scout_downsample_method method;
	scout_dtype dtype;
	const scout_pmap_options *po;
} pass_ctx;

static int cancelled(const pass_ctx *c)
{
	if (c->po && c->po->version >= 2 && c->po->cancel && c->po->cancel(c->po->cancel_payload))
		return scout__error(SCOUT_EINTERRUPTED, "pyramid: interrupted");
	return 0;
}

static int pass_block(scout_array *grid, const int64_t *start, const int64_t *ext,
		      scout_result *result, void *payload)
{
	(void)result;
	pass_ctx *c = payload;
	int nd = c->ndim;
	const int64_t *gshape = scout_array_shape(grid);
	const int64_t *sshape = scout_array_shape(c->src);
	int64_t ds[SCOUT_MAX_NDIM], de[SCOUT_MAX_NDIM], dext[SCOUT_MAX_NDIM];
	int64_t si[SCOUT_MAX_NDIM], se[SCOUT_MAX_NDIM], rs[SCOUT_MAX_NDIM], re[SCOUT_MAX_NDIM];
	int64_t rext[SCOUT_MAX_NDIM], iext[SCOUT_MAX_NDIM], org[SCOUT_MAX_NDIM];
	size_t rn = 1, in_n = 1, dn = 1, isz = scout_dtype_size(c->dtype);
	int rc = cancelled(c);
	if (rc < 0)
		return rc;
	for (int i = 0; i < nd; i++) {
		ds[i] = start[i];
		de[i] = start[i] + ext[i] < gshape[i] ? start[i] + ext[i] : gshape[i];
		dext[i] = de[i] - ds[i];
		si[i] = ds[i] * c->f[i];
		se[i] = de[i] * c->f[i] < sshape[i] ? de[i] * c->f[i] : sshape[i];
		rs[i] = si[i] - c->margin[i] > 0 ? si[i] - c->margin[i] : 0;
		re[i] = se[i] + c->margin[i] < sshape[i] ? se[i] + c->margin[i] : sshape[i];
		rext[i] = re[i] - rs[i];
		iext[i] = se[i] - si[i];
		org[i] = si[i] - rs[i];
		rn *= (size_t)rext[i];
		in_n *= (size_t)iext[i];
		dn *= (size_t)dext[i];
	}
	if (dn == 0)
		return 0;
	void *rbuf = scout__buf_alloc(rn * isz);
	void *ibuf = NULL, *dbuf = NULL;
	int has_margin = rn != in_n;
	if (!rbuf) {
		rc = scout__error(SCOUT_ENOMEM, "pyramid: cannot allocate a block of %zu voxels",
				  rn);
		goto done;
	}
	if ((rc = scout_extract_box(rbuf, c->src, rs, re)) < 0 || (rc = cancelled(c)) < 0)
		goto done;
	if (c->copy) {
		const void *interior = rbuf;
		if (has_margin) {
			if (!(ibuf = scout__buf_alloc(in_n * isz))) {
				rc = scout__error(SCOUT_ENOMEM, "pyramid: cannot allocate a block");
				goto done;
			}
			scout__copy_nd(ibuf, iext, (const int64_t[SCOUT_MAX_NDIM]){0}, rbuf, rext,
				       org, iext, nd, isz);
			interior = ibuf;
		}
		if ((rc = scout_insert_box(c->copy, si, se, interior)) < 0 ||
		    (rc = cancelled(c)) < 0)
			goto done;
	}
	if (c->dst) {
		if (!(dbuf = scout__buf_alloc(dn * isz))) {
			rc = scout__error(SCOUT_ENOMEM, "pyramid: cannot allocate a block");
			goto done;
		}
		if ((rc = scout_downsample(dbuf, dext, rbuf, rext, org, c->dtype, nd, c->f,
					   c->method)) < 0)
			goto done;
		rc = scout_insert_box(c->dst, ds, de, dbuf);
	}
done:
	scout__buf_free(dbuf, dn * isz);
	scout__buf_free(ibuf, in_n * isz);
	scout__buf_free(rbuf, rn * isz);
	return rc;
}

static int64_t gcd64(int64_t a, int64_t b)
{
	while (b) {
		int64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/*
 * Block shape (in cells of the grid level): whole chunks of the grid level
 * whose source boxes are whole chunks of the level above; axis 0 one unit,
 * other axes whole, halved in units while the source block is over budget or
 * there are too few blocks for the workers.
 */
static void block_shape(int64_t *blk, int nd, const int64_t *gshape, const int64_t *gchunks,
			const int64_t *uchunks, const int64_t *f, const int64_t *margin,
			size_t bytes_per_voxel, size_t budget, size_t min_pieces)
{
	int64_t unit[SCOUT_MAX_NDIM];
	for (int i = 0; i < nd; i++) {
		int64_t a = gchunks[i], b = uchunks[i] / gcd64(uchunks[i], f[i]);
		unit[i] = a / gcd64(a, b) * b;
		int64_t whole = (gshape[i] + unit[i] - 1) / unit[i] * unit[i];
		blk[i] = i == 0 ? unit[i] : (whole > 0 ? whole : unit[i]);
	}
	for (;;) {
		double bytes = (double)bytes_per_voxel, pieces = 1;
		for (int i = 0; i < nd; i++) {
			bytes *= (double)(blk[i] * f[i] + 2 * margin[i]);
			pieces *= ceil((double)gshape[i] / (double)blk[i]);
		}
		if (bytes <= (double)budget && pieces >= (double)min_pieces)
			return;
		int best = -1;
		for (int i = 1; i < nd; i++)
			if (blk[i] > unit[i] && (best < 0 || blk[i] > blk[best]))
				best = i;
		if (best < 0)
			return;
		int64_t nu = blk[best] / unit[best];
		blk[best] = (nu + 1) / 2 * unit[best];
	}
}

static int run_pass(pass_ctx *c, size_t budget)
{
	scout_array *grid = c->dst ? c->dst : c->copy;
	scout_array *upper = c->copy ? c->copy : c->src;
	int nd = c->ndim;
	size_t bpv =
	    scout_dtype_size(c->dtype) +
	    (c->method == SCOUT_DOWNSAMPLE_GAUSSIAN && c->dst ? sizeof(float) : 0) +
	    (c->copy && c->method == SCOUT_DOWNSAMPLE_GAUSSIAN ? scout_dtype_size(c->dtype) : 0);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int workers =
	    c->po && c->po->nb_workers > 0 ? c->po->nb_workers : (ncpu > 0 ? (int)ncpu : 1);
	int64_t blk[SCOUT_MAX_NDIM];
	block_shape(blk, nd, scout_array_shape(grid), scout_array_chunks(grid),
		    scout_array_chunks(upper), c->f, c->margin, bpv, budget, 2 * (size_t)workers);
	scout_pmap_options po = SCOUT_PMAP_OPTIONS_INIT;
	if (c->po)
		po = *c->po;
	po.on_result = NULL;
	return scout_pmap_chunks(NULL, pass_block, c, grid, blk, &po);
}

static int is_float_type(scout_dtype t)
{
	return t == SCOUT_FLOAT16 || t == SCOUT_FLOAT32 || t == SCOUT_FLOAT64;
}

int scout_pyramid_write(const char *group, scout_array *input, const scout_pyramid_options *opts,
			scout_ngff_multiscale *ms_out)
{
	scout_pyramid_options defaults = SCOUT_PYRAMID_OPTIONS_INIT;
	if (!opts)
		opts = &defaults;
	if (!group || !input)
		return scout__error(SCOUT_EINVAL, "scout_pyramid_write: NULL argument");
	if (opts->version != SCOUT_PYRAMID_OPTIONS_VERSION)
		return scout__error(SCOUT_EINVAL,
				    "scout_pyramid_write: options version %u, "
				    "expected %d",
				    opts->version, SCOUT_PYRAMID_OPTIONS_VERSION);
	int nd = scout_array_ndim(input);
	const int64_t *shape = scout_array_shape(input);
	scout_dtype dt = scout_array_dtype(input);
	const char *ver = opts->ngff_version ? opts->ngff_version : "0.4";
	if (strcmp(ver, "0.4") && strcmp(ver, "0.5"))
		return scout__error(SCOUT_EINVAL, "NGFF version '%s' (scout writes 0.4 and 0.5)",
				    ver);
	if (!strcmp(ver, "0.5"))
		return scout__error(SCOUT_EUNSUPPORTED,
				    "NGFF 0.5 needs Zarr v3 writes, which this build does not "
				    "have yet; use NGFF 0.4");
	if (nd != 2 && nd != 3)
		return scout__error(SCOUT_EINVAL,
				    "an OME-Zarr image here is 2-D (y, x) or 3-D (z, y, x); "
				    "this array has %d axes",
				    nd);
	if (scout_downsample_method_name(opts->method) == NULL)
		return scout__error(SCOUT_EINVAL, "invalid downsampling method %d",
				    (int)opts->method);
	if (opts->method == SCOUT_DOWNSAMPLE_MODE && is_float_type(dt))
		return scout__error(SCOUT_EINVAL,
				    "--method mode takes the most frequent value, for label "
				    "images (integer types); this array is %s: use mean",
				    scout_dtype_name(dt));
	if (dt == SCOUT_COMPLEX64 || dt == SCOUT_COMPLEX128)
		return scout__error(SCOUT_EUNSUPPORTED, "pyramid: complex data (%s)",
				    scout_dtype_name(dt));
	int have_vs = 0;
	for (int i = 0; i < nd; i++)
		have_vs |= opts->voxel_size[i] != 0;
	for (int i = 0; have_vs && i < nd; i++)
		if (!(isfinite(opts->voxel_size[i]) && opts->voxel_size[i] > 0))
			return scout__error(SCOUT_EINVAL,
					    "voxel size %g on axis %d: must be positive and finite",
					    opts->voxel_size[i], i);
	if (opts->max_levels < 0)
		return scout__error(SCOUT_EINVAL, "levels %d: must be >= 1", opts->max_levels);
	if (opts->dimension_separator && opts->dimension_separator != '/' &&
	    opts->dimension_separator != '.')
		return scout__error(SCOUT_EINVAL, "dimension separator '%c'",
				    opts->dimension_separator);

	int64_t chunks[SCOUT_MAX_NDIM], factors[SCOUT_NGFF_MAX_LEVELS * 3];
	int nlevels = 0, rc;
	for (int i = 0; i < nd; i++) {
		chunks[i] = opts->chunks[i] > 0 ? opts->chunks[i] : 64;
		if (opts->chunks[i] < 0)
			return scout__error(SCOUT_EINVAL, "chunks: %lld on axis %d",
					    (long long)opts->chunks[i], i);
	}
	if ((rc = scout_ngff_plan(factors, &nlevels, nd, shape, chunks,
				  have_vs ? opts->voxel_size : NULL, opts->max_levels)) < 0)
		return rc;

	/* metadata (checked before anything is written) */
	scout_ngff_multiscale ms;
	memset(&ms, 0, sizeof ms);
	ms.version = SCOUT_NGFF_MULTISCALE_VERSION;
	snprintf(ms.ngff_version, sizeof ms.ngff_version, "%s", ver);
	snprintf(ms.name, sizeof ms.name, "%s", opts->name ? opts->name : "image");
	snprintf(ms.type, sizeof ms.type, "%s", scout_downsample_method_name(opts->method));
	const char *unit = have_vs ? (opts->unit ? opts->unit : "micrometer") : "";
	static const char *const names3[] = {"z", "y", "x"};
	ms.ndim = nd;
	for (int i = 0; i < nd; i++) {
		snprintf(ms.axis_name[i], sizeof ms.axis_name[i], "%s", names3[3 - nd + i]);
		strcpy(ms.axis_type[i], "space");
		if (strlen(unit) >= sizeof ms.axis_unit[i])
			return scout__error(SCOUT_EINVAL, "unit '%s' is too long", unit);
		strcpy(ms.axis_unit[i], unit);
	}
	ms.nlevels = nlevels;
	int centred =
	    opts->method == SCOUT_DOWNSAMPLE_MEAN || opts->method == SCOUT_DOWNSAMPLE_MODE;
	int64_t cum[SCOUT_MAX_NDIM];
	for (int i = 0; i < nd; i++)
		cum[i] = 1;
	for (int l = 0; l < nlevels; l++) {
		snprintf(ms.path[l], sizeof ms.path[l], "%d", l);
		ms.has_translation[l] = 1;
		for (int i = 0; i < nd; i++) {
			double v = have_vs ? opts->voxel_size[i] : 1.0;
			cum[i] *= factors[(size_t)l * (size_t)nd + (size_t)i];
			ms.scale[l][i] = v * (double)cum[i];
			ms.translation[l][i] = centred ? v * (double)(cum[i] - 1) / 2.0 : 0.0;
		}
	}
	if ((rc = scout_ngff_check(&ms)) < 0)
		return rc;

	/* the level arrays */
	scout_array *lv[SCOUT_NGFF_MAX_LEVELS] = {0};
	char ts[8];
	if ((rc = scout_dtype_typestr(ts, dt, 0)) < 0)
		return rc;
	if ((rc = scout_zarr_group_create(group)) < 0)
		return rc;
	int64_t lshape[SCOUT_MAX_NDIM];
	for (int i = 0; i < nd; i++)
		lshape[i] = shape[i];
	size_t plen = strlen(group) + 16;
	char *path = malloc(plen);
	if (!path)
		return scout__error(SCOUT_ENOMEM, "pyramid: no memory");
	for (int l = 0; l < nlevels && rc == 0; l++) {
		scout_zarr_options zo = SCOUT_ZARR_OPTIONS_INIT;
		zo.ndim = nd;
		for (int i = 0; i < nd; i++) {
			int64_t f = factors[(size_t)l * (size_t)nd + (size_t)i];
			lshape[i] = (lshape[i] + f - 1) / f;
			zo.shape[i] = lshape[i];
			zo.chunks[i] =
			    chunks[i] < lshape[i] ? chunks[i] : (lshape[i] > 0 ? lshape[i] : 1);
		}
		zo.dtype = ts;
		zo.compressor = opts->compressor;
		zo.dimension_separator =
		    opts->dimension_separator ? opts->dimension_separator : '/';
		snprintf(path, plen, "%s/%d", group, l);
		rc = scout_zarr_create(&lv[l], path, &zo);
	}
	free(path);

	/* pass 1: input -> level 0 and level 1; pass l: level l-1 -> level l */
	size_t budget = opts->budget ? opts->budget : (size_t)256 << 20;
	for (int l = 1; rc == 0 && l <= (nlevels > 1 ? nlevels - 1 : 1); l++) {
		pass_ctx c;
		memset(&c, 0, sizeof c);
		c.ndim = nd;
		c.src = l == 1 ? input : lv[l - 1];
		c.copy = l == 1 ? lv[0] : NULL;
		c.dst = l < nlevels ? lv[l] : NULL;
		c.method = opts->method;
		c.dtype = dt;
		c.po = opts->pmap;
		for (int i = 0; i < nd; i++)
			c.f[i] = c.dst ? factors[(size_t)l * (size_t)nd + (size_t)i] : 1;
		if (c.dst)
			rc = scout_downsample_margin(c.margin, nd, c.f, c.method);
		if (rc == 0)
			rc = run_pass(&c, budget);
		if (rc < 0 && l > 1)
			scout__error_prefix(rc, "level %d: ", l);
	}
	for (int l = 0; l < nlevels; l++)
		scout_array_free(lv[l]);
	if (rc == 0)
		rc = scout_ngff_write(group, &ms);
	if (rc == 0 && ms_out)
		*ms_out = ms;
	return rc;
}
