/*
 * Map-reduce statistics: exact integer sums (128-bit) and sums of squares,
 * double-double float sums and Chan merges of (count, sum, M2).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops_internal.h"

typedef unsigned __int128 u128;
typedef __int128 i128;

static u128 get_u128(const uint64_t w[2])
{
	return ((u128)w[1] << 64) | w[0];
}

static void put_u128(uint64_t w[2], u128 v)
{
	w[0] = (uint64_t)v;
	w[1] = (uint64_t)(v >> 64);
}

/* ---- double-double helpers ---- */

/* (s, e) = a + b exactly */
static inline void two_sum(double a, double b, double *s, double *e)
{
	double t = a + b;
	double bb = t - a;
	*e = (a - (t - bb)) + (b - bb);
	*s = t;
}

/* dd += x (an infinite or NaN total is kept as a plain double, like numpy's sum) */
static inline void dd_add_d(double dd[2], double x)
{
	if (!isfinite(dd[0] + x)) {
		dd[0] = dd[0] + x;
		dd[1] = 0;
		return;
	}
	double s, e;
	two_sum(dd[0], x, &s, &e);
	e += dd[1];
	two_sum(s, e, &dd[0], &dd[1]);
}

/* dd += (hi, lo) */
static inline void dd_add_dd(double dd[2], const double o[2])
{
	if (!isfinite(dd[0] + o[0])) {
		dd[0] = dd[0] + o[0];
		dd[1] = 0;
		return;
	}
	double s, e;
	two_sum(dd[0], o[0], &s, &e);
	e += dd[1] + o[1];
	two_sum(s, e, &dd[0], &dd[1]);
}

/* (hi + lo) / n, with the division residual carried */
static void dd_div(const double dd[2], double n, double q[2])
{
	double q1 = dd[0] / n;
	if (!isfinite(q1)) {
		q[0] = q1;
		q[1] = 0;
		return;
	}
	double r = fma(-q1, n, dd[0]) + dd[1];
	q[0] = q1;
	q[1] = r / n;
}

static int is_int_type(scout_dtype d)
{
	return d != SCOUT_FLOAT16 && d != SCOUT_FLOAT32 && d != SCOUT_FLOAT64;
}

static int uses_float_path(scout_dtype d)
{
	return !is_int_type(d) || d == SCOUT_INT64 || d == SCOUT_UINT64;
}

static int check_stats(const scout_stats *s, const char *what)
{
	if (!s)
		return scout__error(SCOUT_EINVAL, "%s: NULL accumulator", what);
	if (s->version != SCOUT_STATS_VERSION || s->dtype < 0 || s->dtype > SCOUT_FLOAT64)
		return scout__error(SCOUT_EINVAL,
				    "%s: accumulator not initialised with scout_stats_init() "
				    "(version %d, dtype %d)",
				    what, (int)s->version, (int)s->dtype);
	return SCOUT_OK;
}

int scout_stats_init(scout_stats *stats, scout_dtype dtype)
{
	if (!stats)
		return scout__error(SCOUT_EINVAL, "stats init: NULL accumulator");
	if (dtype == SCOUT_COMPLEX64 || dtype == SCOUT_COMPLEX128)
		return scout__error(SCOUT_EUNSUPPORTED, "stats: complex dtype %s is not supported",
				    scout_dtype_name(dtype));
	if ((int)dtype < 0 || dtype > SCOUT_FLOAT64)
		return scout__error(SCOUT_EINVAL, "stats init: invalid dtype %d", (int)dtype);
	memset(stats, 0, sizeof *stats);
	stats->version = SCOUT_STATS_VERSION;
	stats->dtype = (int32_t)dtype;
	stats->imin = INT64_MAX;
	stats->imax = INT64_MIN;
	stats->umin = UINT64_MAX;
	stats->umax = 0;
	stats->fmin = INFINITY;
	stats->fmax = -INFINITY;
	return SCOUT_OK;
}

