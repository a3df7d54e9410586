// The invariant every fault scenario ends with: whatever was killed, cut or
// rejected on the way, once the controllers converge the world must be right.
// For every DockerVolume, DockerNetwork and DockerContainer in the scenario's
// namespaces, on every host it is placed on, exactly one Docker object owned
// by it, carrying the spec hash the controller computes now, named in status;
// nothing of it on hosts it is not placed on; no labelled Docker object whose
// owner is gone (unless its deletion policy keeps it: the label recorded at
// create time says Orphan, or the owner switched to Orphan later and its host
// lists it in status.releasedOwners); no user data lost; and status that says
// what Docker says.
//
// The hashes and the placement come from the product's own functions (never
// a copy of their logic), so a check failing here means the controller and
// Docker disagree, not that the test drifted from the product.

import type { CoreV1Api } from '@kubernetes/client-node';
import type Dockerode from 'dockerode';
import { expect } from 'vitest';
import type { DockerContainer } from '../../../src/crds/dockercontainer.js';
import type { DockerHost } from '../../../src/crds/dockerhost.js';
import type { DockerImage } from '../../../src/crds/dockerimage.js';
import type { DockerNetwork } from '../../../src/crds/dockernetwork.js';
import type { DockerVolume } from '../../../src/crds/dockervolume.js';
import { OWNER_LABELS } from '../../../src/crds/kit.js';
import {
  containerNameOf,
  desiredContainer,
  type DockerContainerKindDeps,
} from '../../../src/controllers/dockercontainer/container-kind.js';
import { KubeRefReader } from '../../../src/controllers/dockercontainer/env-resolver.js';
import { networkNameOf, networkSpecHash } from '../../../src/controllers/dockernetwork/network-spec.js';
import { volumeNameOf, volumeSpecHash } from '../../../src/controllers/dockervolume/volume-kind.js';
import { waitFor } from '../../../src/localenv/process.js';
import { listLabelled } from '../../../src/managed/orphan-sweep.js';
import { DELETION_POLICY_LABEL } from '../../../src/managed/ownership.js';
import { resolvePlacement } from '../../../src/managed/placement.js';
import type { ManagedObject } from '../../../src/managed/types.js';
import type { Kube } from '../../support/kube.js';

export type PlacedKind = 'DockerVolume' | 'DockerNetwork' | 'DockerContainer';
export const PLACED_KINDS: readonly PlacedKind[] = ['DockerVolume', 'DockerNetwork', 'DockerContainer'];

const PLURALS: Record<PlacedKind | 'DockerHost', string> = {
  DockerVolume: 'dockervolumes',
  DockerNetwork: 'dockernetworks',
  DockerContainer: 'dockercontainers',
  DockerHost: 'dockerhosts',
};

/** A file written into a Docker volume on one node, to be read back unchanged. */
export interface DataMarker {
  /** DockerHost name (a key of `nodes`). */
  host: string;
  /** The Docker volume name (`namespace.name` unless spec.volumeName says otherwise). */
  volume: string;
  /** File name inside the volume. */
  file: string;
  content: string;
}

export interface InvariantInput {
  kube: Kube;
  /** DockerHost name → a client for that node's daemon. Every placed host must be here. */
  nodes: ReadonlyMap<string, Dockerode>;
  /** Namespaces the scenario created its resources in. */
  namespaces: readonly string[];
  /** Markers written with writeDataMarker(), each checked to read back the same. */
  dataMarkers?: readonly DataMarker[];
  /** Image (present on every node) the marker check runs its short-lived reader from. */
  markerImage?: string;
  /** uids of resources the scenario deleted with deletionPolicy Orphan: their objects may stay. */
  orphanedUids?: ReadonlySet<string>;
  /**
   * Require Ready=True with observedGeneration == generation on every
   * resource (the converged end state). Default true.
   */
  requireReady?: boolean;
}

export interface Violation {
  /** Which invariant: one-object, spec-hash, misplaced, orphan, data, status, ready, placement, check. */
  rule: string;
  /** `Kind ns/name@host` or `host:objectRef`. */
  subject: string;
  message: string;
}

type Resource = ManagedObject & { kind: PlacedKind };

