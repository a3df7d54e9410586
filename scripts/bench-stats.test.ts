import { describe, expect, it } from 'vitest';
import type { DockerService } from '../src/crds/dockerservice.js';
import { isMutatingAction, isMutatingOperation } from '../bench/support/metrics.js';
import { largestGap, minimumBetween, rolloutComplete } from '../bench/scenarios/rollout.js';
import { parseBenchArgs, SCENARIOS } from '../bench/support/options.js';
import {
  counterDelta,
  cumulative,
  median,
  percentile,
  ratio,
  summarize,
  total,
} from '../bench/support/stats.js';
import { niceTicks, renderLineChart } from '../bench/support/svg.js';

// The benchmark's pure parts: the arithmetic behind every reported figure,
// the Docker operation classification, the flags and the chart.

describe('percentile (linear interpolation between ranks)', () => {
  it.each<[number[], number, number | undefined]>([
    [[], 50, undefined],
    [[7], 0, 7],
    [[7], 99, 7],
    [[1, 2, 3, 4], 50, 2.5],
    [[4, 1, 3, 2], 50, 2.5], // order of samples does not matter
    [[1, 2, 3, 4, 5], 0, 1],
    [[1, 2, 3, 4, 5], 100, 5],
    [[1, 2, 3, 4, 5], 25, 2],
    [Array.from({ length: 101 }, (_, i) => i), 99, 99],
    [[10, 20], 99, 19.9],
  ])('%j p%d = %s', (samples, p, expected) => {
    const got = percentile(samples, p);
    if (expected === undefined) expect(got).toBeUndefined();
    else expect(got).toBeCloseTo(expected, 10);
  });

  it('refuses a percentile outside 0..100', () => {
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => percentile([1], -1)).toThrow(RangeError);
    expect(() => percentile([1], Number.NaN)).toThrow(RangeError);
  });

  it("does not reorder the caller's array", () => {
    const samples = [3, 1, 2];
    percentile(samples, 50);
    expect(samples).toEqual([3, 1, 2]);
  });
});

describe('summaries', () => {
  it('summarizes samples', () => {
    expect(summarize([2, 4, 4, 4, 5, 5, 7, 9])).toEqual({
      count: 8,
      min: 2,
      p50: 4.5,
      p90: expect.closeTo(7.6, 10) as number,
      p99: expect.closeTo(8.86, 10) as number,
      max: 9,
      mean: 5,
    });
    expect(summarize([])).toBeUndefined();
    expect(median([5, 1, 9])).toBe(5);
  });

  it('a ratio of nothing is undefined, not 0 or Infinity', () => {
    expect(ratio(3, 2)).toBe(1.5);
    expect(ratio(3, 0)).toBeUndefined();
    expect(ratio(undefined, 2)).toBeUndefined();
  });

  it('cumulative counts sort by time', () => {
    expect(cumulative([3, 1, 2])).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
  });

  it('counter deltas keep only what changed, new keys count from 0', () => {
    const before = new Map([
      ['a', 1],
      ['b', 5],
    ]);
    const after = new Map([
      ['a', 1],
      ['b', 7],
      ['c', 2],
    ]);
    const delta = counterDelta(before, after);
    expect([...delta]).toEqual([
      ['b', 2],
      ['c', 2],
    ]);
    expect(total(delta)).toBe(4);
  });
});

describe('Docker mutation classification', () => {
  it.each<[string, boolean]>([
    ['GET /containers/{id}/json', false],
    ['HEAD /_ping', false],
    ['GET /_ping', false],
    ['POST /containers/create', true],
    ['POST /containers/{id}/start', true],
    ['POST /containers/{id}/update', true],
    ['DELETE /containers/{id}', true],
    ['POST /volumes/create', true],
    ['POST /networks/{id}/connect', true],
    ['POST /images/create', true],
    ['POST /containers/{id}/wait', false],
    ['POST /auth', false],
  ])('%s mutates: %s', (operation, mutating) => {
    expect(isMutatingOperation(operation)).toBe(mutating);
  });

  it.each<[string, string, boolean]>([
    ['container', 'create', true],
    ['container', 'destroy', true],
    ['container', 'die', false], // a consequence of stop/kill, not a call
    ['container', 'exec_start: sh -c true', false],
    ['network', 'connect', false],
    ['volume', 'mount', false],
    ['volume', 'create', true],
    ['image', 'pull', true],
  ])('docker event %s %s mutates: %s', (type, action, mutating) => {
    expect(isMutatingAction(type, action)).toBe(mutating);
  });
});

