/*
 * A separately executed program for the shm tests:
 *
 *   shm_attach NAME sum        attach by name, print "ndim=N shape=a,b dtype=D sum=S"
 *                              (S: sum of the elements, integer dtypes and float64)
 *   shm_attach NAME fill V     attach by name and set every element to V
 *   shm_attach --create-forget create a 2x3 uint8 segment, print its name, and exit
 *                              normally without freeing it (the atexit cleanup must
 *                              unlink it)
 *
 * Exits 0 on success, 2 with "error CODE MESSAGE" on stdout when scout fails.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scout/scout.h"

static int fail(int rc)
{
	printf("error %d %s\n", rc, scout_last_error());
	return 2;
}

static double get(const void *data, scout_dtype dt, size_t i)
{
	switch (dt) {
	case SCOUT_UINT8:
		return ((const uint8_t *)data)[i];
	case SCOUT_INT8:
		return ((const int8_t *)data)[i];
	case SCOUT_UINT16:
		return ((const uint16_t *)data)[i];
	case SCOUT_INT16:
		return ((const int16_t *)data)[i];
	case SCOUT_UINT32:
		return ((const uint32_t *)data)[i];
	case SCOUT_INT32:
		return ((const int32_t *)data)[i];
	case SCOUT_INT64:
		return (double)((const int64_t *)data)[i];
	case SCOUT_UINT64:
		return (double)((const uint64_t *)data)[i];
	case SCOUT_FLOAT64:
		return ((const double *)data)[i];
	default:
		return 0;
	}
}

static void set(void *data, scout_dtype dt, size_t i, long long v)
{
	switch (dt) {
	case SCOUT_UINT8:
		((uint8_t *)data)[i] = (uint8_t)v;
		break;
	case SCOUT_INT8:
		((int8_t *)data)[i] = (int8_t)v;
		break;
	case SCOUT_UINT16:
		((uint16_t *)data)[i] = (uint16_t)v;
		break;
	case SCOUT_INT16:
		((int16_t *)data)[i] = (int16_t)v;
		break;
	case SCOUT_UINT32:
		((uint32_t *)data)[i] = (uint32_t)v;
		break;
	case SCOUT_INT32:
		((int32_t *)data)[i] = (int32_t)v;
		break;
	case SCOUT_INT64:
		((int64_t *)data)[i] = v;
		break;
	case SCOUT_UINT64:
		((uint64_t *)data)[i] = (uint64_t)v;
		break;
	case SCOUT_FLOAT64:
		((double *)data)[i] = (double)v;
		break;
	default:
		break;
	}
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--create-forget") == 0) {
		scout_shm *shm;
		int64_t shape[2] = {2, 3};
		int rc = scout_shm_create(&shm, 2, shape, SCOUT_UINT8);
		if (rc < 0)
			return fail(rc);
		printf("%s\n", scout_shm_name(shm));
		return 0; /* no scout_shm_free(): the atexit cleanup unlinks it */
	}
	if (argc < 3) {
		fprintf(stderr, "usage: shm_attach NAME sum | NAME fill V | --create-forget\n");
		return 64;
	}
	scout_shm *shm;
	int rc = scout_shm_attach(&shm, argv[1]);
	if (rc < 0)
		return fail(rc);
	int ndim = scout_shm_ndim(shm);
	const int64_t *shape = scout_shm_shape(shm);
	scout_dtype dt = scout_shm_dtype(shm);
	size_t n = 1;
	for (int i = 0; i < ndim; i++)
		n *= (size_t)shape[i];
	void *data = scout_shm_data(shm);
	if (strcmp(argv[2], "sum") == 0) {
		double sum = 0;
		for (size_t i = 0; i < n; i++)
			sum += get(data, dt, i);
		printf("ndim=%d shape=", ndim);
		for (int i = 0; i < ndim; i++)
			printf("%s%" PRId64, i ? "," : "", shape[i]);
		printf(" dtype=%d sum=%.0f\n", (int)dt, sum);
	} else if (strcmp(argv[2], "fill") == 0 && argc == 4) {
		long long v = atoll(argv[3]);
		for (size_t i = 0; i < n; i++)
			set(data, dt, i, v);
	} else {
		scout_shm_free(shm);
		return 64;
	}
	scout_shm_free(shm);
	return 0;
}
