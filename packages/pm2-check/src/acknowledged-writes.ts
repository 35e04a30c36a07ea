import { Agent } from 'node:http';
import { Index } from 'silt';
import { httpGet } from './http-request.js';
import { waitFor } from './wait-for.js';

const READ_BACK_CONCURRENCY = 8;

/**
 * Waits until a GET through `port` returns every acknowledged write's
 * value (instances that forwarded a write, or readers, may catch up a
 * moment later: a 404 is asked again). A different value is never right:
 * it rejects at once.
 */
export async function readBackThroughHttp(port: number, acknowledged: ReadonlyMap<string, string>): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: READ_BACK_CONCURRENCY });
  const missing = new Map(acknowledged);
  try {
    await waitFor(
      `GETs through port ${port} to return all ${acknowledged.size} acknowledged writes`,
      async () => {
        const keys = [...missing.keys()];
        const next = (): string | undefined => keys.pop();
        const check = async (): Promise<void> => {
          for (let key = next(); key !== undefined; key = next()) {
            const answer = await httpGet(agent, port, `/keys/${encodeURIComponent(key)}`);
            if (answer.status === 200 && answer.body === missing.get(key)) missing.delete(key);
            else if (answer.status === 200) throw new Error(`GET ${key} returned ${answer.body}, acknowledged ${missing.get(key)}`);
          }
        };
        await Promise.all(Array.from({ length: READ_BACK_CONCURRENCY }, check));
        return missing.size === 0;
      },
      () => `${missing.size} still missing, e.g. ${[...missing.keys()].slice(0, 3).join(', ')}`,
    );
  } finally {
    agent.destroy();
  }
}

/** Opens the index directory itself (once pm2 stopped every app) and returns what it holds. */
export async function contentsOf(indexDirectory: string): Promise<Map<string, string>> {
  const index = await Index.open(indexDirectory, { role: 'writer', keyEncoding: 'utf8', valueEncoding: 'utf8' });
  try {
    return new Map(index.range());
  } finally {
    await index.close();
  }
}

/** The acknowledged writes the contents lack or hold with another value. */
export function lostWrites(acknowledged: ReadonlyMap<string, string>, contents: ReadonlyMap<string, string>): string[] {
  return [...acknowledged].filter(([key, value]) => contents.get(key) !== value).map(([key]) => key);
}
