/*
 * Fault injection through the store's test hook (store/store.h): every failing
 * system call of a Zarr write (temporary file creation, write, short write
 * then ENOSPC, fsync, rename, parent mkdir, and the read of a read-merge-write)
 * must surface as an error naming the array and the chunk, leave every chunk
 * holding its old content or its new content (never a mix within one write's
 * part, never a torn file), and leave no temporary file behind.
 *
 * Scenarios: 3-D array (chunks not dividing the shape, blosc zstd, fill value
 * 7, part of the chunks absent), nested '/' and flat '.' keys:
 * - one insert_box of whole chunks (edge chunks and absent chunks included),
 * - one unaligned insert_box (read-merge-write of existing and absent chunks),
 * - pmap over a 2-D array whose pmap chunks straddle the storage chunks, with
 *   thread workers and with process workers (the fault state is shared with
 *   forked workers, so "the nth write" counts the writes of all of them).
 * For each scenario a first run counts the operations of each kind (and must
 * succeed: the positive control); then for each op, each variant (EIO once,
 * ENOSPC once, disk full: short write then ENOSPC on every later call) and
 * each nth from 1 to that count, the array is rebuilt with its old data, the
 * write is run under the fault, and the array is checked through a fresh
 * handle against references computed here: outside the written region every
 * element is old; inside, each part of a write (a storage chunk intersected
 * with one insert_box call's box) is entirely old or entirely new (entirely new
 * when the call succeeded); and the writer's own handle, whose cache saw the
 * write, reads exactly what the fresh handle reads. fsync faults run with SCOUT_FSYNC=1 on smaller
 * regions (fsync costs ~10 ms per file on the test machine's disk).
 *
 * Also: metadata writes under faults, Zarr v2 and v3 (scout_zarr_create fresh
 * and over an existing array, attrs_set, group_create, consolidate: old, none
 * or new, never torn; v3 attributes and consolidated metadata live in
 * zarr.json),
 * read faults (SCOUT_EIO naming the chunk; the cache is not poisoned: the
 * next read after clearing the fault returns the right data, including after
 * another handle rewrote the chunk), injected EINTR (retried: success), and
 * a value large enough for direct I/O under every write-side fault.
 */
#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "store/store.h"

#define NOPS SCOUT_STORE_FAULT_NOPS

enum { K_WHOLE, K_UNALIGNED, K_PMAP_THREADS, K_PMAP_PROCESSES };
static const char *const kind_names[] = {"whole-chunk insert", "unaligned insert", "pmap threads",
					 "pmap processes"};

typedef struct {
	int kind;
	int ndim;
	int64_t shape[3], chunks[3];
	int64_t old_rows; /* old data in rows [0, old_rows) of axis 0 (whole chunks); rest absent */
	int64_t rstart[3], rstop[3]; /* the region written */
	int64_t pchunks[3];          /* pmap chunk shape */
	int fsync;
} scenario;

typedef struct {
	int err, flags;
	const char *name;
} variant;

static const variant variants[] = {
    {EIO, 0, "EIO"},
    {ENOSPC, 0, "ENOSPC"},
    {ENOSPC, SCOUT_STORE_FAULT_SHORT | SCOUT_STORE_FAULT_STICKY, "disk full (short+ENOSPC)"},
};
#define NVARIANTS (int)(sizeof variants / sizeof *variants)

static char base[64];
static long injected[NOPS];
static long runs_by_op[NOPS];
static long runs, runs_failed_as_expected, metadata_runs, read_runs;

/* ---- values ---- */

static size_t nelems(int nd, const int64_t *shape)
{
	size_t n = 1;
	for (int i = 0; i < nd; i++)
		n *= (size_t)shape[i];
	return n;
}

static uint16_t old_value(size_t lin)
{
	return (uint16_t)((lin * 2654435761u >> 7) & 0x7fff);
}

static uint16_t new_value(size_t lin)
{
	return (uint16_t)(((lin * 40503u + 12345u) & 0x7fff) | 0x8000); /* never old, never 7 */
}

static void unravel(int64_t *c, size_t lin, int nd, const int64_t *shape)
{
	for (int i = nd - 1; i >= 0; i--) {
		c[i] = (int64_t)(lin % (size_t)shape[i]);
		lin /= (size_t)shape[i];
	}
}

static int in_box(const int64_t *c, int nd, const int64_t *lo, const int64_t *hi)
{
	for (int i = 0; i < nd; i++)
		if (c[i] < lo[i] || c[i] >= hi[i])
			return 0;
	return 1;
}

/* fill dst (the box [lo, hi)) with v(global linear index) */
static void fill_box(uint16_t *dst, const scenario *s, const int64_t *lo, const int64_t *hi,
		     uint16_t (*v)(size_t))
{
	int nd = s->ndim;
	int64_t bshape[3];
	for (int i = 0; i < nd; i++)
		bshape[i] = hi[i] - lo[i];
	size_t n = nelems(nd, bshape);
	for (size_t k = 0; k < n; k++) {
		int64_t c[3] = {0, 0, 0};
		unravel(c, k, nd, bshape);
		size_t g = 0;
		for (int i = 0; i < nd; i++)
			g = g * (size_t)s->shape[i] + (size_t)(c[i] + lo[i]);
		dst[k] = v(g);
	}
}

/* ---- files ---- */

static int tmp_found;
static int walk_tmp(const char *p, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)type;
	if (strstr(p + ftw->base, ".scout-tmp-")) {
		tmp_found++;
		fprintf(stderr, "temporary file left behind: %s\n", p);
	}
	return 0;
}

static int count_tmp(const char *dir)
{
	tmp_found = 0;
	nftw(dir, walk_tmp, 16, FTW_PHYS);
	return tmp_found;
}

static int rm_entry(const char *p, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return type == FTW_DP ? rmdir(p) : unlink(p);
}

