import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { nextHostStatus, type HostObservationResult } from '../src/controllers/dockerhost/host-status.js';
import { inApiOrder, MANAGED_KINDS as MANAGED_KIND_ENTRIES } from '../src/controllers/kinds.js';
import { ALL_KINDS, ANNOTATIONS, API_VERSION } from '../src/crds/index.js';
import {
  FAILED_PHASES,
  HEALTHY_REASONS,
  HOST_FAILURE_REASONS,
  Reason,
  RETRIED_REASONS,
  ROLLOUT_FAILED_REASONS,
  STALLED_REASONS,
  SUSPENDED_REASONS,
  WAITING_REASONS,
} from '../src/crds/reasons.js';
import {
  markReady,
  markReconciling,
  markRetrying,
  markStalled,
  type Condition,
  type ConditionDetail,
} from '../src/runtime/conditions.js';
import { summarize } from '../src/managed/summary.js';
import type { HostOutcome } from '../src/managed/types.js';
import type { Refusal } from '../src/managed/placement.js';
import {
  ARGOCD_CM_PATCH,
  COMMON_INCLUDE,
  composeHealthScript,
  healthKey,
  healthScriptPath,
  readHealthScripts,
  REASON_TABLES,
  renderArgoCdPatch,
  withReasonTables,
} from '../scripts/generate-gitops.js';

// The Argo CD health checks, executed by a real Lua interpreter against status
// produced by the controllers' own status code (summarize, nextHostStatus), so
// a change in the conditions Dockyard writes shows up here.

const LUA = 'lua5.4';
const HARNESS = 'gitops/argocd/harness.lua';
const ARGO_STATUSES = ['Healthy', 'Progressing', 'Degraded', 'Suspended', 'Missing', 'Unknown'];
const STALE = 'Waiting for the controller to observe the latest spec';
const NOW = new Date('2026-03-01T12:00:00Z');

let checked: string | undefined;

/** lua5.4 and dkjson must be there: a missing interpreter fails the tests, it never skips them. */
function requireLua(): void {
  if (checked === 'ok') return;
  const probe = spawnSync(LUA, ['-e', 'require("dkjson")'], { encoding: 'utf8' });
  if (probe.error && (probe.error as NodeJS.ErrnoException).code === 'ENOENT') {
    checked = `${LUA} is not installed. The Argo CD health checks are tested with a real Lua interpreter: install the Debian package lua5.4 (apt-get install lua5.4; npm run env:prepare does it).`;
  } else if (probe.status !== 0) {
    checked = `${LUA} cannot load the dkjson module the test harness reads objects with: install the Debian package lua-dkjson (apt-get install lua-dkjson). ${probe.stderr.trim()}`;
  } else {
    checked = 'ok';
  }
  if (checked !== 'ok') throw new Error(checked);
}

interface Health {
  status: string;
  message: string;
}

/** The composed script of each kind (as argocd-cm holds it), written once to a temp file for the harness. */
const composedPaths = new Map<string, string>();
function composedScript(kind: string): string {
  let path = composedPaths.get(kind);
  if (path === undefined) {
    composedDir ??= mkdtempSync(join(tmpdir(), 'dockyard-health-'));
    path = join(composedDir, `${kind}.lua`);
    writeFileSync(path, readHealthScripts().get(kind) ?? '');
    composedPaths.set(kind, path);
  }
  return path;
}
let composedDir: string | undefined;
afterAll(() => {
  if (composedDir) rmSync(composedDir, { recursive: true, force: true });
});

function runHealth(kind: string, obj: unknown): Health {
  requireLua();
  const res = spawnSync(LUA, [HARNESS, composedScript(kind)], {
    input: JSON.stringify(obj),
    encoding: 'utf8',
  });
  if (res.error) throw res.error;
  if (res.status !== 0)
    throw new Error(`${healthScriptPath(kind)} failed (exit ${res.status}): ${res.stderr}`);
  const health = JSON.parse(res.stdout) as Health;
  expect(ARGO_STATUSES, `hs.status from ${healthScriptPath(kind)}`).toContain(health.status);
  expect(typeof health.message, 'hs.message').toBe('string');
  return health;
}

// --- objects as the controllers write them -----------------------------------

interface ObjectOptions {
  generation?: number;
  /** The generation the controller saw; default `generation`. */
  observed?: number;
  annotations?: Record<string, string>;
}

type HostResult = { host: string; outcome: HostOutcome };

