/*
 * The scout command: shared declarations of the sub-commands and helpers.
 *
 * Every command has a parser (cli_<cmd>_main: argv -> exit status) and, for the
 * ones demo reuses, a run function taking a parameter struct and returning a
 * scout error code (0 or negative, with scout_last_error() set), so `scout demo`
 * runs exactly the code of the commands in-process.
 */
#ifndef SCOUT_CLI_H
#define SCOUT_CLI_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "scout/scout.h"
#include "scout/ops.h"
#include "scout/preview.h"
#include "scout/ngff.h"
#include "core/internal.h"

/* Exit statuses. */
#define CLI_EXIT_OK    0
#define CLI_EXIT_FAIL  1
#define CLI_EXIT_USAGE 2

/* Options every command shares. */
typedef struct {
	int workers;   /* >= 1 */
	int processes; /* --processes: forked worker processes instead of threads */
	int progress;  /* 0 or 1 (resolved: stderr is a terminal unless forced) */
	int json;      /* --json */
	int resume;    /* --resume (convert, blur): keep and reuse OUTPUT.partial */
} cli_common;

/* Long-option ids of the shared options (above any short option character). */
enum {
	CLI_OPT_PROGRESS = 0x100,
	CLI_OPT_NO_PROGRESS,
	CLI_OPT_JSON,
	CLI_OPT_PROCESSES,
	CLI_OPT_THREADS,
	CLI_OPT_RESUME,
	CLI_OPT_FIRST_CMD /* commands number their own long-only options from here */
};

/*
 * getopt_long entries for -j/--workers, --processes, --threads, --progress, --no-progress,
 * -h/--help (no --json).
 */
#define CLI_COMMON_LONGOPTS                                                                        \
	{"workers", required_argument, NULL, 'j'},                                                 \
	    {"processes", no_argument, NULL, CLI_OPT_PROCESSES},                                   \
	    {"threads", no_argument, NULL, CLI_OPT_THREADS},                                       \
	    {"resume", no_argument, NULL, CLI_OPT_RESUME},                                         \
	    {"progress", no_argument, NULL, CLI_OPT_PROGRESS},                                     \
	    {"no-progress", no_argument, NULL, CLI_OPT_NO_PROGRESS},                               \
	{                                                                                          \
		"help", no_argument, NULL, 'h'                                                     \
	}
#define CLI_JSON_LONGOPT                                                                           \
	{                                                                                          \
		"json", no_argument, NULL, CLI_OPT_JSON                                            \
	}

/* Defaults: online CPUs, threads, progress when stderr is a terminal, no JSON. */
void cli_common_init(cli_common *c);

/*
 * pmap options of a command: c's workers (number and kind) and progress, and
 * the interrupt flag as the cancel callback (a SIGINT/SIGTERM stops the map:
 * scout_pmap_chunks returns SCOUT_EINTERRUPTED).
 */
void cli_pmap_options(scout_pmap_options *po, const cli_common *c);

/*
 * Handle a shared option returned by getopt_long (optarg as set by getopt).
 * Returns 1 when handled, 0 when opt is not a shared option, -1 on a bad
 * value (message printed, caller exits with CLI_EXIT_USAGE).
 */
int cli_common_option(cli_common *c, int opt, const char *cmd);

/* Print "scout CMD: MESSAGE" and the usage line to stderr; returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *usage, const char *fmt, ...) SCOUT_PRINTF(3, 4);

/* Print "scout: error: <scout_last_error()>" and return CLI_EXIT_FAIL. */
int cli_fail(void);

/*
 * Parse "A,B,C" into up to max int64 values (each >= min). Returns the count,
 * or -1 on a malformed list.
 */
int cli_parse_int64_list(int64_t *out, int max, const char *s, int64_t min);
/* Parse "A[,B,...]" doubles. Returns the count or -1. */
int cli_parse_double_list(double *out, int max, const char *s);
/* Parse one int / double; 0 on success, -1 on a malformed value. */
int cli_parse_int(int *out, const char *s);
int cli_parse_double(double *out, const char *s);

