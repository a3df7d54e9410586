import { describe, expect, it } from 'vitest';
import type { DockerContainerSpec } from '../../crds/dockercontainer.js';
import type { ContainerInputs } from './inputs.js';
import { recreateHash } from './recreate-hash.js';
import { spec, withInputs } from './test-support.js';

describe('recreateHash', () => {
  const h = (patch: Partial<DockerContainerSpec>, i: Partial<ContainerInputs> = {}) =>
    recreateHash(spec(patch), withInputs(i));
  const baseHash = h({});

  it('is a short stable hex string', () => {
    expect(baseHash).toMatch(/^[0-9a-f]{16}$/);
    expect(h({})).toBe(baseHash);
  });

  it.each<[string, Partial<DockerContainerSpec>, Partial<ContainerInputs>?]>([
    ['container name', {}, { name: 'other' }],
    ['image', {}, { image: 'busybox:1.37' }],
    ['image digest', {}, { imageDigest: 'sha256:' + 'b'.repeat(64) }],
    ['command', { command: ['sh'] }],
    ['empty command (clears the entrypoint)', { command: [] }],
    ['args', { args: ['a'] }],
    ['workingDir', { workingDir: '/w' }],
    ['user', { user: 'nobody' }],
    ['hostname', { hostname: 'h' }],
    ['env', {}, { env: [{ name: 'A', value: '1' }] }],
    ['a port', { ports: [{ containerPort: 80 }] }],
    ['a mount', { mounts: [{ type: 'tmpfs', target: '/t' }] }],
    ['the healthcheck', { healthcheck: { command: ['true'] } }],
    ['privileged', { security: { privileged: true } }],
    ['capAdd', { security: { capAdd: ['NET_ADMIN'] } }],
    ['capDrop', { security: { capDrop: ['ALL'] } }],
    ['readOnlyRootFilesystem', { security: { readOnlyRootFilesystem: true } }],
    ['noNewPrivileges', { security: { noNewPrivileges: true } }],
    ['networkMode host', { security: { networkMode: 'host' } }],
    ['pidMode host', { security: { pidMode: 'host' } }],
    ['ipcMode', { security: { ipcMode: 'shareable' } }],
    ['utsMode host', { security: { utsMode: 'host' } }],
    ['devices', { security: { devices: [{ hostPath: '/dev/fuse' }] } }],
    ['labels', { labels: { a: 'b' } }],
    ['stopSignal', { stopSignal: 'SIGINT' }],
    ['logging', { logging: { driver: 'local' } }],
  ])('changes with %s', (_what, patch, i) => {
    expect(h(patch, i)).not.toBe(baseHash);
  });

  it.each<[string, Partial<DockerContainerSpec>]>([
    ['restartPolicy', { restartPolicy: { name: 'always' } }],
    ['resources', { resources: { memory: '1Gi', memoryReservation: '512Mi', cpus: '2', pidsLimit: 10 } }],
    ['networks', { networks: [{ name: 'front', aliases: ['a'] }] }],
    ['state', { state: 'Stopped' }],
    ['placement', { hostName: 'other' }],
    ['deletionPolicy', { deletionPolicy: 'Orphan' }],
    ['stopGracePeriod', { stopGracePeriod: '1m' }],
    ['empty lists and maps', { ports: [], mounts: [], labels: {}, command: undefined }],
    [
      'off switches',
      {
        security: {
          privileged: false,
          networkMode: 'default',
          pidMode: 'private',
          utsMode: 'private',
          capAdd: [],
        },
      },
    ],
    ['logging options {}', {}],
  ])('ignores %s', (_what, patch) => {
    expect(h(patch)).toBe(baseHash);
  });

  it.each<[string, Partial<DockerContainerSpec>, Partial<DockerContainerSpec>]>([
    [
      'port order',
      { ports: [{ containerPort: 80 }, { containerPort: 443 }] },
      { ports: [{ containerPort: 443 }, { containerPort: 80 }] },
    ],
    [
      'default protocol',
      { ports: [{ containerPort: 80 }] },
      { ports: [{ containerPort: 80, protocol: 'TCP' }] },
    ],
    [
      'mount order',
      {
        mounts: [
          { type: 'tmpfs', target: '/a' },
          { type: 'tmpfs', target: '/b' },
        ],
      },
      {
        mounts: [
          { type: 'tmpfs', target: '/b' },
          { type: 'tmpfs', target: '/a' },
        ],
      },
    ],
    [
      'readOnly false',
      { mounts: [{ type: 'tmpfs', target: '/a' }] },
      { mounts: [{ type: 'tmpfs', target: '/a', readOnly: false }] },
    ],
    [
      'equal tmpfs sizes',
      { mounts: [{ type: 'tmpfs', target: '/a', tmpfsSize: '1Mi' }] },
      { mounts: [{ type: 'tmpfs', target: '/a', tmpfsSize: '1024Ki' }] },
    ],
    [
      'equal durations',
      { healthcheck: { command: ['true'], interval: '1m' } },
      { healthcheck: { command: ['true'], interval: '60s' } },
    ],
    [
      'capability order, case and CAP_ prefix',
      { security: { capAdd: ['NET_ADMIN', 'SYS_TIME'] } },
      { security: { capAdd: ['CAP_SYS_TIME', 'NET_ADMIN', 'NET_ADMIN'] } },
    ],
    ['stop signal spelling', { stopSignal: 'TERM' }, { stopSignal: 'SIGTERM' }],
    [
      'device defaults',
      { security: { devices: [{ hostPath: '/dev/fuse' }] } },
      { security: { devices: [{ hostPath: '/dev/fuse', containerPath: '/dev/fuse', permissions: 'rwm' }] } },
    ],
    ['label order', { labels: { a: '1', b: '2' } }, { labels: { b: '2', a: '1' } }],
    [
      'logging options {} and unset',
      { logging: { driver: 'local' } },
      { logging: { driver: 'local', options: {} } },
    ],
  ])('is the same regardless of %s', (_what, a, b) => {
    expect(h(a)).toBe(h(b));
  });

  it('keeps command and args order', () => {
    expect(h({ args: ['a', 'b'] })).not.toBe(h({ args: ['b', 'a'] }));
    expect(h({ command: ['a'], args: ['b'] })).not.toBe(h({ command: ['a', 'b'] }));
  });

  it('ignores env order but not env values; a later duplicate wins', () => {
    const ab = [
      { name: 'A', value: '1' },
      { name: 'B', value: '2' },
    ];
    expect(h({}, { env: ab })).toBe(h({}, { env: [...ab].reverse() }));
    expect(h({}, { env: ab })).not.toBe(
      h(
        {},
        {
          env: [
            { name: 'A', value: '1' },
            { name: 'B', value: '3' },
          ],
        },
      ),
    );
    expect(h({}, { env: [...ab, { name: 'A', value: '9' }] })).toBe(
      h(
        {},
        {
          env: [
            { name: 'A', value: '9' },
            { name: 'B', value: '2' },
          ],
        },
      ),
    );
  });

  it('follows the resolved Docker volume name, not the DockerVolume name', () => {
    const m = { mounts: [{ type: 'volume' as const, volume: 'data', target: '/d' }] };
    expect(h(m)).not.toBe(h(m, { volumeNames: { data: 'elsewhere' } }));
  });

  it('ignores the owner labels (deletionPolicy lives there)', () => {
    expect(h({}, { ownerLabels: { other: 'x' } })).toBe(baseHash);
  });
});
