import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
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
