// The escape table (policy-escapes.fixture.ts) on a baseline and a
// restricted host: each policy escape is a violation naming its field, each
// schema escape is refused by the structural schema the CRD is generated from.
import { Value } from 'typebox/value';
import { describe, expect, it } from 'vitest';
import { DockerBuildSpec } from '../crds/dockerbuild.js';
import { DockerContainerSpec } from '../crds/dockercontainer.js';
import { DockerImageSpec } from '../crds/dockerimage.js';
import { DockerNetworkSpec } from '../crds/dockernetwork.js';
import { DockerVolumeSpec } from '../crds/dockervolume.js';
import {
  compliant,
  ctr,
  fieldOf,
  HOST_SETTINGS,
  POLICY_ESCAPES,
  SCHEMA_ESCAPES,
  withSecurity,
  type Container,
  type PolicyEscape,
} from './policy-escapes.fixture.js';
import {
  checkBuildPolicy,
  checkContainerPolicy,
  checkPushPolicy,
  checkNetworkPolicy,
  checkVolumePolicy,
  type SecurityPolicy,
  type Violation,
} from './security-policy.js';

/** The escape's spec checked on a host of `level` with the row's settings (HOST_SETTINGS unless it says). */
function check(e: PolicyEscape, level: SecurityPolicy): Violation[] {
  const host = { level, settings: e.settings ?? HOST_SETTINGS };
  if (e.container) return checkContainerPolicy(host, e.container);
  if (e.volume) return checkVolumePolicy(host, e.volume);
  if (e.network) return checkNetworkPolicy(host, e.network);
  if (e.build) return checkBuildPolicy(host, e.build);
  if (e.image) return checkPushPolicy(host, e.image);
  throw new Error(`escape ${e.name} has no spec`);
}

/** The escape itself is valid API: only the policy stands between it and the host. */
function schemaErrors(e: PolicyEscape): unknown[] {
  if (e.container) return [...Value.Errors(DockerContainerSpec, e.container)];
  if (e.volume) return [...Value.Errors(DockerVolumeSpec, e.volume)];
  if (e.build) return [...Value.Errors(DockerBuildSpec, e.build)];
  if (e.image) return [...Value.Errors(DockerImageSpec, e.image)];
  return [...Value.Errors(DockerNetworkSpec, e.network)];
}

