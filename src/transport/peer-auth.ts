import { createHmac, timingSafeEqual } from 'node:crypto';

/** Headers every peer request carries. */
export const PEER_HEADERS = {
  cluster: 'x-conclave-cluster',
  from: 'x-conclave-from',
  signature: 'x-conclave-signature',
} as const;

/**
 * Signature of a peer request: HMAC-SHA256 keyed by the cluster secret over the cluster name,
 * sender, receiver and body. The secret itself never crosses the network.
 */
export function signPeerRequest(
  secret: string,
  cluster: string,
  from: string,
  to: string,
  body: Uint8Array,
): string {
  return createHmac('sha256', secret).update(`${cluster}\n${from}\n${to}\n`).update(body).digest('hex');
}

export function verifyPeerSignature(
  secret: string,
  cluster: string,
  from: string,
  to: string,
  body: Uint8Array,
  signature: string,
): boolean {
  const expected = Buffer.from(signPeerRequest(secret, cluster, from, to, body), 'hex');
  const given = Buffer.from(signature, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
