import { randomBytes } from 'node:crypto';
import { Agent } from 'node:http';
import { errorCodeOf, httpGet, httpRequest } from './http-request.js';

/** One request the load sent, and how it ended. Times are `performance.now()` milliseconds. */
export interface RequestRecord {
  readonly kind: 'put' | 'get';
  readonly key: string;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly ok: boolean;
  /** Why it failed: the HTTP status and error code, or the network error. */
  readonly failure: string | undefined;
  /** The error answer's body, for a failure with an HTTP status. */
  readonly detail: string | undefined;
}

export interface LoadOptions {
  /** Where PUTs go. */
  readonly putPort: number;
  /** Where GETs go. */
  readonly getPort: number;
  /** Request loops running at once; each sends a PUT of a new key, then a GET of an acknowledged one. */
  readonly concurrency: number;
  /** Keys are `<keyPrefix>-<loop>-<n>`: unique in the test. */
  readonly keyPrefix: string;
  /** The load stops by itself after this many requests, or this long, whichever comes first. */
  readonly maxRequests: number;
  readonly maxDurationMs: number;
}

/**
 * Concurrent HTTP load from the test process: every PUT writes a key no
 * other PUT writes, so a key's value is known exactly; every PUT answered
 * 200 is recorded as acknowledged. GETs read acknowledged keys back: a
 * wrong value is a violation; a 404 is a stale read (another instance has
 * not caught up yet), counted, not failed. Keep-alive connections, as a
 * proxy in front of pm2 would hold.
 */
export class LoadGenerator {
  /** Every acknowledged write: key → value. */
  readonly acknowledged = new Map<string, string>();
  readonly records: RequestRecord[] = [];
  /** GETs that returned another value than the acknowledged one. */
  readonly wrongReads: string[] = [];
  private staleGets = 0;
  private readonly acknowledgedKeys: string[] = [];
  private readonly agent: Agent;
  private stopping = false;
  private loops: Array<Promise<void>> = [];
  private sent = 0;

  constructor(private readonly options: LoadOptions) {
    this.agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  }

  start(): void {
    const stopAt = performance.now() + this.options.maxDurationMs;
    this.loops = Array.from({ length: this.options.concurrency }, (_, loop) => this.run(loop, stopAt));
  }

  /** Stops sending and resolves once every request in flight ended. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.loops);
    this.agent.destroy();
  }

  get staleReads(): number {
    return this.staleGets;
  }

  /** Whether some PUT sent at or after `time` was acknowledged. */
  acknowledgedSince(time: number): boolean {
    return this.records.some((record) => record.kind === 'put' && record.ok && record.startedAt >= time);
  }

  failures(): RequestRecord[] {
    return this.records.filter((record) => !record.ok);
  }

  private async run(loop: number, stopAt: number): Promise<void> {
    for (let n = 0; !this.stopping && performance.now() < stopAt && this.sent < this.options.maxRequests; n++) {
      await this.put(`${this.options.keyPrefix}-${loop}-${n}`);
      if (this.acknowledgedKeys.length > 0)
        await this.get(this.acknowledgedKeys[Math.floor(Math.random() * this.acknowledgedKeys.length)]!);
    }
  }

  private async put(key: string): Promise<void> {
    const value = `${key}:${randomBytes(6).toString('hex')}`;
    await this.send('put', this.options.putPort, key, value, (answer) => {
      if (answer.status !== 200) return `${answer.status} ${errorCodeOf(answer) ?? answer.body.slice(0, 80)}`;
      this.acknowledged.set(key, value);
      this.acknowledgedKeys.push(key);
      return undefined;
    });
  }

  private async get(key: string): Promise<void> {
    const expected = this.acknowledged.get(key);
    await this.send('get', this.options.getPort, key, undefined, (answer) => {
      if (answer.status === 404) {
        this.staleGets++;
        return undefined;
      }
      if (answer.status !== 200) return `${answer.status} ${errorCodeOf(answer) ?? answer.body.slice(0, 80)}`;
      if (answer.body !== expected) this.wrongReads.push(`${key}: read ${answer.body}, acknowledged ${expected}`);
      return undefined;
    });
  }

  /** Sends one request and records it; `judge` returns why an answer is a failure, or undefined. */
  private async send(
    kind: 'put' | 'get',
    port: number,
    key: string,
    body: string | undefined,
    judge: (answer: { status: number; body: string }) => string | undefined,
  ): Promise<void> {
    this.sent++;
    const startedAt = performance.now();
    let failure: string | undefined;
    let detail: string | undefined;
    try {
      const path = `/keys/${encodeURIComponent(key)}`;
      const answer = kind === 'put' ? await httpRequest(this.agent, port, 'PUT', path, body) : await httpGet(this.agent, port, path);
      failure = judge(answer);
      if (failure !== undefined) detail = answer.body;
    } catch (error) {
      failure = (error as Error).message;
    }
    this.records.push({ kind, key, startedAt, endedAt: performance.now(), ok: failure === undefined, failure, detail });
  }
}
