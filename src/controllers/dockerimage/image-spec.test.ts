import { describe, expect, it } from 'vitest';
import type { DockerImage } from '../../crds/dockerimage.js';
import {
  DEFAULT_REFRESH_INTERVAL_MS,
  describeProgress,
  formatBytes,
  imageRefOf,
  isPinned,
  parseDuration,
  refreshIntervalMs,
  retryDelayMs,
} from './image-spec.js';

const image = (spec: Partial<DockerImage['spec']>): DockerImage => ({
  apiVersion: 'dockyard.io/v1alpha1',
  kind: 'DockerImage',
  metadata: { name: 'i', namespace: 'ns' },
  spec: { image: 'busybox', hostName: 'h', ...spec },
});

describe('parseDuration', () => {
  it.each([
    ['5s', 5_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1_500],
    ['250ms', 250],
    ['2h', 7_200_000],
  ])('%s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });
  it.each(['', '5', 's', '5x', '5s garbage'])('refuses %j', (text) => {
    expect(() => parseDuration(text)).toThrow(/invalid duration/);
  });
});

describe('refreshIntervalMs', () => {
  it.each([
    [undefined, DEFAULT_REFRESH_INTERVAL_MS],
    ['5s', 5_000],
    ['100ms', 1_000],
    ['bogus', DEFAULT_REFRESH_INTERVAL_MS],
  ])('%s', (refreshInterval, ms) => {
    expect(refreshIntervalMs(image(refreshInterval ? { refreshInterval } : {}))).toBe(ms);
  });
});

describe('retryDelayMs (exponential, capped at 5 min)', () => {
  it.each([
    [0, 0],
    [1, 5_000],
    [2, 10_000],
    [3, 20_000],
    [6, 160_000],
    [7, 300_000],
    [1000, 300_000],
  ])('after %i failures: %i ms', (failures, ms) => {
    expect(retryDelayMs(failures)).toBe(ms);
  });
});

describe('names and messages', () => {
  it('the Docker name of the image is its familiar reference with the tag', () => {
    expect(imageRefOf(image({ image: 'docker.io/library/busybox' }))).toBe('busybox:latest');
    expect(isPinned(`busybox@sha256:${'a'.repeat(64)}`)).toBe(true);
    expect(isPinned('busybox:1')).toBe(false);
  });
  it('formats bytes and progress', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(3 * 1024 * 1024)).toBe('3.0 MiB');
    expect(describeProgress('a:1', { currentBytes: 1024, totalBytes: 4096, percent: 25 })).toBe(
      'pulling a:1: 25% (1.0 KiB of 4.0 KiB)',
    );
    expect(describeProgress('a:1', undefined)).toBe('pulling a:1');
  });
});
