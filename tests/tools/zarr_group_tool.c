/*
 * zarr_group_tool: drives scout's Zarr group calls for the Python tests.
 *
 *   zarr_group_tool create PATH FORMAT   scout_zarr_group_create_format (2 or 3)
 *   zarr_group_tool describe PATH        print scout_zarr_group_describe's JSON
 *   zarr_group_tool consolidate PATH     scout_zarr_consolidate
 *
 * Exit 0 on success; 1 with the error message on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scout/scout.h"

int main(int argc, char **argv)
{
	int rc;
	if (argc == 4 && !strcmp(argv[1], "create")) {
		rc = scout_zarr_group_create_format(argv[2], atoi(argv[3]));
	} else if (argc == 3 && !strcmp(argv[1], "describe")) {
		char *t = NULL;
		rc = scout_zarr_group_describe(&t, argv[2]);
		if (rc == SCOUT_OK)
			printf("%s\n", t);
		scout_free(t);
	} else if (argc == 3 && !strcmp(argv[1], "consolidate")) {
		rc = scout_zarr_consolidate(argv[2]);
	} else {
		fprintf(stderr, "usage: zarr_group_tool create PATH FORMAT | describe PATH | "
				"consolidate PATH\n");
		return 2;
	}
	if (rc < 0) {
		fprintf(stderr, "%s\n", scout_last_error());
		return 1;
	}
	return 0;
}
