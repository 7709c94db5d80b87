/*
 * The bad-input table: chunks, TIFFs and paths that are wrong in one way each,
 * read through the public entry points (scout_array_open, scout_extract_box,
 * scout_read_voxel_size, scout_files_in_dir, scout_tifs_in_dir) or the codec
 * layer. Every case asserts the error code and that the message names the
 * file (and the chunk, page or field).
 *
 * Chunks: per codec (blosc, zlib, gzip, bz2, lzma, zstd, lz4), a valid chunk
 * of a Zarr array is replaced by a truncated, corrupt, oversized (decodes to
 * more bytes than the chunk holds), undersized, padded or empty one.
 * Decompression bombs: chunks whose header claims a huge decoded size, and
 * streams of zeros that decode to 128 MiB, are refused as SCOUT_ECODEC; in
 * builds without ASan this runs in a child whose address space is limited to
 * 64 MiB above its current size, so a codec that allocated the claimed size
 * would fail with SCOUT_ENOMEM instead.
 *
 * TIFFs are built by hand here (one strip, classic little-endian TIFF) so each
 * has exactly the one defect it is meant to have; a valid one built the same
 * way reads back its pixels.
 *
 * Permission cases are skipped when running as root (root bypasses them).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "codec/codec.h"
#include <tiffio.h>

static char tmpdir[256];

/* a char array as a plain pointer (CHECK_ERR tests its needle against NULL) */
static const char *S(const char *s)
{
	return s;
}

static void write_file(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");
	CHECK(f != NULL);
	if (!f)
		return;
	CHECK(fwrite(data, 1, n, f) == n);
	fclose(f);
}

/* ------------------------------------------------------------------ chunks */

static const char *const codec_configs[] = {
    "{\"id\": \"blosc\", \"cname\": \"lz4\", \"clevel\": 5, \"shuffle\": 1}",
    "{\"id\": \"zlib\", \"level\": 1}",
    "{\"id\": \"gzip\", \"level\": 1}",
    "{\"id\": \"bz2\", \"level\": 1}",
    "{\"id\": \"lzma\", \"preset\": 1}",
    "{\"id\": \"zstd\", \"level\": 1}",
    "{\"id\": \"lz4\", \"acceleration\": 1}",
};
#define NCODECS (sizeof codec_configs / sizeof codec_configs[0])

/* codecs whose streams carry a checksum of the data (corrupt payload is detected) */
static int has_checksum(const char *id)
{
	return !strcmp(id, "zlib") || !strcmp(id, "gzip") || !strcmp(id, "bz2") ||
	       !strcmp(id, "lzma");
}

#define CH 32 /* chunk edge: chunks of 32 x 32 uint16, 2048 bytes */

static void fill_pattern(uint16_t *v, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		v[i] = (uint16_t)((i * 7 + seed) % 251 + (i / 97) * 3);
}

/* encode n uint16 values of the pattern with codec c */
static unsigned char *encode_pattern(scout_codec *c, size_t n, size_t *m)
{
	uint16_t *v = malloc(n * 2 + 1);
	fill_pattern(v, n, 1);
	void *enc = NULL;
	CHECK_OK(scout__codec_encode(c, v, n * 2, &enc, m));
	free(v);
	return enc;
}

static int extract_chunk0(scout_array *arr)
{
	static uint16_t buf[CH * CH];
	int64_t start[2] = {0, 0}, stop[2] = {CH, CH};
	return scout_extract_box(buf, arr, start, stop);
}

