import { describe, expect, it } from 'vitest';
import type { DockerHost, DockerHostSpec } from '../../crds/dockerhost.js';
import type { LabelSelector } from '../../crds/kit.js';
import { Reason } from '../../crds/reasons.js';
import { placementHash } from '../../managed/placement.js';
import { scheduleSlots, type Schedule, type ScheduleInput } from './schedule.js';
import type { Replica } from './types.js';

const NOW = new Date('2026-06-01T12:00:00Z');
const GRACE_MS = 60_000;
const ago = (seconds: number) => new Date(NOW.getTime() - seconds * 1000).toISOString();

interface HostOptions {
  labels?: Record<string, string>;
  spec?: Partial<DockerHostSpec>;
  /** Seconds since the host went NotReady; undefined: Ready. */
  downFor?: number;
  deleting?: boolean;
}

function host(name: string, o: HostOptions = {}): DockerHost {
  const ready = o.downFor === undefined;
  return {
    apiVersion: 'dockyard.io/v1alpha1',
    kind: 'DockerHost',
    metadata: {
      name,
      labels: o.labels ?? {},
      ...(o.deleting ? { deletionTimestamp: ago(1) as unknown as Date } : {}),
    },
    spec: { endpoint: 'unix:///s', ...o.spec },
    status: {
      conditions: [
        {
          type: 'Ready',
          status: ready ? 'True' : 'False',
          reason: ready ? Reason.Connected : Reason.Unreachable,
          message: '',
          lastTransitionTime: ago(o.downFor ?? 1000),
        },
      ],
    },
  };
}

const SELECTOR: LabelSelector = { matchLabels: { pool: 'web' } };
const OLD_SELECTOR: LabelSelector = { matchLabels: { pool: 'old' } };
const HASH = placementHash({ hostSelector: SELECTOR });
const OLD_HASH = placementHash({ hostSelector: OLD_SELECTOR });
const web = (extra: Record<string, string> = {}) => ({ pool: 'web', ...extra });

/** A replica `name` in slot `slot` on `host`, placed under today's selector unless told otherwise. */
function rep(name: string, slot: string, onHost: string, o: Partial<Replica> = {}): Replica {
  return {
    name,
    slot,
    host: onHost,
    revision: 'r1',
    state: 'Available',
    ready: true,
    placementHash: HASH,
    createdAt: new Date(ago(500)),
    ...o,
  };
}

function input(over: Partial<Omit<ScheduleInput, 'spec'>> & { spec?: Partial<ScheduleInput['spec']> }) {
  return {
    namespace: 'shop',
    namespaceLabels: { tier: 'gold' },
    hosts: [],
    replicas: [],
    placementHash: HASH,
    now: NOW,
    hostDownGraceMs: GRACE_MS,
    ...over,
    spec: { hostSelector: SELECTOR, ...over.spec },
  } satisfies ScheduleInput;
}

/** slot@host[replicas], `!` when out of service, `-` for no host. */
function summary(s: Schedule) {
  return {
    slots: s.slots.map(
      (slot) =>
        `${slot.id}@${slot.host ?? '-'}[${slot.replicas.map((r) => r.name).join(',')}]${slot.outOfService ? '!' : ''}`,
    ),
    surplus: s.surplus.map((r) => r.name),
    unplaced: s.unplaced,
  };
}

/** 3 sites × 2 hosts. */
const SITES = ['a', 'b', 'c'].flatMap((site) =>
  [1, 2].map((n) => host(`${site}${n}`, { labels: web({ site }) })),
);

