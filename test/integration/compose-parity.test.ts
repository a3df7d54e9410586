import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureComposeCli } from '../../src/localenv/compose-cli.js';
import { analyse } from '../support/compose-parity/analyse.js';
import {
  CORPUS_DIR,
  prepareProject,
  readCorpus,
  type CorpusEntry,
  type PreparedProject,
} from '../support/compose-parity/corpus.js';
import { baselineRefusals } from '../support/compose-parity/policy.js';
import { coveringSubset } from '../support/compose-parity/cover.js';
import { readDifferences, type DifferenceRow } from '../support/compose-parity/differences.js';
import { runProject, type ProjectRun } from '../support/compose-parity/run-project.js';
import { runScheduled } from '../support/compose-parity/scheduler.js';
import { isReady, LAB_POLICY_SETTINGS } from '../support/kube.js';
import { startWorld, WORLD_START_TIMEOUT_MS, type World } from '../support/world.js';

// The proof of "same behaviour" (issue #16): every project of the Compose
// corpus (test/compose/corpus.json) is brought up twice at the same time, by
// the real `docker compose up -d --wait` (v5.6.0, built from its Go module) on
// lab node A and by Dockyard (the project loaded and converted as `dockyard
// compose convert` does, the manifests applied, every object waited for until
// Ready) on node B. Both are read back with `docker inspect` (plus the files
// configs and secrets put into each container), normalised (ids, names,
// timestamps, each tool's own labels, addresses the daemon picked; two
// spellings of one Engine setting) and compared key by key, with the
// depends_on start order on both nodes. Image, command, env, ports, mounts,
// networks and aliases, healthcheck, restart policy, resources, depends_on
// order must agree 100% (each key), all other keys together (every object
// being there among them) 95%; every difference must be a row of
// test/compose/DIFFERENCES.md and every row must still match one. The report
// goes to test-results/compose-parity.md.
//
// Node B is a baseline DockerHost (the lab's host ports and subnets, plus the
// external networks and volumes the corpus names); entries marked
// `privileged` run on node P, a privileged one. Dockyard's own policy
// functions check beforehand that the mark is right: a project a baseline
// host would refuse runs on P all the same (so it is still compared), and the
// wrong mark fails the test. Projects run CONCURRENCY at a time (about
// 3 minutes for 47 projects on 2 cores), never two claiming one host port,
// subnet or fixed Docker name: each is torn down on both nodes before one it
// collides with starts.
//
// `npm test` runs the projects that together exercise every feature of the
// corpus (test/support/compose-parity/cover.ts: every Compose key path, syntax
// form, behaviour-choosing value, loading feature and DIFFERENCES.md row), 29
// of 47 when written; COMPOSE_PARITY_FULL=1 (and `npm run bench --
// --scenarios=compose-parity`) runs the whole corpus.
// COMPOSE_PARITY_ONLY=01-webapp-postgres,02-reverse-proxy runs only those
// (a folder not in corpus.json runs with defaults);
// COMPOSE_PARITY_RAW=1 also writes each run's inspect documents under
// test-results/compose-parity-raw/.

const A = 'compose';
const B = 'baseline';
const P = 'privileged';
const CONCURRENCY = Number(process.env.COMPOSE_PARITY_CONCURRENCY ?? 6);
const RESULTS = 'test-results';

let world: World;
let binary: string;
let labSeconds = 0;

const corpus = readCorpus();
const rows = readDifferences(join(CORPUS_DIR, 'DIFFERENCES.md'));

function entries(): CorpusEntry[] {
  const only = process.env.COMPOSE_PARITY_ONLY?.split(',').filter(Boolean);
  if (only) return only.map((dir) => corpus.find((e) => e.dir === dir) ?? { dir });
  if (process.env.COMPOSE_PARITY_FULL) return corpus;
  return coveringSubset(corpus, { corpusDir: CORPUS_DIR, rows });
}

/** The baseline host's settings: the lab's ports and subnets, and the corpus's external objects. */
const baselineSettings = (list: CorpusEntry[]) => ({
  ...LAB_POLICY_SETTINGS,
  allowedExternalNetworks: list.flatMap((e) => e.external?.networks ?? []).map((n) => n.name),
  allowedExternalVolumes: list.flatMap((e) => e.external?.volumes ?? []),
});

/** The corpus's external networks and volumes, on every node (idempotent). */
async function makeExternals(docker: Dockerode, list: CorpusEntry[]): Promise<void> {
  const networks = new Map(list.flatMap((e) => e.external?.networks ?? []).map((n) => [n.name, n]));
  const volumes = new Set(list.flatMap((e) => e.external?.volumes ?? []));
  const existing = new Set((await docker.listNetworks()).map((n) => n.Name));
  for (const n of networks.values()) {
    if (existing.has(n.name)) continue;
    await docker.createNetwork({
      Name: n.name,
      CheckDuplicate: true,
      ...(n.subnet ? { IPAM: { Driver: 'default', Config: [{ Subnet: n.subnet }] } } : {}),
    });
  }
  for (const v of volumes) await docker.createVolume({ Name: v });
}