static void test_chunks(void)
{
	for (size_t ci = 0; ci < NCODECS; ci++) {
		char path[512], chunk[600];
		snprintf(path, sizeof path, "%s/chunks%zu.zarr", tmpdir, ci);
		snprintf(chunk, sizeof chunk, "%s/0/0", path);
		char where[600]; /* what the messages say: the array and the chunk key */
		snprintf(where, sizeof where, "%s: chunk 0/0: ", path);
		scout_zarr_options o = SCOUT_ZARR_OPTIONS_INIT;
		o.ndim = 2;
		o.shape[0] = o.shape[1] = 2 * CH;
		o.chunks[0] = o.chunks[1] = CH;
		o.dtype = "<u2";
		o.compressor = codec_configs[ci];
		scout_array *arr = NULL;
		CHECK_OK(scout_zarr_create(&arr, path, &o));
		if (!arr)
			continue;
		CHECK_OK(scout_zarr_set_cache_size(arr, 0));
		uint16_t data[CH * CH];
		fill_pattern(data, CH * CH, 1);
		int64_t start[2] = {0, 0}, stop[2] = {CH, CH};
		CHECK_OK(scout_insert_box(arr, start, stop, data));
		size_t good_n = 0;
		unsigned char *good = test_read_file(chunk, &good_n);
		CHECK(good != NULL && good_n > 16);
		if (!good) {
			scout_array_free(arr);
			continue;
		}
		uint16_t back[CH * CH];
		CHECK_OK(scout_extract_box(back, arr, start, stop));
		CHECK(memcmp(back, data, sizeof data) == 0); /* the control reads back */

		scout_codec *c = NULL;
		CHECK_OK(scout__codec_new_from_text(&c, codec_configs[ci], 2));
		const char *id = scout__codec_id(c);
		unsigned char *bad = malloc(good_n + 64);
		/* truncated to half, and by its last byte */
		memcpy(bad, good, good_n);
		write_file(chunk, bad, good_n / 2);
		CHECK_ERR(extract_chunk0(arr), SCOUT_ECODEC, S(where));
		CHECK_ERR(extract_chunk0(arr), SCOUT_ECODEC, id);
		write_file(chunk, bad, good_n - 1);
		CHECK_ERR(extract_chunk0(arr), SCOUT_ECODEC, S(where));
		/* empty file */
		write_file(chunk, bad, 0);
		CHECK_ERR(extract_chunk0(arr), SCOUT_ECODEC, S(where));
		/* garbage after the stream */
		memset(bad + good_n, 0x5a, 16);
		write_file(chunk, bad, good_n + 16);
		CHECK_ERR(extract_chunk0(arr), SCOUT_ECODEC, S(where));
		/* corrupt header */
		for (int i = 0; i < 8; i++)
			bad[i] ^= 0xa5;
		write_file(chunk, bad, good_n);
		CHECK_ERR(extract_chunk0(arr), SCOUT_ECODEC, S(where));
		memcpy(bad, good, good_n);
		/* corrupt payload: detected by the codecs with checksums */
		if (has_checksum(id)) {
			for (size_t i = good_n / 3; i < good_n / 3 + 8; i++)
				bad[i] ^= 0xff;
			write_file(chunk, bad, good_n);
			CHECK_ERR(extract_chunk0(arr), SCOUT_ECODEC, S(where));
		}
		/* oversized: a valid stream of twice the chunk; undersized: half of it */
		size_t m = 0;
		unsigned char *enc = encode_pattern(c, 2 * CH * CH, &m);
		write_file(chunk, enc, m);
		CHECK_ERR(extract_chunk0(arr), SCOUT_ECODEC, S(where));
		free(enc);
		enc = encode_pattern(c, CH * CH / 2, &m);
		write_file(chunk, enc, m);
		CHECK_ERR(extract_chunk0(arr), SCOUT_ECODEC, S(where));
		free(enc);
		/* one item short (odd byte count for uint16) */
		void *enc2 = NULL;
		CHECK_OK(scout__codec_encode(c, data, sizeof data - 1, &enc2, &m));
		write_file(chunk, enc2, m);
		CHECK_ERR(extract_chunk0(arr), SCOUT_ECODEC, S(where));
		free(enc2);
		/* the good chunk again reads back: the errors left nothing behind */
		write_file(chunk, good, good_n);
		CHECK_OK(scout_extract_box(back, arr, start, stop));
		CHECK(memcmp(back, data, sizeof data) == 0);
		scout__codec_free(c);
		free(bad);
		free(good);
		scout_array_free(arr);
	}
}

/* --------------------------------------------------- decompression bombs */

typedef struct {
	const char *config;
	unsigned char *data;
	size_t n;
	const char *needle; /* expected in the message */
} bomb;

