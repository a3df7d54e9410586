import { AGENT_DISCONNECTED_PREFIX, AGENT_DISCONNECTED_STATUS } from '../agent/protocol.js';
import { Reason, type HostFailureReason } from '../crds/reasons.js';

/** Why a Docker host cannot be used, as a condition reason. */
export type { HostFailureReason };

const TLS_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
  'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
  'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
  'ERR_OSSL_PEM_NO_START_LINE',
  'ERR_OSSL_X509_KEY_VALUES_MISMATCH',
  'EPROTO',
]);

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOENT',
  'ECONNRESET',
  'EPIPE',
  'EAI_AGAIN',
]);

interface ErrorLike {
  code?: unknown;
  statusCode?: unknown;
  message?: unknown;
}

/**
 * Classifies an error from a Docker call into a condition reason. Pure, so the
 * mapping is table-tested; the message shown to users comes from errorMessage.
 */
export function classifyHostError(err: unknown): HostFailureReason {
  const e = (typeof err === 'object' && err !== null ? err : {}) as ErrorLike;
  const code = typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' ? e.message : String(err);
  if (code === Reason.ConfigError) return Reason.ConfigError;
  if (
    TLS_CODES.has(code) ||
    code.startsWith('ERR_SSL_') ||
    code.startsWith('ERR_TLS_') ||
    // OpenSSL could not read the CA, certificate or key from the Secret.
    code.startsWith('ERR_OSSL_') ||
    /certificate|ssl|tls/i.test(message)
  ) {
    return Reason.TLSError;
  }
  if (e.statusCode === 401 || e.statusCode === 403) return Reason.Unauthorized;
  if (code === 'ETIMEDOUT' || code === 'ESOCKETTIMEDOUT' || /timeout|timed out/i.test(message))
    return Reason.Timeout;
  if (UNREACHABLE_CODES.has(code)) return Reason.Unreachable;
  if (typeof e.statusCode === 'number') return Reason.DaemonError;
  return Reason.Unreachable;
}

/** A one-line message for conditions and events; never includes request bodies (they may hold credentials). */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as ErrorLike).code;
    const text = err.message.split('\n')[0] ?? err.message;
    return typeof code === 'string' && !text.includes(code) ? `${code}: ${text}` : text;
  }
  return String(err);
}

/** A configuration problem found before talking to the daemon (e.g. a missing TLS Secret key). */
export class HostConfigError extends Error {
  /** classifyHostError reads the code as the reason. */
  readonly code = Reason.ConfigError;
}

/**
 * Docker's "failed to start shim: mkdir …: file exists": a start that was cut
 * off (the daemon paused or killed mid-start) left containerd's bundle
 * directory for this container ID behind, and every later start of the same
 * container fails the same way. Only a new container (a new ID) starts again.
 */
export function isStaleRuntimeState(err: unknown): boolean {
  const e = (typeof err === 'object' && err !== null ? err : {}) as ErrorLike;
  const message = typeof e.message === 'string' ? e.message : '';
  return e.statusCode === 500 && /shim/i.test(message) && /file exists/i.test(message);
}

/**
 * A request to an agent-connected host that found no tunnel (the local
 * socket's own answer, see agent/protocol.ts): the host, not the object, is
 * the problem, like a hung daemon.
 */
export function isAgentDisconnectedError(err: unknown): boolean {
  const e = (typeof err === 'object' && err !== null ? err : {}) as ErrorLike & { json?: unknown };
  if (e.statusCode !== AGENT_DISCONNECTED_STATUS) return false;
  const json = (typeof e.json === 'object' && e.json !== null ? e.json : {}) as { message?: unknown };
  const message = typeof json.message === 'string' ? json.message : String(e.message ?? '');
  return message.includes(AGENT_DISCONNECTED_PREFIX);
}
