import type { CoreV1Event } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { DockerContainer } from '../../crds/dockercontainer.js';
import type { DockerHost } from '../../crds/dockerhost.js';
import type { DockyardObject } from './cells.js';
import { containerRows } from './containers.js';
import { fleetRows } from './fleet.js';
import { objectDetail, objectRows } from './objects.js';

const T = '2026-12-05T12:03:00Z';
const cond = (status: string, reason: string, message = '') => ({
  type: 'Ready',
  status,
  reason,
  message,
  lastTransitionTime: T,
});

function host(
  name: string,
  ready: ReturnType<typeof cond>,
  extra: Partial<DockerHost['status']> = {},
): DockerHost {
  return {
    apiVersion: 'dockyard.io/v1alpha1',
    kind: 'DockerHost',
    metadata: { name },
    spec: { endpoint: 'tcp://h:2376', securityPolicy: 'restricted' },
    status: { phase: 'Ready', conditions: [ready], ...extra },
  } as DockerHost;
}

function placed(
  name: string,
  hosts: Array<{ name: string; phase: string; message?: string }>,
): DockyardObject {
  return {
    apiVersion: 'dockyard.io/v1alpha1',
    kind: 'DockerNetwork',
    metadata: { name, namespace: 'a' },
    status: { hosts },
  };
}

function event(reason: string, related: string | undefined, count?: number): CoreV1Event {
  return {
    metadata: { name: `e-${reason}-${related}` },
    involvedObject: { uid: 'u1', kind: 'DockerContainer', name: 'web' },
    reason,
    message: `${reason} on ${related}`,
    eventTime: T as unknown as Date,
    ...(related ? { related: { kind: 'DockerHost', name: related } } : {}),
    ...(count ? { series: { count, lastObservedTime: T as unknown as Date } } : {}),
  } as CoreV1Event;
}

describe('fleetRows', () => {
  const hosts = [
    host('edge-2', cond('False', 'AgentDisconnected', 'the agent is disconnected'), {
      phase: 'NotReady',
      connection: 'agent',
      agent: { lastSeenTime: '2026-12-05T12:02:55Z', connected: false, reconnects: 3 },
    }),
    host('edge-1', cond('True', 'Connected'), {
      connection: 'tcp+tls',
      engine: { version: '27.1.0' },
      containers: { total: 5, running: 4, managed: 3 },
      lastHeartbeatTime: '2026-12-05T12:04:00Z',
    }),
  ];
  const objects = [
    placed('net', [
      { name: 'edge-1', phase: 'Ready' },
      { name: 'edge-2', phase: 'AgentDisconnected' },
    ]),
    placed('priv', [{ name: 'edge-1', phase: 'PolicyViolation', message: 'privileged' }]),
  ];
  const rows = fleetRows({
    hosts,
    placed: objects,
    events: [
      event('DriftRepaired', 'edge-1', 3),
      event('DriftRepaired', 'edge-1'),
      event('DriftRepaired', undefined),
      event('Created', 'edge-1'),
    ],
  });

  it('sorts by name and counts containers, placed objects, repairs (series included) and refusals', () => {
    expect(rows.map((r) => r.name)).toEqual(['edge-1', 'edge-2']);
    expect(rows[0]).toMatchObject({
      connection: 'connected',
      mode: 'tcp+tls',
      engineVersion: '27.1.0',
      policy: 'restricted',
      containers: { total: 5, running: 4, managed: 3 },
      placed: { total: 2, ready: 1, notReady: 1, unknown: 0 },
      driftRepairs: 4,
      policyRefusals: 1,
      lastSeen: '2026-12-05T12:04:00Z',
    });
    expect(rows[0]?.unknownSince).toBeUndefined();
  });

  it('shows a disconnected host as such, unknown since its Ready transition, with the agent last-seen time', () => {
    expect(rows[1]).toMatchObject({
      connection: 'disconnected',
      unknownSince: T,
      lastSeen: '2026-12-05T12:02:55Z',
      ready: { status: 'False', reason: 'AgentDisconnected' },
      placed: { total: 1, ready: 0, notReady: 0, unknown: 1 },
      agent: { reconnects: 3 },
    });
  });
});

