import { describe, expect, it } from 'vitest';
import type { DockerContainerSpec } from '../../crds/dockercontainer.js';
import {
  boundedLogTail,
  demuxDockerLogs,
  LOG_TAIL_BYTES,
  rerunRequested,
  secretNamesOf,
  secretValuesOf,
  withRerun,
} from './run-once.js';

/** One frame of Docker's multiplexed log stream. */
const frame = (stream: 1 | 2, text: string) => {
  const payload = Buffer.from(text, 'utf8');
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
};

describe('rerun (dockyard.io/rerun)', () => {
  it.each<[string, string | undefined, string | undefined, boolean]>([
    ['no annotation', undefined, undefined, false],
    ['a value never seen', '1', undefined, true],
    ['a new value', '2', '1', true],
    ['the value already honoured', '1', '1', false],
    ['annotation removed after a rerun', undefined, '1', false],
  ])('%s', (_name, value, seen, want) => {
    expect(rerunRequested(value, seen)).toBe(want);
  });

  it('the context remembers the value seen, and forgets a removed one', () => {
    const context: { crashes: number; rerun?: string } = { crashes: 0 };
    expect(withRerun(context, '7')).toEqual({ crashes: 0, rerun: '7' });
    expect(withRerun({ ...context, rerun: '7' }, undefined)).toEqual({ crashes: 0 });
  });
});

describe('secretNamesOf', () => {
  it('finds every Secret the spec reads, whatever field reads it', () => {
    const spec = {
      image: 'x',
      env: [
        { name: 'A', value: 'plain' },
        { name: 'B', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
        { name: 'C', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'k' } } },
      ],
      envFrom: [{ secretRef: { name: 'api' } }, { configMapRef: { name: 'cfg2' } }],
      files: [{ path: '/etc/x', secret: { name: 'tls', key: 'key' } }],
    } as unknown as DockerContainerSpec;
    expect(secretNamesOf(spec).sort()).toEqual(['api', 'db', 'tls']);
  });

  it('reads every value of those Secrets', async () => {
    const spec = {
      image: 'x',
      envFrom: [{ secretRef: { name: 'api' } }, { secretRef: { name: 'gone', optional: true } }],
    } as unknown as DockerContainerSpec;
    const reader = {
      secret: (name: string) => Promise.resolve(name === 'api' ? { TOKEN: 't0ken', KEY: 'k' } : undefined),
      configMap: () => Promise.resolve(undefined),
    };
    expect(await secretValuesOf(spec, reader)).toEqual(['t0ken', 'k']);
  });
});

describe('boundedLogTail', () => {
  it.each<[string, string, string[], string]>([
    [
      'short output as it is',
      'migrating\nerror: relation missing\n',
      [],
      'migrating\nerror: relation missing',
    ],
    [
      'a Secret value is redacted',
      'connecting with s3cr3t-pw\nfailed\n',
      ['s3cr3t-pw'],
      'connecting with [REDACTED]\nfailed',
    ],
    ['the longer of overlapping values first', 'key=abcdef\n', ['abc', 'abcdef'], 'key=[REDACTED]'],
    [
      'each line of a multi-line value (a key printed in part)',
      'line two of the key\n',
      ['-----BEGIN-----\nline two of the key\n-----END-----'],
      '[REDACTED]',
    ],
    [
      'only the last 20 lines',
      Array.from({ length: 30 }, (_, i) => `l${i}`).join('\n'),
      [],
      Array.from({ length: 20 }, (_, i) => `l${i + 10}`).join('\n'),
    ],
  ])('%s', (_name, output, secrets, want) => {
    expect(boundedLogTail(output, secrets)).toBe(want);
  });

  it('at most 2 KiB, keeping whole last lines', () => {
    const lines = Array.from({ length: 20 }, (_, i) => `${i}:${'x'.repeat(300)}`);
    const tail = boundedLogTail(lines.join('\n'), []);
    expect(Buffer.byteLength(tail)).toBeLessThanOrEqual(LOG_TAIL_BYTES);
    expect(tail.split('\n')[0]).toMatch(/^\d+:x+$/);
    expect(tail.endsWith(`19:${'x'.repeat(300)}`)).toBe(true);
  });

  it('one line longer than the bound: its end, and no secret split by the cut survives', () => {
    const secret = 'p4ssw0rd-value';
    const tail = boundedLogTail(`${secret}${'é'.repeat(3000)}${secret}`, [secret]);
    expect(Buffer.byteLength(tail)).toBeLessThanOrEqual(LOG_TAIL_BYTES);
    expect(tail).not.toContain('p4ss');
    expect(tail.endsWith('[REDACTED]')).toBe(true);
    expect(tail).not.toContain('\uFFFD');
  });
});

describe('demuxDockerLogs', () => {
  it.each<[string, Buffer, string]>([
    [
      'stdout and stderr frames, in order',
      Buffer.concat([frame(1, 'out\n'), frame(2, 'err\n')]),
      'out\nerr\n',
    ],
    ['a TTY container’s raw output', Buffer.from('raw output\n'), 'raw output\n'],
    ['nothing', Buffer.alloc(0), ''],
  ])('%s', (_name, buf, want) => {
    expect(demuxDockerLogs(buf)).toBe(want);
  });
});