/* Chan merge of (n, sum, M2) into the accumulator's float state */
static void merge_float_state(scout_stats *a, uint64_t nb, const double sb[2], const double m2b[2])
{
	uint64_t na = a->count; /* count before this merge */
	if (nb == 0)
		return;
	if (na == 0) {
		memcpy(a->fsum, sb, sizeof a->fsum);
		memcpy(a->fm2, m2b, sizeof a->fm2);
		return;
	}
	double ma[2], mb[2];
	dd_div(a->fsum, (double)na, ma);
	dd_div(sb, (double)nb, mb);
	double delta = (mb[0] - ma[0]) + (mb[1] - ma[1]);
	double nn = (double)na + (double)nb;
	double t = delta * delta * ((double)na * ((double)nb / nn));
	dd_add_dd(a->fm2, m2b);
	dd_add_d(a->fm2, t);
	dd_add_dd(a->fsum, sb);
}

/*
 * Float path, in blocks of BLOCK values converted to double: each pass over
 * a block is a branch-free loop over LANES independent lanes (vectorised),
 * whose lane sums are then added to a double-double total. NaNs count as
 * excluded (masked to 0).
 */
#define BLOCK 256
#define LANES 8

/* GCC/clang vector extensions: 2 doubles, masks as 2 int64 (all ones = true) */
typedef double v2d __attribute__((vector_size(16)));
typedef int64_t v2l __attribute__((vector_size(16)));

static inline v2d vload(const double *p)
{
	v2d v;
	memcpy(&v, p, sizeof v);
	return v;
}

static inline v2d vsel(v2l mask, v2d a, v2d b) /* mask ? a : b */
{
	return (v2d)(((v2l)a & mask) | ((v2l)b & ~mask));
}

/* lanes 0..7 of four 2-vectors, in a fixed order */
static inline double hsum(const v2d a[4])
{
	return ((a[0][0] + a[0][1]) + (a[1][0] + a[1][1])) +
	       ((a[2][0] + a[2][1]) + (a[3][0] + a[3][1]));
}

static void block_pass1(const double *restrict b, size_t m, double *bsum, uint64_t *bcnt,
			double *restrict mn, double *restrict mx)
{
	const v2d zero = {0, 0}, one = {1, 1};
	v2d s[4], c[4], lo[4], hi[4];
	for (int k = 0; k < 4; k++) {
		s[k] = c[k] = zero;
		lo[k] = vload(mn + 2 * k);
		hi[k] = vload(mx + 2 * k);
	}
	size_t i = 0;
	for (; i + 8 <= m; i += 8) {
		for (int k = 0; k < 4; k++) {
			v2d v = vload(b + i + 2 * k);
			v2l ok = v == v;
			s[k] += vsel(ok, v, zero);
			c[k] += vsel(ok, one, zero);
			lo[k] = vsel(v < lo[k], v, lo[k]);
			hi[k] = vsel(v > hi[k], v, hi[k]);
		}
	}
	for (int k = 0; k < 4; k++) {
		memcpy(mn + 2 * k, &lo[k], sizeof lo[k]);
		memcpy(mx + 2 * k, &hi[k], sizeof hi[k]);
	}
	double t = hsum(s), cc = hsum(c);
	for (; i < m; i++) {
		double v = b[i];
		if (v == v) {
			t += v;
			cc += 1;
			mn[0] = v < mn[0] ? v : mn[0];
			mx[0] = v > mx[0] ? v : mx[0];
		}
	}
	*bsum = t;
	*bcnt = (uint64_t)cc;
}

static void block_pass2(const double *restrict b, size_t m, double mean, double *s1, double *s2)
{
	const v2d zero = {0, 0}, vm = {mean, mean};
	v2d a[4], q[4];
	for (int k = 0; k < 4; k++)
		a[k] = q[k] = zero;
	size_t i = 0;
	for (; i + 8 <= m; i += 8) {
		for (int k = 0; k < 4; k++) {
			v2d v = vload(b + i + 2 * k);
			v2d d = vsel(v == v, v - vm, zero);
			a[k] += d;
			q[k] += d * d;
		}
	}
	double t1 = hsum(a), t2 = hsum(q);
	for (; i < m; i++) {
		double v = b[i];
		if (v == v) {
			t1 += v - mean;
			t2 += (v - mean) * (v - mean);
		}
	}
	*s1 = t1;
	*s2 = t2;
}