static void put_le(unsigned char *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* forged headers: each claims a huge decoded size for a small chunk */
static int make_forged(bomb *b)
{
	int nb = 0;
	unsigned char small[2048];
	memset(small, 0, sizeof small);
	scout_codec *c;
	void *enc;
	size_t m;
	/* blosc: header bytes 4..7 are nbytes */
	scout__codec_new_from_text(&c, codec_configs[0], 2);
	CHECK_OK(scout__codec_encode(c, small, sizeof small, &enc, &m));
	put_le((unsigned char *)enc + 4, 0x7ffffff0u, 4);
	b[nb++] = (bomb){codec_configs[0], enc, m, "2147483632"};
	scout__codec_free(c);
	/* lz4 (numcodecs): a 4-byte little-endian size prefix */
	scout__codec_new_from_text(&c, codec_configs[6], 2);
	CHECK_OK(scout__codec_encode(c, small, sizeof small, &enc, &m));
	put_le(enc, 0xfffffff0u, 4);
	b[nb++] = (bomb){codec_configs[6], enc, m, "4294967280"};
	scout__codec_free(c);
	/* lzma "alone": bytes 5..12 are the uncompressed size */
	scout__codec_new_from_text(&c, "{\"id\": \"lzma\", \"format\": 2, \"preset\": 1}", 2);
	CHECK_OK(scout__codec_encode(c, small, sizeof small, &enc, &m));
	put_le((unsigned char *)enc + 5, (uint64_t)1 << 40, 8);
	b[nb++] = (bomb){"{\"id\": \"lzma\", \"format\": 2}", enc, m, "1099511627776"};
	scout__codec_free(c);
	/*
	 * zstd: a frame by hand: magic, descriptor 0xC0 (8-byte content size, window
	 * descriptor follows), window 0x58 (2^21), content size 2^40, one empty raw
	 * last block
	 */
	unsigned char *z = malloc(18);
	put_le(z, 0xFD2FB528u, 4);
	z[4] = 0xC0;
	z[5] = 0x58;
	put_le(z + 6, (uint64_t)1 << 40, 8);
	z[14] = 0x01;
	z[15] = z[16] = 0;
	b[nb++] = (bomb){codec_configs[5], z, 17, "1099511627776"};
	return nb;
}

#define BOMB_BYTES ((size_t)128 << 20)

/* real bombs: 128 MiB of zeros (sizes not recorded in the stream: zlib, gzip, zstd streaming) */
static int make_zero_bombs(bomb *b, int nb)
{
	unsigned char *zeros = calloc(BOMB_BYTES, 1);
	CHECK(zeros != NULL);
	if (!zeros)
		return nb;
	static const char *const cfgs[] = {
	    "{\"id\": \"zlib\", \"level\": 1}",
	    "{\"id\": \"gzip\", \"level\": 1}",
	    "{\"id\": \"zstd\", \"level\": 1}",
	    "{\"id\": \"blosc\", \"cname\": \"lz4\", \"clevel\": 1, \"shuffle\": 0}",
	    "{\"id\": \"lz4\"}",
	};
	for (size_t i = 0; i < sizeof cfgs / sizeof cfgs[0]; i++) {
		scout_codec *c;
		CHECK_OK(scout__codec_new_from_text(&c, cfgs[i], 1));
		void *enc = NULL;
		size_t m = 0;
		CHECK_OK(scout__codec_encode(c, zeros, BOMB_BYTES, &enc, &m));
		CHECK(m < BOMB_BYTES / 64);
		b[nb++] = (bomb){cfgs[i], enc, m, NULL};
		scout__codec_free(c);
	}
	free(zeros);
	return nb;
}

/* decode every bomb into a 2048-byte chunk; the number of bombs not refused as ECODEC */
static int decode_bombs(const bomb *b, int nb, int verbose)
{
	int wrong = 0;
	unsigned char dst[2048];
	for (int i = 0; i < nb; i++) {
		scout_codec *c;
		if (scout__codec_new_from_text(&c, b[i].config, 1) < 0) {
			wrong++;
			continue;
		}
		int rc = scout__codec_decode(c, b[i].data, b[i].n, dst, sizeof dst);
		const char *msg = scout_last_error();
		if (rc != SCOUT_ECODEC || (b[i].needle && !strstr(msg, b[i].needle)) ||
		    !strstr(msg, scout__codec_id(c))) {
			wrong++;
			if (verbose)
				fprintf(stderr, "bomb %d (%s): rc %d: %s\n", i, b[i].config, rc,
					msg);
		}
		scout__codec_free(c);
	}
	return wrong;
}

static size_t vm_size(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long pages = 0;
	if (f) {
		if (fscanf(f, "%lu", &pages) != 1)
			pages = 0;
		fclose(f);
	}
	return (size_t)pages * (size_t)sysconf(_SC_PAGESIZE);
}

#if defined(__SANITIZE_ADDRESS__)
#define HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_ASAN 1
#endif
#endif

static void test_bombs(void)
{
	bomb b[16];
	int nb = make_forged(b);
	int nforged = nb;
	nb = make_zero_bombs(b, nb);
	CHECK(nb == nforged + 5);
	CHECK(decode_bombs(b, nb, 1) == 0);
#ifndef HAVE_ASAN
	/* again where allocating the claimed size (or 128 MiB) cannot succeed */
	fflush(stderr);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		struct rlimit rl;
		rl.rlim_cur = rl.rlim_max = vm_size() + ((size_t)64 << 20);
		if (setrlimit(RLIMIT_AS, &rl) != 0)
			_exit(100);
		_exit(decode_bombs(b, nb, 1) ? 1 : 0);
	}
	int status = 0;
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
#else
	(void)vm_size;
	fprintf(stderr, "bombs: the address-space-limited run is skipped under ASan\n");
#endif
	for (int i = 0; i < nb; i++)
		free(b[i].data);
}

