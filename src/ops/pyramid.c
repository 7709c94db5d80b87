/*
 * The multiscale pyramid builder (see scout/ngff.h).
 *
 * Pass 1 reads the input once, in blocks of whole chunks of level 0 and of
 * level 1, writing each block to level 0 and its downsampled image to level 1.
 * When level 0 has the input's chunks, codec and fill value (a Zarr input
 * made into a pyramid as it is), level 0's chunks are the input's stored
 * bytes, copied (scout_zarr_copy_box) instead of encoded again.
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

/* most levels one pass computes from one read (a chain) */
#define CHAIN_MAX 4

/*
 * One pass: read blocks of `src`, optionally write them to `copy` (pass 1:
 * level 0), and compute the chain dst[0..n-1], each level from the one before
 * it in memory. The pmap grid is the deepest level of the chain; a block of
 * it is [ds, de), which is [ds * g[j], de * g[j]) (clipped) on chain level j,
 * g[j] being the product of the step factors below level j. Level -1 (the
 * source) has gsrc.
 */
typedef struct {
	scout_array *src;
	scout_array *copy;
	int copy_raw; /* copy is written from src's stored chunk bytes (scout_zarr_copy_box) */
	scout_array *dst[CHAIN_MAX];
	int n; /* levels in the chain (0: copy only, a one-level pyramid) */
	int ndim;
	int64_t f[CHAIN_MAX][SCOUT_MAX_NDIM]; /* step factor into dst[j] */
	int64_t g[CHAIN_MAX][SCOUT_MAX_NDIM]; /* cumulative factor, deepest -> dst[j] */
	int64_t gsrc[SCOUT_MAX_NDIM];         /* cumulative factor, deepest -> src */
	int64_t margin[SCOUT_MAX_NDIM];       /* ghost of the first step (gaussian: n is 1) */
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

static void box_of(int64_t *s, int64_t *e, int64_t *ext, size_t *count, int nd, const int64_t *ds,
		   const int64_t *de, const int64_t *g, const int64_t *shape)
{
	*count = 1;
	for (int i = 0; i < nd; i++) {
		s[i] = ds[i] * g[i];
		e[i] = de[i] * g[i] < shape[i] ? de[i] * g[i] : shape[i];
		ext[i] = e[i] > s[i] ? e[i] - s[i] : 0;
		*count *= (size_t)ext[i];
	}
}

static int pass_block(scout_array *grid, const int64_t *start, const int64_t *ext,
		      scout_result *result, void *payload)
{
	(void)result;
	pass_ctx *c = payload;
	int nd = c->ndim;
	const int64_t *gshape = scout_array_shape(grid);
	const int64_t *sshape = scout_array_shape(c->src);
	int64_t ds[SCOUT_MAX_NDIM] = {0}, de[SCOUT_MAX_NDIM] = {0}; /* gcc -O2 cannot see nd >= 1 */
	int64_t si[SCOUT_MAX_NDIM], se[SCOUT_MAX_NDIM], iext[SCOUT_MAX_NDIM];
	int64_t rs[SCOUT_MAX_NDIM], re[SCOUT_MAX_NDIM], rext[SCOUT_MAX_NDIM], org[SCOUT_MAX_NDIM];
	size_t rn = 1, in_n, isz = scout_dtype_size(c->dtype);
	void *buf[CHAIN_MAX] = {0};
	size_t bn[CHAIN_MAX] = {0};
	int rc = cancelled(c);
	if (rc < 0)
		return rc;
	for (int i = 0; i < nd; i++) {
		ds[i] = start[i];
		de[i] = start[i] + ext[i] < gshape[i] ? start[i] + ext[i] : gshape[i];
		if (de[i] <= ds[i])
			return 0;
	}
	box_of(si, se, iext, &in_n, nd, ds, de, c->gsrc, sshape);
	for (int i = 0; i < nd; i++) {
		rs[i] = si[i] - c->margin[i] > 0 ? si[i] - c->margin[i] : 0;
		re[i] = se[i] + c->margin[i] < sshape[i] ? se[i] + c->margin[i] : sshape[i];
		rext[i] = re[i] - rs[i];
		org[i] = si[i] - rs[i];
		rn *= (size_t)rext[i];
	}
	void *rbuf = scout__buf_alloc(rn * isz);
	void *ibuf = NULL;
	if (!rbuf) {
		rc = scout__error(SCOUT_ENOMEM, "pyramid: cannot allocate a block of %zu voxels",
				  rn);
		goto done;
	}
	if ((rc = scout_extract_box(rbuf, c->src, rs, re)) < 0 || (rc = cancelled(c)) < 0)
		goto done;
	if (c->copy && c->copy_raw) {
		/* level 0 keeps the input's codec and chunks: its stored bytes, decoded just above
		 */
		if ((rc = scout_zarr_copy_box(NULL, c->copy, c->src, si, se,
					      SCOUT_ZARR_COPY_NO_VERIFY)) < 0 ||
		    (rc = cancelled(c)) < 0)
			goto done;
	} else if (c->copy) {
		const void *interior = rbuf;
		if (rn != in_n) {
			if (!(ibuf = scout__buf_alloc(in_n * isz))) {
				rc = scout__error(SCOUT_ENOMEM, "pyramid: cannot allocate a block");
				goto done;
			}
			int64_t zero[SCOUT_MAX_NDIM] = {0};
			scout__copy_nd(ibuf, iext, zero, rbuf, rext, org, iext, nd, isz);
			interior = ibuf;
		}
		if ((rc = scout_insert_box(c->copy, si, se, interior)) < 0 ||
		    (rc = cancelled(c)) < 0)
			goto done;
	}
	const void *prev = rbuf;
	const int64_t *pext = rext, *porg = org;
	int64_t zero[SCOUT_MAX_NDIM] = {0};
	int64_t lext[CHAIN_MAX][SCOUT_MAX_NDIM];
	for (int j = 0; j < c->n; j++) {
		int64_t ls[SCOUT_MAX_NDIM], le[SCOUT_MAX_NDIM];
		box_of(ls, le, lext[j], &bn[j], nd, ds, de, c->g[j], scout_array_shape(c->dst[j]));
		if (!(buf[j] = scout__buf_alloc(bn[j] * isz))) {
			rc = scout__error(SCOUT_ENOMEM, "pyramid: cannot allocate a block");
			goto done;
		}
		if ((rc = scout_downsample(buf[j], lext[j], prev, pext, porg, c->dtype, nd, c->f[j],
					   c->method)) < 0)
			goto done;
		if ((rc = scout_insert_box(c->dst[j], ls, le, buf[j])) < 0 ||
		    (rc = cancelled(c)) < 0)
			goto done;
		prev = buf[j];
		pext = lext[j];
		porg = zero;
	}
done:
	for (int j = 0; j < CHAIN_MAX; j++)
		scout__buf_free(buf[j], bn[j] * isz);
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

static int64_t lcm64(int64_t a, int64_t b)
{
	return a / gcd64(a, b) * b;
}

/* smallest block (in deepest-level cells) whose box is whole chunks on every level it touches */
static void chain_unit(int64_t *unit, const pass_ctx *c, scout_array *grid)
{
	scout_array *upper = c->copy ? c->copy : c->src;
	const int64_t *gc = scout_array_chunks(grid), *uc = scout_array_chunks(upper);
	for (int i = 0; i < c->ndim; i++) {
		int64_t u = gc[i];
		u = lcm64(u, uc[i] / gcd64(uc[i], c->gsrc[i]));
		for (int j = 0; j < c->n; j++) {
			int64_t cj = scout_array_chunks(c->dst[j])[i];
			u = lcm64(u, cj / gcd64(cj, c->g[j][i]));
		}
		unit[i] = u;
	}
}

/* source bytes of a block of blk deepest cells */
static double block_bytes(const pass_ctx *c, const int64_t *blk, size_t bpv)
{
	double b = (double)bpv;
	for (int i = 0; i < c->ndim; i++)
		b *= (double)(blk[i] * c->gsrc[i] + 2 * c->margin[i]);
	return b;
}

/*
 * Block shape (deepest-level cells): one unit along axis 0, whole extents on
 * the others, halved in units (scout__axis_to_halve: keeping TIFF rows whole)
 * while the source block is over budget or there are too few blocks for the
 * workers.
 */
static void block_shape(int64_t *blk, const pass_ctx *c, scout_array *grid, size_t bpv,
			size_t budget, size_t min_pieces)
{
	int nd = c->ndim;
	int64_t unit[SCOUT_MAX_NDIM];
	const int64_t *gshape = scout_array_shape(grid);
	chain_unit(unit, c, grid);
	for (int i = 0; i < nd; i++) {
		int64_t whole = (gshape[i] + unit[i] - 1) / unit[i] * unit[i];
		blk[i] = i == 0 ? unit[i] : (whole > 0 ? whole : unit[i]);
	}
	for (;;) {
		double pieces = 1;
		for (int i = 0; i < nd; i++)
			pieces *= ceil((double)gshape[i] / (double)blk[i]);
		if (block_bytes(c, blk, bpv) <= (double)budget && pieces >= (double)min_pieces)
			return;
		int best = scout__axis_to_halve(nd, blk, unit, c->gsrc, scout_array_chunks(c->src),
						scout_array_shape(c->src));
		if (best < 0)
			return;
		int64_t nu = blk[best] / unit[best];
		blk[best] = (nu + 1) / 2 * unit[best];
	}
}

/* bytes per source voxel a worker holds: the block, its copy, float32 for the gaussian */
static size_t pass_bpv(const pass_ctx *c)
{
	size_t isz = scout_dtype_size(c->dtype);
	size_t b = isz + isz / 2; /* the block and the chain's levels (<= 1/2 of it) */
	if (c->method == SCOUT_DOWNSAMPLE_GAUSSIAN && c->n)
		b += sizeof(float) + (c->copy ? isz : 0);
	return b;
}

/* set up the chain src -> dst[0..n-1] from the factors of levels first..first+n-1 */
static void chain_setup(pass_ctx *c, scout_array **lv, int first, int n, const int64_t *factors)
{
	int nd = c->ndim;
	c->n = n;
	for (int j = 0; j < n; j++) {
		c->dst[j] = lv[first + j];
		for (int i = 0; i < nd; i++)
			c->f[j][i] = factors[(size_t)(first + j) * (size_t)nd + (size_t)i];
	}
	for (int i = 0; i < nd; i++) {
		int64_t g = 1;
		for (int j = n - 1; j >= 0; j--) {
			c->g[j][i] = g;
			g *= c->f[j][i];
		}
		c->gsrc[i] = g;
	}
}

static int run_pass(pass_ctx *c, size_t budget)
{
	scout_array *grid = c->n ? c->dst[c->n - 1] : c->copy;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int workers =
	    c->po && c->po->nb_workers > 0 ? c->po->nb_workers : (ncpu > 0 ? (int)ncpu : 1);
	int64_t blk[SCOUT_MAX_NDIM];
	block_shape(blk, c, grid, pass_bpv(c), budget, 2 * (size_t)workers);
	scout_pmap_options po = SCOUT_PMAP_OPTIONS_INIT;
	if (c->po)
		po = *c->po;
	po.on_result = NULL;
	return scout_pmap_chunks(NULL, pass_block, c, grid, blk, &po);
}

/*
 * How many levels, from `first`, one pass computes from one read: as many as
 * keep the smallest aligned block within a quarter of the budget and leave
 * enough blocks for the workers (the gaussian: one, its ghost does not chain).
 */
static int chain_length(pass_ctx *c, scout_array **lv, int first, int nlevels,
			const int64_t *factors, size_t budget)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int workers =
	    c->po && c->po->nb_workers > 0 ? c->po->nb_workers : (ncpu > 0 ? (int)ncpu : 1);
	int best = 1;
	for (int n = 2;
	     c->method != SCOUT_DOWNSAMPLE_GAUSSIAN && n <= CHAIN_MAX && first + n - 1 < nlevels;
	     n++) {
		chain_setup(c, lv, first, n, factors);
		int64_t unit[SCOUT_MAX_NDIM];
		chain_unit(unit, c, c->dst[n - 1]);
		const int64_t *gs = scout_array_shape(c->dst[n - 1]);
		double pieces = 1;
		for (int i = 0; i < c->ndim; i++)
			pieces *= ceil((double)gs[i] / (double)unit[i]);
		if (block_bytes(c, unit, pass_bpv(c)) > (double)budget / 4 ||
		    pieces < 2.0 * workers)
			break;
		best = n;
	}
	chain_setup(c, lv, first, best, factors);
	return best;
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
	if (opts->version < 1 || opts->version > SCOUT_PYRAMID_OPTIONS_VERSION)
		return scout__error(SCOUT_EINVAL,
				    "scout_pyramid_write: options version %u, "
				    "expected 1 to %d",
				    opts->version, SCOUT_PYRAMID_OPTIONS_VERSION);
	/* version 1 structs end before shards */
	int64_t shards[SCOUT_MAX_NDIM] = {0};
	int sharded = 0;
	if (opts->version >= 2)
		for (int i = 0; i < SCOUT_MAX_NDIM; i++)
			sharded |= (shards[i] = opts->shards[i]) != 0;
	int nd = scout_array_ndim(input);
	const int64_t *shape = scout_array_shape(input);
	scout_dtype dt = scout_array_dtype(input);
	const char *ver = opts->ngff_version ? opts->ngff_version : "0.4";
	if (strcmp(ver, "0.4") && strcmp(ver, "0.5"))
		return scout__error(SCOUT_EINVAL, "NGFF version '%s' (scout writes 0.4 and 0.5)",
				    ver);
	int v3 = !strcmp(ver, "0.5"); /* NGFF 0.5: Zarr v3 arrays and group */
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
	if (sharded && strcmp(ver, "0.5"))
		return scout__error(SCOUT_EINVAL, "shards need NGFF 0.5 (Zarr v3), not %s", ver);
	for (int i = 0; sharded && i < nd; i++)
		if (shards[i] < 1 || shards[i] % chunks[i])
			return scout__error(
			    SCOUT_EINVAL,
			    "shards: %lld on axis %d is not a multiple of the chunks "
			    "(%lld)",
			    (long long)shards[i], i, (long long)chunks[i]);
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
	if (!v3 && (rc = scout_zarr_group_create(group)) < 0)
		return rc; /* 0.5: the group's zarr.json is written with the metadata, last */
	char dimnames[64];
	snprintf(dimnames, sizeof dimnames, "%s",
		 nd == 3 ? "[\"z\", \"y\", \"x\"]" : "[\"y\", \"x\"]");
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
			if (sharded) /* one shard covers a level smaller than a shard */
				zo.shards[i] = shards[i] < lshape[i]
						   ? shards[i]
						   : (lshape[i] + zo.chunks[i] - 1) / zo.chunks[i] *
							 zo.chunks[i];
		}
		zo.dtype = ts;
		zo.compressor = opts->compressor;
		zo.dimension_separator =
		    opts->dimension_separator ? opts->dimension_separator : '/';
		if (v3) {
			zo.zarr_format = 3; /* default chunk keys c/...; bytes + the compressor */
			zo.dimension_names = dimnames;
		}
		snprintf(path, plen, "%s/%d", group, l);
		rc = scout_zarr_create(&lv[l], path, &zo);
	}
	free(path);

	/* pass 1: input -> level 0 and levels 1..k in one read; then each pass reads the
	 * deepest level written and computes the next levels from it */
	size_t budget = opts->budget ? opts->budget : (size_t)256 << 20;
	int next = 1;
	while (rc == 0) {
		pass_ctx c;
		memset(&c, 0, sizeof c);
		c.ndim = nd;
		c.src = next == 1 ? input : lv[next - 1];
		c.copy = next == 1 ? lv[0] : NULL;
		c.copy_raw = c.copy && scout_zarr_copy_raw_possible(c.copy, c.src);
		c.method = opts->method;
		c.dtype = dt;
		c.po = opts->pmap;
		if (next >= nlevels) {
			if (next > 1)
				break;
			chain_setup(&c, lv, 1, 0, factors); /* one level: the copy alone */
		} else {
			chain_length(&c, lv, next, nlevels, factors, budget);
			rc = scout_downsample_margin(c.margin, nd, c.f[0], c.method);
		}
		if (rc == 0)
			rc = run_pass(&c, budget);
		if (rc < 0 && next > 1)
			scout__error_prefix(rc, "level %d: ", next);
		next += c.n ? c.n : 1;
	}
	for (int l = 0; l < nlevels; l++)
		scout_array_free(lv[l]);
	if (rc == 0)
		rc = scout_ngff_write(group, &ms);
	if (rc == 0 && ms_out)
		*ms_out = ms;
	return rc;
}
