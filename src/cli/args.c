/* Shared helpers of the scout command: options, errors, signals, atomic outputs. */
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

void cli_common_init(cli_common *c)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	c->workers = n > 0 ? (int)n : 1;
	c->processes = 0;
	c->progress = isatty(STDERR_FILENO) ? 1 : 0;
	c->json = 0;
}

int cli_common_option(cli_common *c, int opt, const char *cmd)
{
	switch (opt) {
	case 'j': {
		int n;
		if (cli_parse_int(&n, optarg) < 0 || n < 1 || n > 4096) {
			fprintf(stderr, "scout %s: -j/--workers needs a number 1..4096, not '%s'\n",
				cmd, optarg);
			return -1;
		}
		c->workers = n;
		return 1;
	}
	case CLI_OPT_PROCESSES:
		c->processes = 1;
		return 1;
	case CLI_OPT_THREADS:
		c->processes = 0;
		return 1;
	case CLI_OPT_PROGRESS:
		c->progress = 1;
		return 1;
	case CLI_OPT_NO_PROGRESS:
		c->progress = 0;
		return 1;
	case CLI_OPT_JSON:
		c->json = 1;
		return 1;
	case CLI_OPT_RESUME:
		if (strcmp(cmd, "convert") && strcmp(cmd, "blur"))
			return 0; /* only commands that write an array resume */
		c->resume = 1;
		return 1;
	default:
		return 0;
	}
}

int cli_usage_error(const char *cmd, const char *usage, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "scout %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: %s\nTry 'scout %s --help' for more information.\n", usage, cmd);
	return CLI_EXIT_USAGE;
}

int cli_fail(void)
{
	const char *msg = scout_last_error();
	/* under MPI, an error every rank agreed on is reported by rank 0 alone */
	if (cli_mpi_rank() > 0 && cli_mpi_error_shared())
		return CLI_EXIT_FAIL;
	if (cli_mpi_rank() > 0)
		fprintf(stderr, "scout: error: rank %d: %s\n", cli_mpi_rank(),
			msg && *msg ? msg : "unknown failure");
	else
		fprintf(stderr, "scout: error: %s\n", msg && *msg ? msg : "unknown failure");
	return CLI_EXIT_FAIL;
}

int cli_parse_int64_list(int64_t *out, int max, const char *s, int64_t min)
{
	int n = 0;
	const char *p = s;
	if (!s || !*s)
		return -1;
	for (;;) {
		char *end;
		errno = 0;
		long long v = strtoll(p, &end, 10);
		if (end == p || errno || v < min || n >= max)
			return -1;
		out[n++] = v;
		if (*end == '\0')
			return n;
		if (*end != ',')
			return -1;
		p = end + 1;
	}
}

int cli_parse_double_list(double *out, int max, const char *s)
{
	int n = 0;
	const char *p = s;
	if (!s || !*s)
		return -1;
	for (;;) {
		char *end;
		errno = 0;
		double v = strtod(p, &end);
		if (end == p || errno || n >= max)
			return -1;
		out[n++] = v;
		if (*end == '\0')
			return n;
		if (*end != ',')
			return -1;
		p = end + 1;
	}
}

int cli_parse_int(int *out, const char *s)
{
	char *end;
	if (!s || !*s)
		return -1;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (*end || errno || v < -2147483647L || v > 2147483647L)
		return -1;
	*out = (int)v;
	return 0;
}

int cli_parse_double(double *out, const char *s)
{
	char *end;
	if (!s || !*s)
		return -1;
	errno = 0;
	double v = strtod(s, &end);
	if (*end || errno)
		return -1;
	*out = v;
	return 0;
}

double cli_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int cli_is_tiff_path(const char *path)
{
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	return (n >= 4 && strncasecmp(path + n - 4, ".tif", 4) == 0) ||
	       (n >= 5 && strncasecmp(path + n - 5, ".tiff", 5) == 0);
}

void cli_work_chunks(int64_t *out, int ndim, const int64_t *chunks, size_t itemsize, size_t budget)
{
	for (int i = 0; i < ndim; i++)
		out[i] = chunks[i] > 0 ? chunks[i] : 1;
	for (;;) {
		double bytes = (double)itemsize;
		int best = 0;
		for (int i = 0; i < ndim; i++) {
			bytes *= (double)out[i];
			if (out[i] > out[best])
				best = i;
		}
		if (bytes <= (double)budget || out[best] <= 1)
			return;
		out[best] = (out[best] + 1) / 2;
	}
}

