/* The OME-Zarr step of `scout demo`: a multiscale pyramid of the demo volume. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

int cli_demo_pyramid(const char *dir, const char *zarr, const cli_common *common)
{
	char *out = NULL;
	if (asprintf(&out, "%s/volume.ome.zarr", dir) < 0)
		return scout__error(SCOUT_ENOMEM, "out of memory");
	double t0 = cli_now(), c0 = (double)clock() / CLOCKS_PER_SEC;
	cli_pyramid_params pp;
	cli_pyramid_params_init(&pp);
	pp.input = zarr;
	pp.output = out;
	pp.nvoxel = 3; /* the synthetic nuclei are round in voxels: 1 um isotropic */
	pp.voxel_size[0] = pp.voxel_size[1] = pp.voxel_size[2] = 1.0;
	pp.out.overwrite = 1;
	pp.common = *common;
	int rc = cli_pyramid_run(&pp);
	if (rc == 0) {
		scout_ngff_multiscale ms;
		if ((rc = scout_ngff_read(&ms, out)) == 0)
			printf("%-8s %7.2f s %7.2f s  volume.ome.zarr: OME-Zarr (NGFF %s), %d "
			       "level%s, "
			       "block mean\n",
			       "pyramid", cli_now() - t0, (double)clock() / CLOCKS_PER_SEC - c0,
			       ms.ngff_version, ms.nlevels, ms.nlevels == 1 ? "" : "s");
	}
	free(out);
	return rc;
}

void cli_demo_pyramid_hint(const char *dir, int kept)
{
	printf("\nopen the pyramid in a viewer%s:\n",
	       kept ? "" : " (pass --keep or a DIR to keep it)");
	printf("  napari --plugin napari-ome-zarr %s/volume.ome.zarr\n", dir);
	printf("  neuroglancer: serve %s over HTTP with CORS (e.g. npx http-server --cors) and\n"
	       "  open the layer source zarr://http://localhost:8080/volume.ome.zarr\n",
	       dir);
}