#define FLOAT_UPDATE(GET)                                                                          \
	do {                                                                                       \
		uint64_t cnt_ = 0;                                                                 \
		double sum_[2] = {0, 0}, buf_[BLOCK];                                              \
		double mn_[LANES], mx_[LANES];                                                     \
		for (int l = 0; l < LANES; l++) {                                                  \
			mn_[l] = stats->fmin;                                                      \
			mx_[l] = stats->fmax;                                                      \
		}                                                                                  \
		for (size_t b0 = 0; b0 < n; b0 += BLOCK) {                                         \
			size_t m_ = n - b0 < BLOCK ? n - b0 : BLOCK;                               \
			for (size_t i = 0; i < m_; i++)                                            \
				buf_[i] = GET(b0 + i);                                             \
			double bs_;                                                                \
			uint64_t bc_;                                                              \
			block_pass1(buf_, m_, &bs_, &bc_, mn_, mx_);                               \
			dd_add_d(sum_, bs_);                                                       \
			cnt_ += bc_;                                                               \
		}                                                                                  \
		for (int l = 0; l < LANES; l++) {                                                  \
			stats->fmin = mn_[l] < stats->fmin ? mn_[l] : stats->fmin;                 \
			stats->fmax = mx_[l] > stats->fmax ? mx_[l] : stats->fmax;                 \
		}                                                                                  \
		stats->nan_count += n - cnt_;                                                      \
		if (cnt_ == 0)                                                                     \
			break;                                                                     \
		double m_ = (sum_[0] + sum_[1]) / (double)cnt_;                                    \
		double s1_[2] = {0, 0}, s2_[2] = {0, 0};                                           \
		for (size_t b0 = 0; b0 < n; b0 += BLOCK) {                                         \
			size_t k_ = n - b0 < BLOCK ? n - b0 : BLOCK;                               \
			for (size_t i = 0; i < k_; i++)                                            \
				buf_[i] = GET(b0 + i);                                             \
			double t1_, t2_;                                                           \
			block_pass2(buf_, k_, m_, &t1_, &t2_);                                     \
			dd_add_d(s1_, t1_);                                                        \
			dd_add_d(s2_, t2_);                                                        \
		}                                                                                  \
		double s1v_ = s1_[0] + s1_[1];                                                     \
		dd_add_d(s2_, -(s1v_ * s1v_) / (double)cnt_);                                      \
		if (s2_[0] + s2_[1] < 0) {                                                         \
			s2_[0] = 0;                                                                \
			s2_[1] = 0;                                                                \
		}                                                                                  \
		merge_float_state(stats, cnt_, sum_, s2_);                                         \
		stats->count += cnt_;                                                              \
	} while (0)

#define LOAD(T, i)                                                                                 \
	({                                                                                         \
		T v__;                                                                             \
		memcpy(&v__, (const unsigned char *)data + (i) * sizeof(T), sizeof(T));            \
		v__;                                                                               \
	})
#define GET_F32(i) ((double)LOAD(float, i))
#define GET_F64(i) LOAD(double, i)
#define GET_F16(i) ((double)scout__half_to_float(LOAD(uint16_t, i)))
#define GET_I64(i) ((double)LOAD(int64_t, i))
#define GET_U64(i) ((double)LOAD(uint64_t, i))

/*
 * 8/16/32-bit integers: exact sums in blocks of 65536 values, then 128-bit.
 * A block's sum fits int64; its sum of squares fits uint64 for 8/16-bit
 * values (squares < 2^32, so < 2^48 per block) and Q = u128 for 32-bit ones.
 */
