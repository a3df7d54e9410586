import { ApiException, EventsV1Api } from '@kubernetes/client-node';
import type { DockerContainer, DockerContainerSpec } from '../../src/crds/dockercontainer.js';
import type {
  ContainerTemplate,
  DockerServiceSpec,
  DockerServiceStatus,
} from '../../src/crds/dockerservice.js';
import { SERVICE_LABELS, SLOT_ANNOTATION } from '../../src/controllers/dockerservice/types.js';
import { waitFor } from '../../src/localenv/process.js';
import { condition, type DockyardObject, type Kube } from './kube.js';
import type { Lab } from './lab.js';

// What the DockerService integration files share: replica templates of the
// lab's workload image, the service's replicas as Docker itself lists them
// (the truth availability is sampled from), and waits on the service's
// status that say where it stood when they time out.

/** Docker's health of a container, from listContainers' Status ("Up 3 seconds (healthy)"). */
export type Health = 'healthy' | 'unhealthy' | 'starting' | 'none';

/** One Docker container of a service, as Docker lists it on one node. */
export interface ServiceContainer {
  node: string;
  id: string;
  /** The template's `version` label. */
  version: string | undefined;
  /** Docker's State: created, running, restarting, exited, removing, … */
  state: string;
  health: Health;
}

export function healthOf(status: string): Health {
  if (status.includes('(healthy)')) return 'healthy';
  if (status.includes('(unhealthy)')) return 'unhealthy';
  if (status.includes('health: starting')) return 'starting';
  return 'none';
}

/** Serving: running and healthy (every template here has a healthcheck), what a client could use. */
export const serving = (c: ServiceContainer): boolean => c.state === 'running' && c.health === 'healthy';

/** Every Docker container (any state) labelled app=<app> on every lab node. */
export async function serviceContainers(lab: Lab, app: string): Promise<ServiceContainer[]> {
  const filters = { label: [`app=${app}`] };
  const perNode = await Promise.all(
    [...lab.nodes].map(async ([node, n]) =>
      (await n.client().listContainers({ all: true, filters })).map((c) => ({
        node,
        id: c.Id,
        version: c.Labels.version,
        state: c.State,
        health: healthOf(c.Status),
      })),
    ),
  );
  return perNode.flat();
}

/** How many containers each node has that pass `which`. */
export function countByNode(
  containers: readonly ServiceContainer[],
  which: (c: ServiceContainer) => boolean = serving,
): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const c of containers) if (which(c)) counts[c.node] = (counts[c.node] ?? 0) + 1;
  return counts;
}

