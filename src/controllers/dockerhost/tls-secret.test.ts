import { describe, expect, it } from 'vitest';
import { TlsSecretError, tlsFromSecret } from './tls-secret.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const ref = { namespace: 'dockyard', name: 'lab-tls' };

describe('tlsFromSecret', () => {
  it('decodes the three keys', () => {
    const tls = tlsFromSecret(
      { data: { 'ca.crt': b64('CA'), 'tls.crt': b64('CERT'), 'tls.key': b64('KEY') } },
      ref,
      'lab',
    );
    expect(tls).toEqual({ ca: 'CA', cert: 'CERT', key: 'KEY', serverName: 'lab' });
  });
  it('names the missing keys and the Secret, never the values', () => {
    let error: unknown;
    try {
      tlsFromSecret({ data: { 'ca.crt': b64('CA'), 'tls.key': b64('SENTINEL-KEY') } }, ref);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(TlsSecretError);
    expect((error as TlsSecretError).message).toBe('Secret dockyard/lab-tls lacks tls.crt');
    expect((error as TlsSecretError).reason).toBe('ConfigError');
  });
});
