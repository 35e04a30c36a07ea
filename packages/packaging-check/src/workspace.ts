import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root: this file is packages/packaging-check/{src,dist}/workspace.*. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** What the checks read of a package.json. */
export interface PackageManifest {
  readonly name: string;
  readonly version: string;
  readonly private?: boolean;
  readonly license?: string;
  readonly author?: string;
  readonly homepage?: string;
  readonly keywords?: readonly string[];
  readonly repository?: { readonly type: string; readonly url: string; readonly directory: string };
  readonly bugs?: { readonly url: string };
  readonly publishConfig?: { readonly access: string };
  readonly exports: Record<string, Record<string, string>>;
  readonly bin?: Record<string, string>;
  readonly dependencies?: Record<string, string>;
}

/** A package the workspace publishes: its folder and manifest. */
export interface PublishedPackage {
  /** The folder under packages/, e.g. `api`. */
  readonly folder: string;
  readonly directory: string;
  readonly manifest: PackageManifest;
  /** Every specifier its `exports` map offers: `silt`, `@silt/segments/internal`, ... */
  readonly specifiers: readonly string[];
}

/** Every package under packages/ that is not private, in folder order. */
export function publishedPackages(): PublishedPackage[] {
  const packagesDirectory = join(REPO_ROOT, 'packages');
  return readdirSync(packagesDirectory)
    .sort()
    .map((folder) => ({ folder, directory: join(packagesDirectory, folder) }))
    .filter(({ directory }) => existsSync(join(directory, 'package.json')))
    .map(({ folder, directory }) => {
      const manifest = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')) as PackageManifest;
      const specifiers = Object.keys(manifest.exports ?? {}).map((subpath) => `${manifest.name}${subpath.slice(1)}`);
      return { folder, directory, manifest, specifiers };
    })
    .filter(({ manifest }) => manifest.private !== true);
}
