import { describe, expect, it } from 'vitest';
import type { DockerContainer, DockerContainerStatus } from '../../crds/dockercontainer.js';
import type { DockerHost } from '../../crds/dockerhost.js';
import type { Condition } from '../../crds/kit.js';
import { Reason } from '../../crds/reasons.js';
import { hostDownSince, hostIsReady, readySince, replicaOf, timeOf } from './replica.js';
import { PLACEMENT_HASH_ANNOTATION, SERVICE_LABELS, SLOT_ANNOTATION, type Replica } from './types.js';

const NOW = new Date('2026-06-01T12:00:00Z');
/** An RFC 3339 time `seconds` before NOW. */
const ago = (seconds: number) => new Date(NOW.getTime() - seconds * 1000).toISOString();

const cond = (
  type: string,
  status: Condition['status'],
  since = ago(100),
  reason: string = Reason.Converged,
): Condition => ({
  type,
  status,
  reason,
  message: '',
  lastTransitionTime: since,
});

function dockerHost(name: string, conditions?: Condition[]): DockerHost {
  return {
    apiVersion: 'dockyard.io/v1alpha1',
    kind: 'DockerHost',
    metadata: { name },
    spec: { endpoint: 'unix:///s' },
    ...(conditions ? { status: { conditions } } : {}),
  };
}

type HostEntry = NonNullable<DockerContainerStatus['hosts']>[number];

interface Fixture {
  labels?: Record<string, string>;
  hostName?: string;
  generation?: number;
  observedGeneration?: number;
  deleting?: boolean;
  conditions?: Condition[];
  /** The status.hosts entry for h1; null for none. */
  entry?: Partial<HostEntry> | null;
  annotations?: Record<string, string>;
}

const LABELS = {
  [SERVICE_LABELS.service]: 'web',
  [SERVICE_LABELS.revision]: 'abc',
};
const SLOT = { [SLOT_ANNOTATION]: '0' };

function container(f: Fixture = {}): DockerContainer {
  const entry = f.entry === null ? [] : [{ name: 'h1', phase: 'Running', ...f.entry }];
  return {
    apiVersion: 'dockyard.io/v1alpha1',
    kind: 'DockerContainer',
    metadata: {
      name: 'web-abc-0',
      labels: f.labels ?? LABELS,
      generation: f.generation ?? 2,
      creationTimestamp: ago(1000) as unknown as Date,
      annotations: f.annotations ?? SLOT,
      ...(f.deleting ? { deletionTimestamp: ago(1) as unknown as Date } : {}),
    },
    spec: { image: 'nginx', ...(f.hostName === '' ? {} : { hostName: f.hostName ?? 'h1' }) },
    status: {
      observedGeneration: f.observedGeneration ?? 2,
      conditions: f.conditions ?? [cond('Ready', 'True')],
      hosts: entry,
    },
  };
}

const readyHost = dockerHost('h1', [cond('Ready', 'True')]);

