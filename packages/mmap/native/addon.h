/* The addon's calls, one per file (map.c, read-at.c, crc32.c, merge.c), registered by addon.c. */
#ifndef SILT_ADDON_H
#define SILT_ADDON_H

#include <node_api.h>

/* Throws an Error whose `code` is the errno's name (ENOENT, EBADF, ...), as node:fs's errors have. */
napi_value throw_errno(napi_env env, int error, const char* call);

/* Whether `value` is a Uint8Array; if so, its bytes (the view's own window) and their count. */
bool uint8_array_of(napi_env env, napi_value value, void** data, size_t* length);

/* Throws an Error with code ENOSYS: `call` is not offered on this platform (Windows). */
napi_value throw_unsupported(napi_env env, const char* call);

napi_value map_file(napi_env env, napi_callback_info info);
napi_value read_at(napi_env env, napi_callback_info info);
napi_value crc32_of(napi_env env, napi_callback_info info);
napi_value merge_entries(napi_env env, napi_callback_info info);

/* Prepares crc32.c's table; nonzero when its folding runs on this CPU (crc32_of is exported only then). */
int crc32_init(void);

#endif