/* Seconds since an arbitrary origin (monotonic clock). */
double cli_now(void);

/* 1 if path ends in .tif / .tiff (any case). */
int cli_is_tiff_path(const char *path);

/* ---- the interrupt flag: SIGINT/SIGTERM set it, long loops poll it ---- */

/* Install SIGINT/SIGTERM handlers that set the flag (idempotent). */
void cli_signals_install(void);
/* The signal number received, or 0. */
int cli_interrupted(void);
/* scout__error(SCOUT_EINTERRUPTED, ...) when a signal arrived, else 0. */
int cli_check_interrupt(void);

/* ---- outputs that appear only when complete ---- */

/*
 * A path that is built under a temporary name beside it ("OUTPUT.tmp-<pid>")
 * and renamed into place by cli_output_commit(). cli_output_abort() removes the
 * temporary (recursively). With overwrite 0 an existing OUTPUT is an error.
 */
typedef struct {
	char *path; /* final path (trailing slashes removed) */
	char *tmp;  /* temporary path */
	int overwrite;
	int active;
	int resume;                  /* --resume: tmp is OUTPUT.partial, kept on failure */
	int resuming;                /* OUTPUT.partial of the same run was found */
	struct cli_journal *journal; /* resume.c; NULL without --resume */
} cli_output;

int cli_output_begin(cli_output *o, const char *path, int overwrite);
int cli_output_commit(cli_output *o);
void cli_output_abort(cli_output *o);

/* ---- MPI (mpi_run.c): scout under mpirun ---- */

/*
 * Initialise MPI (MPI_THREAD_FUNNELED) when launched by mpirun or srun (their
 * environment variables), else do nothing. 0 or -1 (message printed).
 */
int cli_mpi_init(int *argc, char ***argv);
/* MPI_Finalize when initialised. */
void cli_mpi_finalize(void);
/* This process's rank (0 without MPI) and the number of ranks (1). */
int cli_mpi_rank(void);
int cli_mpi_size(void);
/* The job's id for temporary names: rank 0's pid (this pid without MPI). */
long cli_mpi_job_id(void);
/* Rank 0's value of v (v without MPI). */
long cli_mpi_bcast_long(long v);
double cli_mpi_bcast_double(double v);
/* 1 when the last error was agreed by every rank (only rank 0 reports it). */
int cli_mpi_error_shared(void);
/* Wait for every rank (no-op without MPI). */
void cli_mpi_barrier(void);
/*
 * Collective: every rank passes its status and gets the first failing
 * rank's code and message ("rank N: ..."), or rc when none failed.
 */
int cli_mpi_agree(int rc);
/*
 * scout_pmap_chunks(), or scout_pmap_chunks_mpi() across the ranks under
 * mpirun (results and on_result on rank 0 only); with an output o built with
 * --resume, blocks its journal lists are skipped and finished ones recorded.
 */
int cli_pmap_chunks(scout_results **out, scout_chunk_fn f, void *payload, scout_array *arr,
		    const int64_t *chunks, const scout_pmap_options *po, cli_output *o);

/* ---- resumable outputs (resume.c) ---- */

/*
 * cli_output_begin(); with resume, the output is built in OUTPUT.partial with
 * a journal (see resume.c), reused when params (what the run computes) match
 * the partial output's.
 */
/* Remember the command line: what a --resume run must match (see resume.c). */
void cli_resume_set_command(int argc, char **argv);
/* That command line without the options that do not change the output. */
const char *cli_resume_params(void);
int cli_output_begin_resumable(cli_output *o, const char *path, int overwrite, int resume,
			       const char *params);
/*
 * Create the Zarr output at o->tmp (rank 0; the other ranks open it after),
 * or reopen the partial output being resumed; opens this rank's journal.
 */
