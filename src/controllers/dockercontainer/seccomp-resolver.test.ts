import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { DockerContainerSpec } from '../../crds/dockercontainer.js';
import type { SeccompProfileSource } from '../../crds/dockerhost.js';
import type { RefReader } from './env-resolver.js';
import { minifiedProfile, resolveSeccompProfile } from './seccomp-resolver.js';

// security.seccompProfile Localhost resolved from the host's list: the
// ConfigMap is read in its own namespace (the administrator's), the text is
// minified and hashed, and every failure names the profile, host and
// ConfigMap but never the text.

const PROFILE = `{
  "defaultAction": "SCMP_ACT_ALLOW",
  "syscalls": [{ "names": ["chmod", "fchmodat"], "action": "SCMP_ACT_ERRNO" }]
}`;
const MINIFIED =
  '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["chmod","fchmodat"],"action":"SCMP_ACT_ERRNO"}]}';
const SECRET_LOOKING = 'SCMP_ACT_KILL_sentinel';

/** ConfigMaps by `namespace/name`; records which namespaces were read. */
function refsOf(configMaps: Record<string, Record<string, string>>) {
  const read: string[] = [];
  const refs = (namespace: string): RefReader => ({
    secret: () => Promise.reject(new Error('no Secret is read for a seccomp profile')),
    configMap: (name) => {
      read.push(`${namespace}/${name}`);
      return Promise.resolve(configMaps[`${namespace}/${name}`]);
    },
  });
  return { refs, read };
}

const profiles: SeccompProfileSource[] = [
  { name: 'no-chmod', configMapRef: { namespace: 'ops', name: 'seccomp', key: 'no-chmod.json' } },
];
const localhost = (name: string): DockerContainerSpec => ({
  hostName: 'n1',
  image: 'busybox:1.36',
  security: { seccompProfile: { type: 'Localhost', localhostProfile: name } },
});

describe('resolveSeccompProfile', () => {
  it('reads the listed ConfigMap in its own namespace, minified and hashed', async () => {
    const { refs, read } = refsOf({ 'ops/seccomp': { 'no-chmod.json': PROFILE } });
    const r = await resolveSeccompProfile({ spec: localhost('no-chmod'), host: 'n1', profiles, refs });
    expect(r).toEqual({
      ok: true,
      profile: { json: MINIFIED, sha256: createHash('sha256').update(MINIFIED).digest('hex') },
    });
    expect(read).toEqual(['ops/seccomp']);
  });

  it('reformatting the text (whitespace) keeps the hash', async () => {
    const pretty = refsOf({ 'ops/seccomp': { 'no-chmod.json': PROFILE } });
    const dense = refsOf({ 'ops/seccomp': { 'no-chmod.json': MINIFIED } });
    const a = await resolveSeccompProfile({ spec: localhost('no-chmod'), host: 'n1', profiles, ...pretty });
    const b = await resolveSeccompProfile({ spec: localhost('no-chmod'), host: 'n1', profiles, ...dense });
    expect(a).toEqual(b);
  });

  it.each<[string, DockerContainerSpec]>([
    ['no seccompProfile', { hostName: 'n1', image: 'busybox:1.36' }],
    ['RuntimeDefault', { hostName: 'n1', security: { seccompProfile: { type: 'RuntimeDefault' } } }],
    ['Unconfined', { hostName: 'n1', security: { seccompProfile: { type: 'Unconfined' } } }],
  ])('%s: nothing to read', async (_name, spec) => {
    const { refs, read } = refsOf({});
    expect(await resolveSeccompProfile({ spec, host: 'n1', profiles, refs })).toEqual({ ok: true });
    expect(read).toEqual([]);
  });

  it.each<[string, Record<string, Record<string, string>>, string, RegExp]>([
    [
      'the ConfigMap is missing',
      {},
      'no-chmod',
      /no-chmod of DockerHost n1: ConfigMap ops\/seccomp not found/,
    ],
    [
      'the key is missing',
      { 'ops/seccomp': { 'other.json': PROFILE } },
      'no-chmod',
      /key no-chmod\.json not found in ConfigMap ops\/seccomp/,
    ],
    [
      'the text is not JSON',
      { 'ops/seccomp': { 'no-chmod.json': `defaultAction: ${SECRET_LOOKING}` } },
      'no-chmod',
      /key no-chmod\.json of ConfigMap ops\/seccomp is not valid JSON$/,
    ],
    [
      'the JSON is not a profile (no defaultAction)',
      { 'ops/seccomp': { 'no-chmod.json': `{"syscalls":[],"x":"${SECRET_LOOKING}"}` } },
      'no-chmod',
      /is not a seccomp profile/,
    ],
    [
      'the name is not listed (the policy refuses it first)',
      { 'ops/seccomp': { 'no-chmod.json': PROFILE } },
      'allow-all',
      /allow-all of DockerHost n1: not in its securityPolicySettings\.seccompProfiles/,
    ],
  ])('%s: SeccompProfileUnavailable naming it, never the text', async (_name, configMaps, name, message) => {
    const { refs } = refsOf(configMaps);
    const r = await resolveSeccompProfile({ spec: localhost(name), host: 'n1', profiles, refs });
    expect(r).toMatchObject({ ok: false, reason: 'SeccompProfileUnavailable' });
    const text = r.ok ? '' : r.message;
    expect(text).toMatch(message);
    expect(text).not.toContain(SECRET_LOOKING);
    expect(text).not.toContain('SCMP_ACT_ALLOW');
  });
});

describe('minifiedProfile', () => {
  it.each<[string, string, string]>([
    ['an array', '[{"defaultAction":"SCMP_ACT_ALLOW"}]', 'is not a seccomp profile'],
    ['null', 'null', 'is not a seccomp profile'],
    ['a string', '"SCMP_ACT_ALLOW"', 'is not a seccomp profile'],
    ['a numeric defaultAction', '{"defaultAction":1}', 'is not a seccomp profile'],
    ['YAML', 'defaultAction: SCMP_ACT_ALLOW', 'is not valid JSON'],
    ['empty', '', 'is not valid JSON'],
  ])('refuses %s', (_name, text, problem) => {
    expect(minifiedProfile(text)).toEqual({ problem: expect.stringContaining(problem) as string });
  });
});
