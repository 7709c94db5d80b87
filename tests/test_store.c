/* The filesystem store: atomic writes, absent keys, listing, failure paths, chunk keys. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "page_cache.h"
#include "format/chunk_key.h"
#include "store/store.h"

/* number of leftover temporary files under dir (recursive) */
static int count_tmp(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (strstr(e->d_name, "scout-tmp"))
			n++;
		char p[4096];
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		struct stat sb;
		if (stat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
			n += count_tmp(p);
	}
	closedir(d);
	return n;
}

static int read_eq(scout_store *s, const char *key, const char *expect)
{
	void *d;
	size_t n;
	if (scout__store_get(&d, &n, NULL, s, key) != SCOUT_OK)
		return 0;
	int ok = n == strlen(expect) && memcmp(d, expect, n) == 0;
	free(d);
	return ok;
}

/*
 * Large values go past the page cache (O_DIRECT) unless SCOUT_DIRECT_IO=0:
 * every size around the 1 MiB threshold, the 4 KiB alignment and the 4 MiB
 * bounce buffer, from aligned and unaligned memory, must read back byte for
 * byte (with plain stdio: no store code in the check), leave no temporary
 * file, and, where the file system has direct I/O, leave the file's pages
 * out of the page cache (only the unaligned tail goes through it); with
 * SCOUT_DIRECT_IO=0 every page is cached. In a bulk write
 * (scout__store_set_bulk) the threshold is 64 KiB, for that thread only.
 */
static void test_direct_io(const char *root)
{
	char sroot[4200];
	snprintf(sroot, sizeof sroot, "%s/direct", root);
	const size_t MiB = 1 << 20;
	const size_t sizes[] = {1,          4095,           MiB - 1,       MiB,     MiB + 1,
				MiB + 4096, 4 * MiB + 4096, 9 * MiB + 777, 12 * MiB};
	const size_t nsizes = sizeof sizes / sizeof *sizes, maxn = 12 * MiB;
	unsigned char *mem = NULL;
	CHECK(posix_memalign((void **)&mem, 4096, maxn + 4096) == 0);
	if (!mem)
		return;
	for (size_t i = 0; i < maxn + 4096; i++)
		mem[i] = (unsigned char)((i * 2654435761u) >> 13);
	/* tmpfs keeps every page in memory, O_DIRECT or not: no page count there */
	int count_pages = test_counts_pages(root);
	if (!count_pages)
		printf("direct I/O: %s is on tmpfs, page-cache counts skipped\n", root);
	int direct_seen = 0;
	for (int mode = 0; mode < 2; mode++) { /* 0: default (direct), 1: SCOUT_DIRECT_IO=0 */
		if (mode)
			setenv("SCOUT_DIRECT_IO", "0", 1);
		else
			unsetenv("SCOUT_DIRECT_IO");
		scout_store *s;
		CHECK_OK(scout__store_open(&s, sroot, 0));
		unsetenv("SCOUT_DIRECT_IO");
		for (size_t k = 0; k < nsizes; k++)
			for (int off = 0; off < 2; off++) { /* aligned, and 1 byte off */
				size_t n = sizes[k];
				const unsigned char *src = off ? mem + 1 + k : mem;
				char key[64], path[4400];
				snprintf(key, sizeof key, "v/%zu_%d", n, off);
				snprintf(path, sizeof path, "%s/%s", sroot, key);
				/* over an old value, as a rewrite of a shard */
				CHECK_OK(scout__store_set(s, key, "old", 3, NULL));
				CHECK_OK(scout__store_set(s, key, src, n, NULL));
				long total = 0, cached = test_cached_pages(path, &total);
				CHECK(cached >= 0);
				if (count_pages && cached >= 0) {
					int before = check_failures;
					if (mode == 1 || n < MiB) {
						CHECK(cached == total);
					} else {
						/* the tail page went through the cache; valgrind
						   reads the head of a file mapped (up to 16 KiB) */
						CHECK(cached <= 5);
						direct_seen++;
					}
					if (check_failures != before)
						fprintf(stderr,
							"  %zu bytes, off %d, mode %d: %ld of %ld "
							"pages cached\n",
							n, off, mode, cached, total);
				}
				size_t got = 0;
				unsigned char *back = test_read_file(path, &got);
				CHECK(back && got == n && memcmp(back, src, n) == 0);
				free(back);
			}
		CHECK(count_tmp(sroot) == 0);
		scout__store_free(s);
	}
	if (count_pages)
		CHECK(direct_seen == 2 * 6); /* the 6 sizes of 1 MiB or more, both alignments */

	/* in a bulk write, from 64 KiB; only for the thread that asked, only while it asks */
	{
		scout_store *s;
		CHECK_OK(scout__store_open(&s, sroot, 0));
		CHECK(scout__store_bulk_direct(s) == 1);
		const size_t bsizes[] = {65535, 65536, 65537, 300001};
		for (int bulk = 1; bulk >= 0; bulk--)
			for (size_t k = 0; k < 4; k++) {
				size_t n = bsizes[k];
				char key[64], path[4400];
				snprintf(key, sizeof key, "b/%zu_%d", n, bulk);
				snprintf(path, sizeof path, "%s/%s", sroot, key);
				scout__store_set_bulk(bulk);
				CHECK_OK(scout__store_set(s, key, mem + 1, n, NULL));
				scout__store_set_bulk(0);
				long total = 0, cached = test_cached_pages(path, &total);
				if (count_pages && bulk && n >= 65536)
					CHECK(cached >= 0 && cached <= 5);
				else if (count_pages)
					CHECK(cached == total);
				size_t got = 0;
				unsigned char *back = test_read_file(path, &got);
				CHECK(back && got == n && memcmp(back, mem + 1, n) == 0);
				free(back);
			}
		scout__store_free(s);
		setenv("SCOUT_DIRECT_IO", "0", 1);
		CHECK_OK(scout__store_open(&s, sroot, 0));
		unsetenv("SCOUT_DIRECT_IO");
		CHECK(scout__store_bulk_direct(s) == 0);
		scout__store_free(s);
	}

	/* a file system that refuses O_DIRECT at open (EINVAL): a buffered write instead */
	scout_store *s;
	CHECK_OK(scout__store_open(&s, sroot, 0));
	CHECK_OK(scout__store_fault_set(SCOUT_STORE_FAULT_OPEN_TMP, 1, EINVAL, 0));
	size_t n = 3 * MiB + 5;
	CHECK_OK(scout__store_set(s, "v/refused", mem + 3, n, NULL));
	CHECK(scout__store_fault_hits(SCOUT_STORE_FAULT_OPEN_TMP) == 1);
	scout__store_fault_clear();
	char path[4400];
	snprintf(path, sizeof path, "%s/v/refused", sroot);
	long total = 0, cached = test_cached_pages(path, &total);
	CHECK(!count_pages || cached == total); /* through the page cache */
	size_t got = 0;
	unsigned char *back = test_read_file(path, &got);
	CHECK(back && got == n && memcmp(back, mem + 3, n) == 0);
	free(back);
	CHECK(count_tmp(sroot) == 0);
	scout__store_free(s);
	free(mem);
}

