/* The tqdm-like progress bar (see progress.h). */
#include <limits.h>
#include <string.h>
#include <time.h>

#include "progress.h"

double scout__now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* "MM:SS", or "H:MM:SS" from an hour on; "?" for an unknown duration */
static void fmt_duration(char *buf, size_t bufsize, double s)
{
	if (!(s >= 0) || s > 1e9) {
		snprintf(buf, bufsize, "?");
		return;
	}
	unsigned long t = (unsigned long)(s + 0.5);
	unsigned long h = t / 3600, m = t / 60 % 60, sec = t % 60;
	if (h)
		snprintf(buf, bufsize, "%lu:%02lu:%02lu", h, m, sec);
	else
		snprintf(buf, bufsize, "%02lu:%02lu", m, sec);
}

void scout__progress_format(char *buf, size_t bufsize, const char *desc, size_t done, size_t total,
			    double elapsed, int width)
{
	char el[32], eta[32], rate[32];
	double frac = total ? (double)done / (double)total : 1.0;
	if (frac > 1)
		frac = 1;
	double r = elapsed > 0 ? (double)done / elapsed : 0;
	fmt_duration(el, sizeof el, elapsed);
	if (r > 0)
		fmt_duration(eta, sizeof eta, (double)(total > done ? total - done : 0) / r);
	else
		snprintf(eta, sizeof eta, "?");
	if (r <= 0)
		snprintf(rate, sizeof rate, "?it/s");
	else if (r >= 1)
		snprintf(rate, sizeof rate, "%.2fit/s", r);
	else
		snprintf(rate, sizeof rate, "%.2fs/it", 1 / r);

	int pct = 100;
	if (total && done < total)
		pct = done <= ULLONG_MAX / 100 ? (int)((unsigned long long)done * 100 / total)
					       : (int)(frac * 100);
	char bar[256];
	if (width < 1)
		width = 1;
	if (width > (int)sizeof bar - 1)
		width = (int)sizeof bar - 1;
	/*
	 * ASCII like tqdm(ascii=True): '#' per full cell, a digit for the tenths of
	 * the partial one; in integers, so 42/100 of 30 cells is exactly 12.6.
	 */
	size_t d = done < total ? done : total;
	unsigned long long tenths = (unsigned long long)width * 10;
	if (total && d <= ULLONG_MAX / tenths)
		tenths = tenths * d / total;
	else if (total)
		tenths = (unsigned long long)(frac * (double)tenths);
	int full = (int)(tenths / 10), part = (int)(tenths % 10);
	int i = 0;
	for (; i < full; i++)
		bar[i] = '#';
	if (i < width)
		bar[i++] = part > 0 ? (char)('0' + part) : ' ';
	for (; i < width; i++)
		bar[i] = ' ';
	bar[width] = '\0';
	snprintf(buf, bufsize, "%s%s%3d%%|%s| %zu/%zu [%s<%s, %s]", desc && *desc ? desc : "",
		 desc && *desc ? ": " : "", pct, bar, done, total, el, eta, rate);
}

static void draw(scout__progress *p, double now, int final)
{
	char line[512];
	scout__progress_format(line, sizeof line, p->desc, p->done, p->total, now - p->t0,
			       p->width);
	fprintf(p->out, "\r%s%s", line, final ? "\n" : "");
	fflush(p->out);
	p->last_draw = now;
}

void scout__progress_init(scout__progress *p, FILE *out, const char *desc, size_t total)
{
	memset(p, 0, sizeof *p);
	p->out = out;
	if (desc)
		snprintf(p->desc, sizeof p->desc, "%s", desc);
	p->total = total;
	p->width = 30;
	p->min_interval = 0.1;
	p->t0 = scout__now();
	p->last_draw = -1;
	if (out)
		draw(p, p->t0, 0);
}

void scout__progress_update(scout__progress *p, size_t done)
{
	if (!p->out)
		return;
	p->done = done;
	double now = scout__now();
	if (now - p->last_draw >= p->min_interval)
		draw(p, now, 0);
}

void scout__progress_add(scout__progress *p, size_t n)
{
	scout__progress_update(p, p->done + n);
}

void scout__progress_finish(scout__progress *p)
{
	if (!p->out)
		return;
	draw(p, scout__now(), 1);
	p->out = NULL;
}
