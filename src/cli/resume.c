/*
 * Resumable outputs (convert, blur --resume) and the creation of Zarr outputs
 * shared by the ranks of an MPI job.
 *
 * With --resume the output is built in OUTPUT.partial (not OUTPUT.tmp-PID)
 * and a journal in OUTPUT.partial/.scout-journal/ records the work done:
 *   params      what the run computes (command, input, chunks, dtype, codec,
 *               sigma...): a later run resumes only when it is the same
 *   log-RANK    one line per finished processing block ("start:stop"),
 *               appended by that rank's workers (one write(2) with O_APPEND
 *               each) after every output chunk of the block was written (each
 *               chunk write is atomic: temporary + rename)
 * A block listed in the journal is complete on disk and is skipped when the
 * run is resumed; any other block is computed again and its chunks rewritten
 * (with the same bytes). The journal is removed just before OUTPUT.partial
 * is renamed to OUTPUT; a failed or interrupted --resume run keeps
 * OUTPUT.partial for the next one. Each rank writes its own log file (no
 * appends from two nodes to one file: NFS and Lustre do not make them atomic)
 * and no file lock is used. The journal survives a killed process (the page
 * cache has its writes), not a machine that loses power before the file
 * system wrote them back.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define JOURNAL_DIR "/.scout-journal"

struct cli_journal {
	char *dir;    /* OUTPUT.partial/.scout-journal */
	char *params; /* what this run computes */
	int fd;       /* this rank's log, -1 before the output exists */
	char **done;  /* sorted keys of the blocks finished by earlier runs */
	size_t ndone;
};

static char g_params[8192];

void cli_resume_set_command(int argc, char **argv)
{
	/* options that change how, not what, the run computes */
	static const char *const skip[] = {"--resume",  "--overwrite", "--processes",
					   "--threads", "--progress",  "--no-progress"};
	size_t k = 0;
	g_params[0] = '\0';
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		int drop = 0;
		for (size_t s = 0; s < sizeof skip / sizeof *skip; s++)
			drop |= !strcmp(a, skip[s]);
		if (!strcmp(a, "-j") || !strcmp(a, "--workers")) {
			i++; /* and its value */
			continue;
		}
		if (!strncmp(a, "-j", 2) || !strncmp(a, "--workers=", 10) || drop)
			continue;
		int n = snprintf(g_params + k, sizeof g_params - k, "%s\n", a);
		if (n < 0 || (size_t)n >= sizeof g_params - k)
			break;
		k += (size_t)n;
	}
}

const char *cli_resume_params(void)
{
	return g_params;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, len = 0;
	char *s = malloc(cap);
	while (s) {
		size_t k = fread(s + len, 1, cap - len - 1, f);
		len += k;
		if (k == 0)
			break;
		if (cap - len < 2) {
			char *t = realloc(s, cap * 2);
			if (!t) {
				free(s);
				s = NULL;
				break;
			}
			s = t;
			cap *= 2;
		}
	}
	fclose(f);
	if (s)
		s[len] = '\0';
	return s;
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return scout__error(SCOUT_EIO, "%s: %s", path, strerror(errno));
	int bad = fputs(text, f) < 0;
	if (fclose(f) != 0 || bad)
		return scout__error(SCOUT_EIO, "%s: write failed", path);
	return SCOUT_OK;
}

static void journal_free(struct cli_journal *j)
{
	if (!j)
		return;
	if (j->fd >= 0)
		close(j->fd);
	for (size_t i = 0; i < j->ndone; i++)
		free(j->done[i]);
	free(j->done);
	free(j->dir);
	free(j->params);
	free(j);
}

