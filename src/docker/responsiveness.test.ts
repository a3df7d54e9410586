import { describe, expect, it } from 'vitest';
import { nextAction, ResponsivenessGuard, UnresponsiveHostError } from './responsiveness.js';

describe('nextAction', () => {
  const base = { suspectAfterMs: 2_000, probing: false, lastAnswerAt: 0 };
  it.each([
    ['nothing waiting', { now: 10_000, oldestWaitingSince: undefined }, 'wait'],
    ['a young request', { now: 10_000, oldestWaitingSince: 9_000 }, 'wait'],
    [
      'a request waiting past the threshold, no answer since',
      { now: 12_000, oldestWaitingSince: 9_000 },
      'probe',
    ],
    [
      'an old request but a recent answer from the daemon',
      { now: 12_000, oldestWaitingSince: 9_000, lastAnswerAt: 11_500 },
      'wait',
    ],
    [
      'an old request and the last answer is itself old',
      { now: 14_000, oldestWaitingSince: 9_000, lastAnswerAt: 11_500 },
      'probe',
    ],
    ['a probe already running', { now: 20_000, oldestWaitingSince: 9_000, probing: true }, 'wait'],
  ] as const)('%s → %s', (_name, state, expected) => {
    expect(nextAction({ ...base, ...state })).toBe(expected);
  });
});

/** A modem whose requests answer only when the test says so (a daemon that can hang). */
function hangingModem() {
  const pending: Array<(err: unknown, data: unknown) => void> = [];
  return {
    pending,
    dial(_options: unknown, callback: (err: unknown, data: unknown) => void) {
      pending.push(callback);
    },
  };
}

function request(modem: { dial: (o: unknown, cb: (err: unknown, data: unknown) => void) => unknown }) {
  return new Promise((resolve, reject) => modem.dial({}, (err, data) => (err ? reject(err) : resolve(data))));
}

describe('ResponsivenessGuard', () => {
  it('fails waiting and new requests fast when the ping fails, and recovers when it answers', async () => {
    let daemonUp = false;
    const changes: boolean[] = [];
    const guard = new ResponsivenessGuard({
      host: 'n2',
      suspectAfterMs: 40,
      pingTimeoutMs: 20,
      ping: () => (daemonUp ? Promise.resolve('OK') : Promise.reject(new Error('aborted'))),
      onChange: (_host, r) => changes.push(r),
    });
    const modem = hangingModem();
    guard.guard(modem);

    const hung = request(modem);
    await expect(hung).rejects.toBeInstanceOf(UnresponsiveHostError);
    expect(guard.responsive).toBe(false);
    // New requests fail at once, without reaching the daemon.
    const before = modem.pending.length;
    await expect(request(modem)).rejects.toThrow(/n2 is not responding/);
    expect(modem.pending.length).toBe(before);
    // The late answer of the abandoned request is dropped, not delivered twice.
    modem.pending[0]?.(null, 'late');

    daemonUp = true;
    await new Promise((r) => setTimeout(r, 30));
    await expect(request(modem)).rejects.toBeInstanceOf(UnresponsiveHostError); // this one triggers the re-probe
    await new Promise((r) => setTimeout(r, 10));
    expect(guard.responsive).toBe(true);
    const ok = request(modem);
    modem.pending.at(-1)?.(null, 'fine');
    await expect(ok).resolves.toBe('fine');
    expect(changes).toEqual([false, true]);
    guard.close();
  });

  it('keeps waiting on a slow daemon that answers its ping', async () => {
    const guard = new ResponsivenessGuard({
      host: 'n1',
      suspectAfterMs: 20,
      pingTimeoutMs: 20,
      ping: () => Promise.resolve('OK'),
    });
    const modem = hangingModem();
    guard.guard(modem);
    const slow = request(modem);
    await new Promise((r) => setTimeout(r, 120)); // several probe rounds
    modem.pending[0]?.(null, 'done at last');
    await expect(slow).resolves.toBe('done at last');
    expect(guard.responsive).toBe(true);
    guard.close();
  });
});
