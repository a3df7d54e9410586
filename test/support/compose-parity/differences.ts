// test/compose/DIFFERENCES.md: the differences between docker compose and
// Dockyard that remain, each with its reason, as a markdown table the parity
// test reads. A difference no row covers fails the test; so does a row that
// covers nothing any more (stale).

import { readFileSync } from 'node:fs';
import type { Observation } from './compare.js';

export interface DifferenceRow {
  /** Line in the file, for messages. */
  line: number;
  /** `container.Config.Domainname`; `*` matches any run of characters. */
  pattern: string;
  /** Project folders, or undefined for every project (`*`). */
  projects: string[] | undefined;
  reason: string;
}

const HEADER = ['key path pattern', 'projects', 'reason'];

const cells = (line: string) =>
  line
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split(/(?<!\\)\|/)
    .map((c) => c.trim().replace(/\\\|/g, '|'));

const unquote = (s: string) => s.replace(/^`(.*)`$/, '$1');

/** The first table whose header is `key path pattern | projects | reason`. */
export function parseDifferences(text: string): DifferenceRow[] {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => {
    const c = cells(l).map((x) => x.toLowerCase());
    return l.trim().startsWith('|') && HEADER.every((h, i) => c[i] === h);
  });
  if (start < 0) throw new Error(`DIFFERENCES.md: no table with the columns ${HEADER.join(' | ')}`);
  const rows: DifferenceRow[] = [];
  for (let i = start + 2; i < lines.length && lines[i]?.trim().startsWith('|'); i++) {
    const [pattern = '', projects = '', reason = ''] = cells(lines[i] as string);
    if (!pattern || !reason)
      throw new Error(`DIFFERENCES.md line ${i + 1}: a row needs a key path pattern and a reason`);
    const list = projects
      .split(',')
      .map((p) => unquote(p.trim()))
      .filter(Boolean);
    rows.push({
      line: i + 1,
      pattern: unquote(pattern),
      projects: list.length === 0 || list.includes('*') ? undefined : list,
      reason,
    });
  }
  return rows;
}

export function readDifferences(path: string): DifferenceRow[] {
  return parseDifferences(readFileSync(path, 'utf8'));
}

function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

export function rowMatches(row: DifferenceRow, o: Observation): boolean {
  return (!row.projects || row.projects.includes(o.project)) && globToRegExp(row.pattern).test(o.key);
}

export interface Explained {
  /** Differences and the rows that explain them. */
  documented: Array<{ observation: Observation; row: DifferenceRow }>;
  /** Differences no row explains. */
  undocumented: Observation[];
  /** Rows that explain no observed difference (or none in one of the projects they list). */
  stale: Array<{ row: DifferenceRow; why: string }>;
}

export function explain(differences: readonly Observation[], rows: readonly DifferenceRow[]): Explained {
  const documented: Explained['documented'] = [];
  const undocumented: Observation[] = [];
  for (const o of differences) {
    const row = rows.find((r) => rowMatches(r, o));
    if (row) documented.push({ observation: o, row });
    else undocumented.push(o);
  }
  const stale: Explained['stale'] = [];
  for (const row of rows) {
    const hits = documented.filter((d) => d.row === row).map((d) => d.observation.project);
    if (hits.length === 0) stale.push({ row, why: 'no observed difference matches it' });
    for (const p of row.projects ?? []) {
      if (hits.length > 0 && !hits.includes(p)) stale.push({ row, why: `${p} has no such difference` });
    }
  }
  return { documented, undocumented, stale };
}
