import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ContainerNameConflict,
  containerClient,
  type ObservedContainer,
} from '../../docker/container-client.js';
import { imageClient } from '../../docker/image-client.js';
import { observedContainer } from '../../docker/test-support.js';
import { dockerContainerKind } from './container-kind.js';
import { emptyKindDeps, webHostContext } from './test-support.js';

// The create race: observe found no container at the name, and Docker's
// create answers that the name is taken. The create effect looks again and
// nothing queued after it (the start, the Created Event) runs: a container
// that is not ours there is a NameConflict, as a fresh look would find; one
// gone again is left to the next reconcile. Docker is answered by spies.

/** Nothing at the name at first; after the refused create, `meanwhile` is. */
function docker(meanwhile: ObservedContainer | undefined) {
  const calls = { creates: 0, starts: 0 };
  vi.spyOn(imageClient, 'inspect').mockResolvedValue({
    id: 'sha256:img',
    repoDigests: [],
    repoTags: ['busybox:1'],
    sizeBytes: 1,
  });
  vi.spyOn(containerClient, 'listOwned').mockResolvedValue([]);
  vi.spyOn(containerClient, 'observe').mockImplementation(() =>
    Promise.resolve(calls.creates > 0 ? meanwhile : undefined),
  );
  vi.spyOn(containerClient, 'create').mockImplementation(() => {
    calls.creates++;
    return Promise.reject(new ContainerNameConflict('team.web', new Error('409')));
  });
  vi.spyOn(containerClient, 'start').mockImplementation(() => {
    calls.starts++;
    return Promise.resolve();
  });
  return calls;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('DockerContainer reconcile: a create that finds the name taken', () => {
  it('by a container that is not ours: NameConflict with its Warning, nothing started, nothing said created', async () => {
    const calls = docker(observedContainer({ id: 'theirs', labels: { app: 'x' } }));
    const reasons: string[] = [];
    const outcome = await dockerContainerKind(emptyKindDeps).reconcileHost(
      webHostContext({ onReason: (r) => reasons.push(r) }),
    );
    expect(calls).toEqual({ creates: 1, starts: 0 });
    expect(outcome.entry.phase).toBe('NameConflict');
    expect(outcome.stalled?.reason).toBe('NameConflict');
    // Only ours shows in the entry.
    expect(outcome.entry.id).toBeUndefined();
    expect(reasons).toEqual(['NameConflict']);
  });

  it('and gone again by the next look: still Creating, looked at again soon', async () => {
    const calls = docker(undefined);
    const reasons: string[] = [];
    const outcome = await dockerContainerKind(emptyKindDeps).reconcileHost(
      webHostContext({ onReason: (r) => reasons.push(r) }),
    );
    expect(calls).toEqual({ creates: 1, starts: 0 });
    expect(outcome).toMatchObject({ ready: false, requeueAfterMs: 1_000, entry: { phase: 'Creating' } });
    expect(reasons).toEqual([]);
  });
});
