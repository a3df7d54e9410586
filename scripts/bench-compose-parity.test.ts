import { describe, expect, it } from 'vitest';
import { parityRows, parseParitySummary } from '../bench/scenarios/compose-parity.js';

const LINE =
  '[compose-parity] 47 of 47 projects, 9816 values over 126 keys; 20 documented differences, 0 undocumented, ' +
  '0 stale rows, 0 keys below their bar; 296 s for the corpus after 9 s of lab start. Report: test-results/compose-parity.md';

describe('compose-parity bench scenario', () => {
  it("reads the test's summary line", () => {
    expect(parseParitySummary(`noise\n${LINE}\nmore`)).toEqual({
      projects: 47,
      corpus: 47,
      values: 9816,
      keys: 126,
      documented: 20,
      undocumented: 0,
      stale: 0,
      keysBelowBar: 0,
      corpusSeconds: 296,
      labSeconds: 9,
    });
    expect(parseParitySummary('the test crashed before its summary')).toBeUndefined();
  });

  it('fails the rows an undocumented difference, a subset or a failed test would fail', () => {
    const summary = parseParitySummary(LINE)!;
    expect(parityRows(summary, true).every((r) => r.pass !== false)).toBe(true);
    const failing = parityRows({ ...summary, projects: 27, undocumented: 2 }, false);
    expect(failing.filter((r) => r.pass === false).map((r) => r.metric)).toEqual([
      'Projects run (of the corpus)',
      'Undocumented differences',
      'Test verdict',
    ]);
  });
});