/* get_range, list_dir, delete_prefix, exists, CREATE, strong version tokens */
static void test_interface(const char *root)
{
	char sroot[4200];
	snprintf(sroot, sizeof sroot, "%s/deep/er/iface", root);
	scout_store *s;
	CHECK_OK(scout__store_open(&s, sroot, 0));
	CHECK(scout__store_exists(s) == 0);
	scout__store_free(s);
	CHECK_OK(scout__store_open(&s, sroot, SCOUT_STORE_CREATE));
	CHECK(scout__store_exists(s) == 1);

	CHECK_OK(scout__store_set(s, "blob", "0123456789", 10, NULL));
	void *d;
	size_t n;
	CHECK_OK(scout__store_get_range(&d, &n, NULL, s, "blob", 2, 3));
	CHECK(n == 3 && memcmp(d, "234", 3) == 0);
	free(d);
	CHECK_OK(scout__store_get_range(&d, &n, NULL, s, "blob", SCOUT_STORE_SUFFIX, 4));
	CHECK(n == 4 && memcmp(d, "6789", 4) == 0);
	free(d);
	CHECK_OK(scout__store_get_range(&d, &n, NULL, s, "blob", SCOUT_STORE_SUFFIX, 40));
	CHECK(n == 10 && memcmp(d, "0123456789", 10) == 0);
	free(d);
	CHECK_OK(scout__store_get_range(&d, &n, NULL, s, "blob", 8, 100)); /* cut at the end */
	CHECK(n == 2 && memcmp(d, "89", 2) == 0);
	free(d);
	CHECK_OK(scout__store_get_range(&d, &n, NULL, s, "blob", 20, 5));
	CHECK(n == 0);
	free(d);
	CHECK(scout__store_get_range(&d, &n, NULL, s, "none", 0, 5) == SCOUT_ENOTFOUND);
	CHECK_ERR(scout__store_get_range(&d, &n, NULL, s, "blob", -7, 5), SCOUT_EINVAL, "offset");

	/* list_dir: direct children, "name/" for a prefix, sorted, temporaries skipped */
	CHECK_OK(scout__store_set(s, "c/0/1", "x", 1, NULL));
	CHECK_OK(scout__store_set(s, "c/0/2", "x", 1, NULL));
	CHECK_OK(scout__store_set(s, "zarr.json", "{}", 2, NULL));
	char tmpf[4300];
	snprintf(tmpf, sizeof tmpf, "%s/.blob.scout-tmp-1-1", sroot);
	FILE *f = fopen(tmpf, "w");
	if (f)
		fclose(f);
	char **names;
	size_t nn;
	CHECK_OK(scout__store_list_dir(&names, &nn, s, ""));
	CHECK(nn == 3);
	if (nn == 3)
		CHECK(!strcmp(names[0], "blob") && !strcmp(names[1], "c/") &&
		      !strcmp(names[2], "zarr.json"));
	scout__store_list_free(names, nn);
	CHECK_OK(scout__store_list_dir(&names, &nn, s, "c/0/"));
	CHECK(nn == 2 && !strcmp(names[0], "1") && !strcmp(names[1], "2"));
	scout__store_list_free(names, nn);
	CHECK_OK(scout__store_list_dir(&names, &nn, s, "nothing"));
	CHECK(nn == 0);
	scout__store_list_free(names, nn);
	unlink(tmpf);

	/* a version token of a file older than 200 ms is strong; a rewrite changes it */
	scout_store_version v1, v2;
	char bp[4300];
	snprintf(bp, sizeof bp, "%s/blob", sroot);
	struct timespec old[2] = {{1000000000, 0}, {1000000000, 0}};
	CHECK(utimensat(AT_FDCWD, bp, old, 0) == 0);
	CHECK_OK(scout__store_head(&v1, s, "blob"));
	CHECK(v1.strong);
	CHECK_OK(scout__store_get(&d, &n, &v2, s, "blob"));
	free(d);
	CHECK(v2.strong && scout__store_version_equal(&v1, &v2));
	CHECK_OK(scout__store_set(s, "blob", "0123456789", 10, &v2));
	CHECK(!v2.strong && !scout__store_version_equal(&v1, &v2));

	/* delete_prefix: a subtree, then everything */
	CHECK_OK(scout__store_delete_prefix(s, "c"));
	CHECK(scout__store_head(NULL, s, "c/0/1") == SCOUT_ENOTFOUND);
	CHECK_OK(scout__store_head(NULL, s, "blob"));
	CHECK_OK(scout__store_delete_prefix(s, ""));
	CHECK(scout__store_exists(s) == 0);
	scout__store_free(s);
}

