import { describe, expect, it } from 'vitest';
import type { DockerContainerSpec } from '../../crds/dockercontainer.js';
import type { ObservedContainer } from '../../docker/container-client.js';
import {
  groupHashes,
  recreateHash,
  SPEC_GROUPS_LABEL,
  type ContainerInputs,
} from '../../docker/container-spec.js';
import {
  containerDependency,
  decideDependencies,
  dependencyCycle,
  HeldAnnouncements,
  heldMessage,
  heldTransition,
  imageOfRunning,
  mountedVolume,
  ownSpecChanged,
  withHeldOn,
  type DependencyDecision,
  type DependencyStatus,
} from './dependencies.js';
import { observedContainer } from '../../docker/test-support.js';

const img = (state: DependencyStatus['state']): DependencyStatus => ({ ref: 'DockerImage/app', state });
const vol = (state: DependencyStatus['state']): DependencyStatus => ({ ref: 'DockerVolume/data', state });

describe('decideDependencies', () => {
  it.each<[string, Parameters<typeof decideDependencies>[0], DependencyDecision]>([
    [
      'all ready: proceed, with or without a container',
      { dependencies: [img('ready'), vol('ready')], existing: true, specChanged: true },
      { type: 'proceed' },
    ],
    [
      'no dependencies at all',
      { dependencies: [], existing: false, specChanged: false },
      { type: 'proceed' },
    ],
    [
      'not created yet: wait for what is not ready',
      { dependencies: [img('notReady'), vol('ready')], existing: false, specChanged: false },
      { type: 'wait', missing: ['DockerImage/app'] },
    ],
    [
      'not created yet, a dependency deleted: wait for it',
      { dependencies: [vol('deleted')], existing: false, specChanged: false },
      { type: 'wait', missing: ['DockerVolume/data'] },
    ],
    [
      'existing, own spec changed: the recreate waits',
      { dependencies: [img('notReady'), vol('notReady')], existing: true, specChanged: true },
      { type: 'wait', missing: ['DockerImage/app', 'DockerVolume/data'] },
    ],
    [
      'existing, unchanged, a re-pull failed: held',
      { dependencies: [img('notReady'), vol('ready')], existing: true, specChanged: false },
      { type: 'hold', notReady: [img('notReady')] },
    ],
    [
      'existing, unchanged, volume paused and image deleted: held on both',
      { dependencies: [img('deleted'), vol('notReady')], existing: true, specChanged: false },
      { type: 'hold', notReady: [img('deleted'), vol('notReady')] },
    ],
  ])('%s', (_name, facts, expected) => {
    expect(decideDependencies(facts)).toEqual(expected);
  });
});

const spec: DockerContainerSpec = {
  imageRef: { name: 'app' },
  env: [{ name: 'MODE', value: 'a' }],
  mounts: [{ type: 'volume', volume: 'data', target: '/data' }],
} as DockerContainerSpec;
const inputs: ContainerInputs = {
  name: 'team.web',
  image: 'reg/app@sha256:aaa',
  imageDigest: 'sha256:aaa',
  env: [{ name: 'MODE', value: 'a' }],
  volumeNames: { data: 'team.data' },
  networkNames: {},
  ownerLabels: {},
};

/** Our container as created from `s` and `i`: the labels Dockyard set at create. */
function running(
  s: DockerContainerSpec = spec,
  i: ContainerInputs = inputs,
  o: { groups?: boolean; memory?: number } = {},
): ObservedContainer {
  return observedContainer({
    labels: {
      'dockyard.io/spec-hash': recreateHash(s, i),
      ...(o.groups === false ? {} : { [SPEC_GROUPS_LABEL]: groupHashes(s, i) }),
    },
    image: i.image,
    hostConfig: { memory: o.memory ?? 0 },
    networks: {},
    mounts: [{ type: 'volume', name: 'team.data', destination: '/data', readOnly: false }],
  });
}

const standIn: ContainerInputs = { ...inputs, image: 'reg/app:next' };
const { imageDigest: _digest, ...withoutDigest } = standIn;
const changedCommand: DockerContainerSpec = { ...spec, command: ['sleep', '60'] };

