import { SiltError } from '@silt/fs';

/**
 * Bytes on a writer-actor socket that break the wire format (FORMAT.md). The
 * stream cannot be trusted after one: the side that finds it sends
 * PROTOCOL_ERROR and closes the connection.
 */
export class ProtocolError extends SiltError {
  readonly code = 'SILT_PROTOCOL';
  /** Where in the frame it went wrong: 0 is the first length byte, 4 the type byte, the body starts at 5. */
  readonly frameOffset: number | undefined;

  constructor(detail: string, frameOffset?: number) {
    super(frameOffset === undefined ? `writer protocol: ${detail}` : `writer protocol: ${detail} (at byte ${frameOffset} of the frame)`);
    this.frameOffset = frameOffset;
  }
}