interface DockerObjectFacts {
  id: string;
  labels: Record<string, string>;
  running?: boolean;
}

/** Every resource of one placed kind in one namespace, from the API server (not a cache). */
async function listKind(kube: Kube, kind: PlacedKind, namespace: string): Promise<Resource[]> {
  const res = (await kube.api.listNamespacedCustomObject({
    group: 'dockyard.io',
    version: 'v1alpha1',
    plural: PLURALS[kind],
    namespace,
  })) as { items: ManagedObject[] };
  return res.items.map((o) => ({ ...o, kind }));
}

async function listImages(kube: Kube, namespace: string): Promise<DockerImage[]> {
  const res = (await kube.api.listNamespacedCustomObject({
    group: 'dockyard.io',
    version: 'v1alpha1',
    plural: 'dockerimages',
    namespace,
  })) as { items: DockerImage[] };
  return res.items;
}

async function listHosts(kube: Kube): Promise<DockerHost[]> {
  const res = (await kube.api.listClusterCustomObject({
    group: 'dockyard.io',
    version: 'v1alpha1',
    plural: PLURALS.DockerHost,
  })) as { items: DockerHost[] };
  return res.items;
}

/**
 * DockerHost name → owner uids its status.releasedOwners lists: owners that
 * let go of their objects there under deletionPolicy Orphan, whatever the
 * deletion-policy label says (labels cannot change after create).
 */
function releasedUidsByHost(hosts: readonly DockerHost[]): Map<string, Set<string>> {
  return new Map(
    hosts.map((h) => [h.metadata.name, new Set((h.status?.releasedOwners ?? []).map((e) => e.uid))]),
  );
}

async function namespaceLabels(core: CoreV1Api, namespace: string): Promise<Record<string, string>> {
  const ns = await core.readNamespace({ name: namespace });
  return ns.metadata?.labels ?? {};
}

interface NodeSnapshot {
  containers: DockerObjectFacts[];
  networks: DockerObjectFacts[];
  volumes: DockerObjectFacts[];
}

/** Every Docker object on one node with Dockyard's owner labels: three list calls, however many resources. */
async function snapshotNode(api: Dockerode): Promise<NodeSnapshot> {
  const filters = { label: [OWNER_LABELS.uid] };
  const [containers, networks, volumes] = await Promise.all([
    api.listContainers({ all: true, filters }),
    api.listNetworks({ filters }),
    api.listVolumes({ filters }),
  ]);
  return {
    containers: containers.map((c) => ({ id: c.Id, labels: c.Labels ?? {}, running: c.State === 'running' })),
    networks: networks.map((n) => ({ id: n.Id, labels: n.Labels ?? {} })),
    volumes: (volumes.Volumes ?? []).map((v) => ({
      id: v.Name,
      labels: (v.Labels as Record<string, string> | null) ?? {},
    })),
  };
}

/** The Docker objects of one kind on a node that carry this owner uid. */
function ownedObjects(snapshot: NodeSnapshot, kind: PlacedKind, uid: string): DockerObjectFacts[] {
  const list =
    kind === 'DockerVolume'
      ? snapshot.volumes
      : kind === 'DockerNetwork'
        ? snapshot.networks
        : snapshot.containers;
  return list.filter((o) => o.labels[OWNER_LABELS.uid] === uid);
}

const subjectOf = (r: Resource, host?: string) =>
  `${r.kind} ${r.metadata.namespace ?? ''}/${r.metadata.name}${host ? `@${host}` : ''}`;

/** Docker-running phases of a container (Ready or not). */
const RUNNING_PHASES = new Set(['Running', 'Healthy', 'Unhealthy']);

/** Same map semantics as the controllers' caches, over a list read once. */
function cacheOf<T extends { metadata: { name: string; namespace?: string } }>(items: readonly T[]) {
  return {
    getByName: (name: string, namespace?: string) =>
      items.find((i) => i.metadata.name === name && (i.metadata.namespace ?? '') === (namespace ?? '')),
  };
}

/**
 * The spec hash the controller computes now for `r` on `host`, with the
 * product's own functions; a string explaining why not when it cannot
 * (a container whose dependencies are not Ready there).
 */
