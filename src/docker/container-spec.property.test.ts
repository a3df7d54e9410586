// Properties of the spec → Engine API translation over every spec the schema
// accepts (generated from the schema's own patterns and bounds, then checked
// with it): it never throws, Dockyard's owner labels always win, nothing
// dangerous appears that the spec did not ask for, and, tying the policy to
// the translation, whatever checkContainerPolicy admits on a baseline or
// restricted host translates to a HostConfig with no way onto the host.
import type Dockerode from 'dockerode';
import fc from 'fast-check';
import { Value } from 'typebox/value';
import { describe, expect, it } from 'vitest';
import { DockerContainerSpec, ULIMIT_NAMES } from '../crds/dockercontainer.js';
import { byteQuantity, cpuQuantity, duration, OWNER_LABELS } from '../crds/kit.js';
import {
  BASELINE_CAPABILITIES,
  checkContainerPolicy,
  RESTRICTED_CAPABILITIES,
  type SecurityPolicy,
} from '../policy/security-policy.js';
import { BASELINE_ULIMITS, SAFE_SYSCTLS } from '../policy/runtime-policy.js';
import { MAX_TMPFS_BYTES } from '../policy/volume-policy.js';
import {
  desiredUpdate,
  groupHashes,
  recreateHash,
  SPEC_GROUPS_LABEL,
  stopTimeoutSeconds,
  toCreateOptions,
  type ContainerInputs,
} from './container-spec.js';

type Spec = DockerContainerSpec;
const NUM_RUNS = Number(process.env.DOCKYARD_PROPERTY_RUNS ?? 500);

// ---------------------------------------------------------------------------
// Valid specs, field by field, from the schema's own patterns
// ---------------------------------------------------------------------------

const patternOf = (schema: unknown) => new RegExp((schema as { pattern: string }).pattern);
const VOLUMES = ['data', 'cache', 'logs'];
const NETWORKS = ['front', 'back', 'mgmt'];

const objectName = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,8}[a-z0-9])?$/);
const absPath = fc
  .array(
    fc.constantFrom(
      'etc',
      'proc',
      'var',
      'run',
      'docker.sock',
      'data',
      '.',
      '...',
      '.x',
      'a b',
      'srv',
      'dev',
    ),
    {
      maxLength: 4,
    },
  )
  .map((parts) => `/${parts.join('/')}`);
const capability = fc.constantFrom(
  'NET_BIND_SERVICE',
  'CAP_NET_BIND_SERVICE',
  'CHOWN',
  'KILL',
  'SETUID',
  'SYS_ADMIN',
  'CAP_SYS_PTRACE',
  'NET_RAW',
  'NET_ADMIN',
  'ALL',
);
const user = fc.oneof(
  fc.constantFrom(
    '0',
    'root',
    '00',
    '-0',
    'root:root',
    '1000',
    '1000:1000',
    'app',
    'nobody:nogroup',
    '65534',
  ),
  fc.stringMatching(/^[A-Za-z0-9_.-]{1,8}(:[A-Za-z0-9_.-]{1,8})?$/),
);
const labelKey = fc.oneof(
  fc.constantFrom(...Object.values(OWNER_LABELS), SPEC_GROUPS_LABEL, 'dockyard.io/deletion-policy', 'app'),
  fc.string({ maxLength: 20 }),
);
const labels = fc.dictionary(labelKey, fc.string({ maxLength: 20 }), { maxKeys: 6 });

