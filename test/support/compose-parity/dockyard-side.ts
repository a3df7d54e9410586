// The Dockyard side: the converted manifests applied to the API server as
// `kubectl apply` would (ConfigMaps and Secrets, then DockerNetworks,
// DockerVolumes and DockerContainers), waited for until every object is
// Ready (a one-shot job's Completed phase is Ready too), and removed again
// down to the Docker objects on the node.

import type Dockerode from 'dockerode';
import type { Manifest } from '../../../src/compose/convert.js';
import { OWNER_LABELS } from '../../../src/crds/kit.js';
import { waitFor } from '../../../src/localenv/process.js';
import { condition, isReady, type DockyardObject, type Kube } from '../kube.js';
import type { PreparedProject } from './corpus.js';

const DOCKYARD_KINDS = ['DockerNetwork', 'DockerVolume', 'DockerContainer', 'DockerService'] as const;

/** How long every object of a project may take to be Ready. */
const READY_TIMEOUT_MS = 150_000;

async function applyManifest(kube: Kube, m: Manifest): Promise<void> {
  const { name, namespace, labels } = m.metadata;
  if (m.kind === 'ConfigMap') {
    const body = { metadata: { name, labels }, data: m.data, binaryData: m.binaryData } as Record<
      string,
      unknown
    >;
    await kube.core.createNamespacedConfigMap({ namespace, body });
  } else if (m.kind === 'Secret') {
    const body = { metadata: { name, labels }, type: m.type, data: m.data } as Record<string, unknown>;
    await kube.core.createNamespacedSecret({ namespace, body });
  } else {
    await kube.create(m.kind, namespace, name, m.spec as Record<string, unknown>, { labels });
  }
}

/** A Stalled object is given this long to recover before the project counts as not up. */
const STALLED_GRACE_MS = 5_000;

function describeObject(o: DockyardObject): string {
  const ready = condition(o, 'Ready');
  return `${o.kind}/${o.metadata.name}: ${ready?.reason ?? 'no status yet'}${ready?.message ? ` (${ready.message})` : ''}`;
}

/**
 * A not-Ready object that will change by itself: neither Stalled nor waiting
 * for a dependency that is not Ready yet (one whose dependencies are all
 * Ready goes on at its next reconcile).
 */
function settling(o: DockyardObject, readyNames: ReadonlySet<string>): boolean {
  if (condition(o, 'Stalled')?.status === 'True') return false;
  if (condition(o, 'Ready')?.reason !== 'WaitingForDependencies') return true;
  const dependsOn = (o.spec as { dependsOn?: Array<{ name: string }> }).dependsOn ?? [];
  return dependsOn.every((d) => readyNames.has(d.name));
}

/**
 * Applies the manifests and waits until every Dockyard object is Ready. Fails
 * early when an object stays Stalled (PolicyViolation, UnsupportedByEngine,
 * Failed…: nothing will change without an edit) once nothing else is still
 * settling (a seed job the stalled one does not hold up runs to its end
 * first, as it does on the compose side), naming every object not Ready and why.
 */
export async function dockyardUp(kube: Kube, p: PreparedProject): Promise<void> {
  await kube.namespace(p.namespace);
  for (const m of p.conversion.objects) await applyManifest(kube, m);
  const expected = p.conversion.objects.filter((m) => (DOCKYARD_KINDS as readonly string[]).includes(m.kind));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let stalledSince: number | undefined;
  for (;;) {
    const objects = (await Promise.all(DOCKYARD_KINDS.map((kind) => kube.list(kind, p.namespace)))).flat();
    const notReady = expected.flatMap((m) => {
      const o = objects.find((x) => x.kind === m.kind && x.metadata.name === m.metadata.name);
      return o && isReady(o)
        ? []
        : [o ?? ({ kind: m.kind, metadata: m.metadata, spec: {} } as DockyardObject)];
    });
    if (notReady.length === 0) return;
    const readyNames = new Set(
      objects.filter((o) => o.kind === 'DockerContainer' && isReady(o)).map((o) => o.metadata.name),
    );
    const stalled =
      notReady.some((o) => condition(o, 'Stalled')?.status === 'True') &&
      !notReady.some((o) => settling(o, readyNames));
    stalledSince = stalled ? (stalledSince ?? Date.now()) : undefined;
    const timedOut = Date.now() > deadline;
    if (timedOut || (stalledSince !== undefined && Date.now() - stalledSince > STALLED_GRACE_MS)) {
      const why = timedOut ? `not Ready after ${READY_TIMEOUT_MS / 1000} s` : 'Stalled';
      throw new Error(`${why}: ${notReady.map(describeObject).join('; ')}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Deletes the project's objects and waits until the controllers removed their
 * containers and networks from the node; the volumes (deletionPolicy Orphan,
 * the default) are removed by hand once their DockerVolumes are gone.
 */
export async function dockyardDown(kube: Kube, docker: Dockerode, p: PreparedProject): Promise<void> {
  const ns = p.namespace;
  const objects = (await Promise.all(DOCKYARD_KINDS.map((kind) => kube.list(kind, ns)))).flat();
  await Promise.all(objects.map((o) => kube.delete(o.kind, ns, o.metadata.name).catch(() => {})));
  const label = { label: [`${OWNER_LABELS.namespace}=${ns}`] };
  // The controllers stop each container with its stop grace period (10 s by
  // default) before removing it; compose's side goes down with `-t 1`. A
  // SIGKILL now (a kill counts as a manual stop: no restart policy brings it
  // back) makes that stop immediate; the removal is still the controllers'.
  const running = await docker.listContainers({ filters: label });
  await Promise.all(
    running.map((c) =>
      docker
        .getContainer(c.Id)
        .kill()
        .catch(() => {}),
    ),
  );
  await waitFor(
    async () => {
      const [left, containers, networks] = await Promise.all([
        Promise.all(DOCKYARD_KINDS.map((kind) => kube.list(kind, ns))).then((l) => l.flat()),
        docker.listContainers({ all: true, filters: label }),
        docker.listNetworks({ filters: label }),
      ]);
      return left.length === 0 && containers.length === 0 && networks.length === 0;
    },
    {
      timeoutMs: 90_000,
      intervalMs: 250,
      what: `the objects of ${ns} gone from the API server and the node`,
    },
  );
  const { Volumes } = await docker.listVolumes({ filters: label });
  await Promise.all((Volumes ?? []).map((v) => docker.getVolume(v.Name).remove()));
  await kube.core.deleteNamespace({ name: ns });
}