static void rmtree(const char *p)
{
	nftw(p, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int exists(const char *p)
{
	struct stat sb;
	return stat(p, &sb) == 0;
}

/* ---- setup ---- */

static int make_old(const char *path, const scenario *s, char sep)
{
	scout_zarr_options o = SCOUT_ZARR_OPTIONS_INIT;
	o.ndim = s->ndim;
	for (int i = 0; i < s->ndim; i++) {
		o.shape[i] = s->shape[i];
		o.chunks[i] = s->chunks[i];
	}
	o.dtype = "<u2";
	o.compressor = "{\"id\": \"blosc\", \"cname\": \"zstd\", \"clevel\": 1, \"shuffle\": 2}";
	o.dimension_separator = sep;
	o.fill_value = "7";
	o.overwrite = 1;
	scout_array *a;
	int rc = scout_zarr_create(&a, path, &o);
	if (rc < 0)
		return rc;
	int64_t lo[3] = {0, 0, 0}, hi[3];
	for (int i = 0; i < s->ndim; i++)
		hi[i] = s->shape[i];
	hi[0] = s->old_rows;
	uint16_t *buf = malloc(nelems(s->ndim, s->shape) * 2);
	fill_box(buf, s, lo, hi, old_value);
	rc = scout_insert_box(a, lo, hi, buf);
	if (rc == SCOUT_OK)
		rc = scout_array_attrs_set(a, "{\"generation\": \"old\"}");
	free(buf);
	scout_array_free(a);
	return rc;
}

/* ---- the write under test ---- */

typedef struct {
	const scenario *s;
} pmap_payload;

static int pmap_write(scout_array *arr, const int64_t *start, const int64_t *chunks,
		      scout_result *result, void *payload)
{
	(void)result;
	const scenario *s = ((pmap_payload *)payload)->s;
	int64_t lo[3], hi[3];
	for (int i = 0; i < s->ndim; i++) {
		int64_t e = start[i] + chunks[i];
		lo[i] = start[i] > s->rstart[i] ? start[i] : s->rstart[i];
		hi[i] = e < s->rstop[i] ? e : s->rstop[i];
		if (lo[i] >= hi[i])
			return 0;
	}
	int64_t bshape[3];
	for (int i = 0; i < s->ndim; i++)
		bshape[i] = hi[i] - lo[i];
	uint16_t *buf = malloc(nelems(s->ndim, bshape) * 2);
	if (!buf)
		return SCOUT_ENOMEM;
	fill_box(buf, s, lo, hi, new_value);
	int rc = scout_insert_box(arr, lo, hi, buf);
	free(buf);
	return rc;
}

static int do_write(scout_array *a, const scenario *s)
{
	if (s->kind == K_WHOLE || s->kind == K_UNALIGNED) {
		int64_t bshape[3];
		for (int i = 0; i < s->ndim; i++)
			bshape[i] = s->rstop[i] - s->rstart[i];
		uint16_t *buf = malloc(nelems(s->ndim, bshape) * 2);
		fill_box(buf, s, s->rstart, s->rstop, new_value);
		int rc = scout_insert_box(a, s->rstart, s->rstop, buf);
		free(buf);
		return rc;
	}
	pmap_payload pp = {s};
	scout_pmap_options po = SCOUT_PMAP_OPTIONS_INIT;
	po.nb_workers = 2;
	po.chunksize = 1;
	po.workers = s->kind == K_PMAP_PROCESSES ? SCOUT_WORKERS_PROCESSES : SCOUT_WORKERS_THREADS;
	return scout_pmap_chunks(NULL, pmap_write, &pp, a, s->pchunks, &po);
}

/* ---- checks ---- */

/* The parts of the write: storage chunk x pmap chunk x region boxes (direct: chunk x region). */
typedef struct {
	int64_t lo[3], hi[3];
} box;

static int make_parts(box **out, const scenario *s)
{
	int nd = s->ndim;
	int64_t pc[3];
	for (int i = 0; i < nd; i++)
		pc[i] = (s->kind == K_PMAP_THREADS || s->kind == K_PMAP_PROCESSES) ? s->pchunks[i]
										   : s->shape[i];
	/* grid of cells: boundaries of storage chunks and pmap chunks along each axis */
	int64_t cuts[3][128];
	int ncut[3];
	for (int i = 0; i < nd; i++) {
		ncut[i] = 0;
		for (int64_t x = 0; x <= s->shape[i]; x++)
			if (x == s->shape[i] || x % s->chunks[i] == 0 || x % pc[i] == 0)
				cuts[i][ncut[i]++] = x;
	}
	size_t cap = 1;
	for (int i = 0; i < nd; i++)
		cap *= (size_t)(ncut[i] - 1);
	box *b = calloc(cap, sizeof *b);
	int n = 0;
	int idx[3] = {0, 0, 0};
	for (;;) {
		box c;
		int empty = 0;
		for (int i = 0; i < nd; i++) {
			c.lo[i] = cuts[i][idx[i]];
			c.hi[i] = cuts[i][idx[i] + 1];
			if (c.lo[i] < s->rstart[i])
				c.lo[i] = s->rstart[i];
			if (c.hi[i] > s->rstop[i])
				c.hi[i] = s->rstop[i];
			if (c.lo[i] >= c.hi[i])
				empty = 1;
		}
		if (!empty)
			b[n++] = c;
		int ax = nd - 1;
		while (ax >= 0 && ++idx[ax] >= ncut[ax] - 1) {
			idx[ax] = 0;
			ax--;
		}
		if (ax < 0)
			break;
	}
	*out = b;
	return n;
}

/* 1 if msg names one of the storage chunks the region touches as "chunk <key>:" */
static int names_chunk(const char *msg, const scenario *s, char sep)
{
	int64_t lo[3], hi[3], idx[3];
	for (int i = 0; i < s->ndim; i++) {
		lo[i] = s->rstart[i] / s->chunks[i];
		hi[i] = (s->rstop[i] - 1) / s->chunks[i];
		idx[i] = lo[i];
	}
	for (;;) {
		char key[128];
		int used = snprintf(key, sizeof key, "chunk ");
		for (int i = 0; i < s->ndim; i++) {
			if (i)
				key[used++] = sep;
			used += snprintf(key + used, sizeof key - (size_t)used, "%lld",
					 (long long)idx[i]);
		}
		snprintf(key + used, sizeof key - (size_t)used, ":");
		if (strstr(msg, key))
			return 1;
		int ax = s->ndim - 1;
		while (ax >= 0 && ++idx[ax] > hi[ax]) {
			idx[ax] = lo[ax];
			ax--;
		}
		if (ax < 0)
			return 0;
	}
}

/*
 * Check the array at path after a write that returned rc (see the file
 * comment); `what` describes the run for failure messages.
 */
static void verify(const char *path, const scenario *s, int rc, const char *what,
		   const uint16_t *writer_view)
{
	int before = check_failures;
	int nd = s->ndim;
	size_t n = nelems(nd, s->shape);
	uint16_t *got = malloc(n * 2), *oldr = malloc(n * 2), *newr = malloc(n * 2);
	for (size_t k = 0; k < n; k++) {
		int64_t c[3] = {0, 0, 0};
		unravel(c, k, nd, s->shape);
		oldr[k] = c[0] < s->old_rows ? old_value(k) : 7;
		newr[k] = in_box(c, nd, s->rstart, s->rstop) ? new_value(k) : oldr[k];
	}
	scout_array *a = NULL;
	int orc = scout_array_open(&a, path, SCOUT_MODE_READ);
	CHECK(orc == SCOUT_OK);
	int erc = -1;
	if (orc == SCOUT_OK) {
		int64_t zero[3] = {0, 0, 0};
		erc = scout_extract_box(got, a, zero, s->shape); /* decodes every chunk */
		CHECK(erc == SCOUT_OK);
		if (erc < 0)
			fprintf(stderr, "read back: %s\n", scout_last_error());
		char *attrs = NULL;
		CHECK_OK(scout_array_attrs_get(&attrs, a));
		CHECK(attrs && strstr(attrs, "\"old\""));
		scout_free(attrs);
		scout_array_free(a);
	} else {
		fprintf(stderr, "reopen: %s\n", scout_last_error());
	}
	if (erc == SCOUT_OK) {
		size_t bad = 0;
		for (size_t k = 0; k < n; k++) {
			int64_t c[3] = {0, 0, 0};
			unravel(c, k, nd, s->shape);
			if (!in_box(c, nd, s->rstart, s->rstop) && got[k] != oldr[k])
				bad++;
		}
		CHECK(bad == 0); /* nothing outside the region changed */
		/* the writer's handle (and its cache) sees what is stored */
		CHECK(writer_view && memcmp(writer_view, got, n * 2) == 0);
		box *parts;
		int np = make_parts(&parts, s);
		for (int p = 0; p < np; p++) {
			size_t cnt = 0, nold = 0, nnew = 0;
			for (size_t k = 0; k < n; k++) {
				int64_t c[3] = {0, 0, 0};
				unravel(c, k, nd, s->shape);
				if (!in_box(c, nd, parts[p].lo, parts[p].hi))
					continue;
				cnt++;
				nold += got[k] == oldr[k];
				nnew += got[k] == newr[k];
			}
			CHECK(cnt > 0 &&
			      (nold == cnt || nnew == cnt)); /* old or new, never mixed */
			if (rc == SCOUT_OK)
				CHECK(nnew == cnt);
		}
		free(parts);
	}
	CHECK(count_tmp(path) == 0);
	if (check_failures != before)
		fprintf(stderr, "  ... in run: %s\n", what);
	free(got);
	free(oldr);
	free(newr);
}

/*
 * One run: rebuild the old array, write under the fault (op < 0: no fault,
 * count the operations into seen), check the outcome.
 */
static void run_one(const scenario *s, char sep, int op, long nth, const variant *v, long *seen)
{
	char path[128], what[256];
	snprintf(path, sizeof path, "%s/arr", base);
	snprintf(what, sizeof what, "%s, sep '%c'%s, %s fault #%ld %s", kind_names[s->kind], sep,
		 s->fsync ? ", fsync" : "", op < 0 ? "no" : scout__store_fault_op_name(op), nth,
		 v ? v->name : "");
	int rc = make_old(path, s, sep);
	CHECK(rc == SCOUT_OK);
	if (rc < 0) {
		fprintf(stderr, "setup: %s (%s)\n", scout_last_error(), what);
		return;
	}
	if (s->fsync)
		setenv("SCOUT_FSYNC", "1", 1);
	scout_array *a;
	rc = scout_array_open(&a, path, SCOUT_MODE_READ | SCOUT_MODE_WRITE);
	unsetenv("SCOUT_FSYNC");
	CHECK(rc == SCOUT_OK);
	if (rc < 0)
		return;
	if (op < 0) {
		for (int i = 0; i < NOPS; i++)
			CHECK_OK(scout__store_fault_set(i, 0, 0, 0));
	} else {
		CHECK_OK(scout__store_fault_set(op, nth, v->err, v->flags));
	}
	scout_clear_error();
	rc = do_write(a, s);
	char msg[2048];
	snprintf(msg, sizeof msg, "%s", scout_last_error());
	long hits = 0;
	for (int i = 0; i < NOPS; i++) {
		long h = scout__store_fault_hits(i);
		hits += h;
		injected[i] += h;
		if (seen)
			seen[i] = scout__store_fault_seen(i);
	}
	scout__store_fault_clear();
	uint16_t *writer_view = malloc(nelems(s->ndim, s->shape) * 2);
	int64_t zero[3] = {0, 0, 0};
	int wrc = scout_extract_box(writer_view, a, zero, s->shape);
	CHECK(wrc == SCOUT_OK);
	scout_array_free(a);
	runs++;
	if (op >= 0)
		runs_by_op[op]++;
	int before = check_failures;
	if (hits == 0) {
		CHECK(rc == SCOUT_OK); /* no fault: the write succeeds */
		if (rc < 0)
			fprintf(stderr, "unexpected error: %s\n", msg);
	} else {
		int pmap = s->kind == K_PMAP_THREADS || s->kind == K_PMAP_PROCESSES;
		CHECK(rc == (s->kind == K_PMAP_PROCESSES ? SCOUT_EWORKER : SCOUT_EIO));
		CHECK(strstr(msg, path) != NULL);       /* the array */
		CHECK(names_chunk(msg, s, sep));        /* the chunk key */
		CHECK(strstr(msg, strerror(v->err)));   /* what the system said */
		CHECK(!pmap || strstr(msg, "chunk (")); /* pmap: the chunk's start */
		if (check_failures != before)
			fprintf(stderr, "rc %d, message: %s\n", rc, msg);
		else
			runs_failed_as_expected++;
	}
	if (check_failures != before)
		fprintf(stderr, "  ... in run: %s\n", what);
	verify(path, s, rc, what, wrc == SCOUT_OK ? writer_view : NULL);
	free(writer_view);
}

#define NTH_CAP 64

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void run_scenario(const scenario *s, char sep)
{
	double t0 = now_s();
	long runs0 = runs;
	long seen[NOPS];
	run_one(s, sep, -1, 0, NULL, seen); /* the positive control, and the op counts */
	for (int op = 0; op < NOPS; op++) {
		if ((op == SCOUT_STORE_FAULT_FSYNC) != (s->fsync != 0))
			continue;
		long k = seen[op] < NTH_CAP ? seen[op] : NTH_CAP;
		CHECK(seen[op] <= NTH_CAP);
		if (op == SCOUT_STORE_FAULT_FSYNC || op == SCOUT_STORE_FAULT_WRITE ||
		    op == SCOUT_STORE_FAULT_RENAME || op == SCOUT_STORE_FAULT_OPEN_TMP)
			CHECK(seen[op] > 0); /* the scenario exercises it */
		for (int vi = 0; vi < NVARIANTS; vi++)
			for (long nth = 1; nth <= k; nth++)
				run_one(s, sep, op, nth, &variants[vi], NULL);
	}
	printf("  %-18s sep '%c'%s: %4ld runs, %.2f s\n", kind_names[s->kind], sep,
	       s->fsync ? " fsync" : "      ", runs - runs0, now_s() - t0);
}

/* ---- metadata ---- */

static int shape_is(scout_array *a, int64_t d0, int64_t d1)
{
	const int64_t *sh = scout_array_shape(a);
	return scout_array_ndim(a) == 2 && sh[0] == d0 && sh[1] == d1;
}

static int meta_fmt = 2; /* the Zarr format of the metadata runs */

static scout_zarr_options meta_opts(int64_t d0, int64_t d1)
{
	scout_zarr_options o = SCOUT_ZARR_OPTIONS_INIT;
	o.zarr_format = meta_fmt;
	o.ndim = 2;
	o.shape[0] = d0;
	o.shape[1] = d1;
	o.chunks[0] = 2;
	o.chunks[1] = 3;
	o.dtype = "<u2";
	o.overwrite = 1;
	return o;
}

enum { M_CREATE, M_OVERWRITE, M_ATTRS, M_GROUP, M_CONSOLIDATE };

static char *slurp(const char *p)
{
	FILE *f = fopen(p, "rb");
	if (!f)
		return NULL;
	char *buf = malloc(65536);
	size_t got = buf ? fread(buf, 1, 65535, f) : 0;
	fclose(f);
	if (buf)
		buf[got] = '\0';
	return buf;
}

/* One metadata run; op < 0 counts into seen. */
static void meta_one(int what, int fsync, int op, long nth, const variant *v, long *seen,
		     const char *group_ref)
{
	char path[128], zp[160];
	snprintf(path, sizeof path, "%s/meta", base);
	rmtree(path);
	int before = check_failures;
	scout_array *a = NULL;
	if (what == M_CONSOLIDATE) { /* a group holding one array, not consolidated */
		CHECK_OK(scout_zarr_group_create_format(path, meta_fmt));
		char member[160];
		snprintf(member, sizeof member, "%s/member", path);
		scout_zarr_options o = meta_opts(4, 4);
		CHECK_OK(scout_zarr_create(&a, member, &o));
		scout_array_free(a);
		a = NULL;
	}
	if (what == M_OVERWRITE || what == M_ATTRS) {
		scout_zarr_options o = meta_opts(4, 4);
		CHECK_OK(scout_zarr_create(&a, path, &o));
		CHECK_OK(scout_array_attrs_set(a, "{\"generation\": \"old\"}"));
		scout_array_free(a);
		a = NULL;
		if (what == M_ATTRS)
			CHECK_OK(scout_array_open(&a, path, SCOUT_MODE_READ | SCOUT_MODE_WRITE));
	}
	if (fsync)
		setenv("SCOUT_FSYNC", "1", 1);
	if (what == M_ATTRS && a) { /* reopen so that the store sees SCOUT_FSYNC */
		scout_array_free(a);
		CHECK_OK(scout_array_open(&a, path, SCOUT_MODE_READ | SCOUT_MODE_WRITE));
	}
	if (op < 0) {
		for (int i = 0; i < NOPS; i++)
			CHECK_OK(scout__store_fault_set(i, 0, 0, 0));
	} else {
		CHECK_OK(scout__store_fault_set(op, nth, v->err, v->flags));
	}
	scout_clear_error();
	int rc;
	scout_array *created = NULL;
	scout_zarr_options o = meta_opts(5, 6);
	if (what == M_CREATE || what == M_OVERWRITE)
		rc = scout_zarr_create(&created, path, &o);
	else if (what == M_ATTRS)
		rc = a ? scout_array_attrs_set(a, "{\"generation\": \"new\", \"x\": [1, 2, 3]}")
		       : SCOUT_EINVAL;
	else if (what == M_GROUP)
		rc = scout_zarr_group_create_format(path, meta_fmt);
	else
		rc = scout_zarr_consolidate(path);
	char msg[2048];
	snprintf(msg, sizeof msg, "%s", scout_last_error());
	long hits = 0;
	for (int i = 0; i < NOPS; i++) {
		long h = scout__store_fault_hits(i);
		hits += h;
		injected[i] += h;
		if (seen)
			seen[i] = scout__store_fault_seen(i);
	}
	scout__store_fault_clear();
	unsetenv("SCOUT_FSYNC");
	scout_array_free(created);
	scout_array_free(a);
	metadata_runs++;
	if (op >= 0)
		runs_by_op[op]++;
	CHECK((rc < 0) == (hits > 0));
	if (rc < 0)
		CHECK(strstr(msg, path) != NULL && strstr(msg, strerror(v->err)) != NULL);
	/* the outcome: old, none or new, and never a torn file */
	if (what == M_CONSOLIDATE) {
		/* the group reads; its consolidated metadata is absent (old) or complete */
		char *desc = NULL;
		CHECK_OK(scout_zarr_group_describe(&desc, path));
		CHECK(desc && strstr(desc, "\"member\""));
		snprintf(zp, sizeof zp, "%s/%s", path, meta_fmt == 3 ? "zarr.json" : ".zmetadata");
		char *text = slurp(zp);
		int consolidated =
		    meta_fmt == 3 ? text && strstr(text, "\"inline\"") != NULL : text != NULL;
		CHECK(consolidated || rc < 0);
		if (consolidated)
			CHECK(strstr(text, "member") && desc &&
			      strstr(desc, "\"consolidated\": true"));
		free(text);
		scout_free(desc);
	} else if (what == M_GROUP && meta_fmt == 3) {
		snprintf(zp, sizeof zp, "%s/zarr.json", path);
		char *text = slurp(zp);
		CHECK(text || rc < 0);
		if (text)
			CHECK(strcmp(text, group_ref) == 0);
		free(text);
	} else if (what == M_GROUP) {
		snprintf(zp, sizeof zp, "%s/.zgroup", path);
		FILE *f = fopen(zp, "rb");
		if (f) {
			char buf[256];
			size_t got = fread(buf, 1, sizeof buf - 1, f);
			buf[got] = '\0';
			fclose(f);
			CHECK(strcmp(buf, group_ref) == 0);
		}
		CHECK(f || rc < 0);
	} else {
		snprintf(zp, sizeof zp, "%s/%s", path, meta_fmt == 3 ? "zarr.json" : ".zarray");
		int has = exists(zp);
		CHECK(has || (what == M_CREATE || what == M_OVERWRITE) == 1);
		CHECK(has || rc < 0);
		if (has) {
			scout_array *r = NULL;
			int orc = scout_array_open(&r, path, SCOUT_MODE_READ);
			CHECK(orc == SCOUT_OK); /* .zarray parses */
			if (orc == SCOUT_OK) {
				if (what == M_CREATE)
					CHECK(shape_is(r, 5, 6));
				else if (what == M_OVERWRITE)
					CHECK(shape_is(r, 5, 6) || shape_is(r, 4, 4));
				else
					CHECK(shape_is(r, 4, 4));
				char *attrs = NULL;
				CHECK_OK(scout_array_attrs_get(&attrs, r)); /* .zattrs parses */
				if (what == M_ATTRS) {
					int is_old = attrs && strstr(attrs, "\"old\"");
					int is_new = attrs && strstr(attrs, "\"new\"") &&
						     strstr(attrs, "\"x\"");
					CHECK(is_old || is_new);
					CHECK(rc < 0 || is_new);
				}
				scout_free(attrs);
				scout_array_free(r);
			}
		}
	}
	CHECK(count_tmp(path) == 0);
	if (check_failures != before)
		fprintf(stderr, "  ... in metadata run %d fsync %d op %s nth %ld %s: rc %d, %s\n",
			what, fsync, op < 0 ? "none" : scout__store_fault_op_name(op), nth,
			v ? v->name : "", rc, msg);
}

static void test_metadata(int fmt)
{
	char ref_path[128], zp[160], group_ref[256] = "";
	meta_fmt = fmt;
	snprintf(ref_path, sizeof ref_path, "%s/group-ref%d", base, fmt);
	CHECK_OK(scout_zarr_group_create_format(ref_path, fmt));
	snprintf(zp, sizeof zp, "%s/%s", ref_path, fmt == 3 ? "zarr.json" : ".zgroup");
	FILE *f = fopen(zp, "rb");
	CHECK(f != NULL);
	if (f) {
		size_t got = fread(group_ref, 1, sizeof group_ref - 1, f);
		group_ref[got] = '\0';
		fclose(f);
	}
	CHECK(strstr(group_ref, fmt == 3 ? "\"zarr_format\": 3" : "\"zarr_format\": 2") != NULL);
	for (int what = M_CREATE; what <= M_CONSOLIDATE; what++)
		for (int fsync = 0; fsync <= 1; fsync++) {
			long seen[NOPS];
			meta_one(what, fsync, -1, 0, NULL, seen, group_ref);
			for (int op = 0; op < NOPS; op++) {
				if ((op == SCOUT_STORE_FAULT_FSYNC) != fsync)
					continue;
				if (op == SCOUT_STORE_FAULT_WRITE ||
				    op == SCOUT_STORE_FAULT_RENAME ||
				    (fsync && op == SCOUT_STORE_FAULT_FSYNC))
					CHECK(seen[op] >= 1);
				for (int vi = 0; vi < NVARIANTS; vi++)
					for (long nth = 1; nth <= seen[op] && nth <= NTH_CAP; nth++)
						meta_one(what, fsync, op, nth, &variants[vi], NULL,
							 group_ref);
			}
		}
}

/* ---- read faults ---- */

static int box_equals_old(const uint16_t *got, const scenario *s, const int64_t *lo,
			  const int64_t *hi, const int64_t *new_lo, const int64_t *new_hi)
{
	int nd = s->ndim;
	int64_t bshape[3];
	for (int i = 0; i < nd; i++)
		bshape[i] = hi[i] - lo[i];
	size_t n = nelems(nd, bshape);
	for (size_t k = 0; k < n; k++) {
		int64_t c[3] = {0, 0, 0};
		unravel(c, k, nd, bshape);
		size_t g = 0;
		for (int i = 0; i < nd; i++) {
			c[i] += lo[i];
			g = g * (size_t)s->shape[i] + (size_t)c[i];
		}
		uint16_t want = c[0] < s->old_rows ? old_value(g) : 7;
		if (new_lo && in_box(c, nd, new_lo, new_hi))
			want = new_value(g);
		if (got[k] != want)
			return 0;
	}
	return 1;
}

static void test_read_faults(const scenario *s)
{
	char path[128];
	snprintf(path, sizeof path, "%s/reads", base);
	for (int cache = 0; cache <= 1; cache++) {
		CHECK_OK(make_old(path, s, '/'));
		scout_array *a, *w;
		CHECK_OK(scout_array_open(&a, path, SCOUT_MODE_READ));
		if (!cache)
			CHECK_OK(scout_zarr_set_cache_size(a, 0));
		uint16_t got[8 * 8 * 7];
		/* a whole chunk (decoded straight into the destination) */
		int64_t lo1[3] = {0, 0, 0}, hi1[3] = {8, 8, 7};
		for (int vi = 0; vi < 2; vi++) {
			CHECK_OK(scout__store_fault_set(SCOUT_STORE_FAULT_READ, 1, EIO,
							vi ? SCOUT_STORE_FAULT_SHORT : 0));
			CHECK_ERR(scout_extract_box(got, a, lo1, hi1), SCOUT_EIO, "chunk 0/0/0:");
			CHECK(strstr(scout_last_error(), path) &&
			      strstr(scout_last_error(), strerror(EIO)));
			injected[SCOUT_STORE_FAULT_READ] += scout__store_fault_hits(0);
			CHECK(scout__store_fault_hits(SCOUT_STORE_FAULT_READ) == 1);
			scout__store_fault_clear();
			read_runs++;
			CHECK_OK(scout_extract_box(got, a, lo1, hi1));
			CHECK(box_equals_old(got, s, lo1, hi1, NULL, NULL));
		}
		/* a box over two chunks, the second read fails */
		int64_t lo2[3] = {2, 3, 4}, hi2[3] = {5, 6, 10};
		CHECK_OK(scout__store_fault_set(SCOUT_STORE_FAULT_READ, 2, EIO, 0));
		CHECK_ERR(scout_extract_box(got, a, lo2, hi2), SCOUT_EIO, "chunk 0/0/1:");
		injected[SCOUT_STORE_FAULT_READ] += scout__store_fault_hits(0);
		scout__store_fault_clear();
		read_runs++;
		CHECK_OK(scout_extract_box(got, a, lo2, hi2));
		CHECK(box_equals_old(got, s, lo2, hi2, NULL, NULL));
		/* another handle rewrites chunk 0/0/1; every read fails for a while */
		CHECK_OK(scout_array_open(&w, path, SCOUT_MODE_READ | SCOUT_MODE_WRITE));
		int64_t lo3[3] = {0, 0, 7}, hi3[3] = {8, 8, 11};
		uint16_t nb[8 * 8 * 7];
		fill_box(nb, s, lo3, hi3, new_value);
		CHECK_OK(scout_insert_box(w, lo3, hi3, nb));
		scout_array_free(w);
		CHECK_OK(scout__store_fault_set(SCOUT_STORE_FAULT_READ, 1, EIO,
						SCOUT_STORE_FAULT_STICKY));
		CHECK_ERR(scout_extract_box(got, a, lo2, hi2), SCOUT_EIO, "chunk 0/0/");
		CHECK_ERR(scout_extract_box(got, a, lo2, hi2), SCOUT_EIO, "chunk 0/0/");
		injected[SCOUT_STORE_FAULT_READ] += scout__store_fault_hits(0);
		CHECK(scout__store_fault_hits(SCOUT_STORE_FAULT_READ) >= 2);
		scout__store_fault_clear();
		read_runs++;
		CHECK_OK(scout_extract_box(got, a, lo2, hi2)); /* the new chunk, not a stale one */
		CHECK(box_equals_old(got, s, lo2, hi2, lo3, hi3));
		/* an absent chunk makes no read: the fill value, no fault */
		int64_t lo4[3] = {8, 0, 0}, hi4[3] = {13, 8, 7};
		CHECK_OK(scout__store_fault_set(SCOUT_STORE_FAULT_READ, 1, EIO,
						SCOUT_STORE_FAULT_STICKY));
		CHECK_OK(scout_extract_box(got, a, lo4, hi4));
		CHECK(scout__store_fault_hits(SCOUT_STORE_FAULT_READ) == 0);
		scout__store_fault_clear();
		CHECK(box_equals_old(got, s, lo4, hi4, NULL, NULL));
		/* EINTR is retried: the read succeeds */
		int64_t lo5[3] = {0, 8, 0}, hi5[3] = {8, 16, 7};
		CHECK_OK(scout__store_fault_set(SCOUT_STORE_FAULT_READ, 1, EINTR, 0));
		CHECK_OK(scout_extract_box(got, a, lo5, hi5));
		CHECK(scout__store_fault_hits(SCOUT_STORE_FAULT_READ) == 1);
		injected[SCOUT_STORE_FAULT_READ] += scout__store_fault_hits(0);
		scout__store_fault_clear();
		read_runs++;
		CHECK(box_equals_old(got, s, lo5, hi5, NULL, NULL));
		scout_array_free(a);
	}
	/* EINTR on write(2) and on a short write: retried, the write succeeds */
	for (int vi = 0; vi < 2; vi++) {
		CHECK_OK(make_old(path, s, '/'));
		scout_array *a;
		CHECK_OK(scout_array_open(&a, path, SCOUT_MODE_READ | SCOUT_MODE_WRITE));
		int64_t lo[3] = {0, 8, 0}, hi[3] = {8, 16, 7};
		uint16_t nb[8 * 8 * 7], got[8 * 8 * 7];
		fill_box(nb, s, lo, hi, new_value);
		CHECK_OK(scout__store_fault_set(SCOUT_STORE_FAULT_WRITE, 1, EINTR,
						vi ? SCOUT_STORE_FAULT_SHORT : 0));
		CHECK_OK(scout_insert_box(a, lo, hi, nb));
		CHECK(scout__store_fault_hits(SCOUT_STORE_FAULT_WRITE) == 1);
		injected[SCOUT_STORE_FAULT_WRITE] +=
		    scout__store_fault_hits(SCOUT_STORE_FAULT_WRITE);
		scout__store_fault_clear();
		runs_by_op[SCOUT_STORE_FAULT_WRITE]++;
		read_runs++;
		scout_array_free(a);
		CHECK_OK(scout_array_open(&a, path, SCOUT_MODE_READ));
		CHECK_OK(scout_extract_box(got, a, lo, hi));
		CHECK(box_equals_old(got, s, lo, hi, lo, hi));
		scout_array_free(a);
		CHECK(count_tmp(path) == 0);
	}
}

/* ---- direct I/O ---- */

/*
 * A value large enough for direct I/O (9 MiB + 777 bytes: O_DIRECT pieces,
 * through the 4 MiB bounce buffer when the source is not aligned, then the
 * buffered tail) under every fault of the write side: each variant at each
 * nth call of each op must fail naming the key's file and the system's
 * message, leave the old value byte for byte (read with stdio) and no
 * temporary file.
 */
static void test_direct_faults(void)
{
	char dir[128], path[256];
	snprintf(dir, sizeof dir, "%s/direct", base);
	snprintf(path, sizeof path, "%s/c/0", dir);
	unsetenv("SCOUT_DIRECT_IO"); /* the default: on */
	scout_store *st;
	CHECK_OK(scout__store_open(&st, dir, 0));
	size_t n = 9 * (1 << 20) + 777;
	unsigned char *oldv = malloc(n), *newv = NULL;
	CHECK(oldv && posix_memalign((void **)&newv, 4096, n + 1) == 0);
	if (!oldv || !newv)
		return;
	for (size_t i = 0; i < n; i++) {
		oldv[i] = (unsigned char)(i * 31 + 7);
		newv[i] = (unsigned char)(i * 17 + 3);
	}
	newv[n] = 0;
	const int ops[] = {SCOUT_STORE_FAULT_OPEN_TMP, SCOUT_STORE_FAULT_WRITE,
			   SCOUT_STORE_FAULT_RENAME};
	long direct_runs = 0;
	for (int off = 0; off < 2; off++) { /* the source aligned, then 1 byte off (bounce) */
		const unsigned char *src = newv + off;
		long seen[NOPS];
		for (int i = 0; i < NOPS; i++)
			CHECK_OK(scout__store_fault_set(i, 0, 0, 0));
		CHECK_OK(scout__store_set(st, "c/0", src, n, NULL)); /* the control, counted */
		for (int i = 0; i < NOPS; i++)
			seen[i] = scout__store_fault_seen(i);
		scout__store_fault_clear();
		/* body in one piece, or three bounce pieces (of at most 4 MiB - 4 KiB), then the
		 * tail */
		CHECK(seen[SCOUT_STORE_FAULT_WRITE] == (off ? 4 : 2));
		for (size_t o = 0; o < sizeof ops / sizeof *ops; o++)
			for (int vi = 0; vi < NVARIANTS; vi++)
				for (long nth = 1; nth <= seen[ops[o]]; nth++) {
					CHECK_OK(scout__store_set(st, "c/0", oldv, n, NULL));
					CHECK_OK(scout__store_fault_set(
					    ops[o], nth, variants[vi].err, variants[vi].flags));
					int rc = scout__store_set(st, "c/0", src, n, NULL);
					long hits = scout__store_fault_hits(ops[o]);
					scout__store_fault_clear();
					CHECK(hits >= 1);
					const char *want = path;
					CHECK_ERR(rc, SCOUT_EIO, want);
					CHECK(
					    strstr(scout_last_error(), strerror(variants[vi].err)));
					size_t got = 0;
					unsigned char *back = test_read_file(path, &got);
					CHECK(back && got == n && memcmp(back, oldv, n) == 0);
					free(back);
					CHECK(count_tmp(dir) == 0);
					direct_runs++;
				}
		size_t got = 0;
		CHECK_OK(scout__store_set(st, "c/0", src, n, NULL));
		unsigned char *back = test_read_file(path, &got);
		CHECK(back && got == n && memcmp(back, src, n) == 0);
		free(back);
	}
	printf("direct I/O faults: %ld runs\n", direct_runs);
	scout__store_free(st);
	free(oldv);
	free(newv);
}

/* ---- the hook itself ---- */

static void test_hook(void)
{
	CHECK_ERR(scout__store_fault_set(NOPS, 1, EIO, 0), SCOUT_EINVAL, "bad op");
	CHECK_ERR(scout__store_fault_set(SCOUT_STORE_FAULT_WRITE, 1, 0, 0), SCOUT_EINVAL, NULL);
	CHECK_ERR(scout__store_fault_set(SCOUT_STORE_FAULT_WRITE, -1, EIO, 0), SCOUT_EINVAL, NULL);
	CHECK_ERR(scout__store_fault_set(SCOUT_STORE_FAULT_WRITE, 1, EIO, 8), SCOUT_EINVAL, NULL);
	CHECK_OK(scout__store_fault_parse("write:3:ENOSPC:short:sticky,rename:1:5,read:2:EIO"));
	CHECK_OK(scout__store_fault_parse("open_tmp:1:EDQUOT,mkdir:4:EACCES,fsync:1:EROFS"));
	scout__store_fault_clear();
	const char *bad[] = {"write",      "write:0:EIO",      "write:1:ENOPE",
			     "nope:1:EIO", "write:1:EIO:long", "write:1:EIO,",
			     "write:x:EIO"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		CHECK_ERR(scout__store_fault_parse(bad[i]), SCOUT_EINVAL, "SCOUT_FAULT");
	/* nth counts from the set; a fault fires once unless sticky */
	char dir[128];
	snprintf(dir, sizeof dir, "%s/hook", base);
	scout_store *st;
	CHECK_OK(scout__store_open(&st, dir, 0));
	CHECK_OK(scout__store_fault_set(SCOUT_STORE_FAULT_OPEN_TMP, 2, EACCES, 0));
	CHECK_OK(scout__store_set(st, "a/b", "1", 1, NULL));
	CHECK_ERR(scout__store_set(st, "a/b", "2", 1, NULL), SCOUT_EIO, strerror(EACCES));
	CHECK_OK(scout__store_set(st, "a/b", "3", 1, NULL));
	CHECK(scout__store_fault_seen(SCOUT_STORE_FAULT_OPEN_TMP) == 3);
	CHECK(scout__store_fault_hits(SCOUT_STORE_FAULT_OPEN_TMP) == 1);
	CHECK_OK(
	    scout__store_fault_set(SCOUT_STORE_FAULT_RENAME, 2, EDQUOT, SCOUT_STORE_FAULT_STICKY));
	CHECK_OK(scout__store_set(st, "a/b", "4", 1, NULL));
	CHECK_ERR(scout__store_set(st, "a/b", "5", 1, NULL), SCOUT_EIO, strerror(EDQUOT));
	CHECK_ERR(scout__store_set(st, "a/b", "6", 1, NULL), SCOUT_EIO, strerror(EDQUOT));
	CHECK(scout__store_fault_hits(SCOUT_STORE_FAULT_RENAME) == 2);
	scout__store_fault_clear();
	CHECK(scout__store_fault_hits(SCOUT_STORE_FAULT_RENAME) == 0);
	void *data;
	size_t n;
	CHECK_OK(scout__store_get(&data, &n, NULL, st, "a/b"));
	CHECK(n == 1 && ((char *)data)[0] == '4');
	free(data);
	CHECK(count_tmp(dir) == 0);
	scout__store_free(st);
}

int main(void)
{
	snprintf(base, sizeof base, "/tmp/scout-faults-XXXXXX");
	if (!mkdtemp(base)) {
		perror("mkdtemp");
		return 1;
	}
	unsetenv("SCOUT_FSYNC");
	unsetenv("SCOUT_FAULT");
	/* a small cache: a handle's default 256 MiB budget makes each open of these
	   tiny-chunk arrays allocate a large index */
	setenv("SCOUT_ZARR_CACHE", "1048576", 1);
	test_hook();

	/* 3-D: grid 2 x 3 x 2, rows 8.. absent (their chunks and directories too) */
	scenario s3 = {K_WHOLE, 3, {13, 21, 11}, {8, 8, 7}, 8, {0, 8, 7}, {13, 21, 11}, {0}, 0};
	scenario s3u = s3; /* 4 chunks: 2 merged with old data, 2 absent */
	s3u.kind = K_UNALIGNED;
	memcpy(s3u.rstart, (int64_t[3]){5, 6, 3}, sizeof s3u.rstart);
	memcpy(s3u.rstop, (int64_t[3]){10, 13, 6}, sizeof s3u.rstop);
	scenario s3f = s3; /* fsync: 2 chunks, one absent */
	s3f.fsync = 1;
	memcpy(s3f.rstart, (int64_t[3]){0, 16, 7}, sizeof s3f.rstart);
	memcpy(s3f.rstop, (int64_t[3]){13, 21, 11}, sizeof s3f.rstop);
	scenario s3uf = s3u;
	s3uf.fsync = 1;
	memcpy(s3uf.rstart, (int64_t[3]){6, 18, 8}, sizeof s3uf.rstart);
	memcpy(s3uf.rstop, (int64_t[3]){10, 20, 10}, sizeof s3uf.rstop);
	/* 2-D pmap: grid 3 x 3, pmap chunks 11 x 10 straddling the 8 x 8 chunks: 8 chunk
	   writes, chunk (1, 1) shared by all 4 pmap chunks */
	scenario s2 = {K_PMAP_THREADS, 2, {21, 19}, {8, 8}, 16, {5, 9}, {21, 15}, {11, 10}, 0};
	scenario s2f = s2;
	s2f.fsync = 1;
	memcpy(s2f.rstart, (int64_t[2]){17, 6}, 2 * sizeof(int64_t));
	memcpy(s2f.rstop, (int64_t[2]){21, 12}, 2 * sizeof(int64_t));
	const scenario *list[] = {&s3, &s3u, &s3f, &s3uf, &s2, &s2f};
	const char seps[2] = {'/', '.'};
	for (size_t i = 0; i < sizeof list / sizeof *list; i++) {
		int nkinds = list[i]->kind == K_PMAP_THREADS ? 2 : 1;
		for (int k = 0; k < nkinds; k++) {
			scenario s = *list[i];
			if (k) {
				/* forks are slow under ASan: 2 pmap chunks, 4 chunk writes
				   sharing chunks (1, 1) and (2, 1) (absent) */
				s.kind = K_PMAP_PROCESSES;
				if (!s.fsync) {
					s.rstart[0] = 12;
					s.rstart[1] = 9;
				}
			}
			for (int j = 0; j < 2; j++)
				run_scenario(&s, seps[j]);
		}
	}
	test_metadata(2);
	test_metadata(3);
	test_read_faults(&s3);
	test_direct_faults();

	long total = 0;
	for (int i = 0; i < NOPS; i++)
		total += injected[i];
	printf("store faults: %ld faults injected (", total);
	for (int i = 0; i < NOPS; i++)
		printf("%s%s %ld", i ? ", " : "", scout__store_fault_op_name(i), injected[i]);
	printf(") in %ld runs: %ld Zarr write runs (%ld failed as expected), %ld metadata runs, "
	       "%ld read/EINTR runs; runs per op:",
	       runs + metadata_runs + read_runs, runs, runs_failed_as_expected, metadata_runs,
	       read_runs);
	for (int i = 0; i < NOPS; i++)
		printf(" %s %ld", scout__store_fault_op_name(i), runs_by_op[i]);
	printf("; %d check failures\n", check_failures);
	fflush(stdout);
	rmtree(base);
	return check_summary();
}
