// Pure helpers for DockerImage: what the spec means in numbers, and how
// progress and retries read in status.

import type { DockerImage } from '../../crds/dockerimage.js';
import { familiarOrAsWritten } from '../../docker/image-reference.js';
import type { PullProgress } from '../../docker/image-client.js';

export type PullPolicy = 'IfNotPresent' | 'Always' | 'Never';

export const DEFAULT_REFRESH_INTERVAL_MS = 5 * 60_000;
/** First retry after a failed pull; doubles per failure up to RETRY_CAP_MS. */
export const RETRY_BASE_MS = 5_000;
export const RETRY_CAP_MS = 5 * 60_000;

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** A Go-style duration (`30s`, `5m`, `1h30m`, `1.5s`) in milliseconds. */
export function parseDuration(text: string): number {
  const re = /([0-9]+(?:\.[0-9]+)?)(ns|us|ms|s|m|h)/gy;
  let total = 0;
  let end = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * (UNIT_MS[m[2] ?? ''] ?? 0);
    end = re.lastIndex;
  }
  if (text.length === 0 || end !== text.length) throw new Error(`invalid duration ${JSON.stringify(text)}`);
  return Math.round(total);
}

export function pullPolicyOf(image: DockerImage): PullPolicy {
  return image.spec.pullPolicy ?? 'IfNotPresent';
}

/** How often a tag is re-resolved under Always; at least a second. */
export function refreshIntervalMs(image: DockerImage): number {
  const text = image.spec.refreshInterval;
  if (!text) return DEFAULT_REFRESH_INTERVAL_MS;
  try {
    return Math.max(1_000, parseDuration(text));
  } catch {
    return DEFAULT_REFRESH_INTERVAL_MS;
  }
}

/** Wait before retry number `failures` (5 s, 10 s, 20 s … capped at 5 min). */
export function retryDelayMs(failures: number): number {
  if (failures <= 0) return 0;
  return Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** Math.min(failures - 1, 20));
}

/** The image's name in Docker (familiar form with its tag or digest); never throws. */
export function imageRefOf(image: DockerImage): string {
  return familiarOrAsWritten(image.spec.image);
}

/** Whether the reference pins a digest (nothing to re-resolve). */
export function isPinned(ref: string): boolean {
  return ref.includes('@');
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

export function describeProgress(ref: string, p: PullProgress | undefined): string {
  if (!p || p.totalBytes === 0) return `pulling ${ref}`;
  return `pulling ${ref}: ${p.percent}% (${formatBytes(p.currentBytes)} of ${formatBytes(p.totalBytes)})`;
}
