import { describe, expect, it } from 'vitest';
import type { DockerHostStatus } from '../../crds/dockerhost.js';
import type { HostFacts } from '../../docker/host-probe.js';
import { stepMachine } from '../../managed/machine-step.js';
import { HOST_MACHINE_VERSION, hostMachine } from './host-machine.js';
import {
  connectionMode,
  CONTAINER_COUNTS_REPORT_MS,
  HEARTBEAT_REPORT_MS,
  hostWarnings,
  nextHeartbeatMs,
  nextHostStatus,
  type HostObservationResult,
} from './host-status.js';
import { statusPatchBody } from '../../runtime/status-patch.js';

const facts: HostFacts = {
  engine: {
    version: '20.10.24',
    apiVersion: '1.41',
    os: 'Debian',
    arch: 'x86_64',
    cpus: 2,
    memoryBytes: 1024,
    storageDriver: 'overlay2',
  },
  containers: { total: 3, running: 2, managed: 1 },
};
const t0 = new Date('2026-11-29T12:00:00Z');
const later = (ms: number) => new Date(t0.getTime() + ms);

function status(prev: DockerHostStatus | undefined, obs: HostObservationResult, now: Date): DockerHostStatus {
  const step = stepMachine(
    hostMachine,
    HOST_MACHINE_VERSION,
    prev?.machine
      ? {
          state: prev.machine.state,
          version: prev.machine.version,
          context: prev.machine.context as { failures: number },
        }
      : undefined,
    obs.ok
      ? { type: 'OBSERVED', reachable: true }
      : {
          type: 'OBSERVED',
          reachable: false,
          reason: obs.reason === 'SecretNotFound' ? 'ConfigError' : obs.reason,
        },
  );
  return nextHostStatus(prev, {
    generation: 1,
    endpoint: 'tcp://h:2376',
    connection: 'tcp+tls',
    observation: obs,
    step,
    warnings: [],
    now,
  });
}

describe('nextHostStatus', () => {
  it('carries releasedOwners over, so its merge patch never drops the list (whatever the cache holds)', () => {
    const released = [
      { uid: 'u1', kind: 'DockerVolume', namespace: 'a', name: 'v', releasedAt: '2026-11-29T11:00:00Z' },
    ];
    const prev = { ...status(undefined, { ok: true, facts }, t0), releasedOwners: released };
    const next = status(prev, { ok: false, reason: 'Unreachable', message: 'down' }, later(1000));
    expect(next.releasedOwners).toEqual(released);
    expect(statusPatchBody(prev, next).status).not.toHaveProperty('releasedOwners');
  });

  it('carries adoptedObjects over the same way (claims are written only by the managed reconcilers)', () => {
    const adopted = [
      {
        type: 'volume' as const,
        dockerName: 'pgdata',
        uid: 'u2',
        kind: 'DockerVolume',
        namespace: 'a',
        name: 'db',
        adoptedAt: '2026-12-03T11:00:00Z',
      },
    ];
    const prev = { ...status(undefined, { ok: true, facts }, t0), adoptedObjects: adopted };
    const next = status(prev, { ok: false, reason: 'Unreachable', message: 'down' }, later(1000));
    expect(next.adoptedObjects).toEqual(adopted);
    expect(statusPatchBody(prev, next).status).not.toHaveProperty('adoptedObjects');
  });

  it('reports Ready with engine facts and a heartbeat on first contact', () => {
    const s = status(undefined, { ok: true, facts }, t0);
    expect(s.phase).toBe('Ready');
    expect(s.engine?.version).toBe('20.10.24');
    expect(s.containers).toEqual({ total: 3, running: 2, managed: 1 });
    expect(s.lastHeartbeatTime).toBe('2026-11-29T12:00:00Z');
    expect(s.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'True',
      reason: 'Connected',
      observedGeneration: 1,
    });
  });

  it('does not change at all on an unchanged heartbeat inside the report interval (no API write)', () => {
    const first = status(undefined, { ok: true, facts }, t0);
    const second = status(first, { ok: true, facts }, later(30_000));
    expect(second).toEqual(first);
  });

  it('refreshes the heartbeat once the report interval passed', () => {
    const first = status(undefined, { ok: true, facts }, t0);
    const second = status(first, { ok: true, facts }, later(HEARTBEAT_REPORT_MS));
    expect(second.lastHeartbeatTime).not.toBe(first.lastHeartbeatTime);
  });

  it('refreshes the heartbeat and the container counts with any other change', () => {
    const first = status(undefined, { ok: true, facts }, t0);
    const second = status(
      first,
      {
        ok: true,
        facts: {
          engine: { ...facts.engine, version: '20.10.25' },
          containers: { total: 4, running: 3, managed: 2 },
        },
      },
      later(1000),
    );
    expect(second.engine?.version).toBe('20.10.25');
    expect(second.containers?.running).toBe(3);
    expect(second.lastHeartbeatTime).not.toBe(first.lastHeartbeatTime);
  });

  it('writes changed container counts alone at most every CONTAINER_COUNTS_REPORT_MS (a converging fleet)', () => {
    const moved = {
      ok: true as const,
      facts: { ...facts, containers: { total: 4, running: 3, managed: 2 } },
    };
    const first = status(undefined, { ok: true, facts }, t0);
    const soon = status(first, moved, later(CONTAINER_COUNTS_REPORT_MS - 1000));
    expect(soon).toEqual(first); // no API write
    const due = status(soon, moved, later(CONTAINER_COUNTS_REPORT_MS));
    expect(due.containers).toEqual({ total: 4, running: 3, managed: 2 });
    expect(due.lastHeartbeatTime).toBe(later(CONTAINER_COUNTS_REPORT_MS).toISOString().replace('.000Z', 'Z'));
    // Unchanged counts after that interval write nothing until the heartbeat report is due.
    expect(status(due, moved, later(2 * CONTAINER_COUNTS_REPORT_MS))).toEqual(due);
  });

  it('writes the counts at once when the host turns Ready again', () => {
    const first = status(undefined, { ok: true, facts }, t0);
    const down1 = status(first, { ok: false, reason: 'Unreachable', message: 'x' }, later(1000));
    const down2 = status(down1, { ok: false, reason: 'Unreachable', message: 'x' }, later(2000));
    const moved = {
      ok: true as const,
      facts: { ...facts, containers: { total: 0, running: 0, managed: 0 } },
    };
    const back = status(down2, moved, later(3000));
    expect(back.phase).toBe('Ready');
    expect(back.containers).toEqual({ total: 0, running: 0, managed: 0 });
  });

  it('stays Ready through one missed heartbeat, conditions untouched, and counts it', () => {
    const first = status(undefined, { ok: true, facts }, t0);
    const missed = status(first, { ok: false, reason: 'Timeout', message: 'no answer in 2 s' }, later(1000));
    expect(missed.phase).toBe('Ready');
    expect(missed.conditions).toEqual(first.conditions);
    expect(missed.engine).toEqual(first.engine);
    expect(missed.machine?.context).toMatchObject({ failures: 1 });
  });

  it('goes NotReady with the reason on the second missed heartbeat, keeps the last engine facts and heartbeat', () => {
    const first = status(undefined, { ok: true, facts }, t0);
    const refused = { ok: false as const, reason: 'Unreachable' as const, message: 'connect ECONNREFUSED' };
    const down = status(status(first, refused, later(1000)), refused, later(2000));
    expect(down.phase).toBe('NotReady');
    expect(down.engine).toEqual(first.engine);
    expect(down.lastHeartbeatTime).toBe(first.lastHeartbeatTime);
    const ready = down.conditions?.find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({ status: 'False', reason: 'Unreachable' });
    expect(ready?.message).toContain('ECONNREFUSED');
    expect(down.conditions?.find((c) => c.type === 'Reconciling')?.status).toBe('True');
    expect(down.machine?.context).toMatchObject({ failures: 2 });
  });
});

