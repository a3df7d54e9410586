import { describe, expect, it } from 'vitest';
import { attachedContainers, KeyedMutex, toCreateOptions, type NetworkCreate } from './network-client.js';

const base: NetworkCreate = {
  name: 'n',
  driver: 'bridge',
  internal: false,
  attachable: false,
  enableIPv6: false,
  ipam: { driver: 'default', config: [], options: {} },
  options: {},
  labels: {},
};

describe('toCreateOptions', () => {
  it('always asks Docker to check for duplicate names', () => {
    expect(toCreateOptions(base).CheckDuplicate).toBe(true);
  });

  it('sends only the IPAM fields that are set', () => {
    const body = toCreateOptions({
      ...base,
      ipam: {
        driver: 'default',
        config: [{ subnet: '10.0.0.0/24' }, { subnet: '10.1.0.0/24', gateway: '10.1.0.254' }],
        options: {},
      },
    });
    expect(body.IPAM?.Config).toEqual([
      { Subnet: '10.0.0.0/24' },
      { Subnet: '10.1.0.0/24', Gateway: '10.1.0.254' },
    ]);
  });
});

describe('attachedContainers', () => {
  it.each<
    [string, Record<string, { Name?: string }> | null, Array<{ Id: string; Names?: string[] }>, string[]]
  >([
    ['none', null, [], []],
    ['running, from the endpoints', { aaa: { Name: 'web' } }, [], ['aaa:web']],
    ['stopped, from the list (slash dropped)', {}, [{ Id: 'bbb', Names: ['/db'] }], ['bbb:db']],
    ['seen both ways counts once', { aaa: { Name: 'web' } }, [{ Id: 'aaa', Names: ['/web'] }], ['aaa:web']],
    [
      'sorted by name',
      { ccc: { Name: 'zeta' } },
      [{ Id: 'ddd', Names: ['/alpha'] }],
      ['ddd:alpha', 'ccc:zeta'],
    ],
    ['no name: short id', {}, [{ Id: '0123456789abcdef' }], ['0123456789abcdef:0123456789ab']],
  ])('%s', (_n, endpoints, listed, want) => {
    expect(attachedContainers(endpoints, listed).map((c) => `${c.id}:${c.name}`)).toEqual(want);
  });
});

describe('KeyedMutex', () => {
  const tick = () => new Promise((r) => setTimeout(r, 1));

  it('runs work for one key one at a time, in order', async () => {
    const m = new KeyedMutex();
    const log: string[] = [];
    let running = 0;
    let most = 0;
    await Promise.all(
      [1, 2, 3, 4].map((i) =>
        m.run('host', async () => {
          running++;
          most = Math.max(most, running);
          log.push(`start ${i}`);
          await tick();
          log.push(`end ${i}`);
          running--;
        }),
      ),
    );
    expect(most).toBe(1);
    expect(log).toEqual(['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3', 'start 4', 'end 4']);
    expect(m.size).toBe(0);
  });

  it('lets different keys run side by side', async () => {
    const m = new KeyedMutex();
    let running = 0;
    let most = 0;
    const work = async () => {
      running++;
      most = Math.max(most, running);
      await tick();
      running--;
    };
    await Promise.all([m.run('a', work), m.run('b', work)]);
    expect(most).toBe(2);
  });

  it('a failure releases the lock and reaches only its caller', async () => {
    const m = new KeyedMutex();
    const failed = m.run('host', async () => {
      await tick();
      throw new Error('boom');
    });
    const next = m.run('host', async () => 'ok');
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('ok');
    expect(m.size).toBe(0);
  });
});