const mount = fc.oneof(
  fc.record(
    {
      type: fc.constant('volume' as const),
      target: absPath,
      volume: fc.constantFrom(...VOLUMES),
      readOnly: fc.boolean(),
      subPath: fc.constantFrom('conf', 'a/b', '..x/.y'),
      noCopy: fc.boolean(),
    },
    { requiredKeys: ['type', 'target', 'volume'] },
  ),
  fc.record(
    {
      type: fc.constant('bind' as const),
      target: absPath,
      hostPath: absPath,
      readOnly: fc.boolean(),
      propagation: fc.constantFrom('rprivate' as const, 'rshared' as const, 'slave' as const),
      selinuxRelabel: fc.constantFrom('shared' as const, 'private' as const),
    },
    { requiredKeys: ['type', 'target', 'hostPath'] },
  ),
  fc.record(
    {
      type: fc.constant('tmpfs' as const),
      target: absPath,
      tmpfsSize: fc.stringMatching(patternOf(byteQuantity(''))),
      tmpfsMode: fc.constantFrom('700', '1777', '0755'),
      readOnly: fc.boolean(),
    },
    { requiredKeys: ['type', 'target'] },
  ),
);

const security = fc.record(
  {
    privileged: fc.boolean(),
    capAdd: fc.array(capability, { maxLength: 3 }),
    capDrop: fc.array(fc.oneof(capability, fc.constant('ALL')), { maxLength: 3 }),
    readOnlyRootFilesystem: fc.boolean(),
    noNewPrivileges: fc.boolean(),
    networkMode: fc.constantFrom('default' as const, 'host' as const, 'none' as const, 'container' as const),
    networkContainer: fc.constant('vpn'),
    pidMode: fc.constantFrom('private' as const, 'host' as const),
    ipcMode: fc.constantFrom('private' as const, 'shareable' as const, 'host' as const),
    utsMode: fc.constantFrom('private' as const, 'host' as const),
    devices: fc.array(
      fc.record(
        {
          hostPath: fc.constantFrom('/dev/kvm', '/dev/sda', '/dev/mem', '/dev/net/tun', '/dev/fuse'),
          containerPath: fc.constantFrom('/dev/kvm', '/dev/xvda', '/dev/null'),
          permissions: fc.stringMatching(/^[rwm]{1,3}$/),
        },
        { requiredKeys: ['hostPath'] },
      ),
      { maxLength: 2 },
    ),
    deviceCgroupRules: fc.array(fc.constantFrom('c 1:3 mr', 'a *:* rwm', 'b 8:0 rw'), { maxLength: 2 }),
    groupAdd: fc.array(fc.constantFrom('0', '00', '1000', '65534', 'root', 'audio', 'docker'), {
      maxLength: 3,
    }),
    seccompProfile: fc.record({ type: fc.constantFrom('RuntimeDefault' as const, 'Unconfined' as const) }),
    appArmorProfile: fc.oneof(
      fc.record({ type: fc.constantFrom('RuntimeDefault' as const, 'Unconfined' as const) }),
      fc.record({
        type: fc.constant('Localhost' as const),
        localhostProfile: fc.constantFrom('docker-default', 'dockyard-web'),
      }),
    ),
    usernsMode: fc.constant('host' as const),
    cgroupnsMode: fc.constantFrom('private' as const, 'host' as const),
  },
  { requiredKeys: [] },
);

const port = fc.record(
  {
    containerPort: fc.integer({ min: 1, max: 65535 }),
    hostPort: fc.integer({ min: 1, max: 65535 }),
    hostIP: fc.constantFrom('127.0.0.1', '0.0.0.0', '::1', '10.1.2.3'),
    protocol: fc.constantFrom('TCP' as const, 'UDP' as const, 'SCTP' as const),
  },
  { requiredKeys: ['containerPort'] },
);

const durationArb = fc.stringMatching(patternOf(duration(''))).filter((d) => d.length >= 2);