function container(name: string, entries: Array<Record<string, unknown>>, owner?: string): DockerContainer {
  return {
    apiVersion: 'dockyard.io/v1alpha1',
    kind: 'DockerContainer',
    metadata: {
      name,
      namespace: 'shop',
      uid: `uid-${name}`,
      ...(owner
        ? {
            ownerReferences: [
              {
                apiVersion: 'dockyard.io/v1alpha1',
                kind: 'DockerService',
                name: owner,
                uid: 's',
                controller: true,
              },
            ],
          }
        : {}),
    },
    spec: { image: 'shop:1' },
    status: { conditions: [cond('False', 'Unhealthy')], hosts: entries },
  } as unknown as DockerContainer;
}

describe('containerRows', () => {
  it('names the failing container and why in the health column', () => {
    const rows = containerRows([
      container(
        'api',
        [
          {
            name: 'n1',
            phase: 'Unhealthy',
            containerName: 'shop-api',
            health: 'unhealthy',
            message: 'curl: exit 7',
          },
          { name: 'n2', phase: 'Running', containerName: 'shop-api', health: 'healthy' },
        ],
        'api',
      ),
      container('cron', [
        { name: 'n1', phase: 'CrashLoopBackOff', containerName: 'shop-cron', message: 'exited 1' },
      ]),
      container('off', [
        { name: 'n3', phase: 'AgentDisconnected', lastUpdateTime: T, message: 'state unknown' },
      ]),
      container('new', []),
    ]);
    const byKey = Object.fromEntries(rows.map((r) => [r.key, r]));
    expect(byKey['shop/api/n1']).toMatchObject({
      healthy: 'failing',
      healthText: 'Unhealthy: shop-api on n1: curl: exit 7',
      owner: { kind: 'DockerService', name: 'api' },
    });
    expect(byKey['shop/api/n2']).toMatchObject({ healthy: 'ok', healthText: 'Healthy' });
    expect(byKey['shop/cron/n1']?.healthText).toBe('CrashLoopBackOff: shop-cron on n1: exited 1');
    expect(byKey['shop/off/n3']).toMatchObject({ healthy: 'unknown', unknownSince: T });
    expect(byKey['shop/new/']).toMatchObject({ host: '', healthy: 'pending' });
  });
});

describe('objectRows and objectDetail', () => {
  it('lists every kind with its key, and builds a page with per-host pull layers and Events newest first', () => {
    const image: DockyardObject = {
      apiVersion: 'dockyard.io/v1alpha1',
      kind: 'DockerImage',
      metadata: { name: 'app', namespace: 'a', uid: 'u1' },
      spec: { image: 'reg/app:1', pullPolicy: 'IfNotPresent' },
      status: {
        conditions: [cond('Unknown', 'Progressing')],
        hostsReady: '0/1',
        hosts: [
          {
            name: 'n1',
            phase: 'Pulling',
            progress: {
              percent: 40,
              currentBytes: 40,
              totalBytes: 100,
              layers: [{ id: 'abc', status: 'Downloading', currentBytes: 40, totalBytes: 100 }],
            },
          } as never,
        ],
      },
    };
    const rows = objectRows(new Map([['DockerImage', [image]]]));
    expect(rows).toEqual([
      expect.objectContaining({
        key: 'DockerImage/a/app',
        ready: expect.objectContaining({ status: 'Unknown' }),
        hostsReady: '0/1',
      }),
    ]);
    const older = { ...event('Pulled', 'n1'), eventTime: '2026-12-05T12:00:00Z' as unknown as Date };
    const detail = objectDetail({
      kind: 'DockerImage',
      obj: image,
      events: [older, event('Pulling', 'n1')],
      containers: [],
    });
    expect(detail.spec).toEqual([
      ['image', 'reg/app:1'],
      ['pullPolicy', 'IfNotPresent'],
    ]);
    expect(detail.hosts[0]?.pull?.layers?.[0]).toMatchObject({ id: 'abc', status: 'Downloading' });
    expect(detail.events.map((e) => e.reason)).toEqual(['Pulling', 'Pulled']);
    expect(detail.events[0]).toMatchObject({ host: 'n1' });
    expect(detail.rollout).toBeUndefined();
  });
});
