import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Headers of the peer stream handshake (an HTTP/1.1 Upgrade request and its 101 answer). */
export const PEER_HEADERS = {
  cluster: 'x-conclave-cluster',
  from: 'x-conclave-from',
  to: 'x-conclave-to',
  nonce: 'x-conclave-nonce',
  signature: 'x-conclave-signature',
} as const;

/** The Upgrade token; a new wire format gets a new token, so old and new nodes refuse each other clearly. */
export const PEER_PROTOCOL = 'conclave-raft/1';

/** Bytes of the truncated HMAC-SHA256 that authenticates each frame. */
export const FRAME_MAC_BYTES = 16;

const DOMAIN = 'conclave-stream-v1';

export interface HandshakeFields {
  readonly cluster: string;
  readonly from: string;
  readonly to: string;
  /** Hex, chosen by the dialer. */
  readonly clientNonce: string;
}

export function newNonce(): string {
  return randomBytes(16).toString('hex');
}

/** The dialer proves it holds the cluster secret, for this cluster, sender, receiver and nonce. */
export function signHello(secret: string, f: HandshakeFields): string {
  return hmacHex(secret, `${DOMAIN}\nhello\n${f.cluster}\n${f.from}\n${f.to}\n${f.clientNonce}`);
}

/** The acceptor proves the same, over both nonces, so neither side can be answered by a replay. */
export function signAccept(secret: string, f: HandshakeFields, serverNonce: string): string {
  return hmacHex(
    secret,
    `${DOMAIN}\naccept\n${f.cluster}\n${f.from}\n${f.to}\n${f.clientNonce}\n${serverNonce}`,
  );
}

export function signatureMatches(expected: string, given: string | undefined): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(expected, 'hex');
  const b = Buffer.from(given, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The key that authenticates every frame of one connection. Both nonces go in, so frames
 * captured from one connection verify on no other.
 */
export function sessionKey(secret: string, f: HandshakeFields, serverNonce: string): Buffer {
  return createHmac('sha256', secret)
    .update(`${DOMAIN}\nsession\n${f.cluster}\n${f.from}\n${f.to}\n${f.clientNonce}\n${serverNonce}`)
    .digest();
}

/**
 * MAC of frame number `seq` of a connection. The sequence number is implicit (both ends count
 * frames), so a frame that is dropped, replayed or reordered makes every later MAC fail.
 */
export function frameMac(key: Buffer, seq: number, payload: Uint8Array): Buffer {
  const counter = Buffer.allocUnsafe(8);
  counter.writeBigUInt64BE(BigInt(seq));
  return createHmac('sha256', key).update(counter).update(payload).digest().subarray(0, FRAME_MAC_BYTES);
}

function hmacHex(secret: string, text: string): string {
  return createHmac('sha256', secret).update(text).digest('hex');
}