/* -------------------------------------------------------------------- TIFF */

typedef struct {
	uint16_t tag, type;
	uint32_t count, value;
} ifd_entry;

enum { T_SHORT = 3, T_LONG = 4 };

typedef struct {
	uint32_t width, height;
	int has_width;
	uint16_t bits, spp, format, compression;
	uint32_t strip_bytes;    /* StripByteCounts as recorded (each strip) */
	size_t data_bytes;       /* pixel bytes stored (all strips) */
	uint32_t rows_per_strip; /* height: one strip; less: two strips */
	uint32_t tile_w, tile_h; /* > 0: one tile of this size instead of strips */
} page_spec;

static page_spec page_default(void)
{
	page_spec p = {8, 6, 1, 16, 1, 1, 1, 8 * 6 * 2, 8 * 6 * 2, 6, 0, 0};
	return p;
}

#define IFD_ENTRIES 10

/*
 * Write a classic little-endian TIFF: the header, every page's IFD, then the
 * pixel data (so cutting the file at trunc > 0 bytes cuts strips, not IFDs).
 * Two strips are recorded as SHORT pairs, which fit in the IFD entries.
 */
static void write_tiff(const char *path, const page_spec *pages, int npages, size_t trunc)
{
	unsigned char *buf = calloc(1, 1 << 16);
	memcpy(buf, "II*\0", 4);
	size_t ifd_size = 2 + 12 * IFD_ENTRIES + 4;
	size_t pos = 8 + (size_t)npages * ifd_size; /* pixel data from here */
	for (int pg = 0; pg < npages; pg++) {
		const page_spec *p = &pages[pg];
		size_t ifd = 8 + (size_t)pg * ifd_size, data_off = pos;
		for (size_t i = 0; i < p->data_bytes; i++)
			buf[pos++] = (unsigned char)(i * 13 + pg);
		int two = p->rows_per_strip < p->height;
		ifd_entry e[IFD_ENTRIES];
		int n = 0;
		e[n++] = (ifd_entry){p->has_width ? 256 : 32000, T_LONG, 1, p->width};
		e[n++] = (ifd_entry){257, T_LONG, 1, p->height};
		e[n++] = (ifd_entry){258, T_SHORT, 1, p->bits};
		e[n++] = (ifd_entry){259, T_SHORT, 1, p->compression};
		e[n++] = (ifd_entry){262, T_SHORT, 1, p->spp == 3 ? 2 : 1};
		if (p->tile_w) { /* SampleFormat left out (unsigned) to keep 10 entries */
			e[n++] = (ifd_entry){277, T_SHORT, 1, p->spp};
			e[n++] = (ifd_entry){322, T_LONG, 1, p->tile_w};
			e[n++] = (ifd_entry){323, T_LONG, 1, p->tile_h};
			e[n++] = (ifd_entry){324, T_LONG, 1, (uint32_t)data_off};
			e[n++] = (ifd_entry){325, T_LONG, 1, p->strip_bytes};
		} else {
			e[n++] = two ? (ifd_entry){273, T_SHORT, 2,
						   (uint32_t)data_off |
						       (uint32_t)(data_off + p->strip_bytes) << 16}
				     : (ifd_entry){273, T_LONG, 1, (uint32_t)data_off};
			e[n++] = (ifd_entry){277, T_SHORT, 1, p->spp};
			e[n++] = (ifd_entry){278, T_LONG, 1, p->rows_per_strip};
			e[n++] = two ? (ifd_entry){279, T_SHORT, 2,
						   p->strip_bytes | p->strip_bytes << 16}
				     : (ifd_entry){279, T_LONG, 1, p->strip_bytes};
			e[n++] = (ifd_entry){339, T_SHORT, 1, p->format};
		}
		if (!p->has_width) { /* keep the entries sorted: the dummy tag goes last */
			ifd_entry w = e[0];
			memmove(e, e + 1, (IFD_ENTRIES - 1) * sizeof *e);
			e[IFD_ENTRIES - 1] = w;
		}
		put_le(buf + (pg ? ifd - 4 : 4), ifd, 4);
		put_le(buf + ifd, IFD_ENTRIES, 2);
		for (int i = 0; i < n; i++) {
			unsigned char *q = buf + ifd + 2 + 12 * i;
			put_le(q, e[i].tag, 2);
			put_le(q + 2, e[i].type, 2);
			put_le(q + 4, e[i].count, 4);
			put_le(q + 8, e[i].value, e[i].type == T_SHORT && e[i].count == 1 ? 2 : 4);
		}
		put_le(buf + ifd + ifd_size - 4, 0, 4);
	}
	write_file(path, buf, trunc ? trunc : pos);
	free(buf);
}

