import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import ts from 'typescript';
import { consumerProjectForTests, describeFailure, runNode } from './project-for-tests.js';
import { publishedPackages, REPO_ROOT, type PackageManifest } from './workspace.js';

// What each tarball holds, read from where npm installed it.

const project = consumerProjectForTests();
const packages = publishedPackages();
const installedDirectory = (name: string): string => join(project().directory, 'node_modules', ...name.split('/'));

function filesUnder(directory: string): string[] {
  return (
    readdirSync(directory, { recursive: true, withFileTypes: true }) as Array<{ name: string; parentPath: string; isFile(): boolean }>
  )
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

test('each package is installed once, from its tarball: none came from the registry for another package', () => {
  const lock = JSON.parse(readFileSync(join(project().directory, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { resolved?: string }>;
  };
  for (const { manifest } of packages) {
    const copies = Object.keys(lock.packages).filter((path) => path.endsWith(`node_modules/${manifest.name}`));
    assert.deepEqual(copies, [`node_modules/${manifest.name}`], manifest.name);
    assert.match(lock.packages[copies[0]!]!.resolved ?? '', /^file:\.\.\/tarballs\//, manifest.name);
  }
});

test('every tarball holds the LICENSE, the same MIT text as the repository root', () => {
  const license = readFileSync(join(REPO_ROOT, 'LICENSE'), 'utf8');
  assert.match(license, /^MIT License\n/);
  for (const { manifest } of packages) {
    assert.equal(manifest.license, 'MIT', manifest.name);
    assert.equal(readFileSync(join(installedDirectory(manifest.name), 'LICENSE'), 'utf8'), license, manifest.name);
  }
});

test('every package.json says where the package comes from, how to report a bug, and that it publishes publicly', () => {
  for (const { folder, manifest } of packages) {
    const installed = JSON.parse(readFileSync(join(installedDirectory(manifest.name), 'package.json'), 'utf8')) as PackageManifest;
    assert.deepEqual(installed.repository, {
      type: 'git',
      url: 'git+https://github.com/silt-db/silt.git',
      directory: `packages/${folder}`,
    });
    assert.equal(installed.homepage, `https://github.com/silt-db/silt/tree/main/packages/${folder}#readme`);
    assert.deepEqual(installed.bugs, { url: 'https://github.com/silt-db/silt/issues' });
    assert.ok((installed.keywords ?? []).length > 0, `${manifest.name}: keywords`);
    assert.ok((installed.author ?? '').length > 0, `${manifest.name}: author`);
    assert.deepEqual(installed.publishConfig, { access: 'public' });
  }
});

test('every export offers types, import, require and default conditions, and each names a file in the tarball', () => {
  for (const { manifest } of packages) {
    for (const [subpath, conditions] of Object.entries(manifest.exports)) {
      assert.deepEqual(Object.keys(conditions), ['types', 'import', 'require', 'default'], `${manifest.name} ${subpath}`);
      for (const file of Object.values(conditions)) {
        assert.ok(existsSync(join(installedDirectory(manifest.name), file)), `${manifest.name} ${subpath}: ${file} is not in the tarball`);
      }
    }
  }
});

test('no tarball ships tests or test helpers, and every source map and declaration map points at shipped sources', () => {
  for (const { manifest } of packages) {
    const files = filesUnder(installedDirectory(manifest.name));
    assert.deepEqual(
      files.filter((file) => /\.test\.|[/\\]test-support[/\\]/.test(file)),
      [],
      manifest.name,
    );
    const maps = files.filter((file) => file.endsWith('.map'));
    assert.ok(maps.length > 0, `${manifest.name} ships no maps`);
    for (const map of maps) {
      const { sources } = JSON.parse(readFileSync(map, 'utf8')) as { sources: string[] };
      for (const source of sources) assert.ok(existsSync(join(dirname(map), source)), `${map} names ${source}, which is not shipped`);
    }
  }
});

/** Whether `code` awaits outside every function: top-level await, which makes a module one `require()` refuses. */
function usesTopLevelAwait(file: ts.SourceFile): boolean {
  let found = false;
  const visit = (node: ts.Node): void => {
    if (found || ts.isFunctionLike(node) || ts.isClassStaticBlockDeclaration(node)) return;
    if (ts.isAwaitExpression(node) || (ts.isForOfStatement(node) && node.awaitModifier !== undefined)) found = true;
    else ts.forEachChild(node, visit);
  };
  ts.forEachChild(file, visit);
  return found;
}

/** The relative modules `file` imports: statically, re-exported, or with `import('./literal.js')`. */
function relativeImports(file: ts.SourceFile): string[] {
  const specifiers: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier !== undefined) {
      if (ts.isStringLiteral(node.moduleSpecifier)) specifiers.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [argument] = node.arguments;
      if (argument !== undefined && ts.isStringLiteral(argument)) specifiers.push(argument.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return specifiers.filter((specifier) => specifier.startsWith('.'));
}

/** Every module of the package that loading one of its exports can load, now or later (a lazily imported command). */
function modulesReachableFromExports(directory: string, manifest: PackageManifest): Map<string, ts.SourceFile> {
  const reached = new Map<string, ts.SourceFile>();
  const pending = Object.values(manifest.exports).map((conditions) => join(directory, conditions.default!));
  for (let path = pending.pop(); path !== undefined; path = pending.pop()) {
    if (reached.has(path)) continue;
    const file = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, false, ts.ScriptKind.JS);
    reached.set(path, file);
    pending.push(...relativeImports(file).map((specifier) => join(dirname(path), specifier)));
  }
  return reached;
}

test('no module an export can load uses top-level await, not even one imported only later (a command)', () => {
  const probe = (code: string) => usesTopLevelAwait(ts.createSourceFile('probe.js', code, ts.ScriptTarget.Latest, false, ts.ScriptKind.JS));
  assert.equal(probe('for await (const x of y) {}'), true, 'the probe misses a top-level for await');
  assert.equal(probe('async function f() { await g(); }'), false, 'the probe flags an await inside a function');
  for (const { manifest } of packages) {
    const modules = modulesReachableFromExports(installedDirectory(manifest.name), manifest);
    assert.ok(modules.size > 1, `${manifest.name}: only ${modules.size} module reached`);
    const offenders = [...modules].filter(([, file]) => usesTopLevelAwait(file)).map(([path]) => path);
    assert.deepEqual(offenders, [], manifest.name);
  }
});

test('no package README links relative to the repository: those links break on the registry', () => {
  for (const { manifest } of packages) {
    const readme = readFileSync(join(installedDirectory(manifest.name), 'README.md'), 'utf8');
    // Markdown links and images whose target is neither a URL nor an anchor in the README itself.
    const relative = [...readme.matchAll(/!?\[[^\]]*\]\(([^)\s]+)\)/g)]
      .map((match) => match[1]!)
      .filter((target) => !/^(https?:|mailto:|#)/.test(target));
    assert.deepEqual(relative, [], `${manifest.name}'s README`);
  }
});

test('the installed silt command runs: --version prints the package version', () => {
  const cli = packages.find(({ manifest }) => manifest.bin?.silt !== undefined);
  assert.ok(cli !== undefined, 'no package has the silt bin');
  const outcome = runNode([join(project().directory, 'node_modules', '.bin', 'silt'), '--version'], project().directory);
  assert.equal(outcome.status, 0, describeFailure('silt --version', outcome));
  assert.equal(outcome.stdout, `${cli.manifest.version}\n`);
});