#define SMALL_SIGNED(T, Q)                                                                         \
	do {                                                                                       \
		i128 sum_ = (i128)get_u128(stats->isum);                                           \
		u128 sq_ = get_u128(stats->isumsq);                                                \
		int64_t mn_ = stats->imin, mx_ = stats->imax;                                      \
		for (size_t b0 = 0; b0 < n; b0 += 65536) {                                         \
			size_t b1 = b0 + 65536 < n ? b0 + 65536 : n;                               \
			int64_t s_ = 0;                                                            \
			Q q_ = 0;                                                                  \
			for (size_t i = b0; i < b1; i++) {                                         \
				int64_t v_ = LOAD(T, i);                                           \
				s_ += v_;                                                          \
				q_ += (uint64_t)(v_ * v_);                                         \
				mn_ = v_ < mn_ ? v_ : mn_;                                         \
				mx_ = v_ > mx_ ? v_ : mx_;                                         \
			}                                                                          \
			sum_ += s_;                                                                \
			sq_ += q_;                                                                 \
		}                                                                                  \
		put_u128(stats->isum, (u128)sum_);                                                 \
		put_u128(stats->isumsq, sq_);                                                      \
		stats->imin = mn_;                                                                 \
		stats->imax = mx_;                                                                 \
		stats->count += n;                                                                 \
	} while (0)

#define SMALL_UNSIGNED(T, Q)                                                                       \
	do {                                                                                       \
		u128 sum_ = get_u128(stats->isum);                                                 \
		u128 sq_ = get_u128(stats->isumsq);                                                \
		uint64_t mn_ = stats->umin, mx_ = stats->umax;                                     \
		for (size_t b0 = 0; b0 < n; b0 += 65536) {                                         \
			size_t b1 = b0 + 65536 < n ? b0 + 65536 : n;                               \
			uint64_t s_ = 0;                                                           \
			Q q_ = 0;                                                                  \
			for (size_t i = b0; i < b1; i++) {                                         \
				uint64_t v_ = LOAD(T, i);                                          \
				s_ += v_;                                                          \
				q_ += v_ * v_;                                                     \
				mn_ = v_ < mn_ ? v_ : mn_;                                         \
				mx_ = v_ > mx_ ? v_ : mx_;                                         \
			}                                                                          \
			sum_ += s_;                                                                \
			sq_ += q_;                                                                 \
		}                                                                                  \
		put_u128(stats->isum, sum_);                                                       \
		put_u128(stats->isumsq, sq_);                                                      \
		stats->umin = mn_;                                                                 \
		stats->umax = mx_;                                                                 \
		stats->count += n;                                                                 \
	} while (0)

int scout_stats_update(scout_stats *stats, const void *data, size_t n)
{
	int rc = check_stats(stats, "stats update");
	if (rc < 0)
		return rc;
	if (n == 0)
		return SCOUT_OK;
	if (!data)
		return scout__error(SCOUT_EINVAL, "stats update: NULL data");
	switch ((scout_dtype)stats->dtype) {
	case SCOUT_BOOL: {
		/* any non-zero byte is True (1) */
		const unsigned char *b = data;
		uint64_t ones = 0;
		for (size_t i = 0; i < n; i++)
			ones += b[i] != 0;
		u128 sum = get_u128(stats->isum) + ones;
		put_u128(stats->isum, sum);
		put_u128(stats->isumsq, get_u128(stats->isumsq) + ones);
		if (ones > 0)
			stats->imax = 1;
		else if (stats->imax < 0)
			stats->imax = 0;
		if (ones < n)
			stats->imin = 0;
		else if (stats->imin > 1)
			stats->imin = 1;
		stats->count += n;
		break;
	}
	case SCOUT_INT8:
		SMALL_SIGNED(int8_t, uint64_t);
		break;
	case SCOUT_INT16:
		SMALL_SIGNED(int16_t, uint64_t);
		break;
	case SCOUT_INT32:
		SMALL_SIGNED(int32_t, u128);
		break;
	case SCOUT_UINT8:
		SMALL_UNSIGNED(uint8_t, uint64_t);
		break;
	case SCOUT_UINT16:
		SMALL_UNSIGNED(uint16_t, uint64_t);
		break;
	case SCOUT_UINT32:
		SMALL_UNSIGNED(uint32_t, u128);
		break;
	case SCOUT_INT64: {
		i128 sum = (i128)get_u128(stats->isum);
		int64_t mn = stats->imin, mx = stats->imax;
		for (size_t i = 0; i < n; i++) {
			int64_t v = LOAD(int64_t, i);
			sum += v;
			mn = v < mn ? v : mn;
			mx = v > mx ? v : mx;
		}
		put_u128(stats->isum, (u128)sum);
		stats->imin = mn;
		stats->imax = mx;
		FLOAT_UPDATE(GET_I64);
		break;
	}
	case SCOUT_UINT64: {
		u128 sum = get_u128(stats->isum);
		uint64_t mn = stats->umin, mx = stats->umax;
		for (size_t i = 0; i < n; i++) {
			uint64_t v = LOAD(uint64_t, i);
			sum += v;
			mn = v < mn ? v : mn;
			mx = v > mx ? v : mx;
		}
		put_u128(stats->isum, sum);
		stats->umin = mn;
		stats->umax = mx;
		FLOAT_UPDATE(GET_U64);
		break;
	}
	case SCOUT_FLOAT16:
		FLOAT_UPDATE(GET_F16);
		break;
	case SCOUT_FLOAT32:
		FLOAT_UPDATE(GET_F32);
		break;
	case SCOUT_FLOAT64:
		FLOAT_UPDATE(GET_F64);
		break;
	default:
		return scout__error(SCOUT_EINVAL, "stats update: invalid dtype %d",
				    (int)stats->dtype);
	}
	return SCOUT_OK;
}