int cli_output_create_zarr(scout_array **out, cli_output *o, const scout_zarr_options *zo);
/* Close the journal; committing: rank 0 removes it (before the rename). */
void cli_journal_end(cli_output *o, int committing);

typedef struct {
	struct cli_journal *j;
	scout_chunk_fn f;
	void *payload;
} cli_resume_wrap;
/* 1 and w set up when o has a journal, else 0. */
int cli_resume_wrap_init(cli_resume_wrap *w, cli_output *o, scout_chunk_fn f, void *payload);
/* Skip a block the journal lists, else run w->f and append the block to the journal. */
int cli_resume_chunk(scout_array *arr, const int64_t *start, const int64_t *chunks,
		     scout_result *result, void *payload);

/* Remove a file or directory tree; 0 or a scout error. Missing path is fine. */
int cli_remove_tree(const char *path);

/* ---- codec specs ---- */

/*
 * Turn a codec SPEC (numcodecs JSON, or a short form: blosc:CNAME:CLEVEL:SHUFFLE,
 * zlib:L, gzip:L, bz2:L, lzma:PRESET, zstd:L, lz4, none, default) into the
 * compressor JSON text for scout_zarr_options ("null" for none).
 * *json_out: malloc'd, free with free(). Errors: SCOUT_EINVAL naming the spec.
 */
int cli_codec_spec(char **json_out, const char *spec);

/* ---- dtype conversion (numpy astype, saturating float -> integer) ---- */

/* 1 if cli_cast_values() supports src -> dst. */
int cli_cast_supported(scout_dtype src, scout_dtype dst);
/* Convert n elements (native order). dst and src must not overlap unless equal types. */
void cli_cast_values(void *dst, scout_dtype dst_type, const void *src, scout_dtype src_type,
		     size_t n);

/*
 * A read-only array whose elements are those of src cast to dtype; reads poll
 * the interrupt flag. src must outlive the view. Used to write TIFFs with
 * another dtype and to make long writes interruptible.
 */
int cli_cast_view(scout_array **out, scout_array *src, scout_dtype dtype);

/* unknown option / missing value of getopt_long (opterr 0, optstring starting with ':') */
int cli_bad_option(const char *cmd, const char *usage, int opt, char **argv);

/*
 * The `default:` branch of every command's option loop: a shared option
 * (cli_common_option), or else an unknown option / missing value. Returns 0
 * when the option was handled, else CLI_EXIT_USAGE (message printed).
 */
int cli_other_option(cli_common *c, int opt, const char *cmd, const char *usage, char **argv);
/* numpy typestr or dtype name; 0 or -1 */
int cli_parse_dtype(scout_dtype *out, const char *s);

/* Default chunks: 64 on every axis, not clipped to the shape (as SCOUT). */
void cli_default_chunks(int64_t *chunks, int ndim, const int64_t *shape);
/* given (nchunks values) or the default; SCOUT_EINVAL when nchunks != ndim */
int cli_resolve_chunks(int64_t *chunks, int nchunks, const int64_t *given, int ndim,
		       const int64_t *shape);
/*
 * Work pieces of whole output chunks: chunks[0] along axis 0, whole extents on
 * the others, halved in whole chunks (never axis 0) while prod(slab) *
 * bytes_per_elem > budget or there are fewer than min_pieces; the axis halved
 * is scout__axis_to_halve()'s (core/internal.h) for the input's chunks
 * in_chunks (may be NULL): TIFF slices are read by whole rows.
 */
void cli_slab_shape(int64_t *slab, int ndim, const int64_t *shape, const int64_t *chunks,
		    const int64_t *in_chunks, size_t bytes_per_elem, size_t budget,
		    size_t min_pieces);
/*
 * Size a Zarr input's chunk cache for a ghosted map over pieces of shape
 * piece with ghost voxels on each side (ghost_cache.c): scout_ghost_cache_bytes,
 * at most a quarter of the RAM shared by the ranks on this node. Only grows
 * the cache; leaves it alone for other inputs and when SCOUT_ZARR_CACHE is set.
 */
