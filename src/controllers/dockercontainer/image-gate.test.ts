import type Dockerode from 'dockerode';
import { describe, expect, it } from 'vitest';
import { ANONYMOUS, ImageAccessRecords } from '../dockerimage/image-access.js';
import { gateImage, type ImageGate } from './image-gate.js';
import type { ContainerSituation } from './situation.js';

// The image check before a container naming spec.image is created, against
// a fake daemon; the real registry refuses for real in
// test/integration/private-images.test.ts.

const REF = 'reg:5000/private/app:1';
const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const FROM_REGISTRY = { Id: 'sha256:img', RepoDigests: [`reg:5000/private/app@${D1}`] };

type Registry = { digest: string } | { status: number; message: string };

function fakeDaemon(image: { Id: string; RepoDigests: string[] } | undefined, registry: Registry) {
  const resolves: unknown[] = [];
  const api = {
    getImage: () => ({
      inspect: async () => {
        if (!image) throw Object.assign(new Error('no such image'), { statusCode: 404 });
        return { ...image, RepoTags: [REF], Size: 1 };
      },
      distribution: async (opts?: { authconfig?: unknown }) => {
        resolves.push(opts?.authconfig);
        if ('digest' in registry) return { Descriptor: { digest: registry.digest } };
        throw Object.assign(new Error(registry.message), {
          statusCode: registry.status,
          json: { message: registry.message },
        });
      },
    }),
  } as unknown as Dockerode;
  return { api, resolves };
}

const MISSING: ContainerSituation = { type: 'MISSING', start: true };
const denied: Registry = { status: 500, message: 'unauthorized: authentication required' };

describe('gateImage', () => {
  // [name, situation, via imageRef, local image, registry answer, recorded identities, expected, registry asked]
  it.each<
    [
      string,
      ContainerSituation,
      boolean,
      { Id: string; RepoDigests: string[] } | undefined,
      Registry,
      string[],
      ImageGate['action'],
      boolean,
    ]
  >([
    [
      'nothing to create: not looked at',
      { type: 'NOT_RUNNING' },
      false,
      FROM_REGISTRY,
      denied,
      [],
      'go',
      false,
    ],
    [
      'imageRef: its DockerImage checked its credentials',
      MISSING,
      true,
      FROM_REGISTRY,
      denied,
      [],
      'go',
      false,
    ],
    [
      'built or loaded on the host: nothing to ask',
      MISSING,
      false,
      { Id: 'sha256:img', RepoDigests: [] },
      denied,
      [],
      'go',
      false,
    ],
    [
      'pulled with credentials by another owner: refused',
      MISSING,
      false,
      FROM_REGISTRY,
      denied,
      ['cred:a'],
      'refuse',
      true,
    ],
    [
      'the same for a recreate',
      { type: 'OUTDATED', start: true },
      false,
      FROM_REGISTRY,
      denied,
      [],
      'refuse',
      true,
    ],
    [
      'hidden as not found: refused',
      MISSING,
      false,
      FROM_REGISTRY,
      { status: 404, message: 'manifest unknown' },
      [],
      'refuse',
      true,
    ],
    [
      'public (the registry grants anonymous access): go',
      MISSING,
      false,
      FROM_REGISTRY,
      { digest: D1 },
      ['cred:a'],
      'go',
      true,
    ],
    ['public, but the tag moved: pull it', MISSING, false, FROM_REGISTRY, { digest: D2 }, [], 'pull', true],
    [
      'known public on this host: no registry call',
      MISSING,
      false,
      FROM_REGISTRY,
      denied,
      [ANONYMOUS],
      'go',
      false,
    ],
    ['not present: pulled as before', MISSING, false, undefined, denied, [], 'pull', false],
  ])('%s', async (_name, situation, viaImageRef, image, answer, recorded, action, asked) => {
    const daemon = fakeDaemon(image, answer);
    const records = new ImageAccessRecords();
    for (const id of recorded) records.record('h1', 'sha256:img', id);
    const gate = await gateImage({
      situation,
      viaImageRef,
      image: REF,
      api: daemon.api,
      host: 'h1',
      records,
    });
    expect(gate.action).toBe(action);
    expect(daemon.resolves.length > 0).toBe(asked);
    // The container presents no credentials, ever.
    for (const auth of daemon.resolves) expect(auth).toBeUndefined();
  });

  it('refuses with ImagePullCredentialsRejected, naming no other owner, and records anonymous success once', async () => {
    const records = new ImageAccessRecords();
    records.record('h1', 'sha256:img', 'cred:a');
    const refused = await gateImage({
      situation: MISSING,
      viaImageRef: false,
      image: REF,
      api: fakeDaemon(FROM_REGISTRY, denied).api,
      host: 'h1',
      records,
    });
    expect(refused).toMatchObject({ action: 'refuse', reason: 'ImagePullCredentialsRejected' });
    expect(refused.action === 'refuse' && refused.message).toContain('does not grant anonymous access');

    const unreachable = await gateImage({
      situation: MISSING,
      viaImageRef: false,
      image: REF,
      api: fakeDaemon(FROM_REGISTRY, { status: 500, message: 'dial tcp: connection refused' }).api,
      host: 'h1',
      records,
    });
    expect(unreachable).toMatchObject({ action: 'refuse', reason: 'RegistryUnreachable' });

    const open = fakeDaemon(FROM_REGISTRY, { digest: D1 });
    const gate = () =>
      gateImage({ situation: MISSING, viaImageRef: false, image: REF, api: open.api, host: 'h1', records });
    expect((await gate()).action).toBe('go');
    expect((await gate()).action).toBe('go');
    expect(open.resolves).toHaveLength(1);
  });

  it('decides on the image the observation already looked at, without inspecting it again', async () => {
    const daemon = fakeDaemon(FROM_REGISTRY, { digest: D1 });
    let inspects = 0;
    const counted = {
      getImage: () => {
        const image = daemon.api.getImage(REF);
        return { ...image, inspect: () => (inspects++, image.inspect()) };
      },
    } as unknown as Dockerode;
    const looked = {
      id: 'sha256:img',
      repoDigests: FROM_REGISTRY.RepoDigests,
      repoTags: [REF],
      sizeBytes: 1,
    };
    const gate = await gateImage({
      situation: MISSING,
      viaImageRef: false,
      image: REF,
      api: counted,
      host: 'h1',
      records: new ImageAccessRecords(),
      lookLocal: () => Promise.resolve(looked),
    });
    expect(gate.action).toBe('go');
    expect(inspects).toBe(0);
    // Nothing on the host, as the observation saw it: pulled, still without an inspect.
    const absent = await gateImage({
      situation: MISSING,
      viaImageRef: false,
      image: REF,
      api: counted,
      host: 'h1',
      records: new ImageAccessRecords(),
      lookLocal: () => Promise.resolve(undefined),
    });
    expect(absent.action).toBe('pull');
    expect(inspects).toBe(0);
  });
});