int scout_stats_merge(scout_stats *into, const scout_stats *from)
{
	int rc;
	if ((rc = check_stats(into, "stats merge")) < 0 ||
	    (rc = check_stats(from, "stats merge")) < 0)
		return rc;
	if (into->dtype != from->dtype)
		return scout__error(SCOUT_EINVAL, "stats merge: dtypes differ (%s and %s)",
				    scout_dtype_name((scout_dtype)into->dtype),
				    scout_dtype_name((scout_dtype)from->dtype));
	if (into == from) {
		scout_stats copy = *from;
		return scout_stats_merge(into, &copy);
	}
	scout_dtype d = (scout_dtype)into->dtype;
	if (uses_float_path(d))
		merge_float_state(into, from->count, from->fsum, from->fm2);
	put_u128(into->isum, get_u128(into->isum) + get_u128(from->isum));
	put_u128(into->isumsq, get_u128(into->isumsq) + get_u128(from->isumsq));
	into->imin = from->imin < into->imin ? from->imin : into->imin;
	into->imax = from->imax > into->imax ? from->imax : into->imax;
	into->umin = from->umin < into->umin ? from->umin : into->umin;
	into->umax = from->umax > into->umax ? from->umax : into->umax;
	into->fmin = from->fmin < into->fmin ? from->fmin : into->fmin;
	into->fmax = from->fmax > into->fmax ? from->fmax : into->fmax;
	into->count += from->count;
	into->nan_count += from->nan_count;
	return SCOUT_OK;
}

/* decimal text of a 128-bit magnitude with a sign */
static void fmt_u128(char *buf, size_t size, int neg, u128 u)
{
	char tmp[48];
	int pos = 0;
	do {
		tmp[pos++] = (char)('0' + (int)(u % 10));
		u /= 10;
	} while (u);
	size_t o = 0;
	if (neg && o + 1 < size)
		buf[o++] = '-';
	while (pos > 0 && o + 1 < size)
		buf[o++] = tmp[--pos];
	buf[o] = '\0';
}

/* 192-bit unsigned value as three 64-bit limbs, low first */
typedef struct {
	uint64_t w[3];
} u192;

static u192 mul_u128_u64(u128 a, uint64_t b)
{
	u128 lo = (u128)(uint64_t)a * b;
	u128 hi = (u128)(uint64_t)(a >> 64) * b + (lo >> 64);
	u192 r = {{(uint64_t)lo, (uint64_t)hi, (uint64_t)(hi >> 64)}};
	return r;
}

