/* File helpers on real temporary directories: files_in_dir, tifs_in_dir, read_voxel_size. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

static char tmpdir[64];

/* arrays as CHECK_ERR needles go through a pointer (avoids -Waddress) */
static const char *S(const char *s)
{
	return s;
}

static void touch(const char *dir, const char *name, const char *content)
{
	char p[512];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	FILE *f = fopen(p, "wb");
	if (!f) {
		perror(p);
		exit(2);
	}
	if (content)
		fputs(content, f);
	fclose(f);
}

static void rm_rf(const char *path)
{
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
	if (system(cmd) != 0)
		fprintf(stderr, "warning: cannot remove %s\n", path);
}

/* the listing of sorted(os.listdir(dir)) by Debian's python, one name a line */
static int python_listing(char names[][300], int max, const char *dir)
{
	char cmd[600];
	snprintf(cmd, sizeof cmd,
		 "/usr/bin/python3 -c 'import os,sys; "
		 "print(\"\\n\".join(sorted(os.listdir(sys.argv[1]))))' '%s'",
		 dir);
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	int n = 0;
	char line[256];
	while (n < max && fgets(line, sizeof line, p)) {
		line[strcspn(line, "\n")] = '\0';
		snprintf(names[n++], 300, "%s", line);
	}
	if (pclose(p) != 0)
		return -1;
	return n;
}

static void test_listings(void)
{
	char dir[128], sub[160];
	snprintf(dir, sizeof dir, "%s/list", tmpdir);
	CHECK(mkdir(dir, 0700) == 0);
	const char *files[] = {"B.tif",       "a.TIF",     "10.tiff",    "2.tif",  "_x.Tif",
			       ".hidden.tif", "notes.txt", "z.tiff.bak", "c.tIfF", "tif",
			       ".tif",        "Z.TIFF",    "y.tifx"};
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
		touch(dir, files[i], "x");
	snprintf(sub, sizeof sub, "%s/sub.tif", dir);
	CHECK(mkdir(sub, 0700) == 0); /* a directory named like a TIFF */
	touch(sub, "inner.tif", "x");

	/* byte order by hand: '.' < digits < uppercase < '_' < lowercase */
	const char *all[] = {".hidden.tif", ".tif",   "10.tiff", "2.tif",     "B.tif",
			     "Z.TIFF",      "_x.Tif", "a.TIF",   "c.tIfF",    "notes.txt",
			     "sub.tif",     "tif",    "y.tifx",  "z.tiff.bak"};
	size_t nall = sizeof all / sizeof all[0];
	scout_strlist *l = NULL;
	CHECK_OK(scout_files_in_dir(&l, dir));
	CHECK(scout_strlist_count(l) == nall);
	/* names, not paths, as SCOUT's files_in_dir (sorted(os.listdir(path))) */
	for (size_t i = 0; i < nall && i < scout_strlist_count(l); i++)
		CHECK(strcmp(scout_strlist_get(l, i), all[i]) == 0);
	CHECK(scout_strlist_get(l, nall) == NULL);
	/* the same order as Python's sorted(os.listdir()) */
	char py[32][300];
	int npy = python_listing(py, 32, dir);
	CHECK(npy == (int)nall);
	for (int i = 0; i < npy && i < (int)scout_strlist_count(l); i++) {
		CHECK(strcmp(scout_strlist_get(l, (size_t)i), py[i]) == 0);
	}
	scout_strlist_free(l);

	/* ".tif" alone is a name with the extension .tif too (as name.lower().endswith) */
	const char *tifs[] = {".hidden.tif", "10.tiff", "2.tif", "B.tif",
			      "Z.TIFF",      "_x.Tif",  "a.TIF", "c.tIfF"};
	size_t ntif = sizeof tifs / sizeof tifs[0];
	scout_strlist *paths = NULL, *names = NULL;
	CHECK_OK(scout_tifs_in_dir(&paths, &names, dir));
	CHECK(scout_strlist_count(paths) == ntif);
	CHECK(scout_strlist_count(names) == ntif);
	for (size_t i = 0; i < ntif && i < scout_strlist_count(paths); i++) {
		char want[300];
		snprintf(want, sizeof want, "%s/%s", dir, tifs[i]);
		CHECK(strcmp(scout_strlist_get(paths, i), want) == 0);
		CHECK(strcmp(scout_strlist_get(names, i), tifs[i]) == 0);
	}
	scout_strlist_free(paths);
	scout_strlist_free(names);

	/* names_out may be NULL; a relative path gives absolute results */
	char cwd[512];
	CHECK(getcwd(cwd, sizeof cwd) != NULL);
	CHECK(chdir(tmpdir) == 0);
	CHECK_OK(scout_tifs_in_dir(&paths, NULL, "list/"));
	CHECK(scout_strlist_count(paths) == ntif);
	if (scout_strlist_count(paths) > 0) {
		char want[300];
		snprintf(want, sizeof want, "%s/%s", dir, tifs[0]);
		CHECK(strcmp(scout_strlist_get(paths, 0), want) == 0);
	}
	scout_strlist_free(paths);
	CHECK(chdir(cwd) == 0);

	/* an empty directory: empty lists */
	char empty[160];
	snprintf(empty, sizeof empty, "%s/empty", tmpdir);
	CHECK(mkdir(empty, 0700) == 0);
	CHECK_OK(scout_files_in_dir(&l, empty));
	CHECK(scout_strlist_count(l) == 0);
	scout_strlist_free(l);
	CHECK_OK(scout_tifs_in_dir(&paths, &names, empty));
	CHECK(scout_strlist_count(paths) == 0 && scout_strlist_count(names) == 0);
	scout_strlist_free(paths);
	scout_strlist_free(names);

	/* errors */
	char missing[160], file[300];
	snprintf(missing, sizeof missing, "%s/missing", tmpdir);
	CHECK_ERR(scout_files_in_dir(&l, missing), SCOUT_ENOTFOUND, S(missing));
	CHECK(l == NULL);
	CHECK_ERR(scout_tifs_in_dir(&paths, &names, missing), SCOUT_ENOTFOUND, S(missing));
	CHECK(paths == NULL && names == NULL);
	snprintf(file, sizeof file, "%s/notes.txt", dir);
	CHECK_ERR(scout_files_in_dir(&l, file), SCOUT_EINVAL, "not a directory");
	CHECK_ERR(scout_tifs_in_dir(&paths, NULL, file), SCOUT_EINVAL, S(file));
	CHECK_ERR(scout_files_in_dir(NULL, dir), SCOUT_EINVAL, NULL);
	CHECK_ERR(scout_files_in_dir(&l, NULL), SCOUT_EINVAL, NULL);
	if (geteuid() != 0) {
		char locked[160];
		snprintf(locked, sizeof locked, "%s/locked", tmpdir);
		CHECK(mkdir(locked, 0000) == 0);
		CHECK_ERR(scout_files_in_dir(&l, locked), SCOUT_EIO, S(locked));
		CHECK(chmod(locked, 0700) == 0);
	} else {
		fprintf(stderr, "note: running as root, permission-denied listing not tested\n");
	}
	CHECK(scout_strlist_count(NULL) == 0);
	CHECK(scout_strlist_get(NULL, 0) == NULL);
	scout_strlist_free(NULL);
}