/** The process and runtime fields: the safe sysctls and baseline ulimits, and some that are not. */
const runtimeFields = {
  sysctls: fc.dictionary(
    fc.constantFrom(...SAFE_SYSCTLS, 'net.core.somaxconn', 'kernel.msgmax', 'kernel.core_pattern'),
    fc.constantFrom('0', '1', '600', '1024 65000'),
    { maxKeys: 3 },
  ),
  ulimits: fc.uniqueArray(
    fc.record(
      {
        name: fc.constantFrom(...ULIMIT_NAMES),
        soft: fc.integer({ min: -1, max: 1 << 20 }),
        hard: fc.integer({ min: -1, max: 1 << 20 }),
      },
      { requiredKeys: ['name', 'soft'] },
    ),
    { maxLength: 3, selector: (u) => u.name },
  ),
  init: fc.boolean(),
  tty: fc.boolean(),
  stdinOpen: fc.boolean(),
  hostAliases: fc.array(
    fc.record({
      ip: fc.constantFrom('10.0.0.5', 'fd00::5', 'host-gateway', '127.0.0.1'),
      hostnames: fc.array(objectName, { minLength: 1, maxLength: 2 }),
    }),
    { maxLength: 2 },
  ),
  dnsConfig: fc.record(
    {
      nameservers: fc.array(fc.constantFrom('10.0.0.53', '::1'), { maxLength: 3 }),
      searches: fc.array(objectName, { maxLength: 2 }),
      options: fc.array(
        fc.record(
          { name: fc.constantFrom('ndots', 'rotate'), value: fc.constantFrom('1', '2') },
          { requiredKeys: ['name'] },
        ),
        { maxLength: 2 },
      ),
    },
    { requiredKeys: [] },
  ),
};

const validSpec: fc.Arbitrary<Spec> = fc
  .record(
    {
      hostName: objectName,
      containerName: fc.stringMatching(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,20}$/),
      image: fc.constantFrom(
        'busybox:1.36',
        '127.0.0.1:5000/dockyard/busybox:1.36',
        `busybox@sha256:${'a'.repeat(64)}`,
      ),
      command: fc.array(fc.string({ maxLength: 20 }), { maxLength: 3 }),
      args: fc.array(fc.string({ maxLength: 20 }), { maxLength: 3 }),
      workingDir: absPath,
      user,
      hostname: fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,10}[a-z0-9])?$/),
      ...runtimeFields,
      ports: fc.uniqueArray(port, {
        maxLength: 4,
        selector: (p) => `${p.containerPort}/${p.protocol ?? 'TCP'}`,
      }),
      mounts: fc.uniqueArray(mount, { maxLength: 4, selector: (m) => m.target }),
      networks: fc.uniqueArray(
        fc.record(
          {
            name: fc.constantFrom(...NETWORKS),
            aliases: fc.array(objectName, { maxLength: 2 }),
            ipv4Address: fc.constantFrom('172.28.0.5', '10.0.0.9'),
            ipv6Address: fc.constantFrom('fd00::5', '2001:db8::9'),
            macAddress: fc.constantFrom('02:42:ac:11:00:05', '0e:00:00:00:00:01'),
          },
          { requiredKeys: ['name'] },
        ),
        { maxLength: 3, selector: (n) => n.name },
      ),
      restartPolicy: fc.oneof(
        fc.record({ name: fc.constantFrom('no' as const, 'always' as const, 'unless-stopped' as const) }),
        fc.record(
          {
            name: fc.constant('on-failure' as const),
            maximumRetryCount: fc.integer({ min: 0, max: 2147483647 }),
          },
          { requiredKeys: ['name'] },
        ),
      ),
      healthcheck: fc.record(
        {
          command: fc.array(fc.string({ maxLength: 10 }), { minLength: 1, maxLength: 3 }),
          interval: durationArb,
          timeout: durationArb,
          retries: fc.integer({ min: 1, max: 100 }),
          startPeriod: durationArb,
          shell: fc.string({ minLength: 1, maxLength: 10 }),
          disable: fc.boolean(),
          startInterval: durationArb,
        },
        { requiredKeys: ['command'] },
      ),
      resources: fc.record(
        {
          memory: fc.stringMatching(patternOf(byteQuantity(''))),
          memoryReservation: fc.stringMatching(patternOf(byteQuantity(''))),
          cpus: fc.stringMatching(patternOf(cpuQuantity(''))),
          pidsLimit: fc.integer({ min: 1, max: 4194304 }),
          shmSize: fc.constantFrom('0', '64Mi', '1Gi', '1025Mi', '8Gi'),
          deviceRequests: fc.array(
            fc.record(
              { capabilities: fc.constant([['gpu']]), count: fc.integer({ min: 1, max: 4 }) },
              { requiredKeys: ['capabilities'] },
            ),
            { maxLength: 1 },
          ),
        },
        { requiredKeys: [] },
      ),
      security,
      labels,
      stopSignal: fc.constantFrom('SIGTERM', 'TERM', 'SIGKILL', '9', 'SIGRTMIN'),
      stopGracePeriod: durationArb,
      logging: fc.record(
        {
          driver: fc.constantFrom('json-file', 'local', 'none'),
          options: fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 2 }),
        },
        { requiredKeys: ['driver'] },
      ),
      state: fc.constantFrom('Running' as const, 'Stopped' as const),
      deletionPolicy: fc.constantFrom('Delete' as const, 'Orphan' as const),
    },
    { requiredKeys: ['hostName', 'image'] },
  )
  // The schema is the judge: anything it refuses (lengths, patterns) is not a valid spec.
  .filter((spec) => Value.Check(DockerContainerSpec, spec)) as fc.Arbitrary<Spec>;

