/*
 * The command-line tool under mpirun: MPI is initialised only when the
 * launcher's environment says so (OMPI_COMM_WORLD_SIZE from Open MPI's
 * mpirun, PMIX_RANK / PMI_RANK from Slurm's srun); a scout started without a
 * launcher never touches MPI. Every rank runs the same command; the maps go
 * through scout_pmap_chunks_mpi(), rank 0 creates, commits and prints, and
 * collective agreements keep every rank on the same path after a failure.
 * Built without MPI (no SCOUT_HAVE_MPI), the same functions are those of one
 * process.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#ifdef SCOUT_HAVE_MPI
#include <mpi.h>

#include "scout/mpi.h"
#endif

static int g_rank = 0, g_size = 1, g_active = 0;
static int g_error_shared = 0; /* the last error is every rank's (rank 0 reports it) */
static long g_job_id = -1;

static int launched_by_mpi(void)
{
	return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK");
}

int cli_mpi_init(int *argc, char ***argv)
{
	if (!launched_by_mpi())
		return 0;
#ifdef SCOUT_HAVE_MPI
	int provided = 0;
	if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
		fprintf(stderr, "scout: error: MPI_Init_thread failed\n");
		return -1;
	}
	g_active = 1;
	MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
	MPI_Comm_size(MPI_COMM_WORLD, &g_size);
	if (provided < MPI_THREAD_FUNNELED) {
		if (g_rank == 0)
			fprintf(stderr, "scout: error: this MPI does not support threads "
					"(MPI_THREAD_FUNNELED)\n");
		MPI_Finalize();
		g_active = 0;
		return -1;
	}
	/* the job's name for temporaries: rank 0's process id */
	long id = (long)getpid();
	MPI_Bcast(&id, 1, MPI_LONG, 0, MPI_COMM_WORLD);
	g_job_id = id;
	return 0;
#else
	(void)argc;
	(void)argv;
	const char *n = getenv("OMPI_COMM_WORLD_SIZE");
	if (n && atoi(n) > 1) {
		const char *r = getenv("OMPI_COMM_WORLD_RANK");
		if (!r || atoi(r) == 0)
			fprintf(stderr,
				"scout: error: started by mpirun with %s ranks, but this "
				"scout was built without MPI\n",
				n);
		return -1;
	}
	return 0;
#endif
}

void cli_mpi_finalize(void)
{
#ifdef SCOUT_HAVE_MPI
	if (g_active) {
		fflush(NULL);
		MPI_Finalize();
		g_active = 0;
	}
#endif
}

int cli_mpi_rank(void)
{
	return g_rank;
}

int cli_mpi_size(void)
{
	return g_size;
}

long cli_mpi_job_id(void)
{
	return g_job_id >= 0 ? g_job_id : (long)getpid();
}

int cli_mpi_error_shared(void)
{
	return g_error_shared;
}

long cli_mpi_bcast_long(long v)
{
#ifdef SCOUT_HAVE_MPI
	if (g_active && g_size > 1)
		MPI_Bcast(&v, 1, MPI_LONG, 0, MPI_COMM_WORLD);
#endif
	return v;
}

double cli_mpi_bcast_double(double v)
{
#ifdef SCOUT_HAVE_MPI
	if (g_active && g_size > 1)
		MPI_Bcast(&v, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
#endif
	return v;
}

void cli_mpi_barrier(void)
{
#ifdef SCOUT_HAVE_MPI
	if (g_active && g_size > 1)
		MPI_Barrier(MPI_COMM_WORLD);
#endif
}

int cli_mpi_agree(int rc)
{
#ifdef SCOUT_HAVE_MPI
	if (!g_active || g_size < 2)
		return rc;
	/* the first failing rank tells everybody its code and message */
	int mine = rc < 0 ? g_rank : g_size, first = g_size;
	MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
	if (first == g_size)
		return rc < 0 ? rc : SCOUT_OK;
	struct {
		int rc;
		char msg[1024];
	} e = {rc, ""};
	if (g_rank == first)
		snprintf(e.msg, sizeof e.msg, "%s", scout_last_error());
	MPI_Bcast(&e, (int)sizeof e, MPI_BYTE, first, MPI_COMM_WORLD);
	g_error_shared = 1;
	if (g_rank == first)
		return rc;
	return scout__error(e.rc, "rank %d: %s", first, e.msg);
#else
	return rc;
#endif
}

int cli_pmap_chunks(scout_results **out, scout_chunk_fn f, void *payload, scout_array *arr,
		    const int64_t *chunks, const scout_pmap_options *po, cli_output *o)
{
	cli_resume_wrap w;
	if (o && cli_resume_wrap_init(&w, o, f, payload)) {
		f = cli_resume_chunk;
		payload = &w;
	}
#ifdef SCOUT_HAVE_MPI
	if (g_active && g_size > 1) {
		int rc = scout_pmap_chunks_mpi(out, f, payload, arr, chunks, po, MPI_COMM_WORLD);
		if (rc < 0)
			g_error_shared = 1;
		return rc;
	}
#endif
	return scout_pmap_chunks(out, f, payload, arr, chunks, po);
}
