import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dependencyOrder, sortableTime, type Observation } from './compare.js';
import { coveringSubset, projectFeatures } from './cover.js';
import { CORPUS_DIR, readCorpus } from './corpus.js';
import { explain, parseDifferences, readDifferences } from './differences.js';
import { normaliseSide, type NormaliseContext } from './normalise.js';
import { runScheduled } from './scheduler.js';
import type { ContainerShot, Json, Side } from './snapshot.js';

// The pure parts of the Compose parity test (compose-parity.test.ts): the
// normalisation rules, the DIFFERENCES.md table, the depends_on order and the
// scheduler, on small hand-made inputs.

const ctx: NormaliseContext = {
  project: {
    name: 'p',
    services: { web: { networks: { default: null } }, db: {} },
    networks: { default: {} },
  },
  fileTargets: (s) => (s === 'web' ? ['/etc/app.conf'] : []),
};

function side(containers: Array<{ key: string; inspect: Json }>, names: Record<string, string> = {}): Side {
  return {
    containers: containers.map((c): ContainerShot => ({ ...c, files: [] })),
    networks: [],
    volumes: [],
    identities: {
      ids: new Map(),
      containers: new Map(Object.entries(names)),
      networks: new Map([
        ['p_default', '<network default>'],
        ['ns.p-default', '<network default>'],
      ]),
      volumes: new Map([
        ['p_data', '<volume data>'],
        ['ns.p-data', '<volume data>'],
      ]),
    },
    nodeName: 'node-a',
  };
}

const values = (s: Side, key = 'web') => {
  const o = normaliseSide(s, ctx).get(`container:${key}`);
  return Object.fromEntries([...(o?.values ?? [])].map(([k, v]) => [k, JSON.parse(v.value) as unknown]));
};

