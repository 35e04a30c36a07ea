/* Registers the addon's calls: `map` (map.c), `readAt` (read-at.c), `mergeEntries` (merge.c) and, where it is fast, `crc32` (crc32.c). */
#include <stdio.h>
#include <uv.h>

#include "addon.h"

napi_value throw_errno(napi_env env, int error, const char* call) {
  char message[256];
  snprintf(message, sizeof message, "%s: %s", call, uv_strerror(uv_translate_sys_error(error)));
  napi_throw_error(env, uv_err_name(uv_translate_sys_error(error)), message);
  return NULL;
}

bool uint8_array_of(napi_env env, napi_value value, void** data, size_t* length) {
  bool is_typed_array = false;
  napi_typedarray_type type;
  return napi_is_typedarray(env, value, &is_typed_array) == napi_ok && is_typed_array &&
         napi_get_typedarray_info(env, value, &type, length, data, NULL, NULL) == napi_ok && type == napi_uint8_array;
}

napi_value throw_unsupported(napi_env env, const char* call) {
  char message[128];
  snprintf(message, sizeof message, "%s: not supported on this platform", call);
  napi_throw_error(env, "ENOSYS", message);
  return NULL;
}

static int export_function(napi_env env, napi_value exports, const char* name, napi_callback call) {
  napi_value fn;
  return napi_create_function(env, name, NAPI_AUTO_LENGTH, call, NULL, &fn) == napi_ok &&
         napi_set_named_property(env, exports, name, fn) == napi_ok;
}

static napi_value init(napi_env env, napi_value exports) {
  if (!export_function(env, exports, "map", map_file)) return NULL;
  if (!export_function(env, exports, "readAt", read_at)) return NULL;
  if (!export_function(env, exports, "mergeEntries", merge_entries)) return NULL;
  if (crc32_init() && !export_function(env, exports, "crc32", crc32_of)) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
