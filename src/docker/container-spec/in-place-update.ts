// What changes in place: restart policy and resources. Facts about Engine
// 20.10 (API 1.41) relied on here, each seen on a real daemon
// (test/integration/container-client.test.ts):
// - POST /containers/{id}/update ignores Memory 0 and NanoCpus 0 and refuses
//   -1 for both: a memory or CPU limit can be changed in place but not removed.
//   MemoryReservation -1 and PidsLimit 0 do remove theirs.
// - A new Memory above the container's MemorySwap is refused unless MemorySwap
//   changes with it; a container created without a limit has MemorySwap 0.
import { parseByteQuantity, parseCpuQuantity } from '../../crds/quantities.js';
import type { ContainerUpdateBody, ObservedContainer } from '../container-client.js';
import { restartPolicyOf, type Spec } from './inputs.js';

/** An update body with every in-place field present. */
export interface DesiredUpdate extends ContainerUpdateBody {
  RestartPolicy: { Name: string; MaximumRetryCount?: number };
  Memory: number;
  MemoryReservation: number;
  NanoCpus: number;
  PidsLimit: number;
}

/**
 * The update body that brings a container's in-place fields to the spec.
 * Unset fields use the value that clears them where Docker can clear in
 * place: MemoryReservation -1 and PidsLimit 0 (unlimited); restart policy
 * `unless-stopped`. Memory and NanoCpus 0 mean "leave as is" to Docker (a
 * limit cannot be removed in place: see removedLimits). MemorySwap goes with
 * Memory, at twice it (Docker's create-time default), because Docker refuses
 * a Memory above the current MemorySwap.
 */
export function desiredUpdate(spec: Spec): DesiredUpdate {
  const r = spec.resources;
  const memory = r?.memory !== undefined ? parseByteQuantity(r.memory) : 0;
  return {
    RestartPolicy: restartPolicyOf(spec),
    Memory: memory,
    ...(memory > 0 ? { MemorySwap: memory * 2 } : {}),
    MemoryReservation: r?.memoryReservation !== undefined ? parseByteQuantity(r.memoryReservation) : -1,
    NanoCpus: r?.cpus !== undefined ? parseCpuQuantity(r.cpus) : 0,
    PidsLimit: r?.pidsLimit ?? 0,
  };
}

/**
 * The fields of desiredUpdate that differ from what the container reports,
 * or undefined when nothing needs changing. Never diffs against defaults the
 * spec did not ask for: an unset memory or CPU limit is left to removedLimits
 * (a recreate), so this never returns a body Docker would ignore.
 */
export function updateNeeded(spec: Spec, observed: ObservedContainer): ContainerUpdateBody | undefined {
  const want = desiredUpdate(spec);
  const have = observed.hostConfig;
  const body: ContainerUpdateBody = {};

  const rp = want.RestartPolicy;
  const retries = rp.Name === 'on-failure' ? (rp.MaximumRetryCount ?? 0) : 0;
  const haveRetries = have.restartPolicy.name === 'on-failure' ? have.restartPolicy.maximumRetryCount : 0;
  if ((have.restartPolicy.name || 'no') !== rp.Name || haveRetries !== retries) body.RestartPolicy = rp;

  if (want.Memory > 0 && want.Memory !== have.memory) {
    body.Memory = want.Memory;
    body.MemorySwap = want.Memory * 2;
  }
  const reservation = Math.max(0, want.MemoryReservation);
  if (reservation !== Math.max(0, have.memoryReservation)) body.MemoryReservation = want.MemoryReservation;
  if (want.NanoCpus > 0 && want.NanoCpus !== have.nanoCpus) body.NanoCpus = want.NanoCpus;
  if (want.PidsLimit !== have.pidsLimit) body.PidsLimit = want.PidsLimit;

  return Object.keys(body).length > 0 ? body : undefined;
}

/**
 * Limits the container has but the spec no longer sets, which Docker cannot
 * remove in place (update ignores 0 and refuses -1 for Memory and NanoCpus):
 * these need a recreate.
 */
export function removedLimits(spec: Spec, observed: ObservedContainer): string[] {
  const out: string[] = [];
  if (spec.resources?.memory === undefined && observed.hostConfig.memory > 0) out.push('resources.memory');
  if (spec.resources?.cpus === undefined && observed.hostConfig.nanoCpus > 0) out.push('resources.cpus');
  return out;
}
