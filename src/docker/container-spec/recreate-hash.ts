// The recreate hash: everything that needs a recreate to change, normalised
// and grouped, hashed whole for the `dockyard.io/spec-hash` label and per
// group for the spec-groups label (so a Recreated Event can say what changed).
import { parseByteQuantity, parseDuration } from '../../crds/quantities.js';
import { specHash } from '../spec-hash.js';
import { confinementHashOf } from './confinement-options.js';
import { runtimeGroupsOf } from './runtime-options.js';
import {
  capabilities,
  emptyToUndefined,
  networkModeOf,
  nonEmpty,
  nonEmptyMap,
  normalSignal,
  protocolOf,
  sortedBy,
  trueOrUndefined,
  volumeNameOf,
  type ContainerInputs,
  type Spec,
} from './inputs.js';

/** Per-group hashes of the recreate-relevant spec, so a Recreated Event can say what changed. */
export const SPEC_GROUPS_LABEL = 'dockyard.io/spec-groups';

function portsGroup(spec: Spec) {
  return nonEmpty(
    sortedBy(
      (spec.ports ?? []).map((p) => ({
        containerPort: p.containerPort,
        protocol: protocolOf(p),
        hostPort: p.hostPort,
        hostIP: p.hostIP,
      })),
      (p) => JSON.stringify([p.containerPort, p.protocol, p.hostPort ?? 0, p.hostIP ?? '']),
    ),
  );
}

function mountsGroup(spec: Spec, inputs: ContainerInputs) {
  return nonEmpty(
    sortedBy(
      (spec.mounts ?? []).map((m) => ({
        type: m.type,
        target: m.target,
        source:
          m.type === 'volume' ? volumeNameOf(inputs, m.volume) : m.type === 'bind' ? m.hostPath : undefined,
        readOnly: trueOrUndefined(m.readOnly),
        tmpfsSizeBytes: m.tmpfsSize !== undefined ? parseByteQuantity(m.tmpfsSize) : undefined,
        // Mount options: unset adds no key, so existing containers keep their hash.
        tmpfsMode: m.tmpfsMode !== undefined ? parseInt(m.tmpfsMode, 8) : undefined,
        subPath: m.subPath,
        noCopy: trueOrUndefined(m.noCopy),
        propagation: m.propagation,
        selinuxRelabel: m.selinuxRelabel,
      })),
      (m) => `${m.target}\0${m.type}`,
    ),
  );
}

/**
 * The first network's MAC: older engines (API < 1.44) take it only at create
 * (Config.MacAddress), so a change recreates; the other networks' addresses
 * change in place (network-changes.ts).
 */
function firstMacGroup(spec: Spec): string | undefined {
  if (networkModeOf(spec)) return undefined;
  return spec.networks?.[0]?.macAddress?.toLowerCase();
}

/** Disabled is only that (Docker ignores the timings); shell and startInterval add keys only when set. */
function healthcheckGroup(spec: Spec) {
  const hc = spec.healthcheck;
  if (!hc) return undefined;
  if (hc.disable) return { disable: true };
  return {
    test: hc.command,
    shell: hc.shell,
    intervalNs: hc.interval !== undefined ? parseDuration(hc.interval) : undefined,
    timeoutNs: hc.timeout !== undefined ? parseDuration(hc.timeout) : undefined,
    retries: hc.retries,
    startPeriodNs: hc.startPeriod !== undefined ? parseDuration(hc.startPeriod) : undefined,
    startIntervalNs: hc.startInterval !== undefined ? parseDuration(hc.startInterval) : undefined,
  };
}

