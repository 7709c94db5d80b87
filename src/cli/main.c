/* scout [--version] [--help] COMMAND ...: dispatch to the sub-commands. */
#include <getopt.h>
#include <malloc.h>
#include <string.h>

#include "cli.h"

static const struct {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *summary;
} commands[] = {
    {"info", cli_info_main, "describe an array: kind, shape, chunks, dtype, codec, storage"},
    {"convert", cli_convert_main, "TIFF file / TIFF folder / Zarr -> Zarr v2 (or TIFF)"},
    {"pyramid", cli_pyramid_main, "OME-Zarr multiscale pyramid with physical voxel sizes"},
    {"stats", cli_stats_main, "count, sum, min, max, mean, std, NaNs, histogram"},
    {"blur", cli_blur_main, "Gaussian smoothing with ghost borders -> Zarr (float32)"},
    {"peaks", cli_peaks_main, "nuclei detection: blur + local maxima -> CSV z,y,x"},
    {"preview", cli_preview_main, "maximum-intensity projection (+ peaks) -> PNG picture"},
    {"demo", cli_demo_main, "the main job end to end on a synthetic volume"},
};

#define NCOMMANDS (sizeof commands / sizeof *commands)
#define USAGE     "scout [--version] [--help] COMMAND [ARGS...]"

static void help(FILE *f)
{
	fprintf(f, "usage: " USAGE "\n\n"
		   "Map-reduce processing of large chunk-compressed N-D arrays (Zarr v2, TIFF).\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-8s  %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nOptions every command takes:\n"
		   "  -j, --workers N   parallel workers (default: online CPUs)\n"
		   "  --processes       run the workers as forked processes (default: threads)\n"
		   "  --progress, --no-progress\n"
		   "                    force the progress bar on stderr on or off\n"
		   "                    (default: on when stderr is a terminal)\n"
		   "  -h, --help        the command's help\n"
		   "  --resume          (convert, blur) build OUTPUT in OUTPUT.partial, keep it\n"
		   "                    on failure, and complete it when run again\n\n"
		   "Under MPI: mpirun -n N scout COMMAND ... shares the work among the ranks\n"
		   "(each with its -j workers); results are identical; rank 0 prints.\n\n"
		   "Exit status: 0 success, 1 failure (scout: error: ...) or interrupted\n"
		   "(SIGINT, SIGTERM: nothing is left at OUTPUT), 2 bad usage.\n"
		   "Run 'scout COMMAND --help' for a command's options.\n");
}

/*
 * glibc's malloc adapts its mmap threshold to the largest block freed and
 * trims each thread's heap whenever its free top exceeds twice that: the
 * codecs' per-call work memory (zstd's compression context, ~1 MiB per blosc
 * call) is then given back and faulted in again for every chunk. Fresh pages
 * cost ~8 us each on virtual machines with shadow paging, so `convert` spent
 * more time in page faults (1M of them for 1 GiB) than compressing. Fixed
 * thresholds keep blocks up to 32 MiB in the heaps and up to 256 MiB of free
 * heap top mapped. (A library must not change this for its host program: the
 * CLI, which owns its process, does.)
 */
static void tune_malloc(void)
{
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
}

static int run(int argc, char **argv);

int main(int argc, char **argv)
{
	tune_malloc();
	/* under mpirun (its environment): MPI, every rank runs the command */
	if (cli_mpi_init(&argc, &argv) < 0)
		return CLI_EXIT_FAIL;
	int rc = run(argc, argv);
	cli_mpi_finalize();
	return rc;
}

static int run(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	int opt;
	opterr = 0;
	/* '+': stop at the first non-option (the command) */
	while ((opt = getopt_long(argc, argv, "+hV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			help(stdout);
			return CLI_EXIT_OK;
		case 'V':
			printf("scout %s\n", scout_version());
			return CLI_EXIT_OK;
		default:
			fprintf(stderr, "scout: unknown option '%s'\nusage: " USAGE "\n",
				argv[optind - 1]);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "scout: missing command\nusage: " USAGE "\n");
		help(stderr);
		return CLI_EXIT_USAGE;
	}
	const char *cmd = argv[optind];
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (!strcmp(cmd, commands[i].name)) {
			int sub_argc = argc - optind;
			char **sub_argv = argv + optind;
			cli_resume_set_command(sub_argc, sub_argv);
			optind = 0; /* re-initialise getopt for the command's parser */
			return commands[i].main(sub_argc, sub_argv);
		}
	}
	fprintf(stderr, "scout: unknown command '%s'\nusage: " USAGE "\n", cmd);
	return CLI_EXIT_USAGE;
}