/**
 * Specs nudged towards restricted (ALL dropped, no-new-privileges, a user
 * that may still be root in disguise) with every other field as random as
 * before, so the policy property sees many admitted specs to check.
 */
const restrictedLeaning: fc.Arbitrary<Spec> = fc
  .tuple(validSpec, user)
  // Leaning also towards the allow-lists: no host ports, default logging, sized tmpfs.
  .map(([{ logging: _logging, ...spec }, u]) => ({
    ...spec,
    ...(spec.ports ? { ports: spec.ports.map(({ hostPort: _hostPort, ...p }) => p) } : {}),
    ...(spec.mounts
      ? {
          mounts: spec.mounts
            .filter((m) => m.type !== 'bind')
            .map((m) => (m.type === 'tmpfs' ? { ...m, tmpfsSize: '16Mi' } : m)),
        }
      : {}),
    user: u,
    // Only the choices restricted allows: the host namespaces and privileged
    // mode of the generated spec would refuse nearly every sample.
    security: {
      ...(spec.security?.readOnlyRootFilesystem !== undefined
        ? { readOnlyRootFilesystem: spec.security.readOnlyRootFilesystem }
        : {}),
      capDrop: ['ALL'],
      noNewPrivileges: true,
      ...(spec.security?.groupAdd ? { groupAdd: spec.security.groupAdd } : {}),
    },
  }))
  .filter((spec) => Value.Check(DockerContainerSpec, spec));

const OWNER: Record<string, string> = {
  [OWNER_LABELS.uid]: '0d2c2b6e-uid',
  [OWNER_LABELS.namespace]: 'team-a',
  [OWNER_LABELS.name]: 'web',
  [OWNER_LABELS.kind]: 'DockerContainer',
  'dockyard.io/deletion-policy': 'Delete',
};

function inputsFor(spec: Spec): ContainerInputs {
  return {
    name: spec.containerName ?? 'team-a.web',
    image: spec.image ?? 'busybox:1.36',
    env: [],
    volumeNames: Object.fromEntries(VOLUMES.map((v) => [v, `team-a.${v}`])),
    networkNames: Object.fromEntries(NETWORKS.map((n) => [n, `team-a.${n}`])),
    // Resolved by the controller from a DockerContainer of the namespace, never spec text.
    ...(spec.security?.networkMode === 'container' ? { networkContainerId: 'f'.repeat(64) } : {}),
    ownerLabels: OWNER,
  };
}

// ---------------------------------------------------------------------------
// Invariants
// ---------------------------------------------------------------------------