static void test_voxel_size(void)
{
	char p[200];
	snprintf(p, sizeof p, "%s/voxel_size.csv", tmpdir);
	double v[4];
	int n = -1;
	struct {
		const char *content;
		int count;
		double want[3]; /* int / 1000 by hand */
	} good[] = {
	    {"2000,1800,1800\n", 3, {2.0, 1.8, 1.8}},
	    {"2000,1800,1800", 3, {2.0, 1.8, 1.8}},
	    {"  2000 , 1800,\t1800 \r\n\n", 3, {2.0, 1.8, 1.8}},
	    {"500\n", 1, {0.5}},
	    {"1,-20", 2, {0.001, -0.02}},
	    {"+3,0", 2, {0.003, 0.0}},
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		touch(tmpdir, "voxel_size.csv", good[i].content);
		n = -1;
		CHECK_OK(scout_read_voxel_size(v, &n, 3, p));
		CHECK(n == good[i].count);
		for (int j = 0; j < n && j < 3; j++)
			CHECK(v[j] == good[i].want[j]);
	}
	struct {
		const char *content, *needle;
	} bad[] = {
	    {"", "empty"},
	    {" \n\n", "empty"},
	    {"2000,1.8,1800\n", "field 2 (\"1.8\")"},
	    {"2000,,1800\n", "field 2 (\"\")"},
	    {"2000,1800,\n", "field 3 (\"\")"},
	    {"abc\n", "field 1 (\"abc\")"},
	    {"1 2,3", "field 1 (\"1 2\")"},
	    {"1,2,3,4\n", "field 4 (\"4\")"},
	    {"99999999999999999999999,1", "field 1"},
	    {"1,2\n3\n", "more than one line"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		touch(tmpdir, "voxel_size.csv", bad[i].content);
		CHECK_ERR(scout_read_voxel_size(v, &n, 3, p), SCOUT_EFORMAT, bad[i].needle);
		CHECK_ERR(scout_read_voxel_size(v, &n, 3, p), SCOUT_EFORMAT, S(p));
	}
	/* max_count limits; 4 fields fit in 4 */
	touch(tmpdir, "voxel_size.csv", "1,2,3,4\n");
	CHECK_OK(scout_read_voxel_size(v, &n, 4, p));
	CHECK(n == 4 && v[3] == 0.004);
	CHECK_ERR(scout_read_voxel_size(v, &n, 0, p), SCOUT_EINVAL, NULL);
	char missing[220];
	snprintf(missing, sizeof missing, "%s/nope.csv", tmpdir);
	CHECK_ERR(scout_read_voxel_size(v, &n, 3, missing), SCOUT_ENOTFOUND, S(missing));
	CHECK_ERR(scout_read_voxel_size(v, &n, 3, tmpdir), SCOUT_EIO, S(tmpdir));
}

int main(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/scout_files_XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	test_listings();
	test_voxel_size();
	rm_rf(tmpdir);
	return check_summary();
}
