/* scout preview INPUT OUT.png: maximum-intensity projection (+ peaks) as a PNG picture. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "scout/preview.h"

#define PREVIEW_USAGE                                                                              \
	"scout preview [-j N] [--axis z|y|x] [--range A:B] [--peaks PEAKS.csv]\n"                  \
	"                     [--contrast auto|LO,HI] [--depth 8|16] [--max-size N]\n"             \
	"                     [--level N] [--overwrite] [--json] [--processes] "                   \
	"[--[no-]progress]\n"                                                                      \
	"                     INPUT OUT.png"

static void preview_help(void)
{
	printf("usage: " PREVIEW_USAGE "\n\n"
	       "A quality-control picture of an array: the maximum-intensity projection (MIP)\n"
	       "of a 3-D array along one axis (a map-reduce over its chunks: each chunk's\n"
	       "projection, merged with an element-wise maximum; = numpy x.max(axis)), with\n"
	       "the contrast stretched, downsampled to at most --max-size pixels, and the\n"
	       "peaks of a `scout peaks` CSV drawn on it, written as a PNG file.\n\n"
	       "The picture: along z its rows are y and columns x; along y rows z, columns x;\n"
	       "along x rows z, columns y. A 2-D array is taken as it is (rows = axis 0), with\n"
	       "the same contrast, size and peaks (CSV y,x); --axis and --range need 3-D.\n\n"
	       "Contrast: 'auto' maps the 0.5th percentile (numpy method 'lower') and the\n"
	       "99.5th percentile (method 'higher') of the projection's non-NaN values,\n"
	       "found from histograms (no sort), to black and white; LO,HI gives them. A\n"
	       "value v becomes floor((v - LO) / (HI - LO) * M + 0.5) clamped to 0..M\n"
	       "(M = 255, or 65535 with --depth 16); NaN is black; when LO = HI, values above\n"
	       "it are white and the rest black.\n\n"
	       "Size: with L the longer side of the projection, f = ceil(L / N) for\n"
	       "--max-size N; pixel (i, j) of the picture is the maximum of the block of rows\n"
	       "i*f..i*f+f-1 and columns j*f..j*f+f-1 (the last blocks hold what remains), so\n"
	       "the picture is ceil(H/f) x ceil(W/f).\n\n"
	       "Peaks: each line z,y,x of PEAKS.csv (y,x for 2-D; an optional header line;\n"
	       "numbers rounded to the nearest voxel) whose coordinate along the axis lies in\n"
	       "the --range slab is drawn at pixel (row / f, col / f) as a red (255,0,0) ring\n"
	       "of radius 3: the 16 pixels at squared distance 8..10 from it, its centre left\n"
	       "visible. The picture is then RGB. A peak outside the array is an error.\n\n"
	       "Options:\n"
	       "  --axis z|y|x       axis to project along (or 0|1|2; default z)\n"
	       "  --range A:B        project only the slices A <= i < B of the axis (A or B may\n"
	       "                     be left out: A: or :B); default: all\n"
	       "  --peaks PEAKS.csv  draw these peaks (scout peaks output)\n"
	       "  --contrast auto|LO,HI\n"
	       "                     grey levels (default auto: 0.5th..99.5th percentile)\n"
	       "  --depth 8|16       bits per sample of the PNG (default 8)\n"
	       "  --max-size N       longest side of the picture in pixels (default 2048)\n"
	       "  --overwrite        replace an existing OUT.png\n"
	       "  --json             print {\"output\", \"height\", \"width\", \"factor\",\n"
	       "                     \"lo\", \"hi\", \"peaks_drawn\"} on stdout\n"
	       "  -j, --workers N    parallel workers (default: online CPUs)\n"
	       "  --processes        fork worker processes instead of threads\n"
	       "  --progress, --no-progress  progress bar on stderr (default: when a terminal)\n"
	       "  -h, --help         this help\n\n"
	       "  --level N          INPUT is an OME-Zarr group: use its level N (default 0;\n"
	       "                     the level's array path, e.g. image.ome.zarr/2, works too)\n\n"
	       "Examples:\n"
	       "  scout preview volume.zarr mip.png\n"
	       "  scout preview volume.zarr mip.png --range 100:164 --peaks nuclei.csv\n"
	       "  scout preview volume.zarr side.png --axis x --contrast 100,1500 --depth 16\n");
}

/* ---- the peaks CSV ---- */

/* split line at commas into at most max fields (in place); returns the count */
static int split_fields(char **fields, int max, char *line)
{
	int n = 0;
	char *p = line;
	for (;;) {
		char *c = strchr(p, ',');
		if (n < max)
			fields[n] = p;
		n++;
		if (!c)
			break;
		*c = '\0';
		p = c + 1;
	}
	return n;
}

