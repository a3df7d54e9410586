import { describe, expect, it } from 'vitest';
import { EventCoverage } from './event-coverage.js';

/** A coverage on a hand-driven clock, recording whom it wakes. */
function setup() {
  let t = 0;
  const woken: string[] = [];
  const coverage = new EventCoverage({ wake: (key) => woken.push(key), clock: () => t });
  const at = (ms: number) => (t = ms);
  return { coverage, woken, at };
}

describe('EventCoverage', () => {
  it('does not hold an event for an object that is not being reconciled', () => {
    const { coverage, woken } = setup();
    expect(coverage.hold('ns/web', 'h1')).toBe(false);
    coverage.end('ns/web');
    expect(woken).toEqual([]);
  });

  it('drops an event held in flight when a look on its host began after it arrived', () => {
    const { coverage, woken, at } = setup();
    coverage.begin('ns/web');
    at(10);
    expect(coverage.hold('ns/web', 'h1')).toBe(true);
    at(20);
    const from = coverage.now();
    coverage.commit('ns/web', 'h1', from);
    coverage.end('ns/web');
    expect(woken).toEqual([]);
  });

  it('wakes the object when the event arrived after (or as) the last look began', () => {
    const { coverage, woken, at } = setup();
    coverage.begin('ns/web');
    at(10);
    coverage.commit('ns/web', 'h1', coverage.now());
    coverage.hold('ns/web', 'h1');
    coverage.end('ns/web');
    at(30);
    coverage.begin('ns/api');
    coverage.commit('ns/api', 'h1', 20);
    coverage.hold('ns/api', 'h1');
    coverage.end('ns/api');
    expect(woken).toEqual(['ns/web', 'ns/api']);
  });

  it('wakes the object when no look was committed on the host (the reconcile threw there)', () => {
    const { coverage, woken, at } = setup();
    coverage.begin('ns/web');
    at(5);
    coverage.hold('ns/web', 'h1');
    coverage.end('ns/web');
    expect(woken).toEqual(['ns/web']);
  });

  it('judges each host apart: a look on one host covers none of another’s events', () => {
    const { coverage, woken, at } = setup();
    coverage.begin('ns/web');
    at(5);
    coverage.hold('ns/web', 'h1');
    coverage.hold('ns/web', 'h2');
    at(9);
    coverage.commit('ns/web', 'h1', coverage.now());
    coverage.end('ns/web');
    expect(woken).toEqual(['ns/web']);
  });

  it('keeps the latest event and the latest look per host', () => {
    const { coverage, woken, at } = setup();
    coverage.begin('ns/web');
    at(5);
    coverage.hold('ns/web', 'h1');
    at(6);
    coverage.commit('ns/web', 'h1', coverage.now());
    at(7);
    coverage.hold('ns/web', 'h1');
    at(8);
    coverage.commit('ns/web', 'h1', 1); // an older look committed late changes nothing
    coverage.end('ns/web');
    expect(woken).toEqual(['ns/web']);
  });

  it('forgets the object when its reconcile ends: the next event is not held', () => {
    const { coverage } = setup();
    coverage.begin('ns/web');
    coverage.end('ns/web');
    expect(coverage.hold('ns/web', 'h1')).toBe(false);
  });
});