describe('policy escapes refused by the host policy', () => {
  const rows = POLICY_ESCAPES.flatMap((e) =>
    e.policies.map((policy) => [`${policy}: ${e.name}`, policy, e] as const),
  );

  it('covers every escape, each at least on a restricted host', () => {
    const names = new Set(POLICY_ESCAPES.map((e) => e.name));
    expect(names.size).toBe(POLICY_ESCAPES.length);
    expect(rows.filter(([, p]) => p === 'baseline').length).toBeGreaterThanOrEqual(150);
    for (const e of POLICY_ESCAPES) expect(e.policies.length).toBeGreaterThan(0);
  });

  it.each(rows)('%s → violation on the field', (_name, policy, e) => {
    expect(schemaErrors(e)).toEqual([]);
    const violations = check(e, policy);
    expect(violations.map((v) => v.field)).toContain(e.field);
    for (const v of violations) expect(v.message.length).toBeGreaterThan(10);
  });

  it.each(POLICY_ESCAPES.map((e) => [e.name, e] as const))(
    'restricted is at least as strict as baseline: %s',
    (_name, e) => {
      expect(check(e, 'restricted').length).toBeGreaterThan(0);
    },
  );

  it.each(POLICY_ESCAPES.filter((e) => !e.policies.includes('privileged')).map((e) => [e.name, e] as const))(
    'privileged host admits %s',
    (_name, e) => {
      expect(check(e, 'privileged')).toEqual([]);
    },
  );

  it('the compliant base spec passes restricted on HOST_SETTINGS, so each row fails only for its escape', () => {
    const host = { level: 'restricted' as const, settings: HOST_SETTINGS };
    expect(checkContainerPolicy(host, compliant)).toEqual([]);
    expect(checkContainerPolicy(host, withSecurity({ capAdd: ['NET_BIND_SERVICE'] }))).toEqual([]);
    for (const user of ['1000', '1000:0', '10:10', '65534', '0001000']) {
      expect(checkContainerPolicy(host, { ...compliant, user })).toEqual([]);
    }
  });

  it('what the rows refuse has an allowed spelling below privileged', () => {
    const host = { level: 'baseline' as const, settings: HOST_SETTINGS };
    const allowed: Container[] = [
      {
        ...compliant,
        ports: [
          { containerPort: 80, hostPort: 18000 },
          { containerPort: 81, hostPort: 18099 },
        ],
      },
      {
        ...compliant,
        logging: {
          driver: 'json-file',
          options: { 'max-size': '100m', 'max-file': '10', compress: 'true', labels: 'app', env: 'A,B' },
        },
      },
      {
        ...compliant,
        logging: {
          driver: 'local',
          options: { 'max-size': '10MiB', 'max-file': '3', mode: 'non-blocking', 'max-buffer-size': '4m' },
        },
      },
      { ...compliant, mounts: [{ type: 'tmpfs', target: '/t', tmpfsSize: '1Gi' }] },
      { ...compliant, user: 'app' },
    ];
    for (const spec of allowed) expect(checkContainerPolicy(host, spec)).toEqual([]);
  });

  it('a baseline host with allowBuilds admits every build field; without it, each field is named', () => {
    const spec = {
      hostName: 'h',
      image: 'registry.example/app:1',
      context: { configMap: { name: 'src', key: 'context.tar' } },
      dockerfile: 'Dockerfile.release',
      target: 'release',
      platform: 'linux/amd64',
      args: [{ name: 'V', value: '1' }],
      labels: { team: 'a' },
    };
    expect(checkBuildPolicy({ level: 'baseline', settings: { allowBuilds: true } }, spec)).toEqual([]);
    expect(checkBuildPolicy({ level: 'privileged', settings: {} }, spec)).toEqual([]);
    expect(checkBuildPolicy({ level: 'baseline', settings: {} }, spec).map((v) => v.field)).toEqual([
      'spec.context.configMap.name',
      'spec.dockerfile',
      'spec.target',
      'spec.platform',
      'spec.args[0]',
    ]);
  });

  it('a push goes only to listed registries below privileged, matched by registry host without case', () => {
    const spec = {
      hostName: 'h',
      image: 'app:1',
      dockerfileInline: 'FROM busybox:1.36\n',
      push: [{ image: 'Registry.Example:5000/team/app:1' }, { image: 'docker.io/team/app:1' }],
    };
    const listed = { allowBuilds: true, allowedPushRegistries: ['registry.example:5000'] };
    expect(checkBuildPolicy({ level: 'baseline', settings: listed }, spec).map((v) => v.field)).toEqual([
      'spec.push[1].image',
    ]);
    expect(checkBuildPolicy({ level: 'privileged', settings: {} }, spec)).toEqual([]);
    expect(
      checkBuildPolicy(
        { level: 'baseline', settings: { ...listed, allowedPushRegistries: ['docker.io'] } },
        spec,
      ).map((v) => v.field),
    ).toEqual(['spec.push[0].image']);
  });

  it('network file systems stay allowed at baseline, tmpfs volumes also under restricted', () => {
    const volumes: Array<[SecurityPolicy, Record<string, string>]> = [
      ['restricted', { type: 'tmpfs', device: 'tmpfs', o: 'size=64m,uid=1000,mode=1777,nodev,nosuid' }],
      ['baseline', { type: 'tmpfs', device: 'tmpfs', o: 'size=1g' }],
      ['baseline', { type: 'nfs', o: 'addr=10.0.0.1,rw,vers=4.1,hard', device: ':/export/data' }],
      ['baseline', { type: 'nfs4', o: 'addr=nfs.example.com', device: 'nfs.example.com:/export' }],
      [
        'baseline',
        { type: 'cifs', o: 'username=u,password=p,addr=10.0.0.2,vers=3.0', device: '//10.0.0.2/share' },
      ],
    ];
    for (const [level, driverOptions] of volumes) {
      expect(checkVolumePolicy(level, { hostName: 'h', driverOptions })).toEqual([]);
    }
  });

  it('bridge networks with allow-listed options and allowed subnets pass', () => {
    const host = { level: 'restricted' as const, settings: HOST_SETTINGS };
    expect(checkNetworkPolicy(host, { hostName: 'h' })).toEqual([]);
    expect(
      checkNetworkPolicy(host, {
        hostName: 'h',
        driver: 'bridge',
        internal: true,
        enableIPv6: true,
        options: { 'com.docker.network.bridge.enable_icc': 'false', 'com.docker.network.driver.mtu': '1400' },
        ipam: {
          driver: 'default',
          config: [
            { subnet: '10.231.1.0/24', gateway: '10.231.1.1', ipRange: '10.231.1.128/25' },
            { subnet: 'fd00:231:0:1::/64' },
          ],
        },
      }),
    ).toEqual([]);
    // Without a subnet Docker picks one from its own pools: nothing to decide.
    expect(checkNetworkPolicy({ level: 'baseline', settings: {} }, { hostName: 'h' })).toEqual([]);
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
