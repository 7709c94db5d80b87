/* Thread-local error messages and code descriptions. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define SCOUT_ERRBUF 1024

static _Thread_local char errbuf[SCOUT_ERRBUF];
static _Thread_local int errcode;

const char *scout_last_error(void)
{
	return errbuf;
}

int scout_last_error_code(void)
{
	return errcode;
}

void scout_clear_error(void)
{
	errbuf[0] = '\0';
	errcode = SCOUT_OK;
}

int scout__verror(int code, const char *fmt, va_list ap)
{
	vsnprintf(errbuf, sizeof errbuf, fmt, ap);
	errcode = code;
	return code;
}

int scout__error(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	scout__verror(code, fmt, ap);
	va_end(ap);
	return code;
}

int scout__error_prefix(int code, const char *fmt, ...)
{
	char old[SCOUT_ERRBUF];
	memcpy(old, errbuf, sizeof old);
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(errbuf, sizeof errbuf, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof errbuf)
		snprintf(errbuf + n, sizeof errbuf - (size_t)n, "%s", old);
	errcode = code;
	return code;
}

const char *scout_strerror(int code)
{
	switch (code) {
	case SCOUT_OK:
		return "success";
	case SCOUT_EINVAL:
		return "invalid argument";
	case SCOUT_ENOMEM:
		return "out of memory";
	case SCOUT_EIO:
		return "input/output error";
	case SCOUT_ENOTFOUND:
		return "not found";
	case SCOUT_EFORMAT:
		return "malformed or unsupported format";
	case SCOUT_ECODEC:
		return "codec error";
	case SCOUT_EWORKER:
		return "worker failed";
	case SCOUT_EBOUNDS:
		return "box out of bounds";
	case SCOUT_EOVERFLOW:
		return "size overflow";
	case SCOUT_EREADONLY:
		return "array is read-only";
	case SCOUT_EUNSUPPORTED:
		return "unsupported";
	case SCOUT_EINTERRUPTED:
		return "interrupted";
	default:
		return "unknown error";
	}
}
