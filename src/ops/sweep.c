/* Axis sweeps of the separable filters: see sweep.h. */
#include <stdlib.h>
#include <string.h>

#include "sweep.h"

static void axis_split(const scout__sweep *sw, int axis, size_t *outer, size_t *L, size_t *inner)
{
	size_t o = 1, in = 1;
	for (int i = 0; i < axis; i++)
		o *= (size_t)sw->shape[i];
	for (int i = axis + 1; i < sw->ndim; i++)
		in *= (size_t)sw->shape[i];
	*outer = o;
	*L = (size_t)sw->shape[axis];
	*inner = in;
}

int scout__sweep_init(scout__sweep *sw, int ndim, const int64_t *shape, const int64_t *radius,
		      size_t elem)
{
	memset(sw, 0, sizeof *sw);
	sw->ndim = ndim;
	sw->elem = elem;
	memcpy(sw->shape, shape, (size_t)ndim * sizeof(int64_t));
	size_t ext_len = 1, acc_len = 1;
	for (int a = 0; a < ndim; a++) {
		size_t outer, L, inner, m, e;
		axis_split(sw, a, &outer, &L, &inner);
		size_t width =
		    inner == 1 ? 1 : (inner < SCOUT__SWEEP_TILE ? inner : SCOUT__SWEEP_TILE);
		if (__builtin_add_overflow(L, 2 * (size_t)radius[a], &m) ||
		    __builtin_mul_overflow(m, width, &e) ||
		    __builtin_mul_overflow(e, (size_t)16, &e))
			return scout__error(SCOUT_EOVERFLOW,
					    "filter buffer for axis %d (extent %zu, radius %lld) "
					    "overflows",
					    a, L, (long long)radius[a]);
		m *= width;
		if (m > ext_len)
			ext_len = m;
		size_t acc = inner == 1 ? L : width;
		if (acc > acc_len)
			acc_len = acc;
	}
	sw->ext = malloc(ext_len * elem);
	if (!sw->ext)
		return scout__error(SCOUT_ENOMEM, "out of memory for a %zu-element filter buffer",
				    ext_len);
	sw->ext_len = ext_len;
	sw->acc_len = acc_len;
	return SCOUT_OK;
}

void scout__sweep_free(scout__sweep *sw)
{
	free(sw->ext);
	sw->ext = NULL;
}

#define LOAD_LINE(T)                                                                               \
	do {                                                                                       \
		T *e_ = sw->ext;                                                                   \
		for (size_t o = 0; o < outer; o++) {                                               \
			const float *s_ = src + o * L;                                             \
			T first_ = s_[0], last_ = s_[L - 1];                                       \
			for (size_t i = 0; i < r; i++) {                                           \
				e_[i] = first_;                                                    \
				e_[r + L + i] = last_;                                             \
			}                                                                          \
			for (size_t i = 0; i < L; i++)                                             \
				e_[r + i] = s_[i];                                                 \
			line(ctx, (const double *)(const void *)e_, (int64_t)L, out + o * L, 1);   \
		}                                                                                  \
	} while (0)

#define LOAD_TILE(T)                                                                               \
	do {                                                                                       \
		T *e_ = sw->ext;                                                                   \
		for (size_t o = 0; o < outer; o++) {                                               \
			for (size_t t0 = 0; t0 < inner; t0 += SCOUT__SWEEP_TILE) {                 \
				size_t w_ = inner - t0 < SCOUT__SWEEP_TILE ? inner - t0            \
									   : SCOUT__SWEEP_TILE;    \
				size_t base_ = o * L * inner + t0;                                 \
				for (size_t i = 0; i < L; i++) {                                   \
					const float *s_ = src + base_ + i * inner;                 \
					T *row_ = e_ + (r + i) * w_;                               \
					for (size_t j = 0; j < w_; j++)                            \
						row_[j] = s_[j];                                   \
				}                                                                  \
				for (size_t i = 0; i < r; i++) {                                   \
					memcpy(e_ + i * w_, e_ + r * w_, w_ * sizeof(T));          \
					memcpy(e_ + (r + L + i) * w_, e_ + (r + L - 1) * w_,       \
					       w_ * sizeof(T));                                    \
				}                                                                  \
				tile(ctx, (const double *)(const void *)e_, (int64_t)L,            \
				     (int64_t)w_, out + base_, (int64_t)inner);                    \
			}                                                                          \
		}                                                                                  \
	} while (0)

void scout__sweep_axis(scout__sweep *sw, float *out, const float *src, int axis, int64_t radius,
		       int kind, scout__sweep_line_fn line, scout__sweep_tile_fn tile, void *ctx)
{
	size_t outer, L, inner;
	axis_split(sw, axis, &outer, &L, &inner);
	size_t r = (size_t)radius;
	if (outer == 0 || L == 0 || inner == 0)
		return;
	if (inner == 1) {
		if (kind == scout__sweep_load_double)
			LOAD_LINE(double);
		else
			LOAD_LINE(float);
	} else {
		if (kind == scout__sweep_load_double)
			LOAD_TILE(double);
		else
			LOAD_TILE(float);
	}
}