static int parse_number(double *out, const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s)
		return -1;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	while (*end == ' ' || *end == '\t')
		end++;
	if (*end || errno || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

int cli_read_points_csv(double **points_out, size_t *count_out, const char *path, int ndim)
{
	*points_out = NULL;
	*count_out = 0;
	FILE *f = fopen(path, "r");
	if (!f)
		return scout__error(SCOUT_EIO, "%s: %s", path, strerror(errno));
	char *line = NULL;
	size_t cap = 0, count = 0, alloc = 0, lineno = 0;
	double *pts = NULL;
	int rc = 0;
	ssize_t len;
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0)
			continue;
		char *fields[SCOUT_MAX_NDIM];
		int nf = split_fields(fields, SCOUT_MAX_NDIM, line);
		if (nf != ndim) {
			rc = scout__error(
			    SCOUT_EFORMAT,
			    "%s line %zu: %d column%s, expected %d (the array is %d-D: "
			    "%s)",
			    path, lineno, nf, nf == 1 ? "" : "s", ndim, ndim,
			    ndim == 3 ? "z,y,x" : "y,x");
			break;
		}
		double v[SCOUT_MAX_NDIM];
		int bad = -1;
		for (int i = 0; i < ndim && bad < 0; i++)
			if (parse_number(&v[i], fields[i]) < 0)
				bad = i;
		if (bad >= 0) {
			/* a first line that is not numbers at all is the header */
			int header = lineno == 1 && count == 0;
			for (int i = 0; i < ndim && header; i++) {
				double t;
				header = parse_number(&t, fields[i]) < 0;
			}
			if (header)
				continue;
			rc = scout__error(SCOUT_EFORMAT,
					  "%s line %zu, column %d: '%s' is not a number", path,
					  lineno, bad + 1, fields[bad]);
			break;
		}
		if (count == alloc) {
			size_t na = alloc ? 2 * alloc : 256;
			double *np = realloc(pts, na * (size_t)ndim * sizeof *pts);
			if (!np) {
				rc = scout__error(SCOUT_ENOMEM, "%s: out of memory", path);
				break;
			}
			pts = np;
			alloc = na;
		}
		memcpy(pts + count * (size_t)ndim, v, (size_t)ndim * sizeof *v);
		count++;
	}
	if (rc == 0 && ferror(f))
		rc = scout__error(SCOUT_EIO, "%s: read failed: %s", path, strerror(errno));
	free(line);
	fclose(f);
	if (rc < 0) {
		free(pts);
		return rc;
	}
	*points_out = pts;
	*count_out = count;
	return SCOUT_OK;
}

/* ---- the picture ---- */

/* the output must be creatable: no existing file (unless overwrite), a directory */
static int check_output(const char *path, int overwrite)
{
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return scout__error(SCOUT_EIO, "%s is a directory", path);
		if (!overwrite)
			return scout__error(
			    SCOUT_EIO, "%s already exists (use --overwrite to replace it)", path);
	}
	char *copy = strdup(path);
	if (!copy)
		return scout__error(SCOUT_ENOMEM, "out of memory");
	const char *dir = dirname(copy);
	int rc = 0;
	if (stat(dir, &st) != 0)
		rc = scout__error(SCOUT_EIO, "%s: cannot write there: %s: %s", path, dir,
				  strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		rc = scout__error(SCOUT_EIO, "%s: cannot write there: %s is not a directory", path,
				  dir);
	else if (access(dir, W_OK | X_OK) != 0)
		rc = scout__error(SCOUT_EIO, "%s: cannot write there: %s: %s", path, dir,
				  strerror(errno));
	free(copy);
	return rc;
}

