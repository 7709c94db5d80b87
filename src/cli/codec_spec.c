/* Codec SPEC strings of `scout convert --codec` -> numcodecs compressor JSON. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Split spec at ':' into at most max fields (pointers into buf). Returns the count. */
static int split_fields(char *buf, char **fields, int max)
{
	int n = 0;
	char *p = buf;
	for (;;) {
		if (n == max)
			return max + 1;
		fields[n++] = p;
		char *c = strchr(p, ':');
		if (!c)
			return n;
		*c = '\0';
		p = c + 1;
	}
}

static int parse_level(long *out, const char *s, long lo, long hi, const char *spec,
		       const char *what)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < lo || v > hi)
		return scout__error(SCOUT_EINVAL,
				    "codec spec '%s': %s must be an integer in %ld..%ld, not '%s'",
				    spec, what, lo, hi, s);
	*out = v;
	return 0;
}

static int dump(char **json_out, json_t *obj)
{
	if (!obj)
		return scout__error(SCOUT_ENOMEM, "out of memory");
	*json_out = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(obj);
	return *json_out ? 0 : scout__error(SCOUT_ENOMEM, "out of memory");
}

static int level_codec(char **json_out, const char *id, const char *key, int nf, char **f, long def,
		       long lo, long hi, const char *spec)
{
	long level = def;
	if (nf > 2)
		return scout__error(SCOUT_EINVAL, "codec spec '%s': expected %s[:LEVEL]", spec, id);
	if (nf == 2 && parse_level(&level, f[1], lo, hi, spec, "the level") < 0)
		return SCOUT_EINVAL;
	if (!strcmp(id, "lzma"))
		return dump(json_out,
			    json_pack("{s:s, s:i, s:i, s:I, s:n}", "id", "lzma", "format", 1,
				      "check", -1, "preset", (json_int_t)level, "filters"));
	return dump(json_out, json_pack("{s:s, s:I}", "id", id, key, (json_int_t)level));
}

int cli_codec_spec(char **json_out, const char *spec)
{
	*json_out = NULL;
	if (!spec || !*spec)
		return scout__error(SCOUT_EINVAL, "empty codec spec");
	const char *p = spec;
	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	if (*p == '{' || !strcmp(p, "null")) {
		json_error_t jerr;
		json_t *j = json_loads(p, JSON_REJECT_DUPLICATES, &jerr);
		if (!j)
			return scout__error(SCOUT_EINVAL, "codec spec '%s': invalid JSON: %s", spec,
					    jerr.text);
		if (json_is_null(j)) {
			json_decref(j);
			*json_out = strdup("null");
			return *json_out ? 0 : scout__error(SCOUT_ENOMEM, "out of memory");
		}
		json_t *id = json_object_get(j, "id");
		if (!json_is_string(id)) {
			json_decref(j);
			return scout__error(SCOUT_EINVAL,
					    "codec spec '%s': a numcodecs config needs a string "
					    "\"id\"",
					    spec);
		}
		return dump(json_out, j);
	}

	char buf[256];
	if (strlen(spec) >= sizeof buf)
		return scout__error(SCOUT_EINVAL, "codec spec too long: '%.40s...'", spec);
	strcpy(buf, spec);
	char *f[5];
	int nf = split_fields(buf, f, 4);
	const char *id = f[0];

	if (!strcmp(id, "none") || !strcmp(id, "raw")) {
		if (nf != 1)
			return scout__error(SCOUT_EINVAL,
					    "codec spec '%s': 'none' takes no options", spec);
		*json_out = strdup("null");
		return *json_out ? 0 : scout__error(SCOUT_ENOMEM, "out of memory");
	}
	if (!strcmp(id, "default")) {
		if (nf != 1)
			return scout__error(SCOUT_EINVAL,
					    "codec spec '%s': 'default' takes no options", spec);
		return dump(json_out, json_pack("{s:s, s:s, s:i, s:i, s:i}", "id", "blosc", "cname",
						"zstd", "clevel", 1, "shuffle", 2, "blocksize", 0));
	}
	if (!strcmp(id, "blosc")) {
		/* numcodecs.Blosc() defaults for omitted fields: lz4, 5, shuffle */
		const char *cname = nf > 1 && *f[1] ? f[1] : "lz4";
		long clevel = 5, shuffle = 1;
		static const char *const cnames[] = {"blosclz", "lz4",  "lz4hc",
						     "zlib",    "zstd", "snappy"};
		int ok = 0;
		if (nf > 4)
			return scout__error(
			    SCOUT_EINVAL,
			    "codec spec '%s': expected blosc[:CNAME[:CLEVEL[:SHUFFLE]]]", spec);
		for (size_t i = 0; i < sizeof cnames / sizeof *cnames; i++)
			ok |= !strcmp(cname, cnames[i]);
		if (!ok)
			return scout__error(
			    SCOUT_EINVAL,
			    "codec spec '%s': unknown blosc compressor '%s' (blosclz, "
			    "lz4, lz4hc, zlib, zstd)",
			    spec, cname);
		if (nf > 2 && parse_level(&clevel, f[2], 0, 9, spec, "the blosc clevel") < 0)
			return SCOUT_EINVAL;
		if (nf > 3) {
			const char *s = f[3];
			if (!strcmp(s, "noshuffle") || !strcmp(s, "0"))
				shuffle = 0;
			else if (!strcmp(s, "shuffle") || !strcmp(s, "1"))
				shuffle = 1;
			else if (!strcmp(s, "bitshuffle") || !strcmp(s, "2"))
				shuffle = 2;
			else
				return scout__error(SCOUT_EINVAL,
						    "codec spec '%s': shuffle must be noshuffle, "
						    "shuffle or bitshuffle, not '%s'",
						    spec, s);
		}
		return dump(json_out, json_pack("{s:s, s:s, s:I, s:I, s:i}", "id", "blosc", "cname",
						cname, "clevel", (json_int_t)clevel, "shuffle",
						(json_int_t)shuffle, "blocksize", 0));
	}
	if (!strcmp(id, "zlib"))
		return level_codec(json_out, "zlib", "level", nf, f, 1, 0, 9, spec);
	if (!strcmp(id, "gzip"))
		return level_codec(json_out, "gzip", "level", nf, f, 1, 0, 9, spec);
	if (!strcmp(id, "bz2"))
		return level_codec(json_out, "bz2", "level", nf, f, 1, 1, 9, spec);
	if (!strcmp(id, "lzma"))
		return level_codec(json_out, "lzma", "preset", nf, f, 6, 0, 9, spec);
	if (!strcmp(id, "zstd"))
		return level_codec(json_out, "zstd", "level", nf, f, 1, -131072, 22, spec);
	if (!strcmp(id, "lz4"))
		return level_codec(json_out, "lz4", "acceleration", nf, f, 1, 1, 65537, spec);
	return scout__error(SCOUT_EINVAL,
			    "unknown codec spec '%s' (expected numcodecs JSON or one of "
			    "blosc:CNAME:CLEVEL:SHUFFLE, zlib:L, gzip:L, bz2:L, lzma:PRESET, "
			    "zstd:L, lz4, none)",
			    spec);
}
