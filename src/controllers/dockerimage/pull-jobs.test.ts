import { describe, expect, it } from 'vitest';
import { PullJobs, type PullResult, type PullRun } from './pull-jobs.js';

/** A pull the test finishes by hand. */
function manualPull() {
  let finish!: (r: PullResult) => void;
  let signal!: AbortSignal;
  let progress!: (p: { currentBytes: number; totalBytes: number; percent: number }) => void;
  const run: PullRun = (s, onProgress) => {
    signal = s;
    progress = onProgress;
    return new Promise<PullResult>((resolve) => {
      finish = resolve;
    });
  };
  return {
    run,
    finish: (r: PullResult) => finish(r),
    signal: () => signal,
    progress: (p: number) => progress({ currentBytes: p, totalBytes: 100, percent: p }),
  };
}
const ok: PullResult = { ok: true, bytes: 100, durationMs: 5, finishedAt: 0 };
const tick = () => new Promise((r) => setTimeout(r, 0));

describe('PullJobs', () => {
  it('reports progress while running (moving at most every 2 s), then the result once per owner', async () => {
    const settled: string[] = [];
    let now = 0;
    const jobs = new PullJobs({ onSettled: (k) => settled.push(k), now: () => now });
    const pull = manualPull();
    jobs.start('h/img', 'uid-a', 'ns/a', pull.run);
    pull.progress(40);
    const percent = () => {
      const v = jobs.observe('h/img', 'uid-a', 'ns/a');
      return v?.state === 'running' ? v.progress.percent : undefined;
    };
    expect(percent()).toBe(0);
    now = 2_000;
    expect(jobs.observe('h/img', 'uid-a', 'ns/a')).toEqual({
      state: 'running',
      startedAt: 0,
      progress: { currentBytes: 40, totalBytes: 100, percent: 40 },
    });
    pull.progress(70);
    now = 3_000;
    expect(percent()).toBe(40); // looked again too soon: unchanged, so no status write
    now = 4_000;
    expect(percent()).toBe(70);
    pull.finish(ok);
    await tick();
    expect(settled).toEqual(['ns/a']);
    expect(jobs.observe('h/img', 'uid-a', 'ns/a')).toEqual({ state: 'done', result: ok });
    jobs.take('h/img', 'uid-a');
    expect(jobs.observe('h/img', 'uid-a', 'ns/a')).toBeUndefined();
  });

  it('a second owner of the same host+image joins the running pull instead of starting another', async () => {
    const jobs = new PullJobs({ now: () => 0 });
    const first = manualPull();
    let started = 0;
    jobs.start('h/img', 'a', 'ns/a', (s, p) => (started++, first.run(s, p)));
    expect(jobs.observe('h/img', 'b', 'ns/b')?.state).toBe('running');
    jobs.start('h/img', 'b', 'ns/b', () => Promise.reject(new Error('must not run')));
    expect(started).toBe(1);
    first.finish(ok);
    await tick();
    expect(jobs.observe('h/img', 'a', 'ns/a')?.state).toBe('done');
    expect(jobs.observe('h/img', 'b', 'ns/b')?.state).toBe('done');
  });

  it('a run that rejects becomes a PullError result', async () => {
    const jobs = new PullJobs({ now: () => 7 });
    jobs.start('k', 'a', 'ns/a', () => Promise.reject(new Error('boom')));
    await tick();
    expect(jobs.observe('k', 'a', 'ns/a')).toMatchObject({
      state: 'done',
      result: { ok: false, reason: 'PullError', message: 'boom' },
    });
  });

  it('release aborts a pull nobody else waits for, and not one another owner waits for', async () => {
    const jobs = new PullJobs({ now: () => 0 });
    const pull = manualPull();
    jobs.start('k', 'a', 'ns/a', pull.run);
    jobs.observe('k', 'b', 'ns/b');
    const settling = jobs.release('k', 'a');
    expect(settling).toBeInstanceOf(Promise);
    expect(pull.signal().aborted).toBe(false);
    jobs.release('k', 'b');
    expect(pull.signal().aborted).toBe(true);
    pull.finish({ ok: false, reason: 'PullError', message: 'canceled', durationMs: 1, finishedAt: 0 });
    await settling;
    expect(jobs.isRunning('k')).toBe(false);
    expect(jobs.observe('k', 'a', 'ns/a')).toBeUndefined();
    expect(jobs.release('k', 'a')).toBeUndefined();
  });

  it('results nobody takes expire', async () => {
    let now = 0;
    const jobs = new PullJobs({ now: () => now, ttlMs: 1_000 });
    jobs.start('k', 'a', 'ns/a', async () => ({ ...ok, finishedAt: now }));
    await tick();
    now = 2_000;
    expect(jobs.observe('k', 'a', 'ns/a')).toBeUndefined();
  });
});