function securityGroup(spec: Spec, inputs: ContainerInputs) {
  const sec = spec.security ?? {};
  return emptyToUndefined({
    privileged: trueOrUndefined(sec.privileged),
    capAdd: capabilities(sec.capAdd),
    capDrop: capabilities(sec.capDrop),
    readOnlyRootFilesystem: trueOrUndefined(sec.readOnlyRootFilesystem),
    noNewPrivileges: trueOrUndefined(sec.noNewPrivileges),
    networkMode: sec.networkMode === 'default' ? undefined : sec.networkMode,
    pidMode: sec.pidMode === 'private' ? undefined : sec.pidMode,
    ipcMode: sec.ipcMode,
    utsMode: sec.utsMode === 'private' ? undefined : sec.utsMode,
    devices: nonEmpty(
      sortedBy(
        (sec.devices ?? []).map((d) => ({
          hostPath: d.hostPath,
          containerPath: d.containerPath ?? d.hostPath,
          permissions: d.permissions ?? 'rwm',
        })),
        (d) => `${d.containerPath}\0${d.hostPath}`,
      ),
    ),
    ...confinementHashOf(spec, inputs),
  });
}

/**
 * The recreate-relevant spec, normalised and grouped. Only what the user
 * specified: no daemon defaults, so an unset field and a field set to its
 * "off" value (`ports: []`, `readOnly: false`, `networkMode: default`) hash
 * the same, and adding a group later leaves existing hashes alone (undefined
 * groups are dropped from the canonical JSON).
 */
export function recreateGroups(spec: Spec, inputs: ContainerInputs): Record<string, unknown> {
  const env: Record<string, string> = {};
  for (const e of inputs.env) env[e.name] = e.value; // later wins, as in Docker
  return {
    name: inputs.name,
    // A digest the host's imagePolicy pinned spec.image to changes only with spec.image: hashing the
    // spec's reference keeps a pin (a policy set on a host) from recreating what already runs.
    image: inputs.pinnedFrom ? { ref: inputs.pinnedFrom } : { ref: inputs.image, digest: inputs.imageDigest },
    command:
      spec.command !== undefined || spec.args !== undefined
        ? { command: spec.command, args: spec.args }
        : undefined,
    workingDir: spec.workingDir,
    user: spec.user,
    hostname: spec.hostname,
    env: Object.keys(env).length > 0 ? env : undefined,
    // The files' content, mode and owner, hashed (a Secret change rolls the container).
    files: inputs.filesHash,
    ports: portsGroup(spec),
    mounts: mountsGroup(spec, inputs),
    macAddress: firstMacGroup(spec),
    // The target's container ID: recreated with it (its network namespace dies with it).
    networkContainer: networkModeOf(spec) === 'container' ? inputs.networkContainerId : undefined,
    healthcheck: healthcheckGroup(spec),
    // sysctls, ulimits, shmSize, init, tty, stdinOpen, hostAliases, dnsConfig.
    ...runtimeGroupsOf(spec),
    security: securityGroup(spec, inputs),
    labels: nonEmptyMap(spec.labels),
    stopSignal: spec.stopSignal !== undefined ? normalSignal(spec.stopSignal) : undefined,
    logging: spec.logging
      ? { driver: spec.logging.driver, options: nonEmptyMap(spec.logging.options) }
      : undefined,
  };
}

/**
 * The hash of everything that needs a recreate to change, for the
 * `dockyard.io/spec-hash` label. Left out: what changes in place
 * (restartPolicy, resources, networks), what is not a container property
 * (state, placement, deletionPolicy) and stopGracePeriod (passed at stop time).
 */
export function recreateHash(spec: Spec, inputs: ContainerInputs): string {
  return specHash(recreateGroups(spec, inputs));
}

/** `command=1a2b3c4d,env=…`: a short hash per group, sorted by group. */
export function groupHashes(spec: Spec, inputs: ContainerInputs): string {
  return Object.entries(recreateGroups(spec, inputs))
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${specHash(v).slice(0, 8)}`)
    .sort()
    .join(',');
}

/** The per-group hashes of a spec-groups label; undefined when absent or malformed. */
export function parseGroupHashes(label: string | undefined): Map<string, string> | undefined {
  if (!label) return undefined;
  const out = new Map<string, string>();
  for (const part of label.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return undefined;
    out.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return out;
}