async function expectedHash(
  r: Resource,
  host: string,
  containerDeps: DockerContainerKindDeps,
): Promise<{ hash: string } | { why: string }> {
  if (r.kind === 'DockerVolume') return { hash: volumeSpecHash(r as unknown as DockerVolume) };
  if (r.kind === 'DockerNetwork') return { hash: networkSpecHash(r as unknown as DockerNetwork) };
  const desired = await desiredContainer(containerDeps, {
    container: r as unknown as DockerContainer,
    hostName: host,
    namespace: r.metadata.namespace ?? '',
  });
  if (desired.hash) return { hash: desired.hash };
  const why =
    desired.env && !desired.env.ok ? desired.env.message : `waiting for ${desired.missing.join(', ')}`;
  return { why };
}

/** Checks every invariant once and returns what is wrong (empty: all hold). */
export async function checkInvariants(input: InvariantInput): Promise<Violation[]> {
  const { kube, nodes } = input;
  const violations: Violation[] = [];
  const add = (rule: string, subject: string, message: string) => violations.push({ rule, subject, message });

  const hosts = await listHosts(kube);
  const resources: Resource[] = [];
  for (const ns of input.namespaces)
    for (const kind of PLACED_KINDS) resources.push(...(await listKind(kube, kind, ns)));
  const byKind = (kind: PlacedKind) => resources.filter((r) => r.kind === kind);
  const containerDeps: DockerContainerKindDeps = {
    volumes: cacheOf(byKind('DockerVolume') as unknown as DockerVolume[]),
    networks: cacheOf(byKind('DockerNetwork') as unknown as DockerNetwork[]),
    // spec.dependsOn (a DockerComposeStack's depends_on): the other containers, as the controller sees them.
    containers: cacheOf(byKind('DockerContainer') as unknown as DockerContainer[]),
    images: cacheOf((await Promise.all(input.namespaces.map((ns) => listImages(kube, ns)))).flat()),
    volumeNameOf,
    networkNameOf,
    refs: (namespace) => new KubeRefReader(kube.core, namespace),
  };
  const snapshots = new Map<string, NodeSnapshot>();
  for (const [hostName, api] of nodes) snapshots.set(hostName, await snapshotNode(api));
  const labelsOfNs = new Map<string, Record<string, string>>();
  for (const ns of input.namespaces) labelsOfNs.set(ns, await namespaceLabels(kube.core, ns));

  for (const r of resources) {
    const ns = r.metadata.namespace ?? '';
    const uid = r.metadata.uid ?? '';
    const entries = r.status?.hosts ?? [];
    const deleting = r.metadata.deletionTimestamp !== undefined;
    // Placement as the controller decides it now, from the DockerHosts' labels;
    // status.hosts only as "previously placed" (so an unschedulable or relabelled host keeps
    // it), with the placement hash that tells its own placement changes apart.
    const placement = resolvePlacement({
      spec: r.spec,
      namespace: ns,
      namespaceLabels: labelsOfNs.get(ns),
      hosts,
      previouslyPlaced: entries.map((e) => ({ name: e.name, placementHash: e.placementHash })),
    });
    const placed = new Set(deleting ? [] : placement.placed.map((h) => h.metadata.name));

    if (input.requireReady ?? true) {
      const ready = r.status?.conditions?.find((c) => c.type === 'Ready');
      if (deleting) add('ready', subjectOf(r), 'still being deleted');
      else if (ready?.status !== 'True')
        add(
          'ready',
          subjectOf(r),
          `Ready=${ready?.status ?? 'missing'} (${ready?.reason ?? ''}: ${ready?.message ?? ''})`,
        );
      else if (r.status?.observedGeneration !== r.metadata.generation)
        add(
          'ready',
          subjectOf(r),
          `observedGeneration ${String(r.status?.observedGeneration)} != generation ${String(r.metadata.generation)}`,
        );
    }
    const hostsReady = `${placed.size}/${placed.size}`;
    if ((input.requireReady ?? true) && !deleting && r.status?.hostsReady !== hostsReady)
      add(
        'ready',
        subjectOf(r),
        `hostsReady ${String(r.status?.hostsReady)}, placed on ${hostsReady.split('/')[0]}`,
      );
    for (const e of entries)
      if (!placed.has(e.name) && !deleting)
        add(
          'placement',
          subjectOf(r, e.name),
          `status.hosts has ${e.name} (${e.phase}) but it is not placed there`,
        );

    for (const hostName of nodes.keys()) {
      const subject = subjectOf(r, hostName);
      const found = ownedObjects(snapshots.get(hostName)!, r.kind, uid);
      if (!placed.has(hostName)) {
        // Deleting with Orphan (or a volume's default) may leave it; otherwise nothing of it belongs here.
        if (found.length > 0 && !deleting)
          add(
            'misplaced',
            subject,
            `${found.length} Docker object(s) on a host it is not placed on: ${found.map((f) => f.id).join(', ')}`,
          );
        continue;
      }
      const entry = entries.find((e) => e.name === hostName);
      if (!entry) add('status', subject, 'placed here but status.hosts has no entry for this host');
      if (found.length !== 1) {
        add(
          'one-object',
          subject,
          `expected exactly 1 Docker object, found ${found.length}: ${found.map((f) => f.id).join(', ')}`,
        );
        if (found.length === 0) continue;
      }
      const obj = found.find((f) => f.id === entry?.id) ?? found[0]!;
      const expected = await expectedHash(r, hostName, containerDeps);
      if ('why' in expected) add('spec-hash', subject, `cannot compute the expected hash: ${expected.why}`);
      else if (obj.labels[OWNER_LABELS.specHash] !== expected.hash)
        add(
          'spec-hash',
          subject,
          `spec-hash label ${obj.labels[OWNER_LABELS.specHash] ?? '(none)'} != ${expected.hash}`,
        );
      if (entry) {
        if (entry.id !== obj.id)
          add('status', subject, `status id ${String(entry.id)} != Docker's ${obj.id}`);
        if (r.kind === 'DockerContainer') {
          const saysRunning = RUNNING_PHASES.has(entry.phase);
          if (saysRunning !== obj.running)
            add(
              'status',
              subject,
              `phase ${entry.phase} but Docker says ${obj.running ? 'running' : 'not running'}`,
            );
        }
      }
    }
    for (const name of placed)
      if (!nodes.has(name))
        add('check', subjectOf(r, name), `placed on ${name}, which the check has no Docker client for`);
  }

  // Orphans: labelled objects whose owner (in the scenario's namespaces) no longer exists.
  const liveUids = new Set(resources.map((r) => r.metadata.uid));
  const released = releasedUidsByHost(hosts);
  for (const [hostName, snapshot] of snapshots) {
    const labelled = [
      ...snapshot.containers.map((o) => ({ ...o, type: 'container' })),
      ...snapshot.networks.map((o) => ({ ...o, type: 'network' })),
      ...snapshot.volumes.map((o) => ({ ...o, type: 'volume' })),
    ];
    for (const o of labelled) {
      const ns = o.labels[OWNER_LABELS.namespace] ?? '';
      if (!input.namespaces.includes(ns)) continue;
      const uid = o.labels[OWNER_LABELS.uid] ?? '';
      if (liveUids.has(uid)) continue;
      if (o.labels[DELETION_POLICY_LABEL] === 'Orphan' || input.orphanedUids?.has(uid)) continue;
      if (released.get(hostName)?.has(uid)) continue;
      add(
        'orphan',
        `${hostName}:${o.type} ${o.id.slice(0, 24)}`,
        `owner ${o.labels[OWNER_LABELS.kind] ?? '?'} ${ns}/${o.labels[OWNER_LABELS.name] ?? '?'} (uid ${uid}) does not exist; deletion policy ${o.labels[DELETION_POLICY_LABEL] ?? 'unrecorded'}, not in DockerHost ${hostName}'s status.releasedOwners`,
      );
    }
  }

  for (const m of input.dataMarkers ?? []) {
    const api = nodes.get(m.host);
    const subject = `${m.host}:volume ${m.volume}/${m.file}`;
    if (!api) {
      add('check', subject, 'no Docker client for this host');
      continue;
    }
    if (!input.markerImage) {
      add('check', subject, 'dataMarkers given without markerImage');
      continue;
    }
    try {
      const read = await readDataMarker(api, input.markerImage, m);
      if (read !== m.content)
        add('data', subject, `read back ${JSON.stringify(read)}, wrote ${JSON.stringify(m.content)}`);
    } catch (err) {
      add('data', subject, `cannot read it back: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return violations;
}

export function formatViolations(violations: readonly Violation[]): string {
  return violations.map((v) => `[${v.rule}] ${v.subject}: ${v.message}`).join('\n');
}

/** Fails the test with every violation listed. */
export async function expectInvariants(input: InvariantInput): Promise<void> {
  const violations = await checkInvariants(input);
  expect(violations, `invariant violations:\n${formatViolations(violations)}`).toEqual([]);
}

/**
 * Waits (bounded) until every invariant holds, then returns; on timeout fails
 * with the last list of violations. Convergence is exactly "the invariant
 * holds", so the final expectInvariants is a re-check, not a second wait.
 */
/** How often a long wait for convergence says what it still waits for. */
const PROGRESS_EVERY_MS = 15_000;

export async function waitForConvergence(
  input: InvariantInput,
  timeoutMs = 180_000,
  intervalMs = 2_000,
): Promise<void> {
  let last: Violation[] = [];
  const started = performance.now();
  let reportedAt = started;
  try {
    await waitFor(
      async () => {
        // The data check spawns containers; only run it once everything else holds.
        const { dataMarkers, ...rest } = input;
        last = await checkInvariants(rest);
        if (last.length === 0 && dataMarkers) last = await checkInvariants(input);
        if (last.length > 0 && performance.now() - reportedAt > PROGRESS_EVERY_MS) {
          reportedAt = performance.now();
          // Counts per rule, and one example per rule and kind.
          const byRule = new Map<string, number>();
          const examples = new Map<string, Violation>();
          for (const v of last) {
            byRule.set(v.rule, (byRule.get(v.rule) ?? 0) + 1);
            const key = `${v.rule} ${v.subject.split(' ')[0] ?? ''}`;
            if (!examples.has(key)) examples.set(key, v);
          }
          console.log(
            `[faults] converging for ${((reportedAt - started) / 1000).toFixed(0)} s: ${[...byRule].map(([r, n]) => `${n} ${r}`).join(', ')}; e.g.\n${formatViolations([...examples.values()])}`,
          );
        }
        return last.length === 0 ? true : undefined;
      },
      { timeoutMs, intervalMs, what: 'the invariants to hold' },
    );
  } catch (err) {
    throw new Error(
      `${err instanceof Error ? err.message : String(err)}; ${last.length} violation(s) left:\n${formatViolations(last.slice(0, 60))}`,
      { cause: err },
    );
  }
}

const MARKER_MOUNT = '/marker';
const MARKER_LABEL = 'dockyard-test.marker';

/** Runs `sh -c script` in a short-lived container with `volume` at /marker; returns its output. */
async function withVolume(api: Dockerode, image: string, volume: string, script: string): Promise<string> {
  // Never creates the volume: Docker would make an unlabelled one the controller then refuses (NameConflict).
  await api.getVolume(volume).inspect();
  const container = await api.createContainer({
    Image: image,
    Cmd: ['sh', '-c', script],
    Tty: true,
    Labels: { [MARKER_LABEL]: 'true' },
    HostConfig: { Mounts: [{ Type: 'volume', Source: volume, Target: MARKER_MOUNT }] },
  });
  try {
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    const output = ((await container.logs({ stdout: true, stderr: true })) as Buffer).toString('utf8');
    if (StatusCode !== 0) throw new Error(`exit ${StatusCode}: ${output.trim()}`);
    return output;
  } finally {
    await container.remove({ force: true });
  }
}

/**
 * Writes a marker file into an existing Docker volume on one node (through a
 * short-lived unlabelled container with the workload image), and returns it
 * for `dataMarkers`.
 */
export async function writeDataMarker(
  api: Dockerode,
  image: string,
  marker: Omit<DataMarker, 'content'> & { content?: string },
): Promise<DataMarker> {
  const content = marker.content ?? `${marker.host}/${marker.volume}/${Date.now()}`;
  if (!/^[A-Za-z0-9._/:-]+$/.test(content) || !/^[A-Za-z0-9._-]+$/.test(marker.file))
    throw new Error('marker file and content must be plain words (no shell quoting here)');
  await withVolume(api, image, marker.volume, `printf %s '${content}' > ${MARKER_MOUNT}/${marker.file}`);
  return { ...marker, content };
}

/** The marker's content as read back now. */
export async function readDataMarker(api: Dockerode, image: string, marker: DataMarker): Promise<string> {
  return withVolume(api, image, marker.volume, `cat ${MARKER_MOUNT}/${marker.file}`);
}

/** The Docker name of a resource's object (for markers and messages). */
export function dockerNameOfResource(kind: PlacedKind, obj: ManagedObject): string {
  if (kind === 'DockerVolume') return volumeNameOf(obj as unknown as DockerVolume);
  if (kind === 'DockerNetwork') return networkNameOf(obj as unknown as DockerNetwork);
  return containerNameOf(obj as unknown as DockerContainer);
}

/** A Docker object carrying Dockyard's owner labels, on one node. */
export interface OwnedDockerObject {
  host: string;
  type: 'container' | 'network' | 'volume';
  /** Container or network id, volume name. */
  ref: string;
  uid: string;
  kind: string;
  name: string;
  namespace: string;
}

/** Every labelled Docker object on the nodes whose owner is in `namespaces`. */
export async function ownedDockerObjects(
  nodes: ReadonlyMap<string, Dockerode>,
  namespaces: readonly string[],
): Promise<OwnedDockerObject[]> {
  const out: OwnedDockerObject[] = [];
  for (const [host, api] of nodes) {
    for (const o of await listLabelled(api)) {
      const namespace = o.labels[OWNER_LABELS.namespace] ?? '';
      if (!namespaces.includes(namespace)) continue;
      out.push({
        host,
        type: o.type,
        ref: o.ref,
        uid: o.labels[OWNER_LABELS.uid] ?? '',
        kind: o.labels[OWNER_LABELS.kind] ?? '',
        name: o.labels[OWNER_LABELS.name] ?? '',
        namespace,
      });
    }
  }
  return out;
}

/**
 * For a moment when no controller runs (right after one exited): nothing is
 * half-done and unrecorded. Every labelled Docker object in the namespaces
 * belongs to an existing resource (or to one that released it: orphanedUids,
 * or its DockerHost's status.releasedOwners), is the only one of that resource on its
 * host, and that resource's status.hosts names it (same id), so the next
 * controller finds it as its own instead of learning of it by accident.
 */
export async function checkRecorded(
  input: Pick<InvariantInput, 'kube' | 'nodes' | 'namespaces' | 'orphanedUids'>,
): Promise<Violation[]> {
  const violations: Violation[] = [];
  const resources = new Map<string, Resource>();
  for (const ns of input.namespaces)
    for (const kind of PLACED_KINDS)
      for (const r of await listKind(input.kube, kind, ns)) resources.set(r.metadata.uid ?? '', r);
  const released = releasedUidsByHost(await listHosts(input.kube));
  const seen = new Map<string, OwnedDockerObject[]>();
  for (const o of await ownedDockerObjects(input.nodes, input.namespaces)) {
    const subject = `${o.host}:${o.type} ${o.ref.slice(0, 24)} (${o.kind} ${o.namespace}/${o.name})`;
    const owner = resources.get(o.uid);
    if (!owner) {
      if (!input.orphanedUids?.has(o.uid) && !released.get(o.host)?.has(o.uid))
        violations.push({ rule: 'orphan', subject, message: `owner uid ${o.uid} does not exist` });
      continue;
    }
    const key = `${o.uid}@${o.host}`;
    seen.set(key, [...(seen.get(key) ?? []), o]);
    const entry = owner.status?.hosts?.find((h) => h.name === o.host);
    if (!entry)
      violations.push({ rule: 'unrecorded', subject, message: 'no status.hosts entry for this host' });
    else if (entry.id !== o.ref)
      violations.push({
        rule: 'unrecorded',
        subject,
        message: `status.hosts[${o.host}].id is ${String(entry.id)} (phase ${entry.phase})`,
      });
  }
  for (const [key, list] of seen)
    if (list.length > 1)
      violations.push({
        rule: 'one-object',
        subject: key,
        message: `${list.length} Docker objects: ${list.map((o) => o.ref).join(', ')}`,
      });
  return violations;
}
