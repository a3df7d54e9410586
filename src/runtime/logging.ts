// The process logger: pino JSON lines by default, pino-pretty when a person
// watches a terminal. Secrets are redacted twice over: pino's `redact` paths
// (fast, fixed depth) and a deep scrub of every logged object, child binding
// and serialized error (any depth, any casing, and whole Secret data), because
// registry credentials and TLS keys travel inside specs, Docker auth configs
// and API error bodies where no fixed path can reach.

import { Writable } from 'node:stream';
import { pino, stdSerializers, type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';

export const REDACTED = '[REDACTED]';

/** Keys whose values are secrets, compared case-insensitively. */
const SECRET_KEYS = [
  'password',
  'passwd',
  'auth',
  'authconfig',
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'token',
  'bearertoken',
  'accesstoken',
  'refreshtoken',
  'identitytoken',
  'registrytoken',
  'key',
  'privatekey',
  'tlskey',
  'clientkey',
  // Not plain 'secret': fields of that name usually hold a Secret's name, which logs need.
  'clientsecret',
  '.dockerconfigjson',
  '.dockercfg',
  'stringdata',
];
const SECRET_KEY_SET = new Set(SECRET_KEYS);

const PATH_KEYS = [
  'password',
  'auth',
  'authconfig',
  'authConfig',
  'token',
  'bearerToken',
  'key',
  'privateKey',
  'stringData',
  '".dockerconfigjson"',
  '".dockercfg"',
];

/** pino `redact` paths: each key at the top level and up to two levels down, plus known spots. */
export const REDACT_PATHS: readonly string[] = [
  ...PATH_KEYS.flatMap((k) => {
    const seg = k.startsWith('"') ? `[${k}]` : `.${k}`;
    const top = k.startsWith('"') ? `[${k}]` : k;
    return [top, `*${seg}`, `*.*${seg}`];
  }),
  'tls.key',
  '*.tls.key',
  'headers.authorization',
  'headers.Authorization',
  '*.headers.authorization',
  '*.headers.Authorization',
  'data[".dockerconfigjson"]',
  '*.data[".dockerconfigjson"]',
];

const MAX_DEPTH = 12;

/**
 * A copy of `value` with secrets replaced by "[REDACTED]": values under
 * secret-looking keys at any depth, and `data`/`stringData` of Secret objects.
 */
export function scrubSecrets(value: unknown): unknown {
  return scrub(value, 0, new WeakSet());
}

function scrub(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value !== 'object' || value === null) return value;
  // Errors keep their identity so pino's err serializer sees them (it is wrapped to scrub afterwards).
  if (value instanceof Error || value instanceof Date || ArrayBuffer.isView(value)) return value;
  if (seen.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Truncated]';
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1, seen));
    const isSecret = (value as { kind?: unknown }).kind === 'Secret';
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (SECRET_KEY_SET.has(k.toLowerCase()) || (isSecret && k === 'data')) {
        out[k] = v === undefined ? undefined : REDACTED;
      } else {
        out[k] = scrub(v, depth + 1, seen);
      }
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

export interface LoggerOptions {
  /** pino level: trace, debug, info, warn, error, fatal, silent. Default info. */
  level?: string;
  /** Human-readable output; default: when stdout is a terminal. */
  pretty?: boolean;
  /** Where lines go; default stdout. */
  destination?: DestinationStream | Writable;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const usePretty = options.pretty ?? process.stdout.isTTY === true;
  const config = {
    level: options.level ?? 'info',
    redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    formatters: {
      log: (obj: Record<string, unknown>) => scrubSecrets(obj) as Record<string, unknown>,
      bindings: (bindings: Record<string, unknown>) => scrubSecrets(bindings) as Record<string, unknown>,
    },
    serializers: {
      err: (err: Error) => scrubSecrets(stdSerializers.err(err)),
    },
  };
  if (usePretty) {
    const stream = pretty({
      colorize: options.destination === undefined && process.stdout.isTTY === true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname',
      ...(options.destination ? { destination: options.destination as Writable } : {}),
      sync: true,
    });
    return pino(config, stream);
  }
  // Synchronous stdout by default: a controller logs little, and nothing is lost when the process exits.
  return options.destination ? pino(config, options.destination) : pino(config);
}
