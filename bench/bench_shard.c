/*
 * W8 (issue 12), scaled: a sharded Zarr v3 array of uint16, inner chunks
 * through bytes + zstd level 0, read, round-tripped and converted, against
 * the codec floor measured in the same run on the same inner chunks (their
 * encoded bytes in memory, the same inner pipeline, one thread).
 *
 * usage: bench_shard DIR [N] [SHARD] [INNER] [REPS] [zstd|blosc]
 *   (defaults 256 128 32 3: a 256^3 volume in 128^3 shards of 32^3 inner
 *   chunks, 64 inner chunks per shard as W8's 256^3 shards of 64^3)
 * Data: a smooth gradient plus noise (compresses about 2-3x with zstd 0).
 * The floors run on one thread; scout's box reads and writes use the I/O pool
 * (SCOUT_IO_THREADS; run with SCOUT_IO_THREADS=1 for one thread throughout).
 * Everything is measured in process CPU time (user + system of all threads:
 * the work done, so the numbers are per core and fair on a machine shared
 * with other work; the file system calls count). Prints one line per measurement:
 *   name seconds GB/s ratio-to-its-floor
 *   - floor_decode / floor_encode: every inner chunk decoded / encoded from memory
 *   - floor_write: the encoded inner chunks written as one file per shard
 *     (open, write, close; no encoding): the file system's and page cache's
 *     share of any sharded write, printed next to the ratios that include it
 *   - read_all: every voxel read through scout (box = one shard at a time),
 *     the shards in the page cache (the floor decodes from memory too)
 *   - read_all_cold: the same read just after the write, the shards on disk
 *     only (written past the page cache): the read fills the page cache
 *   - read_all_unsharded: the same volume as plain v3 chunks of INNER^3 (one file each)
 *   - write_sharded: the volume written as whole shards (ratio to floor_encode)
 *   - write_sharded_page_cache: the same with SCOUT_DIRECT_IO=0 (shards written
 *     through the page cache instead of O_DIRECT, scout's default for files
 *     of 1 MiB or more)
 *   - round_trip: read_all + write a new sharded array (ratio to decode + encode)
 *   - convert: the unsharded array made sharded a shard at a time, as `scout
 *     convert` does it (scout_zarr_copy_box: each inner chunk's stored bytes
 *     decoded once to check them, then copied into the shard, no encoding;
 *     ratio to floor_encode, the target, and to decode + encode)
 * Median of REPS runs each; files are written under DIR (removed at the end).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "codec/pipeline.h"
#include "scout/scout.h"

/* CPU time of the process (one thread: the work done, fair on a shared machine) */
static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmpd);
	return v[n / 2];
}

/* the inner chains: W8's zstd level 0, or SCOUT's blosc zstd 1 bitshuffle */
#define ZSTD_CHAIN                                                                                 \
	"[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},{\"name\":\"zstd\","      \
	"\"configuration\":{\"level\":0,\"checksum\":false}}]"
#define BLOSC_CHAIN                                                                                \
	"[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},{\"name\":\"blosc\","     \
	"\"configuration\":{\"cname\":\"zstd\",\"clevel\":1,\"shuffle\":\"bitshuffle\","           \
	"\"typesize\":2,\"blocksize\":0}}]"
static const char *INNER_CHAIN = ZSTD_CHAIN;
static const char *chain_name = "bytes+zstd 0";

static int64_t N = 256, S = 128, C = 32;

static scout_array *create(const char *path, int sharded)
{
	char codecs[1024];
	snprintf(codecs, sizeof codecs,
		 "[{\"name\":\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[%lld,%lld,"
		 "%lld],\"codecs\":%s,\"index_codecs\":[{\"name\":\"bytes\",\"configuration\":{"
		 "\"endian\":\"little\"}},{\"name\":\"crc32c\"}],\"index_location\":\"end\"}}]",
		 (long long)C, (long long)C, (long long)C, INNER_CHAIN);
	scout_zarr_options o = SCOUT_ZARR_OPTIONS_INIT;
	o.ndim = 3;
	for (int i = 0; i < 3; i++) {
		o.shape[i] = N;
		o.chunks[i] = sharded ? S : C;
	}
	o.dtype = "<u2";
	o.zarr_format = 3;
	o.codecs = sharded ? codecs : INNER_CHAIN;
	o.overwrite = 1;
	scout_array *a = NULL;
	if (scout_zarr_create(&a, path, &o) != SCOUT_OK) {
		fprintf(stderr, "create %s: %s\n", path, scout_last_error());
		exit(1);
	}
	return a;
}

