/* Opening a command's input: an array, or one level of an OME-Zarr group (--level). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli.h"

int cli_parse_level(int *out, const char *s)
{
	int v;
	if (cli_parse_int(&v, s) < 0 || v < 0)
		return -1;
	*out = v;
	return 0;
}

/* 1 if path is a Zarr group directory (.zgroup, or zarr.json without .zarray) */
static int is_group(const char *path)
{
	char buf[4096];
	snprintf(buf, sizeof buf, "%s/.zgroup", path);
	if (access(buf, F_OK) == 0)
		return 1;
	snprintf(buf, sizeof buf, "%s/zarr.json", path);
	return access(buf, F_OK) == 0;
}

int cli_open_input(scout_array **out, const char *path, int level)
{
	*out = NULL;
	if (is_group(path)) {
		scout_ngff_multiscale ms;
		int rc = scout_ngff_read(&ms, path);
		if (rc == 0)
			return scout_ngff_open_level(out, NULL, path, level, SCOUT_MODE_READ);
		if (rc != SCOUT_ENOTFOUND)
			return rc;
	}
	if (level > 0)
		return scout__error(SCOUT_EINVAL,
				    "%s: --level %d needs an OME-Zarr group (this is not one)",
				    path, level);
	return scout_array_open(out, path, SCOUT_MODE_READ);
}
