// One corpus project on both sides: `docker compose up -d --wait` on node A
// and the converted manifests on node B at the same time, both read back, then
// both torn down (so a project claiming the same host ports can follow).

import type Dockerode from 'dockerode';
import type { Kube } from '../kube.js';
import { composeDown, composeUp, type ComposeTarget } from './compose-side.js';
import type { PreparedProject } from './corpus.js';
import { dockyardDown, dockyardUp } from './dockyard-side.js';
import { composeSide, dockyardSide, type Side } from './snapshot.js';

export interface ProjectRun {
  project: PreparedProject;
  /** `up`, or why that side did not come up. */
  up: { compose: string; dockyard: string };
  /** Both sides read back (also when one did not come up), or why they could not be. */
  sides: { compose: Side; dockyard: Side } | { error: string };
  /** Seconds. */
  timings: { up: number; read: number; composeDown: number; dockyardDown: number };
}

export interface Sides {
  compose: ComposeTarget & { docker: Dockerode };
  dockyard: { kube: Kube; docker: Dockerode };
}

const seconds = (since: number) => Math.round((Date.now() - since) / 100) / 10;

const outcome = async (work: Promise<void>): Promise<string> =>
  work.then(
    () => 'up',
    (err: unknown) => `not up: ${(err as Error).message}`,
  );

export async function runProject(sides: Sides, p: PreparedProject): Promise<ProjectRun> {
  const timings = { up: 0, read: 0, composeDown: 0, dockyardDown: 0 };
  let started = Date.now();
  const [compose, dockyard] = await Promise.all([
    outcome(composeUp(sides.compose, p)),
    outcome(dockyardUp(sides.dockyard.kube, p)),
  ]);
  timings.up = seconds(started);
  started = Date.now();
  let read: ProjectRun['sides'];
  try {
    const [a, b] = await Promise.all([
      composeSide(sides.compose.docker, p),
      dockyardSide(sides.dockyard.docker, p),
    ]);
    read = { compose: a, dockyard: b };
  } catch (err) {
    read = { error: `reading back: ${(err as Error).message}` };
  }
  timings.read = seconds(started);
  const timed = async (what: 'composeDown' | 'dockyardDown', work: () => Promise<void>) => {
    const at = Date.now();
    await work();
    timings[what] = seconds(at);
  };
  const down = await Promise.allSettled([
    timed('composeDown', () => composeDown(sides.compose, p)),
    timed('dockyardDown', () => dockyardDown(sides.dockyard.kube, sides.dockyard.docker, p)),
  ]);
  const failed = down.flatMap((d) => (d.status === 'rejected' ? [(d.reason as Error).message] : []));
  // A project left behind would hold its ports for the next one: stop here.
  if (failed.length > 0) throw new Error(`tearing down ${p.entry.dir}: ${failed.join('; ')}`);
  return { project: p, up: { compose, dockyard }, sides: read, timings };
}