describe('normalisation', () => {
  it('makes two spellings of one mount the same: Binds and Mounts, HostConfig.Tmpfs and tmpfs mounts', () => {
    const compose = side([
      {
        key: 'web',
        inspect: {
          HostConfig: {
            Binds: ['p_data:/data:rw'],
            Tmpfs: { '/tmp': 'rw,noexec,nosuid,size=16m,mode=1777' },
            Mounts: [{ Type: 'bind', Source: '/src/app.conf', Target: '/etc/app.conf', ReadOnly: true }],
          },
          Mounts: [
            {
              Type: 'volume',
              Name: 'p_data',
              Source: '/var/lib/docker/volumes/p_data/_data',
              Destination: '/data',
              Mode: 'rw',
              RW: true,
            },
          ],
        },
      },
    ]);
    const dockyard = side([
      {
        key: 'web',
        inspect: {
          HostConfig: {
            Mounts: [
              { Type: 'tmpfs', Target: '/tmp', TmpfsOptions: { SizeBytes: 16 * 1024 * 1024, Mode: 0o1777 } },
              { Type: 'volume', Source: 'ns.p-data', Target: '/data' },
            ],
          },
          Mounts: [
            { Type: 'tmpfs', Source: '', Destination: '/tmp', Mode: '', RW: true, Propagation: '' },
            {
              Type: 'volume',
              Name: 'ns.p-data',
              Source: '/var/lib/docker/volumes/ns.p-data/_data',
              Destination: '/data',
              Mode: 'z',
              RW: true,
            },
          ],
        },
      },
    ]);
    const [a, b] = [values(compose), values(dockyard)];
    expect(a['HostConfig.Mounts']).toEqual(b['HostConfig.Mounts']);
    expect(a['Mounts']).toEqual(b['Mounts']);
    expect(a['HostConfig.Mounts']).toEqual([
      { Source: '<volume data>', Target: '/data', Type: 'volume' },
      { Target: '/tmp', TmpfsOptions: { Mode: 0o1777, SizeBytes: 16777216 }, Type: 'tmpfs' },
    ]);
  });

  it('keeps a tmpfs option that is not a default, so it shows as a difference', () => {
    const s = side([{ key: 'web', inspect: { HostConfig: { Tmpfs: { '/run': 'exec,size=1m' } } } }]);
    expect(values(s)['HostConfig.Mounts']).toEqual([
      { Target: '/run', TmpfsOptions: { Options: ['exec'], SizeBytes: 1048576 }, Type: 'tmpfs' },
    ]);
  });

  it('masks names and the container’s own aliases, keeps the aliases it was given, sorts what has no order', () => {
    const compose = side(
      [
        {
          key: 'web',
          inspect: {
            Name: '/p-web-1',
            Config: { Env: ['B=2', 'A=1'], Labels: { 'com.docker.compose.project': 'p', tier: 'web' } },
            HostConfig: {
              NetworkMode: 'p_default',
              CapAdd: ['CAP_NET_ADMIN'],
              ExtraHosts: ['b:10.0.0.2', 'a:10.0.0.1'],
            },
            NetworkSettings: {
              Networks: {
                p_default: { Aliases: ['p-web-1', 'web', 'www'], IPAddress: '172.18.0.2', EndpointID: 'e1' },
              },
            },
          },
        },
      ],
      { 'p-web-1': '<container web>' },
    );
    const dockyard = side(
      [
        {
          key: 'web',
          inspect: {
            Name: '/ns.p-web',
            Config: { Env: ['A=1', 'B=2'], Labels: { 'dockyard.io/uid': 'u', tier: 'web' } },
            HostConfig: {
              NetworkMode: 'ns.p-default',
              CapAdd: ['NET_ADMIN'],
              ExtraHosts: ['a:10.0.0.1', 'b:10.0.0.2'],
            },
            NetworkSettings: {
              Networks: {
                'ns.p-default': { Aliases: ['web', 'www'], IPAddress: '172.18.0.3', EndpointID: 'e2' },
              },
            },
          },
        },
      ],
      { 'ns.p-web': '<container web>' },
    );
    expect(values(compose)).toEqual(values(dockyard));
    expect(values(compose)['NetworkSettings.Networks.<network default>.Aliases']).toEqual(['web', 'www']);
  });

  it('keeps the order of extra hosts when a name repeats (the first line wins)', () => {
    const s = side([{ key: 'web', inspect: { HostConfig: { ExtraHosts: ['x:10.0.0.2', 'x:10.0.0.1'] } } }]);
    expect(values(s)['HostConfig.ExtraHosts']).toEqual(['x:10.0.0.2', 'x:10.0.0.1']);
  });
});

describe('depends_on order', () => {
  const withState = (key: string, state: Json) => ({ key, inspect: { State: state, RestartCount: 0 } });
  const at = (s: string) => `2026-01-01T00:00:0${s}Z`;

  it('compares RFC 3339 times with trimmed nanoseconds in time order', () => {
    expect(sortableTime(at('1.5')) > sortableTime(at('1.123456789'))).toBe(true);
  });

  it.each([
    ['started before', 'service_healthy', { StartedAt: at('1'), Running: true }, 'ok'],
    [
      'started after',
      'service_started',
      { StartedAt: at('3'), Running: true },
      'dependency started after the dependent',
    ],
    [
      'exited 0 before',
      'service_completed_successfully',
      { StartedAt: at('0'), FinishedAt: at('1'), ExitCode: 0 },
      'ok',
    ],
    [
      'still running',
      'service_completed_successfully',
      { StartedAt: at('0'), Running: true },
      'dependency still running',
    ],
    [
      'exited 1',
      'service_completed_successfully',
      { StartedAt: at('0'), FinishedAt: at('1'), ExitCode: 1 },
      'dependency exited 1',
    ],
  ])('%s (%s)', (_what, condition, dep, expected) => {
    const s = side([withState('db', dep), withState('web', { StartedAt: at('2'), Running: true })]);
    expect(dependencyOrder(s, 'web', 'db', condition)).toBe(expected);
  });
});

