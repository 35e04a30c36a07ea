import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import { encodeRecord, encodedRecordBytes, FORMAT_VERSION, probeRecord, RECORD_HEADER_BYTES, sealRecord, viewOf } from './record-format.js';
import type { WalEntry } from './wal-entry.js';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

function sealed(firstSeq: number, entries: WalEntry[], syncedOffset = 0): Uint8Array {
  const bytes = encodeRecord(firstSeq, entries);
  sealRecord(bytes, 0, syncedOffset);
  return bytes;
}

test('a record round-trips its sequence number, entries, kinds and valueIsText', () => {
  const entries: WalEntry[] = [
    { kind: 'put', key: text('a'), value: text('42'), valueIsText: true },
    { kind: 'put', key: text('b'), value: Uint8Array.of(0, 255, 7) },
    { kind: 'delete', key: text('c') },
    { kind: 'put', key: new Uint8Array(0), value: new Uint8Array(0) },
  ];
  const bytes = sealed(2 ** 40 + 5, entries);
  assert.equal(bytes.length, encodedRecordBytes(entries));
  const probe = probeRecord(bytes, viewOf(bytes), 0);
  assert.equal(probe.kind, 'valid');
  if (probe.kind !== 'valid') return;
  assert.equal(probe.record.firstSeq, 2 ** 40 + 5);
  assert.equal(probe.record.lastSeq, 2 ** 40 + 8);
  assert.deepEqual(probe.record.entries.map(normalize), entries.map(normalize));
});

test('the header carries magic, CRC of everything after it, length, version and count where FORMAT.md says', () => {
  const bytes = sealed(7, [{ kind: 'delete', key: text('k') }], 0);
  const view = viewOf(bytes);
  assert.deepEqual([...bytes.subarray(0, 4)], [0x53, 0x57, 0x41, 0x4c]);
  assert.equal(view.getUint32(4, true), crc32(bytes.subarray(8)));
  assert.equal(view.getUint32(8, true), bytes.length);
  assert.equal(bytes[12], FORMAT_VERSION);
  assert.equal(view.getUint32(16, true), 7);
  assert.equal(view.getUint32(24, true), 1);
  assert.equal(bytes.length, RECORD_HEADER_BYTES + 1 + 4 + 1);
});

test('a changed byte anywhere makes the record invalid, never a different record', () => {
  const original = sealed(3, [{ kind: 'put', key: text('key'), value: text('value') }]);
  for (let i = 0; i < original.length; i++) {
    const bytes = original.slice();
    bytes[i]! ^= 0x01;
    assert.equal(probeRecord(bytes, viewOf(bytes), 0).kind, 'invalid', `byte ${i}`);
  }
});

test('a record with a verifying CRC but another version is reported as unsupported', () => {
  const bytes = encodeRecord(1, [{ kind: 'delete', key: text('k') }]);
  bytes[12] = 2;
  sealRecord(bytes, 0, 0);
  assert.deepEqual(probeRecord(bytes, viewOf(bytes), 0), { kind: 'unsupported', version: 2 });
});

test('a record whose CRC verifies but whose entries do not fit is malformed, not torn', () => {
  const bytes = encodeRecord(1, [{ kind: 'put', key: text('k'), value: text('v') }]);
  viewOf(bytes).setUint32(24, 2, true); // claims two entries, holds one
  sealRecord(bytes, 0, 0);
  assert.equal(probeRecord(bytes, viewOf(bytes), 0).kind, 'malformed');
  const unknownKind = encodeRecord(1, [{ kind: 'put', key: text('k'), value: text('v') }]);
  unknownKind[RECORD_HEADER_BYTES] = 9;
  sealRecord(unknownKind, 0, 0);
  assert.equal(probeRecord(unknownKind, viewOf(unknownKind), 0).kind, 'malformed');
});

test('a synced offset past the record itself is malformed', () => {
  const bytes = sealed(1, [{ kind: 'delete', key: text('k') }], 100);
  assert.equal(probeRecord(bytes, viewOf(bytes), 0).kind, 'malformed');
});

test('a length beyond the bytes present is invalid without reading past them', () => {
  const bytes = sealed(1, [{ kind: 'put', key: text('k'), value: new Uint8Array(100) }]);
  const probe = probeRecord(bytes.subarray(0, 50), viewOf(bytes.subarray(0, 50)), 0);
  assert.equal(probe.kind, 'invalid');
});