describe('ownSpecChanged', () => {
  it.each<[string, Parameters<typeof ownSpecChanged>[0], boolean]>([
    ['nothing changed', { spec, inputs, running: running(), unknownGroups: [] }, false],
    ['command changed', { spec: changedCommand, inputs, running: running(), unknownGroups: [] }, true],
    [
      'a resolved new digest is a change (the roll waits for the image)',
      { spec, inputs: { ...inputs, imageDigest: 'sha256:bbb' }, running: running(), unknownGroups: [] },
      true,
    ],
    [
      'a stand-in image is not compared: no recreate on a guess',
      { spec, inputs: withoutDigest, running: running(), unknownGroups: ['image'] },
      false,
    ],
    [
      'a stand-in image does not hide a command change',
      { spec: changedCommand, inputs: withoutDigest, running: running(), unknownGroups: ['image'] },
      true,
    ],
    [
      'no spec-groups label and a group unknown: judged unchanged',
      {
        spec: changedCommand,
        inputs: withoutDigest,
        running: running(spec, inputs, { groups: false }),
        unknownGroups: ['image'],
      },
      false,
    ],
    [
      'a memory limit the spec dropped needs a recreate',
      {
        spec,
        inputs,
        running: running(spec, inputs, { memory: 64 * 1024 * 1024 }),
        unknownGroups: ['image'],
      },
      true,
    ],
  ])('%s', (_name, opts, expected) => {
    expect(ownSpecChanged(opts)).toBe(expected);
  });
});

describe('the running container as a stand-in', () => {
  it.each([
    ['digest-pinned', 'reg/app@sha256:aaa', { image: 'reg/app@sha256:aaa', imageDigest: 'sha256:aaa' }],
    ['by tag', 'app:1', { image: 'app:1' }],
  ])('image of a container created %s', (_name, image, expected) => {
    expect(imageOfRunning({ ...running(), image })).toEqual(expected);
  });

  it.each([
    ['/data', 'team.data'],
    ['/other', undefined],
  ])('volume mounted at %s', (target, expected) => {
    expect(mountedVolume(running(), target)).toBe(expected);
    expect(mountedVolume(undefined, target)).toBeUndefined();
  });
});

describe('announcing a hold once per change', () => {
  it.each<[string, string | undefined, DependencyStatus[] | undefined, ReturnType<typeof heldTransition>]>([
    ['nothing held', undefined, undefined, { announce: false }],
    ['a hold starts', undefined, [img('notReady')], { heldOn: 'DockerImage/app', announce: true }],
    [
      'the same hold, next look',
      'DockerImage/app',
      [img('notReady')],
      { heldOn: 'DockerImage/app', announce: false },
    ],
    [
      'one more dependency',
      'DockerImage/app',
      [img('notReady'), vol('deleted')],
      { heldOn: 'DockerImage/app, DockerVolume/data (deleted)', announce: true },
    ],
    ['the hold ends', 'DockerImage/app', undefined, { announce: false }],
  ])('%s', (_name, previous, held, expected) => {
    expect(heldTransition(previous, held)).toEqual(expected);
  });

  it('announces once although the next look reads a status from before the first', () => {
    const announced = new HeldAnnouncements();
    expect(announced.transition('u1@n1', undefined, [img('notReady')]).announce).toBe(true);
    // Stale cache: the status still says nothing is held.
    expect(announced.transition('u1@n1', undefined, [img('notReady')]).announce).toBe(false);
    expect(announced.transition('u2@n1', undefined, [img('notReady')]).announce).toBe(true);
    // The hold ends, then starts again: announced again.
    expect(announced.transition('u1@n1', 'DockerImage/app', undefined).announce).toBe(false);
    expect(announced.transition('u1@n1', undefined, [img('notReady')]).announce).toBe(true);
  });

  it('keeps no heldOn key when nothing is held, so status does not change for it', () => {
    const held: { crashes: number; heldOn?: string } = { crashes: 1, heldOn: 'DockerImage/app' };
    const free: { crashes: number; heldOn?: string } = { crashes: 1 };
    expect(withHeldOn(held, undefined)).toEqual({ crashes: 1 });
    expect(withHeldOn(free, 'DockerImage/app')).toEqual({ crashes: 1, heldOn: 'DockerImage/app' });
  });

  it('says what is not ready and that the container is kept', () => {
    expect(heldMessage([img('notReady')])).toMatch(
      /^DockerImage\/app is not ready on this host; the existing container/,
    );
    expect(heldMessage([img('notReady'), vol('deleted')])).toMatch(
      /^DockerImage\/app, DockerVolume\/data \(deleted\) are not ready/,
    );
  });
});

