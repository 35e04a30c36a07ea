/*
 * One positioned read into a Uint8Array, the call `file`-mode point reads
 * make for each get: node:fs's readSync checks its five arguments in
 * JavaScript and goes through libuv's request machinery first, which makes
 * a small pread from the page cache about a quarter slower.
 */
#include <stdint.h>

#include "addon.h"

#ifndef _WIN32
#include <errno.h>
#include <unistd.h>
#endif

/* readAt(fd: number, target: Uint8Array, position: number): number of bytes read (0 at end of file) */
napi_value read_at(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int32_t fd = -1;
  int64_t position = -1;
  size_t length = 0;
  void* data = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 3 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok || !uint8_array_of(env, argv[1], &data, &length) ||
      napi_get_value_int64(env, argv[2], &position) != napi_ok || position < 0) {
    napi_throw_type_error(env, NULL, "readAt(fd, target, position) needs a file descriptor, a Uint8Array and a position >= 0");
    return NULL;
  }
#ifdef _WIN32
  return throw_unsupported(env, "pread");
#else
  ssize_t read;
  do {
    read = pread(fd, data, length, (off_t)position);
  } while (read < 0 && errno == EINTR);
  if (read < 0) return throw_errno(env, errno, "pread");
  napi_value result;
  if (napi_create_int64(env, (int64_t)read, &result) != napi_ok) return NULL;
  return result;
#endif
}
