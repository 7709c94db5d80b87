/*
 * Shared memory: create/attach/data/array, across fork and from a separately
 * executed program (tools/shm_attach), header validation, cleanup (the
 * creator's free, the atexit cleanup, nothing left in /dev/shm).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static int segment_exists(const char *name)
{
	int fd = shm_open(name, O_RDONLY, 0);
	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

/* number of /dev/shm/scout-<pid>-* entries of this process */
static int my_segments(void)
{
	char prefix[64];
	snprintf(prefix, sizeof prefix, "scout-%ld-", (long)getpid());
	DIR *d = opendir("/dev/shm");
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(d);
	return n;
}

static void tool_path(char *buf, size_t bufsize)
{
	const char *dir = getenv("SCOUT_BUILD_DIR");
	snprintf(buf, bufsize, "%s/tools/shm_attach", dir ? dir : ".");
}

/* run the tool, return its first output line in out (without newline) and its status */
static int run_tool(char *out, size_t outsize, const char *args)
{
	char tool[4096], cmd[8192];
	tool_path(tool, sizeof tool);
	snprintf(cmd, sizeof cmd, "'%s' %s", tool, args);
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	out[0] = '\0';
	if (fgets(out, (int)outsize, p))
		out[strcspn(out, "\n")] = '\0';
	char rest[256];
	while (fgets(rest, sizeof rest, p))
		;
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_create_attach(void)
{
	int64_t shape[3] = {4, 5, 6};
	scout_shm *shm = NULL;
	CHECK_OK(scout_shm_create(&shm, 3, shape, SCOUT_UINT16));
	if (!shm)
		return;
	char prefix[64];
	snprintf(prefix, sizeof prefix, "/scout-%ld-", (long)getpid());
	const char *name = scout_shm_name(shm);
	CHECK(strncmp(name, prefix, strlen(prefix)) == 0);
	CHECK(scout_shm_ndim(shm) == 3);
	CHECK(scout_shm_shape(shm)[0] == 4 && scout_shm_shape(shm)[1] == 5 &&
	      scout_shm_shape(shm)[2] == 6);
	CHECK(scout_shm_dtype(shm) == SCOUT_UINT16);
	CHECK(scout_shm_nbytes(shm) == 4 * 5 * 6 * 2);
	CHECK(scout_shm_is_owner(shm) == 1);
	uint16_t *data = scout_shm_data(shm);
	CHECK(((uintptr_t)data & 63) == 0);
	int zeros = 1;
	for (int i = 0; i < 120; i++)
		zeros &= data[i] == 0;
	CHECK(zeros);

	/* mode 0600 in /dev/shm */
	char path[128];
	snprintf(path, sizeof path, "/dev/shm%s", name);
	struct stat st;
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);

	/* two names differ */
	scout_shm *other = NULL;
	CHECK_OK(scout_shm_create(&other, 1, shape, SCOUT_UINT8));
	CHECK(other && strcmp(scout_shm_name(other), name) != 0);
	scout_shm_free(other);

	/* attach in the same process: same elements */
	for (int i = 0; i < 120; i++)
		data[i] = (uint16_t)(i * 3 + 1);
	scout_shm *att = NULL;
	CHECK_OK(scout_shm_attach(&att, name));
	if (att) {
		CHECK(scout_shm_ndim(att) == 3 && scout_shm_dtype(att) == SCOUT_UINT16);
		CHECK(scout_shm_shape(att)[2] == 6 && scout_shm_nbytes(att) == 240);
		CHECK(scout_shm_is_owner(att) == 0);
		uint16_t *d2 = scout_shm_data(att);
		CHECK(d2 != data && memcmp(d2, data, 240) == 0);
		d2[7] = 999;
		CHECK(data[7] == 999);
		scout_shm_free(att);
	}
	/* freeing an attached handle does not unlink */
	CHECK(segment_exists(name));

	/* the array view: insert/extract reach the segment */
	scout_array *arr = NULL;
	CHECK_OK(scout_shm_array(&arr, shm));
	if (arr) {
		CHECK(strcmp(scout_array_kind(arr), "shm") == 0);
		CHECK(scout_array_writable(arr));
		CHECK(scout_array_data(arr) == (void *)data);
		CHECK(scout_array_ndim(arr) == 3 && scout_array_shape(arr)[1] == 5);
		CHECK(scout_array_chunks(arr)[0] == 4 && scout_array_chunks(arr)[2] == 6);
		int64_t start[3] = {1, 2, 3}, stop[3] = {3, 4, 5};
		uint16_t box[8] = {10, 11, 12, 13, 14, 15, 16, 17}, back[8] = {0};
		CHECK_OK(scout_insert_box(arr, start, stop, box));
		/* element (z,y,x) is data[(z*5 + y)*6 + x] */
		CHECK(data[(1 * 5 + 2) * 6 + 3] == 10 && data[(1 * 5 + 2) * 6 + 4] == 11);
		CHECK(data[(1 * 5 + 3) * 6 + 3] == 12 && data[(2 * 5 + 3) * 6 + 4] == 17);
		CHECK_OK(scout_extract_box(back, arr, start, stop));
		CHECK(memcmp(back, box, sizeof box) == 0);
		scout_array_free(arr);
	}

	char keep[128];
	snprintf(keep, sizeof keep, "%s", name);
	scout_shm_free(shm);
	CHECK(!segment_exists(keep));
	scout_shm *gone = NULL;
	const char *kp = keep;
	CHECK_ERR(scout_shm_attach(&gone, kp), SCOUT_ENOTFOUND, kp);
	CHECK(gone == NULL);
}