static void tiff_path(char *path, size_t n, const char *name)
{
	snprintf(path, n, "%s/%s.tif", tmpdir, name);
}

/* open path; expect code at open (or, if open succeeds, at reading everything) */
static void expect_tiff_error(const char *name, const page_spec *pages, int npages, size_t trunc,
			      int at_open, int code, const char *needle)
{
	char path[512];
	tiff_path(path, sizeof path, name);
	write_tiff(path, pages, npages, trunc);
	scout_array *arr = NULL;
	if (at_open) {
		CHECK_ERR(scout_array_open(&arr, path, SCOUT_MODE_READ), code, S(path));
		CHECK_ERR(scout_array_open(&arr, path, SCOUT_MODE_READ), code, needle);
		CHECK(arr == NULL);
		return;
	}
	CHECK_OK(scout_array_open(&arr, path, SCOUT_MODE_READ));
	if (!arr)
		return;
	void *buf = malloc(scout_array_nbytes(arr) + 1);
	int64_t start[3] = {0, 0, 0};
	CHECK_ERR(scout_extract_box(buf, arr, start, scout_array_shape(arr)), code, S(path));
	CHECK_ERR(scout_extract_box(buf, arr, start, scout_array_shape(arr)), code, needle);
	free(buf);
	scout_array_free(arr);
}