/** Docker shows exactly `replicas` containers of the service, every one serving `version`. */
export async function waitForServing(opts: {
  lab: Lab;
  app: string;
  replicas: number;
  version: string;
  timeoutMs?: number;
}): Promise<ServiceContainer[]> {
  let last: ServiceContainer[] = [];
  try {
    return await waitFor(
      async () => {
        last = await serviceContainers(opts.lab, opts.app);
        const ok =
          last.length === opts.replicas && last.every((c) => serving(c) && c.version === opts.version);
        return ok ? last : undefined;
      },
      {
        timeoutMs: opts.timeoutMs ?? 60_000,
        intervalMs: 250,
        what: `${opts.replicas} containers of ${opts.app} serving ${opts.version}`,
      },
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; Docker has: ${describeContainers(last)}`, { cause: err });
  }
}

export function describeContainers(containers: readonly ServiceContainer[]): string {
  return (
    containers
      .map((c) => `${c.node}:${c.id.slice(0, 8)}:${c.version ?? '?'}:${c.state}/${c.health}`)
      .join(' ') || 'none'
  );
}

// ---------------------------------------------------------------------------
// Templates

/**
 * Writes the file the healthcheck looks for, then sleeps. `exec`: the sleep
 * gets the stop signal from Docker's init (`init: true`), so a replaced
 * replica stops at once instead of waiting out a grace period.
 */
export const SLEEPER = ['sh', '-c', 'touch /tmp/ok; exec sleep 1000000'];
/** Exits at once, always: a revision whose containers never stay up. */
export const EXITS = ['sh', '-c', 'exit 3'];
/**
 * Passes from the first check. The timeout is generous on purpose: `test -f`
 * answers at once, but on a loaded 2-core machine Docker's exec of the check
 * can take over a second, and a 1 s timeout then marks a healthy replica
 * Unhealthy (rollouts roll back for nothing).
 */
export const HEALTHY = { command: ['test', '-f', '/tmp/ok'], interval: '1s', timeout: '5s', retries: 3 };
/** Fails its first check (1 s after start): unhealthy after interval × retries = 1 s. */
export const NEVER_HEALTHY = {
  command: ['test', '-f', '/tmp/missing'],
  interval: '1s',
  timeout: '1s',
  retries: 1,
};

export function replicaTemplate(opts: {
  image: string;
  app: string;
  version: string;
  command?: string[];
  healthcheck?: DockerContainerSpec['healthcheck'];
}): ContainerTemplate {
  const labels = { app: opts.app, version: opts.version };
  return {
    metadata: { labels },
    spec: {
      image: opts.image,
      init: true,
      stopGracePeriod: '2s',
      command: opts.command ?? SLEEPER,
      env: [{ name: 'VERSION', value: opts.version }],
      healthcheck: opts.healthcheck ?? HEALTHY,
      labels,
    },
  };
}

// ---------------------------------------------------------------------------
// Status

export const statusOf = (o: DockyardObject | undefined): DockerServiceStatus | undefined =>
  o?.status as DockerServiceStatus | undefined;

/** The status is about the current spec. */
export const observed = (o: DockyardObject): boolean =>
  o.status?.observedGeneration !== undefined && o.status.observedGeneration === o.metadata.generation;

/** Complete at the spec's revision with every one of `replicas` updated and Available, Ready=True. */
export const completeWith =
  (replicas: number) =>
  (o: DockyardObject): boolean => {
    const s = statusOf(o);
    return (
      observed(o) &&
      s?.phase === 'Complete' &&
      condition(o, 'Ready')?.status === 'True' &&
      s.currentRevision === s.updateRevision &&
      s.replicas === replicas &&
      s.updatedReplicas === replicas &&
      s.availableReplicas === replicas
    );
  };

export const phaseIs =
  (phase: string) =>
  (o: DockyardObject): boolean =>
    observed(o) && statusOf(o)?.phase === phase;

const short = (hash: string | undefined) => (hash ?? '-').slice(0, 8);

export function describeService(o: DockyardObject | undefined): string {
  if (!o) return 'no such service';
  const s = statusOf(o);
  if (!s) return `gen ${String(o.metadata.generation)}, no status`;
  const cond = (type: string) => {
    const c = condition(o, type);
    return c ? `${type}=${c.status}(${c.reason})` : `${type}=-`;
  };
  return (
    `gen ${String(o.metadata.generation)}/${String(s.observedGeneration)} phase ${String(s.phase)} ` +
    `${cond('Ready')} ${cond('Stalled')} ${cond('RolledBack')} ` +
    `current ${short(s.currentRevision)} update ${short(s.updateRevision)} stable ${short(s.stableRevision)} ` +
    `rev ${String(s.revision)} replicas ${String(s.replicas)} ready ${String(s.readyReplicas)} ` +
    `updated ${String(s.updatedReplicas)} available ${String(s.availableReplicas)}: ${String(s.rollout?.message)}`
  );
}

/** kube.waitFor on a DockerService, with the service's last status in the error. */
export async function waitForService(opts: {
  kube: Kube;
  namespace: string;
  name: string;
  until: (o: DockyardObject) => boolean;
  what: string;
  timeoutMs?: number;
}): Promise<DockyardObject> {
  const { kube, namespace, name } = opts;
  try {
    return await kube.waitFor('DockerService', namespace, name, opts.until, opts.what, opts.timeoutMs);
  } catch (err) {
    const last = await kube.get('DockerService', namespace, name);
    const replicas = await describeReplicas(kube, namespace, name).catch((e: Error) => e.message);
    throw new Error(`${(err as Error).message}; last: ${describeService(last)}; replicas: ${replicas}`, {
      cause: err,
    });
  }
}

/** The DockerContainers labelled as the service's replicas (including those being deleted). */
export async function serviceReplicas(
  kube: Kube,
  namespace: string,
  name: string,
): Promise<DockerContainer[]> {
  const items = await kube.list('DockerContainer', namespace, `${SERVICE_LABELS.service}=${name}`);
  return items as unknown as DockerContainer[];
}

/** The service's DockerContainers in a line: name, revision, slot, Ready, per-host phase. */
async function describeReplicas(kube: Kube, namespace: string, name: string): Promise<string> {
  const one = (c: DockerContainer) => {
    const ready = c.status?.conditions?.find((x) => x.type === 'Ready');
    const hosts = (c.status?.hosts ?? []).map((h) => `${h.name}:${h.phase}`).join(',');
    const slot = c.metadata.annotations?.[SLOT_ANNOTATION];
    return (
      `${c.metadata.name} rev ${(c.metadata.labels?.[SERVICE_LABELS.revision] ?? '?').slice(0, 8)} ` +
      `slot ${slot ?? '?'} Ready=${ready?.status ?? '-'} ${hosts}${c.metadata.deletionTimestamp ? ' (deleting)' : ''}`
    );
  };
  return (await serviceReplicas(kube, namespace, name)).map(one).join('; ') || 'none';
}

/** Creates the service and waits until it is Complete with `replicas`. */
export async function createComplete(opts: {
  kube: Kube;
  namespace: string;
  name: string;
  spec: DockerServiceSpec;
  replicas: number;
  timeoutMs?: number;
}): Promise<DockyardObject> {
  await opts.kube.create('DockerService', opts.namespace, opts.name, opts.spec);
  return waitForService({
    ...opts,
    until: completeWith(opts.replicas),
    what: `Complete with ${opts.replicas}`,
  });
}

/**
 * Replaces the template (a JSON merge patch: every template here has the same
 * keys, so merging is replacing) and returns the generation that asks for it.
 */
export async function rollTo(opts: {
  kube: Kube;
  namespace: string;
  name: string;
  template: ContainerTemplate;
}): Promise<number> {
  await opts.kube.patch('DockerService', opts.namespace, opts.name, { spec: { template: opts.template } });
  return (await opts.kube.get('DockerService', opts.namespace, opts.name))?.metadata.generation ?? 0;
}

/** `until`, for the status about `generation` (the spec a patch asked for). */
export const atGeneration =
  (generation: number, until: (o: DockyardObject) => boolean) =>
  (o: DockyardObject): boolean =>
    o.status?.observedGeneration === generation && until(o);

/**
 * Rolls the service to `template` and waits until it is Complete at that
 * revision with `replicas`, and Docker shows every one serving `version`.
 */
export async function rollToComplete(opts: {
  kube: Kube;
  lab: Lab;
  namespace: string;
  name: string;
  template: ContainerTemplate;
  replicas: number;
  version: string;
  timeoutMs: number;
}): Promise<DockyardObject> {
  const generation = await rollTo(opts);
  const done = await waitForService({
    ...opts,
    until: atGeneration(generation, completeWith(opts.replicas)),
    what: `Complete at ${opts.version}`,
  });
  await waitForServing({ lab: opts.lab, app: opts.name, replicas: opts.replicas, version: opts.version });
  return done;
}

/** Deletes the service and waits until Docker holds none of its containers (garbage collection). */
export async function deleteService(opts: {
  kube: Kube;
  lab: Lab;
  namespace: string;
  name: string;
}): Promise<void> {
  await opts.kube.delete('DockerService', opts.namespace, opts.name);
  await waitFor(async () => (await serviceContainers(opts.lab, opts.name)).length === 0, {
    timeoutMs: 90_000,
    intervalMs: 500,
    what: `the containers of ${opts.name} to be removed`,
  });
}

/** The message of the API server's refusal of `call`; throws when it was accepted. */
export async function refusal(call: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await call;
  } catch (err) {
    if (err instanceof ApiException) {
      const body = JSON.parse(String(err.body)) as { message?: string };
      return { code: err.code, message: body.message ?? '' };
    }
    throw err;
  }
  throw new Error('the API server accepted it');
}

/** The Events about the service, as `reason: note`, oldest first. */
export async function serviceEvents(kube: Kube, namespace: string, name: string): Promise<string[]> {
  const list = await kube.cp.kubeConfig().makeApiClient(EventsV1Api).listNamespacedEvent({ namespace });
  return list.items
    .filter((e) => e.regarding?.kind === 'DockerService' && e.regarding.name === name)
    .sort((a, b) => new Date(a.eventTime ?? 0).getTime() - new Date(b.eventTime ?? 0).getTime())
    .map((e) => `${e.reason ?? ''}: ${e.note ?? ''}`);
}
