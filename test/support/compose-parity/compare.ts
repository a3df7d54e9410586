// The two sides of one project, key by key. Pure: normalised objects (and the
// raw start times for depends_on) in, one observation per compared value out.

import type { ComposeProject } from '../../../src/compose/project-types.js';
import type { FlatObject } from './normalise.js';
import type { Json, Side } from './snapshot.js';

/** One compared value: a key of one object (or a fact about the project) on both sides. */
export interface Observation {
  project: string;
  /** `container:db`, `network:default`, `volume:data`, `depends_on:app→db`, `project`. */
  object: string;
  /** The flat path with data segments generalised: `container.NetworkSettings.Networks.<net>.Aliases`. */
  key: string;
  /** The concrete path. */
  path: string;
  compose: string | undefined;
  dockyard: string | undefined;
  agree: boolean;
}

const ABSENT = undefined;

/**
 * Every object of either side against its counterpart. An object only one
 * side has is one observation (`container`, `network`, `volume`) unless a
 * side did not come up (then `project.up` says so and only what both have is
 * compared).
 */
export function compareObjects(
  project: string,
  compose: ReadonlyMap<string, FlatObject>,
  dockyard: ReadonlyMap<string, FlatObject>,
  opts: { bothUp: boolean },
): Observation[] {
  const out: Observation[] = [];
  const ids = [...new Set([...compose.keys(), ...dockyard.keys()])].sort();
  for (const id of ids) {
    const a = compose.get(id);
    const b = dockyard.get(id);
    const kind = (a ?? b)?.kind ?? 'container';
    if (!a || !b) {
      if (opts.bothUp)
        out.push({
          project,
          object: id,
          key: kind,
          path: kind,
          compose: a ? 'present' : ABSENT,
          dockyard: b ? 'present' : ABSENT,
          agree: false,
        });
      continue;
    }
    const paths = [...new Set([...a.values.keys(), ...b.values.keys()])].sort();
    for (const path of paths) {
      const [va, vb] = [a.values.get(path), b.values.get(path)];
      const generic = (va ?? vb)?.generic ?? path;
      out.push({
        project,
        object: id,
        key: `${kind}.${generic}`,
        path: `${kind}.${path}`,
        compose: va?.value,
        dockyard: vb?.value,
        agree: va?.value === vb?.value,
      });
    }
  }
  return out;
}

/** RFC 3339 with nanoseconds (trailing zeros trimmed by Docker) → a sortable string. */
export function sortableTime(ts: string): string {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(ts);
  return m ? `${m[1]}.${(m[2] ?? '').padEnd(9, '0')}` : ts;
}

interface StartFacts {
  started: string;
  finished: string;
  running: boolean;
  exitCode: number;
  restarts: number;
}

function startFacts(side: Side, service: string): StartFacts | undefined {
  const c = side.containers.find((x) => x.key === service);
  if (!c) return undefined;
  const state = (c.inspect.State ?? {}) as Json;
  return {
    started: sortableTime(String(state.StartedAt)),
    finished: sortableTime(String(state.FinishedAt)),
    running: state.Running === true,
    exitCode: Number(state.ExitCode),
    restarts: Number(c.inspect.RestartCount ?? 0),
  };
}

/**
 * What one side shows for "service waited for dependency": `ok`, or what went
 * wrong. Started/healthy: the dependency started before the dependent (a
 * dependency restarted since has a later StartedAt, said as such). Completed
 * successfully: it had exited 0 before the dependent started.
 */
export function dependencyOrder(side: Side, service: string, dependency: string, condition: string): string {
  const s = startFacts(side, service);
  const d = startFacts(side, dependency);
  if (!s || !d) return `missing ${!s ? service : dependency}`;
  if (condition === 'service_completed_successfully') {
    if (d.running) return 'dependency still running';
    if (d.exitCode !== 0) return `dependency exited ${d.exitCode}`;
    return d.finished <= s.started ? 'ok' : 'dependency finished after the dependent started';
  }
  if (d.started < s.started) return 'ok';
  return d.restarts > 0
    ? 'dependency restarted after the dependent started'
    : 'dependency started after the dependent';
}

/** depends_on of every service: the order on each side, agreeing when both are `ok`. */
export function compareDependsOn(
  project: string,
  composeProject: ComposeProject,
  compose: Side,
  dockyard: Side,
): Observation[] {
  const out: Observation[] = [];
  for (const [service, def] of Object.entries(composeProject.services ?? {}).sort(([a], [b]) =>
    a < b ? -1 : 1,
  )) {
    const deps = (def.depends_on ?? {}) as Record<string, { condition?: string }>;
    for (const [dependency, dep] of Object.entries(deps).sort(([a], [b]) => (a < b ? -1 : 1))) {
      const condition = dep.condition ?? 'service_started';
      const key =
        condition === 'service_completed_successfully' ? 'depends_on.completed' : 'depends_on.started';
      const a = dependencyOrder(compose, service, dependency, condition);
      const b = dependencyOrder(dockyard, service, dependency, condition);
      out.push({
        project,
        object: `depends_on:${service}→${dependency}`,
        key,
        path: `${key}.${service}.${dependency}`,
        compose: a,
        dockyard: b,
        agree: a === 'ok' && b === 'ok',
      });
    }
  }
  return out;
}

/** Whether each side came up (`up`, or why not). */
export function compareUp(project: string, compose: string, dockyard: string): Observation {
  return {
    project,
    object: 'project',
    key: 'project.up',
    path: 'project.up',
    compose,
    dockyard,
    agree: compose === 'up' && dockyard === 'up',
  };
}
