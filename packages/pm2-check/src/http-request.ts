import { Agent, request } from 'node:http';

/** A request that has not been answered in this long is stuck: a failover takes milliseconds. */
const REQUEST_STUCK_AFTER_MS = 10_000;

export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
}

/** A request that got no answer: the network error's code (or why), and whether it went out on a kept-alive connection. */
export class RequestFailedError extends Error {
  constructor(
    readonly reason: string,
    /** The request was sent on a connection an earlier request had used (the server may have closed it meanwhile). */
    readonly reusedConnection: boolean,
  ) {
    super(`${reason}${reusedConnection ? ' (kept-alive connection)' : ''}`);
  }
}

/** Sends one request to 127.0.0.1:`port`; rejects with RequestFailedError on a network error or when stuck. */
export function httpRequest(agent: Agent, port: number, method: 'GET' | 'PUT', path: string, body?: string): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port, method, path, agent, timeout: REQUEST_STUCK_AFTER_MS }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer in ${REQUEST_STUCK_AFTER_MS / 1000} s`)));
    outgoing.on('error', (error: NodeJS.ErrnoException) =>
      reject(new RequestFailedError(error.code ?? error.message, outgoing.reusedSocket)),
    );
    outgoing.end(body);
  });
}

/**
 * `httpRequest` for a GET, sent once more if it failed on a kept-alive
 * connection: a server closing an idle connection (its keepAliveTimeout) as
 * the request goes out on it is a race of HTTP/1.1 keep-alive, not a
 * failure of the server, and a GET is safe to repeat (RFC 9110, 9.2.2), as
 * HTTP clients do. The second try gets a new connection or a live one; a
 * server that is down fails it too. Seen once in CI: a reader that never
 * stopped reset one idle connection during a writer's restart.
 */
export async function httpGet(agent: Agent, port: number, path: string): Promise<HttpAnswer> {
  try {
    return await httpRequest(agent, port, 'GET', path);
  } catch (error) {
    if (!(error instanceof RequestFailedError) || !error.reusedConnection) throw error;
    return httpRequest(agent, port, 'GET', path);
  }
}

/** The `code` of an error answer's JSON body, or undefined. */
export function errorCodeOf(answer: HttpAnswer): string | undefined {
  try {
    const parsed: unknown = JSON.parse(answer.body);
    const code = (parsed as { code?: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}