const isInt64 = (n: number) => Number.isInteger(n) && Math.abs(n) < 2 ** 63;
const norm = (cap: string) => cap.toUpperCase().replace(/^CAP_/, '');

function allNumbers(value: unknown, path = 'options'): Array<[string, number]> {
  if (typeof value === 'number') return [[path, value]];
  if (Array.isArray(value)) return value.flatMap((v, i) => allNumbers(v, `${path}[${i}]`));
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([k, v]) => allNumbers(v, `${path}.${k}`));
  }
  return [];
}

function assertFaithful(spec: Spec, opts: Dockerode.ContainerCreateOptions, inputs: ContainerInputs): void {
  const host = opts.HostConfig ?? {};
  const sec = spec.security ?? {};
  expect(opts.name).toBe(inputs.name);
  expect(opts.Image).toBe(inputs.image);

  // Owner labels are present and no user label overrides them.
  for (const [key, value] of Object.entries(OWNER)) expect(opts.Labels?.[key]).toBe(value);
  expect(opts.Labels?.[OWNER_LABELS.specHash]).toBe('the-hash');
  expect(opts.Labels?.[SPEC_GROUPS_LABEL]).toBe(groupHashes(spec, inputs));

  // Nothing dangerous the spec did not ask for.
  expect(host.Privileged === true).toBe(sec.privileged === true);
  expect(host.PidMode === 'host').toBe(sec.pidMode === 'host');
  expect(host.IpcMode === 'host').toBe(sec.ipcMode === 'host');
  expect(host.UTSMode === 'host').toBe(sec.utsMode === 'host');
  expect(host.NetworkMode === 'host').toBe(sec.networkMode === 'host');
  for (const mode of [host.PidMode, host.IpcMode, host.UTSMode]) {
    expect(String(mode ?? '')).not.toMatch(/^container:/);
  }
  // Another container's network namespace only as the ID the controller resolved.
  expect(String(host.NetworkMode ?? '').startsWith('container:')).toBe(sec.networkMode === 'container');
  if (sec.networkMode === 'container')
    expect(host.NetworkMode).toBe(`container:${inputs.networkContainerId}`);
  expect(host.VolumesFrom).toBeUndefined();
  // Binds: only SELinux-relabelled bind mounts (the Mounts API cannot relabel), each as asked.
  const specBinds = (spec.mounts ?? []).filter((m) => m.type === 'bind');
  const relabelled = specBinds.filter((m) => m.selinuxRelabel !== undefined);
  expect((host.Binds ?? []).map((b: string) => b.split(':').slice(0, 2).join(':')).sort()).toEqual(
    relabelled.map((m) => `${m.hostPath}:${m.target}`).sort(),
  );
  const binds = (host.Mounts ?? []).filter((m) => m.Type === 'bind');
  expect(binds.map((m) => m.Source).sort()).toEqual(
    specBinds
      .filter((m) => m.selinuxRelabel === undefined)
      .map((m) => m.hostPath)
      .sort(),
  );
  expect((host.Mounts ?? []).length + (host.Binds?.length ?? 0)).toBe(spec.mounts?.length ?? 0);
  expect(host.Devices?.length ?? 0).toBe(sec.devices?.length ?? 0);
  expect((host.CapAdd ?? []).map(norm).sort()).toEqual((sec.capAdd ?? []).map(norm).sort());
  const apparmor = sec.appArmorProfile;
  expect(host.SecurityOpt ?? []).toEqual([
    ...(sec.noNewPrivileges ? ['no-new-privileges:true'] : []),
    ...(sec.seccompProfile?.type === 'Unconfined' ? ['seccomp=unconfined'] : []),
    ...(apparmor?.type === 'Unconfined' ? ['apparmor=unconfined'] : []),
    ...(apparmor?.type === 'Localhost' ? [`apparmor=${apparmor.localhostProfile ?? ''}`] : []),
  ]);
  expect(host.DeviceRequests?.length ?? 0).toBe(spec.resources?.deviceRequests?.length ?? 0);
  expect(host.DeviceCgroupRules?.length ?? 0).toBe(sec.deviceCgroupRules?.length ?? 0);
  expect(host.UsernsMode === 'host').toBe(sec.usernsMode === 'host');
  expect(host.Sysctls ?? {}).toEqual(spec.sysctls ?? {});
  expect(host.Ulimits?.length ?? 0).toBe(spec.ulimits?.length ?? 0);
  expect(host.ExtraHosts?.length ?? 0).toBe((spec.hostAliases ?? []).flatMap((a) => a.hostnames).length);

  // Ports within range, each binding for a port the spec publishes.
  for (const key of Object.keys(opts.ExposedPorts ?? {})) {
    const [num, proto] = key.split('/');
    expect(Number(num)).toBeGreaterThanOrEqual(1);
    expect(Number(num)).toBeLessThanOrEqual(65535);
    expect(['tcp', 'udp', 'sctp']).toContain(proto);
  }
  for (const bindings of Object.values(host.PortBindings ?? {}) as Array<Array<{ HostPort: string }>>) {
    for (const b of bindings) {
      expect(b.HostPort).toMatch(/^[0-9]+$/);
      expect(Number(b.HostPort)).toBeGreaterThanOrEqual(1);
      expect(Number(b.HostPort)).toBeLessThanOrEqual(65535);
    }
  }
  // Every number is an integer the Engine API's int64 fields can take. (Exact:
  // quantities parse to safe integers; MemorySwap, twice Memory, is exact too.)
  for (const [path, n] of allNumbers(opts)) expect(isInt64(n), `${path} = ${n}`).toBe(true);
  expect(JSON.parse(JSON.stringify(opts))).toEqual(opts);
}

