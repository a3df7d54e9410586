import { describe, expect, it } from 'vitest';
import { contains, parseAddress, parseCidr } from './cidr.js';
import { parseDockerSize } from './log-policy.js';

describe('parseCidr / contains', () => {
  it.each([
    ['10.231.0.0/16', '10.231.1.0/24', true],
    ['10.231.0.0/16', '10.231.0.0/16', true],
    ['10.231.0.0/16', '10.231.255.128/25', true],
    ['10.231.0.0/16', '10.232.0.0/24', false],
    ['10.231.0.0/16', '10.0.0.0/8', false],
    ['10.231.0.0/16', '10.231.0.0/15', false],
    ['10.231.5.9/16', '10.231.7.0/24', true],
    ['0.0.0.0/0', '192.168.1.0/24', true],
    ['fd00:231::/48', 'fd00:231:0:1::/64', true],
    ['fd00:231::/48', 'fd00:231:1::/64', false],
    ['fd00:231::/48', '10.231.0.0/24', false],
    ['10.231.0.0/16', 'fd00:231::/64', false],
    ['::/0', '2001:db8::/32', true],
  ])('%s contains %s: %s', (outer, inner, expected) => {
    const o = parseCidr(outer);
    const i = parseCidr(inner);
    expect(o && i && contains(o, i)).toBe(expected);
  });

  it.each([
    '10.231.1.256/24',
    '10.231.1/24',
    '010.1.1.1/8',
    '10.1.1.1/33',
    '10.1.1.1/',
    '10.1.1.1',
    'fd00::1::/64',
    'fd00:::/64',
    '::ffff:10.1.1.1/128',
    'fd00:231::/129',
    'g::/64',
    '1:2:3:4:5:6:7:8:9/64',
  ])('refuses %s', (text) => {
    expect(parseCidr(text)).toBeUndefined();
  });

  it('reads addresses as single-address networks', () => {
    expect(parseAddress('10.231.1.1')).toEqual({ family: 4, address: 0x0ae70101n, prefix: 32 });
    expect(parseAddress('::1')).toEqual({ family: 6, address: 1n, prefix: 128 });
    expect(parseAddress('1:2:3:4:5:6:7:8')?.address).toBe(0x00010002000300040005000600070008n);
    expect(parseAddress('localhost')).toBeUndefined();
  });
});

describe('parseDockerSize (go-units RAMInBytes, as the log drivers read it)', () => {
  it.each([
    ['10m', 10 * 1024 ** 2],
    ['10M', 10 * 1024 ** 2],
    ['100MiB', 100 * 1024 ** 2],
    ['1.5g', 1.5 * 1024 ** 3],
    ['512k', 512 * 1024],
    ['2048', 2048],
    ['10 mb', 10 * 1024 ** 2],
    ['1t', 1024 ** 4],
    ['-1', undefined],
    ['', undefined],
    ['10x', undefined],
    ['1.2.3m', undefined],
  ])('%s → %s', (text, bytes) => {
    expect(parseDockerSize(text)).toBe(bytes);
  });
});
