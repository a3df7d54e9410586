// Image signatures (#19): what DockerHost.spec.imagePolicy's RequireSignature
// costs. First in the bench process, with exact timings: K distinct images,
// each signed with cosign (bundle format, a key), admitted by an
// ImagePolicyGate once each (cold: tag resolution, referrers, bundle fetch,
// verification) and then 1,000 times more (cached). Then through the real
// controller: N DockerContainers of one signed image over the nodes must
// cost exactly one signature verification, and every container must run
// that image by digest.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import type { DockerHost } from '../../src/crds/dockerhost.js';
import type { ImagePolicy } from '../../src/crds/image-policy.js';
import { API_VERSION } from '../../src/crds/kit.js';
import { ImagePolicyGate, type Admission } from '../../src/controllers/image-policy/image-policy-gate.js';
import { SignerMaterials } from '../../src/controllers/image-policy/signer-materials.js';
import type { RefReader } from '../../src/controllers/dockercontainer/env-resolver.js';
import { ensureCosignCli } from '../../src/localenv/cosign-cli.js';
import { ignoreNotFound } from '../../src/localenv/host-docker.js';
import { waitFor } from '../../src/localenv/process.js';
import type { Registry } from '../../src/localenv/registry.js';
import { condition, isReady } from '../../test/support/kube.js';
import { cosignSign, generateCosignKeyPair, type CosignKeyPair } from '../../test/support/cosign.js';
import { distinctImage } from '../../test/support/registry.js';
import { DOCKER_CALL_MS, withDeadline } from '../support/deadline.js';
import { counterSum, toObject } from '../support/metrics.js';
import { mapLimit } from '../support/pool.js';
import { ReadyTracker } from '../support/ready-tracker.js';
import { atMost, type Row, type ScenarioResult } from '../support/report.js';
import type { Session } from '../support/session.js';
import { counterDelta, summarize, type Summary } from '../support/stats.js';
import { containerSpec, ensureNamespace, placements, type Placement } from './convergence.js';

const NAMESPACE = 'bench-signatures';
/** The Secret holding the bench's cosign public key, in NAMESPACE. */
const KEY_SECRET = 'bench-signing-key';
const KEY_FIELD = 'cosign.pub';
/** Local tags of the images made for the run (removed from the host daemon at the end). */
const LOCAL_REPO = 'dockyard-bench-signatures';
/** Cached admissions in total, round-robin over the K tags. */
const CACHED_ADMISSIONS = 1_000;

export const COLD_P99_TARGET_MS = 1_000;
export const CACHED_P99_TARGET_MS = 5;

const VERIFICATION_METRIC = 'dockyard_image_signature_verification_seconds';
const DECISIONS_METRIC = 'dockyard_image_policy_decisions_total';

/** RequireSignature for every repository under ADDRESS/bench, by the bench's key. */
export function benchImagePolicy(address: string): ImagePolicy {
  return {
    rules: [
      {
        name: 'bench-signed',
        images: [`${address}/bench/*`],
        action: 'RequireSignature',
        signers: [
          { name: 'bench-key', publicKey: { namespace: NAMESPACE, name: KEY_SECRET, key: KEY_FIELD } },
        ],
      },
    ],
  };
}

/** Pass/fail for "value = expected"; undefined (no verdict) when the value is missing. */
const exactly = (value: number | undefined, expected: number) =>
  value === undefined ? undefined : value === expected;

interface Signed {
  /** `ADDRESS/bench/NAME:1` */
  tag: string;
  digest: string;
}

/**
 * Pushes a local image of its own content (the workload image committed
 * with one more Env entry, so its config and digest differ) as
 * `bench/NAME:1` and signs the digest with cosign (bundle format, the key).
 */
async function pushSigned(
  session: Session,
  registry: Registry,
  key: CosignKeyPair,
  name: string,
  localTags: string[],
): Promise<Signed> {
  const { hostDocker, workloadImage } = session.env;
  const local = await variant(hostDocker, workloadImage, name);
  localTags.push(local);
  const digest = await registry.pushImage(hostDocker, local, `bench/${name}`, '1');
  await cosignSign({
    ref: `${registry.address}/bench/${name}@${digest}`,
    keyPath: key.keyPath,
    password: key.password,
    format: 'bundle',
  });
  return { tag: `${registry.address}/bench/${name}:1`, digest };
}

