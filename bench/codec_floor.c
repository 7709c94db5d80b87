/*
 * The codec floor: the time c-blosc alone needs to decode every chunk of a
 * blosc-compressed Zarr array. All chunk files are read into memory first
 * (not timed), then T threads decode them (timed) with blosc_decompress_ctx,
 * each into its own reused buffer. Nothing scout does can be faster than this
 * on the same chunks with the same number of threads.
 *
 * usage: codec_floor [--encode] ARRAY_DIR [THREADS] [REPS]
 * prints: "floor_seconds <median> chunks <n> bytes <decoded bytes> threads <T>
 *          cpu_seconds <median CPU time of the decode, all threads>"
 * The CPU time is what compares fairly on a machine shared with other work.
 *
 * --encode: the encode floor instead. Every chunk is decoded into a buffer of
 * its own first (not timed), then T threads only compress them again with
 * blosc_compress_ctx, with the array's compressor settings (cname, clevel,
 * shuffle from .zarray; typesize from the chunks' blosc headers), each into
 * its own reused buffer. prints "encode_floor_seconds <median> ... cpu_seconds".
 *
 * One untimed pass runs before the timed ones: on the benchmark VM the
 * first pass over the chunk bytes just read in is far slower than the next
 * (1024^3 decode: 2.7-2.9 s, nearly all of it CPU time, against 1.65 s), a
 * cost of loading the input that a floor must not include.
 */
#include <blosc.h>
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct {
	void *data;
	size_t size;
} blob;

static blob *blobs;
static size_t nblobs, capblobs;
static atomic_size_t next_blob;
static size_t max_nbytes;

static int add_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	struct stat st;
	if (fstat(fileno(f), &st) != 0) {
		fclose(f);
		return -1;
	}
	blob b = {malloc((size_t)st.st_size + 1), (size_t)st.st_size};
	if (!b.data || fread(b.data, 1, b.size, f) != b.size) {
		fclose(f);
		free(b.data);
		return -1;
	}
	fclose(f);
	if (nblobs == capblobs) {
		capblobs = capblobs ? 2 * capblobs : 1024;
		blobs = realloc(blobs, capblobs * sizeof *blobs);
		if (!blobs)
			return -1;
	}
	size_t nbytes, cbytes, blocksize;
	blosc_cbuffer_sizes(b.data, &nbytes, &cbytes, &blocksize);
	if (nbytes > max_nbytes)
		max_nbytes = nbytes;
	blobs[nblobs++] = b;
	return 0;
}

/* every file below dir whose name does not start with '.' is a chunk */
static int walk(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	struct dirent *e;
	int rc = 0;
	while (rc == 0 && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		struct stat st;
		if (stat(path, &st) != 0)
			continue;
		rc = S_ISDIR(st.st_mode) ? walk(path) : add_file(path);
	}
	closedir(d);
	return rc;
}

/* --encode: the decoded chunks and the compressor settings */
static void **raw;
static size_t *raw_n;
static int enc_clevel = 1, enc_shuffle = 2;
static size_t enc_typesize = 1;
static char enc_cname[32] = "zstd";

/* the compressor settings of ARRAY_DIR/.zarray (a blosc compressor) */
static void read_settings(const char *dir)
{
	char p[4096];
	snprintf(p, sizeof p, "%s/.zarray", dir);
	FILE *f = fopen(p, "rb");
	if (!f)
		return;
	char text[8192];
	size_t n = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[n] = '\0';
	const char *q;
	if ((q = strstr(text, "\"clevel\"")))
		sscanf(q, "\"clevel\": %d", &enc_clevel);
	if ((q = strstr(text, "\"shuffle\"")))
		sscanf(q, "\"shuffle\": %d", &enc_shuffle);
	if ((q = strstr(text, "\"cname\"")))
		sscanf(q, "\"cname\": \"%31[a-z0-9]\"", enc_cname);
}

