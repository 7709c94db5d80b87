/* Markers drawn on RGB pictures (peaks on a projection). */
#include <stdint.h>

#include "ops_internal.h"
#include "scout/preview.h"

/* offsets (dy, dx) of each shape: see scout_marker */
static const int8_t ring[][2] = {
    {-3, -1}, {-3, 0}, {-3, 1}, {-2, -2}, {-2, 2}, {-1, -3}, {-1, 3}, {0, -3},
    {0, 3},   {1, -3}, {1, 3},  {2, -2},  {2, 2},  {3, -1},  {3, 0},  {3, 1},
};
static const int8_t plus[][2] = {{0, 0}, {-1, 0}, {1, 0}, {0, -1}, {0, 1}};

int scout_draw_marker(void *rgb, int depth, int64_t height, int64_t width, int64_t y, int64_t x,
		      scout_marker shape, const uint16_t color[3])
{
	if (!rgb || !color)
		return scout__error(SCOUT_EINVAL, "draw marker: NULL argument");
	if (depth != 8 && depth != 16)
		return scout__error(SCOUT_EINVAL, "draw marker: depth %d is not 8 or 16", depth);
	if (height < 0 || width < 0)
		return scout__error(SCOUT_EINVAL, "draw marker: bad size");
	const int8_t(*offs)[2];
	size_t n;
	if (shape == SCOUT_MARKER_RING) {
		offs = ring;
		n = sizeof ring / sizeof *ring;
	} else if (shape == SCOUT_MARKER_PLUS) {
		offs = plus;
		n = sizeof plus / sizeof *plus;
	} else {
		return scout__error(SCOUT_EINVAL, "draw marker: unknown shape %d", (int)shape);
	}
	if (depth == 8 && (color[0] > 255 || color[1] > 255 || color[2] > 255))
		return scout__error(SCOUT_EINVAL, "draw marker: colour above 255 for depth 8");
	for (size_t k = 0; k < n; k++) {
		int64_t yy = y + offs[k][0], xx = x + offs[k][1];
		if (yy < 0 || yy >= height || xx < 0 || xx >= width)
			continue;
		size_t at = ((size_t)yy * (size_t)width + (size_t)xx) * 3;
		for (int c = 0; c < 3; c++) {
			if (depth == 8)
				((uint8_t *)rgb)[at + (size_t)c] = (uint8_t)color[c];
			else
				((uint16_t *)rgb)[at + (size_t)c] = color[c];
		}
	}
	return SCOUT_OK;
}