/** What a host under `policy` must never be asked for. */
function assertNoEscape(
  policy: Exclude<SecurityPolicy, 'privileged'>,
  spec: Spec,
  opts: Dockerode.ContainerCreateOptions,
) {
  const host = opts.HostConfig ?? {};
  expect(host.Privileged).toBeUndefined();
  for (const mode of [host.PidMode, host.IpcMode, host.UTSMode, host.NetworkMode])
    expect(mode).not.toBe('host');
  expect(host.Binds).toBeUndefined();
  expect((host.Mounts ?? []).every((m) => m.Type === 'volume' || m.Type === 'tmpfs')).toBe(true);
  expect(host.Devices).toBeUndefined();
  // No host hardware, no unconfined profiles, no host user or cgroup namespace.
  expect(host.DeviceRequests).toBeUndefined();
  expect(host.DeviceCgroupRules).toBeUndefined();
  expect(host.UsernsMode).toBeUndefined();
  expect((host as { CgroupnsMode?: string }).CgroupnsMode).not.toBe('host');
  expect((host.SecurityOpt ?? []).filter((o: string) => o !== 'no-new-privileges:true')).toEqual([]);
  // Only safe kernel parameters, no limit that takes host memory or priority, /dev/shm capped.
  for (const name of Object.keys(host.Sysctls ?? {})) expect(SAFE_SYSCTLS.has(name), name).toBe(true);
  for (const u of host.Ulimits ?? []) expect(BASELINE_ULIMITS.has(u.Name as never), u.Name).toBe(true);
  expect(host.ShmSize ?? 0).toBeLessThanOrEqual(MAX_TMPFS_BYTES);
  const allowed = policy === 'restricted' ? RESTRICTED_CAPABILITIES : BASELINE_CAPABILITIES;
  for (const cap of host.CapAdd ?? []) expect(allowed.has(norm(cap)), cap).toBe(true);
  // No host settings open ports; logs stay on the daemon's disk; tmpfs is sized.
  expect(host.PortBindings).toBeUndefined();
  if (host.LogConfig) expect(['json-file', 'local']).toContain(host.LogConfig.Type);
  for (const m of host.Mounts ?? []) {
    if (m.Type === 'tmpfs') expect(m.TmpfsOptions?.SizeBytes ?? 0).toBeGreaterThan(0);
  }
  if (policy === 'restricted') {
    const [uid = ''] = (opts.User ?? '').split(':');
    expect(opts.User).toBeDefined();
    // Numeric only: a name can be uid 0 in the image.
    expect(/^[0-9]+$/.test(uid) && Number(uid) > 0, `user ${opts.User}`).toBe(true);
    expect((host.CapDrop ?? []).map(norm)).toContain('ALL');
    expect(host.SecurityOpt).toContain('no-new-privileges:true');
    // Numeric, non-zero groups only: a name can be gid 0 in the image.
    for (const g of host.GroupAdd ?? []) expect(/^[0-9]+$/.test(g) && Number(g) > 0, `group ${g}`).toBe(true);
  }
  expect(spec).toBeDefined();
}

