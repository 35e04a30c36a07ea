import { Manifest } from '@silt/segments';

/** Child program: leases the manifest's current generation as a reader, prints the lease as JSON, then waits to be killed. */
const [path] = process.argv.slice(2);
if (path === undefined) throw new Error('usage: lease-holder <manifest path>');

const manifest = Manifest.open(path, { role: 'reader' });
process.stdout.write(`${JSON.stringify(manifest.takeLease())}\n`);
setInterval(() => {}, 60_000);