function normalize(entry: WalEntry): unknown {
  return entry.kind === 'delete'
    ? { kind: entry.kind, key: [...entry.key] }
    : { kind: entry.kind, key: [...entry.key], value: [...entry.value], text: entry.valueIsText ?? false };
}

test('byte lengths a caller gives are used as measured ones, and a wrong one is refused before a record is made', () => {
  const measured = encodeRecord(1, [
    { kind: 'put', key: 'clé', value: 'välue' },
    { kind: 'delete', key: 'k' },
  ]);
  const given = encodeRecord(1, [
    { kind: 'put', key: 'clé', value: 'välue', keyBytes: 4, valueBytes: 6 },
    { kind: 'delete', key: 'k', keyBytes: 1 },
  ]);
  assert.deepEqual(given, measured);
  assert.throws(() => encodeRecord(1, [{ kind: 'put', key: 'clé', value: 'välue', keyBytes: 3, valueBytes: 7 }]), RangeError);
  assert.throws(() => encodeRecord(1, [{ kind: 'put', key: 'k', value: 'v', valueBytes: 2 }]), RangeError);
  assert.throws(() => encodeRecord(1, [{ kind: 'delete', key: 'ké', keyBytes: 2 }]), RangeError);
  // The last field of a record, where a string too long for its length would otherwise be cut to fit.
  assert.throws(() => encodeRecord(1, [{ kind: 'put', key: 'k', value: 'abc', valueBytes: 2 }]), RangeError);
  assert.throws(() => encodeRecord(1, [{ kind: 'put', key: 'k', value: 'a€', valueBytes: 1 }]), RangeError);
});

const clientA = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
const clientB = Uint8Array.of(8, 7, 6, 5, 4, 3, 2, 1);

test('a record names the origins of the forwarded writes in it, after its entries, and its entries read as without them', () => {
  const entries: WalEntry[] = [
    { kind: 'put', key: text('a'), value: text('1'), valueIsText: true },
    { kind: 'delete', key: text('b') },
  ];
  const origins = [
    { client: clientA, request: 7 },
    { client: clientB, request: 2 ** 32 - 1 },
  ];
  const bytes = encodeRecord(9, entries, encodedRecordBytes(entries, origins.length), origins);
  sealRecord(bytes, 0, 0);
  assert.equal(bytes[13], 1, 'flag 1: origins');
  assert.equal(viewOf(bytes).getUint32(bytes.length - 4, true), 2, 'the origin count ends the record');
  const probe = probeRecord(bytes, viewOf(bytes), 0);
  assert.equal(probe.kind, 'valid');
  if (probe.kind !== 'valid') return;
  assert.deepEqual(probe.record.entries.map(normalize), entries.map(normalize));
  assert.ok(probe.record.hasOrigin({ client: clientA, request: 7 }));
  assert.ok(probe.record.hasOrigin({ client: clientB, request: 2 ** 32 - 1 }));
  assert.ok(!probe.record.hasOrigin({ client: clientA, request: 8 }));
  assert.ok(!probe.record.hasOrigin({ client: clientB, request: 7 }));
  const plain = sealed(9, entries);
  const plainProbe = probeRecord(plain, viewOf(plain), 0);
  assert.ok(
    plainProbe.kind === 'valid' && !plainProbe.record.hasOrigin({ client: clientA, request: 7 }),
    'a record without origins names none',
  );
});

test('an origin count that does not fit its record, or an unknown flag, is malformed', () => {
  const entries: WalEntry[] = [{ kind: 'delete', key: text('k') }];
  const origins = [{ client: clientA, request: 1 }];
  for (const count of [0, 2, 2 ** 32 - 1]) {
    const bytes = encodeRecord(1, entries, encodedRecordBytes(entries, 1), origins);
    viewOf(bytes).setUint32(bytes.length - 4, count, true);
    sealRecord(bytes, 0, 0);
    assert.equal(probeRecord(bytes, viewOf(bytes), 0).kind, 'malformed', `count ${count}`);
  }
  const flagged = encodeRecord(1, entries);
  flagged[13] = 2;
  sealRecord(flagged, 0, 0);
  assert.equal(probeRecord(flagged, viewOf(flagged), 0).kind, 'malformed');
});
