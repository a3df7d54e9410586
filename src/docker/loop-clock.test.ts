import { afterEach, describe, expect, it } from 'vitest';
import { LoopClock } from './loop-clock.js';

describe('LoopClock', () => {
  let clock: LoopClock | undefined;
  afterEach(() => clock?.stop());

  function manual() {
    let wall = 1_000;
    clock = new LoopClock({ tickMs: 100, maxStepMs: 200, wallNow: () => wall });
    clock.now(); // starts it (its own ticker is stopped below: the test ticks by hand)
    clock.stop();
    return { clock, advance: (ms: number) => (wall += ms) };
  }

  it('follows wall time while the loop ticks on time', () => {
    const { clock, advance } = manual();
    const start = clock.now();
    for (let i = 0; i < 10; i++) {
      advance(100);
      clock.tick();
    }
    expect(clock.now() - start).toBe(1_000);
  });

  it('counts a stalled loop as at most maxStepMs per tick', () => {
    const { clock, advance } = manual();
    const start = clock.now();
    advance(5_000); // the loop was busy for 5 s
    clock.tick();
    expect(clock.now() - start).toBe(200);
  });

  it('aborts a timeout once enough usable time has passed, not when wall time has', () => {
    const { clock, advance } = manual();
    const signal = clock.timeout(500);
    advance(3_000);
    clock.tick(); // one late tick: 200 ms usable
    expect(signal.aborted).toBe(false);
    for (let i = 0; i < 3; i++) {
      advance(100);
      clock.tick();
    }
    expect(signal.aborted).toBe(true);
    expect((signal.reason as DOMException).name).toBe('TimeoutError');
  });

  it('ticks by itself with real timers', async () => {
    clock = new LoopClock({ tickMs: 10 });
    const signal = clock.timeout(30);
    await new Promise((r) => setTimeout(r, 120));
    expect(signal.aborted).toBe(true);
  });
});
