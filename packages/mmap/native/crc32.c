/*
 * CRC-32 (the polynomial of zlib, gzip and PNG, bit-reflected 0xEDB88320),
 * the checksum silt's segment blocks carry, computed with carry-less
 * multiplication (PCLMULQDQ) where the CPU has it. node:zlib's crc32 works
 * a table at a time, about 2-4 GB/s here; folding 64 bytes a step with
 * PCLMULQDQ runs several times faster, and a scan or a merge checks every
 * block it reads. The folding and the Barrett reduction follow Intel's white
 * paper "Fast CRC Computation for Generic Polynomials Using PCLMULQDQ
 * Instruction" (Gopal et al., 2009); the constants are its bit-reflected
 * ones for this polynomial. Bytes that do not fill 16 go through a table.
 *
 * `crc32(bytes)` is exported only where the folding runs (x86-64 with
 * PCLMULQDQ and SSE4.1): elsewhere a caller keeps node:zlib's.
 */
#include <stddef.h>
#include <stdint.h>

#include "addon.h"

#define REFLECTED_POLYNOMIAL 0xEDB88320u
/* Below this many bytes, the table alone: folding needs one 64-byte step to start. */
#define FOLD_MINIMUM_BYTES 64

static uint32_t byte_table[256];

static void fill_byte_table(void) {
  for (uint32_t byte = 0; byte < 256; byte++) {
    uint32_t remainder = byte;
    for (int bit = 0; bit < 8; bit++) remainder = (remainder >> 1) ^ ((remainder & 1) ? REFLECTED_POLYNOMIAL : 0);
    byte_table[byte] = remainder;
  }
}

/* `state` is the running register (the complement of a CRC so far). */
static uint32_t update_by_table(uint32_t state, const uint8_t* bytes, size_t length) {
  for (size_t i = 0; i < length; i++) state = byte_table[(state ^ bytes[i]) & 0xff] ^ (state >> 8);
  return state;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define FOLDING_TARGET __attribute__((target("pclmul,sse4.1")))

/* a's low half times k's low half, plus a's high half times k's high half, plus next: one fold of 128 bits. */
FOLDING_TARGET static inline __m128i fold(__m128i a, __m128i k, __m128i next) {
  __m128i low = _mm_clmulepi64_si128(a, k, 0x00);
  __m128i high = _mm_clmulepi64_si128(a, k, 0x11);
  return _mm_xor_si128(_mm_xor_si128(low, high), next);
}

FOLDING_TARGET static inline __m128i load(const uint8_t* at) {
  return _mm_loadu_si128((const __m128i*)at);
}

/* The register after `length` bytes (a multiple of 16, at least 64), starting from `state`. */
FOLDING_TARGET static uint32_t update_by_folding(uint32_t state, const uint8_t* bytes, size_t length) {
  /* x^(512+32) mod P and x^(512-32) mod P (fold 4 lanes of 128 bits over 512), then the same over 128. */
  const __m128i by_512 = _mm_set_epi64x(0x1c6e41596, 0x154442bd4);
  const __m128i by_128 = _mm_set_epi64x(0x0ccaa009e, 0x1751997d0);
  const __m128i to_32 = _mm_set_epi64x(0, 0x163cd6124);
  /* Barrett: the polynomial P' (low) and mu = floor(x^64 / P)' (high). */
  const __m128i barrett = _mm_set_epi64x(0x1f7011641, 0x1db710641);
  const __m128i low_words = _mm_setr_epi32(-1, 0, -1, 0);

  __m128i lane0 = _mm_xor_si128(load(bytes), _mm_cvtsi32_si128((int)state));
  __m128i lane1 = load(bytes + 16);
  __m128i lane2 = load(bytes + 32);
  __m128i lane3 = load(bytes + 48);
  size_t at = 64;
  for (; at + 64 <= length; at += 64) {
    lane0 = fold(lane0, by_512, load(bytes + at));
    lane1 = fold(lane1, by_512, load(bytes + at + 16));
    lane2 = fold(lane2, by_512, load(bytes + at + 32));
    lane3 = fold(lane3, by_512, load(bytes + at + 48));
  }
  __m128i folded = fold(lane0, by_128, lane1);
  folded = fold(folded, by_128, lane2);
  folded = fold(folded, by_128, lane3);
  for (; at + 16 <= length; at += 16) folded = fold(folded, by_128, load(bytes + at));

  /* 128 bits to 64, then to 32 + 32, then Barrett's reduction to the 32-bit remainder. */
  __m128i product = _mm_clmulepi64_si128(folded, by_128, 0x10);
  folded = _mm_xor_si128(_mm_srli_si128(folded, 8), product);
  product = _mm_clmulepi64_si128(_mm_and_si128(folded, low_words), to_32, 0x00);
  folded = _mm_xor_si128(product, _mm_srli_si128(folded, 4));
  __m128i quotient = _mm_clmulepi64_si128(_mm_and_si128(folded, low_words), barrett, 0x10);
  product = _mm_clmulepi64_si128(_mm_and_si128(quotient, low_words), barrett, 0x00);
  return (uint32_t)_mm_extract_epi32(_mm_xor_si128(folded, product), 1);
}

static int folding_available(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
}
#else
static int folding_available(void) {
  return 0;
}

static uint32_t update_by_folding(uint32_t state, const uint8_t* bytes, size_t length) {
  return update_by_table(state, bytes, length);
}
#endif

int crc32_init(void) {
  fill_byte_table();
  return folding_available();
}

/* crc32(bytes: Uint8Array): number, as node:zlib's crc32(bytes) gives it (unsigned). */
napi_value crc32_of(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  size_t length = 0;
  void* data = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1 ||
      !uint8_array_of(env, argv[0], &data, &length)) {
    napi_throw_type_error(env, NULL, "crc32(bytes) needs a Uint8Array");
    return NULL;
  }
  const uint8_t* bytes = (const uint8_t*)data;
  uint32_t state = 0xffffffffu;
  size_t folded = length >= FOLD_MINIMUM_BYTES ? length & ~(size_t)15 : 0;
  if (folded > 0) state = update_by_folding(state, bytes, folded);
  state = update_by_table(state, bytes + folded, length - folded);
  napi_value result;
  if (napi_create_uint32(env, ~state, &result) != napi_ok) return NULL;
  return result;
}
