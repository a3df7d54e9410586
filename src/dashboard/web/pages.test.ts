import { describe, expect, it } from 'vitest';
import { capRows, ROW_LIMIT } from './pages.js';

describe('capRows', () => {
  const rows = Array.from({ length: ROW_LIMIT + 20 }, (_, i) => ({ i, failing: i >= ROW_LIMIT + 10 }));

  it('keeps every row, in order, up to the limit', () => {
    const few = rows.slice(0, 30);
    expect(capRows(few, (r) => r.failing)).toEqual(few);
  });

  it('past the limit draws ROW_LIMIT rows with those needing attention first, so none is hidden', () => {
    const shown = capRows(rows, (r) => r.failing);
    expect(shown).toHaveLength(ROW_LIMIT);
    expect(shown.slice(0, 10).every((r) => r.failing)).toBe(true);
    expect(shown.slice(10).map((r) => r.i)).toEqual(Array.from({ length: ROW_LIMIT - 10 }, (_, i) => i));
  });
});
