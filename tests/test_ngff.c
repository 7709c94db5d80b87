/*
 * OME-Zarr pyramids: the downsampling kernels on hand-computed blocks, the
 * level plan of the anisotropic example, the multiscales metadata (round trip
 * and malformed files) and a small pyramid built from memory.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "scout/scout.h"

static char root[64];

static void test_mean_rounding(void)
{
	/* 3x3 uint8 with 2x2 blocks: [0:2,0:2] [0:2,2] [2,0:2] [2,2] */
	const uint8_t in[9] = {1, 2, 9, 3, 5, 10, 7, 8, 255};
	int64_t is[2] = {3, 3}, os[2] = {2, 2}, f[2] = {2, 2};
	uint8_t out[4];
	CHECK_OK(scout_downsample(out, os, in, is, NULL, SCOUT_UINT8, 2, f, SCOUT_DOWNSAMPLE_MEAN));
	/* (1+2+3+5)/4 = 2.75 -> 3; (9+10)/2 = 9.5 -> 10; (7+8)/2 = 7.5 -> 8; 255 */
	CHECK(out[0] == 3 && out[1] == 10 && out[2] == 8 && out[3] == 255);

	const int8_t sin[4] = {-1, -2, 3, 4}; /* -1.5 -> -2 (away from zero), 3.5 -> 4 */
	int64_t s1[1] = {4}, o1[1] = {2}, f1[1] = {2};
	int8_t sout[2];
	CHECK_OK(
	    scout_downsample(sout, o1, sin, s1, NULL, SCOUT_INT8, 1, f1, SCOUT_DOWNSAMPLE_MEAN));
	CHECK(sout[0] == -2 && sout[1] == 4);

	const uint64_t big[2] = {UINT64_MAX, UINT64_MAX - 2}; /* exact past 2^64 */
	uint64_t bout[1];
	int64_t s2[1] = {2}, o2[1] = {1};
	CHECK_OK(
	    scout_downsample(bout, o2, big, s2, NULL, SCOUT_UINT64, 1, f1, SCOUT_DOWNSAMPLE_MEAN));
	CHECK(bout[0] == UINT64_MAX - 1);

	const float fin[3] = {1.0f, NAN, 2.5f};
	float fout[2];
	int64_t s3[1] = {3}, o3[1] = {2};
	CHECK_OK(
	    scout_downsample(fout, o3, fin, s3, NULL, SCOUT_FLOAT32, 1, f1, SCOUT_DOWNSAMPLE_MEAN));
	CHECK(isnan(fout[0]) && fout[1] == 2.5f);
}

static void test_nearest_mode_gaussian(void)
{
	const uint16_t in[10] = {5, 1, 1, 5, 7, 7, 2, 2, 9, 0};
	int64_t is[1] = {10}, os[1] = {4}, f[1] = {3};
	uint16_t out[4];
	CHECK_OK(
	    scout_downsample(out, os, in, is, NULL, SCOUT_UINT16, 1, f, SCOUT_DOWNSAMPLE_NEAREST));
	CHECK(out[0] == 5 && out[1] == 5 && out[2] == 2 && out[3] == 0);
	int64_t f2[1] = {2}, os2[1] = {5};
	uint16_t m[5];
	CHECK_OK(
	    scout_downsample(m, os2, in, is, NULL, SCOUT_UINT16, 1, f2, SCOUT_DOWNSAMPLE_MODE));
	/* {5,1} tie -> 1; {1,5} -> 1; {7,7} -> 7; {2,2} -> 2; {9,0} -> 0 */
	CHECK(m[0] == 1 && m[1] == 1 && m[2] == 7 && m[3] == 2 && m[4] == 0);
	const int32_t lab[8] = {-3, 4, 4, -3, -3, 4, 4, -3}; /* 2x2x2 block: 4 each -> -3 */
	int64_t s3[3] = {2, 2, 2}, o3[3] = {1, 1, 1}, f3[3] = {2, 2, 2};
	int32_t lo[1];
	CHECK_OK(
	    scout_downsample(lo, o3, lab, s3, NULL, SCOUT_INT32, 3, f3, SCOUT_DOWNSAMPLE_MODE));
	CHECK(lo[0] == -3);
	float fl[4] = {0};
	float fo[2];
	int64_t s4[1] = {4}, o4[1] = {2};
	CHECK_ERR(
	    scout_downsample(fo, o4, fl, s4, NULL, SCOUT_FLOAT32, 1, f2, SCOUT_DOWNSAMPLE_MODE),
	    SCOUT_EINVAL, "label");
	/* gaussian of a constant is the constant; margin 3 for a factor 2 */
	uint16_t c[64], co[16];
	for (int i = 0; i < 64; i++)
		c[i] = 1234;
	int64_t s5[2] = {8, 8}, o5[2] = {4, 4}, f5[2] = {2, 2}, mg[2];
	CHECK_OK(
	    scout_downsample(co, o5, c, s5, NULL, SCOUT_UINT16, 2, f5, SCOUT_DOWNSAMPLE_GAUSSIAN));
	int same = 1;
	for (int i = 0; i < 16; i++)
		same &= co[i] == 1234;
	CHECK(same);
	CHECK_OK(scout_downsample_margin(mg, 2, f5, SCOUT_DOWNSAMPLE_GAUSSIAN));
	CHECK(mg[0] == 3 && mg[1] == 3); /* (int)(4 * 2/3 + 0.5) */
	/* an output that needs voxels past the input */
	int64_t bad[1] = {6};
	CHECK_ERR(
	    scout_downsample(m, bad, in, is, NULL, SCOUT_UINT16, 1, f2, SCOUT_DOWNSAMPLE_MEAN),
	    SCOUT_EINVAL, "input voxels");
}

