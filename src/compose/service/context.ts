// What a service key's mapper gets: the service's draft DockerContainer spec
// (built up key by key), the project-wide names, and the findings collector.

import type { ContainerTemplateSpec } from '../../crds/dockerservice.js';
import type { Findings } from '../findings.js';
import type { ComposeProject, ComposeService } from '../project-types.js';

/** Kubernetes names of the project's objects, by Compose name. */
export interface ProjectNames {
  services: ReadonlyMap<string, string>;
  networks: ReadonlyMap<string, string>;
  volumes: ReadonlyMap<string, string>;
  configs: ReadonlyMap<string, string>;
  secrets: ReadonlyMap<string, string>;
}

export interface ServiceContext {
  project: ComposeProject;
  names: ProjectNames;
  findings: Findings;
  /** The Compose service name. */
  serviceName: string;
  service: ComposeService;
  /** Compose's project directory as the loader saw it: bind sources under it are project files. */
  projectDir: string;
}

/** The DockerContainer spec being built, plus what decides the kind (replicas). */
export interface ServiceDraft {
  spec: ContainerTemplateSpec;
  replicas: number;
}

/** Maps one key of a service; `path` is `services.NAME.KEY` for findings. */
export type KeyMapper = (value: unknown, draft: ServiceDraft, ctx: ServiceContext, path: string) => void;

/**
 * A service key: mapped, accepted without effect (Compose itself sends
 * nothing of it to Docker, or the loader already applied it), or refused.
 */
export type ServiceKey = { map: KeyMapper } | { noDockerEffect: string } | { unsupported: string };

/** Reports every key of `value` not in `known` as unsupported (sub-keys of a mapped key). */
export function refuseOtherKeys(
  value: Record<string, unknown>,
  known: readonly string[],
  ctx: ServiceContext,
  path: string,
  reason = 'Dockyard has no equivalent',
): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) ctx.findings.unsupported(`${path}.${key}`, reason);
  }
}

export function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

export function asStrings(value: unknown): string[] {
  return Array.isArray(value) ? value.map((v) => String(v)) : [];
}

/** Go's byte counts arrive as decimal strings or numbers. */
export function bytes(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '' || value === 0 || value === '0') return undefined;
  return String(value);
}

/** Compose CPUs (a float) as a Kubernetes CPU quantity: 0.5 → "0.5", 0.3333 → "333m". */
export function cpuQuantity(value: unknown): string | undefined {
  const cpus = Number(value);
  if (!Number.isFinite(cpus) || cpus <= 0) return undefined;
  const milli = Math.round(cpus * 1000);
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}