static void test_tiff(void)
{
	char path[512];
	page_spec p = page_default();
	/* control: the hand-built file reads back the bytes written */
	tiff_path(path, sizeof path, "valid");
	write_tiff(path, &p, 1, 0);
	scout_array *arr = NULL;
	CHECK_OK(scout_array_open(&arr, path, SCOUT_MODE_READ));
	if (arr) {
		CHECK(scout_array_ndim(arr) == 2 && scout_array_shape(arr)[0] == 6 &&
		      scout_array_shape(arr)[1] == 8 && scout_array_dtype(arr) == SCOUT_UINT16);
		uint16_t px[48];
		int64_t start[2] = {0, 0};
		CHECK_OK(scout_extract_box(px, arr, start, scout_array_shape(arr)));
		int same = 1;
		for (int i = 0; i < 48; i++) {
			uint16_t want =
			    (uint16_t)(((2 * i) * 13 & 0xff) | ((2 * i + 1) * 13 & 0xff) << 8);
			same &= px[i] == want;
		}
		CHECK(same);
		scout_array_free(arr);
	}
	page_spec q;
	/* unsupported sample formats */
	q = p, q.format = 6, q.bits = 64, q.strip_bytes = q.data_bytes = 8 * 6 * 8;
	expect_tiff_error("complex", &q, 1, 0, 1, SCOUT_EFORMAT, "sample format 6");
	q = p, q.format = 3, q.bits = 8, q.strip_bytes = q.data_bytes = 8 * 6;
	expect_tiff_error("float8", &q, 1, 0, 1, SCOUT_EFORMAT, "sample format 3 with 8 bits");
	q = p, q.bits = 12, q.strip_bytes = q.data_bytes = 8 * 6 * 3 / 2;
	expect_tiff_error("bits12", &q, 1, 0, 1, SCOUT_EFORMAT, "12 bits per sample");
	q = p, q.bits = 1, q.strip_bytes = q.data_bytes = 6;
	expect_tiff_error("bilevel", &q, 1, 0, 1, SCOUT_EFORMAT, "bilevel");
	q = p, q.spp = 3, q.bits = 8, q.strip_bytes = q.data_bytes = 8 * 6 * 3;
	expect_tiff_error("rgb", &q, 1, 0, 1, SCOUT_EFORMAT, "3 samples per pixel");
	q = p, q.compression = 34712; /* JPEG 2000: not in libtiff */
	expect_tiff_error("jp2k", &q, 1, 0, 1, SCOUT_EFORMAT, "compression 34712");
	/* wrong dimensions */
	q = p, q.has_width = 0;
	expect_tiff_error("nowidth", &q, 1, 0, 1, SCOUT_EFORMAT, NULL);
	q = p, q.width = 0;
	expect_tiff_error("width0", &q, 1, 0, 1, SCOUT_EFORMAT, NULL);
	page_spec two[2] = {p, p};
	two[1].width = 9, two[1].strip_bytes = two[1].data_bytes = 9 * 6 * 2;
	expect_tiff_error("pagesize", two, 2, 0, 1, SCOUT_EFORMAT, "page 1");
	two[1] = p, two[1].bits = 8, two[1].strip_bytes = two[1].data_bytes = 8 * 6;
	expect_tiff_error("pagedtype", two, 2, 0, 1, SCOUT_EFORMAT, "page 1");
	/* the strip holds fewer bytes than width x height x 2 (dimensions claim more) */
	q = p, q.strip_bytes = q.data_bytes = 8 * 3 * 2;
	expect_tiff_error("shortstrip", &q, 1, 0, 0, SCOUT_ECODEC, "strip at row 0");
	/* truncated strips: the byte counts are right, the file ends inside the (last) strip */
	expect_tiff_error("truncstrip", &p, 1, 8 + 126 + 50, 0, SCOUT_ECODEC, "strip at row 0");
	q = p, q.rows_per_strip = 3, q.strip_bytes = 8 * 3 * 2;
	expect_tiff_error("trunc2strips", &q, 1, 8 + 126 + 60, 0, SCOUT_ECODEC, "strip at row 3");
	/* tiles: a 16 x 16 tile on the 6 x 8 image reads; tiles far beyond the image are refused */
	q = p, q.tile_w = q.tile_h = 16, q.strip_bytes = q.data_bytes = 16 * 16 * 2;
	tiff_path(path, sizeof path, "tiled");
	write_tiff(path, &q, 1, 0);
	CHECK_OK(scout_array_open(&arr, path, SCOUT_MODE_READ));
	if (arr) {
		uint16_t px[48];
		int64_t start[2] = {0, 0};
		CHECK_OK(scout_extract_box(px, arr, start, scout_array_shape(arr)));
		int same = 1;
		for (int y = 0; y < 6; y++)
			for (int x = 0; x < 8; x++) {
				int i = (y * 16 + x) * 2; /* byte offset in the tile */
				same &= px[y * 8 + x] ==
					(uint16_t)((i * 13 & 0xff) | ((i + 1) * 13 & 0xff) << 8);
			}
		CHECK(same);
		scout_array_free(arr);
	}
	q = p, q.tile_w = 8192, q.tile_h = 16, q.strip_bytes = q.data_bytes = 64;
	expect_tiff_error("hugetile", &q, 1, 0, 1, SCOUT_EFORMAT, "16 x 8192 tiles");
	/* a row of 2 GiB (2^28 uint64 samples): more than scout decodes at once */
	q = p, q.width = 1u << 28, q.bits = 64, q.strip_bytes = q.data_bytes = 64;
	expect_tiff_error("hugerow", &q, 1, 0, 1, SCOUT_EFORMAT, "rows of 2147483648 bytes");
	/* cut inside the IFD: not a readable TIFF */
	expect_tiff_error("truncifd", &p, 1, 8 + 50, 1, SCOUT_EFORMAT, "TIFF");
	/* not a TIFF at all */
	tiff_path(path, sizeof path, "garbage");
	write_file(path, "II*\0garbage", 11);
	CHECK_ERR(scout_array_open(&arr, path, SCOUT_MODE_READ), SCOUT_EFORMAT, S(path));
	tiff_path(path, sizeof path, "text");
	write_file(path, "hello", 5);
	CHECK_ERR(scout_array_open(&arr, path, SCOUT_MODE_READ), SCOUT_EFORMAT, S(path));
	/* opening a TIFF for writing */
	tiff_path(path, sizeof path, "valid");
	CHECK_ERR(scout_array_open(&arr, path, SCOUT_MODE_READ | SCOUT_MODE_WRITE), SCOUT_EREADONLY,
		  S(path));
}

