// The escape table (policy-escapes.fixture.ts) on a baseline and a
// restricted host: each policy escape is a violation naming its field, each
// schema escape is refused by the structural schema the CRD is generated from.
import { Value } from 'typebox/value';
import { describe, expect, it } from 'vitest';
import { DockerContainerSpec } from '../crds/dockercontainer.js';
import {
  compliant,
  ctr,
  fieldOf,
  POLICY_ESCAPES,
  SCHEMA_ESCAPES,
  withSecurity,
  type Container,
} from './policy-escapes.fixture.js';
import { checkContainerPolicy, checkVolumePolicy } from './security-policy.js';

describe('policy escapes refused by the host policy', () => {
  const rows = POLICY_ESCAPES.flatMap((e) =>
    e.policies.map((policy) => [`${policy}: ${e.name}`, policy, e] as const),
  );

  it('covers every escape on both a baseline and a restricted host', () => {
    const names = new Set(POLICY_ESCAPES.map((e) => e.name));
    expect(names.size).toBe(POLICY_ESCAPES.length);
    for (const e of POLICY_ESCAPES) expect(e.policies).toContain('restricted');
    expect(rows.filter(([, p]) => p === 'baseline').length).toBeGreaterThanOrEqual(20);
  });

  it.each(rows)('%s → violation on the field', (_name, policy, e) => {
    // The escape itself is valid API: only the policy stands between it and the host.
    if (e.container) expect([...Value.Errors(DockerContainerSpec, e.container)]).toEqual([]);
    const violations = e.container
      ? checkContainerPolicy(policy, e.container)
      : checkVolumePolicy(policy, e.volume ?? { hostName: 'h' });
    expect(violations.map((v) => v.field)).toContain(e.field);
    for (const v of violations) expect(v.message.length).toBeGreaterThan(10);
  });

  it.each(POLICY_ESCAPES.map((e) => [e.name, e] as const))('privileged host admits %s', (_name, e) => {
    const violations = e.container
      ? checkContainerPolicy('privileged', e.container)
      : checkVolumePolicy('privileged', e.volume ?? { hostName: 'h' });
    expect(violations).toEqual([]);
  });

  it('the compliant base spec passes restricted, so each row fails only for its escape', () => {
    expect(checkContainerPolicy('restricted', compliant)).toEqual([]);
    expect(checkContainerPolicy('restricted', withSecurity({ capAdd: ['NET_BIND_SERVICE'] }))).toEqual([]);
    for (const user of ['1000', 'app', '1000:0', '10:10', 'nobody']) {
      expect(checkContainerPolicy('restricted', { ...compliant, user })).toEqual([]);
    }
  });

  it('network file systems and tmpfs volumes stay allowed below privileged', () => {
    for (const driverOptions of [
      { type: 'tmpfs', device: 'tmpfs', o: 'size=64m,uid=1000' },
      { type: 'nfs', o: 'addr=10.0.0.1,rw', device: ':/export/data' },
      { type: 'cifs', o: 'username=u,addr=10.0.0.2', device: '//10.0.0.2/share' },
    ]) {
      expect(checkVolumePolicy('restricted', { hostName: 'h', driverOptions })).toEqual([]);
    }
  });
});

describe('policy escapes refused by the schema (the API server refuses them outright)', () => {
  it.each(SCHEMA_ESCAPES.map((e) => [e.name, e] as const))('%s → refused naming the field', (_name, e) => {
    const fields = [...Value.Errors(e.schema, e.spec)].map((err) => fieldOf(err.instancePath));
    expect(fields).toContain(e.field);
  });

  it('a namespace slipped into a Secret reference is not part of the API: the API server prunes it', () => {
    // The structural schema has no `namespace` on references, so the API
    // server drops it and the reference resolves in the object's own
    // namespace (test/integration/security-policy.test.ts reads it back).
    const spec = ctr({
      env: [
        { name: 'P', valueFrom: { secretKeyRef: { name: 'admin', key: 'k', namespace: 'kube-system' } } },
      ],
    });
    const pruned = Value.Clean(DockerContainerSpec, structuredClone(spec)) as Container;
    expect(pruned.env?.[0]?.valueFrom?.secretKeyRef).toEqual({ name: 'admin', key: 'k' });
  });
});
