import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BootstrapError, parseHostPort, readBootstrap } from './bootstrap.js';

const VALUES = {
  'host-name': 'edge-1',
  token: 'tok',
  'ca.crt': '-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----',
  endpoint: 'agents.example.com:443',
  'server-name': 'agents.example.com',
};
const EXPECTED = {
  hostName: 'edge-1',
  token: 'tok',
  caPem: VALUES['ca.crt'],
  endpoint: { host: 'agents.example.com', port: 443 },
  serverName: 'agents.example.com',
};

const temps: string[] = [];
const temp = () => {
  const dir = mkdtempSync(join(tmpdir(), 'bootstrap-'));
  temps.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

describe('readBootstrap', () => {
  it('reads `kubectl get secret -o json` output (base64 under data)', () => {
    const file = join(temp(), 'bootstrap.json');
    const data = Object.fromEntries(
      Object.entries(VALUES).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
    );
    writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'Secret', data }));
    expect(readBootstrap(file)).toEqual(EXPECTED);
  });

  it('reads a mounted Secret: one file per key, trailing newlines ignored', () => {
    const dir = join(temp(), 'mounted');
    mkdirSync(dir);
    for (const [k, v] of Object.entries(VALUES)) writeFileSync(join(dir, k), `${v}\n`);
    expect(readBootstrap(dir)).toEqual(EXPECTED);
  });

  it.each([
    ['a missing path', (d: string) => join(d, 'nope'), /no such file or directory/],
    [
      'a file that is not JSON',
      (d: string) => (writeFileSync(join(d, 'x'), 'token: a'), join(d, 'x')),
      /not a Secret in JSON/,
    ],
    [
      'a Secret without a token',
      (d: string) => (writeFileSync(join(d, 'y'), JSON.stringify({ data: {} })), join(d, 'y')),
      /has no host-name/,
    ],
    ['a directory without the keys', (d: string) => d, /no host-name/],
  ])('names the problem for %s', (_what, make, message) => {
    const path = make(temp());
    expect(() => readBootstrap(path)).toThrow(BootstrapError);
    expect(() => readBootstrap(path)).toThrow(message);
  });
});

describe('parseHostPort', () => {
  it.each([
    ['10.0.0.5:9443', { host: '10.0.0.5', port: 9443 }],
    ['[fd00::1]:443', { host: 'fd00::1', port: 443 }],
    ['agents.example.com:443', { host: 'agents.example.com', port: 443 }],
  ])('%s', (value, expected) => {
    expect(parseHostPort(value)).toEqual(expected);
  });

  it.each(['agents.example.com', ':443', 'h:0', 'h:70000', 'fd00::1:443'])('refuses %s', (value) => {
    expect(() => parseHostPort(value)).toThrow(BootstrapError);
  });
});