/*
 * A page of 8192 x 1100 uint64 in one deflate strip (70 MB decoded): a box
 * that needs more than 64 MiB of the strip is read row by row. Values are
 * y * 8192 + x, checked by formula.
 */
static void test_tiff_big_strip(void)
{
	const uint32_t w = 8192, h = 1100;
	char path[512];
	tiff_path(path, sizeof path, "bigstrip");
	uint64_t *px = malloc((size_t)w * h * 8);
	CHECK(px != NULL);
	if (!px)
		return;
	for (size_t i = 0; i < (size_t)w * h; i++)
		px[i] = i;
	TIFF *t = TIFFOpen(path, "w");
	CHECK(t != NULL);
	if (!t) {
		free(px);
		return;
	}
	TIFFSetField(t, TIFFTAG_IMAGEWIDTH, w);
	TIFFSetField(t, TIFFTAG_IMAGELENGTH, h);
	TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 64);
	TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
	TIFFSetField(t, TIFFTAG_SAMPLEFORMAT, SAMPLEFORMAT_UINT);
	TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
	TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, h);
	TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE);
	TIFFSetField(t, TIFFTAG_ZIPQUALITY, 1);
	CHECK(TIFFWriteEncodedStrip(t, 0, px, (tmsize_t)w * h * 8) > 0);
	TIFFClose(t);
	free(px);
	scout_array *arr = NULL;
	CHECK_OK(scout_array_open(&arr, path, SCOUT_MODE_READ));
	if (!arr)
		return;
	/* rows 1000..1090 of columns 8000..8192: 1090 rows of the strip, 68 MiB */
	int64_t start[2] = {1000, 8000}, stop[2] = {1090, 8192};
	uint64_t *box = malloc(90 * 192 * 8);
	CHECK_OK(scout_extract_box(box, arr, start, stop));
	int same = 1;
	for (int y = 0; y < 90; y++)
		for (int x = 0; x < 192; x++)
			same &= box[y * 192 + x] == (uint64_t)(1000 + y) * w + 8000 + (uint64_t)x;
	CHECK(same);
	/* a box that needs little of the strip goes the one-call way: same values */
	int64_t s2[2] = {3, 5}, e2[2] = {7, 9};
	CHECK_OK(scout_extract_box(box, arr, s2, e2));
	same = 1;
	for (int y = 0; y < 4; y++)
		for (int x = 0; x < 4; x++)
			same &= box[y * 4 + x] == (uint64_t)(3 + y) * w + 5 + (uint64_t)x;
	CHECK(same);
	free(box);
	scout_array_free(arr);
	unlink(path);
}

/* ------------------------------------------------------------------- paths */

