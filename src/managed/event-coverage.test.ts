import { describe, expect, it } from 'vitest';
import { EventCoverage, EXPECT_OWN_EVENT_MS, type HostLooks } from './event-coverage.js';

/** A coverage on a hand-driven clock, recording whom it wakes. */
function setup() {
  let t = 0;
  const woken: string[] = [];
  const coverage = new EventCoverage({ wake: (key) => woken.push(key), clock: () => t });
  const at = (ms: number) => (t = ms);
  return { coverage, woken, at };
}

const START = { id: 'c1', action: 'start' };
const CREATE = { id: 'c1', action: 'create' };
const DIE = { id: 'c1', action: 'die' };

/** Looks that began at these times, and own calls that returned at these. */
const looks = (from: number[], calls: Array<[string, number]> = []): HostLooks => ({
  looks: from,
  calls: calls.map(([action, at]) => ({ id: 'c1', action, at })),
});

describe('EventCoverage: events held while the object is reconciled', () => {
  it('does not hold an event for an object that is not being reconciled', () => {
    const { coverage, woken } = setup();
    expect(coverage.hold('ns/web', 'h1', DIE)).toBe(false);
    expect(woken).toEqual([]);
  });

  it('drops an event when a look on its host began after it arrived', () => {
    const { coverage, woken, at } = setup();
    coverage.begin('ns/web');
    at(10);
    expect(coverage.hold('ns/web', 'h1', DIE)).toBe(true);
    coverage.commit('ns/web', 'h1', looks([20]));
    coverage.end('ns/web');
    expect(woken).toEqual([]);
  });

  it('wakes the object when the event arrived after (or as) the last look began', () => {
    const { coverage, woken, at } = setup();
    coverage.begin('ns/web');
    at(10);
    coverage.hold('ns/web', 'h1', DIE);
    coverage.commit('ns/web', 'h1', looks([10]));
    coverage.end('ns/web');
    coverage.begin('ns/api');
    at(30);
    coverage.hold('ns/api', 'h1', DIE);
    coverage.commit('ns/api', 'h1', looks([20]));
    coverage.end('ns/api');
    expect(woken).toEqual(['ns/web', 'ns/api']);
  });

  it('wakes the object when nothing was committed on the host (the reconcile threw there)', () => {
    const { coverage, woken } = setup();
    coverage.begin('ns/web');
    coverage.hold('ns/web', 'h1', DIE);
    coverage.end('ns/web');
    expect(woken).toEqual(['ns/web']);
  });

  it('judges each host apart: a look on one host covers none of another’s events', () => {
    const { coverage, woken, at } = setup();
    coverage.begin('ns/web');
    at(5);
    coverage.hold('ns/web', 'h1', DIE);
    coverage.hold('ns/web', 'h2', DIE);
    coverage.commit('ns/web', 'h1', looks([9]));
    coverage.end('ns/web');
    expect(woken).toEqual(['ns/web']);
  });

  it('covers an own call’s event that arrives after the look, if the call returned before the look began', () => {
    const { coverage, woken, at } = setup();
    coverage.begin('ns/web');
    at(50);
    coverage.hold('ns/web', 'h1', START); // arrived after the look at 40, but it is the start of 30
    coverage.commit('ns/web', 'h1', looks([40], [['start', 30]]));
    coverage.end('ns/web');
    expect(woken).toEqual([]);
  });

  it('does not cover an own call that returned after the last look began', () => {
    const { coverage, woken, at } = setup();
    coverage.begin('ns/web');
    at(50);
    coverage.hold('ns/web', 'h1', START);
    coverage.commit('ns/web', 'h1', looks([10], [['start', 30]]));
    coverage.end('ns/web');
    expect(woken).toEqual(['ns/web']);
  });

  it('wakes the object for a held event of the same container that no own call explains', () => {
    const { coverage, woken, at } = setup();
    coverage.begin('ns/web');
    at(50);
    coverage.hold('ns/web', 'h1', START);
    coverage.hold('ns/web', 'h1', DIE);
    coverage.commit('ns/web', 'h1', looks([40], [['start', 30]]));
    coverage.end('ns/web');
    expect(woken).toEqual(['ns/web']);
  });

  it('wakes the object when more events came than it holds', () => {
    const { coverage, woken, at } = setup();
    coverage.begin('ns/web');
    at(1);
    for (let i = 0; i < 65; i++) coverage.hold('ns/web', 'h1', { id: `c${i}`, action: 'die' });
    coverage.commit('ns/web', 'h1', looks([2]));
    coverage.end('ns/web');
    expect(woken).toEqual(['ns/web']);
  });
});

describe('EventCoverage: own calls whose events come after the reconcile', () => {
  it('drops such an event once, on the host it was made on, while it is expected', () => {
    const { coverage, woken, at } = setup();
    coverage.begin('ns/web');
    coverage.commit(
      'ns/web',
      'h1',
      looks(
        [40],
        [
          ['create', 20],
          ['start', 30],
        ],
      ),
    );
    coverage.end('ns/web');
    expect(coverage.expecting).toBe(2);
    at(100);
    expect(coverage.hold('ns/web', 'h2', START)).toBe(false); // another host's
    expect(coverage.hold('ns/web', 'h1', START)).toBe(true);
    expect(coverage.hold('ns/web', 'h1', START)).toBe(false); // once
    expect(coverage.hold('ns/web', 'h1', DIE)).toBe(false);
    at(40 + EXPECT_OWN_EVENT_MS + 1);
    expect(coverage.hold('ns/web', 'h1', CREATE)).toBe(false); // lapsed
    expect(coverage.expecting).toBe(0);
    expect(woken).toEqual([]);
  });

  it('expects nothing from a reconcile that threw or whose calls no later look saw', () => {
    const { coverage } = setup();
    coverage.begin('ns/web');
    coverage.end('ns/web');
    coverage.begin('ns/api');
    coverage.commit('ns/api', 'h1', looks([10], [['start', 30]]));
    coverage.end('ns/api');
    expect(coverage.expecting).toBe(0);
    expect(coverage.hold('ns/api', 'h1', START)).toBe(false);
  });
});