static void test_plan(void)
{
	int64_t f[SCOUT_NGFF_MAX_LEVELS * 3], shape[3] = {512, 2048, 2048}, ch[3] = {64, 64, 64};
	double vs[3] = {2.0, 0.65, 0.65};
	int n = 0;
	CHECK_OK(scout_ngff_plan(f, &n, 3, shape, ch, vs, 0));
	/* y, x alone twice (0.65 -> 1.3 -> 2.6 um), then all: 512x2048^2 -> 64^3 in 6 levels */
	CHECK(n == 6);
	const int64_t want[6][3] = {{1, 1, 1}, {1, 2, 2}, {1, 2, 2},
				    {2, 2, 2}, {2, 2, 2}, {2, 2, 2}};
	int ok = 1;
	for (int l = 0; l < n && l < 6; l++)
		for (int i = 0; i < 3; i++)
			ok &= f[l * 3 + i] == want[l][i];
	CHECK(ok);
	CHECK_OK(scout_ngff_plan(f, &n, 3, shape, ch, vs, 2));
	CHECK(n == 2);
	vs[0] = 0;
	CHECK_ERR(scout_ngff_plan(f, &n, 3, shape, ch, vs, 0), SCOUT_EINVAL, "voxel size");
}

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");
	if (fp) {
		fputs(text, fp);
		fclose(fp);
	}
}

static void test_metadata(void)
{
	char g[128], p[192];
	snprintf(g, sizeof g, "%s/meta", root);
	scout_ngff_multiscale ms, back;
	memset(&ms, 0, sizeof ms);
	ms.version = SCOUT_NGFF_MULTISCALE_VERSION;
	strcpy(ms.ngff_version, "0.4");
	strcpy(ms.name, "img");
	strcpy(ms.type, "mean");
	ms.ndim = 2;
	strcpy(ms.axis_name[0], "y");
	strcpy(ms.axis_name[1], "x");
	for (int i = 0; i < 2; i++) {
		strcpy(ms.axis_type[i], "space");
		strcpy(ms.axis_unit[i], "micrometer");
	}
	ms.nlevels = 2;
	strcpy(ms.path[0], "0");
	strcpy(ms.path[1], "1");
	ms.scale[0][0] = ms.scale[0][1] = 0.5;
	ms.scale[1][0] = ms.scale[1][1] = 1.0;
	ms.has_translation[1] = 1;
	ms.translation[1][0] = ms.translation[1][1] = 0.25;
	CHECK_OK(scout_ngff_write(g, &ms));
	CHECK_OK(scout_ngff_read(&back, g));
	CHECK(!strcmp(back.ngff_version, "0.4") && back.ndim == 2 && back.nlevels == 2 &&
	      !strcmp(back.axis_unit[1], "micrometer") && back.scale[1][0] == 1.0 &&
	      back.has_translation[1] && !back.has_translation[0] &&
	      back.translation[1][1] == 0.25 && !strcmp(back.type, "mean"));
	/* rules the writer enforces */
	strcpy(ms.axis_name[1], "y");
	CHECK_ERR(scout_ngff_write(g, &ms), SCOUT_EINVAL, "repeated");
	strcpy(ms.axis_name[1], "x");
	ms.scale[1][0] = 0;
	CHECK_ERR(scout_ngff_write(g, &ms), SCOUT_EINVAL, "scale");
	ms.scale[1][0] = 1;
	strcpy(ms.axis_type[0], "time");
	CHECK_ERR(scout_ngff_write(g, &ms), SCOUT_EINVAL, "space");
	/* malformed files the reader refuses */
	snprintf(p, sizeof p, "%s/.zattrs", g);
	write_file(
	    p, "{\"multiscales\":[{\"version\":\"0.4\",\"axes\":[{\"name\":\"y\",\"type\":"
	       "\"space\"},{\"name\":\"x\",\"type\":\"space\"}],\"datasets\":[{\"path\":\"0\","
	       "\"coordinateTransformations\":[{\"type\":\"translation\",\"translation\":[0,0]},"
	       "{\"type\":\"scale\",\"scale\":[1,1]}]}]}]}");
	CHECK_ERR(scout_ngff_read(&back, g), SCOUT_EFORMAT, "must be a scale");
	write_file(p,
		   "{\"multiscales\":[{\"version\":\"0.4\",\"axes\":[{\"name\":\"y\",\"type\":"
		   "\"space\"},{\"name\":\"x\",\"type\":\"space\"}],\"datasets\":[{\"path\":\"0\","
		   "\"coordinateTransformations\":[{\"type\":\"scale\",\"scale\":[1]}]}]}]}");
	CHECK_ERR(scout_ngff_read(&back, g), SCOUT_EFORMAT, "one per axis");
	write_file(p, "{\"multiscales\":[{\"version\":\"0.3\",\"axes\":[]}]}");
	CHECK_ERR(scout_ngff_read(&back, g), SCOUT_EUNSUPPORTED, "0.3");
	write_file(p, "{\"other\": 1}");
	CHECK_ERR(scout_ngff_read(&back, g), SCOUT_ENOTFOUND, "no multiscales");
	write_file(p, "[1,");
	CHECK_ERR(scout_ngff_read(&back, g), SCOUT_EFORMAT, ".zattrs");
}

