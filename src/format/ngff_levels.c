/* The levels of a multiscale pyramid: factor 1 or 2 per axis and level (see scout/ngff.h). */
#include <math.h>

#include "../core/internal.h"
#include "scout/ngff.h"

int scout_ngff_plan(int64_t *factors_out, int *nlevels_out, int ndim, const int64_t *shape,
		    const int64_t *chunks, const double *voxel_size, int max_levels)
{
	if (!factors_out || !nlevels_out || !shape || !chunks || ndim < 1 || ndim > SCOUT_MAX_NDIM)
		return scout__error(SCOUT_EINVAL, "scout_ngff_plan: bad arguments");
	if (max_levels < 0)
		return scout__error(SCOUT_EINVAL, "levels: %d (must be >= 1, or 0 for automatic)",
				    max_levels);
	int64_t s[SCOUT_MAX_NDIM];
	double v[SCOUT_MAX_NDIM];
	for (int i = 0; i < ndim; i++) {
		if (shape[i] < 0 || chunks[i] < 1)
			return scout__error(SCOUT_EINVAL, "scout_ngff_plan: bad shape or chunks");
		if (voxel_size && !(isfinite(voxel_size[i]) && voxel_size[i] > 0))
			return scout__error(
			    SCOUT_EINVAL, "voxel size %g on axis %d (must be positive and finite)",
			    voxel_size[i], i);
		s[i] = shape[i];
		v[i] = voxel_size ? voxel_size[i] : 1.0;
		factors_out[i] = 1;
	}
	int limit = max_levels ? max_levels : SCOUT_NGFF_MAX_LEVELS;
	if (limit > SCOUT_NGFF_MAX_LEVELS)
		limit = SCOUT_NGFF_MAX_LEVELS;
	int n = 1;
	while (n < limit) {
		int fits = 1, any = 0;
		double vmax = 0;
		for (int i = 0; i < ndim; i++) {
			fits &= s[i] <= chunks[i];
			if (s[i] > 1) {
				any = 1;
				vmax = v[i] > vmax ? v[i] : vmax;
			}
		}
		if (fits || !any)
			break;
		int64_t *f = factors_out + (size_t)n * (size_t)ndim;
		int finer = 0;
		for (int i = 0; i < ndim; i++) {
			f[i] = s[i] > 1 && v[i] * M_SQRT2 < vmax ? 2 : 1;
			finer |= f[i] == 2;
		}
		if (!finer)
			for (int i = 0; i < ndim; i++)
				f[i] = s[i] > 1 ? 2 : 1;
		for (int i = 0; i < ndim; i++) {
			s[i] = (s[i] + f[i] - 1) / f[i];
			v[i] *= (double)f[i];
		}
		n++;
	}
	*nlevels_out = n;
	return SCOUT_OK;
}
