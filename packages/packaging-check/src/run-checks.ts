import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CONSUMER_ENV, prepareConsumerProject, removeConsumerProject } from './consumer-project.js';

// The package's `test` script: packs and installs once, then runs every
// test file of this package against that one project (a test file run
// alone with `node --test` prepares its own).
const started = Date.now();
const project = prepareConsumerProject();
process.stdout.write(`packed and installed every package into ${project.directory} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
let status: number;
try {
  const result = spawnSync(process.execPath, ['--test', '--test-reporter=spec', fileURLToPath(new URL('.', import.meta.url))], {
    stdio: 'inherit',
    env: { ...process.env, [CONSUMER_ENV]: project.root },
  });
  status = result.status ?? 1;
} finally {
  removeConsumerProject(project);
}
process.exit(status);
