import { ApiException, type CoreV1Api } from '@kubernetes/client-node';
import { describe, expect, it, vi } from 'vitest';
import type { DockerContainerSpec } from '../../crds/dockercontainer.js';
import {
  KubeRefReader,
  referencedConfigMaps,
  referencedSecrets,
  resolveEnv,
  type EnvResolution,
  type RefReader,
} from './env-resolver.js';

const SECRET_VALUE = 'hunter2-do-not-log';

const secrets: Record<string, Record<string, string>> = {
  db: { PASSWORD: SECRET_VALUE, USER: 'app' },
  api: { TOKEN: 't0k3n', 'not a name': 'x', '1BAD': 'y' },
};
const configMaps: Record<string, Record<string, string>> = {
  settings: { LOG_LEVEL: 'info', USER: 'from-configmap' },
  extra: { LOG_LEVEL: 'debug', COLOR: 'blue' },
};

function reader(): RefReader & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    secret: (name) => {
      calls.push(`Secret/${name}`);
      return Promise.resolve(secrets[name]);
    },
    configMap: (name) => {
      calls.push(`ConfigMap/${name}`);
      return Promise.resolve(configMaps[name]);
    },
  };
}

const spec = (patch: Partial<DockerContainerSpec>): DockerContainerSpec => ({
  hostName: 'h',
  image: 'i',
  ...patch,
});
const ok = (env: Array<[string, string]>, invalidNames: string[] = []): EnvResolution => ({
  ok: true,
  env: env.map(([name, value]) => ({ name, value })),
  invalidNames,
});

