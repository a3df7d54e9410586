import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionPool } from '../../src/docker/connection-pool.js';
import { UnresponsiveHostError } from '../../src/docker/responsiveness.js';
import { LAB_START_TIMEOUT_MS, startLab, type Lab } from '../support/lab.js';

// A paused Docker node (SIGSTOPped daemon: connections are accepted by the
// kernel, nothing answers) must not hold requests for the whole socket
// timeout: the pool's guard pings it and fails the waiting request and every
// new one fast, while the other node is untouched; after unpause it answers again.

let lab: Lab;
const REQUEST_TIMEOUT_MS = 120_000;

beforeAll(async () => {
  lab = await startLab({ nodes: [{ name: 'ok' }, { name: 'hung' }] });
}, LAB_START_TIMEOUT_MS);

afterAll(async () => {
  await lab
    ?.node('hung')
    .unpause()
    .catch(() => {});
  await lab?.stop();
});

describe('a hung Docker daemon', () => {
  it('fails requests fast instead of after the socket timeout, and recovers after unpause', async () => {
    const changes: string[] = [];
    const pool = new ConnectionPool({
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      responsiveness: { onChange: (host, responsive) => changes.push(`${host}:${responsive}`) },
    });
    const ok = pool.connect('ok', lab.node('ok').endpoint, undefined);
    const hung = pool.connect('hung', lab.node('hung').endpoint, undefined);
    await hung.api.listContainers(); // reachable before the fault
    await lab.node('hung').pause();
    try {
      const started = performance.now();
      const waiting = hung.api.listContainers({ all: true });
      await expect(waiting).rejects.toBeInstanceOf(UnresponsiveHostError);
      const waitedMs = performance.now() - started;
      // Far below the 120 s socket timeout: the guard, not the timeout, ended it.
      expect(waitedMs).toBeLessThan(REQUEST_TIMEOUT_MS / 4);
      expect(changes).toEqual(['hung:false']);
      // New requests fail at once, and the healthy node is unaffected.
      await expect(hung.api.listVolumes()).rejects.toThrow(/hung is not responding/);
      expect(Array.isArray(await ok.api.listContainers())).toBe(true);
    } finally {
      await lab.node('hung').unpause();
    }
    // The first request after unpause triggers a ping; within a few tries it answers again.
    let answered = false;
    for (let i = 0; i < 40 && !answered; i++) {
      try {
        await hung.api.listContainers();
        answered = true;
      } catch (err) {
        if (!(err instanceof UnresponsiveHostError)) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    expect(answered).toBe(true);
    expect(changes).toEqual(['hung:false', 'hung:true']);
    pool.remove('ok');
    pool.remove('hung');
  });
});
