import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * What silt's packages share only among themselves is behind each package's
 * `./internal` export, which carries no semver promise; the public entries are
 * what users may rely on. This checks both sides by name, types included (read
 * from the published declarations), so a helper cannot creep back into a
 * public entry while it is also internal.
 */

/** Each library package: its public entries, and its internal one. `@silt/cli` has no library API. */
const PACKAGES = [
  { internal: '@silt/fs/internal', publicEntries: ['@silt/fs'] },
  { internal: '@silt/wal/internal', publicEntries: ['@silt/wal'] },
  { internal: '@silt/segments/internal', publicEntries: ['@silt/segments', '@silt/segments/file', '@silt/segments/catalog'] },
  { internal: '@silt/merger/internal', publicEntries: ['@silt/merger'] },
  { internal: '@silt/reader/internal', publicEntries: ['@silt/reader'] },
];

/** The names moved out of the public entries (issue #13, section 4): each must stay internal, and only internal. */
const MOVED: Record<string, readonly string[]> = {
  '@silt/fs/internal': ['attempt', 'asIoError', 'isNotFound', 'errnoOf', 'TEMP_SUFFIX', 'temporaryPathFor', 'SeededRandom'],
  '@silt/wal/internal': [
    'listLog',
    'checkLog',
    'ListedLogFile',
    'LogFileCheck',
    'scanLogFile',
    'resealedRecord',
    'IntactLogRecord',
    'LogDamage',
    'LogFileScan',
  ],
  '@silt/segments/internal': [
    'parseWithSchema',
    'fileSystemSchema',
    'describeKey',
    'compareBytes',
    'commonPrefixLength',
    'describeType',
    'keyToBytes',
    'checkKeyLength',
    'checkWellFormed',
    'toScanRange',
    'prefixScanRange',
    'FULL_SCAN',
    'limitOption',
    'booleanOption',
    'Bound',
    'ScanRange',
    'nearOptions',
    'INDEX_NEAR_LIMIT',
    'checkKey',
    'encodeKey',
    'decodeKey',
    'ownedKey',
    'checkedKeyId',
    'keyIdOfBytes',
    'keyIdOfString',
    'keyBytesOfId',
    'compareKeys',
    'sharedPrefixLength',
    'utf8Boundary',
    'bytesEqual',
    'NewestWinsMerge',
    'IteratorCursor',
    'MergeCursor',
    'hashKeyBytes',
    'finishHash',
    'FNV_OFFSET_BASIS',
    'FNV_PRIME',
    'newSegmentSchema',
    'manifestChangeSchema',
    'filesNewerThanManifest',
  ],
  '@silt/merger/internal': ['defaultMergeThreads', 'checkMergeRequest', 'segmentCountTarget'],
  '@silt/reader/internal': [
    'EntrySource',
    'Lookup',
    'SourceEntry',
    'mergeSources',
    'MergedView',
    'FuzzyMatch',
    'SortedEditDistance',
    'toIndexScanRange',
    'toIndexNearOptions',
    'toFuzzyOptions',
    'ResolvedFuzzyOptions',
    'SegmentStack',
    'SegmentStackOptions',
    'KeyValueReads',
    'RetiredReaders',
    'segmentAccessOptionsShape',
  ],
};

/**
 * Every name (values and types) each module's declarations export, read with
 * the TypeScript checker. Nothing is type-checked, so no lib or @types files
 * are loaded.
 */
function declaredExports(specifiers: readonly string[]): Map<string, string[]> {
  const declarationOf = (specifier: string): string => fileURLToPath(import.meta.resolve(specifier)).replace(/\.js$/, '.d.ts');
  const files = specifiers.map(declarationOf);
  const program = ts.createProgram(files, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    noEmit: true,
    noLib: true,
    types: [],
  });
  const checker = program.getTypeChecker();
  const names = new Map<string, string[]>();
  specifiers.forEach((specifier, i) => {
    const source = program.getSourceFile(files[i]!);
    assert.ok(source !== undefined, `the declarations of ${specifier} were read`);
    const moduleSymbol = checker.getSymbolAtLocation(source);
    assert.ok(moduleSymbol !== undefined, `${specifier} is a module`);
    names.set(
      specifier,
      checker.getExportsOfModule(moduleSymbol).map((symbol) => symbol.getName()),
    );
  });
  return names;
}

const allEntries = [...PACKAGES.flatMap((pkg) => [pkg.internal, ...pkg.publicEntries]), 'silt'];
const exportsOf = declaredExports(allEntries);

test('no public entry of a silt package exports a name of its ./internal entry', () => {
  for (const { internal, publicEntries } of PACKAGES) {
    const internalNames = exportsOf.get(internal)!;
    for (const entry of publicEntries) {
      const leaked = exportsOf.get(entry)!.filter((name) => internalNames.includes(name));
      assert.deepEqual(leaked, [], `${entry} exports names of ${internal}`);
    }
  }
});

test('the silt package re-exports nothing of any ./internal entry', () => {
  const siltNames = exportsOf.get('silt')!;
  for (const { internal } of PACKAGES) {
    assert.deepEqual(
      siltNames.filter((name) => exportsOf.get(internal)!.includes(name)),
      [],
      `silt exports names of ${internal}`,
    );
  }
});

test('each ./internal entry resolves at run time and holds the helpers silt packages import from it', async () => {
  for (const { internal } of PACKAGES) {
    const runtime = Object.keys((await import(internal)) as Record<string, unknown>);
    const declared = exportsOf.get(internal)!;
    for (const name of MOVED[internal]!) assert.ok(declared.includes(name), `${internal} declares ${name}`);
    for (const name of runtime) assert.ok(declared.includes(name), `${internal}'s declarations name ${name}`);
    assert.ok(runtime.length > 0, `${internal} loads and exports values`);
  }
});
