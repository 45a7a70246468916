// A hand-made peer stream handshake, for tests that play a (good or bad) peer.
import { request } from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { signHello } from '../../src/transport/peer-auth.js';
import { PEER_STREAM_PATH } from '../../src/transport/peer-link.js';

/** A hand-made handshake: the answer's status and body, or the upgraded socket. */
export function handshake(
  url: string,
  headers: Record<string, string>,
  path = PEER_STREAM_PATH,
): Promise<{ status: number; body: string; res: IncomingMessage; socket?: Socket }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, url), {
      method: 'GET',
      agent: false,
      headers: { connection: 'Upgrade', upgrade: 'conclave-raft/1', ...headers },
    });
    req.on('error', reject);
    req.on('upgrade', (res, socket) => {
      resolve({ status: res.statusCode ?? 0, body: '', res, socket });
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body, res });
      });
    });
    req.end();
  });
}

export function helloHeaders(
  fields: { cluster: string; from: string; to: string; nonce: string },
  secret: string,
) {
  return {
    'x-conclave-cluster': fields.cluster,
    'x-conclave-from': fields.from,
    'x-conclave-to': fields.to,
    'x-conclave-nonce': fields.nonce,
    'x-conclave-signature': signHello(secret, { ...fields, clientNonce: fields.nonce }),
  };
}
