import { Index } from '../index-handle.js';

/*
 * Opens an index twice (the writer and a client of it), writes through the
 * client, and leaves both open: the process must still end by itself, as
 * it does with one index, once nothing else keeps it alive.
 */

const directory = process.argv[2]!;
const writer = await Index.open(directory);
const client = await Index.open(directory);
await client.set('k', 'v');
if (writer.get('k') !== 'v' || client.stats().role !== 'client') process.exitCode = 3;