beforeAll(async () => {
  const started = Date.now();
  [world, binary] = await Promise.all([
    startWorld({
      lab: { nodes: [{ name: A }, { name: B }, { name: P }] },
      loadWorkloadImage: true,
      namespaces: [],
      dockyard: { maxConcurrentReconciles: 8 },
    }),
    ensureComposeCli(),
  ]);
  const list = entries();
  await Promise.all([A, B, P].map((n) => makeExternals(world.lab.node(n).client(), list)));
  await world.kube.patch('DockerHost', undefined, B, {
    spec: { securityPolicySettings: baselineSettings(list) },
  });
  await world.kube.patch('DockerHost', undefined, P, { spec: { securityPolicy: 'privileged' } });
  await Promise.all(
    [B, P].map((h) =>
      world.kube.waitFor('DockerHost', undefined, h, isReady, 'Ready with its policy', 60_000),
    ),
  );
  labSeconds = (Date.now() - started) / 1000;
}, WORLD_START_TIMEOUT_MS);

afterAll(async () => {
  await world?.stop();
});

function dump(r: ProjectRun): void {
  const dir = join(RESULTS, 'compose-parity-raw');
  mkdirSync(dir, { recursive: true });
  const sides =
    'error' in r.sides
      ? r.sides
      : Object.fromEntries(
          Object.entries(r.sides).map(([k, s]) => [
            k,
            {
              ...s,
              identities: Object.fromEntries(Object.entries(s.identities).map(([k, m]) => [k, [...m]])),
            },
          ]),
        );
  writeFileSync(
    join(dir, `${r.project.entry.dir}.json`),
    JSON.stringify({ entry: r.project.entry, up: r.up, sides, timings: r.timings }, null, 1),
  );
}

/**
 * Where each project's Dockyard side runs: node P when it is marked
 * privileged or a baseline host would refuse it (then corpus.json says
 * otherwise, which is a problem of its own), else node B.
 */
async function placeProjects(
  list: CorpusEntry[],
): Promise<{ prepared: PreparedProject[]; problems: string[] }> {
  const problems: string[] = [];
  const prepared = await Promise.all(
    list.map(async (entry) => {
      const namespace = `parity-${entry.dir}`;
      const onB = await prepareProject(entry, { namespace, hostName: B });
      const refused = baselineRefusals(onB.conversion.objects, baselineSettings(list));
      if (!entry.privileged && refused.length > 0)
        problems.push(
          `corpus.json: ${entry.dir} is not marked privileged, but a baseline DockerHost refuses it: ${refused.join('; ')}`,
        );
      if (entry.privileged && refused.length === 0)
        problems.push(`corpus.json: ${entry.dir} is marked privileged, but a baseline DockerHost admits it`);
      return entry.privileged || refused.length > 0 ? prepareProject(entry, { namespace, hostName: P }) : onB;
    }),
  );
  return { prepared, problems };
}

/** The rows as far as they concern these projects. */
function rowsFor(rows: DifferenceRow[], list: CorpusEntry[]): DifferenceRow[] {
  const dirs = new Set(list.map((e) => e.dir));
  return rows.flatMap((r) => {
    if (!r.projects) return [r];
    const projects = r.projects.filter((d) => dirs.has(d));
    return projects.length > 0 ? [{ ...r, projects }] : [];
  });
}

describe('Compose parity: docker compose and Dockyard on the corpus', () => {
  it('brings up the same containers, networks and volumes, key by key', async () => {
    const list = entries();
    expect(list.length, 'test/compose/corpus.json has no entries').toBeGreaterThan(0);
    const started = Date.now();
    const { prepared, problems } = await placeProjects(list);
    const hostOf = new Map(prepared.map((p) => [p.entry.dir, p.hostName]));
    const a = world.lab.node(A);
    const compose = {
      binary,
      dockerHost: a.endpoint,
      nodeContainer: world.lab.hostDocker.getContainer(a.containerId),
      docker: a.client(),
    };
    const runs = await runScheduled(
      prepared.map((p) => ({
        name: p.entry.dir,
        claims: p.claims,
        run: async () => {
          const docker = world.lab.node(p.hostName).client();
          const run = await runProject({ compose, dockyard: { kube: world.kube, docker } }, p);
          if (process.env.COMPOSE_PARITY_RAW) dump(run);
          return run;
        },
      })),
      CONCURRENCY,
    );
    const wallSeconds = (Date.now() - started) / 1000;
    const analysis = analyse(
      prepared.map((p) => runs.get(p.entry.dir) as ProjectRun),
      // On part of the corpus, what a row says about the other projects is not stale.
      list.length < corpus.length ? rowsFor(rows, list) : rows,
      {
        wallSeconds,
        labSeconds,
        concurrency: CONCURRENCY,
        hostOf: (dir) => hostOf.get(dir) ?? '?',
        corpusProblems: problems,
      },
    );
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(join(RESULTS, 'compose-parity.md'), analysis.report);
    const below = analysis.keys.filter((k) => !k.ok).length;
    console.log(
      `[compose-parity] ${list.length} of ${corpus.length} projects, ${analysis.observations.length} values over ${analysis.keys.length} keys; ` +
        `${analysis.explained.documented.length} documented differences, ${analysis.explained.undocumented.length} undocumented, ` +
        `${analysis.explained.stale.length} stale rows, ${below} keys below their bar; ` +
        `${wallSeconds.toFixed(0)} s for the corpus after ${labSeconds.toFixed(0)} s of lab start. ` +
        `Report: ${RESULTS}/compose-parity.md`,
    );
    expect(analysis.verdict.problems).toEqual([]);
  }, 900_000);
});