describe('DIFFERENCES.md', () => {
  const observation = (project: string, key: string): Observation => ({
    project,
    object: 'container:web',
    key,
    path: key,
    compose: '1',
    dockyard: '2',
    agree: false,
  });
  const table = [
    '| Key path pattern | Projects | Reason |',
    '| --- | --- | --- |',
    '| `container.Files.<file>.mode` | a, b | modes \\| bits |',
    '| `container.Config.*` | * | anything |',
  ].join('\n');

  it('reads the table the test needs, and the real file parses', () => {
    expect(parseDifferences(table)).toEqual([
      { line: 3, pattern: 'container.Files.<file>.mode', projects: ['a', 'b'], reason: 'modes | bits' },
      { line: 4, pattern: 'container.Config.*', projects: undefined, reason: 'anything' },
    ]);
    expect(readDifferences(join(CORPUS_DIR, 'DIFFERENCES.md')).length).toBeGreaterThan(0);
  });

  it('finds undocumented differences and stale rows, also a listed project that no longer differs', () => {
    const rows = parseDifferences(table);
    const result = explain(
      [observation('a', 'container.Files.<file>.mode'), observation('c', 'container.HostConfig.Init')],
      rows,
    );
    expect(result.documented.map((d) => d.observation.project)).toEqual(['a']);
    expect(result.undocumented.map((o) => o.key)).toEqual(['container.HostConfig.Init']);
    expect(result.stale.map((s) => s.why)).toEqual([
      'b has no such difference',
      'no observed difference matches it',
    ]);
  });
});

describe('scheduler', () => {
  it('never runs two jobs with a shared claim at once, and at most `concurrency` jobs', async () => {
    const running = new Set<string>();
    const log: string[] = [];
    let peak = 0;
    const job = (name: string, claims: string[]) => ({
      name,
      claims,
      run: async () => {
        for (const other of running)
          if (claims.some((c) => jobs.find((j) => j.name === other)?.claims.includes(c)))
            log.push(`${name} overlaps ${other}`);
        running.add(name);
        peak = Math.max(peak, running.size);
        await new Promise((r) => setTimeout(r, 5));
        running.delete(name);
        return name;
      },
    });
    const jobs = [
      job('a', ['port 1']),
      job('b', ['port 1']),
      job('c', ['port 2']),
      job('d', []),
      job('e', []),
    ];
    const results = await runScheduled(jobs, 2);
    expect([...results.keys()].sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(log).toEqual([]);
    expect(peak).toBe(2);
  });
});

describe("npm test's part of the corpus", () => {
  const corpus = readCorpus();
  const rows = readDifferences(join(CORPUS_DIR, 'DIFFERENCES.md'));
  const subset = coveringSubset(corpus, { corpusDir: CORPUS_DIR, rows });
  const features = (entries: typeof corpus) =>
    new Set(entries.flatMap((e) => [...projectFeatures(e, join(CORPUS_DIR, e.dir))]));

  it('exercises every feature the whole corpus does, with fewer projects', () => {
    const all = features(corpus);
    const covered = features(subset);
    expect([...all].filter((f) => !covered.has(f))).toEqual([]);
    expect(all.size).toBeGreaterThan(150);
    expect(subset.length).toBeLessThan(corpus.length);
  });

  it('keeps a project of every DIFFERENCES.md row', () => {
    const dirs = new Set(subset.map((e) => e.dir));
    for (const row of rows)
      expect(
        row.projects?.some((p) => dirs.has(p)),
        row.pattern,
      ).toBe(true);
  });

  it('reads key paths with user names generalised, list item shapes and behaviour-choosing values', () => {
    const vpn = projectFeatures({ dir: '04-vpn-sidecar' }, join(CORPUS_DIR, '04-vpn-sidecar'));
    expect(vpn).toContain('services.*.cap_add[]=scalar');
    expect(vpn).toContain('services.*.network_mode=service');
    expect(vpn).toContain('services.*.sysctls[]=scalar');
    expect([...vpn].some((f) => f.startsWith('services.vpn'))).toBe(false);
  });
});