/* copy box [a, a + C) of the volume into a C^3 chunk, or back */
static void chunk_io(uint16_t *vol, uint16_t *chunk, const int64_t *a, int to_chunk)
{
	for (int64_t z = 0; z < C; z++)
		for (int64_t y = 0; y < C; y++) {
			uint16_t *v = vol + ((a[0] + z) * N + a[1] + y) * N + a[2];
			uint16_t *c = chunk + (z * C + y) * C;
			if (to_chunk)
				memcpy(c, v, (size_t)C * 2);
			else
				memcpy(v, c, (size_t)C * 2);
		}
}

/* every box of the `cell` grid, in C order, through fn */
static void each_box(int64_t cell, void (*fn)(const int64_t *a, const int64_t *b, void *), void *p)
{
	int64_t a[3], b[3];
	for (a[0] = 0; a[0] < N; a[0] += cell)
		for (a[1] = 0; a[1] < N; a[1] += cell)
			for (a[2] = 0; a[2] < N; a[2] += cell) {
				for (int i = 0; i < 3; i++)
					b[i] = a[i] + cell < N ? a[i] + cell : N;
				fn(a, b, p);
			}
}

typedef struct {
	scout_array *arr;
	uint16_t *buf;
} box_ctx;

static void read_box(const int64_t *a, const int64_t *b, void *p)
{
	box_ctx *c = p;
	if (scout_extract_box(c->buf, c->arr, a, b) != SCOUT_OK) {
		fprintf(stderr, "read: %s\n", scout_last_error());
		exit(1);
	}
}

static void write_box(const int64_t *a, const int64_t *b, void *p)
{
	box_ctx *c = p;
	if (scout_insert_box(c->arr, a, b, c->buf) != SCOUT_OK) {
		fprintf(stderr, "write: %s\n", scout_last_error());
		exit(1);
	}
}

/*
 * Write the whole volume into arr a shard at a time (each copied out of the
 * volume into buf first); the CPU seconds of the writes alone.
 */
static double write_volume(scout_array *arr, const uint16_t *vol, uint16_t *buf)
{
	box_ctx wc = {arr, buf};
	int64_t lo[3], hi[3];
	double t = now(), tcopy = 0;
	for (lo[0] = 0; lo[0] < N; lo[0] += S)
		for (lo[1] = 0; lo[1] < N; lo[1] += S)
			for (lo[2] = 0; lo[2] < N; lo[2] += S) {
				double t0 = now();
				for (int64_t z = 0; z < S; z++)
					for (int64_t y = 0; y < S; y++)
						memcpy(buf + (z * S + y) * S,
						       vol + ((lo[0] + z) * N + lo[1] + y) * N +
							   lo[2],
						       (size_t)S * 2);
				tcopy += now() - t0;
				for (int i = 0; i < 3; i++)
					hi[i] = lo[i] + S;
				write_box(lo, hi, &wc);
			}
	return now() - t - tcopy;
}

typedef struct {
	scout_array *in, *out;
	uint16_t *buf;
} copy_ctx;

static void copy_box(const int64_t *a, const int64_t *b, void *p)
{
	copy_ctx *c = p;
	if (scout_extract_box(c->buf, c->in, a, b) != SCOUT_OK ||
	    scout_insert_box(c->out, a, b, c->buf) != SCOUT_OK) {
		fprintf(stderr, "copy: %s\n", scout_last_error());
		exit(1);
	}
}