describe('scheduleSlots: Replicated', () => {
  it.each<[string, ReturnType<typeof input>, ReturnType<typeof summary>]>([
    [
      'one replica by default, on the first host',
      input({ hosts: [host('h2', { labels: web() }), host('h1', { labels: web() })] }),
      { slots: ['0@h1[]'], surplus: [], unplaced: 0 },
    ],
    [
      'no replicas',
      input({
        spec: { replicas: 0 },
        hosts: [host('h1', { labels: web() })],
        replicas: [rep('x', '0', 'h1')],
      }),
      { slots: [], surplus: ['x'], unplaced: 0 },
    ],
    [
      'spread over sites first, then hosts',
      input({ spec: { replicas: 6, placement: { spreadByHostLabel: 'site' } }, hosts: SITES }),
      {
        slots: ['0@a1[]', '1@b1[]', '2@c1[]', '3@a2[]', '4@b2[]', '5@c2[]'],
        surplus: [],
        unplaced: 0,
      },
    ],
    [
      'spread over uneven sites; hosts without the label form one site',
      input({
        spec: { replicas: 4, placement: { spreadByHostLabel: 'site' } },
        hosts: [
          host('a1', { labels: web({ site: 'a' }) }),
          host('a2', { labels: web({ site: 'a' }) }),
          host('a3', { labels: web({ site: 'a' }) }),
          host('b1', { labels: web({ site: 'b' }) }),
          host('n1', { labels: web() }),
        ],
      }),
      { slots: ['0@a1[]', '1@b1[]', '2@n1[]', '3@a2[]'], surplus: [], unplaced: 0 },
    ],
    [
      'without maxPerHost one host takes every slot',
      input({ spec: { replicas: 3 }, hosts: [host('h1', { labels: web() })] }),
      { slots: ['0@h1[]', '1@h1[]', '2@h1[]'], surplus: [], unplaced: 0 },
    ],
    [
      'maxPerHost: slots no host can take are unplaced',
      input({
        spec: { replicas: 3, placement: { maxPerHost: 1 } },
        hosts: [host('h1', { labels: web() }), host('h2', { labels: web() })],
      }),
      { slots: ['0@h1[]', '1@h2[]', '2@-[]'], surplus: [], unplaced: 1 },
    ],
    [
      'maxPerHost 2 over two hosts',
      input({
        spec: { replicas: 4, placement: { maxPerHost: 2 } },
        hosts: [host('h1', { labels: web() }), host('h2', { labels: web() })],
        replicas: [rep('r0', '0', 'h1'), rep('r1', '1', 'h1')],
      }),
      { slots: ['0@h1[r0]', '1@h1[r1]', '2@h2[]', '3@h2[]'], surplus: [], unplaced: 0 },
    ],
    [
      'a lowered maxPerHost moves the slots beyond it',
      input({
        spec: { replicas: 2, placement: { maxPerHost: 1 } },
        hosts: [host('h1', { labels: web() }), host('h2', { labels: web() })],
        replicas: [rep('r0', '0', 'h1'), rep('r1', '1', 'h1')],
      }),
      { slots: ['0@h1[r0]', '1@h2[r1]'], surplus: [], unplaced: 0 },
    ],
    [
      'sticky: existing replicas keep their hosts although a better balance exists',
      input({
        spec: { replicas: 3, placement: { spreadByHostLabel: 'site' } },
        hosts: SITES,
        replicas: [rep('r0', '0', 'a1'), rep('r1', '1', 'a2')],
      }),
      { slots: ['0@a1[r0]', '1@a2[r1]', '2@b1[]'], surplus: [], unplaced: 0 },
    ],
    [
      'kept slots are counted before new ones are placed',
      input({
        spec: { replicas: 3, placement: { spreadByHostLabel: 'site' } },
        hosts: SITES,
        replicas: [rep('r2', '2', 'a1')],
      }),
      { slots: ['0@b1[]', '1@c1[]', '2@a1[r2]'], surplus: [], unplaced: 0 },
    ],
    [
      'a draining host moves its slot (the replica stays in the slot for the planner to remove)',
      input({
        hosts: [host('h1', { labels: web(), spec: { drain: true } }), host('h2', { labels: web() })],
        replicas: [rep('r0', '0', 'h1')],
      }),
      { slots: ['0@h2[r0]'], surplus: [], unplaced: 0 },
    ],
    [
      'a host NotReady within the grace keeps its slot',
      input({
        hosts: [host('h1', { labels: web(), downFor: 30 }), host('h2', { labels: web() })],
        replicas: [rep('r0', '0', 'h1', { state: 'HostDown', ready: false })],
      }),
      { slots: ['0@h1[r0]'], surplus: [], unplaced: 0 },
    ],
    [
      'a host NotReady beyond the grace: the slot moves',
      input({
        hosts: [host('h1', { labels: web(), downFor: 60 }), host('h2', { labels: web() })],
        replicas: [rep('r0', '0', 'h1', { state: 'HostDown', ready: false })],
      }),
      { slots: ['0@h2[r0]'], surplus: [], unplaced: 0 },
    ],
    [
      'a host NotReady beyond the grace and nowhere to go: unplaced',
      input({
        hosts: [host('h1', { labels: web(), downFor: 600 })],
        replicas: [rep('r0', '0', 'h1', { state: 'HostDown', ready: false })],
      }),
      { slots: ['0@-[r0]'], surplus: [], unplaced: 1 },
    ],
    [
      'a NotReady host takes no new slot',
      input({ hosts: [host('h1', { labels: web(), downFor: 5 }), host('h2', { labels: web() })] }),
      { slots: ['0@h2[]'], surplus: [], unplaced: 0 },
    ],
    [
      'a deleted host: the slot moves',
      input({ hosts: [host('h2', { labels: web() })], replicas: [rep('r0', '0', 'gone')] }),
      { slots: ['0@h2[r0]'], surplus: [], unplaced: 0 },
    ],
    [
      'host labels changed (same selector hash): the host keeps its slot',
      input({
        hosts: [host('h1', { labels: { pool: 'other' } }), host('h2', { labels: web() })],
        replicas: [rep('r0', '0', 'h1')],
      }),
      { slots: ['0@h1[r0]'], surplus: [], unplaced: 0 },
    ],
    [
      'a replica without a placement hash is kept like one placed today',
      input({
        hosts: [host('h1', { labels: { pool: 'other' } }), host('h2', { labels: web() })],
        replicas: [rep('r0', '0', 'h1', { placementHash: undefined })],
      }),
      { slots: ['0@h1[r0]'], surplus: [], unplaced: 0 },
    ],
    [
      'the service selector changed away from the host: the slot moves',
      input({
        hosts: [host('h1', { labels: { pool: 'old' } }), host('h2', { labels: web() })],
        replicas: [rep('r0', '0', 'h1', { placementHash: OLD_HASH })],
      }),
      { slots: ['0@h2[r0]'], surplus: [], unplaced: 0 },
    ],
    [
      'the service selector changed but still selects the host: it stays',
      input({
        hosts: [host('h1', { labels: web() }), host('h2', { labels: web() })],
        replicas: [rep('r0', '0', 'h2', { placementHash: OLD_HASH })],
      }),
      { slots: ['0@h2[r0]'], surplus: [], unplaced: 0 },
    ],
    [
      'namespace admission: a host that does not admit the namespace takes no new slot',
      input({
        namespaceLabels: { tier: 'bronze' },
        hosts: [
          host('h1', {
            labels: web(),
            spec: { allowedNamespaces: { from: 'Selector', selector: { matchLabels: { tier: 'gold' } } } },
          }),
          host('h2', { labels: web() }),
        ],
      }),
      { slots: ['0@h2[]'], surplus: [], unplaced: 0 },
    ],
    [
      'namespace admission: an admitting host does',
      input({
        hosts: [
          host('h1', {
            labels: web(),
            spec: { allowedNamespaces: { from: 'Selector', selector: { matchLabels: { tier: 'gold' } } } },
          }),
          host('h2', { labels: web() }),
        ],
      }),
      { slots: ['0@h1[]'], surplus: [], unplaced: 0 },
    ],
    [
      'namespace no longer admitted: the host keeps its slot',
      input({
        namespaceLabels: { tier: 'bronze' },
        hosts: [
          host('h1', {
            labels: web(),
            spec: { allowedNamespaces: { from: 'Selector', selector: { matchLabels: { tier: 'gold' } } } },
          }),
          host('h2', { labels: web() }),
        ],
        replicas: [rep('r0', '0', 'h1')],
      }),
      { slots: ['0@h1[r0]'], surplus: [], unplaced: 0 },
    ],
    [
      'unschedulable and deleting hosts take no new slot but keep theirs',
      input({
        spec: { replicas: 3 },
        hosts: [
          host('h1', { labels: web(), spec: { unschedulable: true } }),
          host('h2', { labels: web(), deleting: true }),
          host('h3', { labels: web() }),
        ],
        replicas: [rep('r0', '0', 'h1'), rep('r1', '1', 'h2')],
      }),
      { slots: ['0@h1[r0]', '1@h2[r1]', '2@h3[]'], surplus: [], unplaced: 0 },
    ],
    [
      'scale-down and stray slot labels go to surplus',
      input({
        spec: { replicas: 2 },
        hosts: [host('h1', { labels: web() })],
        replicas: [
          rep('r0', '0', 'h1'),
          rep('r1', '1', 'h1'),
          rep('r2', '2', 'h1'),
          rep('rx', 'h1', 'h1'),
          rep('r01', '01', 'h1'),
        ],
      }),
      { slots: ['0@h1[r0]', '1@h1[r1]'], surplus: ['r01', 'r2', 'rx'], unplaced: 0 },
    ],
    [
      'the newest replica of a slot decides its host',
      input({
        hosts: [host('h1', { labels: web() }), host('h2', { labels: web() })],
        replicas: [
          rep('old', '0', 'h1', { createdAt: new Date(ago(900)) }),
          rep('new', '0', 'h2', { createdAt: new Date(ago(100)) }),
        ],
      }),
      { slots: ['0@h2[new,old]'], surplus: [], unplaced: 0 },
    ],
    [
      'a newer replica on a host out of service gives way to an older one',
      input({
        hosts: [host('h1', { labels: web() }), host('h2', { labels: web(), downFor: 600 })],
        replicas: [
          rep('old', '0', 'h1', { createdAt: new Date(ago(900)) }),
          rep('new', '0', 'h2', { createdAt: new Date(ago(100)), state: 'HostDown' }),
        ],
      }),
      { slots: ['0@h1[new,old]'], surplus: [], unplaced: 0 },
    ],
    [
      'a replica being deleted holds the slot on its host when no other does (StopFirst)',
      input({
        spec: { replicas: 2, placement: { spreadByHostLabel: 'site' } },
        hosts: SITES,
        replicas: [rep('r0', '0', 'a1'), rep('r1', '1', 'a2', { state: 'Terminating' })],
      }),
      { slots: ['0@a1[r0]', '1@a2[r1]'], surplus: [], unplaced: 0 },
    ],
    [
      'a replica being deleted gives way to a living one',
      input({
        hosts: [host('h1', { labels: web() }), host('h2', { labels: web() })],
        replicas: [
          rep('old', '0', 'h1', { createdAt: new Date(ago(900)) }),
          rep('new', '0', 'h2', { createdAt: new Date(ago(100)), state: 'Terminating' }),
        ],
      }),
      { slots: ['0@h1[new,old]'], surplus: [], unplaced: 0 },
    ],
  ])('%s', (_name, scheduleInput, expected) => {
    expect(summary(scheduleSlots(scheduleInput))).toEqual(expected);
  });
});