static u192 sqr_u128(u128 a) /* a < 2^96 */
{
	uint64_t l = (uint64_t)a, h = (uint64_t)(a >> 64);
	u128 ll = (u128)l * l, lh = (u128)l * h, hh = (u128)h * h;
	/* a^2 = ll + 2 lh 2^64 + hh 2^128 */
	u128 mid = (ll >> 64) + (uint64_t)lh * (u128)2;
	uint64_t w0 = (uint64_t)ll;
	uint64_t w1 = (uint64_t)mid;
	u128 top = (mid >> 64) + (lh >> 64) * 2 + hh;
	u192 r = {{w0, w1, (uint64_t)top}};
	return r;
}

static u192 sub_u192(u192 a, u192 b)
{
	u192 r;
	unsigned borrow = 0;
	for (int i = 0; i < 3; i++) {
		u128 d = (u128)a.w[i] - b.w[i] - borrow;
		r.w[i] = (uint64_t)d;
		borrow = (unsigned)((d >> 64) != 0);
	}
	return r;
}

static double u192_to_double(u192 a)
{
	return ldexp((double)a.w[2], 128) + ldexp((double)a.w[1], 64) + (double)a.w[0];
}

/* clamp rounding below 0 to 0, keeping NaN (fmax would turn NaN into 0) */
static double nonneg(double v)
{
	return v < 0 ? 0 : v;
}

static void fmt_double(char *buf, size_t size, double v)
{
	if (isnan(v))
		snprintf(buf, size, "nan");
	else
		snprintf(buf, size, "%.17g", v);
}

int scout_stats_finish(scout_stats_result *out, const scout_stats *stats)
{
	if (!out)
		return scout__error(SCOUT_EINVAL, "stats finish: NULL result");
	int rc = check_stats(stats, "stats finish");
	if (rc < 0)
		return rc;
	memset(out, 0, sizeof *out);
	scout_dtype d = (scout_dtype)stats->dtype;
	uint64_t n = stats->count;
	out->count = n;
	out->nan_count = stats->nan_count;
	out->min = out->max = out->mean = out->std = NAN;
	out->sum = 0;
	if (is_int_type(d)) {
		int uns =
		    d == SCOUT_UINT8 || d == SCOUT_UINT16 || d == SCOUT_UINT32 || d == SCOUT_UINT64;
		u128 usum = get_u128(stats->isum);
		i128 ssum = (i128)usum;
		out->sum = uns ? (double)usum : (double)ssum;
		if (uns)
			fmt_u128(out->sum_str, sizeof out->sum_str, 0, usum);
		else
			fmt_u128(out->sum_str, sizeof out->sum_str, ssum < 0,
				 ssum < 0 ? (u128)0 - usum : usum);
		if (n == 0) {
			snprintf(out->min_str, sizeof out->min_str, "nan");
			snprintf(out->max_str, sizeof out->max_str, "nan");
			return SCOUT_OK;
		}
		if (uns) {
			out->min = (double)stats->umin;
			out->max = (double)stats->umax;
			snprintf(out->min_str, sizeof out->min_str, "%llu",
				 (unsigned long long)stats->umin);
			snprintf(out->max_str, sizeof out->max_str, "%llu",
				 (unsigned long long)stats->umax);
		} else {
			out->min = (double)stats->imin;
			out->max = (double)stats->imax;
			snprintf(out->min_str, sizeof out->min_str, "%lld", (long long)stats->imin);
			snprintf(out->max_str, sizeof out->max_str, "%lld", (long long)stats->imax);
		}
		out->mean = out->sum / (double)n;
		if (d == SCOUT_INT64 || d == SCOUT_UINT64) {
			out->std = sqrt(nonneg(stats->fm2[0] + stats->fm2[1]) / (double)n);
		} else {
			/* n * sumsq - sum^2 >= 0, exactly, in 192 bits */
			u128 absum = ssum < 0 ? (u128)0 - (u128)ssum : (u128)ssum;
			if (uns)
				absum = usum;
			u192 num =
			    sub_u192(mul_u128_u64(get_u128(stats->isumsq), n), sqr_u128(absum));
			out->std = sqrt(u192_to_double(num) / (double)n / (double)n);
		}
		return SCOUT_OK;
	}
	out->sum = stats->fsum[0] + stats->fsum[1];
	fmt_double(out->sum_str, sizeof out->sum_str, out->sum);
	if (n == 0) {
		snprintf(out->min_str, sizeof out->min_str, "nan");
		snprintf(out->max_str, sizeof out->max_str, "nan");
		return SCOUT_OK;
	}
	out->min = stats->fmin;
	out->max = stats->fmax;
	fmt_double(out->min_str, sizeof out->min_str, out->min);
	fmt_double(out->max_str, sizeof out->max_str, out->max);
	double q[2];
	dd_div(stats->fsum, (double)n, q);
	out->mean = q[0] + q[1];
	out->std = sqrt(nonneg(stats->fm2[0] + stats->fm2[1]) / (double)n);
	return SCOUT_OK;
}