static void test_fork(void)
{
	int64_t shape[2] = {16, 9};
	scout_shm *shm = NULL;
	CHECK_OK(scout_shm_create(&shm, 2, shape, SCOUT_INT32));
	if (!shm)
		return;
	char name[128];
	snprintf(name, sizeof name, "%s", scout_shm_name(shm));
	int32_t *data = scout_shm_data(shm);
	pid_t pid = fork();
	if (pid == 0) {
		/* the inherited mapping and an attach by name both reach the segment */
		int32_t *inh = scout_shm_data(shm);
		for (int i = 0; i < 72; i++)
			inh[i] = i * i;
		scout_shm *att;
		if (scout_shm_attach(&att, name) < 0)
			_exit(10);
		int32_t *d = scout_shm_data(att);
		if (d[5] != 25)
			_exit(11);
		for (int i = 72; i < 144; i++)
			d[i] = -i;
		scout_shm_free(att);
		/* not the creator: only unmaps */
		if (scout_shm_is_owner(shm))
			_exit(12);
		scout_shm_free(shm);
		/* exit() runs the atexit cleanup, which must spare the parent's segment */
		exit(0);
	}
	CHECK(pid > 0);
	int st = -1;
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(segment_exists(name));
	int ok = 1;
	for (int i = 0; i < 72; i++)
		ok &= data[i] == i * i;
	for (int i = 72; i < 144; i++)
		ok &= data[i] == -i;
	CHECK(ok);
	scout_shm_free(shm);
	CHECK(!segment_exists(name));
}

static void test_other_process(void)
{
	int64_t shape[2] = {7, 11};
	scout_shm *shm = NULL;
	CHECK_OK(scout_shm_create(&shm, 2, shape, SCOUT_UINT16));
	if (!shm)
		return;
	uint16_t *data = scout_shm_data(shm);
	long long sum = 0;
	for (int i = 0; i < 77; i++) {
		data[i] = (uint16_t)(1000 + 37 * i);
		sum += 1000 + 37 * i;
	}
	char args[256], out[512], expect[256];
	snprintf(args, sizeof args, "'%s' sum", scout_shm_name(shm));
	CHECK(run_tool(out, sizeof out, args) == 0);
	snprintf(expect, sizeof expect, "ndim=2 shape=7,11 dtype=%d sum=%lld", (int)SCOUT_UINT16,
		 sum);
	CHECK(strcmp(out, expect) == 0);
	if (strcmp(out, expect) != 0)
		fprintf(stderr, "tool said \"%s\", expected \"%s\"\n", out, expect);

	/* the other process writes, we see it */
	snprintf(args, sizeof args, "'%s' fill 4242", scout_shm_name(shm));
	CHECK(run_tool(out, sizeof out, args) == 0);
	int ok = 1;
	for (int i = 0; i < 77; i++)
		ok &= data[i] == 4242;
	CHECK(ok);
	char name[128];
	snprintf(name, sizeof name, "%s", scout_shm_name(shm));
	scout_shm_free(shm);

	/* after the creator's free the tool cannot find it */
	snprintf(args, sizeof args, "'%s' sum", name);
	CHECK(run_tool(out, sizeof out, args) == 2);
	char want[32];
	snprintf(want, sizeof want, "error %d ", SCOUT_ENOTFOUND);
	CHECK(strncmp(out, want, strlen(want)) == 0);

	/* a program that forgets to free: unlinked when it exits normally */
	CHECK(run_tool(out, sizeof out, "--create-forget") == 0);
	CHECK(strncmp(out, "/scout-", 7) == 0);
	CHECK(!segment_exists(out));
}