describe('spec → Engine API translation properties', () => {
  it('never throws for a schema-valid spec and keeps its invariants', () => {
    fc.assert(
      fc.property(validSpec, (spec) => {
        const inputs = inputsFor(spec);
        const hash = recreateHash(spec, inputs);
        expect(hash).toMatch(/^[0-9a-f]+$/);
        const opts = toCreateOptions(spec, inputs, 'the-hash');
        assertFaithful(spec, opts, inputs);
        const update = desiredUpdate(spec);
        for (const [path, n] of allNumbers(update)) expect(isInt64(n), `${path} = ${n}`).toBe(true);
        expect(Number.isSafeInteger(stopTimeoutSeconds(spec))).toBe(true);
      }),
      { numRuns: NUM_RUNS },
    );
  }, 120_000);

  it.each(['baseline', 'restricted'] as const)(
    'whatever checkContainerPolicy admits under %s translates to no privileged/host-namespace/bind/device/extra caps',
    (policy) => {
      let admitted = 0;
      fc.assert(
        fc.property(fc.oneof(validSpec, restrictedLeaning), (spec) => {
          if (checkContainerPolicy(policy, spec).length > 0) return;
          admitted++;
          assertNoEscape(policy, spec, toCreateOptions(spec, inputsFor(spec), 'the-hash'));
        }),
        { numRuns: NUM_RUNS * 4 },
      );
      // The property is only worth something if the generator reaches admitted specs.
      expect(admitted).toBeGreaterThan(10);
    },
    120_000,
  );

  it('and the converse: a spec with an escape is never admitted below privileged', () => {
    fc.assert(
      fc.property(validSpec, fc.constantFrom('baseline' as const, 'restricted' as const), (spec, policy) => {
        const opts = toCreateOptions(spec, inputsFor(spec), 'h');
        const host = opts.HostConfig ?? {};
        const escapes =
          host.Privileged === true ||
          [host.PidMode, host.IpcMode, host.UTSMode, host.NetworkMode].includes('host') ||
          (host.Mounts ?? []).some((m) => m.Type === 'bind') ||
          (host.Devices ?? []).length > 0 ||
          (host.DeviceRequests ?? []).length > 0 ||
          (host.DeviceCgroupRules ?? []).length > 0 ||
          host.UsernsMode === 'host' ||
          (host as { CgroupnsMode?: string }).CgroupnsMode === 'host' ||
          (host.SecurityOpt ?? []).some((o: string) => o !== 'no-new-privileges:true') ||
          Object.keys(host.Sysctls ?? {}).some((name) => !SAFE_SYSCTLS.has(name)) ||
          (host.Ulimits ?? []).some((u) => !BASELINE_ULIMITS.has(u.Name as never)) ||
          (host.ShmSize ?? 0) > MAX_TMPFS_BYTES;
        if (escapes) expect(checkContainerPolicy(policy, spec)).not.toEqual([]);
      }),
      { numRuns: NUM_RUNS },
    );
  }, 120_000);
});