describe('replicaOf', () => {
  const run = (c: DockerContainer, hosts: DockerHost[] = [readyHost], minReadySeconds = 30) =>
    replicaOf({
      container: c,
      hostOf: (name) => hosts.find((h) => h.metadata.name === name),
      minReadySeconds,
      now: NOW,
    });

  it.each<[string, DockerContainer, DockerHost[], number, Partial<Replica> | undefined]>([
    [
      'no revision label',
      container({ labels: { [SERVICE_LABELS.service]: 'web' } }),
      [readyHost],
      30,
      undefined,
    ],
    ['no slot annotation', container({ annotations: {} }), [readyHost], 30, undefined],
    ['no spec.hostName', container({ hostName: '' }), [readyHost], 30, undefined],
    ['Ready for 100s, minReadySeconds 30', container(), [readyHost], 30, { state: 'Available', ready: true }],
    [
      'Ready for 100s, minReadySeconds 100',
      container(),
      [readyHost],
      100,
      { state: 'Available', ready: true },
    ],
    [
      'Ready for 100s, minReadySeconds 101',
      container(),
      [readyHost],
      101,
      { state: 'Starting', ready: true },
    ],
    [
      'Ready without a readable transition time: not yet Available',
      container({ conditions: [cond('Ready', 'True', 'not a time')] }),
      [readyHost],
      0,
      { state: 'Starting', ready: true },
    ],
    [
      'Ready of an older generation',
      container({ observedGeneration: 1 }),
      [readyHost],
      0,
      { state: 'Starting', ready: false },
    ],
    [
      'Ready but no entry for its host yet',
      container({ entry: null }),
      [readyHost],
      0,
      { state: 'Starting', ready: false },
    ],
    [
      'Ready=Unknown while creating',
      container({
        conditions: [cond('Ready', 'Unknown'), cond('Reconciling', 'True')],
        entry: { phase: 'Pulling' },
      }),
      [readyHost],
      0,
      { state: 'Starting', ready: false },
    ],
    [
      'being deleted wins over everything',
      container({ deleting: true, entry: { phase: Reason.CrashLoopBackOff } }),
      [],
      0,
      { state: 'Terminating', ready: false },
    ],
    [
      'host missing',
      container({ entry: { phase: Reason.CrashLoopBackOff } }),
      [],
      0,
      { state: 'HostDown', ready: false, hostDownSince: undefined },
    ],
    [
      'host NotReady: HostDown since its Ready transition, not Failed',
      container({ entry: { phase: Reason.HostNotReady } }),
      [dockerHost('h1', [cond('Ready', 'False', ago(50), Reason.Unreachable)])],
      0,
      { state: 'HostDown', ready: false, hostDownSince: new Date(ago(50)) },
    ],
    [
      'host Ready again, but the container still says HostNotReady: HostDown until it is observed again',
      container({
        conditions: [cond('Ready', 'False', ago(1), Reason.HostNotReady)],
        entry: { phase: Reason.HostNotReady },
      }),
      [readyHost],
      0,
      { state: 'HostDown', ready: false },
    ],
    [
      'host Ready again, the container still says AgentDisconnected: HostDown as well',
      container({
        conditions: [cond('Ready', 'Unknown', ago(1), Reason.AgentDisconnected)],
        entry: { phase: Reason.AgentDisconnected },
      }),
      [readyHost],
      0,
      { state: 'HostDown', ready: false },
    ],
    [
      'host without conditions yet',
      container(),
      [dockerHost('h1')],
      0,
      { state: 'HostDown', ready: false, hostDownSince: undefined },
    ],
    [
      'crash loop',
      container({
        conditions: [cond('Ready', 'False')],
        entry: { phase: Reason.CrashLoopBackOff, message: 'exited 1' },
      }),
      [readyHost],
      0,
      { state: 'Failed', ready: false, failure: 'CrashLoopBackOff: exited 1' },
    ],
    [
      'completed (exited 0): a replica is never meant to finish',
      container({ entry: { phase: 'Completed' } }),
      [readyHost],
      0,
      { state: 'Failed', ready: false, failure: 'Completed' },
    ],
    [
      'refused by policy',
      container({ entry: { phase: Reason.PolicyViolation, message: 'privileged' } }),
      [readyHost],
      0,
      { state: 'Failed', ready: false, failure: 'PolicyViolation: privileged' },
    ],
    [
      'unhealthy health while its phase still says Running',
      container({ entry: { health: 'unhealthy' } }),
      [readyHost],
      0,
      { state: 'Failed', ready: false, failure: 'unhealthy' },
    ],
    [
      'restarted by Docker after an exit, not Ready again',
      container({ entry: { restartCount: 2 }, conditions: [cond('Ready', 'False')] }),
      [readyHost],
      0,
      { state: 'Failed', ready: false, failure: 'restarted 2 times' },
    ],
    [
      'restarted once, down',
      container({ entry: { restartCount: 1 }, conditions: [cond('Ready', 'False')] }),
      [readyHost],
      0,
      { state: 'Failed', failure: 'restarted 1 time' },
    ],
    [
      'restarted once and Ready again for 100s',
      container({ entry: { restartCount: 1 } }),
      [readyHost],
      30,
      { state: 'Available', ready: true },
    ],
    [
      'Stalled at the current generation',
      container({
        conditions: [cond('Ready', 'False'), cond('Stalled', 'True', ago(5), Reason.RecreateRequired)],
        entry: { phase: 'Pending' },
      }),
      [readyHost],
      0,
      { state: 'Failed', failure: 'RecreateRequired' },
    ],
    [
      'Stalled of an older generation is ignored',
      container({
        observedGeneration: 1,
        conditions: [cond('Ready', 'False'), cond('Stalled', 'True', ago(5), Reason.RecreateRequired)],
      }),
      [readyHost],
      0,
      { state: 'Starting', ready: false, failure: undefined },
    ],
  ])('%s', (_name, c, hosts, minReadySeconds, expected) => {
    const replica = run(c, hosts, minReadySeconds);
    if (expected === undefined) expect(replica).toBeUndefined();
    else {
      // Only the fields the row names; one set to undefined must be absent.
      const picked = Object.fromEntries(Object.keys(expected).map((k) => [k, replica?.[k as keyof Replica]]));
      expect(picked).toEqual(expected);
    }
  });

  it('reads name, slot, host, revision, placement hash, readySince and createdAt', () => {
    const replica = run(container({ annotations: { ...SLOT, [PLACEMENT_HASH_ANNOTATION]: 'p1' } }));
    expect(replica).toEqual({
      name: 'web-abc-0',
      slot: '0',
      host: 'h1',
      revision: 'abc',
      state: 'Available',
      ready: true,
      placementHash: 'p1',
      readySince: new Date(ago(100)),
      createdAt: new Date(ago(1000)),
    });
  });

  it('keeps a failure text short', () => {
    const replica = run(container({ entry: { phase: Reason.Failed, message: 'x'.repeat(1000) } }));
    expect(replica?.failure?.length).toBeLessThanOrEqual(300);
    expect(replica?.failure?.startsWith('Failed: xxx')).toBe(true);
  });
});

describe('host and container helpers', () => {
  it.each<[string, DockerHost | undefined, boolean, Date | undefined]>([
    ['missing', undefined, false, undefined],
    ['no conditions', dockerHost('h'), false, undefined],
    ['Ready', dockerHost('h', [cond('Ready', 'True')]), true, undefined],
    ['NotReady', dockerHost('h', [cond('Ready', 'False', ago(7))]), false, new Date(ago(7))],
    ['Unknown', dockerHost('h', [cond('Ready', 'Unknown', ago(9))]), false, new Date(ago(9))],
  ])('host %s', (_name, host, ready, downSince) => {
    expect(hostIsReady(host)).toBe(ready);
    expect(hostDownSince(host)).toEqual(downSince);
  });

  it.each<[string, DockerContainer, Date | undefined]>([
    ['Ready', container(), new Date(ago(100))],
    ['not Ready', container({ conditions: [cond('Ready', 'False')] }), undefined],
    ['Ready of an older generation', container({ observedGeneration: 1 }), undefined],
  ])('readySince: %s', (_name, c, since) => {
    expect(readySince(c)).toEqual(since);
  });

  it.each<[Date | string | undefined, Date | undefined]>([
    [undefined, undefined],
    ['garbage', undefined],
    ['2026-06-01T12:00:00Z', NOW],
    [NOW, NOW],
  ])('timeOf(%s)', (value, expected) => {
    expect(timeOf(value)).toEqual(expected);
  });
});