describe('scheduleSlots: Global', () => {
  const global = (over: Parameters<typeof input>[0]) =>
    input({ ...over, spec: { mode: 'Global', ...over.spec } });

  it.each<[string, ReturnType<typeof input>, ReturnType<typeof summary>]>([
    [
      'a slot per matching host, sorted by name',
      global({
        hosts: [host('h3', { labels: web() }), host('h1', { labels: web() }), host('x', { labels: {} })],
      }),
      { slots: ['h1@h1[]', 'h3@h3[]'], surplus: [], unplaced: 0 },
    ],
    [
      'a host added gets a slot; the others keep theirs',
      global({
        hosts: [host('h1', { labels: web() }), host('h2', { labels: web() })],
        replicas: [rep('r1', 'h1', 'h1')],
      }),
      { slots: ['h1@h1[r1]', 'h2@h2[]'], surplus: [], unplaced: 0 },
    ],
    [
      'a host deleted: its replica is surplus',
      global({
        hosts: [host('h1', { labels: web() })],
        replicas: [rep('r1', 'h1', 'h1'), rep('r2', 'h2', 'h2')],
      }),
      { slots: ['h1@h1[r1]'], surplus: ['r2'], unplaced: 0 },
    ],
    [
      'a draining host: no slot, its replica is surplus',
      global({
        hosts: [host('h1', { labels: web(), spec: { drain: true } }), host('h2', { labels: web() })],
        replicas: [rep('r1', 'h1', 'h1')],
      }),
      { slots: ['h2@h2[]'], surplus: ['r1'], unplaced: 0 },
    ],
    [
      'host labels changed: the host keeps its slot',
      global({ hosts: [host('h1', { labels: {} })], replicas: [rep('r1', 'h1', 'h1')] }),
      { slots: ['h1@h1[r1]'], surplus: [], unplaced: 0 },
    ],
    [
      'the service selector changed away from a host: no slot, its replica is surplus',
      global({
        hosts: [host('h1', { labels: { pool: 'old' } }), host('h2', { labels: web() })],
        replicas: [rep('r1', 'h1', 'h1', { placementHash: OLD_HASH })],
      }),
      { slots: ['h2@h2[]'], surplus: ['r1'], unplaced: 0 },
    ],
    [
      'a NotReady host without a replica gets no slot',
      global({ hosts: [host('h1', { labels: web(), downFor: 5 })] }),
      { slots: [], surplus: [], unplaced: 0 },
    ],
    [
      'a NotReady host within the grace keeps its slot in service',
      global({
        hosts: [host('h1', { labels: web(), downFor: 30 })],
        replicas: [rep('r1', 'h1', 'h1', { state: 'HostDown' })],
      }),
      { slots: ['h1@h1[r1]'], surplus: [], unplaced: 0 },
    ],
    [
      'a NotReady host beyond the grace keeps its slot, out of service',
      global({
        hosts: [host('h1', { labels: web(), downFor: 60 })],
        replicas: [rep('r1', 'h1', 'h1', { state: 'HostDown' })],
      }),
      { slots: ['h1@h1[r1]!'], surplus: [], unplaced: 0 },
    ],
    [
      'a replica whose slot label is not its host is surplus',
      global({
        hosts: [host('h1', { labels: web() })],
        replicas: [rep('r1', 'h1', 'h1'), rep('r0', '0', 'h1'), rep('rh2', 'h2', 'h1')],
      }),
      { slots: ['h1@h1[r1]'], surplus: ['r0', 'rh2'], unplaced: 0 },
    ],
    [
      'unschedulable and namespace-refusing hosts: a slot only where a replica is',
      global({
        namespaceLabels: {},
        hosts: [
          host('h1', { labels: web(), spec: { unschedulable: true } }),
          host('h2', { labels: web(), spec: { unschedulable: true } }),
          host('h3', {
            labels: web(),
            spec: { allowedNamespaces: { from: 'Selector', selector: { matchLabels: { tier: 'gold' } } } },
          }),
        ],
        replicas: [rep('r1', 'h1', 'h1')],
      }),
      { slots: ['h1@h1[r1]'], surplus: [], unplaced: 0 },
    ],
    [
      'every replica of the host stays in its slot (the planner removes extras)',
      global({
        hosts: [host('h1', { labels: web() })],
        replicas: [rep('b', 'h1', 'h1', { revision: 'r2' }), rep('a', 'h1', 'h1', { state: 'Terminating' })],
      }),
      { slots: ['h1@h1[a,b]'], surplus: [], unplaced: 0 },
    ],
  ])('%s', (_name, scheduleInput, expected) => {
    expect(summary(scheduleSlots(scheduleInput))).toEqual(expected);
  });
});

describe('scheduleSlots: determinism', () => {
  it('gives the same schedule whatever the order of hosts and replicas', () => {
    const replicas = [rep('r0', '0', 'a1'), rep('r3', '3', 'c2'), rep('r9', '9', 'b1')];
    const spec = { replicas: 5, placement: { spreadByHostLabel: 'site' } };
    const forward = scheduleSlots(input({ spec, hosts: SITES, replicas }));
    const backward = scheduleSlots(
      input({ spec, hosts: [...SITES].reverse(), replicas: [...replicas].reverse() }),
    );
    expect(summary(backward)).toEqual(summary(forward));
    expect(summary(forward)).toEqual({
      slots: ['0@a1[r0]', '1@b1[]', '2@a2[]', '3@c2[r3]', '4@b2[]'],
      surplus: ['r9'],
      unplaced: 0,
    });
  });
});
