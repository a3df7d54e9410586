import type Dockerode from 'dockerode';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { OWNER_LABELS } from '../../crds/kit.js';
import { containerClient } from '../../docker/container-client.js';
import { FILES_HASH_LABEL } from '../../docker/files-image.js';
import type { HostConnection } from '../../docker/connection-pool.js';
import { dockerContainerKind } from './container-kind.js';
import { emptyKindDeps, webHostContext } from './test-support.js';

// Leaving a host (finalizeHost) and the container's files images: those no
// container uses go under either policy; the one the container runs from
// stays under Orphan (Docker refuses an unforced removal with 409, which is
// how a real daemon answers for an image a container uses). Docker is a spy
// here; test/integration/container-files.test.ts shows it on a real daemon.

const IN_USE = 'dockyard-files/team.web:1111111111111111';
const UNUSED = 'dockyard-files/team.web:2222222222222222';

/** A daemon holding two files images of team/web: IN_USE (its container runs from it) and UNUSED. */
function daemon() {
  const removed: string[] = [];
  const listImages = vi.fn((_opts: unknown) =>
    Promise.resolve([
      {
        Id: 'sha256:1',
        RepoTags: [IN_USE],
        Labels: { [OWNER_LABELS.uid]: 'u-web', [FILES_HASH_LABEL]: 'a' },
      },
      {
        Id: 'sha256:2',
        RepoTags: [UNUSED],
        Labels: { [OWNER_LABELS.uid]: 'u-web', [FILES_HASH_LABEL]: 'b' },
      },
    ]),
  );
  const getImage = (ref: string) => ({
    remove: () => {
      if (ref === IN_USE)
        return Promise.reject(Object.assign(new Error('conflict: image is in use'), { statusCode: 409 }));
      removed.push(ref);
      return Promise.resolve([]);
    },
  });
  const api = { listImages, getImage } as unknown as Dockerode;
  return { api, listImages, removed };
}

function contextOn(api: Dockerode) {
  const ctx = webHostContext();
  return { ...ctx, conn: { ...ctx.conn, api } as HostConnection };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('DockerContainer leaving a host: its files images', () => {
  it('under Orphan the container stays, so does the image it runs from; an unused one goes', async () => {
    const removeContainer = vi.spyOn(containerClient, 'remove');
    const { api, listImages, removed } = daemon();
    const outcome = await dockerContainerKind(emptyKindDeps).finalizeHost(contextOn(api), 'Orphan');
    expect(outcome.done).toBe(true);
    expect(removed).toEqual([UNUSED]);
    expect(removeContainer).not.toHaveBeenCalled();
    // Only this owner's files images are asked for.
    expect(listImages).toHaveBeenCalledWith({
      filters: { label: [`${OWNER_LABELS.uid}=u-web`, FILES_HASH_LABEL] },
    });
  });

  it('a daemon error while removing them does not hold the release up', async () => {
    const api = {
      listImages: () => Promise.reject(Object.assign(new Error('boom'), { statusCode: 500 })),
    } as unknown as Dockerode;
    const outcome = await dockerContainerKind(emptyKindDeps).finalizeHost(contextOn(api), 'Orphan');
    expect(outcome.done).toBe(true);
  });
});
