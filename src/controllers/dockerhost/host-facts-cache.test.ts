import { describe, expect, it } from 'vitest';
import type { HostFacts } from '../../docker/host-probe.js';
import { FACTS_REFRESH_MS, HostFactsCache } from './host-facts-cache.js';

const facts: HostFacts = {
  engine: { version: '20.10.24' },
  containers: { total: 1, running: 1, managed: 1 },
};

describe('HostFactsCache', () => {
  const cached = () => {
    const cache = new HostFactsCache();
    cache.remember('edge-1', { facts, fingerprint: 'fp1', at: 0 });
    return cache;
  };

  it.each<[string, (c: HostFactsCache) => HostFacts | undefined, HostFacts | undefined]>([
    ['fresh: a ping is enough', (c) => c.fresh('edge-1', 'fp1', FACTS_REFRESH_MS - 1), facts],
    ['due once FACTS_REFRESH_MS passed', (c) => c.fresh('edge-1', 'fp1', FACTS_REFRESH_MS), undefined],
    ['another endpoint or TLS material', (c) => c.fresh('edge-1', 'fp2', 1), undefined],
    ['another host', (c) => c.fresh('edge-2', 'fp1', 1), undefined],
    [
      'forgotten after a failed heartbeat',
      (c) => {
        c.forget('edge-1');
        return c.fresh('edge-1', 'fp1', 1);
      },
      undefined,
    ],
  ])('%s', (_name, look, expected) => {
    expect(look(cached())).toEqual(expected);
  });
});