function variant(docker: Dockerode, source: string, name: string): Promise<string> {
  return distinctImage(docker, { source, repo: LOCAL_REPO, tag: name, env: `DOCKYARD_BENCH_IMAGE=${name}` });
}

interface GateRun {
  coldMs: number[];
  cachedByTagMs: number[];
  cachedPinnedMs: number[];
  verifications: number;
  refusals: string[];
}

/**
 * The gate alone, in this process: every admit() timed with
 * performance.now(). Cold = the first admission of each tag; cached by tag =
 * CACHED_ADMISSIONS more of the same tags (the verification is cached by
 * digest; the tag's resolution is shared for a few seconds); pinned = the
 * same again with the digest already known, as a controller's later
 * reconciles ask (the digest comes from status).
 */
async function timeGate(images: readonly Signed[], publicKeyPem: string, address: string): Promise<GateRun> {
  const reader: RefReader = {
    secret: async (name) => (name === KEY_SECRET ? { [KEY_FIELD]: publicKeyPem } : undefined),
    configMap: async () => undefined,
  };
  const gate = new ImagePolicyGate({ materials: new SignerMaterials(() => reader) });
  const host: DockerHost = {
    apiVersion: API_VERSION,
    kind: 'DockerHost',
    metadata: { name: 'bench-gate' },
    spec: { imagePolicy: benchImagePolicy(address) },
  };
  const refusals: string[] = [];
  const admit = async (image: Signed, pinned: boolean): Promise<number> => {
    const t0 = performance.now();
    const admission: Admission = await gate.admit({
      host,
      image: image.tag,
      ...(pinned ? { pinnedDigest: image.digest } : {}),
    });
    const took = performance.now() - t0;
    if (!admission.admitted) refusals.push(`${image.tag}: ${admission.reason}: ${admission.message}`);
    else if (admission.digest !== image.digest)
      refusals.push(`${image.tag}: admitted ${admission.digest}, pushed ${image.digest}`);
    return took;
  };
  const coldMs: number[] = [];
  for (const image of images) coldMs.push(await admit(image, false));
  const cachedByTagMs: number[] = [];
  for (let i = 0; i < CACHED_ADMISSIONS; i++)
    cachedByTagMs.push(await admit(images[i % images.length] as Signed, false));
  const cachedPinnedMs: number[] = [];
  for (let i = 0; i < CACHED_ADMISSIONS; i++)
    cachedPinnedMs.push(await admit(images[i % images.length] as Signed, true));
  return { coldMs, cachedByTagMs, cachedPinnedMs, verifications: gate.verifications, refusals };
}

interface FleetRun {
  convergeSeconds: number;
  perObject: Summary | undefined;
  validVerifications: number;
  invalidVerifications: number;
  verificationSeconds: number;
  admitted: number;
  decisions: Record<string, number>;
  runningDigest: number;
  runningOther: Record<string, number>;
  pulls: number;
}

/** Creates the DockerContainers (16 in flight) and waits until every one is Ready, logging progress. */
async function applyFleet(
  session: Session,
  items: readonly Placement[],
  image: string,
  timeoutMs: number,
): Promise<{ t0: number; readyAt: Map<string, number>; appliedAt: Map<string, number> }> {
  const { env, log } = session;
  const tracker = await new ReadyTracker(env.cp.kubeConfig(), 'DockerContainer', NAMESPACE).start();
  try {
    const t0 = performance.now();
    const appliedAt = new Map<string, number>();
    const names = items.map((p) => p.name);
    let created = 0;
    let lastLog = t0;
    const progress = (force = false) => {
      const now = performance.now();
      if (!force && now - lastLog < 5_000) return;
      lastLog = now;
      log(
        `[signatures] ${tracker.readyCount(names)}/${items.length} Ready, ${created} created ` +
          `(${((now - t0) / 1000).toFixed(0)} s)`,
      );
    };
    await mapLimit(items, 16, async (p) => {
      appliedAt.set(p.name, performance.now());
      await env.kube.create('DockerContainer', NAMESPACE, p.name, containerSpec(p.node, image));
      created++;
      progress();
    });
    try {
      await waitFor(
        async () => {
          progress();
          return tracker.readyCount(names) === names.length;
        },
        { timeoutMs, intervalMs: 200, what: `${items.length} DockerContainers in ${NAMESPACE} to be Ready` },
      );
    } catch (err) {
      progress(true);
      throw new Error(`${(err as Error).message}; ${await notReadySample(session, names, tracker)}`, {
        cause: err,
      });
    }
    progress(true);
    return { t0, readyAt: new Map(tracker.readyAt), appliedAt };
  } finally {
    tracker.stop();
  }
}