void cli_ghost_cache(scout_array *in, const int64_t *piece, const int64_t *ghost, size_t workers);
/*
 * Create a Zarr array at o->tmp (o from cli_output_begin) with the given
 * shape, chunks, dtype (little-endian), codec spec (NULL: SCOUT's default)
 * and key separator ('/' or '.'; 0: '/').
 */
int cli_zarr_output_create(scout_array **out, const cli_output *o, int ndim, const int64_t *shape,
			   const int64_t *chunks, scout_dtype dtype, const char *codec_spec,
			   char separator);

/*
 * The same in a given Zarr format (2 or 3) and, for v3, chunk-key encoding
 * ("default" or "v2"; NULL: "default"), fill value (JSON text; NULL: 0).
 * For v3, a codec spec starting with
 * '[' is the whole v3 codec list; a short form or numcodecs JSON is the
 * compressor after a "bytes" codec. dimension_names: v3, a JSON list or NULL.
 * filters: v2, a JSON list of numcodecs filter configs, or NULL.
 */
int cli_zarr_output_create_fmt(scout_array **out, const cli_output *o, int ndim,
			       const int64_t *shape, const int64_t *chunks, scout_dtype dtype,
			       const char *codec_spec, char separator, int zarr_format,
			       const char *key_encoding, const char *fill_value,
			       const char *dimension_names, const char *filters);

/*
 * cli_zarr_output_create_fmt() for a sharded Zarr v3 output: shards (ndim
 * extents, multiples of chunks, which are the inner chunks) and the index
 * location ("end" or "start"; NULL: end).
 */
int cli_zarr_output_create_sharded(scout_array **out, const cli_output *o, int ndim,
				   const int64_t *shape, const int64_t *chunks,
				   const int64_t *shards, const char *index_location,
				   scout_dtype dtype, const char *codec_spec, char separator,
				   const char *key_encoding, const char *fill_value,
				   const char *dimension_names);

/* ---- the commands ---- */

int cli_info_main(int argc, char **argv);
int cli_convert_main(int argc, char **argv);
int cli_stats_main(int argc, char **argv);
int cli_blur_main(int argc, char **argv);
int cli_peaks_main(int argc, char **argv);
int cli_demo_main(int argc, char **argv);
int cli_preview_main(int argc, char **argv);

/*
 * The options of the array a command writes, shared by convert and pyramid:
 * --chunks, --codec, --dtype, --separator, --overwrite (CLI_OUTPUT_LONGOPTS),
 * parsed by cli_output_option() with the same messages in both.
 */
typedef struct {
	int nchunks; /* 0: default 64 per axis */
	int64_t chunks[SCOUT_MAX_NDIM];
	const char *codec; /* NULL: SCOUT's default */
	int has_dtype;
	scout_dtype dtype;
	char separator; /* '/' or '.'; 0: the default of the format and key encoding */
	int overwrite;
} cli_output_opts;

enum { CLI_OPT_CHUNKS = 0x1c0, CLI_OPT_CODEC, CLI_OPT_DTYPE, CLI_OPT_SEPARATOR, CLI_OPT_OVERWRITE };

#define CLI_OUTPUT_LONGOPTS                                                                        \
	{"chunks", required_argument, NULL, CLI_OPT_CHUNKS},                                       \
	    {"codec", required_argument, NULL, CLI_OPT_CODEC},                                     \
	    {"dtype", required_argument, NULL, CLI_OPT_DTYPE},                                     \
	    {"separator", required_argument, NULL, CLI_OPT_SEPARATOR},                             \
	{                                                                                          \
		"overwrite", no_argument, NULL, CLI_OPT_OVERWRITE                                  \
	}

/* an output option: 1 handled, 0 not one, >= 1000: exit status + 1000 (usage printed) */
int cli_output_option(cli_output_opts *o, int opt, const char *arg, const char *cmd,
		      const char *usage);