int cli_resolve_sigma(double *sigma, int nsigma, const double *given, int ndim)
{
	if (nsigma != 1 && nsigma != ndim)
		return scout__error(
		    SCOUT_EINVAL, "--sigma has %d values but the array has %d axes (give 1 or %d)",
		    nsigma, ndim, ndim);
	for (int i = 0; i < ndim; i++) {
		sigma[i] = given[nsigma == 1 ? 0 : i];
		if (!(sigma[i] >= 0) || sigma[i] > 1e6)
			return scout__error(SCOUT_EINVAL, "--sigma values must be >= 0, not %g",
					    sigma[i]);
	}
	return 0;
}

/* ---- signals ---- */

static volatile sig_atomic_t g_signal;

static void on_signal(int signo)
{
	g_signal = signo;
}

void cli_signals_install(void)
{
	static int installed;
	if (installed)
		return;
	installed = 1;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int cli_interrupted(void)
{
	return (int)g_signal;
}

int cli_check_interrupt(void)
{
	int s = (int)g_signal;
	if (!s)
		return 0;
	return scout__error(SCOUT_EINTERRUPTED, "interrupted by %s",
			    s == SIGINT    ? "SIGINT"
			    : s == SIGTERM ? "SIGTERM"
					   : "a signal");
}

/* ---- outputs ---- */

static int rm_entry(const char *fpath, const struct stat *sb, int typeflag, struct FTW *ftwbuf)
{
	(void)sb;
	(void)ftwbuf;
	int rc = (typeflag == FTW_DP) ? rmdir(fpath) : unlink(fpath);
	if (rc != 0 && errno != ENOENT)
		return scout__error(SCOUT_EIO, "cannot remove %s: %s", fpath, strerror(errno));
	return 0;
}

int cli_remove_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0
				       : scout__error(SCOUT_EIO, "%s: %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode)) {
		if (unlink(path) != 0 && errno != ENOENT)
			return scout__error(SCOUT_EIO, "cannot remove %s: %s", path,
					    strerror(errno));
		return 0;
	}
	int rc = nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	if (rc < 0)
		return scout_last_error_code() < 0
			   ? scout_last_error_code()
			   : scout__error(SCOUT_EIO, "cannot remove %s: %s", path, strerror(errno));
	return rc;
}

int cli_output_begin(cli_output *o, const char *path, int overwrite)
{
	memset(o, 0, sizeof *o);
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	if (n == 0)
		return scout__error(SCOUT_EINVAL, "empty output path");
	o->path = strndup(path, n);
	if (!o->path)
		return scout__error(SCOUT_ENOMEM, "out of memory");
	struct stat st;
	if (!overwrite && lstat(o->path, &st) == 0) {
		int rc = scout__error(SCOUT_EIO,
				      "%s already exists (use --overwrite to replace it)", o->path);
		free(o->path);
		o->path = NULL;
		return rc;
	}
	/* the same name on every rank of an MPI job: rank 0's pid */
	if (asprintf(&o->tmp, "%s.tmp-%ld", o->path, cli_mpi_job_id()) < 0) {
		free(o->path);
		o->path = NULL;
		return scout__error(SCOUT_ENOMEM, "out of memory");
	}
	int rc = cli_mpi_rank() == 0 ? cli_remove_tree(o->tmp) : SCOUT_OK;
	if (rc < 0) {
		cli_output_abort(o);
		return rc;
	}
	o->overwrite = overwrite;
	o->active = 1;
	cli_signals_install();
	return SCOUT_OK;
}

static int output_commit_here(cli_output *o);

int cli_output_commit(cli_output *o)
{
	if (cli_mpi_size() < 2) {
		cli_journal_end(o, 1);
		return output_commit_here(o);
	}
	/* every rank wrote its chunks and closed the output: rank 0 renames */
	cli_mpi_barrier();
	cli_journal_end(o, 1);
	int rc = cli_mpi_rank() == 0 ? output_commit_here(o) : SCOUT_OK;
	rc = cli_mpi_agree(rc);
	if (rc == 0 && cli_mpi_rank() > 0) {
		o->active = 0;
		free(o->tmp);
		free(o->path);
		o->tmp = o->path = NULL;
	}
	return rc;
}