/** Why some objects are not Ready (their Ready condition's reasons, counted), for a timeout's message. */
async function notReadySample(session: Session, names: readonly string[], tracker: ReadyTracker) {
  const missing = names.filter((n) => !tracker.readyAt.has(n));
  const reasons = new Map<string, number>();
  let example = '';
  for (const name of missing.slice(0, 50)) {
    const obj = await session.env.kube.get('DockerContainer', NAMESPACE, name).catch(() => undefined);
    const ready = obj ? condition(obj, 'Ready') : undefined;
    const reason = ready ? `${ready.status} ${ready.reason ?? ''}` : 'no Ready condition';
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    if (!example && ready?.message) example = `${name}: ${ready.message}`;
  }
  return `${missing.length} not Ready; of the first ${Math.min(50, missing.length)}: ${JSON.stringify(
    toObject(reasons),
  )}${example ? `; e.g. ${example}` : ''}`;
}

/** Config.Image of every bench container on every node: how many run `want`, and what the rest run. */
async function imagesOnNodes(session: Session, want: string) {
  let matching = 0;
  const other = new Map<string, number>();
  for (const node of session.env.nodes) {
    const docker = session.env.client(node.name);
    const listed = await docker.listContainers({
      all: true,
      filters: JSON.stringify({ label: [`dockyard.io/namespace=${NAMESPACE}`] }),
    });
    await mapLimit(listed, 8, async (c) => {
      const info = await docker.getContainer(c.Id).inspect();
      const running = info.State.Running ? '' : ' (not running)';
      if (info.Config.Image === want && !running) matching++;
      else
        other.set(`${info.Config.Image}${running}`, (other.get(`${info.Config.Image}${running}`) ?? 0) + 1);
    });
  }
  return { matching, other: toObject(other) };
}

/** Both hosts get the policy; waits until each host's controller observed it (Ready at its generation). */
async function applyPolicy(session: Session, address: string): Promise<void> {
  const { kube } = session.env;
  for (const node of session.env.nodes)
    await kube.patch('DockerHost', undefined, node.name, {
      spec: { imagePolicy: benchImagePolicy(address) },
    });
  await Promise.all(
    session.env.nodes.map((n) =>
      kube.waitFor('DockerHost', undefined, n.name, isReady, 'Ready with the imagePolicy observed', 120_000),
    ),
  );
}

async function runFleet(session: Session, registry: Registry, fleet: Signed): Promise<FleetRun> {
  const { env, options, log } = session;
  const items = placements(
    's',
    options.signatureContainers,
    env.nodes.map((n) => n.name),
  );
  const before = await session.controller.metrics();
  const eventsBefore = session.events.map((e) => e.snapshot());
  log(
    `[signatures] ${items.length} DockerContainers of ${fleet.tag} over ${env.nodes.length} nodes, ` +
      `${options.concurrency} workers`,
  );
  const run = await applyFleet(session, items, fleet.tag, Math.max(600_000, items.length * 3_000));
  const perObjectSeconds = items.map(
    (p) => ((run.readyAt.get(p.name) as number) - (run.appliedAt.get(p.name) as number)) / 1000,
  );
  const convergeSeconds = (Math.max(...run.readyAt.values()) - run.t0) / 1000;

  const after = await session.controller.metrics();
  const delta = (name: string, labels: Record<string, string> = {}) =>
    counterSum(after, name, labels) - counterSum(before, name, labels);
  const decisions = new Map<string, number>();
  for (const s of after)
    if (s.name === DECISIONS_METRIC) {
      const key = `${s.labels.rule ?? ''}/${s.labels.result ?? ''}`;
      decisions.set(key, (decisions.get(key) ?? 0) + s.value);
    }
  for (const s of before)
    if (s.name === DECISIONS_METRIC) {
      const key = `${s.labels.rule ?? ''}/${s.labels.result ?? ''}`;
      decisions.set(key, (decisions.get(key) ?? 0) - s.value);
    }
  let pulls = 0;
  session.events.forEach((e, i) => {
    pulls += counterDelta(eventsBefore[i] as Map<string, number>, e.snapshot()).get('image pull') ?? 0;
  });
  const want = `${registry.address}/bench/fleet@${fleet.digest}`;
  log(`[signatures] checking every container's image on the nodes (want ${want})`);
  const onNodes = await imagesOnNodes(session, want);
  return {
    convergeSeconds,
    perObject: summarize(perObjectSeconds),
    validVerifications: delta(`${VERIFICATION_METRIC}_count`, { result: 'valid' }),
    invalidVerifications: delta(`${VERIFICATION_METRIC}_count`, { result: 'invalid' }),
    verificationSeconds: delta(`${VERIFICATION_METRIC}_sum`),
    admitted: delta(DECISIONS_METRIC, { result: 'admitted' }),
    decisions: toObject(decisions),
    runningDigest: onNodes.matching,
    runningOther: onNodes.other,
    pulls,
  };
}

