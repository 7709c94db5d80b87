/*
 * Permission denied and read-only outputs: every case must fail with a clear
 * error naming the file (SCOUT_EIO), never read absent data as fill values,
 * never crash, and leave no temporary files behind; the scout command exits 1
 * naming the path.
 *
 * Permissions do not apply to root, and the tests (and CI) usually run as
 * root: then a forked child drops to nobody/nogroup (65534) for good
 * (setgroups, setgid, setuid; checked) and runs the cases in a temporary
 * directory it owns; the parent removes everything as root afterwards. When
 * not root, the cases run directly. If the process still bypasses permissions
 * (a capability), the cases are skipped with a message.
 *
 * Cases:
 *   Zarr: .zarray mode 000; a chunk file mode 000; the array directory without
 *   x (r only) and without r (x only: still readable by key); a nested chunk
 *   directory without x (must not read as missing chunks = fill value).
 *   TIFF: a file mode 000; a folder of slices mode 000; a folder whose second
 *   slice is mode 000 (fails when that slice is read).
 *   Voxel-size CSV mode 000.
 *   Read-only outputs: scout_zarr_create() below a read-only directory;
 *   scout_insert_box() into an array whose directory (flat keys) or chunk
 *   directory (nested keys) is read-only; a new nested chunk directory that
 *   cannot be created; .zattrs update in a read-only array; scout_tiff_write()
 *   into a read-only directory. Each: SCOUT_EIO naming the path, the old data
 *   intact, no temporary file left.
 *   scout command: convert and blur with an unreadable input, and with an
 *   output inside a read-only directory: exit 1, stderr names the path,
 *   nothing left in the directory.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "scout/files.h"
#include "scout/tiff.h"
#include "scout/zarr.h"
#include "store/store.h"

#define NOBODY 65534

static char base[64];
static char scout_exe[PATH_MAX]; /* the scout command (a copy in base when root) */

/* dir + "/" + name into out (PATH_MAX bytes) */
static const char *join(char *out, const char *dir, const char *name)
{
	if (snprintf(out, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX)
		abort(); /* paths here are short */
	return out;
}

static const char *at(char *buf, const char *name)
{
	return join(buf, base, name);
}

/* a path buffer as a plain pointer (for CHECK_ERR's needle) */
static const char *str(const char *s)
{
	return s;
}

/* a 3-D uint16 array (z, y, x) = 8 x 6 x 5 with values i * 7 + 1 */
static const int64_t shape[3] = {8, 6, 5};
#define NVAL (8 * 6 * 5)

static void fill_values(uint16_t *v, int mul)
{
	for (int i = 0; i < NVAL; i++)
		v[i] = (uint16_t)(i * mul + 1);
}

static scout_array *make_zarr(const char *path, char sep)
{
	scout_zarr_options o = SCOUT_ZARR_OPTIONS_INIT;
	o.ndim = 3;
	memcpy(o.shape, shape, sizeof shape);
	o.chunks[0] = 4;
	o.chunks[1] = 3;
	o.chunks[2] = 5;
	o.dtype = "<u2";
	o.compressor = "{\"id\": \"zlib\", \"level\": 1}";
	o.dimension_separator = sep;
	scout_array *arr = NULL;
	CHECK_OK(scout_zarr_create(&arr, path, &o));
	if (!arr)
		return NULL;
	uint16_t v[NVAL];
	fill_values(v, 7);
	int64_t zero[3] = {0, 0, 0};
	CHECK_OK(scout_insert_box(arr, zero, shape, v));
	return arr;
}

/* 1 if the whole array reads back as fill_values(mul) */
static int array_holds(const char *path, int mul)
{
	scout_array *arr = NULL;
	if (scout_array_open(&arr, path, SCOUT_MODE_READ) != SCOUT_OK) {
		fprintf(stderr, "open %s: %s\n", path, scout_last_error());
		return 0;
	}
	uint16_t got[NVAL], want[NVAL];
	int64_t zero[3] = {0, 0, 0};
	int rc = scout_extract_box(got, arr, zero, shape);
	scout_array_free(arr);
	fill_values(want, mul);
	return rc == SCOUT_OK && memcmp(got, want, sizeof got) == 0;
}

/* count directory entries below path (recursively) whose name marks a temporary file */
static int count_temporaries(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return 0;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (strstr(e->d_name, "tmp")) {
			fprintf(stderr, "left behind: %s/%s\n", path, e->d_name);
			n++;
		}
		char sub[PATH_MAX];
		join(sub, path, e->d_name);
		struct stat sb;
		if (lstat(sub, &sb) == 0 && S_ISDIR(sb.st_mode))
			n += count_temporaries(sub);
	}
	closedir(d);
	return n;
}

