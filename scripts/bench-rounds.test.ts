import { describe, expect, it } from 'vitest';
import { parseBenchArgs } from '../bench/support/options.js';
import { spreadText, summarizeRounds } from '../bench/support/rounds.js';

// Alternating rounds: the ratio is judged on the median of the rounds'
// ratios, and the single-round figures come from the median round.

describe('summarizeRounds', () => {
  it('takes the median ratio, its spread and the round it came from', () => {
    const s = summarizeRounds([
      { directSeconds: 10, dockyardSeconds: 12 },
      { directSeconds: 10, dockyardSeconds: 10.5 },
      { directSeconds: 20, dockyardSeconds: 21.8 },
    ]);
    expect(s.ratios).toEqual([1.2, 1.05, 1.09]);
    expect(s.medianRatio).toBeCloseTo(1.09);
    expect(s).toMatchObject({ minRatio: 1.05, maxRatio: 1.2, medianRound: 2 });
    expect(spreadText(s)).toBe('1.05–1.20');
  });

  it('with an even count: the interpolated median, the earlier middle round on a tie', () => {
    const s = summarizeRounds([
      { directSeconds: 10, dockyardSeconds: 11 },
      { directSeconds: 10, dockyardSeconds: 13 },
    ]);
    expect(s.medianRatio).toBeCloseTo(1.2);
    expect(s.medianRound).toBe(0);
  });

  it('one round is its own median; a direct time of 0 gives no ratio', () => {
    expect(summarizeRounds([{ directSeconds: 4, dockyardSeconds: 4.4 }])).toMatchObject({
      medianRound: 0,
      minRatio: 1.1,
      maxRatio: 1.1,
    });
    const none = summarizeRounds([{ directSeconds: 0, dockyardSeconds: 1 }]);
    expect(none).toMatchObject({ ratios: [undefined], medianRatio: undefined, medianRound: undefined });
    expect(spreadText(none)).toBe('n/a');
  });
});

describe('--rounds', () => {
  it('defaults to 3 and wants at least 1', () => {
    expect(parseBenchArgs([]).rounds).toBe(3);
    expect(parseBenchArgs(['--rounds=1']).rounds).toBe(1);
    expect(() => parseBenchArgs(['--rounds=0'])).toThrow('--rounds wants a whole number ≥ 1');
  });
});
