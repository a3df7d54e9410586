import { describe, expect, it } from 'vitest';
import { ClusterIdUnavailable, clusterIdProblem, resolveClusterId } from './cluster-id.js';

const api = (read: () => Promise<{ metadata?: { uid?: string } }>) => ({
  readNamespace: read as never,
});

describe('resolveClusterId', () => {
  it('takes the flag as given, without reading the cluster', async () => {
    const read = api(() => Promise.reject(new Error('must not be called')));
    await expect(resolveClusterId(read, 'blue')).resolves.toBe('blue');
  });

  it("defaults to the kube-system namespace's UID", async () => {
    await expect(
      resolveClusterId(
        api(async () => ({ metadata: { uid: 'u-ks' } })),
        undefined,
      ),
    ).resolves.toBe('u-ks');
  });

  it.each([
    ['unreadable (forbidden)', () => Promise.reject(new Error('HTTP 403 Forbidden'))],
    ['without a UID', async () => ({ metadata: {} })],
  ])('refuses to start when kube-system is %s and no flag is set', async (_what, read) => {
    const err = await resolveClusterId(api(read), undefined).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClusterIdUnavailable);
    expect((err as Error).message).toMatch(/--cluster-id/);
  });
});

describe('clusterIdProblem', () => {
  it.each([
    ['a UID', '0b9f3a34-63a5-4f43-9a8e-3e2f1c1b2a10', false],
    ['a name', 'prod_eu.1', false],
    ['empty', '', true],
    ['a space', 'a b', true],
    ['a leading dash', '-a', true],
    ['64 characters', 'a'.repeat(64), true],
  ])('%s', (_what, value, refused) => {
    expect(clusterIdProblem(value) !== undefined).toBe(refused);
  });
});
