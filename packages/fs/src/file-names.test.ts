import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  LOST_AND_FOUND_DIRECTORY,
  LOG_ACKNOWLEDGED_FILE,
  MANIFEST_FILES,
  SEGMENTS_DIRECTORY,
  WAL_DIRECTORY,
  WRITER_LOCK_FILE,
  WRITER_PID_FILE,
  WRITER_SOCKET_FILE,
  logFileName,
  parseFileName,
  repairFolderName,
  segmentBuildFileName,
  segmentFileName,
  segmentIdOfBuildName,
  segmentIdOfFileName,
  sequenceOfLogFile,
  type ParsedFileName,
} from './file-names.js';

const NUMBERS = [1, 2, 9, 10, 99, 4096, 123_456_789, 2 ** 32 + 1, Number.MAX_SAFE_INTEGER];

test('every numbered name parses back to its kind and number', () => {
  for (const n of NUMBERS) {
    assert.deepEqual(parseFileName(`${WAL_DIRECTORY}/${logFileName(n)}`), { kind: 'log', number: n });
    assert.deepEqual(parseFileName(segmentFileName(n)), { kind: 'segment', number: n });
    assert.deepEqual(parseFileName(segmentBuildFileName(n)), { kind: 'segment-build', number: n });
    assert.equal(sequenceOfLogFile(logFileName(n)), n);
    assert.equal(segmentIdOfFileName(segmentFileName(n).slice(SEGMENTS_DIRECTORY.length + 1)), n);
    assert.equal(segmentIdOfBuildName(segmentBuildFileName(n).slice(SEGMENTS_DIRECTORY.length + 1)), n);
  }
});

test('the names are the ones DESIGN.md shows', () => {
  assert.equal(`${WAL_DIRECTORY}/${logFileName(1)}`, 'wal/0000000000000001.log');
  assert.equal(segmentFileName(61), 'segments/61.seg');
  assert.equal(segmentBuildFileName(61), 'segments/61.seg.tmp');
  assert.equal(repairFolderName(new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678))), 'lost+found/repair-2026-01-02T03-04-05-678Z');
  assert.deepEqual(MANIFEST_FILES, ['manifest.sqlite', 'manifest.sqlite-wal', 'manifest.sqlite-shm']);
});

test('log file names sort in sequence order', () => {
  const names = NUMBERS.map(logFileName);
  assert.deepEqual([...names].sort(), names);
});

test('a repair folder parses back to the time it was made for, to the millisecond', () => {
  for (const time of [0, Date.UTC(2026, 10, 21, 23, 59, 59, 999), Date.UTC(2000, 1, 29, 12, 0, 0, 1)]) {
    assert.deepEqual(parseFileName(repairFolderName(new Date(time))), { kind: 'repair-folder', number: time });
  }
});

test('the fixed names parse, with number 0', () => {
  const expected: Array<[string, ParsedFileName['kind']]> = [
    ['manifest.sqlite', 'manifest'],
    ['manifest.sqlite-wal', 'manifest-journal'],
    ['manifest.sqlite-shm', 'manifest-shared-memory'],
    [WRITER_LOCK_FILE, 'writer-lock'],
    [WRITER_PID_FILE, 'writer-pid'],
    [WRITER_SOCKET_FILE, 'writer-socket'],
    [WAL_DIRECTORY, 'log-directory'],
    [SEGMENTS_DIRECTORY, 'segments-directory'],
    [LOST_AND_FOUND_DIRECTORY, 'lost-and-found'],
    [`${WAL_DIRECTORY}/${LOST_AND_FOUND_DIRECTORY}`, 'log-lost-and-found'],
    [`${WAL_DIRECTORY}/${LOG_ACKNOWLEDGED_FILE}`, 'log-acknowledged'],
  ];
  for (const [name, kind] of expected) assert.deepEqual(parseFileName(name), { kind, number: 0 }, name);
});

test("names that are not silt's, or not spelled as silt spells them, do not parse", () => {
  const junk = [
    '',
    '/',
    'manifest',
    'manifest.sqlite-journal',
    'MANIFEST.sqlite',
    'writer.lock.tmp',
    'segments/',
    'segments/0.seg',
    'segments/01.seg',
    'segments/-1.seg',
    'segments/1.5.seg',
    'segments/1.seg.abc123.tmp',
    'segments/1.SEG',
    'segments/12345678901234567.seg',
    'segments/9999999999999999.seg',
    'segments/1.seg/x',
    '1.seg',
    'wal/1.log',
    'wal/0000000000000000.log',
    'wal/000000000000001.log',
    'wal/00000000000000001.log',
    'wal/9999999999999999.log',
    'wal/0000000000000001.log.tmp',
    'wal/lost+found/0000000000000001.log',
    '0000000000000001.log',
    'segments/lost+found',
    'lost+found/repair-',
    'lost+found/repair-2026-13-02T03-04-05-678Z',
    'lost+found/repair-2026-02-30T03-04-05-678Z',
    'lost+found/repair-2026-01-02T24-04-05-678Z',
    'lost+found/repair-2026-01-02T03:04:05.678Z',
    'lost+found/old-manifest.sqlite',
    'other/manifest.sqlite',
    './manifest.sqlite',
  ];
  for (const name of junk) assert.equal(parseFileName(name), undefined, JSON.stringify(name));
  assert.equal(sequenceOfLogFile('0000000000000000.log'), undefined);
  assert.equal(segmentIdOfFileName('1.seg.tmp'), undefined);
  assert.equal(segmentIdOfBuildName('1.seg'), undefined);
});
