import { describe, expect, it } from 'vitest';
import { pathTemplate, ROUTES } from '../bench/hollow/routes.js';
import { roundOrder, type RoundResult, type SizeResult } from '../bench/scenarios/scale.js';
import { shardingRows, sizeFigures, type SizeFigures } from '../bench/scenarios/scale-report.js';
import type { HollowHost } from '../bench/hollow/index.js';
import { auditHosts } from '../bench/support/scale-shards.js';
import { parseBenchArgs, SCENARIOS } from '../bench/support/options.js';
import { apiRequestsBetween, scaleItems } from '../bench/support/scale-api.js';
import { containerWork } from '../bench/support/scale-controller.js';
import { dockerCalls } from '../bench/support/scale-fleet.js';

// The scale scenario's pure parts: how hollow hosts label requests, how calls
// and API requests become per-object figures, the round order, the medians
// and the flags.

describe('hollow request labels', () => {
  it.each([
    ['GET', '/_ping', 'GET /_ping'],
    ['POST', '/containers/create', 'POST /containers/create'],
    ['POST', '/containers/{id}/start', 'POST /containers/{id}/start'],
    ['DELETE', '/containers/{id}', 'DELETE /containers/{id}'],
    ['GET', '/images/{id}/json', 'GET /images/{id}/json'],
  ])('%s %s is counted as %s (the controller metric’s shape)', (method, template, label) => {
    const route = ROUTES.find(([m, re]) => m === method && pathTemplate(re) === template);
    expect(route && `${route[0]} ${pathTemplate(route[1])}`).toBe(label);
  });
});

describe('Docker calls of a window', () => {
  it('splits mutating, reads and the heartbeat apart', () => {
    const before = new Map([['GET /_ping', 5]]);
    const after = new Map([
      ['GET /_ping', 9],
      ['GET /events', 1],
      ['POST /containers/create', 10],
      ['POST /containers/{id}/start', 10],
      ['POST /containers/{id}/wait', 2],
      ['GET /containers/{id}/json', 30],
      ['DELETE /containers/{id}', 1],
    ]);
    const calls = dockerCalls(before, after);
    expect(calls).toMatchObject({ mutating: 21, reads: 32, upkeep: 5 });
  });
});

describe('API requests of a window', () => {
  const sample = (verb: string, resource: string, value: number, subresource = '') => ({
    name: 'apiserver_request_total',
    labels: { verb, resource, subresource, code: '200' },
    value,
  });
  it("leaves out the bench's creates and the API server's Leases; counts status writes", () => {
    const before = [sample('PATCH', 'leases', 3)];
    const after = [
      sample('PATCH', 'leases', 9),
      sample('POST', 'dockercontainers', 100),
      sample('PATCH', 'dockercontainers', 100),
      sample('PATCH', 'dockercontainers', 150, 'status'),
      sample('PUT', 'dockercontainers', 10, 'status'),
      sample('LIST', 'dockercontainers', 2),
      sample('POST', 'events', 5),
    ];
    expect(apiRequestsBetween(before, after, 100)).toMatchObject({
      requests: 267,
      writes: 265,
      statusWrites: 160,
    });
  });
});

describe('scale bookkeeping', () => {
  it('alternates the order of the phases, the API floor in the middle', () => {
    expect(roundOrder(0)).toEqual(['docker', 'api', 'dockyard']);
    expect(roundOrder(1)).toEqual(['dockyard', 'api', 'docker']);
    expect(roundOrder(2)).toEqual(roundOrder(0));
  });

  it('names objects by host and index', () => {
    expect(scaleItems(['hollow-0000', 'hollow-0001'], 2)).toEqual([
      { name: 's-0000-0', host: 'hollow-0000' },
      { name: 's-0000-1', host: 'hollow-0000' },
      { name: 's-0001-0', host: 'hollow-0001' },
      { name: 's-0001-1', host: 'hollow-0001' },
    ]);
  });

  it('counts only the DockerContainer controller as busy', () => {
    expect(
      containerWork([
        { name: 'workqueue_depth', labels: { name: 'dockerhost', controller: 'dockerhost' }, value: 7 },
        { name: 'controller_runtime_active_workers', labels: { controller: 'dockerhost' }, value: 3 },
        {
          name: 'workqueue_depth',
          labels: { name: 'dockercontainer', controller: 'dockercontainer' },
          value: 2,
        },
        { name: 'controller_runtime_active_workers', labels: { controller: 'dockercontainer' }, value: 1 },
      ]),
    ).toBe(3);
  });

  it('takes medians over rounds and the ratio against the slower floor', () => {
    const round = (docker: number, api: number, dockyard: number, rss: [number, number]): RoundResult =>
      ({
        round: 0,
        order: roundOrder(0),
        docker: { seconds: docker },
        api: { seconds: api, withFinalizers: 0 },
        dockyard: {
          seconds: dockyard,
          cpuSeconds: 2,
          benchLoopLag: { p99Ms: 20, maxMs: 50 },
          idle: { rssBytes: rss[0], heapUsedBytes: 0 },
          converged: { rssBytes: rss[1], heapUsedBytes: 0 },
          api: { requests: 300, writes: 200, statusWrites: 150 },
          docker: { mutating: 200, reads: 500, upkeep: 7 },
          leftovers: { dockyard: 0, other: 0 },
        },
      }) as unknown as RoundResult;
    const size: SizeResult = {
      hosts: 10,
      objects: 100,
      registerSeconds: 1,
      rounds: [round(4, 10, 14, [1000, 2000]), round(5, 8, 16, [1000, 3000]), round(12, 9, 15, [1000, 1500])],
    };
    const f = sizeFigures(size);
    expect(f.ratios).toEqual([1.4, 2, 1.25]);
    expect(f.ratio).toEqual({ median: 1.4, min: 1.25, max: 2 });
    expect(f.dockyardSeconds).toBe(15);
    expect(f.rssBytesPerObject).toBe(10);
    expect(f.statusWritesPerObject).toBe(1.5);
    expect(f.dockerCallsPerObject).toBe(7);
    expect(f.cpuMsPerObject).toBe(20);
  });
});

