// Service keys for how the container runs: restart policy, healthcheck,
// resources (the plain keys and deploy.resources, which docker compose also
// applies), replicas.

import type { ContainerTemplateSpec } from '../../crds/dockerservice.js';
import {
  asRecord,
  asStrings,
  bytes,
  cpuQuantity,
  refuseOtherKeys,
  type ServiceContext,
  type ServiceDraft,
  type ServiceKey,
} from './context.js';

type RestartPolicy = NonNullable<ContainerTemplateSpec['restartPolicy']>;
type Resources = NonNullable<ContainerTemplateSpec['resources']>;

/** "no", "always", "unless-stopped", "on-failure" or "on-failure:N". */
function restartPolicy(value: string): RestartPolicy | undefined {
  const [name, retries] = value.split(':');
  if (name === 'on-failure') {
    return retries ? { name, maximumRetryCount: Number(retries) } : { name };
  }
  if (name === 'no' || name === 'always' || name === 'unless-stopped') return { name };
  return undefined;
}

function mapHealthcheck(value: unknown, draft: ServiceDraft, ctx: ServiceContext, path: string): void {
  const hc = asRecord(value);
  refuseOtherKeys(
    hc,
    ['test', 'interval', 'timeout', 'retries', 'start_period', 'start_interval', 'disable'],
    ctx,
    path,
  );
  const test = asStrings(hc.test);
  if (hc.disable === true || test[0] === 'NONE') {
    draft.spec.healthcheck = { disable: true };
    return;
  }
  const timing = {
    ...(typeof hc.interval === 'string' ? { interval: hc.interval } : {}),
    ...(typeof hc.timeout === 'string' ? { timeout: hc.timeout } : {}),
    ...(typeof hc.retries === 'number' ? { retries: hc.retries } : {}),
    ...(typeof hc.start_period === 'string' ? { startPeriod: hc.start_period } : {}),
    ...(typeof hc.start_interval === 'string' ? { startInterval: hc.start_interval } : {}),
  };
  if (test[0] === 'CMD') draft.spec.healthcheck = { command: test.slice(1), ...timing };
  else if (test[0] === 'CMD-SHELL') draft.spec.healthcheck = { shell: test.slice(1).join(' '), ...timing };
  // Timing alone overrides the image's HEALTHCHECK timing under Compose;
  // a Dockyard healthcheck needs its test.
  else if (Object.keys(timing).length > 0) ctx.findings.unsupported(path, 'a healthcheck without test');
}

function setResources(draft: ServiceDraft, resources: Resources): void {
  const merged = { ...draft.spec.resources };
  for (const [key, value] of Object.entries(resources)) {
    if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
  }
  if (Object.keys(merged).length > 0) draft.spec.resources = merged;
}

function mapDeployResources(value: unknown, draft: ServiceDraft, ctx: ServiceContext, path: string): void {
  const resources = asRecord(value);
  refuseOtherKeys(resources, ['limits', 'reservations'], ctx, path);
  const limits = asRecord(resources.limits);
  refuseOtherKeys(limits, ['cpus', 'memory', 'pids'], ctx, `${path}.limits`);
  const reservations = asRecord(resources.reservations);
  refuseOtherKeys(
    reservations,
    ['memory', 'devices'],
    ctx,
    `${path}.reservations`,
    'docker compose sends only memory and devices reservations to Docker; Dockyard has no other',
  );
  setResources(draft, {
    memory: bytes(limits.memory),
    cpus: cpuQuantity(limits.cpus),
    pidsLimit: typeof limits.pids === 'number' && limits.pids !== 0 ? limits.pids : undefined,
    memoryReservation: bytes(reservations.memory),
  });
  if (Array.isArray(reservations.devices)) {
    draft.spec.resources = {
      ...draft.spec.resources,
      deviceRequests: reservations.devices.map((d) => deviceRequest(asRecord(d))),
    };
  }
}

