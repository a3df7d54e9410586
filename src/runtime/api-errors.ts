// Classifies errors from the Kubernetes API. client-node 2.x throws
// `ApiException` (with `.code`) from generated clients, and plain errors with
// `.statusCode` from `Watch`; both are read here so callers need not care.

import { ApiException } from '@kubernetes/client-node';

export function statusCodeOf(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  if (typeof err === 'object' && err !== null) {
    const { code, statusCode } = err as { code?: unknown; statusCode?: unknown };
    if (typeof statusCode === 'number') return statusCode;
    if (typeof code === 'number') return code;
  }
  return undefined;
}

/** 409: an optimistic-concurrency conflict (stale resourceVersion) or "already exists". */
export function isConflict(err: unknown): boolean {
  return statusCodeOf(err) === 409;
}

export function isNotFound(err: unknown): boolean {
  return statusCodeOf(err) === 404;
}

/** 410 Gone: the resourceVersion is too old to watch from; the caller must relist. */
export function isGone(err: unknown): boolean {
  return statusCodeOf(err) === 410;
}

/** A readable one-line description of any thrown value, safe against hostile toString. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  try {
    return typeof err === 'string' ? err : (JSON.stringify(err) ?? String(err));
  } catch {
    return Object.prototype.toString.call(err);
  }
}

/** Wraps a thrown non-Error so logs and callers always get an Error with a stack. */
export function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(`non-Error thrown: ${describeError(err)}`);
}