int main(void)
{
	char tmpl[] = "/tmp/scout_store_XXXXXX";
	char *root = mkdtemp(tmpl);
	CHECK(root != NULL);
	char sroot[4200];
	snprintf(sroot, sizeof sroot, "%s/st", root);
	scout_store *s;
	CHECK_OK(scout__store_open(&s, sroot, 0));

	/* absent: ENOTFOUND, silently (the thread's last error is untouched) */
	scout__error(SCOUT_EINVAL, "marker");
	void *d = (void *)1;
	size_t n = 7;
	CHECK(scout__store_get(&d, &n, NULL, s, "nothing") == SCOUT_ENOTFOUND);
	CHECK(d == NULL && n == 0);
	CHECK(strcmp(scout_last_error(), "marker") == 0);
	CHECK(scout__store_head(NULL, s, "nothing") == SCOUT_ENOTFOUND);
	CHECK(scout__store_get(&d, &n, NULL, s, "a/b/c") == SCOUT_ENOTFOUND);
	CHECK(strcmp(scout_last_error(), "marker") == 0);

	/* write creates the root and nested parents; read back */
	scout_store_version st1, st2, st3;
	CHECK_OK(scout__store_set(s, ".zarray", "{}", 2, &st1));
	CHECK(read_eq(s, ".zarray", "{}"));
	CHECK_OK(scout__store_set(s, "0/1/2", "hello", 5, NULL));
	CHECK(read_eq(s, "0/1/2", "hello"));
	CHECK_OK(scout__store_set(s, "empty", "", 0, NULL));
	CHECK(read_eq(s, "empty", ""));

	/* stamps: the read stamp equals the written one; a rewrite is a new file */
	CHECK_OK(scout__store_head(&st2, s, ".zarray"));
	CHECK(scout__store_version_equal(&st1, &st2));
	CHECK(!st1.strong); /* a value written just now has a weak token */
	CHECK_OK(scout__store_set(s, ".zarray", "{\"a\":1}", 7, &st3));
	CHECK(!scout__store_version_equal(&st1, &st3));
	CHECK(!st3.strong);
	CHECK(read_eq(s, ".zarray", "{\"a\":1}"));
	CHECK(count_tmp(sroot) == 0);

	/* list: sorted, with prefix */
	char **keys;
	size_t nk;
	CHECK_OK(scout__store_list(&keys, &nk, s, NULL));
	CHECK(nk == 3);
	if (nk == 3) {
		CHECK(strcmp(keys[0], ".zarray") == 0);
		CHECK(strcmp(keys[1], "0/1/2") == 0);
		CHECK(strcmp(keys[2], "empty") == 0);
	}
	scout__store_list_free(keys, nk);
	CHECK_OK(scout__store_list(&keys, &nk, s, "0/"));
	CHECK(nk == 1 && strcmp(keys[0], "0/1/2") == 0);
	scout__store_list_free(keys, nk);

	/* failure paths leave the old value and no temporary file */
	CHECK_OK(scout__store_fault_set(SCOUT_STORE_FAULT_RENAME, 1, EIO, 0));
	CHECK_ERR(scout__store_set(s, ".zarray", "broken", 6, NULL), SCOUT_EIO, "rename");
	CHECK(scout__store_fault_hits(SCOUT_STORE_FAULT_RENAME) == 1);
	scout__store_fault_clear();
	CHECK(read_eq(s, ".zarray", "{\"a\":1}"));
	CHECK(count_tmp(sroot) == 0);
	/* a parent that is a file */
	CHECK_OK(scout__store_set(s, "file", "x", 1, NULL));
	CHECK_ERR(scout__store_set(s, "file/sub", "y", 1, NULL), SCOUT_EIO, "file");
	/* renaming over a directory fails: temp removed, directory intact */
	CHECK_ERR(scout__store_set(s, "0/1", "z", 1, NULL), SCOUT_EIO, "0/1");
	CHECK(read_eq(s, "0/1/2", "hello"));
	CHECK(count_tmp(sroot) == 0);
	/* temporary files are not listed */
	char tp[4300];
	snprintf(tp, sizeof tp, "%s/.x.scout-tmp-1-1", sroot);
	FILE *f = fopen(tp, "w");
	CHECK(f != NULL);
	if (f)
		fclose(f);
	CHECK_OK(scout__store_list(&keys, &nk, s, NULL));
	CHECK(nk == 4); /* .zarray 0/1/2 empty file, and not the temporary file */
	for (size_t i = 0; i < nk; i++)
		CHECK(strstr(keys[i], "scout-tmp") == NULL);
	scout__store_list_free(keys, nk);
	unlink(tp);

	/* bad keys */
	const char *bad[] = {"", "/abs", "../x", "a/../b", "a//b", "a/./b", "a/"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		CHECK_ERR(scout__store_set(s, bad[i], "x", 1, NULL), SCOUT_EINVAL, "invalid key");

	/* delete */
	CHECK_OK(scout__store_delete(s, "file"));
	CHECK(scout__store_delete(s, "file") == SCOUT_ENOTFOUND);
	CHECK(scout__store_get(&d, &n, NULL, s, "file") == SCOUT_ENOTFOUND);
	scout__store_free(s);

	/* fsync flag */
	CHECK_OK(scout__store_open(&s, sroot, SCOUT_STORE_FSYNC));
	CHECK_OK(scout__store_set(s, "synced", "abc", 3, NULL));
	CHECK(read_eq(s, "synced", "abc"));
	CHECK(count_tmp(sroot) == 0);
	scout__store_free(s);

	test_interface(root);
	test_direct_io(root);

	/* chunk keys */
	char key[1024];
	int64_t idx[3] = {1, 0, 3};
	CHECK_OK(scout__chunk_key(key, sizeof key, 3, idx, '.'));
	CHECK(strcmp(key, "1.0.3") == 0);
	CHECK_OK(scout__chunk_key(key, sizeof key, 3, idx, '/'));
	CHECK(strcmp(key, "1/0/3") == 0);
	int64_t big[1] = {1234567};
	CHECK_OK(scout__chunk_key(key, sizeof key, 1, big, '/'));
	CHECK(strcmp(key, "1234567") == 0);
	CHECK_ERR(scout__chunk_key(key, sizeof key, 3, idx, '-'), SCOUT_EINVAL, "separator");
	CHECK_ERR(scout__chunk_key(key, 4, 3, idx, '.'), SCOUT_EOVERFLOW, NULL);
	int64_t many[SCOUT_MAX_NDIM];
	for (int i = 0; i < SCOUT_MAX_NDIM; i++)
		many[i] = INT64_MAX;
	CHECK_OK(scout__chunk_key(key, sizeof key, SCOUT_MAX_NDIM, many, '.'));

	/* rmtree */
	CHECK_OK(scout__rmtree(root));
	struct stat sb;
	CHECK(stat(root, &sb) != 0);
	CHECK_OK(scout__rmtree(root));
	return check_summary();
}
