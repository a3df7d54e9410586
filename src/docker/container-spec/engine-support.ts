// Fields a daemon only understands from some Engine API version on. An older
// daemon does not refuse them: it silently ignores a JSON key it does not know,
// so the container would run without what the spec asked for. Dockyard
// therefore refuses such a spec on a host whose engine is too old (the
// DockerHost reports its API version in status.engine.apiVersion), naming the
// field and the version it needs. Pure: no I/O.
import type { DockerContainerSpec } from '../../crds/dockercontainer.js';

/** One field that needs a minimum Engine API version. */
export interface EngineRequirement {
  /** The spec field as people write it, e.g. `spec.mounts[].subPath`. */
  field: string;
  /** The first Engine API version that honours it, as `[major, minor]`. */
  minApi: readonly [number, number];
  /** The concrete paths of the field in this spec that are set (empty when unused). */
  usedAt: (spec: DockerContainerSpec) => string[];
}

/** Every version-gated field. Add a row when a field needs a newer engine than 1.41 (Engine 20.10). */
export const ENGINE_REQUIREMENTS: readonly EngineRequirement[] = [
  {
    field: 'spec.mounts[].subPath',
    minApi: [1, 45],
    usedAt: (spec) =>
      (spec.mounts ?? []).flatMap((m, i) => (m.subPath !== undefined ? [`spec.mounts[${i}].subPath`] : [])),
  },
  {
    // The first network's MAC also goes in Config.MacAddress, which every
    // engine reads at create; a per-endpoint MAC (any other network) needs 1.44.
    field: 'spec.networks[].macAddress',
    minApi: [1, 44],
    usedAt: (spec) =>
      (spec.networks ?? []).flatMap((n, i) =>
        i > 0 && n.macAddress !== undefined ? [`spec.networks[${i}].macAddress`] : [],
      ),
  },
  {
    // HealthConfig.StartInterval came with API 1.44 (Engine 25); older engines
    // drop it and check at the full interval during the start period. Not
    // when disabled: the create options then carry Test NONE alone.
    field: 'spec.healthcheck.startInterval',
    minApi: [1, 44],
    usedAt: (spec) =>
      spec.healthcheck?.startInterval !== undefined && spec.healthcheck.disable !== true
        ? ['spec.healthcheck.startInterval']
        : [],
  },
  {
    // HostConfig.CgroupnsMode came with API 1.41 (Engine 20.10): an older
    // engine drops it and runs the container in the host's cgroup namespace,
    // the opposite of a `private` the spec may ask for.
    field: 'spec.security.cgroupnsMode',
    minApi: [1, 41],
    usedAt: (spec) => (spec.security?.cgroupnsMode !== undefined ? ['spec.security.cgroupnsMode'] : []),
  },
];

/** A field the host's engine cannot honour. */
export interface EngineProblem {
  field: string;
  message: string;
}

function apiAtLeast(version: string, [major, minor]: readonly [number, number]): boolean {
  const m = /^(\d+)\.(\d+)/.exec(version);
  if (!m) return false;
  const [maj, min] = [Number(m[1]), Number(m[2])];
  return maj > major || (maj === major && min >= minor);
}

/**
 * What the spec asks for that an engine of `apiVersion` would ignore. An
 * unknown version (a host not probed yet) refuses nothing here: the host is
 * not Ready then, and nothing is created on it.
 */
export function engineProblems(spec: DockerContainerSpec, apiVersion: string | undefined): EngineProblem[] {
  if (apiVersion === undefined) return [];
  return ENGINE_REQUIREMENTS.flatMap((req) =>
    apiAtLeast(apiVersion, req.minApi)
      ? []
      : req.usedAt(spec).map((field) => ({
          field,
          message: `needs Docker Engine API ${req.minApi.join('.')} or newer; this host's engine speaks ${apiVersion}`,
        })),
  );
}
