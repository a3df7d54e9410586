import { describe, expect, it } from 'vitest';
import type { DockerContainerSpec } from '../../crds/dockercontainer.js';
import type { ObservedContainer } from '../container-client.js';
import { desiredUpdate, updateNeeded } from './in-place-update.js';
import { observed, spec } from './test-support.js';

describe('desiredUpdate', () => {
  it.each<[string, Partial<DockerContainerSpec>, ReturnType<typeof desiredUpdate>]>([
    [
      'nothing set: unless-stopped, limits cleared where Docker can',
      {},
      {
        RestartPolicy: { Name: 'unless-stopped' },
        Memory: 0,
        MemoryReservation: -1,
        NanoCpus: 0,
        PidsLimit: 0,
      },
    ],
    [
      'everything set; MemorySwap twice Memory',
      {
        restartPolicy: { name: 'on-failure', maximumRetryCount: 2 },
        resources: { memory: '64Mi', memoryReservation: '32Mi', cpus: '1.5', pidsLimit: 64 },
      },
      {
        RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 2 },
        Memory: 67_108_864,
        MemorySwap: 134_217_728,
        MemoryReservation: 33_554_432,
        NanoCpus: 1_500_000_000,
        PidsLimit: 64,
      },
    ],
  ])('%s', (_title, patch, body) => {
    expect(desiredUpdate(spec(patch))).toEqual(body);
  });
});

describe('updateNeeded', () => {
  const MiB = 1024 * 1024;
  it.each<[string, Partial<DockerContainerSpec>, Partial<ObservedContainer['hostConfig']>, unknown]>([
    ['a fresh container with nothing set', {}, {}, undefined],
    [
      'Docker reporting "" for a never-set policy is "no"',
      { restartPolicy: { name: 'no' } },
      { restartPolicy: { name: 'no', maximumRetryCount: 0 } },
      undefined,
    ],
    [
      'all limits as specified',
      { resources: { memory: '64Mi', memoryReservation: '32Mi', cpus: '500m', pidsLimit: 50 } },
      { memory: 64 * MiB, memorySwap: 128 * MiB, memoryReservation: 32 * MiB, nanoCpus: 5e8, pidsLimit: 50 },
      undefined,
    ],
    [
      'memory swap is never compared',
      { resources: { memory: '64Mi' } },
      { memory: 64 * MiB, memorySwap: -1 },
      undefined,
    ],
    ['a cleared reservation reported as -1', {}, { memoryReservation: -1 }, undefined],
    [
      'restart policy changed',
      { restartPolicy: { name: 'always' } },
      {},
      { RestartPolicy: { Name: 'always' } },
    ],
    [
      'retry count changed',
      { restartPolicy: { name: 'on-failure', maximumRetryCount: 3 } },
      { restartPolicy: { name: 'on-failure', maximumRetryCount: 1 } },
      { RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 } },
    ],
    [
      'on-failure without a count against a count',
      { restartPolicy: { name: 'on-failure' } },
      { restartPolicy: { name: 'on-failure', maximumRetryCount: 4 } },
      { RestartPolicy: { Name: 'on-failure' } },
    ],
    [
      'memory raised: MemorySwap goes with it',
      { resources: { memory: '256Mi' } },
      { memory: 64 * MiB, memorySwap: 128 * MiB },
      { Memory: 256 * MiB, MemorySwap: 512 * MiB },
    ],
    [
      'memory added to a container without one',
      { resources: { memory: '64Mi' } },
      {},
      { Memory: 64 * MiB, MemorySwap: 128 * MiB },
    ],
    [
      'reservation changed',
      { resources: { memoryReservation: '16Mi' } },
      { memoryReservation: 32 * MiB },
      { MemoryReservation: 16 * MiB },
    ],
    ['reservation removed → -1', {}, { memoryReservation: 32 * MiB }, { MemoryReservation: -1 }],
    ['cpus changed', { resources: { cpus: '2' } }, { nanoCpus: 5e8 }, { NanoCpus: 2e9 }],
    ['pids limit changed', { resources: { pidsLimit: 10 } }, { pidsLimit: 20 }, { PidsLimit: 10 }],
    ['pids limit removed → 0', {}, { pidsLimit: 20 }, { PidsLimit: 0 }],
    ['memory removed: not an update (Docker ignores 0)', {}, { memory: 64 * MiB }, undefined],
    ['cpus removed: not an update (Docker refuses -1)', {}, { nanoCpus: 5e8 }, undefined],
  ])('%s', (_title, patch, host, body) => {
    expect(updateNeeded(spec(patch), observed({}, host))).toEqual(body);
  });
});