/* draw a set of points: rounded, in the slab, projected, scaled by f */
static int draw_set(size_t *drawn, void *rgb, int depth, int64_t ph, int64_t pw, int64_t f,
		    const cli_marker_set *s, int ndim, const int64_t *shape, int axis, int64_t r0,
		    int64_t r1, const char *what)
{
	uint16_t color[3];
	for (int c = 0; c < 3; c++)
		color[c] = depth == 8 ? s->color[c] : (uint16_t)(s->color[c] * 257u);
	for (size_t k = 0; k < s->count; k++) {
		const double *p = s->points + k * (size_t)ndim;
		int64_t v[3];
		for (int i = 0; i < ndim; i++) {
			double r = floor(p[i] + 0.5);
			if (!(r >= 0 && r < (double)shape[i]))
				return scout__error(SCOUT_EBOUNDS,
						    "%s: point %zu (%g, %g%s%g) lies outside the "
						    "array (axis %d: %g not in 0..%lld)",
						    what, k + 1, p[0], p[1], ndim == 3 ? ", " : "",
						    ndim == 3 ? p[2] : 0.0, i, p[i],
						    (long long)shape[i] - 1);
			v[i] = (int64_t)r;
		}
		int64_t row, col;
		if (ndim == 2) {
			row = v[0], col = v[1];
		} else {
			if (v[axis] < r0 || v[axis] >= r1)
				continue;
			row = axis == 0 ? v[1] : v[0];
			col = axis == 2 ? v[1] : v[2];
		}
		int rc = scout_draw_marker(rgb, depth, ph, pw, row / f, col / f, s->shape, color);
		if (rc < 0)
			return rc;
		(*drawn)++;
	}
	return SCOUT_OK;
}

int cli_preview_run(cli_preview_info *info, const cli_preview_params *p)
{
	scout_array *in = NULL;
	void *image = NULL, *grey = NULL, *small = NULL, *rgb = NULL;
	double *csv_pts = NULL;
	size_t csv_count = 0;
	int rc;
	memset(info, 0, sizeof *info);
	cli_signals_install();
	if ((rc = check_output(p->output, p->overwrite)) < 0)
		return rc;
	if ((rc = cli_open_input(&in, p->input, p->level)) < 0)
		return rc;
	int ndim = scout_array_ndim(in);
	const int64_t *shape = scout_array_shape(in);
	scout_dtype dtype = scout_array_dtype(in);
	int axis = p->axis < 0 ? 0 : p->axis;
	int64_t r0 = 0, r1 = 0, h, w;
	if (ndim != 2 && ndim != 3) {
		rc =
		    scout__error(SCOUT_EINVAL, "%s: a %d-D array; preview takes 2-D and 3-D arrays",
				 p->input, ndim);
		goto done;
	}
	if (ndim == 2 && (p->axis >= 0 || p->has_range)) {
		rc = scout__error(SCOUT_EINVAL,
				  "%s is 2-D: it is shown as it is, --axis and --range apply to "
				  "3-D arrays",
				  p->input);
		goto done;
	}
	if (ndim == 3) {
		int64_t ext = shape[axis];
		r0 = p->has_range ? p->r0 : 0;
		r1 = p->has_range && p->r1 >= 0 ? p->r1 : ext;
		if (r0 < 0 || r1 > ext || r0 >= r1) {
			rc = scout__error(SCOUT_EBOUNDS,
					  "--range %lld:%lld is outside the %c axis of %s (0:%lld) "
					  "or empty",
					  (long long)r0, (long long)r1, "zyx"[axis], p -> input,
					  (long long)ext);
			goto done;
		}
	}
	if (p->peaks && (rc = cli_read_points_csv(&csv_pts, &csv_count, p->peaks, ndim)) < 0)
		goto done;
	if (p->contrast_fixed && !(p->lo <= p->hi)) {
		rc = scout__error(SCOUT_EINVAL, "--contrast %g,%g: LO must be <= HI", p->lo, p->hi);
		goto done;
	}

	/* 1. the projection (2-D: the array itself) */
	int64_t pshape[2];
	if (ndim == 3) {
		scout_mip_options mo = SCOUT_MIP_OPTIONS_INIT;
		scout_pmap_options po = SCOUT_PMAP_OPTIONS_INIT;
		cli_pmap_options(&po, &p->common);
		mo.axis = axis;
		mo.start = r0;
		mo.stop = r1;
		mo.pmap = &po;
		rc = scout_mip(&image, pshape, in, &mo);
		if (rc < 0) {
			if (cli_interrupted())
				rc = cli_check_interrupt();
			goto done;
		}
	} else {
		size_t nb;
		pshape[0] = shape[0];
		pshape[1] = shape[1];
		if ((rc = scout__shape_size(NULL, &nb, 2, pshape, scout_dtype_size(dtype))) < 0)
			goto done;
		image = malloc(nb ? nb : 1);
		if (!image) {
			rc = scout__error(SCOUT_ENOMEM, "cannot allocate the %zu-byte image", nb);
			goto done;
		}
		int64_t zero[2] = {0, 0};
		if ((rc = scout_extract_box(image, in, zero, pshape)) < 0)
			goto done;
	}
	h = pshape[0];
	w = pshape[1];
	if (h < 1 || w < 1) {
		rc = scout__error(SCOUT_EINVAL, "%s: the picture would be empty (%lldx%lld)",
				  p->input, (long long)h, (long long)w);
		goto done;
	}
	size_t n = (size_t)h * (size_t)w;

	/* 2. contrast */
	info->lo = p->lo;
	info->hi = p->hi;
	if (!p->contrast_fixed &&
	    (rc = scout_contrast_auto(&info->lo, &info->hi, image, dtype, n, 0.5, 99.5)) < 0)
		goto done;
	int depth = p->depth ? p->depth : 8;
	scout_dtype gtype = depth == 8 ? SCOUT_UINT8 : SCOUT_UINT16;
	size_t gsz = (size_t)depth / 8;
	grey = malloc(n * gsz);
	if (!grey) {
		rc = scout__error(SCOUT_ENOMEM, "cannot allocate a %lldx%lld picture", (long long)h,
				  (long long)w);
		goto done;
	}
	if ((rc = scout_contrast_map(grey, depth, image, dtype, n, info->lo, info->hi)) < 0)
		goto done;
	free(image);
	image = NULL;

	/* 3. size */
	int64_t f = scout_downsample_factor(h, w, p->max_size ? p->max_size : 2048);
	int64_t ph = (h + f - 1) / f, pw = (w + f - 1) / f;
	size_t pn = (size_t)ph * (size_t)pw;
	if (f > 1) {
		small = malloc(pn * gsz);
		if (!small) {
			rc = scout__error(SCOUT_ENOMEM, "out of memory");
			goto done;
		}
		if ((rc = scout_block_max_2d(small, grey, gtype, h, w, f)) < 0)
			goto done;
		free(grey);
		grey = small;
		small = NULL;
	}
	info->height = ph;
	info->width = pw;
	info->factor = f;

	/* 4. peaks: an RGB picture */
	cli_marker_set csv_set = {csv_pts, csv_count, SCOUT_MARKER_RING, {255, 0, 0}};
	int channels = 1;
	if (p->peaks || p->nsets) {
		channels = 3;
		rgb = malloc(pn * 3 * gsz);
		if (!rgb) {
			rc = scout__error(SCOUT_ENOMEM, "out of memory");
			goto done;
		}
		for (size_t i = 0; i < pn; i++)
			for (int c = 0; c < 3; c++)
				memcpy((char *)rgb + (i * 3 + (size_t)c) * gsz,
				       (char *)grey + i * gsz, gsz);
		for (int s = 0; s < p->nsets && rc == 0; s++)
			rc = draw_set(&info->drawn, rgb, depth, ph, pw, f, &p->sets[s], ndim, shape,
				      axis, r0, r1, "markers");
		if (rc == 0 && p->peaks)
			rc = draw_set(&info->drawn, rgb, depth, ph, pw, f, &csv_set, ndim, shape,
				      axis, r0, r1, p->peaks);
		if (rc < 0)
			goto done;
	}

	/* 5. the file */
	if ((rc = cli_check_interrupt()) < 0)
		goto done;
	rc = scout_png_write(p->output, channels == 3 ? rgb : grey, ph, pw, channels, depth);
done:
	scout_array_free(in);
	free(image);
	free(grey);
	free(small);
	free(rgb);
	free(csv_pts);
	return rc;
}