export async function signatures(session: Session): Promise<ScenarioResult> {
  const { env, options, log } = session;
  const started = Date.now();
  const registry = env.registry;
  if (!registry) throw new Error('the signatures scenario needs a session opened with a registry');
  const dir = await mkdtemp(join(tmpdir(), 'dockyard-bench-signatures-'));
  const localTags: string[] = [];
  try {
    log('[signatures] cosign CLI and a key pair');
    await ensureCosignCli(log);
    const key = await generateCosignKeyPair(join(dir, 'key'));
    const publicKeyPem = await readFile(key.publicKeyPath, 'utf8');

    log(`[signatures] pushing and signing ${options.signatureImages} images (cosign, bundle format)`);
    const images: Signed[] = [];
    // One image: commit, push, cosign sign (a process); bounded as a whole.
    const pushOne = (name: string) =>
      withDeadline(pushSigned(session, registry, key, name, localTags), {
        host: `registry ${registry.address}`,
        call: `commit, push and sign ${name}`,
        ms: 180_000,
      });
    for (let i = 0; i < options.signatureImages; i++) {
      images.push(await pushOne(`sig-${String(i).padStart(3, '0')}`));
      if ((i + 1) % 5 === 0 || i + 1 === options.signatureImages)
        log(`[signatures] ${i + 1}/${options.signatureImages} pushed and signed`);
    }
    const fleet = await pushOne('fleet');

    log(`[signatures] gate in the bench process: ${images.length} cold, ${CACHED_ADMISSIONS} cached`);
    const gate = await timeGate(images, publicKeyPem, registry.address);
    if (gate.refusals.length > 0)
      throw new Error(
        `the gate refused signed images: ${gate.refusals.slice(0, 3).join(' | ')} (${gate.refusals.length} in all)`,
      );

    log('[signatures] both hosts get the policy; the key goes into a Secret');
    await ensureNamespace(session, NAMESPACE);
    await env.kube.core.createNamespacedSecret({
      namespace: NAMESPACE,
      body: { metadata: { name: KEY_SECRET }, stringData: { [KEY_FIELD]: publicKeyPem } },
    });
    await applyPolicy(session, registry.address);
    const fleetRun = await runFleet(session, registry, fleet);
    return report({ session, started, gate, fleet: fleetRun, images: images.length });
  } finally {
    for (const tag of localTags)
      await withDeadline(env.hostDocker.getImage(tag).remove(), {
        host: 'host daemon',
        call: `remove image ${tag}`,
        ms: DOCKER_CALL_MS,
      }).catch((err: unknown) => ignoreNotFound(err));
    await rm(dir, { recursive: true, force: true });
  }
}

