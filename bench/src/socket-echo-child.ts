import { createConnection } from 'node:net';

/**
 * The far end of `socketRoundTrips` (forked): connects to the Unix socket
 * named in argv[2] and sends back every byte it gets, until the parent
 * closes the socket or kills it.
 */

const path = process.argv[2];
if (path === undefined) throw new Error('usage: socket-echo-child <socket path>');
const socket = createConnection(path);
socket.setNoDelay(true);
socket.on('data', (chunk: Buffer) => socket.write(chunk));
// The parent ends the run by closing the socket, or kills this process.
socket.on('close', () => process.exit(0));
socket.on('error', () => process.exit(0));
