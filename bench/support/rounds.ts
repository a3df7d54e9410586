// Ratios that survive noise: the baseline and Dockyard run in alternating
// rounds (direct, Dockyard, direct, Dockyard, …) and the target is judged on
// the median of the rounds' ratios, with their spread beside it. Pure.

import { median } from './stats.js';

export interface RoundTimes {
  /** Seconds the baseline (direct dockerode) took in this round. */
  directSeconds: number;
  /** Seconds Dockyard took in this round. */
  dockyardSeconds: number;
}

export interface RoundsSummary {
  /** Dockyard / direct per round, in round order (undefined where direct took 0 s). */
  ratios: Array<number | undefined>;
  medianRatio: number | undefined;
  minRatio: number | undefined;
  maxRatio: number | undefined;
  /**
   * Index of the round whose ratio is the median (with an even count, the
   * one of the two middle rounds closer to the median, the earlier on a tie):
   * where the single-round figures are taken from.
   */
  medianRound: number | undefined;
}

export function summarizeRounds(rounds: readonly RoundTimes[]): RoundsSummary {
  const ratios = rounds.map((r) => (r.directSeconds > 0 ? r.dockyardSeconds / r.directSeconds : undefined));
  const known = ratios.filter((r): r is number => r !== undefined);
  const medianRatio = median(known);
  let medianRound: number | undefined;
  if (medianRatio !== undefined) {
    let best = Infinity;
    ratios.forEach((r, i) => {
      // A tie (within rounding) keeps the earlier round.
      const distance = r === undefined ? Infinity : Math.abs(r - medianRatio);
      if (distance < best - 1e-9) {
        best = distance;
        medianRound = i;
      }
    });
  }
  return {
    ratios,
    medianRatio,
    minRatio: known.length > 0 ? Math.min(...known) : undefined,
    maxRatio: known.length > 0 ? Math.max(...known) : undefined,
    medianRound,
  };
}

/** "1.02–1.12" (or "n/a"), for a table row. */
export function spreadText(s: RoundsSummary): string {
  return s.minRatio === undefined || s.maxRatio === undefined
    ? 'n/a'
    : `${s.minRatio.toFixed(2)}–${s.maxRatio.toFixed(2)}`;
}
