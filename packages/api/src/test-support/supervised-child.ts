import { Index } from '../index-handle.js';
import { superviseIndex } from '../supervised-index.js';

/*
 * A process as pm2 runs it: opens the index, writes a key, then hands the
 * index to superviseIndex, which says 'ready' and closes it at the signal.
 * `beforeClose` proves it ran before the close by writing one more key.
 */

const directory = process.argv[2]!;
const index = await Index.open(directory, { refreshIntervalMs: 2 ** 31 - 1 });
await index.set('before-ready', 'yes');
superviseIndex(index, { beforeClose: () => index.set('before-close', 'yes') });
