/*
 * A read-only shared mapping of a file, handed to JavaScript as an external
 * ArrayBuffer. The mapping is released (munmap) when V8 collects the
 * ArrayBuffer, never earlier: views of it may outlive whoever asked for it,
 * and touching an unmapped page would crash the process.
 */
#include <stdint.h>

#include "addon.h"

#ifndef _WIN32
#include <errno.h>
#include <sys/mman.h>
#endif

#ifndef _WIN32
static void release_mapping(napi_env env, void* address, void* length) {
  (void)env;
  munmap(address, (size_t)(uintptr_t)length);
}
#endif

/* map(fd: number, length: number): ArrayBuffer */
napi_value map_file(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd = -1;
  int64_t length = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_value_int64(env, argv[1], &length) != napi_ok ||
      fd < 0 || length <= 0) {
    napi_throw_type_error(env, NULL, "map(fd, length) needs a file descriptor and a positive length");
    return NULL;
  }
#ifdef _WIN32
  return throw_unsupported(env, "mmap");
#else
  void* address = mmap(NULL, (size_t)length, PROT_READ, MAP_SHARED, fd, 0);
  if (address == MAP_FAILED) return throw_errno(env, errno, "mmap");
  napi_value buffer;
  if (napi_create_external_arraybuffer(env, address, (size_t)length, release_mapping, (void*)(uintptr_t)length, &buffer) != napi_ok) {
    munmap(address, (size_t)length);
    return NULL;
  }
  return buffer;
#endif
}
