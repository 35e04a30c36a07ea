/*
 * mergeEntries: the inner loop of a segment merge (@silt/merger), natively.
 * Entries are copied as a segment block encodes them (FORMAT.md of
 * @silt/segments, "Data section": flags u8, key length u16, value length
 * u32, little-endian, then key and value bytes); nothing is decoded.
 *
 * The caller hands over each input's current run of verified blocks (back
 * to back: a flat sequence of entries), newest input first. Each call picks
 * the smallest key among the inputs' current entries (of equal keys the
 * newest input's), moves every input holding that key past it, and appends
 * the winner to the output, closing a block once it holds `blockSize` bytes
 * or more, as SegmentBuilder does, and checking that each key appended is
 * above the one before it. It returns when an input's run is spent
 * (the caller gives it the next run, or marks it done), when the output,
 * hashes or blocks have no room, or when every input is done.
 *
 * State (Int32Array), kept between calls; see MERGE_* below.
 */
#include <stdint.h>
#include <string.h>

#include "addon.h"

enum {
  STATE_OUTPUT_LENGTH = 0,
  STATE_BLOCK_START = 1,
  STATE_BLOCKS = 2,
  STATE_ENTRIES = 3,
  STATE_DROPPED = 4,
  STATE_DETAIL = 5,
  STATE_LAST_ENTRY = 6,
  STATE_CURSORS = 16,
};

enum { STATUS_DONE = 0, STATUS_INPUT = 1, STATUS_ROOM = 2, STATUS_ORDER = 3, STATUS_MALFORMED = 4 };

#define ENTRY_HEADER_BYTES 7
#define ENTRY_TOMBSTONE 1
#define MAX_INPUTS 64
#define SPENT (-1)

typedef struct {
  const uint8_t* bytes;
  size_t length;
} run_t;

static uint32_t key_length_at(const uint8_t* entry) {
  return (uint32_t)entry[1] | ((uint32_t)entry[2] << 8);
}

static uint32_t value_length_at(const uint8_t* entry) {
  return (uint32_t)entry[3] | ((uint32_t)entry[4] << 8) | ((uint32_t)entry[5] << 16) | ((uint32_t)entry[6] << 24);
}

static int compare_keys(const uint8_t* a, uint32_t a_length, const uint8_t* b, uint32_t b_length) {
  int order = memcmp(a, b, a_length < b_length ? a_length : b_length);
  if (order != 0) return order;
  return a_length < b_length ? -1 : a_length > b_length ? 1 : 0;
}

/* FNV-1a, then MurmurHash3's fmix32: key-hash.ts of @silt/segments, bit for bit. */
static uint32_t hash_key(const uint8_t* key, uint32_t length) {
  uint32_t hash = 0x811c9dc5u;
  for (uint32_t i = 0; i < length; i++) hash = (hash ^ key[i]) * 0x01000193u;
  hash ^= hash >> 16;
  hash *= 0x85ebca6bu;
  hash ^= hash >> 13;
  hash *= 0xc2b2ae35u;
  hash ^= hash >> 16;
  return hash;
}

typedef struct {
  int32_t* state;
  run_t runs[MAX_INPUTS];
  size_t inputs;
  uint8_t* output;
  size_t output_capacity;
  uint32_t* hashes;
  uint32_t* offsets;
  size_t entry_capacity;
  uint32_t* block_ends;
  size_t block_capacity;
  uint32_t block_size;
  int drop_tombstones;
} merge_t;

/* The input whose entry comes next (-1: all done); STATUS_INPUT if a live input's run is spent first. */
static int pick_winner(merge_t* m, int* winner) {
  *winner = -1;
  const uint8_t* best = NULL;
  uint32_t best_length = 0;
  for (size_t i = 0; i < m->inputs; i++) {
    int32_t at = m->state[STATE_CURSORS + i];
    if (at == SPENT) continue;
    if ((size_t)at >= m->runs[i].length) {
      m->state[STATE_DETAIL] = (int32_t)i;
      return STATUS_INPUT;
    }
    const uint8_t* entry = m->runs[i].bytes + at;
    m->state[STATE_DETAIL] = (int32_t)i;
    if ((size_t)at + ENTRY_HEADER_BYTES > m->runs[i].length) return STATUS_MALFORMED;
    uint32_t length = key_length_at(entry);
    if ((size_t)at + ENTRY_HEADER_BYTES + length > m->runs[i].length) return STATUS_MALFORMED;
    if (*winner < 0 || compare_keys(entry + ENTRY_HEADER_BYTES, length, best, best_length) < 0) {
      *winner = (int)i;
      best = entry + ENTRY_HEADER_BYTES;
      best_length = length;
    }
  }
  return STATUS_DONE;
}