/* a raw segment with arbitrary content */
static void make_raw(const char *name, const void *bytes, size_t n)
{
	int fd = shm_open(name, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK(write(fd, bytes, n) == (ssize_t)n);
	close(fd);
}

/* modify a header field of a live segment in place */
static void poke(const char *name, size_t offset, const void *bytes, size_t n)
{
	int fd = shm_open(name, O_RDWR, 0);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	CHECK(m != MAP_FAILED);
	if (m == MAP_FAILED)
		return;
	memcpy(m + offset, bytes, n);
	munmap(m, 4096);
}

static void test_validation(void)
{
	scout_shm *s = NULL;
	CHECK_ERR(scout_shm_attach(&s, "/scout-no-such-segment-xyz"), SCOUT_ENOTFOUND,
		  "/scout-no-such-segment-xyz");
	CHECK_ERR(scout_shm_attach(&s, "no-slash"), SCOUT_EINVAL, "no-slash");
	CHECK_ERR(scout_shm_attach(&s, "/a/b"), SCOUT_EINVAL, NULL);
	CHECK_ERR(scout_shm_attach(&s, NULL), SCOUT_EINVAL, NULL);
	int64_t shape[2] = {3, 4}, bad[2] = {3, -1};
	CHECK_ERR(scout_shm_create(&s, 2, bad, SCOUT_UINT8), SCOUT_EINVAL, NULL);
	CHECK_ERR(scout_shm_create(&s, 0, shape, SCOUT_UINT8), SCOUT_EINVAL, NULL);
	CHECK_ERR(scout_shm_create(&s, 2, shape, SCOUT_DTYPE_COUNT), SCOUT_EINVAL, NULL);
	int64_t huge[2] = {INT64_MAX / 2, 4};
	CHECK_ERR(scout_shm_create(&s, 2, huge, SCOUT_UINT16), SCOUT_EOVERFLOW, NULL);
	CHECK(s == NULL);

	char name[64];
	snprintf(name, sizeof name, "/scout-%ld-test-raw", (long)getpid());
	/* too small for a header */
	make_raw(name, "SCOUTSHM", 8);
	CHECK_ERR(scout_shm_attach(&s, name), SCOUT_EFORMAT, "too small");
	/* big enough, wrong magic */
	char junk[512];
	memset(junk, 'x', sizeof junk);
	make_raw(name, junk, sizeof junk);
	CHECK_ERR(scout_shm_attach(&s, name), SCOUT_EFORMAT, "magic");
	shm_unlink(name);

	/*
	 * A real segment whose header is then damaged. Layout (shm.c): magic[8] @0,
	 * version u32 @8, data_offset u32 @12, ndim i32 @16, dtype i32 @20,
	 * nbytes u64 @24, shape i64[] @32.
	 */
	struct {
		size_t off;
		int64_t value;
		size_t n;
		const char *needle;
	} cases[] = {
	    {8, 2, 4, "version"}, {12, 100, 4, "offset"}, {16, 0, 4, "ndim"},
	    {16, 33, 4, "ndim"},  {20, 99, 4, "dtype"},   {24, 13, 8, "bytes"},
	    {32, -3, 8, "shape"}, {32, 1000000, 8, NULL}, /* shape and nbytes disagree */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		scout_shm *shm = NULL;
		CHECK_OK(scout_shm_create(&shm, 2, shape, SCOUT_UINT16));
		if (!shm)
			continue;
		poke(scout_shm_name(shm), cases[i].off, &cases[i].value, cases[i].n);
		scout_shm *att = NULL;
		CHECK_ERR(scout_shm_attach(&att, scout_shm_name(shm)), SCOUT_EFORMAT,
			  cases[i].needle);
		CHECK(att == NULL);
		scout_shm_free(shm);
	}

	/* consistent header but the object was truncated */
	scout_shm *shm = NULL;
	int64_t big[1] = {100000};
	CHECK_OK(scout_shm_create(&shm, 1, big, SCOUT_UINT8));
	if (shm) {
		int fd = shm_open(scout_shm_name(shm), O_RDWR, 0);
		CHECK(fd >= 0 && ftruncate(fd, 4096) == 0);
		if (fd >= 0)
			close(fd);
		scout_shm *att = NULL;
		CHECK_ERR(scout_shm_attach(&att, scout_shm_name(shm)), SCOUT_EFORMAT, "needs");
		scout_shm_free(shm);
	}

	/* empty arrays are fine */
	int64_t empty[2] = {0, 5};
	CHECK_OK(scout_shm_create(&shm, 2, empty, SCOUT_FLOAT64));
	if (shm) {
		scout_shm *att = NULL;
		CHECK_OK(scout_shm_attach(&att, scout_shm_name(shm)));
		CHECK(att && scout_shm_nbytes(att) == 0 && scout_shm_shape(att)[1] == 5);
		scout_shm_free(att);
		scout_shm_free(shm);
	}
	scout_shm_free(NULL);
}

int main(void)
{
	alarm(120);
	test_create_attach();
	test_fork();
	test_other_process();
	test_validation();
	CHECK(my_segments() == 0);
	return check_summary();
}