static void test_paths(void)
{
	char missing[512], file[512], under_file[600], dir[512], csv[512];
	snprintf(missing, sizeof missing, "%s/missing", tmpdir);
	snprintf(file, sizeof file, "%s/plain.txt", tmpdir);
	snprintf(under_file, sizeof under_file, "%s/plain.txt/x.tif", tmpdir);
	snprintf(dir, sizeof dir, "%s/adir", tmpdir);
	snprintf(csv, sizeof csv, "%s/voxel.csv", tmpdir);
	write_file(file, "plain\n", 6);
	CHECK(mkdir(dir, 0755) == 0);
	write_file(csv, "2000,1800,1800\n", 15);
	scout_array *arr = NULL;
	scout_strlist *l1 = NULL, *l2 = NULL;
	double v[3];
	int n;
	/* missing files and directories */
	CHECK_ERR(scout_array_open(&arr, missing, SCOUT_MODE_READ), SCOUT_ENOTFOUND, S(missing));
	CHECK_ERR(scout_read_voxel_size(v, &n, 3, missing), SCOUT_ENOTFOUND, S(missing));
	CHECK_ERR(scout_files_in_dir(&l1, missing), SCOUT_ENOTFOUND, S(missing));
	CHECK_ERR(scout_tifs_in_dir(&l1, &l2, missing), SCOUT_ENOTFOUND, S(missing));
	/* a file where a directory is expected */
	CHECK_ERR(scout_files_in_dir(&l1, file), SCOUT_EINVAL, S(file));
	CHECK_ERR(scout_tifs_in_dir(&l1, &l2, file), SCOUT_EINVAL, S(file));
	CHECK_ERR(scout_array_open(&arr, file, SCOUT_MODE_READ), SCOUT_EFORMAT, S(file));
	CHECK_ERR(scout_array_open(&arr, under_file, SCOUT_MODE_READ), SCOUT_EIO, S(under_file));
	CHECK_ERR(scout_read_voxel_size(v, &n, 3, under_file), SCOUT_EIO, S(under_file));
	/* a directory where a file is expected */
	CHECK_ERR(scout_read_voxel_size(v, &n, 3, dir), SCOUT_EIO, S(dir));
	/* an empty directory is no array */
	CHECK_ERR(scout_array_open(&arr, dir, SCOUT_MODE_READ), SCOUT_EFORMAT, S(dir));
	/* a voxel-size file that is not one */
	CHECK_ERR(scout_read_voxel_size(v, &n, 3, file), SCOUT_EFORMAT, S(file));
	CHECK_OK(scout_read_voxel_size(v, &n, 3, csv));
	CHECK(n == 3 && v[0] == 2.0 && v[1] == 1.8 && v[2] == 1.8);

	/* permission denied */
	if (geteuid() == 0) {
		fprintf(stderr, "permission cases skipped: running as root\n");
		return;
	}
	char tif[512], rodir[512], out[600];
	tiff_path(tif, sizeof tif, "valid");
	CHECK(chmod(tif, 0) == 0);
	CHECK(chmod(csv, 0) == 0);
	CHECK(chmod(dir, 0) == 0);
	CHECK_ERR(scout_array_open(&arr, tif, SCOUT_MODE_READ), SCOUT_EIO, S(tif));
	CHECK_ERR(scout_read_voxel_size(v, &n, 3, csv), SCOUT_EIO, S(csv));
	CHECK_ERR(scout_files_in_dir(&l1, dir), SCOUT_EIO, S(dir));
	CHECK(chmod(tif, 0644) == 0 && chmod(csv, 0644) == 0 && chmod(dir, 0755) == 0);
	/* a read-only output directory */
	snprintf(rodir, sizeof rodir, "%s/readonly", tmpdir);
	snprintf(out, sizeof out, "%s/out.tif", rodir);
	CHECK(mkdir(rodir, 0555) == 0);
	CHECK_OK(scout_array_open(&arr, tif, SCOUT_MODE_READ));
	CHECK_ERR(scout_tiff_write(out, arr, NULL), SCOUT_EIO, S(out));
	scout_array_free(arr);
	char zout[600];
	snprintf(zout, sizeof zout, "%s/out.zarr", rodir);
	scout_zarr_options o = SCOUT_ZARR_OPTIONS_INIT;
	o.ndim = 1;
	o.shape[0] = 10;
	o.dtype = "<u2";
	CHECK_ERR(scout_zarr_create(&arr, zout, &o), SCOUT_EIO, S(zout));
	CHECK(chmod(rodir, 0755) == 0);
}

int main(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/scout-bad-input-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_chunks();
	test_bombs();
	test_tiff();
	test_tiff_big_strip();
	test_paths();
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "chmod -R u+rwx '%s' 2>/dev/null; rm -rf '%s'", tmpdir, tmpdir);
	CHECK(system(cmd) == 0);
	return check_summary();
}
