/** The frame types of protocol version 1 (FORMAT.md), by name. */
export const FrameType = {
  hello: 0x01,
  welcome: 0x02,
  refused: 0x03,
  writes: 0x10,
  command: 0x11,
  acks: 0x20,
  failed: 0x21,
  done: 0x22,
  protocolError: 0x7f,
} as const;

export type FrameType = (typeof FrameType)[keyof typeof FrameType];

/** The most a frame's length field may say: its type byte and body. Room for a 32 MiB value with its key and framing. */
export const MAX_FRAME_BYTES = 32 * 1024 * 1024 + 4096;

/** The u32 length and the u8 type before every body: a body starts at this byte of its frame. */
export const FRAME_HEADER_BYTES = 5;

const NAMES = new Map<number, string>([
  [FrameType.hello, 'HELLO'],
  [FrameType.welcome, 'WELCOME'],
  [FrameType.refused, 'REFUSED'],
  [FrameType.writes, 'WRITES'],
  [FrameType.command, 'COMMAND'],
  [FrameType.acks, 'ACKS'],
  [FrameType.failed, 'FAILED'],
  [FrameType.done, 'DONE'],
  [FrameType.protocolError, 'PROTOCOL_ERROR'],
]);

export function isFrameType(type: number): type is FrameType {
  return NAMES.has(type);
}

/** The name FORMAT.md gives a type, or its hex value when it has none: for messages. */
export function frameTypeName(type: number): string {
  return NAMES.get(type) ?? `0x${type.toString(16).padStart(2, '0')}`;
}
