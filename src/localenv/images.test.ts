import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { debianMirror, followProgress, splitTag } from './images.js';

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

describe('followProgress', () => {
  const stream = (chunks: string[]) => Readable.from(chunks);

  it.each([
    ['one message a chunk', ['{"status":"a"}\n', '{"status":"b"}\n'], ['a', 'b']],
    ['a message split across chunks', ['{"sta', 'tus":"a"}\n{"status":"b"}\n'], ['a', 'b']],
    ['a last line without newline', ['{"status":"a"}\n{"status":"b"}'], ['a', 'b']],
    ['blank lines skipped', ['\n{"status":"a"}\n\n'], ['a']],
    ['a plain-text line as a status', ['Loaded image: x\n'], ['Loaded image: x']],
  ])('%s', async (_name, chunks, statuses) => {
    const messages = await followProgress(stream(chunks), 'test');
    expect(messages.map((m) => m.status)).toEqual(statuses);
  });

  it('rejects on an error line, even one the stream ends with (Docker answers 200 and reports inside)', async () => {
    await expect(
      followProgress(
        stream(['{"status":"a"}\n{"errorDetail":{"message":"denied"},"error":"denied"}']),
        'push x',
      ),
    ).rejects.toThrow('push x: denied');
  });
});
