import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, REDACTED, scrubSecrets } from './logging.js';

const SENTINEL = 'S3NT1NEL-do-not-log';

function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return { stream, text: () => chunks.join('') };
}

class ApiLikeError extends Error {
  constructor(readonly body: unknown) {
    super('Unsuccessful HTTP Request');
  }
}

class SecretModel {
  apiVersion = 'v1';
  kind = 'Secret';
  metadata = { name: 'regcred', namespace: 'ns' };
  data = { '.dockerconfigjson': SENTINEL };
}

const cases: { name: string; log: (l: ReturnType<typeof createLogger>) => void; visible?: string }[] = [
  {
    name: 'top-level password',
    log: (l) => l.info({ password: SENTINEL, user: 'bob' }, 'x'),
    visible: 'bob',
  },
  {
    name: 'registry auth',
    log: (l) => l.info({ registry: { auth: SENTINEL, server: 'ghcr.io' } }),
    visible: 'ghcr.io',
  },
  {
    name: 'docker authconfig',
    log: (l) => l.info({ pull: { authconfig: { username: 'u', password: SENTINEL } } }),
  },
  { name: 'camelCase authConfig', log: (l) => l.info({ opts: { authConfig: SENTINEL } }) },
  { name: 'bearer token', log: (l) => l.info({ cluster: { user: { bearerToken: SENTINEL } } }) },
  { name: 'token deep down', log: (l) => l.info({ a: { b: { c: { d: { e: { token: SENTINEL } } } } } }) },
  {
    name: 'TLS key',
    log: (l) => l.info({ tls: { key: SENTINEL, cert: 'PUBLIC-CERT' } }),
    visible: 'PUBLIC-CERT',
  },
  { name: 'privateKey', log: (l) => l.info({ host: { ssh: { privateKey: SENTINEL } } }) },
  { name: 'authorization header', log: (l) => l.info({ headers: { authorization: `Bearer ${SENTINEL}` } }) },
  {
    name: 'Authorization header, nested',
    log: (l) => l.info({ req: { headers: { Authorization: SENTINEL } } }),
  },
  {
    name: 'Secret data',
    log: (l) => l.info({ obj: { kind: 'Secret', metadata: { name: 's' }, data: { foo: SENTINEL } } }),
    visible: '"name":"s"',
  },
  { name: 'Secret model class instance', log: (l) => l.info({ obj: new SecretModel() }), visible: 'regcred' },
  { name: 'stringData', log: (l) => l.info({ obj: { stringData: { pw: SENTINEL } } }) },
  {
    name: '.dockerconfigjson anywhere',
    log: (l) => l.info({ x: { data: { '.dockerconfigjson': SENTINEL } } }),
  },
  { name: 'array of credentials', log: (l) => l.info({ registries: [{ server: 'a', password: SENTINEL }] }) },
  {
    name: 'child logger bindings',
    log: (l) => l.child({ token: SENTINEL, controller: 'c' }).info('hi'),
    visible: '"controller":"c"',
  },
  {
    name: 'error body',
    log: (l) => l.error({ err: new ApiLikeError({ spec: { auth: { password: SENTINEL } } }) }, 'failed'),
    visible: 'Unsuccessful HTTP Request',
  },
  { name: 'error as first argument', log: (l) => l.error(new ApiLikeError({ token: SENTINEL })) },
];

describe('createLogger redaction', () => {
  it.each(cases)('JSON: $name', ({ log, visible }) => {
    const out = sink();
    const logger = createLogger({ level: 'debug', pretty: false, destination: out.stream });
    log(logger);
    const text = out.text();
    expect(text).not.toContain(SENTINEL);
    expect(text).toContain(REDACTED);
    if (visible) expect(text).toContain(visible);
    // Every line is still valid JSON.
    for (const line of text.trim().split('\n')) expect(() => JSON.parse(line) as unknown).not.toThrow();
  });

  it('pretty output is redacted too', () => {
    const out = sink();
    const logger = createLogger({ pretty: true, destination: out.stream });
    logger.info({ password: SENTINEL, registry: { auth: SENTINEL } }, 'pulling');
    const text = out.text();
    expect(text).toContain('pulling');
    expect(text).toContain(REDACTED);
    expect(text).not.toContain(SENTINEL);
    expect(text.trimStart().startsWith('{')).toBe(false);
  });

  it.each([
    { level: 'info', debugShown: false },
    { level: 'debug', debugShown: true },
  ])('level $level: debug lines shown = $debugShown', ({ level, debugShown }) => {
    const out = sink();
    const logger = createLogger({ level, pretty: false, destination: out.stream });
    logger.debug('dbg');
    logger.info('inf');
    expect(out.text().includes('"dbg"')).toBe(debugShown);
    expect(out.text()).toContain('"inf"');
  });
});

describe('scrubSecrets', () => {
  it('handles cycles, keeps non-secret values and does not mutate its input', () => {
    const input: Record<string, unknown> = { name: 'x', password: SENTINEL, when: new Date(0) };
    input.self = input;
    const out = scrubSecrets(input) as Record<string, unknown>;
    expect(out).toEqual({ name: 'x', password: REDACTED, when: new Date(0), self: '[Circular]' });
    expect(input.password).toBe(SENTINEL);
  });

  it('keeps a field that names a Secret', () => {
    expect(scrubSecrets({ secret: 'ns/regcred' })).toEqual({ secret: 'ns/regcred' });
  });

  it.each([null, undefined, 1, 'text', true])('passes primitives through: %s', (v) => {
    expect(scrubSecrets(v)).toBe(v);
  });
});
