import { BrokenPipeError } from './errors.js';

/** Lines are gathered into chunks of about this size: one write call per chunk, not per line. */
const CHUNK_CHARS = 64 * 1024;

/**
 * Writes lines to a stream (standard output, an export file) in chunks,
 * waiting when the stream asks for it, so a scan of millions of keys into a
 * slow pipe holds a bounded amount in memory. A reader that goes away (EPIPE:
 * `silt scan ... | head`) turns into a BrokenPipeError the command can stop on.
 */
export class LineWriter {
  private pending = '';
  private failure: Error | undefined;

  constructor(private readonly stream: NodeJS.WritableStream) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      this.failure = error.code === 'EPIPE' ? new BrokenPipeError() : error;
    });
  }

  async line(text: string): Promise<void> {
    this.pending += text + '\n';
    if (this.pending.length >= CHUNK_CHARS) await this.flush();
  }

  /** Writes what is gathered and waits until the stream took it. */
  async flush(): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    const chunk = this.pending;
    this.pending = '';
    if (chunk.length === 0 || this.stream.write(chunk)) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.stream.off('drain', done);
        this.stream.off('close', done);
        this.stream.off('error', done);
        resolve();
      };
      this.stream.on('drain', done);
      this.stream.on('close', done);
      this.stream.on('error', done);
    });
    if (this.failure !== undefined) throw this.failure;
  }
}
