import { describe, expect, it } from 'vitest';
import {
  parseByteQuantity,
  parseCpuQuantity,
  parseDuration,
  parseDurationSeconds,
  QuantityError,
} from './quantities.js';

describe('parseByteQuantity', () => {
  it.each([
    ['0', 0],
    ['1048576', 1_048_576],
    ['100k', 100_000],
    ['500M', 500_000_000],
    ['2G', 2_000_000_000],
    ['1T', 1e12],
    ['1Ki', 1024],
    ['256Mi', 268_435_456],
    ['1Gi', 1_073_741_824],
    ['1.5Gi', 1_610_612_736],
    ['0.5Ki', 512],
    ['1.1', 2], // fractions of a byte round up, as Kubernetes does
    ['0.0001k', 1],
    ['4Ti', 4 * 1024 ** 4],
    ['2Pi', 2 * 1024 ** 5],
    [' 64Mi ', 67_108_864],
  ])('%s → %d bytes', (input, bytes) => {
    expect(parseByteQuantity(input)).toBe(bytes);
  });

  it.each(['', 'Mi', '-1Mi', '1mi', '1m', '1 Mi', '1.Mi', '.5Mi', '1e3', '1MB', '0x10'])(
    'refuses %j',
    (input) => {
      expect(() => parseByteQuantity(input)).toThrow(QuantityError);
      expect(() => parseByteQuantity(input)).toThrow(/invalid byte quantity/);
    },
  );

  it('refuses what a JavaScript number cannot hold exactly', () => {
    expect(() => parseByteQuantity('8Ei')).toThrow(/too large/);
  });
});

describe('parseCpuQuantity', () => {
  it.each([
    ['0', 0],
    ['1m', 1_000_000],
    ['10m', 10_000_000],
    ['500m', 500_000_000],
    ['1500m', 1_500_000_000],
    ['1', 1_000_000_000],
    ['2', 2_000_000_000],
    ['0.5', 500_000_000],
    ['1.5', 1_500_000_000],
    ['0.001', 1_000_000],
    ['0.125', 125_000_000],
    ['0.000000001', 1],
  ])('%s → %d NanoCpus', (input, nanos) => {
    expect(parseCpuQuantity(input)).toBe(nanos);
  });

  it.each(['', 'm', '1.5m', '-1', '1c', '.5', '1.', '0.0000000001', '1e2'])('refuses %j', (input) => {
    expect(() => parseCpuQuantity(input)).toThrow(QuantityError);
  });
});

describe('parseDuration', () => {
  it.each([
    ['0s', 0],
    ['1ns', 1],
    ['250us', 250_000],
    ['250µs', 250_000],
    ['250ms', 250_000_000],
    ['1s', 1e9],
    ['30s', 30e9],
    ['1.5s', 1.5e9],
    ['0.1s', 100_000_000],
    ['5m', 300e9],
    ['1m30s', 90e9],
    ['1h', 3600e9],
    ['1h30m', 5400e9],
    ['1.5h', 5400e9],
    ['2h45m30s500ms', (2 * 3600 + 45 * 60 + 30.5) * 1e9],
  ])('%s → %d ns', (input, ns) => {
    expect(parseDuration(input)).toBe(ns);
  });

  it.each(['', '30', 's', '1d', '-1s', '1s30', '1 s', '1.s', '0.5ns', '1m 30s', '1sx'])(
    'refuses %j',
    (input) => {
      expect(() => parseDuration(input)).toThrow(QuantityError);
    },
  );
});

describe('parseDurationSeconds', () => {
  it.each([
    ['0s', 0],
    ['10s', 10],
    ['1m', 60],
    ['1m30s', 90],
    ['1500ms', 2], // rounds up: never less grace than asked for
    ['1ns', 1],
    ['2s', 2],
  ])('%s → %d s', (input, seconds) => {
    expect(parseDurationSeconds(input)).toBe(seconds);
  });

  it('refuses what parseDuration refuses', () => {
    expect(() => parseDurationSeconds('ten seconds')).toThrow(/invalid duration/);
  });
});
