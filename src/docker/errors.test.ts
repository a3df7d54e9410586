import { describe, expect, it } from 'vitest';
import { classifyHostError, errorMessage, isAgentDisconnectedError, isStaleRuntimeState } from './errors.js';

const err = (message: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(message), extra);

describe('classifyHostError', () => {
  it.each([
    ['connection refused', err('connect ECONNREFUSED 127.0.0.1:1', { code: 'ECONNREFUSED' }), 'Unreachable'],
    ['no socket', err('connect ENOENT /nope.sock', { code: 'ENOENT' }), 'Unreachable'],
    ['dns', err('getaddrinfo ENOTFOUND nohost', { code: 'ENOTFOUND' }), 'Unreachable'],
    [
      'unknown CA',
      err('self-signed certificate in certificate chain', { code: 'SELF_SIGNED_CERT_IN_CHAIN' }),
      'TLSError',
    ],
    [
      'bad cert alert',
      err('ssl alert bad certificate', { code: 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE' }),
      'TLSError',
    ],
    [
      'hostname mismatch',
      err("Hostname/IP does not match certificate's altnames", { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }),
      'TLSError',
    ],
    [
      'unreadable private key in the TLS Secret',
      err('error:1E08010C:DECODER routines::unsupported', { code: 'ERR_OSSL_UNSUPPORTED' }),
      'TLSError',
    ],
    [
      'plain http to TLS port',
      err('Client sent an HTTP request to an HTTPS server.', { statusCode: 400 }),
      'DaemonError',
    ],
    ['unauthorized', err('unauthorized', { statusCode: 401 }), 'Unauthorized'],
    ['forbidden', err('authorization denied by plugin', { statusCode: 403 }), 'Unauthorized'],
    ['timeout', err('Timeout of 15000 ms exceeded'), 'Timeout'],
    ['socket timeout', err('socket timed out', { code: 'ETIMEDOUT' }), 'Timeout'],
    ['server error', err('(HTTP code 500) server error', { statusCode: 500 }), 'DaemonError'],
    ['config', err('Secret lacks tls.key', { code: 'ConfigError' }), 'ConfigError'],
    ['not an error', 'weird', 'Unreachable'],
  ])('%s → %s', (_name, input, reason) => {
    expect(classifyHostError(input)).toBe(reason);
  });
});

describe('errorMessage', () => {
  it('prefixes the code once and keeps the first line only', () => {
    expect(errorMessage(err('refused\nstack', { code: 'ECONNREFUSED' }))).toBe('ECONNREFUSED: refused');
    expect(errorMessage(err('connect ECONNREFUSED x', { code: 'ECONNREFUSED' }))).toBe(
      'connect ECONNREFUSED x',
    );
    expect(errorMessage(42)).toBe('42');
  });
});

describe('isStaleRuntimeState', () => {
  it.each([
    [
      'the shim bundle left by an interrupted start',
      err(
        '(HTTP code 500) server error - failed to start shim: mkdir /var/run/docker/containerd/daemon/io.containerd.runtime.v2.task/moby/083a: file exists: unknown',
        { statusCode: 500 },
      ),
      true,
    ],
    ['another server error', err('(HTTP code 500) server error - no space left', { statusCode: 500 }), false],
    ['a conflict that mentions a file', err('file exists', { statusCode: 409 }), false],
    ['not an error object', 'failed to start shim: file exists', false],
  ])('%s → %s', (_name, input, expected) => {
    expect(isStaleRuntimeState(input)).toBe(expected);
  });
});

describe('isAgentDisconnectedError', () => {
  const modemError = (statusCode: number, message: string) =>
    Object.assign(new Error(`(HTTP code ${statusCode}) unexpected - ${message}`), {
      statusCode,
      json: { message },
    });
  it.each([
    ['the local socket saying no tunnel', modemError(503, 'dockyard-agent: not connected: edge-1'), true],
    ['a daemon 503 of its own', modemError(503, 'service unavailable'), false],
    ['another status with the words', modemError(500, 'dockyard-agent: not connected: edge-1'), false],
    ['not an error object', 'dockyard-agent: not connected', false],
  ])('%s → %s', (_name, err, expected) => {
    expect(isAgentDisconnectedError(err)).toBe(expected);
  });
});
