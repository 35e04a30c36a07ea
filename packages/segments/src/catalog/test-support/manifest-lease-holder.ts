import { Manifest } from '../manifest.js';

/** Child program: opens a manifest as a reader, leases the current generation, prints the lease as JSON, then waits to be killed. */
const [path] = process.argv.slice(2);
if (path === undefined) throw new Error('usage: manifest-lease-holder <manifest path>');

const manifest = Manifest.open(path, { role: 'reader' });
process.stdout.write(`${JSON.stringify(manifest.takeLease())}\n`);
setInterval(() => {}, 60_000);
