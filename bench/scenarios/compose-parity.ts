// Compose parity over the whole corpus: `npm test` runs the part of the
// corpus that exercises every feature of it (test/support/compose-parity/
// cover.ts); this runs the same test file on all 47 projects
// (COMPOSE_PARITY_FULL=1), in its own environment as the test starts it, and
// reports what its summary line says. The test's own verdict (every key at
// its bar, no undocumented difference, no stale DIFFERENCES.md row) is the
// target.

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/controller.js';
import { withDeadline } from '../support/deadline.js';
import type { Row, ScenarioResult } from '../support/report.js';

const TEST_FILE = 'test/integration/compose-parity.test.ts';
/** The test's own bound is 15 min for the corpus plus its lab start; a stuck run fails here, named. */
const RUN_DEADLINE_MS = 30 * 60_000;

/** The figures of the test's `[compose-parity] …` summary line, in the order it prints them. */
const FIELDS = [
  'projects',
  'corpus',
  'values',
  'keys',
  'documented',
  'undocumented',
  'stale',
  'keysBelowBar',
  'corpusSeconds',
  'labSeconds',
] as const;
export type ParitySummary = Record<(typeof FIELDS)[number], number>;

const SUMMARY =
  /\[compose-parity\] (\d+) of (\d+) projects, (\d+) values over (\d+) keys; (\d+) documented differences, (\d+) undocumented, (\d+) stale rows, (\d+) keys below their bar; (\d+) s for the corpus after (\d+) s of lab start/;

export function parseParitySummary(output: string): ParitySummary | undefined {
  const m = SUMMARY.exec(output);
  return m ? (Object.fromEntries(FIELDS.map((f, i) => [f, Number(m[i + 1])])) as ParitySummary) : undefined;
}

export function parityRows(s: ParitySummary, passed: boolean): Row[] {
  return [
    {
      metric: 'Projects run (of the corpus)',
      value: `${s.projects} of ${s.corpus}`,
      target: 'all',
      pass: s.projects === s.corpus,
    },
    { metric: 'Values compared, over keys', value: `${s.values} over ${s.keys}` },
    { metric: 'Documented differences (DIFFERENCES.md rows matched)', value: s.documented },
    { metric: 'Undocumented differences', value: s.undocumented, target: '0', pass: s.undocumented === 0 },
    { metric: 'Stale DIFFERENCES.md rows', value: s.stale, target: '0', pass: s.stale === 0 },
    { metric: 'Keys below their bar', value: s.keysBelowBar, target: '0', pass: s.keysBelowBar === 0 },
    { metric: 'Corpus run (both sides, 6 projects at a time)', value: s.corpusSeconds, unit: 's' },
    { metric: 'Test verdict', value: passed ? 'passed' : 'failed', target: 'passed', pass: passed },
  ];
}

function runVitest(
  log: (m: string) => void,
  signal: AbortSignal,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    // vitest's own entry under this Node (not npx), so the deadline's SIGTERM reaches it.
    const vitest = join(REPO_ROOT, 'node_modules/vitest/vitest.mjs');
    const child = spawn(process.execPath, [vitest, 'run', '--project', 'integration-alone', TEST_FILE], {
      cwd: REPO_ROOT,
      env: { ...process.env, COMPOSE_PARITY_FULL: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      signal,
    });
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      for (const line of chunk.toString().split('\n'))
        if (line.includes('[compose-parity]')) log(line.trim());
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    // An abort (the deadline) rejects through withDeadline already.
    child.on('error', (err) => (signal.aborted ? undefined : reject(err)));
    child.on('close', (code) => resolve({ code, output }));
  });
}

export async function composeParity(log: (m: string) => void): Promise<ScenarioResult> {
  const startedAt = new Date();
  log(`[compose-parity] ${TEST_FILE} over the whole corpus (COMPOSE_PARITY_FULL=1)`);
  const { code, output } = await withDeadline((signal) => runVitest(log, signal), {
    call: `vitest run ${TEST_FILE}`,
    ms: RUN_DEADLINE_MS,
  });
  const summary = parseParitySummary(output);
  if (!summary)
    throw new Error(
      `${TEST_FILE} printed no summary line (exit ${code}); its output ends:\n${output.slice(-3000)}`,
    );
  return {
    scenario: 'compose-parity',
    title: `Compose parity over the whole corpus (${summary.corpus} projects)`,
    parameters: { corpus: summary.corpus },
    rows: parityRows(summary, code === 0),
    data: { summary, exitCode: code },
    notes: [
      '`npm test` runs the part of the corpus that exercises every feature of it (test/support/compose-parity/cover.ts); this is the same test over every project. The report is test-results/compose-parity.md.',
    ],
    startedAt: startedAt.toISOString(),
    durationSeconds: (Date.now() - startedAt.getTime()) / 1000,
  };
}