const ready = (host: string, phase = 'Ready'): HostResult => ({
  host,
  outcome: { entry: { name: host, phase }, ready: true },
});
const working = (host: string, phase: string, message?: string): HostResult => ({
  host,
  outcome: { entry: { name: host, phase, ...(message ? { message } : {}) }, ready: false },
});
const failing = (host: string, phase: string, reason: Reason, message: string): HostResult => ({
  host,
  outcome: { entry: { name: host, phase, message }, ready: false, failure: { reason, message } },
});
const stalled = (host: string, phase: string, reason: Reason, message: string): HostResult => ({
  host,
  outcome: { entry: { name: host, phase, message }, ready: false, stalled: { reason, message } },
});

function metadata(o: ObjectOptions, namespaced: boolean) {
  return {
    name: 'demo',
    ...(namespaced ? { namespace: 'apps' } : {}),
    generation: o.generation ?? 2,
    uid: '6f1c0f9e-0000-4000-8000-000000000001',
    ...(o.annotations ? { annotations: o.annotations } : {}),
  };
}

/** A namespaced kind after a reconcile whose hosts ended as `hosts` (status from summarize, as the reconciler writes it). */
function managed(kind: string, hosts: HostResult[], o: ObjectOptions = {}, refused: Refusal[] = []) {
  const observed = o.observed ?? o.generation ?? 2;
  const summary = summarize({ outcomes: hosts, refused, generation: observed, now: NOW });
  return {
    apiVersion: API_VERSION,
    kind,
    metadata: metadata(o, true),
    spec: { hostName: 'edge-1' },
    status: {
      observedGeneration: observed,
      conditions: summary.conditions,
      hostsReady: summary.hostsReady,
      phase: summary.phase,
      hosts: hosts.map((h) => h.outcome.entry),
    },
  };
}

/** A namespaced kind the controller has not written status for yet. */
function fresh(kind: string, o: ObjectOptions = {}) {
  return { apiVersion: API_VERSION, kind, metadata: metadata(o, true), spec: { hostName: 'edge-1' } };
}

const CONNECTED: HostObservationResult = {
  ok: true,
  facts: { engine: { version: '20.10.24', apiVersion: '1.41' }, containers: { total: 3, running: 2 } },
};
const unreachable = (
  reason: 'Unreachable' | 'TLSError' | 'Unauthorized' | 'SecretNotFound',
  message: string,
) => ({ ok: false, reason, message }) as HostObservationResult;

/** A DockerHost after a heartbeat (status from nextHostStatus, as the DockerHost controller writes it). */
function dockerHost(observation: HostObservationResult | undefined, o: ObjectOptions = {}) {
  const observed = o.observed ?? o.generation ?? 2;
  const state = observation === undefined ? 'Pending' : observation.ok ? 'Ready' : 'NotReady';
  const endpoint = 'tcp://edge-1.lab:2376';
  return {
    apiVersion: API_VERSION,
    kind: 'DockerHost',
    metadata: metadata(o, false),
    spec: { endpoint, tls: { secretRef: { namespace: 'dockyard-system', name: 'edge-1-tls' } } },
    ...(observation
      ? {
          status: nextHostStatus(undefined, {
            generation: observed,
            endpoint,
            connection: 'tcp+tls',
            observation,
            step: { saved: { state, context: { failures: observation.ok ? 0 : 1 }, version: 1 } },
            warnings: [],
            now: NOW,
          }),
        }
      : {}),
  };
}

const PAUSED = { [ANNOTATIONS.paused]: 'true' };
/** The kinds whose status is the managed reconciler's summary (DockerHost and DockerService have their own). */
const MANAGED_KINDS = inApiOrder(MANAGED_KIND_ENTRIES).map((k) => k.definition.kind);

// --- the tests ---------------------------------------------------------------

