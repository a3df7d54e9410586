import { describe, expect, it } from 'vitest';
import { debianMirror, splitTag } from './images.js';

describe('splitTag', () => {
  it.each([
    ['busybox', ['busybox', 'latest']],
    ['busybox:1.36', ['busybox', '1.36']],
    ['dockyard.local/busybox:1.36', ['dockyard.local/busybox', '1.36']],
    ['127.0.0.1:5000/dockyard/busybox', ['127.0.0.1:5000/dockyard/busybox', 'latest']],
    ['127.0.0.1:5000/dockyard/busybox:1.36-alt', ['127.0.0.1:5000/dockyard/busybox', '1.36-alt']],
  ])('%s', (image, expected) => {
    expect(splitTag(image)).toEqual(expected);
  });
});

describe('debianMirror', () => {
  it.each([
    [
      'deb822 with security second',
      'Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm\n\nTypes: deb\nURIs: http://mirror.example/debian-security\n',
      'http://mirror.example/debian',
    ],
    [
      'deb822 with security first',
      'URIs: http://m/debian-security\n\nURIs: http://m/debian\n',
      'http://m/debian',
    ],
    ['one-line sources.list', 'deb [arch=amd64] http://m/debian bookworm main\n', 'http://m/debian'],
    ['only security', 'URIs: http://m/debian-security\n', undefined],
    ['empty', '', undefined],
  ])('%s', (_name, text, expected) => {
    expect(debianMirror(text)).toBe(expected);
  });
});
