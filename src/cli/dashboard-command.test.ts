import { describe, expect, it } from 'vitest';
import { isLoopback, parseListen } from './dashboard-command.js';

describe('dockyard dashboard --listen', () => {
  it.each([
    ['127.0.0.1:8420', { host: '127.0.0.1', port: 8420 }],
    [':0', { host: '127.0.0.1', port: 0 }],
    ['[::1]:9000', { host: '::1', port: 9000 }],
    ['0.0.0.0:80', { host: '0.0.0.0', port: 80 }],
  ])('%s', (value, expected) => {
    expect(parseListen(value)).toEqual(expected);
  });

  it.each(['8420', 'host', 'h:99999', '[::1]'])('refuses %s', (value) => {
    expect(() => parseListen(value)).toThrow(/host:port/);
  });

  it('knows loopback from the rest', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1', 'localhost'].map(isLoopback)).toEqual([true, true, true, true]);
    expect(['0.0.0.0', '10.0.0.5', '::', 'example.com'].map(isLoopback)).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });
});