describe('containerDependency (spec.dependsOn, from the other container’s entry on this host)', () => {
  const entry = (phase: string, state?: string, exitCode?: number) => ({
    phase,
    ...(state ? { state } : {}),
    ...(exitCode !== undefined ? { exitCode } : {}),
  });
  it.each<[string, Parameters<typeof containerDependency>[0], DependencyStatus]>([
    [
      'Started: running',
      { name: 'db', condition: 'Started', exists: true, entry: entry('Starting', 'running') },
      { ref: 'DockerContainer/db', state: 'ready' },
    ],
    [
      'Started: a finished run counts as started',
      { name: 'db', condition: 'Started', exists: true, entry: entry('Completed', 'exited', 0) },
      { ref: 'DockerContainer/db', state: 'ready' },
    ],
    [
      'Started: created, not running yet',
      { name: 'db', condition: 'Started', exists: true, entry: entry('Creating', 'created') },
      { ref: 'DockerContainer/db', state: 'notReady', note: 'Started; now Creating' },
    ],
    [
      'Ready: running without a healthcheck',
      { name: 'db', condition: 'Ready', exists: true, entry: entry('Running', 'running') },
      { ref: 'DockerContainer/db', state: 'ready' },
    ],
    [
      'Ready: healthy',
      { name: 'db', condition: 'Ready', exists: true, entry: entry('Healthy', 'running') },
      { ref: 'DockerContainer/db', state: 'ready' },
    ],
    [
      'Ready: running but its healthcheck is still starting',
      { name: 'db', condition: 'Ready', exists: true, entry: entry('Starting', 'running') },
      { ref: 'DockerContainer/db', state: 'notReady', note: 'Ready; now Starting' },
    ],
    [
      'Ready: unhealthy',
      { name: 'db', condition: 'Ready', exists: true, entry: entry('Unhealthy', 'running') },
      { ref: 'DockerContainer/db', state: 'notReady', note: 'Ready; now Unhealthy' },
    ],
    [
      'Completed: exited 0',
      { name: 'migrate', condition: 'Completed', exists: true, entry: entry('Completed', 'exited', 0) },
      { ref: 'DockerContainer/migrate', state: 'ready' },
    ],
    [
      'Completed: still running',
      { name: 'migrate', condition: 'Completed', exists: true, entry: entry('Running', 'running') },
      { ref: 'DockerContainer/migrate', state: 'notReady', note: 'Completed; now Running' },
    ],
    [
      'Completed: failed, with its exit code',
      { name: 'migrate', condition: 'Completed', exists: true, entry: entry('Failed', 'exited', 3) },
      { ref: 'DockerContainer/migrate', state: 'notReady', note: 'Completed; now Failed, exit code 3' },
    ],
    [
      'not placed on this host (no entry for it)',
      { name: 'db', condition: 'Ready', exists: true, entry: undefined },
      { ref: 'DockerContainer/db', state: 'notReady', note: 'Ready; not placed on this host' },
    ],
    [
      'no such DockerContainer',
      { name: 'db', condition: 'Started', exists: false, entry: undefined },
      { ref: 'DockerContainer/db', state: 'deleted', note: 'Started; not found' },
    ],
  ])('%s', (_name, input, want) => {
    expect(containerDependency(input)).toEqual(want);
  });

  it('a waiting container names the container and the condition', () => {
    const migrate = containerDependency({
      name: 'migrate',
      condition: 'Completed',
      exists: true,
      entry: entry('Failed', 'exited', 3),
    });
    expect(decideDependencies({ dependencies: [migrate], existing: false, specChanged: false })).toEqual({
      type: 'wait',
      missing: ['DockerContainer/migrate (Completed; now Failed, exit code 3)'],
    });
  });

  it('a running dependent is held, not stopped, when its dependency turns unhealthy', () => {
    const db = containerDependency({
      name: 'db',
      condition: 'Ready',
      exists: true,
      entry: entry('Unhealthy', 'running'),
    });
    const decision = decideDependencies({ dependencies: [db], existing: true, specChanged: false });
    expect(decision.type).toBe('hold');
    if (decision.type === 'hold')
      expect(heldMessage(decision.notReady)).toMatch(
        /^DockerContainer\/db \(Ready; now Unhealthy\) is not ready/,
      );
  });
});

describe('dependencyCycle', () => {
  const graph = (g: Record<string, string[]>) => (name: string) => g[name];
  it.each<[string, Record<string, string[]>, string[] | undefined]>([
    ['no dependsOn', { a: [] }, undefined],
    ['a chain', { a: ['b'], b: ['c'], c: [] }, undefined],
    ['a diamond is no cycle', { a: ['b', 'c'], b: ['d'], c: ['d'], d: [] }, undefined],
    ['itself', { a: ['a'] }, ['a', 'a']],
    ['through one other', { a: ['b'], b: ['a'] }, ['a', 'b', 'a']],
    ['through two others', { a: ['x', 'b'], x: [], b: ['c'], c: ['a'] }, ['a', 'b', 'c', 'a']],
    [
      'a cycle further down that does not come back: the others report it',
      { a: ['b'], b: ['c'], c: ['b'] },
      undefined,
    ],
    ['a dependency that does not exist', { a: ['ghost'] }, undefined],
  ])('%s', (_name, g, want) => {
    expect(dependencyCycle('a', graph(g))).toEqual(want);
  });
});
