import { fork } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ECHO_CHILD = fileURLToPath(new URL('./socket-echo-child.js', import.meta.url));

/**
 * Microseconds of each of `count` round trips, after `warmUp` untimed: one
 * byte to another node process over a Unix domain socket and back, with
 * nothing else done at either end. This is the least a forwarded set pays
 * beyond the same set in the writer (the request and its acknowledgement),
 * so the fleet bench prints it beside the latency rows. On a VM whose idle
 * vCPUs halt at once, most of it is waking the other side.
 */
export async function socketRoundTrips(directory: string, count: number, warmUp: number): Promise<number[]> {
  const path = join(directory, 'echo.sock');
  rmSync(path, { force: true });
  const server = createServer();
  server.listen(path);
  await once(server, 'listening');
  const child = fork(ECHO_CHILD, [path], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    // An echo process that dies before it connects must fail the round, not hang it.
    const socket = await new Promise<Socket>((resolve, reject) => {
      server.once('connection', resolve);
      child.once('exit', (code) => reject(new Error(`the echo process exited (code ${code}) before it connected`)));
    });
    socket.setNoDelay(true);
    return await timedEchoes(socket, count, warmUp);
  } finally {
    child.kill();
    server.close();
    rmSync(path, { force: true });
  }
}

function timedEchoes(socket: Socket, count: number, warmUp: number): Promise<number[]> {
  const micros: number[] = [];
  const byte = Buffer.from([1]);
  let sentAt = 0n;
  let answered = 0;
  return new Promise((resolve, reject) => {
    const send = (): void => {
      sentAt = process.hrtime.bigint();
      socket.write(byte);
    };
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`the echo process went away after ${answered} round trips`)));
    socket.on('data', () => {
      const elapsed = Number(process.hrtime.bigint() - sentAt) / 1000;
      if (++answered > warmUp) micros.push(elapsed);
      if (micros.length < count) return send();
      socket.removeAllListeners('close');
      socket.destroy();
      resolve(micros);
    });
    send();
  });
}