function report(r: {
  session: Session;
  started: number;
  gate: GateRun;
  fleet: FleetRun;
  images: number;
}): ScenarioResult {
  const { options } = r.session;
  const cold = summarize(r.gate.coldMs);
  const cached = summarize(r.gate.cachedByTagMs);
  const pinned = summarize(r.gate.cachedPinnedMs);
  const n = options.signatureContainers;
  const rows: Row[] = [
    { metric: `Admission cold p50 (${r.images} signed images)`, value: cold?.p50, unit: 'ms' },
    {
      metric: `Admission cold p99 (${r.images} signed images)`,
      value: cold?.p99,
      unit: 'ms',
      target: `≤ ${COLD_P99_TARGET_MS} ms`,
      pass: atMost(cold?.p99, COLD_P99_TARGET_MS),
    },
    { metric: `Admission cached p50 (${CACHED_ADMISSIONS} by tag)`, value: cached?.p50, unit: 'ms' },
    {
      metric: `Admission cached p99 (${CACHED_ADMISSIONS} by tag)`,
      value: cached?.p99,
      unit: 'ms',
      target: `≤ ${CACHED_P99_TARGET_MS} ms`,
      pass: atMost(cached?.p99, CACHED_P99_TARGET_MS),
    },
    { metric: `Admission cached p99 (${CACHED_ADMISSIONS}, digest pinned)`, value: pinned?.p99, unit: 'ms' },
    {
      metric: `Gate verifications (${r.images} images, ${r.images + 2 * CACHED_ADMISSIONS} admissions)`,
      value: r.gate.verifications,
      target: `= ${r.images}`,
      pass: exactly(r.gate.verifications, r.images),
    },
    {
      metric: `Signature verifications for ${n} containers of one digest (controller, valid)`,
      value: r.fleet.validVerifications,
      target: '= 1',
      pass: exactly(r.fleet.validVerifications, 1),
    },
    {
      metric: 'Signature verifications, invalid (controller)',
      value: r.fleet.invalidVerifications,
      target: '= 0',
      pass: exactly(r.fleet.invalidVerifications, 0),
    },
    {
      metric: 'Admissions decided admitted (controller)',
      value: r.fleet.admitted,
      target: `≥ ${n}`,
      pass: r.fleet.admitted >= n,
    },
    {
      metric: 'Containers running ADDRESS/bench/fleet@digest (nodes)',
      value: r.fleet.runningDigest,
      target: `= ${n}`,
      pass: exactly(r.fleet.runningDigest, n),
    },
    { metric: 'The one verification (controller)', value: r.fleet.verificationSeconds * 1000, unit: 'ms' },
    { metric: `Apply → all ${n} Ready`, value: r.fleet.convergeSeconds, unit: 's' },
    { metric: 'Apply → Ready p50', value: r.fleet.perObject?.p50, unit: 's' },
    { metric: 'Apply → Ready p99', value: r.fleet.perObject?.p99, unit: 's' },
    { metric: 'Image pulls on the nodes (docker events)', value: r.fleet.pulls },
  ];
  return {
    scenario: 'signatures',
    title: `Image signatures (${r.images} signed images in the gate; ${n} containers of one signed image, ${options.nodes} nodes)`,
    parameters: {
      images: r.images,
      cachedAdmissions: CACHED_ADMISSIONS,
      containers: n,
      nodes: options.nodes,
      concurrency: options.concurrency,
    },
    rows,
    data: {
      gate: {
        cold,
        cachedByTag: cached,
        cachedPinned: pinned,
        coldSamplesMs: r.gate.coldMs,
        verifications: r.gate.verifications,
      },
      fleet: r.fleet,
    },
    notes: [
      'Gate rows: an ImagePolicyGate in the bench process (the controller builds the same one), a ' +
        'RequireSignature rule and a key read through a RefReader; each admit() timed alone with ' +
        'performance.now(). Cold = the first admission of each image: the tag resolved from the registry, ' +
        'the referrers listed, the cosign bundle fetched and verified. Cached by tag = the same tags ' +
        `${CACHED_ADMISSIONS} more times, round-robin (the verdict is cached by digest and signer key; the ` +
        "tag's resolution is shared for 10 s); digest pinned = as the controller's later reconciles ask, " +
        'with the digest from status. One cold sample per image: the cold p99 is about the slowest one.',
      `Controller rows: both DockerHosts with the same RequireSignature rule for ADDRESS/bench/*, key in a ` +
        `Secret; ${n} DockerContainers of ADDRESS/bench/fleet:1 alternating between the nodes, created 16 in ` +
        "flight, timed until every one is Ready; the controller's own /metrics read before and after " +
        '(dockyard_image_signature_verification_seconds_count counts verifications actually run, i.e. cache ' +
        'misses). Every container is inspected on its node: Config.Image must be the verified digest.',
      'The registry is anonymous (a DockerContainer with spec.image presents no credentials); images ' +
        'are signed with the real cosign CLI (bundle format, a key from cosign generate-key-pair), offline.',
    ],
    startedAt: new Date(r.started).toISOString(),
    durationSeconds: (Date.now() - r.started) / 1000,
  };
}
