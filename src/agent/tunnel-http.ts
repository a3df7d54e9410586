// What both tunnel ends need alike: which headers a proxy passes on, a ping
// with a deadline, and the small log interface. Kept here so neither end
// imports the other.

import http2 from 'node:http2';
import { isIP } from 'node:net';
import tls from 'node:tls';

/** The two log calls the tunnel ends make; a pino Logger fits. */
export interface AgentLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export const SILENT_LOG: AgentLog = { info: () => {}, warn: () => {} };

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'transfer-encoding',
  'upgrade',
  'host',
  'te',
  'trailer',
  'http2-settings',
  // The hub's HTTP/1 server has already answered it with 100 Continue.
  'expect',
]);

/**
 * Headers a proxy passes on: not pseudo-headers, not hop-by-hop ones (HTTP/2
 * refuses them outright), not any named in `Connection`. Used in both
 * directions on both tunnel ends.
 */
export function forwardableHeaders(
  headers: Record<string, string | string[] | number | undefined>,
): Record<string, string | string[]> {
  const namedByConnection = String(headers.connection ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase());
  const forwarded: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name.startsWith(':')) continue;
    if (HOP_BY_HOP.has(name) || namedByConnection.includes(name)) continue;
    forwarded[name] = typeof value === 'number' ? String(value) : value;
  }
  return forwarded;
}

/**
 * At a stream's 'end': did the peer end it (END_STREAM), or did a reset or a
 * dying session end it? Node ends the readable side in both cases; only the
 * code set before that tells them apart.
 */
export function endedCleanly(stream: http2.Http2Stream): boolean {
  return stream.rstCode === http2.constants.NGHTTP2_NO_ERROR;
}

/** Resolves with the round trip in ms; rejects if the ping fails or is not answered within deadlineMs. */
export function pingWithin(session: http2.Http2Session, deadlineMs: number): Promise<number> {
  return withDeadline(
    new Promise<number>((resolve, reject) => {
      const sent = session.ping((err, durationMs) => (err ? reject(err) : resolve(durationMs)));
      if (!sent) reject(new Error('ping not sent (too many outstanding)'));
    }),
    deadlineMs,
    'ping',
  );
}

/** Rejects if `work` has not settled within ms. */
export function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * TLS options that check the controller's certificate against `serverName`
 * (default the dialled host). SNI cannot carry an IP address, so for an IP
 * the name is checked by checkServerIdentity instead of sent as servername.
 */
export function serverIdentityOptions(
  host: string,
  serverName: string | undefined,
): Pick<tls.ConnectionOptions, 'servername' | 'checkServerIdentity'> {
  const name = serverName ?? host;
  if (!isIP(name)) return { servername: name };
  return { checkServerIdentity: (_host, cert) => tls.checkServerIdentity(name, cert) };
}
