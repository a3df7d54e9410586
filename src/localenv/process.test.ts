import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isAlive, listPids, processCmdline, readPid } from './process.js';

describe('readPid', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dockyard-readpid-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['a pid and a newline', '1234\n', 1234],
    ['surrounding blanks', '  42  ', 42],
    ['empty', '', undefined],
    ['not a number', 'dockerd\n', undefined],
    ['zero', '0\n', undefined],
    ['negative', '-5\n', undefined],
  ])('%s', (name, content, expected) => {
    const file = join(dir, name.replace(/\W+/g, '-'));
    writeFileSync(file, content);
    expect(readPid(file)).toBe(expected);
  });

  it('a missing file', () => {
    expect(readPid(join(dir, 'missing.pid'))).toBeUndefined();
  });
});

describe('processes by pid', () => {
  it('sees this process through /proc, and lists every other one but not itself', () => {
    expect(processCmdline(process.pid)?.[0]).toBe(process.argv[0]);
    expect(isAlive(process.pid)).toBe(true);
    expect(listPids()).not.toContain(process.pid);
    expect(listPids()).toContain(process.ppid);
  });

  it('a pid no process has', () => {
    // Above the largest pid Linux hands out (pid_max is at most 2^22).
    const unused = 2 ** 22 + 1;
    expect(processCmdline(unused)).toBeUndefined();
    expect(isAlive(unused)).toBe(false);
  });
});
