import { describe, expect, it } from 'vitest';
import { resyncReason, type ResyncReason, type StreamConnect } from './stream-resync.js';

describe('resyncReason', () => {
  it.each<[string, StreamConnect, ResyncReason | undefined]>([
    ['the first connect of a host', { streamConnectedBefore: false, hostConnectedBefore: false }, undefined],
    [
      'the same stream after a drop',
      { streamConnectedBefore: true, hostConnectedBefore: true },
      'reconnected',
    ],
    [
      'a new stream after a stopped one (NotReady, paused, blocked)',
      { streamConnectedBefore: false, hostConnectedBefore: true },
      'restarted',
    ],
  ])('%s → %s', (_what, connect, expected) => {
    expect(resyncReason(connect)).toBe(expected);
  });
});