describe('nextHeartbeatMs', () => {
  it.each([
    [10_000, true, 0, 10_000],
    [10_000, false, 1, 1000],
    [10_000, false, 2, 2000],
    [10_000, false, 4, 8000],
    [10_000, false, 9, 10_000],
    [2_000, false, 3, 2000],
  ])('interval %i ok=%s failures=%i → %i', (interval, ok, failures, expected) => {
    expect(nextHeartbeatMs(interval, ok, failures)).toBe(expected);
  });
});

describe('hostWarnings', () => {
  it('warns about an acknowledged insecure tcp endpoint only', () => {
    expect(hostWarnings({ endpoint: 'tcp://h:2375', insecure: true })).toHaveLength(1);
    expect(hostWarnings({ endpoint: 'tcp://h:2376', tls: {} })).toHaveLength(0);
    expect(hostWarnings({ endpoint: 'unix:///var/run/docker.sock' })).toHaveLength(0);
  });
});

describe('connectionMode', () => {
  it.each([
    [{ endpoint: 'unix:///run/docker.sock' }, 'unix'],
    [{ endpoint: 'tcp://h:2375' }, 'tcp'],
    [{ endpoint: 'tcp://h:2376', tls: { secretRef: { namespace: 'n', name: 's' } } }, 'tcp+tls'],
    [{ agent: {} }, 'agent'],
  ] as const)('%j → %s', (spec, mode) => {
    expect(connectionMode(spec)).toBe(mode);
  });
});

describe('nextHostStatus with an agent', () => {
  const base = {
    generation: 1,
    endpoint: 'the agent of edge-1',
    connection: 'agent' as const,
    step: { saved: { state: 'Ready', context: { failures: 0 }, version: 1 } },
    warnings: [],
  };
  const facts = { engine: { version: '20.10.24' }, containers: { total: 1, running: 1 } };
  const agent = (seen: string, rtt: number) => ({
    credentialsSecret: 'dockyard-system/dockyard-agent-edge-1',
    connected: true,
    version: '0.1.0',
    connectedSince: '2026-12-05T10:00:00Z',
    lastSeenTime: seen,
    roundTripMilliseconds: rtt,
  });
  const t0 = new Date('2026-12-05T10:00:10Z');
  const first = nextHostStatus(undefined, {
    ...base,
    observation: { ok: true, facts },
    agent: agent('2026-12-05T10:00:10Z', 3),
    now: t0,
  });

  it('writes the agent status and the mode on first contact', () => {
    expect(first).toMatchObject({ connection: 'agent', agent: agent('2026-12-05T10:00:10Z', 3) });
  });

  it('does not change on the next heartbeat for a new last-seen time or round trip alone', () => {
    const next = nextHostStatus(first, {
      ...base,
      observation: { ok: true, facts },
      agent: agent('2026-12-05T10:00:20Z', 5),
      now: new Date('2026-12-05T10:00:20Z'),
    });
    expect(next).toEqual(first);
  });

  it('writes the true last-seen time once the agent is disconnected', () => {
    const gone = { ...agent('2026-12-05T10:00:20Z', 5), connected: false };
    const next = nextHostStatus(first, {
      ...base,
      step: { saved: { state: 'NotReady', context: { failures: 1 }, version: 1 } },
      observation: { ok: false, reason: 'AgentDisconnected', message: 'the agent is disconnected' },
      agent: gone,
      now: new Date('2026-12-05T10:00:30Z'),
    });
    expect(next.agent).toEqual(gone);
    expect(next.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'AgentDisconnected',
    });
  });
});