/* ---- JSON ---- */

struct sbuf {
	char *p;
	size_t len, cap;
	int failed;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...) SCOUT_PRINTF(2, 3);
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	if (b->failed)
		return;
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = 1;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap * 2 + (size_t)n + 64;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->failed = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
}

/* a double as a JSON number (round-trip) or null */
static void sb_num(struct sbuf *b, double v)
{
	if (isfinite(v))
		sb_printf(b, "%.17g", v);
	else
		sb_printf(b, "null");
}

/* an exact decimal string, or null for "nan"/"inf" */
static void sb_numstr(struct sbuf *b, const char *s)
{
	if (strchr(s, 'n') || strchr(s, 'i'))
		sb_printf(b, "null");
	else
		sb_printf(b, "%s", s);
}

int scout_stats_to_json(char **json_out, const scout_stats *stats, const uint64_t *counts,
			size_t bins, double lo, double hi)
{
	if (!json_out)
		return scout__error(SCOUT_EINVAL, "stats json: NULL output");
	*json_out = NULL;
	scout_stats_result r;
	int rc = scout_stats_finish(&r, stats);
	if (rc < 0)
		return rc;
	double *edges = NULL;
	if (counts) {
		if (bins == 0 || bins > SIZE_MAX / sizeof(double) - 1)
			return scout__error(SCOUT_EINVAL, "stats json: bad number of bins %zu",
					    bins);
		edges = malloc((bins + 1) * sizeof(double));
		if (!edges)
			return scout__error(SCOUT_ENOMEM, "stats json: out of memory");
		if ((rc = scout_histogram_edges(edges, bins, lo, hi)) < 0) {
			free(edges);
			return rc;
		}
	}
	struct sbuf b = {malloc(256), 0, 256, 0};
	if (!b.p)
		b.failed = 1;
	sb_printf(&b, "{\"dtype\": \"%s\", \"count\": %llu, \"nan_count\": %llu, \"sum\": ",
		  scout_dtype_name((scout_dtype)stats->dtype), (unsigned long long)r.count,
		  (unsigned long long)r.nan_count);
	sb_numstr(&b, r.sum_str);
	sb_printf(&b, ", \"min\": ");
	sb_numstr(&b, r.min_str);
	sb_printf(&b, ", \"max\": ");
	sb_numstr(&b, r.max_str);
	sb_printf(&b, ", \"mean\": ");
	sb_num(&b, r.mean);
	sb_printf(&b, ", \"std\": ");
	sb_num(&b, r.std);
	if (counts) {
		sb_printf(&b, ", \"histogram\": {\"bins\": %zu, \"range\": [", bins);
		sb_num(&b, lo);
		sb_printf(&b, ", ");
		sb_num(&b, hi);
		sb_printf(&b, "], \"edges\": [");
		for (size_t i = 0; i <= bins; i++) {
			if (i)
				sb_printf(&b, ", ");
			sb_num(&b, edges[i]);
		}
		sb_printf(&b, "], \"counts\": [");
		for (size_t i = 0; i < bins; i++)
			sb_printf(&b, "%s%llu", i ? ", " : "", (unsigned long long)counts[i]);
		sb_printf(&b, "]}");
	}
	sb_printf(&b, "}");
	free(edges);
	if (b.failed) {
		free(b.p);
		return scout__error(SCOUT_ENOMEM, "stats json: out of memory");
	}
	*json_out = b.p;
	return SCOUT_OK;
}
