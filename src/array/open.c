/* scout_array_open(): recognise what is at a path and open it with the right backend. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "array_impl.h"
#include "tiff_array.h"
#include "zarr_array.h"

int scout_array_open(scout_array **out, const char *path, int mode)
{
	if (!out || !path)
		return scout__error(SCOUT_EINVAL, "array_open: NULL argument");
	*out = NULL;
	if (mode & ~(SCOUT_MODE_READ | SCOUT_MODE_WRITE) || !mode)
		return scout__error(SCOUT_EINVAL, "%s: invalid open mode %d", path, mode);
	struct stat st;
	if (stat(path, &st) != 0)
		return scout__error(errno == ENOENT ? SCOUT_ENOTFOUND : SCOUT_EIO, "%s: %s", path,
				    strerror(errno));
	if (S_ISDIR(st.st_mode)) {
		/* a directory we may not search: the probe says so, not "no .zarray, no TIFFs" */
		int rc = scout__zarr_probe(path);
		if (rc < 0)
			return rc;
		if (rc)
			return scout__zarr_open(out, path, mode);
		return scout__tiff_open(out, path, mode);
	}
	if (scout__is_tiff_file(path))
		return scout__tiff_open(out, path, mode);
	/* a file we may not read: say so, not "not a TIFF" */
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return scout__error(SCOUT_EIO, "%s: cannot open: %s", path, strerror(errno));
	close(fd);
	return scout__error(SCOUT_EFORMAT,
			    "%s: not a Zarr array directory, a TIFF file or a folder of TIFFs",
			    path);
}
