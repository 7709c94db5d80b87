/*
 * Fuzz target "codec_spec": the --codec SPEC of `scout convert` and `scout
 * pyramid` (src/cli/codec_spec.c, compiled into this target as it is into
 * the CLI). A SPEC starting with '[' is a Zarr v3 codec list, which the CLI
 * hands to scout_zarr_create(): here it is parsed and built into a pipeline
 * for a 2-D uint16 chunk (scout__pipeline_new), as the array layer does.
 * Anything else goes through cli_codec_spec() (short forms and numcodecs
 * JSON), and the compressor it gives is mapped to v3 form
 * (scout__compressor_to_v3) and built into a chain after "bytes".
 * Properties: cli_codec_spec() fails with SCOUT_EINVAL and a message quoting
 * the spec's start, or gives "null" or a JSON object with a string "id";
 * every short form it accepts (no '{') gives a chain the pipeline accepts; a
 * pipeline's normalised chain builds the same pipeline again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/codec_spec.c"
#include "codec/pipeline.h"
#include "format/zarr_meta.h"
#include "fuzz.h"

static const scout_chunk_spec codec_spec_chunk = {SCOUT_UINT16, 2, 2, {8, 8}};

/* Build a pipeline from chain; 1 on success. Properties of the normalised chain. */
static int codec_spec_pipeline(const json_t *chain)
{
	scout_pipeline *p;
	int rc = scout__pipeline_new(&p, chain, &codec_spec_chunk, "fuzz/--codec");
	if (rc < 0) {
		if (!(rc == SCOUT_EFORMAT || rc == SCOUT_EUNSUPPORTED))
			fprintf(stderr, "rc %d: %s\n", rc, scout_last_error());
		SCOUT_FUZZ_ASSERT(rc == SCOUT_EFORMAT || rc == SCOUT_EUNSUPPORTED);
		return 0;
	}
	json_t *norm = scout__pipeline_json(p);
	SCOUT_FUZZ_ASSERT(norm != NULL);
	scout_pipeline *p2;
	rc = scout__pipeline_new(&p2, norm, &codec_spec_chunk, "fuzz/--codec");
	SCOUT_FUZZ_ASSERT(rc == 0);
	json_t *norm2 = scout__pipeline_json(p2);
	SCOUT_FUZZ_ASSERT(norm2 && json_equal(norm, norm2));
	json_decref(norm2);
	json_decref(norm);
	scout__pipeline_free(p2);
	scout__pipeline_free(p);
	return 1;
}

int scout_fuzz_codec_spec(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	char *spec = malloc(size + 1);
	SCOUT_FUZZ_ASSERT(spec != NULL);
	memcpy(spec, data, size);
	spec[size] = '\0';
	const char *s = spec;
	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	if (*s == '[') {
		json_t *list = json_loads(s, JSON_REJECT_DUPLICATES, NULL);
		if (list)
			codec_spec_pipeline(list);
		json_decref(list);
		free(spec);
		return 0;
	}
	char *json = NULL;
	int rc = cli_codec_spec(&json, spec);
	if (rc < 0) {
		SCOUT_FUZZ_ASSERT(rc == SCOUT_EINVAL);
		SCOUT_FUZZ_ASSERT(json == NULL);
		SCOUT_FUZZ_ASSERT(scout_last_error()[0] != '\0');
		free(spec);
		return 0;
	}
	SCOUT_FUZZ_ASSERT(json != NULL);
	json_t *comp = json_loads(json, JSON_DECODE_ANY, NULL);
	SCOUT_FUZZ_ASSERT(comp != NULL);
	SCOUT_FUZZ_ASSERT(json_is_null(comp) ||
			  (json_is_object(comp) && json_is_string(json_object_get(comp, "id"))));
	json_t *v3 = NULL;
	rc = scout__compressor_to_v3(&v3, json_is_null(comp) ? NULL : comp, 2, "fuzz/--codec");
	int short_form = !strchr(spec, '{');
	if (rc < 0) {
		if (short_form)
			fprintf(stderr, "short form '%s' -> %s refused: %s\n", spec, json,
				scout_last_error());
		SCOUT_FUZZ_ASSERT(!short_form);
	} else {
		json_t *chain = json_pack("[{s:s, s:{s:s}}]", "name", "bytes", "configuration",
					  "endian", "little");
		if (v3)
			json_array_append(chain, v3);
		int ok = codec_spec_pipeline(chain);
		if (!ok && short_form)
			fprintf(stderr, "short form '%s' -> %s: chain refused: %s\n", spec, json,
				scout_last_error());
		SCOUT_FUZZ_ASSERT(ok || !short_form);
		json_decref(chain);
		json_decref(v3);
	}
	json_decref(comp);
	free(json);
	free(spec);
	return 0;
}
