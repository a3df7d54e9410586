import { describe, expect, it } from 'vitest';
import { eventActions } from './local-repair.js';

describe('eventActions (what wakes a local repair pass)', () => {
  const line = (action: string) => JSON.stringify({ Type: 'container', Action: action, status: action });

  it('reads the action of each complete line and keeps the incomplete tail', () => {
    const text = `${line('die')}\n${line('destroy')}\n{"Type":"cont`;
    expect(eventActions(text)).toEqual({ actions: ['die', 'destroy'], rest: '{"Type":"cont' });
  });

  it('a line split over two chunks is read once it is whole', () => {
    const whole = `${line('destroy')}\n`;
    const first = eventActions(whole.slice(0, 10));
    expect(first.actions).toEqual([]);
    expect(eventActions(first.rest + whole.slice(10))).toEqual({ actions: ['destroy'], rest: '' });
  });

  it("an older Engine's status field stands in for Action; a garbled line yields nothing", () => {
    expect(eventActions(`{"status":"stop"}\nnot json\n`).actions).toEqual(['stop']);
  });
});
