import { createHash, randomBytes } from 'node:crypto';

/** A 64-hex ID like Docker's container, network and endpoint IDs. */
export function newId(): string {
  return randomBytes(32).toString('hex');
}

/** A digest derived from a name, so the same image name gets the same ID on every hollow host. */
export function digestOf(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

/** Docker's RFC 3339 timestamps carry nanoseconds; ours carry the milliseconds we have, padded. */
export function rfc3339Nano(ms: number = Date.now()): string {
  const iso = new Date(ms).toISOString(); // 2024-01-02T03:04:05.678Z
  return `${iso.slice(0, 23)}${String(process.hrtime.bigint() % 1_000_000n).padStart(6, '0')}Z`;
}

/** Docker's "never": Go's zero time. */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

/** Nanoseconds since the epoch, strictly increasing within this process (events are ordered by it). */
let lastNano = 0n;
export function nowNano(): bigint {
  const wall = BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
  lastNano = wall > lastNano ? wall : lastNano + 1n;
  return lastNano;
}