/* Moves every input on `key` past it; the winner's entry stays readable (runs do not change during a call). */
static int skip_key(merge_t* m, const uint8_t* key, uint32_t key_length) {
  for (size_t i = 0; i < m->inputs; i++) {
    int32_t at = m->state[STATE_CURSORS + i];
    if (at == SPENT) continue;
    const uint8_t* entry = m->runs[i].bytes + at;
    uint32_t length = key_length_at(entry);
    if (length != key_length || memcmp(entry + ENTRY_HEADER_BYTES, key, length) != 0) continue;
    size_t end = (size_t)at + ENTRY_HEADER_BYTES + length + value_length_at(entry);
    m->state[STATE_DETAIL] = (int32_t)i;
    if (end > m->runs[i].length) return STATUS_MALFORMED;
    m->state[STATE_CURSORS + i] = (int32_t)end;
  }
  return STATUS_DONE;
}

/* Appends `entry` to the open block, recording its hash and offset; STATUS_ROOM or STATUS_ORDER if it cannot. */
static int append_entry(merge_t* m, const uint8_t* entry, size_t size) {
  int32_t* s = m->state;
  size_t length = (size_t)s[STATE_OUTPUT_LENGTH];
  size_t block_start = (size_t)s[STATE_BLOCK_START];
  if (length + size > m->output_capacity || (size_t)s[STATE_ENTRIES] >= m->entry_capacity ||
      (size_t)s[STATE_BLOCKS] >= m->block_capacity) {
    s[STATE_DETAIL] = (int32_t)(length - block_start + size);
    return STATUS_ROOM;
  }
  uint32_t key_length = key_length_at(entry);
  const uint8_t* key = entry + ENTRY_HEADER_BYTES;
  if (s[STATE_LAST_ENTRY] >= 0) {
    const uint8_t* last = m->output + s[STATE_LAST_ENTRY];
    if (compare_keys(key, key_length, last + ENTRY_HEADER_BYTES, key_length_at(last)) <= 0) return STATUS_ORDER;
  }
  memcpy(m->output + length, entry, size);
  m->hashes[s[STATE_ENTRIES]] = hash_key(key, key_length);
  m->offsets[s[STATE_ENTRIES]] = (uint32_t)(length - block_start);
  s[STATE_ENTRIES]++;
  s[STATE_LAST_ENTRY] = (int32_t)length;
  length += size;
  s[STATE_OUTPUT_LENGTH] = (int32_t)length;
  if (length - block_start >= m->block_size) {
    m->block_ends[s[STATE_BLOCKS]] = (uint32_t)length;
    s[STATE_BLOCKS]++;
    s[STATE_BLOCK_START] = (int32_t)length;
  }
  return STATUS_DONE;
}

static int merge_run(merge_t* m) {
  for (;;) {
    int winner;
    int status = pick_winner(m, &winner);
    if (status != STATUS_DONE) return status;
    if (winner < 0) return STATUS_DONE;
    const uint8_t* entry = m->runs[winner].bytes + m->state[STATE_CURSORS + winner];
    uint32_t key_length = key_length_at(entry);
    size_t size = ENTRY_HEADER_BYTES + key_length + value_length_at(entry);
    m->state[STATE_DETAIL] = winner;
    if ((size_t)m->state[STATE_CURSORS + winner] + size > m->runs[winner].length) return STATUS_MALFORMED;
    if ((entry[0] & ENTRY_TOMBSTONE) && m->drop_tombstones) {
      m->state[STATE_DROPPED]++;
    } else {
      status = append_entry(m, entry, size);
      if (status != STATUS_DONE) return status;
    }
    status = skip_key(m, entry + ENTRY_HEADER_BYTES, key_length);
    if (status != STATUS_DONE) return status;
  }
}

