// From the runs to the verdict: every project's sides normalised and compared,
// the differences explained by DIFFERENCES.md, the per-key agreement and the
// report. Pure.

import { compareDependsOn, compareObjects, compareUp, type Observation } from './compare.js';
import { explain, type DifferenceRow, type Explained } from './differences.js';
import { normaliseSide, type NormaliseContext } from './normalise.js';
import {
  agreementByKey,
  renderReport,
  verdict,
  type KeyAgreement,
  type ProjectLine,
  type Verdict,
} from './report.js';
import type { ProjectRun } from './run-project.js';
import { fileTargets } from './snapshot.js';

export interface Analysis {
  observations: Observation[];
  keys: KeyAgreement[];
  explained: Explained;
  verdict: Verdict;
  report: string;
}

export function observe(run: ProjectRun): Observation[] {
  const { project: p } = run;
  const dir = p.entry.dir;
  const up = compareUp(dir, run.up.compose, run.up.dockyard);
  if ('error' in run.sides)
    return [
      up,
      { ...up, key: 'project.read', path: 'project.read', dockyard: run.sides.error, agree: false },
    ];
  const ctx: NormaliseContext = { project: p.loaded.project, fileTargets: (s) => fileTargets(p, s) };
  const a = normaliseSide(run.sides.compose, ctx);
  const b = normaliseSide(run.sides.dockyard, ctx);
  const observations = [
    up,
    ...compareObjects(dir, a, b, { bothUp: up.agree }),
    ...compareDependsOn(dir, p.loaded.project, run.sides.compose, run.sides.dockyard),
  ];
  if (up.agree) return observations;
  // A side that did not come up lacks containers; project.up says why, and
  // what follows from the missing ones (their start order, a network's
  // members) is not counted again.
  return observations.filter(
    (o) =>
      o.key !== 'network.Containers' &&
      !(o.key.startsWith('depends_on.') && [o.compose, o.dockyard].some((v) => v?.startsWith('missing'))),
  );
}

export function analyse(
  runs: readonly ProjectRun[],
  rows: readonly DifferenceRow[],
  meta: {
    wallSeconds: number;
    labSeconds: number;
    concurrency: number;
    hostOf: (dir: string) => string;
    /** Problems found before anything ran (corpus.json against the host policy). */
    corpusProblems: string[];
  },
): Analysis {
  const observations = runs.flatMap(observe);
  const keys = agreementByKey(observations);
  const explained = explain(
    observations.filter((o) => !o.agree),
    rows,
  );
  const v = verdict(keys, explained, meta.corpusProblems);
  const projects: ProjectLine[] = runs.map((r) => ({
    dir: r.project.entry.dir,
    host: meta.hostOf(r.project.entry.dir),
    up: r.up,
    compared: !('error' in r.sides),
    seconds: r.timings,
    warnings: r.project.conversion.warnings,
  }));
  const report = renderReport({
    projects,
    keys,
    explained,
    verdict: v,
    wallSeconds: meta.wallSeconds,
    labSeconds: meta.labSeconds,
    concurrency: meta.concurrency,
  });
  return { observations, keys, explained, verdict: v, report };
}