describe('scale flags', () => {
  it('defaults to the issue’s fleet', () => {
    expect(SCENARIOS).toContain('scale');
    expect(SCENARIOS).toContain('latency');
    expect(parseBenchArgs([])).toMatchObject({
      scaleHosts: [10, 100, 1000],
      scaleRounds: 3,
      scalePerHost: 4,
      scaleWorkers: 2000,
      scaleShards: 3,
      latencySamples: 50,
    });
  });

  it('sorts and dedupes the sizes', () => {
    expect(
      parseBenchArgs([
        '--scenarios=scale',
        '--scale-hosts=50,10,50',
        '--scale-rounds=1',
        '--scale-per-host=2',
      ]),
    ).toMatchObject({ scenarios: ['scale'], scaleHosts: [10, 50], scaleRounds: 1, scalePerHost: 2 });
  });

  it.each([
    ['--scale-hosts=0'],
    ['--scale-hosts=10,x'],
    ['--scale-hosts=5001'],
    ['--scale-rounds=0'],
    ['--scale-per-host=0'],
    ['--scale-workers=1.5'],
    ['--scale-shards=0'],
    ['--latency-samples=0'],
  ])('refuses %s', (arg) => {
    expect(() => parseBenchArgs([arg])).toThrow();
  });
});

describe('sharding runs', () => {
  const host = (name: string, containers: string[]) =>
    ({
      name,
      state: {
        containers: new Map(
          containers.map((n, i) => [`${name}-${i}`, { config: { Labels: { 'dockyard.io/name': n } } }]),
        ),
      },
    }) as unknown as HollowHost;
  const items = [
    { name: 'a', host: 'h1' },
    { name: 'b', host: 'h1' },
    { name: 'c', host: 'h2' },
  ];

  it('audits the hosts: each object once where it belongs, nothing else', () => {
    expect(auditHosts([host('h1', ['a', 'b']), host('h2', ['c'])], items)).toEqual({
      duplicates: 0,
      orphans: 0,
      missing: 0,
    });
    expect(auditHosts([host('h1', ['a', 'a', 'b']), host('h2', ['c', 'x'])], items)).toEqual({
      duplicates: 1,
      orphans: 1,
      missing: 0,
    });
    expect(auditHosts([host('h1', ['a']), host('h2', [])], items)).toMatchObject({ missing: 2 });
  });

  it('reports the speed-up over one process and fails a run that left a duplicate', () => {
    const base = {
      replicas: 3,
      applySeconds: 1,
      rssBytes: [2 ** 20],
      cpuSeconds: [1],
      leftovers: { dockyard: 0, other: 0 },
    };
    const rows = shardingRows(
      [
        { ...base, seconds: 10, duplicates: 0, orphans: 0, missing: 0 },
        { ...base, seconds: 20, killedAtReady: 50, duplicates: 1, orphans: 0, missing: 0 },
      ],
      { dockyardSeconds: 30 } as SizeFigures,
    );
    expect(rows.find((r) => r.metric.startsWith('3 sharded replicas: speed-up'))?.value).toBe(3);
    const audits = rows.filter((r) => r.metric.includes('duplicate / orphan / missing'));
    expect(audits.map((r) => r.pass)).toEqual([true, false]);
    expect(shardingRows([], { dockyardSeconds: 1 } as SizeFigures)[0]?.value).toMatch(/not run/);
  });

  it('reports a sharding run that did not finish as a failed row, with what stopped it', () => {
    const rows = shardingRows([{ replicas: 3, kill: false, failed: 'the controller exited' }], {
      dockyardSeconds: 30,
    } as SizeFigures);
    expect(rows).toEqual([
      {
        metric: '3 sharded replicas: converged',
        value: 'no: the controller exited',
        target: 'yes',
        pass: false,
      },
    ]);
  });
});