static void *encode_worker(void *arg)
{
	(void)arg;
	size_t cap = max_nbytes + BLOSC_MAX_OVERHEAD;
	void *buf = malloc(cap);
	size_t i;
	while ((i = atomic_fetch_add(&next_blob, 1)) < nblobs) {
		if (blosc_compress_ctx(enc_clevel, enc_shuffle, enc_typesize, raw_n[i], raw[i], buf,
				       cap, enc_cname, 0, 1) <= 0) {
			fprintf(stderr, "codec_floor: chunk %zu does not encode\n", i);
			exit(1);
		}
	}
	free(buf);
	return NULL;
}

static void *decode_worker(void *arg)
{
	(void)arg;
	void *buf = malloc(max_nbytes ? max_nbytes : 1);
	size_t i;
	while ((i = atomic_fetch_add(&next_blob, 1)) < nblobs) {
		if (blosc_decompress_ctx(blobs[i].data, buf, max_nbytes, 1) < 0) {
			fprintf(stderr, "codec_floor: chunk %zu does not decode\n", i);
			exit(1);
		}
	}
	free(buf);
	return NULL;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	int encode = argc > 1 && strcmp(argv[1], "--encode") == 0;
	if (encode) {
		argv++;
		argc--;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: codec_floor [--encode] ARRAY_DIR [THREADS] [REPS]\n");
		return 2;
	}
	int threads = argc > 2 ? atoi(argv[2]) : (int)sysconf(_SC_NPROCESSORS_ONLN);
	int reps = argc > 3 ? atoi(argv[3]) : 3;
	if (threads < 1)
		threads = 1;
	if (reps < 1)
		reps = 1;
	if (walk(argv[1]) != 0) {
		fprintf(stderr, "codec_floor: cannot read %s\n", argv[1]);
		return 1;
	}
	if (encode) {
		read_settings(argv[1]);
		raw = calloc(nblobs ? nblobs : 1, sizeof *raw);
		raw_n = calloc(nblobs ? nblobs : 1, sizeof *raw_n);
		for (size_t i = 0; i < nblobs; i++) {
			size_t nbytes, cbytes, blocksize;
			int flags;
			blosc_cbuffer_sizes(blobs[i].data, &nbytes, &cbytes, &blocksize);
			blosc_cbuffer_metainfo(blobs[i].data, &enc_typesize, &flags);
			raw_n[i] = nbytes;
			raw[i] = malloc(nbytes ? nbytes : 1);
			if (!raw[i] || blosc_decompress_ctx(blobs[i].data, raw[i], nbytes, 1) < 0) {
				fprintf(stderr, "codec_floor: chunk %zu does not decode\n", i);
				return 1;
			}
		}
	}
	double times[64], cpu[64];
	if (reps > 64)
		reps = 64;
	pthread_t tids[256];
	if (threads > 256)
		threads = 256;
	for (int r = -1; r < reps; r++) { /* r = -1: the untimed pass (see above) */
		atomic_store(&next_blob, 0);
		double t0 = now(), c0 = cpu_now();
		for (int t = 0; t < threads; t++)
			pthread_create(&tids[t], NULL, encode ? encode_worker : decode_worker,
				       NULL);
		for (int t = 0; t < threads; t++)
			pthread_join(tids[t], NULL);
		if (r >= 0) {
			times[r] = now() - t0;
			cpu[r] = cpu_now() - c0;
		}
	}
	qsort(times, (size_t)reps, sizeof times[0], cmp_double);
	qsort(cpu, (size_t)reps, sizeof cpu[0], cmp_double);
	size_t total = 0;
	for (size_t i = 0; i < nblobs; i++) {
		size_t nbytes, cbytes, blocksize;
		blosc_cbuffer_sizes(blobs[i].data, &nbytes, &cbytes, &blocksize);
		total += nbytes;
		free(blobs[i].data);
		if (raw)
			free(raw[i]);
	}
	free(blobs);
	free(raw);
	free(raw_n);
	printf("%sfloor_seconds %.4f chunks %zu bytes %zu threads %d cpu_seconds %.4f\n",
	       encode ? "encode_" : "", times[reps / 2], nblobs, total, threads, cpu[reps / 2]);
	return 0;
}