/* Whether the state a caller hands back describes its output: nothing the loop reads lies outside its arrays. */
static bool state_is_sound(const merge_t* m) {
  const int32_t* s = m->state;
  int32_t length = s[STATE_OUTPUT_LENGTH];
  int32_t last = s[STATE_LAST_ENTRY];
  if (length < 0 || (size_t)length > m->output_capacity) return false;
  if (s[STATE_BLOCK_START] < 0 || s[STATE_BLOCK_START] > length) return false;
  if (s[STATE_ENTRIES] < 0 || (size_t)s[STATE_ENTRIES] > m->entry_capacity) return false;
  if (s[STATE_BLOCKS] < 0 || (size_t)s[STATE_BLOCKS] > m->block_capacity) return false;
  if (last < -1 || (last >= 0 && (last > length - ENTRY_HEADER_BYTES ||
                                  (size_t)last + ENTRY_HEADER_BYTES + key_length_at(m->output + last) > (size_t)length)))
    return false;
  for (size_t i = 0; i < m->inputs; i++)
    if (s[STATE_CURSORS + i] < SPENT) return false;
  return true;
}

static bool uint32_array_of(napi_env env, napi_value value, uint32_t** data, size_t* length) {
  bool is_typed_array = false;
  napi_typedarray_type type;
  void* bytes = NULL;
  bool ok = napi_is_typedarray(env, value, &is_typed_array) == napi_ok && is_typed_array &&
            napi_get_typedarray_info(env, value, &type, length, &bytes, NULL, NULL) == napi_ok && type == napi_uint32_array;
  *data = (uint32_t*)bytes;
  return ok;
}

static bool runs_of(napi_env env, napi_value array, merge_t* m) {
  uint32_t count = 0;
  if (napi_get_array_length(env, array, &count) != napi_ok || count == 0 || count > MAX_INPUTS) return false;
  m->inputs = count;
  for (uint32_t i = 0; i < count; i++) {
    napi_value run;
    void* bytes = NULL;
    if (napi_get_element(env, array, i, &run) != napi_ok || !uint8_array_of(env, run, &bytes, &m->runs[i].length)) return false;
    m->runs[i].bytes = (const uint8_t*)bytes;
  }
  return true;
}

/*
 * mergeEntries(runs: Uint8Array[], state: Int32Array, output: Uint8Array,
 *   hashes: Uint32Array, offsets: Uint32Array, blockEnds: Uint32Array,
 *   blockSize: number, dropTombstones: boolean): number
 */
napi_value merge_entries(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  merge_t m;
  memset(&m, 0, sizeof m);
  void* state = NULL;
  void* output = NULL;
  size_t state_length = 0;
  size_t hash_capacity = 0;
  bool drop = false;
  bool ok = napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc == 8 && runs_of(env, argv[0], &m);
  napi_typedarray_type type;
  ok = ok && napi_get_typedarray_info(env, argv[1], &type, &state_length, &state, NULL, NULL) == napi_ok &&
       type == napi_int32_array && state_length >= STATE_CURSORS + m.inputs;
  ok = ok && uint8_array_of(env, argv[2], &output, &m.output_capacity);
  ok = ok && uint32_array_of(env, argv[3], &m.hashes, &hash_capacity) && uint32_array_of(env, argv[4], &m.offsets, &m.entry_capacity);
  ok = ok && uint32_array_of(env, argv[5], &m.block_ends, &m.block_capacity);
  ok = ok && napi_get_value_uint32(env, argv[6], &m.block_size) == napi_ok && m.block_size > 0;
  ok = ok && napi_get_value_bool(env, argv[7], &drop) == napi_ok;
  if (!ok) {
    napi_throw_type_error(env, NULL,
                          "mergeEntries(runs, state, output, hashes, offsets, blockEnds, blockSize, dropTombstones) "
                          "needs Uint8Arrays, an Int32Array, Uint32Arrays, a number and a boolean");
    return NULL;
  }
  if (hash_capacity < m.entry_capacity) m.entry_capacity = hash_capacity;
  m.state = (int32_t*)state;
  m.output = (uint8_t*)output;
  m.drop_tombstones = drop;
  if (!state_is_sound(&m)) {
    napi_throw_range_error(env, NULL, "mergeEntries: its state does not describe its output (see MERGE_STATE)");
    return NULL;
  }
  napi_value result;
  if (napi_create_int32(env, merge_run(&m), &result) != napi_ok) return NULL;
  return result;
}