static void test_build_from_memory(void)
{
	/* 5 x 7 uint16, 2-D: chunks 2x2 force several levels and blocks */
	uint16_t v[35];
	for (int i = 0; i < 35; i++)
		v[i] = (uint16_t)(i * 3);
	int64_t shape[2] = {5, 7};
	scout_array *a = NULL, *l1 = NULL;
	CHECK_OK(scout_array_wrap(&a, v, 2, shape, SCOUT_UINT16));
	char g[128];
	snprintf(g, sizeof g, "%s/pyr", root);
	scout_pyramid_options o = SCOUT_PYRAMID_OPTIONS_INIT;
	scout_pmap_options po = SCOUT_PMAP_OPTIONS_INIT;
	po.nb_workers = 2;
	o.pmap = &po;
	o.chunks[0] = o.chunks[1] = 2;
	o.voxel_size[0] = 1.5;
	o.voxel_size[1] = 0.5;
	scout_ngff_multiscale ms;
	CHECK_OK(scout_pyramid_write(g, a, &o, &ms));
	/* x alone while finer than 1.5/sqrt(2) um: 5x7, 5x4, 5x2; then 3x1, 2x1 (fits 2x2) */
	CHECK(ms.nlevels == 5 && ms.scale[1][0] == 1.5 && ms.scale[1][1] == 1.0 &&
	      ms.translation[1][1] == 0.25 && ms.translation[1][0] == 0);
	scout_ngff_multiscale rd;
	CHECK_OK(scout_ngff_open_level(&l1, &rd, g, 1, SCOUT_MODE_READ));
	CHECK(rd.nlevels == ms.nlevels);
	if (l1) {
		const int64_t *s1 = scout_array_shape(l1);
		CHECK(s1[0] == 5 && s1[1] == 4);
		uint16_t got[20];
		int64_t st[2] = {0, 0}, sp[2] = {5, 4};
		CHECK_OK(scout_extract_box(got, l1, st, sp));
		int ok = 1;
		for (int y = 0; y < 5; y++)
			for (int x = 0; x < 4; x++) {
				/* mean of v[y][2x], v[y][2x+1] (the last block has one voxel) */
				int a0 = (y * 7 + 2 * x) * 3, n = 2 * x + 1 < 7 ? 2 : 1;
				int s = n == 2 ? a0 + a0 + 3 : a0;
				ok &= got[y * 4 + x] == (uint16_t)((2 * s + n) / (2 * n));
			}
		CHECK(ok);
	}
	scout_array_free(l1);
	CHECK_ERR(scout_ngff_open_level(&l1, NULL, g, 9, SCOUT_MODE_READ), SCOUT_EINVAL, "level 9");
	o.method = SCOUT_DOWNSAMPLE_MODE;
	scout_array *fa = NULL;
	float fv[4] = {0};
	int64_t fs[2] = {2, 2};
	CHECK_OK(scout_array_wrap(&fa, fv, 2, fs, SCOUT_FLOAT32));
	snprintf(g, sizeof g, "%s/pyr_mode", root);
	CHECK_ERR(scout_pyramid_write(g, fa, &o, NULL), SCOUT_EINVAL, "mode");
	o.method = SCOUT_DOWNSAMPLE_MEAN;
	o.max_levels = -1;
	CHECK_ERR(scout_pyramid_write(g, a, &o, NULL), SCOUT_EINVAL, "levels");
	scout_array_free(fa);
	scout_array_free(a);
}

int main(void)
{
	snprintf(root, sizeof root, "/tmp/scout_ngff_XXXXXX");
	if (!mkdtemp(root))
		return 1;
	test_mean_rounding();
	test_nearest_mode_gaussian();
	test_plan();
	test_metadata();
	test_build_from_memory();
	if (!getenv("KEEP")) {
		char cmd[128];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", root);
	}
	return check_summary();
}