describe('resolveEnv', () => {
  it.each<[string, Partial<DockerContainerSpec>, EnvResolution]>([
    ['nothing', {}, ok([])],
    [
      'literal values in order; unset value is empty',
      { env: [{ name: 'B', value: '2' }, { name: 'A', value: '1' }, { name: 'E' }] },
      ok([
        ['B', '2'],
        ['A', '1'],
        ['E', ''],
      ]),
    ],
    [
      'secretKeyRef',
      { env: [{ name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'PASSWORD' } } }] },
      ok([['DB_PASSWORD', SECRET_VALUE]]),
    ],
    [
      'configMapKeyRef',
      { env: [{ name: 'LEVEL', valueFrom: { configMapKeyRef: { name: 'settings', key: 'LOG_LEVEL' } } }] },
      ok([['LEVEL', 'info']]),
    ],
    [
      'envFrom a Secret, keys sorted',
      { envFrom: [{ secretRef: { name: 'db' } }] },
      ok([
        ['PASSWORD', SECRET_VALUE],
        ['USER', 'app'],
      ]),
    ],
    [
      'envFrom with a prefix',
      { envFrom: [{ configMapRef: { name: 'settings' }, prefix: 'APP_' }] },
      ok([
        ['APP_LOG_LEVEL', 'info'],
        ['APP_USER', 'from-configmap'],
      ]),
    ],
    [
      'a later envFrom source overrides an earlier one, keeping the first position',
      { envFrom: [{ configMapRef: { name: 'settings' } }, { configMapRef: { name: 'extra' } }] },
      ok([
        ['LOG_LEVEL', 'debug'],
        ['USER', 'from-configmap'],
        ['COLOR', 'blue'],
      ]),
    ],
    [
      'env overrides envFrom',
      {
        envFrom: [{ secretRef: { name: 'db' } }],
        env: [
          { name: 'USER', value: 'override' },
          { name: 'NEW', value: 'n' },
        ],
      },
      ok([
        ['PASSWORD', SECRET_VALUE],
        ['USER', 'override'],
        ['NEW', 'n'],
      ]),
    ],
    [
      'a later env entry overrides an earlier one',
      {
        env: [
          { name: 'A', value: '1' },
          { name: 'B', value: '2' },
          { name: 'A', value: '3' },
        ],
      },
      ok([
        ['A', '3'],
        ['B', '2'],
      ]),
    ],
    [
      'envFrom keys that are not variable names are skipped and named',
      { envFrom: [{ secretRef: { name: 'api' } }] },
      ok([['TOKEN', 't0k3n']], ['1BAD', 'not a name']),
    ],
    [
      'a prefix can make a key valid',
      { envFrom: [{ secretRef: { name: 'api' }, prefix: 'X_' }] },
      ok(
        [
          ['X_1BAD', 'y'],
          ['X_TOKEN', 't0k3n'],
        ],
        ['X_not a name'],
      ),
    ],
    [
      'optional missing Secret in envFrom is left out',
      { envFrom: [{ secretRef: { name: 'nope', optional: true } }], env: [{ name: 'A', value: '1' }] },
      ok([['A', '1']]),
    ],
    [
      'optional missing ConfigMap in envFrom is left out',
      { envFrom: [{ configMapRef: { name: 'nope', optional: true } }] },
      ok([]),
    ],
    [
      'optional missing Secret in env is left out',
      { env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 'nope', key: 'k', optional: true } } }] },
      ok([]),
    ],
    [
      'optional missing key is left out (an earlier value stays)',
      {
        envFrom: [{ secretRef: { name: 'db' } }],
        env: [{ name: 'USER', valueFrom: { secretKeyRef: { name: 'db', key: 'nope', optional: true } } }],
      },
      ok([
        ['PASSWORD', SECRET_VALUE],
        ['USER', 'app'],
      ]),
    ],
    [
      'missing Secret in envFrom',
      { envFrom: [{ secretRef: { name: 'nope' } }] },
      { ok: false, reason: 'SecretNotFound', message: 'envFrom: Secret nope not found' },
    ],
    [
      'missing ConfigMap in envFrom',
      { envFrom: [{ configMapRef: { name: 'nope', optional: false } }] },
      { ok: false, reason: 'ConfigMapNotFound', message: 'envFrom: ConfigMap nope not found' },
    ],
    [
      'missing Secret in env',
      { env: [{ name: 'P', valueFrom: { secretKeyRef: { name: 'nope', key: 'k' } } }] },
      { ok: false, reason: 'SecretNotFound', message: 'env P: Secret nope not found' },
    ],
    [
      'missing Secret key',
      { env: [{ name: 'P', valueFrom: { secretKeyRef: { name: 'db', key: 'TOKEN' } } }] },
      { ok: false, reason: 'SecretNotFound', message: 'env P: key TOKEN not found in Secret db' },
    ],
    [
      'missing ConfigMap key',
      { env: [{ name: 'P', valueFrom: { configMapKeyRef: { name: 'settings', key: 'nope' } } }] },
      { ok: false, reason: 'ConfigMapNotFound', message: 'env P: key nope not found in ConfigMap settings' },
    ],
  ])('%s', async (_title, patch, expected) => {
    expect(await resolveEnv(spec(patch), reader())).toEqual(expected);
  });

  it.each<[string, Partial<DockerContainerSpec>]>([
    [
      'missing key after a Secret was read',
      {
        envFrom: [{ secretRef: { name: 'db' } }],
        env: [{ name: 'P', valueFrom: { secretKeyRef: { name: 'api', key: 'nope' } } }],
      },
    ],
    [
      'missing object after values were read',
      { envFrom: [{ secretRef: { name: 'api' } }, { secretRef: { name: 'nope' } }] },
    ],
  ])('never puts values in messages: %s', async (_title, patch) => {
    const r = await resolveEnv(spec(patch), reader());
    expect(r.ok).toBe(false);
    expect(JSON.stringify(r)).not.toContain(SECRET_VALUE);
    expect(JSON.stringify(r)).not.toContain('t0k3n');
  });

  it('reads each object once', async () => {
    const r = reader();
    await resolveEnv(
      spec({
        envFrom: [{ secretRef: { name: 'db' } }, { secretRef: { name: 'db' }, prefix: 'B_' }],
        env: [
          { name: 'A', valueFrom: { secretKeyRef: { name: 'db', key: 'USER' } } },
          { name: 'B', valueFrom: { configMapKeyRef: { name: 'settings', key: 'USER' } } },
          { name: 'C', valueFrom: { configMapKeyRef: { name: 'settings', key: 'LOG_LEVEL' } } },
        ],
      }),
      r,
    );
    expect(r.calls).toEqual(['Secret/db', 'ConfigMap/settings']);
  });

  it('passes on read errors other than not-found', async () => {
    const failing: RefReader = {
      secret: () => Promise.reject(new Error('forbidden')),
      configMap: () => Promise.resolve(undefined),
    };
    await expect(resolveEnv(spec({ envFrom: [{ secretRef: { name: 'db' } }] }), failing)).rejects.toThrow(
      /forbidden/,
    );
  });
});

describe('referenced objects', () => {
  const s = spec({
    envFrom: [{ secretRef: { name: 'b' } }, { configMapRef: { name: 'cm1' } }, { secretRef: { name: 'a' } }],
    env: [
      { name: 'X', valueFrom: { secretKeyRef: { name: 'b', key: 'k' } } },
      { name: 'Y', valueFrom: { secretKeyRef: { name: 'c', key: 'k', optional: true } } },
      { name: 'Z', valueFrom: { configMapKeyRef: { name: 'cm2', key: 'k' } } },
      { name: 'L', value: 'literal' },
    ],
  });

  it('lists Secrets (optional ones too), unique and sorted', () => {
    expect(referencedSecrets(s)).toEqual(['a', 'b', 'c']);
  });

  it('lists ConfigMaps', () => {
    expect(referencedConfigMaps(s)).toEqual(['cm1', 'cm2']);
  });

  it('lists nothing for a spec without references', () => {
    expect(referencedSecrets(spec({ env: [{ name: 'A', value: '1' }] }))).toEqual([]);
    expect(referencedConfigMaps(spec({}))).toEqual([]);
  });
});