typedef struct {
	const char *input;
	const char *output;
	cli_output_opts out;
	int zarr_format;          /* 2 (default) or 3 */
	const char *key_encoding; /* v3: "default" (NULL) or "v2" */
	int64_t shards[SCOUT_MAX_NDIM];
	int nshards;                /* 0: unsharded */
	const char *index_location; /* sharded: "end" (NULL) or "start" */
	const char *filters;        /* v2: numcodecs filters as a JSON list, or NULL */
	cli_common common;
} cli_convert_params;

int cli_convert_run(const cli_convert_params *p);

/* ---- OME-Zarr pyramids: `scout pyramid` and `convert --ome` (pyramid.c) ---- */

/* long-option ids of the NGFF options (apart from the commands' own ids) */
enum {
	CLI_OPT_NGFF = 0x180,
	CLI_OPT_VOXEL_SIZE,
	CLI_OPT_VOXEL_FILE,
	CLI_OPT_UNIT,
	CLI_OPT_METHOD,
	CLI_OPT_LEVELS,
	CLI_OPT_SHARDS,
	CLI_OPT_LEVEL /* --level N of stats, blur, peaks */
};
/* parse --level N (>= 0); 0 or -1 */
int cli_parse_level(int *out, const char *s);
#define CLI_PYRAMID_LONGOPTS                                                                       \
	{"ngff", required_argument, NULL, CLI_OPT_NGFF},                                           \
	    {"voxel-size", required_argument, NULL, CLI_OPT_VOXEL_SIZE},                           \
	    {"voxel-size-file", required_argument, NULL, CLI_OPT_VOXEL_FILE},                      \
	    {"unit", required_argument, NULL, CLI_OPT_UNIT},                                       \
	    {"method", required_argument, NULL, CLI_OPT_METHOD},                                   \
	    {"levels", required_argument, NULL, CLI_OPT_LEVELS},                                   \
	{                                                                                          \
		"shards", required_argument, NULL, CLI_OPT_SHARDS                                  \
	}

typedef struct {
	const char *input;
	const char *output;
	const char *ngff; /* "0.4" (NULL) or "0.5" */
	int nvoxel;       /* --voxel-size values given */
	double voxel_size[SCOUT_MAX_NDIM];
	const char *voxel_size_file;
	const char *unit;
	scout_downsample_method method;
	int levels; /* 0: automatic */
	cli_output_opts out;
	int nshards; /* --shards values given (NGFF 0.5) */
	int64_t shards[SCOUT_MAX_NDIM];
	cli_common common;
} cli_pyramid_params;

void cli_pyramid_params_init(cli_pyramid_params *p);
int cli_pyramid_run(const cli_pyramid_params *p);
/* an NGFF option: 1 handled, 0 not one, >= 1000: exit status + 1000 (usage printed) */
int cli_pyramid_option(cli_pyramid_params *p, int opt, const char *arg, const char *cmd,
		       const char *usage);
int cli_pyramid_main(int argc, char **argv);
/* scout demo's pyramid step (demo_pyramid.c): DIR/volume.ome.zarr from ZARR, one table line */
int cli_demo_pyramid(const char *dir, const char *zarr, const cli_common *common);
/* how to open DIR/volume.ome.zarr in napari and neuroglancer */
void cli_demo_pyramid_hint(const char *dir, int kept);

/*
 * Open PATH for reading; an OME-Zarr group opens at `level` (a plain array
 * only at level 0). level < 0: not given (0).
 */
int cli_open_input(scout_array **out, const char *path, int level);

/* `scout info` of an OME-Zarr group (info_ngff.c); 1 if PATH is not one, else 0 or an error. */
int cli_info_ngff(const char *path, int as_json);

typedef struct {
	scout_stats acc;        /* the merged accumulator */
	scout_stats_result res; /* its results */
	size_t nbins;           /* 0: no histogram */
	double lo, hi;          /* histogram range */
	uint64_t *hist;         /* nbins counts, malloc'd */
} cli_stats_result;

