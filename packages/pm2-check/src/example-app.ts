import { cpSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '@silt/test-support';

/** The repository's examples/pm2, which these tests run as a user would. */
export const EXAMPLE_DIRECTORY = fileURLToPath(new URL('../../../examples/pm2/', import.meta.url));

/** The example as a user's project has it: its files, and `silt` in node_modules (here the workspace's build). */
export interface ExampleApp {
  readonly directory: string;
  /** The index directory the ecosystem files get through SILT_INDEX_DIR. */
  readonly indexDirectory: string;
  ecosystemFile(name: 'ecosystem.config.cjs' | 'ecosystem.fork-writer.config.cjs'): string;
}

/**
 * Copies examples/pm2 into a temp directory removed after the test, with
 * node_modules/silt linked to the workspace's silt: the example imports
 * `silt` as an installed package, exactly as it is written.
 */
export function prepareExampleApp(label: string): ExampleApp {
  const root = tempDir(`pm2-${label}`);
  const directory = join(root, 'app');
  cpSync(EXAMPLE_DIRECTORY, directory, {
    recursive: true,
    filter: (source) => !/[\\/](node_modules|data)([\\/]|$)/.test(source.slice(EXAMPLE_DIRECTORY.length - 1)),
  });
  mkdirSync(join(directory, 'node_modules'), { recursive: true });
  symlinkSync(fileURLToPath(new URL('../', import.meta.resolve('silt'))), join(directory, 'node_modules', 'silt'), 'dir');
  return {
    directory,
    indexDirectory: join(root, 'idx'),
    ecosystemFile: (name) => join(directory, name),
  };
}
