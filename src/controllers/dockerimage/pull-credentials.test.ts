import type { CoreV1Api, V1Secret } from '@kubernetes/client-node';
import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { credentialsFromSecrets, resolvePullCredentials, type ReadSecret } from './pull-credentials.js';

const SENTINEL = 'Sentinel-pw-9f2c';
const b64 = (s: string) => Buffer.from(s).toString('base64');
const dockerconfig = (auths: Record<string, unknown>): V1Secret => ({
  type: 'kubernetes.io/dockerconfigjson',
  data: { '.dockerconfigjson': b64(JSON.stringify({ auths })) },
});
const REF = '127.0.0.1:5000/dockyard/busybox:1.36';

describe('credentialsFromSecrets', () => {
  const good: ReadSecret = {
    name: 'regcred',
    secret: dockerconfig({ '127.0.0.1:5000': { auth: b64(`dockyard:${SENTINEL}`) } }),
  };
  const hub: ReadSecret = {
    name: 'hub',
    secret: dockerconfig({ 'https://index.docker.io/v1/': { username: 'h', password: 'p' } }),
  };

  it.each<[string, ReadSecret[], string | undefined, string[]]>([
    ['the matching Secret', [hub, good], 'regcred', []],
    ['no Secrets listed: anonymous, nothing to say', [], undefined, []],
    [
      'a missing Secret is noted and skipped',
      [{ name: 'gone', problem: 'not found in ns' }, good],
      'regcred',
      ['pull secret gone: not found in ns'],
    ],
    [
      'none for this registry',
      [hub],
      undefined,
      ['no pull secret has credentials for 127.0.0.1:5000 (checked hub in ns)'],
    ],
    [
      'wrong type',
      [{ name: 'opaque', secret: { type: 'Opaque', data: {} } }],
      undefined,
      [
        'pull secret opaque is of type Opaque, not kubernetes.io/dockerconfigjson: ignored',
        'no usable pull secret for 127.0.0.1:5000 in ns',
      ],
    ],
    [
      'no .dockerconfigjson key',
      [{ name: 'empty', secret: { type: 'kubernetes.io/dockerconfigjson', data: {} } }],
      undefined,
      [
        'pull secret empty has no .dockerconfigjson key: ignored',
        'no usable pull secret for 127.0.0.1:5000 in ns',
      ],
    ],
    [
      'malformed JSON (content never quoted)',
      [
        {
          name: 'bad',
          secret: {
            type: 'kubernetes.io/dockerconfigjson',
            data: { '.dockerconfigjson': b64(`{"auths": "${SENTINEL}`) },
          },
        },
      ],
      undefined,
      [
        'pull secret bad: .dockerconfigjson is not valid JSON: ignored',
        'no usable pull secret for 127.0.0.1:5000 in ns',
      ],
    ],
  ])('%s', (_name, secrets, source, notes) => {
    const c = credentialsFromSecrets('ns', secrets, REF);
    expect(c.source).toBe(source);
    expect(c.notes).toEqual(notes);
    expect(JSON.stringify(c.notes)).not.toContain(SENTINEL);
  });

  it('hands over the credentials with the registry as serveraddress', () => {
    expect(credentialsFromSecrets('ns', [good], REF).auth).toEqual({
      username: 'dockyard',
      password: SENTINEL,
      serveraddress: '127.0.0.1:5000',
    });
  });
});

describe('resolvePullCredentials', () => {
  it('reads each Secret by name in the object’s namespace; 404 and other errors become notes', async () => {
    const asked: string[] = [];
    const core = {
      readNamespacedSecret: async ({ name, namespace }: { name: string; namespace: string }) => {
        asked.push(`${namespace}/${name}`);
        if (name === 'gone')
          throw new ApiException(404, 'not found', { message: 'secrets "gone" not found' }, {});
        if (name === 'forbidden') throw new ApiException(403, 'forbidden', { message: 'nope' }, {});
        return dockerconfig({ '127.0.0.1:5000': { username: 'u', password: SENTINEL } });
      },
    } as unknown as Pick<CoreV1Api, 'readNamespacedSecret'>;
    const c = await resolvePullCredentials(core, 'team-a', ['gone', 'forbidden', 'regcred'], REF);
    expect(asked).toEqual(['team-a/gone', 'team-a/forbidden', 'team-a/regcred']);
    expect(c.source).toBe('regcred');
    expect(c.notes).toEqual([
      'pull secret gone: not found in team-a',
      'pull secret forbidden: could not be read (HTTP 403)',
    ]);
  });
});
