import { afterEach, describe, expect, it, vi } from 'vitest';
import { OWNER_LABELS } from '../../crds/kit.js';
import { containerClient, type ObservedContainer } from '../../docker/container-client.js';
import { desiredUpdate } from '../../docker/container-spec.js';
import type { HostStatusEntry } from '../../managed/types.js';
import { desiredContainer, dockerContainerKind } from './container-kind.js';
import { emptyKindDeps, HOST, webContainer, webHostContext } from './test-support.js';
import { asideName } from './replace.js';
import { observedContainer } from '../../docker/test-support.js';

// The Docker list call behind the crash-safety of a recreate (replace.ts,
// leftovers.ts) is made only when leftovers can exist: on a process's first
// look at a container, and when the container at the name is not the one
// status recorded. A steady-state reconcile asks Docker for the container by
// name only. Docker is answered by spies on the client (what is counted is
// which calls the kind makes, not what Docker does).

const ID = 'c'.repeat(64);
const obj = webContainer;
const deps = emptyKindDeps;

/** The container Dockyard created for `obj`, running, as observe() reports it. */
async function running(id: string): Promise<ObservedContainer> {
  const { hash } = await desiredContainer(deps, { container: obj, hostName: HOST, namespace: 'team' });
  return observedContainer({
    id,
    labels: { [OWNER_LABELS.uid]: 'u-web', [OWNER_LABELS.specHash]: hash ?? '' },
    image: 'busybox:1',
    hostConfig: {
      restartPolicy: { name: desiredUpdate(obj.spec).RestartPolicy.Name, maximumRetryCount: 0 },
      pidsLimit: desiredUpdate(obj.spec).PidsLimit,
    },
  });
}

function hostContext(previous: HostStatusEntry | undefined) {
  return webHostContext(previous ? { previous } : {});
}

/** Docker as spies: `atName` is what observe() finds, `aside` what listOwned() adds. */
function docker(world: { atName: ObservedContainer | undefined; aside?: string[] }) {
  const calls = { lists: 0, removed: [] as string[] };
  vi.spyOn(containerClient, 'observe').mockImplementation(() => Promise.resolve(world.atName));
  vi.spyOn(containerClient, 'listOwned').mockImplementation(() => {
    calls.lists++;
    const aside = (world.aside ?? []).map((id) => ({
      id,
      name: asideName(id, 'team.web'),
      state: 'exited',
      created: 1,
    }));
    return Promise.resolve(aside);
  });
  vi.spyOn(containerClient, 'remove').mockImplementation((_api, id) => {
    calls.removed.push(id);
    world.aside = (world.aside ?? []).filter((a) => a !== id);
    return Promise.resolve();
  });
  return calls;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('DockerContainer reconcile: listing containers for leftovers of a recreate', () => {
  it('a steady-state reconcile lists none (only the first one in this process does)', async () => {
    const kind = dockerContainerKind(deps);
    const calls = docker({ atName: await running(ID) });
    let previous: HostStatusEntry | undefined;
    for (let i = 0; i < 5; i++) {
      const outcome = await kind.reconcileHost(hostContext(previous));
      expect(outcome.ready, JSON.stringify(outcome)).toBe(true);
      previous = outcome.entry;
    }
    expect(previous?.id).toBe(ID);
    expect(calls.lists).toBe(1);
  });

  it('a new process (the last one killed after the successor started) lists and removes the old one aside', async () => {
    const world = { atName: await running(ID), aside: ['old'] };
    const calls = docker(world);
    // Status as the killed process left it: it had not recorded the successor yet.
    const outcome = await dockerContainerKind(deps).reconcileHost(
      hostContext({ name: HOST, phase: 'Running', id: 'old' }),
    );
    expect(calls.removed).toEqual(['old']);
    expect(outcome.entry.id).toBe(ID);
  });

  it('in the same process, a container at the name other than the recorded one is listed for', async () => {
    const kind = dockerContainerKind(deps);
    const world: { atName: ObservedContainer | undefined; aside?: string[] } = { atName: await running(ID) };
    const calls = docker(world);
    const first = await kind.reconcileHost(hostContext(undefined));
    // A recreate this process began was cut short after the start (e.g. the final remove failed).
    world.atName = await running('successor');
    world.aside = [ID];
    await kind.reconcileHost(hostContext(first.entry));
    expect(calls.lists).toBe(2);
    expect(calls.removed).toEqual([ID]);
  });
});
