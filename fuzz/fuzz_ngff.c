/*
 * Fuzz target "ngff": OME-Zarr multiscales metadata (src/format/ngff.c).
 *
 * Input layout: [0] bit 0 set: the rest is a group's zarr.json (NGFF 0.5,
 * attributes.ome); clear: the rest is a group's .zattrs (NGFF 0.4, next to a
 * .zgroup). The file is written to a scratch group and read with
 * scout_ngff_read().
 * Properties: failures are SCOUT_ENOTFOUND, SCOUT_EFORMAT or
 * SCOUT_EUNSUPPORTED and name the file; what reads passes scout_ngff_check(),
 * and scout_ngff_write() to a second group then scout_ngff_read() of it gives
 * the same description, field for field.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "scout/ngff.h"
#include "scout/scout.h"

static char ngff_dirs[2][256];

static void ngff_clear(const char *dir)
{
	static const char *const names[] = {"zarr.json", ".zattrs", ".zgroup"};
	char path[320];
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		unlink(path);
	}
}

static void ngff_remove(void)
{
	for (int i = 0; i < 2; i++) {
		ngff_clear(ngff_dirs[i]);
		rmdir(ngff_dirs[i]);
	}
}

static void ngff_scratch(void)
{
	if (ngff_dirs[0][0])
		return;
	const char *tmp = getenv("TMPDIR");
	for (int i = 0; i < 2; i++) {
		snprintf(ngff_dirs[i], sizeof ngff_dirs[i], "%s/scout-fuzz-ngff-XXXXXX",
			 tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(ngff_dirs[i])) {
			perror("mkdtemp");
			abort();
		}
	}
	atexit(ngff_remove);
}

static void ngff_put(const char *dir, const char *name, const void *data, size_t size)
{
	char path[320];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	SCOUT_FUZZ_ASSERT(f != NULL);
	SCOUT_FUZZ_ASSERT(fwrite(data, 1, size, f) == size);
	SCOUT_FUZZ_ASSERT(fclose(f) == 0);
}

int scout_fuzz_ngff(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	ngff_scratch();
	const char *in = ngff_dirs[0], *out = ngff_dirs[1];
	ngff_clear(in);
	ngff_clear(out);
	int v3 = data[0] & 1;
	if (v3) {
		ngff_put(in, "zarr.json", data + 1, size - 1);
	} else {
		static const char zgroup[] = "{\n    \"zarr_format\": 2\n}";
		ngff_put(in, ".zgroup", zgroup, sizeof zgroup - 1);
		ngff_put(in, ".zattrs", data + 1, size - 1);
	}
	scout_ngff_multiscale ms;
	int rc = scout_ngff_read(&ms, in);
	if (rc < 0) {
		if (!(rc == SCOUT_ENOTFOUND || rc == SCOUT_EFORMAT || rc == SCOUT_EUNSUPPORTED))
			fprintf(stderr, "rc %d: %s\n", rc, scout_last_error());
		SCOUT_FUZZ_ASSERT(rc == SCOUT_ENOTFOUND || rc == SCOUT_EFORMAT ||
				  rc == SCOUT_EUNSUPPORTED);
		if (!strstr(scout_last_error(), in))
			fprintf(stderr, "message without the group: %s\n", scout_last_error());
		SCOUT_FUZZ_ASSERT(strstr(scout_last_error(), in) != NULL);
		return 0;
	}
	rc = scout_ngff_check(&ms);
	if (rc < 0)
		fprintf(stderr, "read gave metadata that fails the check: %s\n",
			scout_last_error());
	SCOUT_FUZZ_ASSERT(rc == 0);
	SCOUT_FUZZ_ASSERT(!strcmp(ms.ngff_version, v3 ? "0.5" : "0.4"));
	rc = scout_ngff_write(out, &ms);
	if (rc < 0)
		fprintf(stderr, "write: %s\n", scout_last_error());
	SCOUT_FUZZ_ASSERT(rc == 0);
	scout_ngff_multiscale back;
	rc = scout_ngff_read(&back, out);
	if (rc < 0)
		fprintf(stderr, "re-read: %s\n", scout_last_error());
	SCOUT_FUZZ_ASSERT(rc == 0);
	SCOUT_FUZZ_ASSERT(back.version == ms.version && back.ndim == ms.ndim &&
			  back.nlevels == ms.nlevels);
	SCOUT_FUZZ_ASSERT(!strcmp(back.ngff_version, ms.ngff_version) &&
			  !strcmp(back.name, ms.name) && !strcmp(back.type, ms.type));
	for (int i = 0; i < ms.ndim; i++)
		SCOUT_FUZZ_ASSERT(!strcmp(back.axis_name[i], ms.axis_name[i]) &&
				  !strcmp(back.axis_type[i], ms.axis_type[i]) &&
				  !strcmp(back.axis_unit[i], ms.axis_unit[i]));
	for (int l = 0; l < ms.nlevels; l++) {
		SCOUT_FUZZ_ASSERT(!strcmp(back.path[l], ms.path[l]));
		SCOUT_FUZZ_ASSERT(back.has_translation[l] == ms.has_translation[l]);
		for (int i = 0; i < ms.ndim; i++) {
			SCOUT_FUZZ_ASSERT(back.scale[l][i] == ms.scale[l][i]);
			SCOUT_FUZZ_ASSERT(!ms.has_translation[l] ||
					  back.translation[l][i] == ms.translation[l][i]);
		}
	}
	return 0;
}