describe('Argo CD health checks: prerequisites', () => {
  it(`${LUA} and dkjson are installed (the checks are executed, never skipped)`, () => {
    expect(() => requireLua()).not.toThrow();
  });

  it('there is one health script per Dockyard kind', () => {
    expect([...readHealthScripts().keys()].sort()).toEqual(ALL_KINDS.map((d) => d.kind).sort());
  });

  // Argo CD runs the scripts with gopher-lua, which speaks Lua 5.1: nothing newer may slip in.
  it.each(ALL_KINDS.map((d) => d.kind))('%s uses only Lua 5.1 syntax and library', (kind) => {
    const code = (readHealthScripts().get(kind) ?? '')
      .split('\n')
      .map((line) => line.replace(/--.*$/, ''))
      .join('\n');
    for (const [what, pattern] of [
      ['goto / labels', /\bgoto\b|::\w+::/],
      ['integer division', /\/\//],
      ['bitwise operators', /[^~]~[^=]|&|\||<<|>>/],
      ['5.3+ library', /\b(utf8\.|math\.type|string\.pack|table\.move|table\.unpack)\b/],
    ] as const) {
      expect(code, `${healthScriptPath(kind)} uses ${what}`).not.toMatch(pattern);
    }
  });
});

describe.each(MANAGED_KINDS)('%s health', (kind) => {
  it('is Healthy when Ready on every placed host', () => {
    expect(runHealth(kind, managed(kind, [ready('edge-1'), ready('edge-2')]))).toEqual({
      status: 'Healthy',
      message: 'ready on 2/2 hosts',
    });
  });

  it('is Progressing while the status is from an older generation', () => {
    const obj = managed(kind, [ready('edge-1')], { generation: 3, observed: 2 });
    expect(runHealth(kind, obj)).toEqual({ status: 'Progressing', message: STALE });
  });

  it('is Progressing before the controller wrote any status', () => {
    expect(runHealth(kind, fresh(kind))).toEqual({ status: 'Progressing', message: STALE });
  });

  it('is Progressing while some hosts are still being worked on', () => {
    const health = runHealth(kind, managed(kind, [ready('edge-1'), working('edge-2', 'Creating')]));
    expect(health.status).toBe('Progressing');
    expect(health.message).toBe('Creating (1/2 hosts ready): waiting on edge-2: Creating');
  });

  it('is Suspended when paused, whatever the status says', () => {
    expect(runHealth(kind, managed(kind, [ready('edge-1')], { annotations: PAUSED })).status).toBe(
      'Suspended',
    );
    const broken = managed(kind, [failing('edge-1', 'HostNotReady', 'HostNotReady', 'down')], {
      annotations: PAUSED,
    });
    expect(runHealth(kind, broken)).toEqual({
      status: 'Suspended',
      message: 'Paused (dockyard.io/paused): Dockyard observes but changes nothing',
    });
    expect(runHealth(kind, fresh(kind, { annotations: PAUSED })).status).toBe('Suspended');
  });

  it('is not Suspended when the paused annotation is not "true"', () => {
    const obj = managed(kind, [ready('edge-1')], { annotations: { [ANNOTATIONS.paused]: 'false' } });
    expect(runHealth(kind, obj).status).toBe('Healthy');
  });

  it('is Degraded when a placed DockerHost is not Ready', () => {
    const obj = managed(kind, [
      ready('edge-1'),
      failing('edge-2', 'HostNotReady', 'HostNotReady', 'DockerHost edge-2 is not Ready'),
    ]);
    expect(runHealth(kind, obj)).toEqual({
      status: 'Degraded',
      message: 'HostNotReady: edge-2: HostNotReady: DockerHost edge-2 is not Ready',
    });
  });

  it('is Degraded when a Docker call keeps failing', () => {
    const obj = managed(kind, [failing('edge-1', 'Pending', 'DockerError', 'HTTP 500: driver failed')]);
    expect(runHealth(kind, obj).message).toMatch(/^DockerError: /);
    expect(runHealth(kind, obj).status).toBe('Degraded');
  });

  it('is Degraded when no DockerHost takes it', () => {
    expect(runHealth(kind, managed(kind, []))).toEqual({
      status: 'Degraded',
      message: 'NoMatchingHosts: no DockerHost matches spec.hostSelector',
    });
    const refused: Refusal[] = [
      { host: 'edge-9', reason: 'HostNotFound', message: 'DockerHost edge-9 does not exist' },
    ];
    expect(runHealth(kind, managed(kind, [], {}, refused))).toEqual({
      status: 'Degraded',
      message: 'HostNotFound: edge-9: DockerHost edge-9 does not exist',
    });
  });
});

// What each kind adds: its own in-progress phases and failures.
interface KindCase {
  name: string;
  hosts: HostResult[];
  status: 'Healthy' | 'Progressing' | 'Degraded';
  message: string | RegExp;
}

const KIND_CASES: Record<string, KindCase[]> = {
  DockerImage: [
    {
      name: 'pulling',
      hosts: [working('edge-1', 'Pulling', 'pulling busybox:1.36: 1.2 MB of 2.1 MB (57%)')],
      status: 'Progressing',
      message: 'Pulling (0/1 hosts ready): waiting on edge-1: pulling busybox:1.36: 1.2 MB of 2.1 MB (57%)',
    },
    {
      name: 're-resolving its tag',
      hosts: [working('edge-1', 'Checking')],
      status: 'Progressing',
      message: /^Checking \(0\/1 hosts ready\)/,
    },
    {
      name: 'not found in the registry',
      hosts: [failing('edge-1', 'Failed', 'NotFound', 'manifest unknown; attempt 3')],
      status: 'Degraded',
      message: 'NotFound: edge-1: NotFound: manifest unknown; attempt 3',
    },
    {
      name: 'refused by the registry',
      hosts: [failing('edge-1', 'Failed', 'Unauthorized', 'pull access denied')],
      status: 'Degraded',
      message: /^Unauthorized: /,
    },
    {
      name: 'registry unreachable',
      hosts: [failing('edge-1', 'Failed', 'RegistryUnreachable', 'dial tcp: connection refused')],
      status: 'Degraded',
      message: /^RegistryUnreachable: /,
    },
    {
      name: 'missing under pullPolicy Never',
      hosts: [failing('edge-1', 'NotPresent', 'ImageNotPresent', 'busybox:1.36 is not present on edge-1')],
      status: 'Degraded',
      message: /^ImageNotPresent: /,
    },
  ],
  DockerNetwork: [
    {
      name: 'creating',
      hosts: [working('edge-1', 'Creating')],
      status: 'Progressing',
      message: 'Creating (0/1 hosts ready): waiting on edge-1: Creating',
    },
    {
      name: 'a foreign network has its name',
      hosts: [stalled('edge-1', 'NameConflict', 'NameConflict', 'a network named apps.demo is not ours')],
      status: 'Degraded',
      message: 'NameConflict: edge-1: a network named apps.demo is not ours',
    },
    {
      name: 'the spec changed while containers are attached',
      hosts: [stalled('edge-1', 'RecreateRequired', 'RecreateRequired', 'containers are attached')],
      status: 'Degraded',
      message: /^RecreateRequired: /,
    },
    {
      name: 'duplicated by name',
      hosts: [failing('edge-1', 'DuplicateNetworks', 'DuplicateNetworks', 'two networks named apps.demo')],
      status: 'Degraded',
      message: /^DuplicateNetworks: /,
    },
  ],
  DockerVolume: [
    {
      name: 'creating',
      hosts: [working('edge-1', 'Creating')],
      status: 'Progressing',
      message: 'Creating (0/1 hosts ready): waiting on edge-1: Creating',
    },
    {
      name: 'refused by the host security policy',
      hosts: [
        stalled('edge-1', 'PolicyViolation', 'PolicyViolation', 'driver local with o=bind is not allowed'),
      ],
      status: 'Degraded',
      message: 'PolicyViolation: edge-1: driver local with o=bind is not allowed',
    },
    {
      name: 'the spec changed (a volume never changes in place)',
      hosts: [stalled('edge-1', 'RecreateRequired', 'RecreateRequired', 'back up and remove it')],
      status: 'Degraded',
      message: /^RecreateRequired: /,
    },
    {
      name: 'a foreign volume has its name',
      hosts: [stalled('edge-1', 'NameConflict', 'NameConflict', 'not owned by this DockerVolume')],
      status: 'Degraded',
      message: /^NameConflict: /,
    },
  ],
  DockerContainer: [
    {
      name: 'running, or stopped on purpose',
      hosts: [ready('edge-1', 'Healthy'), ready('edge-2', 'Stopped')],
      status: 'Healthy',
      message: 'ready on 2/2 hosts',
    },
    {
      name: 'pulling its image',
      hosts: [working('edge-1', 'Pulling')],
      status: 'Progressing',
      message: 'Pulling (0/1 hosts ready): waiting on edge-1: Pulling',
    },
    {
      name: 'creating',
      hosts: [working('edge-1', 'Creating')],
      status: 'Progressing',
      message: 'Creating (0/1 hosts ready): waiting on edge-1: Creating',
    },
    {
      name: 'starting (healthcheck not passed yet)',
      hosts: [ready('edge-1', 'Healthy'), working('edge-2', 'Starting')],
      status: 'Progressing',
      message: 'Starting (1/2 hosts ready): waiting on edge-2: Starting',
    },
    {
      name: 'waiting for its network and image',
      hosts: [
        failing(
          'edge-1',
          'WaitingForDependencies',
          'DependenciesNotReady',
          'waiting for DockerNetwork app, DockerImage busybox to be ready on this host',
        ),
      ],
      status: 'Progressing',
      message:
        'WaitingForDependencies (0/1 hosts ready): edge-1: DependenciesNotReady: waiting for DockerNetwork app, DockerImage busybox to be ready on this host',
    },
    {
      name: 'waiting on one host, crash-looping on another',
      hosts: [
        failing('edge-1', 'WaitingForDependencies', 'DependenciesNotReady', 'waiting for DockerVolume data'),
        failing('edge-2', 'CrashLoopBackOff', 'CrashLoopBackOff', 'keeps exiting (exit code 1, 4 restarts)'),
      ],
      status: 'Degraded',
      message: 'CrashLoopBackOff on edge-2: keeps exiting (exit code 1, 4 restarts)',
    },
    {
      name: 'crash-looping',
      hosts: [
        failing('edge-1', 'CrashLoopBackOff', 'CrashLoopBackOff', 'keeps exiting (exit code 1, 4 restarts)'),
      ],
      status: 'Degraded',
      message: 'CrashLoopBackOff: edge-1: CrashLoopBackOff: keeps exiting (exit code 1, 4 restarts)',
    },
    {
      name: 'failing its healthcheck',
      hosts: [failing('edge-1', 'Unhealthy', 'Unhealthy', 'healthcheck failing')],
      status: 'Degraded',
      message: 'Unhealthy: edge-1: Unhealthy: healthcheck failing',
    },
    {
      name: 'refused by the host security policy',
      hosts: [
        stalled(
          'edge-1',
          'PolicyViolation',
          'PolicyViolation',
          'privileged is not allowed on edge-1 (baseline)',
        ),
      ],
      status: 'Degraded',
      message: 'PolicyViolation: edge-1: privileged is not allowed on edge-1 (baseline)',
    },
    {
      name: 'a foreign container has its name',
      hosts: [stalled('edge-1', 'NameConflict', 'NameConflict', 'a container named apps.demo exists')],
      status: 'Degraded',
      message: /^NameConflict: /,
    },
    {
      name: 'exited and kept down by its restart policy',
      hosts: [
        stalled('edge-1', 'Failed', 'Failed', 'exited with code 2; its restart policy keeps it stopped'),
      ],
      status: 'Degraded',
      message: /^Failed: /,
    },
    {
      name: 'a run to completion that exited 0 (a migration)',
      hosts: [ready('edge-1', 'Completed')],
      status: 'Healthy',
      message: 'ready on 1/1 hosts',
    },
    {
      name: 'waiting for the migration it dependsOn',
      hosts: [
        failing(
          'edge-1',
          'WaitingForDependencies',
          'DependenciesNotReady',
          'waiting for DockerContainer/migrate (Completed; now Running) to be ready on this host',
        ),
      ],
      status: 'Progressing',
      message: /^WaitingForDependencies .*DockerContainer\/migrate \(Completed; now Running\)/,
    },
    {
      name: 'a dependsOn cycle',
      hosts: [
        stalled(
          'edge-1',
          'WaitingForDependencies',
          'DependencyCycle',
          'spec.dependsOn leads back to this container (demo → db → demo)',
        ),
      ],
      status: 'Degraded',
      message: /^DependencyCycle: /,
    },
    {
      name: 'a Secret it reads is missing',
      hosts: [
        failing('edge-1', 'WaitingForDependencies', 'SecretNotFound', 'Secret apps/db-password not found'),
      ],
      status: 'Degraded',
      message: /^SecretNotFound: /,
    },
  ],
};

describe.each(Object.entries(KIND_CASES))('%s health, its own phases', (kind, cases) => {
  it.each(cases)('$name → $status', ({ hosts, status, message }) => {
    const health = runHealth(kind, managed(kind, hosts));
    expect(health.status).toBe(status);
    if (typeof message === 'string') expect(health.message).toBe(message);
    else expect(health.message).toMatch(message);
  });
});

describe('DockerHost health', () => {
  it('is Healthy while the daemon answers', () => {
    expect(runHealth('DockerHost', dockerHost(CONNECTED))).toEqual({
      status: 'Healthy',
      message: 'Docker 20.10.24 reachable at tcp://edge-1.lab:2376',
    });
  });

  it('is Progressing before the first heartbeat', () => {
    expect(runHealth('DockerHost', dockerHost(undefined))).toEqual({ status: 'Progressing', message: STALE });
  });

  it('is Progressing while the status is from an older generation', () => {
    const obj = dockerHost(CONNECTED, { generation: 5, observed: 4 });
    expect(runHealth('DockerHost', obj)).toEqual({ status: 'Progressing', message: STALE });
  });

  it.each([
    ['Unreachable', 'connect ECONNREFUSED 10.0.0.7:2376'],
    ['TLSError', 'CERT_HAS_EXPIRED: certificate has expired'],
    ['Unauthorized', 'HTTP 403: authorization denied by plugin'],
    ['SecretNotFound', 'Secret dockyard-system/edge-1-tls not found'],
  ] as const)('is Degraded when %s', (reason, message) => {
    expect(runHealth('DockerHost', dockerHost(unreachable(reason, message)))).toEqual({
      status: 'Degraded',
      message: `${reason}: tcp://edge-1.lab:2376: ${message}`,
    });
  });

  it('is Suspended when paused', () => {
    const obj = dockerHost(unreachable('Unreachable', 'down'), { annotations: PAUSED });
    expect(runHealth('DockerHost', obj).status).toBe('Suspended');
  });
});

// The reason tables come from src/crds/reasons.ts: every reason of a group
// gets the health its group promises, so a reason added to the module is
// checked here without a new case.
describe('health by reason group (src/crds/reasons.ts)', () => {
  it.each(MANAGED_KINDS.flatMap((kind) => RETRIED_REASONS.map((reason) => [kind, reason] as const)))(
    '%s is Degraded when Ready=False with the retried reason %s',
    (kind, reason) => {
      const obj = managed(kind, [failing('edge-1', 'Pending', reason, 'broken')]);
      expect(runHealth(kind, obj)).toEqual({
        status: 'Degraded',
        message: `${reason}: edge-1: ${reason}: broken`,
      });
    },
  );

  it.each(MANAGED_KINDS.flatMap((kind) => STALLED_REASONS.map((reason) => [kind, reason] as const)))(
    '%s is Degraded when Stalled with %s',
    (kind, reason) => {
      const obj = managed(kind, [stalled('edge-1', reason, reason, 'needs a change')]);
      expect(runHealth(kind, obj)).toEqual({
        status: 'Degraded',
        message: `${reason}: edge-1: needs a change`,
      });
    },
  );

  it.each(WAITING_REASONS)('DockerContainer is Progressing while it waits (%s)', (reason) => {
    const obj = managed('DockerContainer', [failing('edge-1', 'WaitingForDependencies', reason, 'waiting')]);
    expect(runHealth('DockerContainer', obj).status).toBe('Progressing');
  });

  it.each(FAILED_PHASES)('DockerContainer is Degraded when a host is %s while another waits', (phase) => {
    const obj = managed('DockerContainer', [
      failing('edge-1', 'WaitingForDependencies', Reason.DependenciesNotReady, 'waiting'),
      working('edge-2', phase, 'broken'),
    ]);
    expect(runHealth('DockerContainer', obj)).toEqual({
      status: 'Degraded',
      message: `${phase} on edge-2: broken`,
    });
  });

  it.each([...HOST_FAILURE_REASONS, Reason.SecretNotFound])('DockerHost is Degraded when %s', (reason) => {
    const obj = dockerHost({ ok: false, reason, message: 'down' });
    expect(runHealth('DockerHost', obj)).toEqual({
      status: 'Degraded',
      message: `${reason}: tcp://edge-1.lab:2376: down`,
    });
  });
});

// --- DockerService: its health is its rollout's --------------------------------

type Mark = (c: readonly Condition[] | undefined, d: ConditionDetail, now?: Date) => Condition[];

interface ServiceState {
  /** How the controller sets Ready (and Reconciling/Stalled), as src/runtime/conditions.ts does for every kind. */
  mark: Mark;
  reason: Reason;
  message: string;
  phase: string;
  readySummary?: string;
  /** Conditions set beside Ready (Available, Progressing, RolledBack). */
  extra?: Condition[];
}

/** A DockerService after a reconcile that left its rollout in `state`. */
function service(state: ServiceState | undefined, o: ObjectOptions & { paused?: boolean } = {}) {
  const observed = o.observed ?? o.generation ?? 2;
  const conditions = state
    ? state.mark(
        state.extra ?? [],
        { reason: state.reason, message: state.message, observedGeneration: observed },
        NOW,
      )
    : undefined;
  return {
    apiVersion: API_VERSION,
    kind: 'DockerService',
    metadata: metadata(o, true),
    spec: {
      hostSelector: { matchLabels: { site: 'edge' } },
      replicas: 3,
      template: { spec: { image: 'nginx:1.27' } },
      ...(o.paused !== undefined ? { paused: o.paused } : {}),
    },
    ...(state
      ? {
          status: {
            observedGeneration: observed,
            conditions,
            phase: state.phase,
            replicas: 3,
            readySummary: state.readySummary ?? '3/3',
          },
        }
      : {}),
  };
}

const condition = (type: string, status: Condition['status'], reason: Reason): Condition => ({
  type,
  status,
  reason,
  message: '',
  lastTransitionTime: '2026-03-01T11:00:00Z',
});

const COMPLETE: ServiceState = {
  mark: markReady,
  reason: Reason.RolloutComplete,
  message: '3/3 replicas at revision 4 are Available',
  phase: 'Complete',
  extra: [condition('Available', 'True', Reason.MinimumReplicasAvailable)],
};
const ROLLING: ServiceState = {
  mark: markReconciling,
  reason: Reason.RollingUpdate,
  message: '1/3 replicas at revision 5',
  phase: 'Progressing',
  readySummary: '2/3',
};
const ROLLED_BACK: ServiceState = {
  mark: markStalled,
  reason: Reason.RolledBack,
  message: 'revision 5 failed; running revision 4',
  phase: 'RolledBack',
  extra: [condition('RolledBack', 'True', Reason.RolledBack)],
};

describe('DockerService health', () => {
  it('is Healthy when the rollout is complete', () => {
    expect(runHealth('DockerService', service(COMPLETE))).toEqual({
      status: 'Healthy',
      message: '3/3 replicas at revision 4 are Available',
    });
  });

  it('is Progressing while a rollout replaces replicas', () => {
    expect(runHealth('DockerService', service(ROLLING))).toEqual({
      status: 'Progressing',
      message: 'Progressing (2/3 ready): 1/3 replicas at revision 5',
    });
  });

  it('is Progressing before the controller wrote any status', () => {
    expect(runHealth('DockerService', service(undefined))).toEqual({ status: 'Progressing', message: STALE });
  });

  it('is Progressing while the status is from an older generation, whatever it says', () => {
    for (const state of [COMPLETE, ROLLED_BACK]) {
      const obj = service(state, { generation: 3, observed: 2 });
      expect(runHealth('DockerService', obj)).toEqual({ status: 'Progressing', message: STALE });
    }
  });

  it('is Suspended when paused by spec.paused or the annotation, whatever the status says', () => {
    for (const state of [COMPLETE, ROLLING, ROLLED_BACK, undefined]) {
      expect(runHealth('DockerService', service(state, { paused: true }))).toEqual({
        status: 'Suspended',
        message: 'Paused (spec.paused): the rollout takes no step until it is resumed',
      });
      expect(runHealth('DockerService', service(state, { annotations: PAUSED }))).toEqual({
        status: 'Suspended',
        message: 'Paused (dockyard.io/paused): the rollout takes no step until it is resumed',
      });
    }
  });

  it('is not Suspended when spec.paused is false or the annotation is not "true"', () => {
    expect(runHealth('DockerService', service(COMPLETE, { paused: false })).status).toBe('Healthy');
    const obj = service(COMPLETE, { annotations: { [ANNOTATIONS.paused]: 'false' } });
    expect(runHealth('DockerService', obj).status).toBe('Healthy');
  });

  it.each(SUSPENDED_REASONS)('is Suspended when the rollout is held (%s)', (reason) => {
    const held: ServiceState = {
      mark: markRetrying,
      reason,
      message: 'held at revision 5',
      phase: reason === Reason.CanaryPaused ? 'CanaryPaused' : 'Paused',
    };
    expect(runHealth('DockerService', service(held))).toEqual({
      status: 'Suspended',
      message: `${reason}: held at revision 5`,
    });
  });

  // RollingBack is still moving (Reconciling); the others are Stalled: both are Degraded,
  // a rollback is never reported as a successful update.
  it.each(
    ROLLOUT_FAILED_REASONS.flatMap((reason) =>
      [markRetrying, markStalled].map((mark) => [reason, mark.name, mark] as const),
    ),
  )('is Degraded when the rollout failed (%s, %s)', (reason, _how, mark) => {
    const failed: ServiceState = { mark, reason, message: 'revision 5 failed', phase: 'Failed' };
    expect(runHealth('DockerService', service(failed))).toEqual({
      status: 'Degraded',
      message: `${reason}: revision 5 failed`,
    });
  });

  it('is Degraded when rolled back, with the RolledBack condition beside Ready', () => {
    expect(runHealth('DockerService', service(ROLLED_BACK))).toEqual({
      status: 'Degraded',
      message: 'RolledBack: revision 5 failed; running revision 4',
    });
  });

  it.each(STALLED_REASONS)('is Degraded when Stalled with %s', (reason) => {
    const stuck: ServiceState = { mark: markStalled, reason, message: 'needs a change', phase: 'Failed' };
    expect(runHealth('DockerService', service(stuck))).toEqual({
      status: 'Degraded',
      message: `${reason}: needs a change`,
    });
  });

  it.each(HEALTHY_REASONS)('is Progressing while it works with nothing wrong (%s)', (reason) => {
    const working: ServiceState = { mark: markReconciling, reason, message: 'working', phase: 'Progressing' };
    expect(runHealth('DockerService', service(working)).status).toBe('Progressing');
  });

  // As Argo CD's own Deployment check: replicas short of Available are Progressing until
  // the progress deadline says the rollout failed (ProgressDeadlineExceeded, above).
  it.each([Reason.MinimumReplicasUnavailable, Reason.InsufficientHosts])(
    'is Progressing while replicas are short (%s)',
    (reason) => {
      const short: ServiceState = {
        mark: markRetrying,
        reason,
        message: 'edge-2 is not Ready',
        phase: 'Progressing',
        readySummary: '2/3',
      };
      expect(runHealth('DockerService', service(short))).toEqual({
        status: 'Progressing',
        message: `Progressing (2/3 ready): edge-2 is not Ready`,
      });
    },
  );
});

describe('reason tables in the health scripts', () => {
  const scripts = [...new Set(ALL_KINDS.map((d) => healthScriptPath(d.kind)))];

  it.each(scripts)(
    '%s carries the current reason tables (else run npx tsx scripts/generate-gitops.ts)',
    (path) => {
      const lua = readFileSync(path, 'utf8');
      expect(lua, `${path} is stale: run npx tsx scripts/generate-gitops.ts`).toBe(withReasonTables(lua));
    },
  );

  it('every reason table is used by a script', () => {
    const text = scripts.map((path) => readFileSync(path, 'utf8')).join('\n');
    for (const name of Object.keys(REASON_TABLES)) expect(text).toContain(`local ${name} = {`);
  });

  it.each([
    {
      what: 'rewrites a stale table as a set',
      lua: 'local WAITING_REASONS = { Gone = true }\nreturn 1',
      want: `local WAITING_REASONS = {\n${WAITING_REASONS.map((r) => `  ${r} = true,`).join('\n')}\n}\nreturn 1`,
    },
    {
      what: 'leaves other tables alone',
      lua: 'local hs = {}\nlocal LIMITS = { a = 1 }',
      want: 'local hs = {}\nlocal LIMITS = { a = 1 }',
    },
  ])('$what', ({ lua, want }) => {
    expect(withReasonTables(lua)).toBe(want);
  });

  it.each(scripts)('%s includes common.lua once, and argocd-cm gets it written in', (path) => {
    const lua = readFileSync(path, 'utf8');
    expect(lua.split('\n').filter((line) => line === COMMON_INCLUDE)).toHaveLength(1);
    const composed = composeHealthScript(lua);
    expect(composed.split('\n')).not.toContain(COMMON_INCLUDE);
    expect(composed).toContain('local function condition(status, conditionType)');
  });

  it('refuses a script without the include line, or with two', () => {
    expect(() => composeHealthScript('return {}', 'local x = 1')).toThrow(/found 0/);
    expect(() => composeHealthScript(`${COMMON_INCLUDE}\n${COMMON_INCLUDE}`, 'local x = 1')).toThrow(
      /found 2/,
    );
    expect(composeHealthScript(`-- a\n${COMMON_INCLUDE}\nreturn x`, 'local x = 1\n')).toBe(
      '-- a\nlocal x = 1\nreturn x',
    );
  });

  it('refuses a hand-written reason list', () => {
    expect(() => withReasonTables('local HOST_REASONS = {\n  Unreachable = true,\n}')).toThrow(
      /REASON_TABLES/,
    );
  });
});

describe('argocd-cm patch', () => {
  it(`${ARGOCD_CM_PATCH} is current`, async () => {
    let committed: string;
    try {
      committed = readFileSync(ARGOCD_CM_PATCH, 'utf8');
    } catch {
      throw new Error(`${ARGOCD_CM_PATCH} is missing: run npx tsx scripts/generate-gitops.ts`);
    }
    const expected = await renderArgoCdPatch(readHealthScripts());
    expect(committed, `${ARGOCD_CM_PATCH} is stale: run npx tsx scripts/generate-gitops.ts`).toBe(expected);
  });

  it('embeds every script byte for byte under its resource.customizations.health key', () => {
    const cm = parse(readFileSync(ARGOCD_CM_PATCH, 'utf8')) as { data: Record<string, string> };
    for (const [kind, lua] of readHealthScripts()) expect(cm.data[healthKey(kind)]).toBe(lua);
    expect(Object.keys(cm.data)).toHaveLength(ALL_KINDS.length);
  });
});
