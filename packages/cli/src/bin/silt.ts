#!/usr/bin/env node
import { runCli } from '../main.js';

const exitCode = await runCli(process.argv.slice(2));
// Exit once standard output and error have taken everything (pipes are asynchronous on some systems);
// background handles of a command (a watcher, a worker pool) must not keep the process up.
await Promise.all([process.stdout, process.stderr].map((stream) => new Promise((resolve) => stream.write('', resolve))));
process.exit(exitCode);