describe('KubeRefReader', () => {
  const notFound = () => new ApiException(404, 'Not Found', { reason: 'NotFound' }, {});

  it('reads a Secret by name in its namespace and decodes it', async () => {
    const readNamespacedSecret = vi.fn((_req: { name: string; namespace: string }) =>
      Promise.resolve({
        data: {
          PASSWORD: Buffer.from(SECRET_VALUE).toString('base64'),
          UNICODE: Buffer.from('grüße ✓').toString('base64'),
        },
      }),
    );
    const core = { readNamespacedSecret, readNamespacedConfigMap: vi.fn() } as unknown as CoreV1Api;
    const r = new KubeRefReader(core, 'team-a');
    expect(await r.secret('db')).toEqual({ PASSWORD: SECRET_VALUE, UNICODE: 'grüße ✓' });
    expect(readNamespacedSecret).toHaveBeenCalledWith({ name: 'db', namespace: 'team-a' });
  });

  it('reads a ConfigMap by name; binaryData is not used', async () => {
    const readNamespacedConfigMap = vi.fn((_req: { name: string; namespace: string }) =>
      Promise.resolve({ data: { A: '1' }, binaryData: { B: 'AAE=' } }),
    );
    const core = { readNamespacedSecret: vi.fn(), readNamespacedConfigMap } as unknown as CoreV1Api;
    expect(await new KubeRefReader(core, 'team-a').configMap('settings')).toEqual({ A: '1' });
    expect(readNamespacedConfigMap).toHaveBeenCalledWith({ name: 'settings', namespace: 'team-a' });
  });

  it('reads a ConfigMap as bytes for files: data as UTF-8, binaryData base64-decoded byte-exact', async () => {
    const binary = Buffer.from([0x00, 0xff, 0x80, 0x0a, 0xc3]);
    const core = {
      readNamespacedSecret: vi.fn(),
      readNamespacedConfigMap: () =>
        Promise.resolve({
          data: { 'a.conf': 'grüße\n' },
          binaryData: { 'b.bin': binary.toString('base64') },
        }),
    } as unknown as CoreV1Api;
    const bytes = await new KubeRefReader(core, 'ns').configMapBytes('c');
    expect(bytes?.['a.conf']?.equals(Buffer.from('grüße\n', 'utf8'))).toBe(true);
    expect(bytes?.['b.bin']?.equals(binary)).toBe(true);
    expect(Object.keys(bytes ?? {}).sort()).toEqual(['a.conf', 'b.bin']);
  });

  it('an object without data is empty', async () => {
    const core = {
      readNamespacedSecret: () => Promise.resolve({}),
      readNamespacedConfigMap: () => Promise.resolve({}),
    } as unknown as CoreV1Api;
    const r = new KubeRefReader(core, 'ns');
    expect(await r.secret('s')).toEqual({});
    expect(await r.configMap('c')).toEqual({});
    expect(await r.configMapBytes('c')).toEqual({});
  });

  it('404 → undefined; other errors are thrown', async () => {
    const missing = {
      readNamespacedSecret: () => Promise.reject(notFound()),
      readNamespacedConfigMap: () => Promise.reject(notFound()),
    } as unknown as CoreV1Api;
    expect(await new KubeRefReader(missing, 'ns').secret('s')).toBeUndefined();
    expect(await new KubeRefReader(missing, 'ns').configMap('c')).toBeUndefined();
    expect(await new KubeRefReader(missing, 'ns').configMapBytes('c')).toBeUndefined();
    const forbidden = {
      readNamespacedSecret: () => Promise.reject(new ApiException(403, 'Forbidden', {}, {})),
      readNamespacedConfigMap: () => Promise.reject(new ApiException(403, 'Forbidden', {}, {})),
    } as unknown as CoreV1Api;
    await expect(new KubeRefReader(forbidden, 'ns').secret('s')).rejects.toThrow();
    await expect(new KubeRefReader(forbidden, 'ns').configMap('c')).rejects.toThrow();
    await expect(new KubeRefReader(forbidden, 'ns').configMapBytes('c')).rejects.toThrow();
  });
});