/* convert as `scout convert` does it: stored inner chunks copied (each decoded to check it) */
static size_t raw_cells;
static void convert_box(const int64_t *a, const int64_t *b, void *p)
{
	copy_ctx *c = p;
	size_t raw = 0;
	if (scout_zarr_copy_box(&raw, c->out, c->in, a, b, 0) != SCOUT_OK) {
		fprintf(stderr, "convert: %s\n", scout_last_error());
		exit(1);
	}
	raw_cells += raw;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bench_shard DIR [N] [SHARD] [INNER] [REPS] [zstd|blosc]\n");
		return 2;
	}
	const char *dir = argv[1];
	if (argc > 2)
		N = atoll(argv[2]);
	if (argc > 3)
		S = atoll(argv[3]);
	if (argc > 4)
		C = atoll(argv[4]);
	int reps = argc > 5 ? atoi(argv[5]) : 3;
	if (argc > 6 && strcmp(argv[6], "blosc") == 0) {
		INNER_CHAIN = BLOSC_CHAIN;
		chain_name = "bytes+blosc zstd 1 bitshuffle";
	}
	if (N % S || S % C || reps < 1) {
		fprintf(stderr, "N must be a multiple of SHARD, SHARD of INNER\n");
		return 2;
	}
	setenv("SCOUT_ZARR_CACHE", "0", 0); /* every read decodes: compare with the floor */
	size_t nvox = (size_t)(N * N * N), bytes = nvox * 2;
	uint16_t *vol = malloc(bytes), *buf = malloc((size_t)(S * S * S) * 2);
	unsigned s = 12345;
	for (int64_t z = 0; z < N; z++)
		for (int64_t y = 0; y < N; y++)
			for (int64_t x = 0; x < N; x++) {
				s = s * 1103515245u + 12345u;
				vol[(z * N + y) * N + x] =
				    (uint16_t)(100 + z + y / 2 + x / 4 + ((s >> 16) & 63));
			}

	/* the floor: the inner pipeline on every inner chunk, from memory */
	scout_chunk_spec spec;
	memset(&spec, 0, sizeof spec);
	spec.dtype = SCOUT_UINT16;
	spec.itemsize = 2;
	spec.ndim = 3;
	spec.shape[0] = spec.shape[1] = spec.shape[2] = C;
	json_error_t je;
	json_t *chain = json_loads(INNER_CHAIN, 0, &je);
	scout_pipeline *p = NULL;
	if (scout__pipeline_new(&p, chain, &spec, "bench") != SCOUT_OK)
		return 1;
	json_decref(chain);
	size_t nch = (size_t)((N / C) * (N / C) * (N / C)), cb = (size_t)(C * C * C) * 2;
	void **enc = calloc(nch, sizeof *enc);
	size_t *encn = calloc(nch, sizeof *encn), stored = 0;
	uint16_t *chunk = malloc(cb);
	double te[16], td[16], t;
	/* the encoded inner chunks the decode floor reads (made once, not timed) */
	{
		size_t k = 0;
		int64_t a[3];
		for (a[0] = 0; a[0] < N; a[0] += C)
			for (a[1] = 0; a[1] < N; a[1] += C)
				for (a[2] = 0; a[2] < N; a[2] += C, k++) {
					chunk_io(vol, chunk, a, 1);
					scout__pipeline_encode(p, chunk, &enc[k], &encn[k]);
				}
	}
	for (int r = 0; r < reps; r++) {
		size_t k = 0;
		/*
		 * encode floor: each inner chunk copied out and encoded, the output
		 * dropped at once (holding a volume's worth of fresh allocations
		 * would time the kernel's page faults, not the codec)
		 */
		t = now();
		int64_t a[3];
		for (a[0] = 0; a[0] < N; a[0] += C)
			for (a[1] = 0; a[1] < N; a[1] += C)
				for (a[2] = 0; a[2] < N; a[2] += C, k++) {
					void *e = NULL;
					size_t en = 0;
					chunk_io(vol, chunk, a, 1);
					scout__pipeline_encode(p, chunk, &e, &en);
					free(e);
				}
		te[r] = now() - t;
		t = now();
		k = 0;
		for (a[0] = 0; a[0] < N; a[0] += C)
			for (a[1] = 0; a[1] < N; a[1] += C)
				for (a[2] = 0; a[2] < N; a[2] += C, k++) {
					scout__pipeline_decode(p, enc[k], encn[k], chunk, NULL);
					chunk_io(vol, chunk, a, 0);
				}
		td[r] = now() - t;
	}
	for (size_t k = 0; k < nch; k++)
		stored += encn[k];
	double fe = median(te, reps), fd = median(td, reps);
	double gb = (double)bytes / 1e9;
	printf("# W8 scaled: %lld^3 uint16 (%.0f MiB), %lld^3 shards of %lld^3 inner chunks, "
	       "%s, ratio %.2f, %d I/O thread(s), CPU seconds, median of %d\n",
	       (long long)N, (double)bytes / 1048576.0, (long long)S, (long long)C, chain_name,
	       (double)bytes / (double)stored, scout_io_threads(), reps);
	printf("floor_decode %.3f s %.2f GB/s\n", fd, gb / fd);
	printf("floor_encode %.3f s %.2f GB/s\n", fe, gb / fe);

	char sp[1024], up[1024], rp[1024], pp[1024];
	snprintf(sp, sizeof sp, "%s/w8_sharded.zarr", dir);
	snprintf(up, sizeof up, "%s/w8_unsharded.zarr", dir);
	snprintf(rp, sizeof rp, "%s/w8_out.zarr", dir);
	snprintf(pp, sizeof pp, "%s/w8_page_cache.zarr", dir);
	double tw[16], tr[16], tu[16], trt[16], tc[16], tpc[16], tcold[16];
	for (int r = 0; r < reps; r++) {
		/* write the whole volume as shards: a box per shard */
		scout_array *a = create(sp, 1);
		tw[r] = write_volume(a, vol, buf);
		scout_array_free(a);
		/* the same through the page cache (a separate array, not read back) */
		setenv("SCOUT_DIRECT_IO", "0", 1);
		a = create(pp, 1);
		unsetenv("SCOUT_DIRECT_IO");
		tpc[r] = write_volume(a, vol, buf);
		scout_array_free(a);
		/*
		 * read every voxel, a shard at a time: first just after the write
		 * (the shards, written with O_DIRECT, are on disk only: the read
		 * fills the page cache), then again from the page cache, as the
		 * floor decodes from memory
		 */
		scout_array_open(&a, sp, SCOUT_MODE_READ);
		box_ctx rc = {a, buf};
		t = now();
		each_box(S, read_box, &rc);
		tcold[r] = now() - t;
		scout_array_free(a);
		scout_array_open(&a, sp, SCOUT_MODE_READ);
		rc.arr = a;
		t = now();
		each_box(S, read_box, &rc);
		tr[r] = now() - t;
		scout_array_free(a);
		/* unsharded: the same chunks, one file each, read a shard-sized box at a time */
		scout_array *u = create(up, 0);
		box_ctx uw = {u, buf};
		int64_t lo[3], hi[3];
		for (lo[0] = 0; lo[0] < N; lo[0] += C)
			for (lo[1] = 0; lo[1] < N; lo[1] += C)
				for (lo[2] = 0; lo[2] < N; lo[2] += C) {
					chunk_io(vol, buf, lo, 1);
					for (int i = 0; i < 3; i++)
						hi[i] = lo[i] + C;
					write_box(lo, hi, &uw);
				}
		scout_array_free(u);
		scout_array_open(&u, up, SCOUT_MODE_READ);
		box_ctx ur = {u, buf};
		t = now();
		each_box(S, read_box, &ur);
		tu[r] = now() - t;
		/* round trip: read the sharded array, write a new sharded one */
		scout_array_open(&a, sp, SCOUT_MODE_READ);
		scout_array *o = create(rp, 1);
		copy_ctx cc = {a, o, buf};
		t = now();
		each_box(S, copy_box, &cc);
		trt[r] = now() - t;
		scout_array_free(o);
		scout_array_free(a);
		/* convert: unsharded in, sharded out */
		o = create(rp, 1);
		copy_ctx cv = {u, o, buf};
		raw_cells = 0;
		t = now();
		each_box(S, convert_box, &cv);
		tc[r] = now() - t;
		if (raw_cells != (size_t)((N / S) * (N / S) * (N / S))) {
			fprintf(stderr, "convert: %zu shards copied as stored bytes\n", raw_cells);
			return 1;
		}
		scout_array_free(o);
		scout_array_free(u);
	}
	char cmd0[1200];
	/*
	 * write floor: the encoded inner chunks of each shard (index left out)
	 * written as one file per shard with open/write/close into a folder of
	 * shard files overwritten each repetition: what any sharded write pays
	 * the file system and the page cache for these bytes, without encoding
	 */
	double tw0[16];
	char fdir[1024];
	snprintf(fdir, sizeof fdir, "%s/floor_write", dir);
	mkdir(fdir, 0755);
	size_t per = (size_t)((S / C) * (S / C) * (S / C));
	unsigned char *sbuf = malloc(per * (cb + 64));
	for (int r = 0; r < reps; r++) {
		t = now();
		int64_t a[3];
		size_t sidx = 0;
		for (a[0] = 0; a[0] < N; a[0] += S)
			for (a[1] = 0; a[1] < N; a[1] += S)
				for (a[2] = 0; a[2] < N; a[2] += S, sidx++) {
					size_t len = 0;
					for (int64_t z = a[0]; z < a[0] + S; z += C)
						for (int64_t y = a[1]; y < a[1] + S; y += C)
							for (int64_t x = a[2]; x < a[2] + S;
							     x += C) {
								size_t k =
								    (size_t)(((z / C) * (N / C) +
									      y / C) *
										 (N / C) +
									     x / C);
								memcpy(sbuf + len, enc[k], encn[k]);
								len += encn[k];
							}
					char fp[1100];
					snprintf(fp, sizeof fp, "%s/%zu", fdir, sidx);
					int wfd = open(fp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
					if (wfd < 0 || write(wfd, sbuf, len) != (ssize_t)len) {
						perror(fp);
						return 1;
					}
					close(wfd);
				}
		tw0[r] = now() - t;
	}
	free(sbuf);
	snprintf(cmd0, sizeof cmd0, "rm -rf '%s'", fdir);
	if (system(cmd0) != 0)
		fprintf(stderr, "cannot remove %s\n", fdir);
	double fw = median(tw0, reps);
	double w = median(tw, reps), rd = median(tr, reps), ud = median(tu, reps),
	       rt = median(trt, reps), cv = median(tc, reps), wpc = median(tpc, reps),
	       rcold = median(tcold, reps);
	printf("floor_write %.3f s (the encoded bytes written as shard files)\n", fw);
	printf("write_sharded %.3f s %.2f GB/s %.2fx floor_encode, %.2fx with floor_write\n", w,
	       gb / w, w / fe, w / (fe + fw));
	printf("write_sharded_page_cache %.3f s %.2f GB/s %.2fx floor_encode, %.2fx with "
	       "floor_write\n",
	       wpc, gb / wpc, wpc / fe, wpc / (fe + fw));
	printf("read_all %.3f s %.2f GB/s %.2fx floor_decode\n", rd, gb / rd, rd / fd);
	printf("read_all_cold %.3f s %.2f GB/s %.2fx floor_decode (the first read after the write: "
	       "from disk)\n",
	       rcold, gb / rcold, rcold / fd);
	printf("read_all_unsharded %.3f s %.2f GB/s %.2fx floor_decode (sharded/unsharded %.2f)\n",
	       ud, gb / ud, ud / fd, rd / ud);
	printf("round_trip %.3f s %.2f GB/s %.2fx floor_decode+encode, %.2fx with floor_write\n",
	       rt, gb / rt, rt / (fd + fe), rt / (fd + fe + fw));
	printf("convert %.3f s %.2f GB/s %.2fx floor_encode, %.2fx floor_decode+encode\n", cv,
	       gb / cv, cv / fe, cv / (fd + fe));
	char cmd[4200];
	snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s' '%s' '%s'", sp, up, rp, pp);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove the bench arrays\n");
	for (size_t k = 0; k < nch; k++)
		free(enc[k]);
	free(enc);
	free(encn);
	free(chunk);
	free(vol);
	free(buf);
	scout__pipeline_free(p);
	return 0;
}