export function deviceRequest(d: Record<string, unknown>): NonNullable<Resources['deviceRequests']>[number] {
  const count = d.count === 'all' || d.count === -1 ? -1 : typeof d.count === 'number' ? d.count : undefined;
  const ids = asStrings(d.device_ids);
  const options = asRecord(d.options) as Record<string, string>;
  return {
    ...(typeof d.driver === 'string' ? { driver: d.driver } : {}),
    ...(count !== undefined ? { count } : {}),
    ...(ids.length > 0 ? { deviceIDs: ids } : {}),
    capabilities: [asStrings(d.capabilities).length > 0 ? asStrings(d.capabilities) : ['gpu']],
    ...(Object.keys(options).length > 0 ? { options } : {}),
  };
}

/** deploy: docker compose reads resources, replicas and restart_policy; the rest is for Swarm. */
function mapDeploy(value: unknown, draft: ServiceDraft, ctx: ServiceContext, path: string): void {
  const deploy = asRecord(value);
  for (const [key, sub] of Object.entries(deploy)) {
    if (key === 'resources') mapDeployResources(sub, draft, ctx, `${path}.resources`);
    else if (key === 'replicas' && typeof sub === 'number') draft.replicas = sub;
    else if (key === 'restart_policy') mapDeployRestart(sub, draft, ctx, `${path}.restart_policy`);
    else if (key === 'placement' && Object.keys(asRecord(sub)).length === 0) continue;
    else
      ctx.findings.unsupported(
        `${path}.${key}`,
        'a Swarm setting: docker compose ignores it, Dockyard has no equivalent',
      );
  }
}

/** deploy.restart_policy applies when `restart` is unset, as under docker compose. */
function mapDeployRestart(value: unknown, draft: ServiceDraft, ctx: ServiceContext, path: string): void {
  if (ctx.service.restart !== undefined) return;
  const policy = asRecord(value);
  refuseOtherKeys(policy, ['condition', 'max_attempts'], ctx, path);
  const name = { none: 'no', 'on-failure': 'on-failure', any: 'always' }[String(policy.condition ?? 'any')];
  if (name === undefined)
    return ctx.findings.unsupported(`${path}.condition`, `unknown condition ${String(policy.condition)}`);
  draft.spec.restartPolicy =
    name === 'on-failure' && typeof policy.max_attempts === 'number'
      ? { name, maximumRetryCount: policy.max_attempts }
      : { name: name as RestartPolicy['name'] };
}

export const RUNTIME_KEYS: Record<string, ServiceKey> = {
  restart: {
    map: (value, draft, ctx, path) => {
      const policy = restartPolicy(String(value));
      if (policy) draft.spec.restartPolicy = policy;
      else ctx.findings.unsupported(path, `unknown restart policy ${String(value)}`);
    },
  },
  healthcheck: { map: mapHealthcheck },
  mem_limit: { map: (v, draft) => setResources(draft, { memory: bytes(v) }) },
  mem_reservation: { map: (v, draft) => setResources(draft, { memoryReservation: bytes(v) }) },
  cpus: { map: (v, draft) => setResources(draft, { cpus: cpuQuantity(v) }) },
  pids_limit: {
    map: (v, draft) => setResources(draft, { pidsLimit: typeof v === 'number' && v !== 0 ? v : undefined }),
  },
  shm_size: { map: (v, draft) => setResources(draft, { shmSize: bytes(v) }) },
  gpus: {
    map: (value, draft) => {
      if (!Array.isArray(value)) return;
      const requests = value.map((d) => deviceRequest(asRecord(d)));
      draft.spec.resources = {
        ...draft.spec.resources,
        deviceRequests: [...(draft.spec.resources?.deviceRequests ?? []), ...requests],
      };
    },
  },
  deploy: { map: mapDeploy },
  scale: {
    map: (value, draft) => {
      if (typeof value === 'number') draft.replicas = value;
    },
  },
  pull_policy: {
    map: (value, _draft, ctx, path) => {
      // Dockyard pulls a missing image and never re-pulls a present one; a
      // DockerImage with pullPolicy Always (imageRef) is the way to follow a tag.
      if (value !== 'missing' && value !== 'if_not_present') {
        ctx.findings.unsupported(path, `pull_policy ${String(value)}: Dockyard pulls only a missing image`);
      }
    },
  },
};