static int output_commit_here(cli_output *o)
{
	int rc = cli_check_interrupt();
	if (rc < 0)
		return rc;
	char *aside = NULL;
	struct stat st, tst;
	if (o->overwrite && lstat(o->path, &st) == 0 &&
	    (S_ISDIR(st.st_mode) || (lstat(o->tmp, &tst) == 0 && S_ISDIR(tst.st_mode)))) {
		/*
		 * rename() replaces a file by a file atomically, but not a directory:
		 * move the old OUTPUT aside first and remove it after, so that a
		 * crash never leaves a half-removed OUTPUT that looks whole.
		 */
		if (asprintf(&aside, "%s.old-%ld", o->path, (long)getpid()) < 0)
			return scout__error(SCOUT_ENOMEM, "out of memory");
		if ((rc = cli_remove_tree(aside)) < 0) {
			free(aside);
			return rc;
		}
		if (rename(o->path, aside) != 0) {
			rc = scout__error(SCOUT_EIO, "cannot rename %s to %s: %s", o->path, aside,
					  strerror(errno));
			free(aside);
			return rc;
		}
	}
	if (rename(o->tmp, o->path) != 0) {
		rc = scout__error(SCOUT_EIO, "cannot rename %s to %s: %s", o->tmp, o->path,
				  strerror(errno));
		if (aside && rename(aside, o->path) != 0)
			fprintf(stderr, "scout: warning: the previous %s is now %s\n", o->path,
				aside);
		free(aside);
		return rc;
	}
	if (aside && cli_remove_tree(aside) < 0)
		fprintf(stderr, "scout: warning: %s\n", scout_last_error());
	free(aside);
	o->active = 0;
	free(o->tmp);
	free(o->path);
	o->tmp = o->path = NULL;
	return SCOUT_OK;
}

void cli_output_abort(cli_output *o)
{
	cli_journal_end(o, 0);
	if (o->active && o->tmp && o->resume && cli_mpi_rank() == 0 && access(o->tmp, F_OK) == 0) {
		fprintf(stderr,
			"scout: the finished part is kept in %s: run the same command "
			"with --resume to complete it\n",
			o->tmp);
	} else if (o->active && o->tmp && cli_mpi_rank() == 0) {
		/* keep the error that made us abort */
		char msg[1024];
		int code = scout_last_error_code();
		snprintf(msg, sizeof msg, "%s", scout_last_error());
		if (cli_remove_tree(o->tmp) < 0)
			fprintf(stderr, "scout: warning: %s\n", scout_last_error());
		scout__error(code, "%s", msg);
	}
	o->active = 0;
	free(o->tmp);
	free(o->path);
	o->tmp = o->path = NULL;
}

int cli_bad_option(const char *cmd, const char *usage, int opt, char **argv)
{
	if (opt == ':')
		return cli_usage_error(cmd, usage, "option '%s' needs a value", argv[optind - 1]);
	return cli_usage_error(cmd, usage, "unknown option '%s'", argv[optind - 1]);
}

int cli_other_option(cli_common *c, int opt, const char *cmd, const char *usage, char **argv)
{
	int r = cli_common_option(c, opt, cmd);
	if (r < 0)
		return cli_usage_error(cmd, usage, "bad option value");
	if (r == 0)
		return cli_bad_option(cmd, usage, opt, argv);
	return 0;
}

static int cancel_on_signal(void *payload)
{
	(void)payload;
	return g_signal != 0;
}

void cli_pmap_options(scout_pmap_options *po, const cli_common *c)
{
	po->nb_workers = c->workers;
	po->workers = c->processes ? SCOUT_WORKERS_PROCESSES : SCOUT_WORKERS_THREADS;
	po->progress = c->progress;
	po->cancel = cancel_on_signal;
	po->cancel_payload = NULL;
}

int cli_output_option(cli_output_opts *o, int opt, const char *arg, const char *cmd,
		      const char *usage)
{
	switch (opt) {
	case CLI_OPT_CHUNKS:
		o->nchunks = cli_parse_int64_list(o->chunks, SCOUT_MAX_NDIM, arg, 1);
		if (o->nchunks < 0)
			return 1000 + cli_usage_error(
					  cmd, usage,
					  "--chunks needs positive integers Z,Y,X, not '%s'", arg);
		return 1;
	case CLI_OPT_CODEC:
		o->codec = arg;
		return 1;
	case CLI_OPT_DTYPE:
		if (cli_parse_dtype(&o->dtype, arg) < 0)
			return 1000 + cli_usage_error(cmd, usage, "unknown --dtype '%s'", arg);
		o->has_dtype = 1;
		return 1;
	case CLI_OPT_SEPARATOR:
		if (strcmp(arg, "/") && strcmp(arg, "."))
			return 1000 + cli_usage_error(cmd, usage,
						      "--separator must be / or ., not '%s'", arg);
		o->separator = arg[0];
		return 1;
	case CLI_OPT_OVERWRITE:
		o->overwrite = 1;
		return 1;
	default:
		return 0;
	}
}