/* "A:B", "A:", ":B" */
static int parse_range(int64_t *a, int64_t *b, const char *s)
{
	const char *colon = strchr(s, ':');
	if (!colon || strchr(colon + 1, ':'))
		return -1;
	*a = 0;
	*b = -1;
	char buf[64];
	size_t la = (size_t)(colon - s);
	if (la >= sizeof buf)
		return -1;
	memcpy(buf, s, la);
	buf[la] = '\0';
	int64_t v[1];
	if (la && (cli_parse_int64_list(v, 1, buf, 0) != 1 || (*a = v[0], 0)))
		return -1;
	if (colon[1] && (cli_parse_int64_list(v, 1, colon + 1, 0) != 1 || (*b = v[0], 0)))
		return -1;
	return 0;
}

enum {
	OPT_AXIS = CLI_OPT_FIRST_CMD,
	OPT_RANGE,
	OPT_PEAKS,
	OPT_CONTRAST,
	OPT_DEPTH,
	OPT_MAX_SIZE,
	OPT_OVERWRITE
};

int cli_preview_main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    CLI_COMMON_LONGOPTS,
	    CLI_JSON_LONGOPT,
	    {"level", required_argument, NULL, CLI_OPT_LEVEL},
	    {"axis", required_argument, NULL, OPT_AXIS},
	    {"range", required_argument, NULL, OPT_RANGE},
	    {"peaks", required_argument, NULL, OPT_PEAKS},
	    {"contrast", required_argument, NULL, OPT_CONTRAST},
	    {"depth", required_argument, NULL, OPT_DEPTH},
	    {"max-size", required_argument, NULL, OPT_MAX_SIZE},
	    {"overwrite", no_argument, NULL, OPT_OVERWRITE},
	    {NULL, 0, NULL, 0},
	};
	cli_preview_params p;
	memset(&p, 0, sizeof p);
	p.axis = -1;
	p.depth = 8;
	p.max_size = 2048;
	cli_common_init(&p.common);
	int opt;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":hj:", longopts, NULL)) != -1) {
		switch (opt) {
		case CLI_OPT_LEVEL:
			if (cli_parse_level(&p.level, optarg) < 0)
				return cli_usage_error(
				    "preview", PREVIEW_USAGE,
				    "--level needs a level number >= 0, not '%s'", optarg);
			break;
		case 'h':
			preview_help();
			return CLI_EXIT_OK;
		case OPT_AXIS: {
			const char *names[] = {"z", "y", "x", "0", "1", "2"};
			p.axis = -1;
			for (int i = 0; i < 6; i++)
				if (!strcmp(optarg, names[i]))
					p.axis = i % 3;
			if (p.axis < 0)
				return cli_usage_error(
				    "preview", PREVIEW_USAGE,
				    "--axis needs z, y or x (or 0, 1, 2), not '%s'", optarg);
			break;
		}
		case OPT_RANGE:
			if (parse_range(&p.r0, &p.r1, optarg) < 0)
				return cli_usage_error("preview", PREVIEW_USAGE,
						       "--range needs A:B (integers >= 0, A or B "
						       "may be left out), not '%s'",
						       optarg);
			p.has_range = 1;
			break;
		case OPT_PEAKS:
			p.peaks = optarg;
			break;
		case OPT_CONTRAST:
			if (!strcmp(optarg, "auto")) {
				p.contrast_fixed = 0;
				break;
			}
			double lh[2];
			if (cli_parse_double_list(lh, 2, optarg) != 2 || !isfinite(lh[0]) ||
			    !isfinite(lh[1]) || lh[0] > lh[1])
				return cli_usage_error(
				    "preview", PREVIEW_USAGE,
				    "--contrast needs auto or LO,HI (numbers, LO "
				    "<= HI), not '%s'",
				    optarg);
			p.contrast_fixed = 1;
			p.lo = lh[0];
			p.hi = lh[1];
			break;
		case OPT_DEPTH:
			if (strcmp(optarg, "8") && strcmp(optarg, "16"))
				return cli_usage_error("preview", PREVIEW_USAGE,
						       "--depth needs 8 or 16, not '%s'", optarg);
			p.depth = atoi(optarg);
			break;
		case OPT_MAX_SIZE: {
			int64_t v[1];
			if (cli_parse_int64_list(v, 1, optarg, 1) != 1 || v[0] > INT32_MAX)
				return cli_usage_error("preview", PREVIEW_USAGE,
						       "--max-size needs an integer >= 1, not '%s'",
						       optarg);
			p.max_size = v[0];
			break;
		}
		case OPT_OVERWRITE:
			p.overwrite = 1;
			break;
		default: {
			int r = cli_other_option(&p.common, opt, "preview", PREVIEW_USAGE, argv);
			if (r)
				return r;
		}
		}
	}
	if (argc - optind != 2)
		return cli_usage_error("preview", PREVIEW_USAGE,
				       "expected INPUT and OUT.png, got %d arguments",
				       argc - optind);
	p.input = argv[optind];
	p.output = argv[optind + 1];
	cli_preview_info info;
	if (cli_preview_run(&info, &p) < 0)
		return cli_fail();
	if (p.common.json) {
		/* limits are null when every value is NaN */
		json_t *j = json_pack("{s:s, s:I, s:I, s:I, s:o, s:o, s:I}", "output", p.output,
				      "height", (json_int_t)info.height, "width",
				      (json_int_t)info.width, "factor", (json_int_t)info.factor,
				      "lo", isnan(info.lo) ? json_null() : json_real(info.lo), "hi",
				      isnan(info.hi) ? json_null() : json_real(info.hi),
				      "peaks_drawn", (json_int_t)info.drawn);
		char *t = j ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
		printf("%s\n", t ? t : "{}");
		free(t);
		json_decref(j);
	} else {
		printf("%s: %lldx%lld pixels (downsampled %lldx), contrast %g..%g", p.output,
		       (long long)info.width, (long long)info.height, (long long)info.factor,
		       info.lo, info.hi);
		if (p.peaks)
			printf(", %zu peaks drawn", info.drawn);
		printf("\n");
	}
	return CLI_EXIT_OK;
}