int cli_output_begin_resumable(cli_output *o, const char *path, int overwrite, int resume,
			       const char *params)
{
	int rc = cli_output_begin(o, path, overwrite);
	if (rc < 0 || !resume)
		return rc;
	/* rank 0 removed OUTPUT.tmp-JOB (never there): build in OUTPUT.partial instead */
	struct cli_journal *j = calloc(1, sizeof *j);
	char *tmp = NULL;
	if (!j || asprintf(&tmp, "%s.partial", o->path) < 0 ||
	    asprintf(&j->dir, "%s" JOURNAL_DIR, tmp) < 0 || !(j->params = strdup(params))) {
		free(tmp);
		journal_free(j);
		cli_output_abort(o);
		return scout__error(SCOUT_ENOMEM, "out of memory");
	}
	j->fd = -1;
	free(o->tmp);
	o->tmp = tmp;
	o->journal = j;
	o->resume = 1;
	/* rank 0 decides: the partial output of the same run, or a fresh start */
	int same = 0;
	if (cli_mpi_rank() == 0) {
		char *pf = NULL;
		if (asprintf(&pf, "%s/params", j->dir) >= 0) {
			char *old = read_file(pf);
			same = old && !strcmp(old, params);
			free(old);
			free(pf);
		}
		struct stat st;
		if (!same && lstat(o->tmp, &st) == 0) {
			fprintf(stderr,
				"scout: %s is not the partial output of this command: starting "
				"over\n",
				o->tmp);
			rc = cli_remove_tree(o->tmp);
		}
		/* a killed writer's temporaries (before its rename) must not reach OUTPUT */
		if (same && rc == 0)
			rc = scout_zarr_remove_temporaries(o->tmp, NULL);
	}
	rc = cli_mpi_agree(rc);
	same = (int)cli_mpi_bcast_long(same);
	if (rc < 0) {
		cli_output_abort(o);
		return rc;
	}
	o->resuming = same;
	return SCOUT_OK;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Read every log-* of the journal into j->done (sorted). */
static int load_journal(struct cli_journal *j)
{
	DIR *d = opendir(j->dir);
	if (!d)
		return errno == ENOENT ? SCOUT_OK
				       : scout__error(SCOUT_EIO, "%s: %s", j->dir, strerror(errno));
	struct dirent *e;
	size_t cap = 0;
	int rc = SCOUT_OK;
	while (rc == 0 && (e = readdir(d))) {
		if (strncmp(e->d_name, "log-", 4))
			continue;
		char *p = NULL;
		if (asprintf(&p, "%s/%s", j->dir, e->d_name) < 0) {
			rc = scout__error(SCOUT_ENOMEM, "out of memory");
			break;
		}
		char *text = read_file(p);
		free(p);
		if (!text)
			continue;
		/* whole lines only: a line cut by a kill is not a finished block */
		for (char *line = text, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
			*nl = '\0';
			if (!*line)
				continue;
			if (j->ndone == cap) {
				cap = cap ? 2 * cap : 256;
				char **t = realloc(j->done, cap * sizeof *t);
				if (!t) {
					rc = scout__error(SCOUT_ENOMEM, "out of memory");
					break;
				}
				j->done = t;
			}
			if (!(j->done[j->ndone] = strdup(line))) {
				rc = scout__error(SCOUT_ENOMEM, "out of memory");
				break;
			}
			j->ndone++;
		}
		free(text);
	}
	closedir(d);
	if (j->ndone)
		qsort(j->done, j->ndone, sizeof *j->done, cmp_str);
	return rc;
}

int cli_output_create_zarr(scout_array **out, cli_output *o, const scout_zarr_options *zo)
{
	struct cli_journal *j = o->journal;
	int rc = SCOUT_OK;
	*out = NULL;
	if (cli_mpi_rank() == 0) {
		if (j && o->resuming) {
			rc = scout_array_open(out, o->tmp, SCOUT_MODE_READ | SCOUT_MODE_WRITE);
		} else {
			rc = scout_zarr_create(out, o->tmp, zo);
			if (rc == 0 && j) {
				char *pf = NULL;
				if (mkdir(j->dir, 0777) != 0)
					rc = scout__error(SCOUT_EIO, "%s: %s", j->dir,
							  strerror(errno));
				else if (asprintf(&pf, "%s/params", j->dir) < 0)
					rc = scout__error(SCOUT_ENOMEM, "out of memory");
				else
					rc = write_file(pf, j->params);
				free(pf);
			}
		}
	}
	rc = cli_mpi_agree(rc);
	if (rc == 0 && cli_mpi_rank() > 0)
		rc = scout_array_open(out, o->tmp, SCOUT_MODE_READ | SCOUT_MODE_WRITE);
	if (rc == 0 && j && o->resuming)
		rc = load_journal(j);
	if (rc == 0 && j) {
		char *lp = NULL;
		if (asprintf(&lp, "%s/log-%d", j->dir, cli_mpi_rank()) < 0) {
			rc = scout__error(SCOUT_ENOMEM, "out of memory");
		} else {
			j->fd = open(lp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
			if (j->fd < 0)
				rc = scout__error(SCOUT_EIO, "%s: %s", lp, strerror(errno));
			free(lp);
		}
	}
	rc = cli_mpi_agree(rc);
	if (rc < 0) {
		scout_array_free(*out);
		*out = NULL;
	}
	return rc;
}

/* ---- the chunk function's wrapper ---- */

int cli_resume_wrap_init(cli_resume_wrap *w, cli_output *o, scout_chunk_fn f, void *payload)
{
	if (!o->journal || o->journal->fd < 0)
		return 0;
	w->j = o->journal;
	w->f = f;
	w->payload = payload;
	return 1;
}

/* "start:stop" of the block at start (clipped to the array) */
static void block_key(char *key, size_t n, scout_array *arr, const int64_t *start,
		      const int64_t *chunks)
{
	int ndim = scout_array_ndim(arr);
	const int64_t *shape = scout_array_shape(arr);
	size_t k = 0;
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < ndim && k < n; i++) {
			int64_t v = start[i];
			if (pass)
				v = start[i] + chunks[i] < shape[i] ? start[i] + chunks[i]
								    : shape[i];
			k += (size_t)snprintf(key + k, n - k, "%s%lld", i ? "," : (pass ? ":" : ""),
					      (long long)v);
		}
}

int cli_resume_chunk(scout_array *arr, const int64_t *start, const int64_t *chunks,
		     scout_result *result, void *payload)
{
	cli_resume_wrap *w = payload;
	char key[SCOUT_MAX_NDIM * 48 + 4];
	block_key(key, sizeof key - 1, arr, start, chunks);
	const char *kp = key;
	if (w->j->ndone && bsearch(&kp, w->j->done, w->j->ndone, sizeof *w->j->done, cmp_str))
		return 0; /* finished by an earlier run */
	int rc = w->f(arr, start, chunks, result, w->payload);
	if (rc < 0)
		return rc;
	size_t n = strlen(key);
	key[n++] = '\n';
	if (write(w->j->fd, key, n) != (ssize_t)n)
		return scout__error(SCOUT_EIO, "%s: cannot append to the journal: %s", w->j->dir,
				    strerror(errno));
	return rc;
}

void cli_journal_end(cli_output *o, int committing)
{
	struct cli_journal *j = o->journal;
	if (!j)
		return;
	if (j->fd >= 0)
		close(j->fd);
	j->fd = -1;
	if (committing && cli_mpi_rank() == 0 && cli_remove_tree(j->dir) < 0)
		fprintf(stderr, "scout: warning: %s\n", scout_last_error());
	journal_free(j);
	o->journal = NULL;
}