describe('bench flags', () => {
  it('defaults finish in minutes and match the controller defaults', () => {
    expect(parseBenchArgs([])).toMatchObject({
      scenarios: [...SCENARIOS],
      n: 200,
      nodes: 2,
      concurrency: 4,
      drift: 50,
      driftPollOnly: 20,
      idleSeconds: 120,
      memorySteps: [0, 1000, 5000],
      restartObjects: 5000,
      rolloutReplicas: 100,
      rolloutParallelism: 10,
      agentN: 100,
      agentIdleSeconds: 30,
      dashboardObjects: 5000,
      dashboardTabs: 20,
      dashboardLatencySamples: 20,
      profile: false,
      out: 'bench/results',
    });
  });

  it('rollout parallelism defaults to 10 % of the replicas, at least 1', () => {
    expect(parseBenchArgs(['--rollout-replicas=12'])).toMatchObject({
      rolloutReplicas: 12,
      rolloutParallelism: 1,
    });
    expect(parseBenchArgs(['--rollout-replicas=12', '--rollout-parallelism=2'])).toMatchObject({
      rolloutReplicas: 12,
      rolloutParallelism: 2,
    });
  });

  it('reads small development parameters; memory always starts at 0', () => {
    expect(
      parseBenchArgs(['--n=20', '--memory-steps=200,50', '--scenarios=memory,idle', '--profile']),
    ).toMatchObject({ n: 20, memorySteps: [0, 50, 200], scenarios: ['memory', 'idle'], profile: true });
  });

  it.each([
    ['--scenarios=speed'],
    ['--n=0'],
    ['--n=1.5'],
    ['--nodes=1'],
    ['--noisy-fault=slow'],
    ['--bogus'],
    ['--rollout-replicas=1'],
    ['--rollout-replicas=1001'],
    ['--dashboard-tabs=1'], // one tab cannot show that more tabs cost nothing
    ['--agent-n=1'],
    ['--rollout-parallelism=100'], // not below the default 100 replicas: no availability floor left
  ])('refuses %s', (arg) => {
    expect(() => parseBenchArgs([arg])).toThrow();
  });
});

describe('rollout figures', () => {
  const samples: Array<[number, number]> = [
    [0, 12],
    [0.1, 10],
    [0.25, 11],
    [0.3, 9],
    [0.9, 12],
  ];

  it.each<[number, number, number | undefined]>([
    [0, 1, 9],
    [0, 0.2, 10],
    [0.5, 1, 12],
    [2, 3, undefined], // no sample in the window: no figure, never a made-up zero
  ])('fewest running between %d s and %d s is %s', (from, to, expected) => {
    expect(minimumBetween(samples, from, to)).toBe(expected);
  });

  it('the largest gap between samples shows whether 100 ms sampling held', () => {
    expect(largestGap(samples)).toBeCloseTo(0.6, 10);
    expect(largestGap([[0, 1]])).toBeUndefined();
  });

  const svc = (status: Partial<NonNullable<DockerService['status']>>, generation = 2) =>
    ({ metadata: { name: 's', generation }, spec: {}, status }) as unknown as DockerService;
  const complete = {
    observedGeneration: 2,
    phase: 'Complete',
    updateRevision: 'b',
    currentRevision: 'b',
    updatedReplicas: 12,
    availableReplicas: 12,
    conditions: [
      {
        type: 'Ready',
        status: 'True' as const,
        reason: 'RolloutComplete',
        message: '',
        lastTransitionTime: '',
      },
    ],
  };

  it.each<[string, Partial<NonNullable<DockerService['status']>>, boolean]>([
    ['complete at the new revision', {}, true],
    ['still the old revision', { updateRevision: 'a', currentRevision: 'a' }, false],
    ['an older generation', { observedGeneration: 1 }, false],
    ['rolled back (running another revision)', { phase: 'RolledBack', currentRevision: 'a' }, false],
    ['Complete but not every replica updated', { updatedReplicas: 11 }, false],
    ['Complete but Ready=False', { conditions: [] }, false],
  ])('rolloutComplete: %s', (_title, change, expected) => {
    expect(rolloutComplete(svc({ ...complete, ...change }), 12, 'a')).toBe(expected);
  });
});

describe('SVG chart', () => {
  it('ticks are round numbers covering the data', () => {
    expect(niceTicks(9.3)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(200)).toEqual([0, 50, 100, 150, 200]);
    expect(niceTicks(0)).toEqual([0, 1]);
  });

  it('renders a well-formed document with a legend entry per series and escaped text', () => {
    const svg = renderLineChart({
      title: 'A & B',
      xLabel: 's',
      yLabel: 'n',
      series: [
        { name: 'one', color: 'red', points: [[1, 1]] },
        { name: 'two <dashed>', color: 'blue', dashed: true, points: [] },
      ],
    });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('A &amp; B');
    expect(svg).toContain('two &lt;dashed&gt;');
    expect(svg.match(/<path /g)).toHaveLength(1);
  });
});