static int count_entries(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

/* ---- reading ---- */

static void zarr_read_cases(void)
{
	char p[PATH_MAX], q[PATH_MAX];
	int64_t zero[3] = {0, 0, 0};
	uint16_t got[NVAL];

	/* .zarray unreadable */
	scout_array *arr = make_zarr(at(p, "meta000"), '.');
	scout_array_free(arr);
	join(q, p, ".zarray");
	CHECK(chmod(q, 0) == 0);
	arr = NULL;
	CHECK_ERR(scout_array_open(&arr, p, SCOUT_MODE_READ), SCOUT_EIO, str(q));
	CHECK(arr == NULL);
	CHECK_ERR(scout_array_open(&arr, p, SCOUT_MODE_READ | SCOUT_MODE_WRITE), SCOUT_EIO, str(q));
	CHECK(chmod(q, 0644) == 0);
	CHECK(array_holds(p, 7));

	/* a chunk file unreadable: reads touching it fail, others work */
	arr = make_zarr(at(p, "chunk000"), '.');
	scout_array_free(arr);
	join(q, p, "1.0.0");
	CHECK(chmod(q, 0) == 0);
	arr = NULL;
	CHECK_OK(scout_array_open(&arr, p, SCOUT_MODE_READ | SCOUT_MODE_WRITE));
	if (arr) {
		CHECK_ERR(scout_extract_box(got, arr, zero, shape), SCOUT_EIO, str(q));
		CHECK(strstr(scout_last_error(), "ermission") != NULL);
		int64_t lo[3] = {0, 0, 0}, hi[3] = {4, 6, 5}; /* chunks 0.*.* only */
		CHECK_OK(scout_extract_box(got, arr, lo, hi));
		CHECK(got[0] == 1 && got[4 * 6 * 5 - 1] == (4 * 6 * 5 - 1) * 7 + 1);
		/* a partial write must read the chunk first: it fails and changes nothing */
		int64_t wlo[3] = {5, 0, 0}, whi[3] = {6, 1, 1};
		uint16_t one = 9;
		CHECK_ERR(scout_insert_box(arr, wlo, whi, &one), SCOUT_EIO, str(q));
		scout_array_free(arr);
	}
	CHECK(count_temporaries(p) == 0);
	CHECK(chmod(q, 0644) == 0);
	CHECK(array_holds(p, 7));

	/* the array directory without x (listable, but nothing in it can be opened) */
	arr = make_zarr(at(p, "dir_noexec"), '/');
	scout_array_free(arr);
	CHECK(chmod(p, 0444) == 0);
	arr = NULL;
	CHECK_ERR(scout_array_open(&arr, p, SCOUT_MODE_READ), SCOUT_EIO, str(p));
	CHECK(arr == NULL);
	CHECK(chmod(p, 0755) == 0);

	/* without r but with x: keys are still reachable, so it reads correctly */
	CHECK(chmod(p, 0111) == 0);
	CHECK(array_holds(p, 7));
	CHECK(chmod(p, 0755) == 0);

	/* a nested chunk directory without x: an error, not fill values */
	join(q, p, "1");
	CHECK(chmod(q, 0644) == 0);
	arr = NULL;
	CHECK_OK(scout_array_open(&arr, p, SCOUT_MODE_READ));
	if (arr) {
		memset(got, 0, sizeof got);
		CHECK_ERR(scout_extract_box(got, arr, zero, shape), SCOUT_EIO, str(q));
		scout_array_free(arr);
	}
	CHECK(chmod(q, 0755) == 0);
	CHECK(array_holds(p, 7));
}

static void tiff_read_cases(void)
{
	char p[PATH_MAX], q[PATH_MAX];
	uint16_t v[NVAL];
	fill_values(v, 3);
	scout_array *mem = NULL;
	CHECK_OK(scout_array_wrap(&mem, v, 3, shape, SCOUT_UINT16));
	if (!mem)
		return;

	/* a TIFF file mode 000 */
	CHECK_OK(scout_tiff_write(at(p, "vol.tif"), mem, NULL));
	CHECK(chmod(p, 0) == 0);
	scout_array *arr = NULL;
	CHECK_ERR(scout_array_open(&arr, p, SCOUT_MODE_READ), SCOUT_EIO, str(p));
	CHECK(arr == NULL);
	CHECK(chmod(p, 0644) == 0);
	CHECK_OK(scout_array_open(&arr, p, SCOUT_MODE_READ));
	scout_array_free(arr);

	/* a folder of slices */
	CHECK(mkdir(at(p, "slices"), 0755) == 0);
	int64_t plane[2] = {shape[1], shape[2]};
	for (int z = 0; z < 3; z++) {
		scout_array *s = NULL;
		CHECK_OK(scout_array_wrap(&s, v + z * plane[0] * plane[1], 2, plane, SCOUT_UINT16));
		char name[16];
		snprintf(name, sizeof name, "s%02d.tif", z);
		join(q, p, name);
		CHECK_OK(scout_tiff_write(q, s, NULL));
		scout_array_free(s);
	}
	/* the folder unreadable */
	CHECK(chmod(p, 0) == 0);
	arr = NULL;
	CHECK_ERR(scout_array_open(&arr, p, SCOUT_MODE_READ), SCOUT_EIO, str(p));
	CHECK(arr == NULL);
	scout_strlist *list = NULL, *names = NULL;
	CHECK_ERR(scout_tifs_in_dir(&list, &names, p), SCOUT_EIO, str(p));
	CHECK(list == NULL && names == NULL);
	CHECK(chmod(p, 0755) == 0);

	/* its second slice unreadable: opening works (the first slice is read), reading
	   that slice fails naming it, the first slice still reads */
	join(q, p, "s01.tif");
	CHECK(chmod(q, 0) == 0);
	arr = NULL;
	CHECK_OK(scout_array_open(&arr, p, SCOUT_MODE_READ));
	if (arr) {
		uint16_t got[NVAL];
		int64_t lo[3] = {0, 0, 0}, hi[3] = {3, shape[1], shape[2]};
		CHECK_ERR(scout_extract_box(got, arr, lo, hi), SCOUT_EIO, str(q));
		hi[0] = 1;
		CHECK_OK(scout_extract_box(got, arr, lo, hi));
		CHECK(memcmp(got, v, (size_t)(plane[0] * plane[1]) * 2) == 0);
		scout_array_free(arr);
	}
	CHECK(chmod(q, 0644) == 0);
	scout_array_free(mem);
}

static void voxel_size_case(void)
{
	char p[PATH_MAX];
	FILE *f = fopen(at(p, "voxel.csv"), "w");
	CHECK(f != NULL);
	if (!f)
		return;
	fputs("2000,1800,1800\n", f);
	fclose(f);
	CHECK(chmod(p, 0) == 0);
	double size[3] = {0, 0, 0};
	int n = -1;
	CHECK_ERR(scout_read_voxel_size(size, &n, 3, p), SCOUT_EIO, str(p));
	CHECK(n == 0);
	CHECK(chmod(p, 0644) == 0);
	CHECK_OK(scout_read_voxel_size(size, &n, 3, p));
	CHECK(n == 3 && size[0] == 2.0 && size[1] == 1.8 && size[2] == 1.8);
}

/* ---- writing ---- */

static void write_cases(void)
{
	char p[PATH_MAX], q[PATH_MAX];
	uint16_t v[NVAL];
	fill_values(v, 5);
	int64_t zero[3] = {0, 0, 0};

	/* create an array inside a read-only directory */
	CHECK(mkdir(at(p, "ro"), 0555) == 0);
	join(q, p, "new.zarr");
	scout_zarr_options o = SCOUT_ZARR_OPTIONS_INIT;
	o.ndim = 3;
	memcpy(o.shape, shape, sizeof shape);
	o.dtype = "<u2";
	scout_array *arr = NULL;
	CHECK_ERR(scout_zarr_create(&arr, q, &o), SCOUT_EIO, str(q));
	CHECK(arr == NULL);
	/* ... and deeper below it (missing parents cannot be created) */
	join(q, p, "a/b/new.zarr");
	CHECK_ERR(scout_zarr_create(&arr, q, &o), SCOUT_EIO, str(p));
	CHECK(count_entries(p) == 0);

	/* a TIFF into a read-only directory: no temporary file left */
	scout_array *mem = NULL;
	CHECK_OK(scout_array_wrap(&mem, v, 3, shape, SCOUT_UINT16));
	join(q, p, "out.tif");
	if (mem)
		CHECK_ERR(scout_tiff_write(q, mem, NULL), SCOUT_EIO, str(q));
	CHECK(count_entries(p) == 0);
	scout_array_free(mem);

	/* an existing array (flat keys) made read-only: writes fail, data intact */
	arr = make_zarr(at(p, "ro_flat"), '.');
	if (arr) {
		CHECK(chmod(p, 0555) == 0);
		/* a whole-chunk write (no read needed) and a partial one */
		int64_t lo[3] = {0, 0, 0}, hi[3] = {4, 3, 5};
		join(q, p, "0.0.0");
		CHECK_ERR(scout_insert_box(arr, lo, hi, v), SCOUT_EIO, str(q));
		CHECK_ERR(scout_insert_box(arr, zero, shape, v), SCOUT_EIO, str(p));
		CHECK(strstr(scout_last_error(), "ermission") != NULL);
		CHECK_ERR(scout_array_attrs_set(arr, "{\"a\": 1}"), SCOUT_EIO, str(p));
		scout_array_free(arr);
		CHECK(count_temporaries(p) == 0);
		CHECK(array_holds(p, 7));
		/* opening it for writing still works (writes are what fail) */
		arr = NULL;
		CHECK_OK(scout_array_open(&arr, p, SCOUT_MODE_READ | SCOUT_MODE_WRITE));
		scout_array_free(arr);
		CHECK(chmod(p, 0755) == 0);
	}

	/* nested keys: an existing chunk directory read-only, and a missing one that
	   cannot be created because the array directory is read-only */
	o.chunks[0] = 4;
	o.chunks[1] = 3;
	o.chunks[2] = 5;
	o.dimension_separator = '/';
	arr = NULL;
	CHECK_OK(scout_zarr_create(&arr, at(p, "ro_nested"), &o));
	if (arr) {
		int64_t lo[3] = {0, 0, 0}, hi[3] = {4, 6, 5}; /* chunks 0/0/0 and 0/1/0 */
		CHECK_OK(scout_insert_box(arr, lo, hi, v));
		char d00[PATH_MAX + 8], d1[PATH_MAX + 8];
		join(d00, p, "0/0");
		CHECK(chmod(d00, 0555) == 0);
		CHECK_ERR(scout_insert_box(arr, lo, hi, v + 1), SCOUT_EIO, str(d00));
		CHECK(chmod(p, 0555) == 0);
		int64_t lo2[3] = {4, 0, 0}, hi2[3] = {8, 3, 5}; /* chunk 1/0/0 */
		join(d1, p, "1");
		CHECK_ERR(scout_insert_box(arr, lo2, hi2, v), SCOUT_EIO, str(d1));
		scout_array_free(arr);
		CHECK(count_temporaries(p) == 0);
		CHECK(access(d1, F_OK) != 0);
		/* the first write's values are intact, the rest is still the fill value */
		scout_array *rd = NULL;
		CHECK_OK(scout_array_open(&rd, p, SCOUT_MODE_READ));
		if (rd) {
			uint16_t got[NVAL], want[NVAL];
			CHECK_OK(scout_extract_box(got, rd, zero, shape));
			memset(want, 0, sizeof want);
			memcpy(want, v, 4 * 6 * 5 * sizeof *v);
			CHECK(memcmp(got, want, sizeof got) == 0);
			scout_array_free(rd);
		}
		CHECK(chmod(p, 0755) == 0);
		CHECK(chmod(d00, 0755) == 0);
	}
}

/* ---- the scout command ---- */

/* run build/scout with args, stderr into err; returns the exit status (-1: not run) */
static int run_scout(char *err, size_t errsize, const char *const *args)
{
	const char *exe = scout_exe;
	char log[PATH_MAX];
	join(log, base, "scout.stderr");
	const char *argv[16];
	int n = 0;
	argv[n++] = exe;
	for (; args[n - 1] && n < 15; n++)
		argv[n] = args[n - 1];
	argv[n] = NULL;
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int nul = open("/dev/null", O_WRONLY);
		if (fd < 0 || nul < 0)
			_exit(126);
		dup2(fd, 2);
		dup2(nul, 1);
		execv(exe, (char *const *)argv);
		_exit(127);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	err[0] = '\0';
	FILE *f = fopen(log, "r");
	if (f) {
		size_t got = fread(err, 1, errsize - 1, f);
		err[got] = '\0';
		fclose(f);
	}
	unlink(log);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

#define CHECK_SCOUT_FAILS(needle, ...)                                                             \
	do {                                                                                       \
		const char *args_[] = {__VA_ARGS__, NULL};                                         \
		char err_[4096];                                                                   \
		int rc_ = run_scout(err_, sizeof err_, args_);                                     \
		CHECK(rc_ == 1);                                                                   \
		CHECK(strstr(err_, (needle)) != NULL);                                             \
		if (rc_ != 1 || !strstr(err_, (needle)))                                           \
			fprintf(stderr, "scout %s: exit %d, stderr: %s\n", args_[0], rc_, err_);   \
	} while (0)

static void cli_cases(void)
{
	if (access(scout_exe, X_OK) != 0) {
		/* under ctest the command must be there; run by hand, it may be missing */
		CHECK(getenv("SCOUT_BUILD_DIR") == NULL);
		fprintf(stderr, "%s: cannot run it (%s): the command's cases are skipped\n",
			scout_exe, strerror(errno));
		return;
	}
	char in[PATH_MAX], tif[PATH_MAX], ro[PATH_MAX], out[PATH_MAX], ok[PATH_MAX];
	/* a readable input, an unreadable TIFF, an unreadable Zarr array */
	scout_array *arr = make_zarr(at(in, "cli_in.zarr"), '/');
	scout_array_free(arr);
	uint16_t v[NVAL];
	fill_values(v, 2);
	scout_array *mem = NULL;
	CHECK_OK(scout_array_wrap(&mem, v, 3, shape, SCOUT_UINT16));
	if (mem)
		CHECK_OK(scout_tiff_write(at(tif, "cli_in.tif"), mem, NULL));
	scout_array_free(mem);
	CHECK(chmod(tif, 0) == 0);
	char meta[PATH_MAX + 16], bad_zarr[PATH_MAX];
	arr = make_zarr(at(bad_zarr, "cli_bad.zarr"), '/');
	scout_array_free(arr);
	join(meta, bad_zarr, ".zarray");
	CHECK(chmod(meta, 0) == 0);
	at(ok, "cli_out.zarr");

	/* unreadable inputs */
	CHECK_SCOUT_FAILS(tif, "convert", "-j", "2", "--no-progress", tif, ok);
	CHECK_SCOUT_FAILS(meta, "convert", "-j", "2", "--no-progress", bad_zarr, ok);
	CHECK_SCOUT_FAILS(tif, "blur", "-j", "2", "--no-progress", "--sigma", "1", tif, ok);
	CHECK_SCOUT_FAILS(meta, "blur", "-j", "2", "--no-progress", "--sigma", "1", bad_zarr, ok);
	CHECK(access(ok, F_OK) != 0);

	/* outputs in a read-only directory */
	CHECK(mkdir(at(ro, "cli_ro"), 0555) == 0);
	join(out, ro, "out.zarr");
	CHECK_SCOUT_FAILS(ro, "convert", "-j", "2", "--no-progress", in, out);
	CHECK_SCOUT_FAILS(ro, "blur", "-j", "2", "--no-progress", "--sigma", "1", in, out);
	join(out, ro, "out.tif");
	CHECK_SCOUT_FAILS(ro, "convert", "-j", "2", "--no-progress", in, out);
	CHECK(count_entries(ro) == 0);

	/* the same commands work once the permissions are back */
	CHECK(chmod(tif, 0644) == 0);
	const char *conv[] = {"convert", "-j", "2", "--no-progress", tif, ok, NULL};
	char err[4096];
	CHECK(run_scout(err, sizeof err, conv) == 0);
	CHECK(array_holds(ok, 2));
	CHECK(chmod(meta, 0644) == 0);
}

/* 1 if permissions apply to this process (a mode-000 file cannot be opened) */
static int permissions_apply(void)
{
	char p[PATH_MAX];
	int fd = open(at(p, "probe"), O_WRONLY | O_CREAT | O_EXCL, 0);
	if (fd < 0)
		return 0;
	close(fd);
	fd = open(p, O_RDONLY);
	int applies = fd < 0 && errno == EACCES;
	if (fd >= 0)
		close(fd);
	unlink(p);
	return applies;
}

static int run_cases(void)
{
	if (!permissions_apply()) {
		fprintf(stderr, "this process bypasses file permissions (uid %d): cases skipped\n",
			(int)geteuid());
		return 0;
	}
	umask(022);
	zarr_read_cases();
	tiff_read_cases();
	voxel_size_case();
	write_cases();
	cli_cases();
	return check_summary();
}

/* give the owner every permission again, recursively (for removal when not root) */
static void restore_modes(const char *path)
{
	chmod(path, 0755);
	DIR *d = opendir(path);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char sub[PATH_MAX];
		join(sub, path, e->d_name);
		struct stat sb;
		if (lstat(sub, &sb) != 0)
			continue;
		if (S_ISDIR(sb.st_mode))
			restore_modes(sub);
		else
			chmod(sub, 0644);
	}
	closedir(d);
}

/* copy file src to dst with mode 0755; 0 on success */
static int copy_file(const char *src, const char *dst)
{
	int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -1;
	int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	if (out < 0) {
		close(in);
		return -1;
	}
	char buf[1 << 16];
	ssize_t n;
	int rc = 0;
	while ((n = read(in, buf, sizeof buf)) > 0)
		if (write(out, buf, (size_t)n) != n) {
			rc = -1;
			break;
		}
	if (n < 0)
		rc = -1;
	close(in);
	if (close(out) != 0)
		rc = -1;
	return rc;
}

int main(void)
{
	snprintf(base, sizeof base, "/tmp/scout_perm_XXXXXX");
	if (!mkdtemp(base))
		return 1;
	const char *build = getenv("SCOUT_BUILD_DIR");
	join(scout_exe, build ? build : "build", "scout");
	int failed = 0;
	if (geteuid() == 0) {
		/* the child works as nobody in a directory it owns, with its own copy of
		   the command (nobody may not be able to reach the build directory) */
		char copy[PATH_MAX];
		join(copy, base, "scout-command");
		if (access(scout_exe, X_OK) == 0) {
			CHECK(copy_file(scout_exe, copy) == 0);
			memcpy(scout_exe, copy, sizeof copy);
		}
		CHECK(chown(base, NOBODY, NOBODY) == 0);
		CHECK(chmod(base, 0700) == 0);
		fflush(stderr);
		pid_t pid = fork();
		if (pid == 0) {
			if (setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 || setuid(NOBODY) != 0) {
				fprintf(stderr, "cannot drop to uid/gid %d: %s\n", NOBODY,
					strerror(errno));
				_exit(2);
			}
			gid_t groups[4];
			if (getuid() != NOBODY || geteuid() != NOBODY || getgid() != NOBODY ||
			    getegid() != NOBODY || getgroups(4, groups) != 0 || setuid(0) == 0) {
				fprintf(stderr, "still privileged after dropping to %d\n", NOBODY);
				_exit(2);
			}
			_exit(run_cases());
		}
		int status = 0;
		waitpid(pid, &status, 0);
		failed = !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		if (failed)
			fprintf(stderr, "the unprivileged child failed (status %#x)\n", status);
	} else {
		failed = run_cases() != 0;
		restore_modes(base);
	}
	CHECK(!failed);
	CHECK(scout__rmtree(base) == SCOUT_OK);
	return check_summary();
}
