import { describe, expect, it } from 'vitest';
import type { DockerHost } from '../crds/dockerhost.js';
import { hostPlacementChanged } from './host-predicate.js';

function host(over: {
  rv?: string;
  generation?: number;
  labels?: Record<string, string>;
  ready?: 'True' | 'False';
  running?: number;
  heartbeat?: string;
}): DockerHost {
  return {
    apiVersion: 'dockyard.io/v1alpha1',
    kind: 'DockerHost',
    metadata: {
      name: 'n1',
      resourceVersion: over.rv ?? '1',
      generation: over.generation ?? 1,
      labels: over.labels ?? { zone: 'a' },
    },
    spec: { endpoint: 'tcp://127.0.0.1:2375', insecure: true },
    status: {
      conditions: [
        {
          type: 'Ready',
          status: over.ready ?? 'True',
          reason: 'Connected',
          message: '',
          lastTransitionTime: '2026-01-01T00:00:00Z',
        },
      ],
      containers: { running: over.running ?? 1, paused: 0, stopped: 0 },
      lastHeartbeatTime: over.heartbeat ?? '2026-01-01T00:00:00Z',
    },
  } as unknown as DockerHost;
}

describe('hostPlacementChanged', () => {
  it.each([
    ['a heartbeat that only moved container counts', host({}), host({ rv: '2', running: 7 }), false],
    ['a refreshed lastHeartbeatTime', host({}), host({ rv: '2', heartbeat: '2026-01-01T00:05:00Z' }), false],
    ['Ready turning False', host({}), host({ rv: '2', ready: 'False' }), true],
    ['Ready turning True', host({ ready: 'False' }), host({ rv: '2' }), true],
    ['a spec change (generation)', host({}), host({ rv: '2', generation: 2 }), true],
    ['a label change', host({}), host({ rv: '2', labels: { zone: 'b' } }), true],
    ['a periodic resync (same resourceVersion)', host({}), host({}), true],
  ])('%s → %s', (_what, before, after, expected) => {
    expect(hostPlacementChanged(before, after)).toBe(expected);
  });
});
