import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildOnce, lockState, pidAlive, type LockState } from './build-lock.js';

describe('lockState', () => {
  const alive = new Set([100]);
  const cases: Array<{ name: string; content: string; ageMs: number; want: LockState }> = [
    { name: 'a live holder', content: '100\n', ageMs: 3_600_000, want: 'held' },
    { name: 'a dead holder', content: '200\n', ageMs: 5, want: 'stale' },
    { name: 'created, pid not written yet', content: '', ageMs: 5, want: 'held' },
    {
      name: 'empty for long: its creator died between open and write',
      content: '',
      ageMs: 60_000,
      want: 'stale',
    },
    { name: 'garbage for long', content: 'x', ageMs: 60_000, want: 'stale' },
  ];
  it.each(cases)('$name: $want', ({ content, ageMs, want }) => {
    expect(lockState({ content, ageMs }, (pid) => alive.has(pid))).toBe(want);
  });
});

describe('pidAlive', () => {
  it('is true for this process and false for one that exited', () => {
    const exited = spawnSync(process.execPath, ['-e', '']).pid;
    expect(pidAlive(process.pid)).toBe(true);
    expect(pidAlive(exited)).toBe(false);
  });
});

describe('buildOnce', () => {
  let dir: string;
  let target: string;
  let lockPath: string;
  let builds: number;
  const build = async () => {
    builds++;
    await new Promise((r) => setTimeout(r, 50));
    writeFileSync(target, 'binary');
  };
  const opts = () => ({ target, lockPath, what: 'tool', build, pollMs: 10 });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'build-lock-'));
    target = join(dir, 'tool');
    lockPath = join(dir, '.lock');
    builds = 0;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('builds once for parallel callers; the others wait and reuse it', async () => {
    await Promise.all([buildOnce(opts()), buildOnce(opts()), buildOnce(opts())]);
    expect(builds).toBe(1);
    expect(existsSync(target)).toBe(true);
    expect(existsSync(lockPath)).toBe(false);
  });

  it('does not build what is there', async () => {
    writeFileSync(target, 'binary');
    await buildOnce(opts());
    expect(builds).toBe(0);
  });

  it('takes over a lock whose holder died', async () => {
    writeFileSync(lockPath, `${spawnSync(process.execPath, ['-e', '']).pid}\n`);
    await buildOnce(opts());
    expect(builds).toBe(1);
    expect(existsSync(lockPath)).toBe(false);
  });

  it('gives up after the timeout while a live holder builds, naming the lock', async () => {
    writeFileSync(lockPath, `${process.pid}\n`);
    await expect(buildOnce({ ...opts(), timeoutMs: 30 })).rejects.toThrow(/\.lock; remove it/);
    expect(builds).toBe(0);
  });

  it('releases the lock when the build fails, so the next caller builds', async () => {
    const failing = () => Promise.reject(new Error('go build failed'));
    await expect(buildOnce({ ...opts(), build: failing })).rejects.toThrow('go build failed');
    expect(existsSync(lockPath)).toBe(false);
    await buildOnce(opts());
    expect(builds).toBe(1);
  });

  it('with several targets, builds while any is missing and not once all are there', async () => {
    const other = join(dir, 'other');
    writeFileSync(other, 'binary');
    await buildOnce({ ...opts(), target: [other, target] });
    expect(builds).toBe(1);
    await buildOnce({ ...opts(), target: [other, target] });
    expect(builds).toBe(1);
  });
});
