/* The store interface: key rules and dispatch to a store's vtable (see store.h). */
#include <stdlib.h>
#include <string.h>

#include "store.h"

void scout__store_free(scout_store *store)
{
	if (store)
		store->vt->destroy(store);
}

const char *scout__store_root(const scout_store *store)
{
	return store->root;
}

int scout__store_check_key(const char *key)
{
	if (!key || !*key || key[0] == '/' || key[strlen(key) - 1] == '/')
		return scout__error(SCOUT_EINVAL, "store: invalid key \"%s\"",
				    key ? key : "(null)");
	const char *p = key;
	while (*p) {
		const char *e = strchr(p, '/');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == 0 || (len == 1 && p[0] == '.') ||
		    (len == 2 && p[0] == '.' && p[1] == '.'))
			return scout__error(SCOUT_EINVAL, "store: invalid key \"%s\"", key);
		p += len;
		if (*p == '/')
			p++;
	}
	return SCOUT_OK;
}

int scout__store_get(void **data_out, size_t *size_out, scout_store_version *ver_out,
		     const scout_store *store, const char *key)
{
	return store->vt->get(store, key, data_out, size_out, ver_out);
}

int scout__store_get_range(void **data_out, size_t *size_out, scout_store_version *ver_out,
			   const scout_store *store, const char *key, int64_t offset,
			   uint64_t length)
{
	return store->vt->get_range(store, key, offset, length, data_out, size_out, ver_out);
}

int scout__store_get_range_into(void *buf, size_t cap, size_t *size_out,
				scout_store_version *ver_out, const scout_store *store,
				const char *key, int64_t offset, uint64_t length)
{
	if (store->vt->get_range_into)
		return store->vt->get_range_into(store, key, offset, length, buf, cap, size_out,
						 ver_out);
	void *d = NULL;
	int rc = store->vt->get_range(store, key, offset, length, &d, size_out, ver_out);
	if (rc < 0)
		return rc;
	memcpy(buf, d, *size_out < cap ? *size_out : cap);
	free(d);
	return SCOUT_OK;
}

int scout__store_head(scout_store_version *ver_out, const scout_store *store, const char *key)
{
	return store->vt->head(store, key, ver_out);
}

int scout__store_set(const scout_store *store, const char *key, const void *data, size_t size,
		     scout_store_version *ver_out)
{
	return store->vt->set(store, key, data, size, ver_out);
}

int scout__store_delete(const scout_store *store, const char *key)
{
	return store->vt->del(store, key);
}

int scout__store_delete_prefix(const scout_store *store, const char *prefix)
{
	return store->vt->delete_prefix(store, prefix);
}

int scout__store_list(char ***keys_out, size_t *count_out, const scout_store *store,
		      const char *prefix)
{
	return store->vt->list(store, prefix, keys_out, count_out);
}

int scout__store_list_dir(char ***names_out, size_t *count_out, const scout_store *store,
			  const char *prefix)
{
	return store->vt->list_dir(store, prefix, names_out, count_out);
}

void scout__store_list_free(char **keys, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(keys[i]);
	free(keys);
}

int scout__store_sweep(const scout_store *store, size_t *removed_out)
{
	return store->vt->sweep(store, removed_out);
}

int scout__store_exists(const scout_store *store)
{
	return store->vt->exists(store);
}

int scout__store_version_equal(const scout_store_version *a, const scout_store_version *b)
{
	return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}
