/** Stable codes of CodecError (the messages may change; the codes do not). */
export type CodecErrorCode =
  /** The bytes received from a peer are not a well-formed message batch. */
  'BAD_PEER_MESSAGE';

/** Thrown by decodeMessages for any malformed input. */
export class CodecError extends Error {
  override readonly name = 'CodecError';
  readonly code: CodecErrorCode = 'BAD_PEER_MESSAGE';
  /** Byte offset in the input at which the problem was found. */
  readonly offset: number;

  constructor(message: string, offset: number) {
    super(`bad peer message at byte ${offset}: ${message}`);
    this.offset = offset;
  }
}