typedef struct {
	const char *input;
	int nbins;
	int has_range;
	double lo, hi;
	cli_common common;
	int level; /* --level N of an OME-Zarr group (0: full resolution) */
} cli_stats_params;

int cli_stats_run(cli_stats_result *out, const cli_stats_params *p);
void cli_stats_result_free(cli_stats_result *r);
void cli_stats_print(FILE *f, const cli_stats_result *r, int json);

typedef struct {
	const char *input;
	const char *output;
	int nsigma;
	double sigma[SCOUT_MAX_NDIM];
	int has_dtype;
	scout_dtype dtype;
	int nchunks; /* output chunks; 0: the input's Zarr chunks, else 64 */
	int64_t chunks[SCOUT_MAX_NDIM];
	int nblock; /* processing blocks (whole output chunks); 0: slabs */
	int64_t block[SCOUT_MAX_NDIM];
	const char *codec;
	int overwrite;
	cli_common common;
	int level; /* --level N of an OME-Zarr group (0: full resolution) */
} cli_blur_params;

int cli_blur_run(const cli_blur_params *p);

typedef struct {
	const char *input;
	const char *output; /* CSV; NULL: do not write */
	int nsigma;
	double sigma[SCOUT_MAX_NDIM];
	int min_distance;
	int has_threshold;
	double threshold;
	int nchunks; /* processing chunks; 0: slabs of the input's Zarr chunks (else 64) */
	int64_t chunks[SCOUT_MAX_NDIM];
	int overwrite;
	cli_common common;
	int level; /* --level N of an OME-Zarr group (0: full resolution) */
} cli_peaks_params;

/* points_out: count x ndim sorted global coordinates (malloc'd; may be NULL). */
int cli_peaks_run(int64_t **points_out, size_t *count_out, int *ndim_out,
		  const cli_peaks_params *p);

/*
 * Processing chunks for reductions: the storage chunks, halved on their longest
 * axis while one is larger than budget bytes.
 */
void cli_work_chunks(int64_t *out, int ndim, const int64_t *chunks, size_t itemsize, size_t budget);

/* ---- preview ---- */

/* points drawn on a preview picture (the demo's planted and detected nuclei) */
typedef struct {
	const double *points; /* count x ndim coordinates, the array's axes (rounded) */
	size_t count;
	scout_marker shape;
	uint16_t color[3]; /* 0..255 (scaled by 257 for 16-bit pictures) */
} cli_marker_set;

typedef struct {
	const char *input;
	const char *output; /* PNG */
	int axis;           /* -1: not given (z) */
	int has_range;
	int64_t r0, r1;    /* r1 -1: the extent */
	const char *peaks; /* CSV drawn as red rings, or NULL */
	int nsets;         /* more marker sets, drawn first */
	cli_marker_set sets[2];
	int contrast_fixed;
	double lo, hi;
	int depth;        /* 8 or 16 */
	int64_t max_size; /* longest side */
	int overwrite;
	cli_common common;
	int level; /* --level N of an OME-Zarr group (0: full resolution) */
} cli_preview_params;

typedef struct {
	int64_t height, width, factor; /* the picture and its downsampling factor */
	double lo, hi;                 /* the contrast limits used */
	size_t drawn;                  /* markers drawn */
} cli_preview_info;

int cli_preview_run(cli_preview_info *info, const cli_preview_params *p);

/*
 * Read a points CSV (scout peaks): an optional header line, then lines of ndim
 * numbers. SCOUT_EFORMAT naming the line and column for a wrong column count or
 * a field that is not a finite number. *points_out: malloc'd count x ndim.
 */
int cli_read_points_csv(double **points_out, size_t *count_out, const char *path, int ndim);

/* --sigma: one value for every axis or one per axis; SCOUT_EINVAL otherwise */
int cli_resolve_sigma(double *sigma, int nsigma, const double *given, int ndim);

#endif
