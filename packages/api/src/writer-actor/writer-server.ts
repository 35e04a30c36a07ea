import { chmodSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { IoError } from '@silt/fs';
import {
  DEFAULT_CONNECTION_LIMITS,
  ServedConnection,
  type ConnectionLimits,
  type ForwardingTarget,
  type WriterFacts,
} from './served-connection.js';
import { SocketAddress } from './socket-address.js';

/**
 * The writer actor's socket: the process holding the writer lock listens in
 * the index directory, and every other process that opens the index
 * forwards its writes here (`ServedConnection`). Only the lock holder ever
 * listens, so a socket file found at start is a dead writer's, and is
 * replaced. The socket takes the directory's permission bits: whoever may
 * open the index directory may connect, and nobody else.
 *
 * The socket file is not data, so it does not go through `@silt/fs`: the
 * crash-simulating file system models what survives a power loss, and a
 * socket never does.
 */
export class WriterServer {
  private readonly connections = new Set<ServedConnection>();
  private nextConnectionId = 1;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly server: Server,
    private readonly address: SocketAddress,
  ) {}

  static async listen(
    directory: string,
    target: ForwardingTarget,
    facts: WriterFacts,
    limits: ConnectionLimits = DEFAULT_CONNECTION_LIMITS,
  ): Promise<WriterServer> {
    const address = SocketAddress.of(directory);
    try {
      rmSync(address.file, { force: true });
      const server = createServer({ pauseOnConnect: false });
      const writerServer = new WriterServer(server, address);
      server.on('connection', (socket) => writerServer.accept(socket, target, facts, limits));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        // exclusive: in a cluster worker (every pm2 cluster instance), a shared listen would have the primary
        // hold the socket and hand connections on, and a connection could outlive the writer it was meant for.
        server.listen({ path: address.path, exclusive: true }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      chmodSync(address.file, statSync(directory).mode & 0o777);
      // A failure after listening (EMFILE on accept, say) must not crash the writer.
      server.on('error', () => {});
      // An open index never keeps its process alive by itself (its timers and watchers do not either).
      server.unref();
      return writerServer;
    } catch (error) {
      address.close();
      throw new IoError('listening on the writer socket', address.file, error);
    }
  }

  /** Clients connected now. */
  get clientCount(): number {
    return this.connections.size;
  }

  /** Stops listening, removes the socket file, and drops every connection (their clients fail over). Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private accept(socket: Socket, target: ForwardingTarget, facts: WriterFacts, limits: ConnectionLimits): void {
    if (this.closing !== undefined) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    socket.unref();
    const ended = (connection: ServedConnection): void => void this.connections.delete(connection);
    const connection = new ServedConnection(socket, this.nextConnectionId++, target, facts, limits, ended);
    this.connections.add(connection);
  }

  private async shutDown(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const connection of [...this.connections]) connection.close();
    rmSync(this.address.file, { force: true });
    await closed;
    this.address.close();
  }
}
