import type { DockerBuild } from '../../crds/dockerbuild.js';
import { OWNER_LABELS } from '../../crds/kit.js';
import { imageClient, type ObservedImage } from '../../docker/image-client.js';
import type { Observed } from '../../managed/host-flow.js';
import { savedFromEntry } from '../../managed/machine-state.js';
import type { SavedMachineState } from '../../managed/machine-step.js';
import { ownership } from '../../managed/ownership.js';
import type { HostContext } from '../../managed/types.js';
import { checkBuildPolicy, describeViolations, hostPolicyOf } from '../../policy/security-policy.js';
import { KubeRefReader } from '../dockercontainer/env-resolver.js';
import { resolveBuildInputs, type BuildInputs } from './build-inputs.js';
import { NO_PUSH, observePushes, pushOwnerOf, type PushWork } from '../image-push/image-push.js';
import { pushEnded } from '../image-push/push-result.js';
import type { BuildResult } from './build-jobs.js';
import { buildHostKey, buildOwner, buildTagOf, type BuildKindState } from './build-kind-state.js';
import {
  INITIAL_BUILD_CONTEXT,
  type BuildEvent,
  type BuildMachineContext,
  type TagOwner,
} from './build-machine.js';

/** What the build flow knows about one owner on one host: observed first, then updated as it acts. */
export interface BuildWork {
  tag: string;
  /** The owner's queue key `namespace/name`. */
  ownerKey: string;
  hostKey: string;
  now: number;
  /** The image the tag names on the host. */
  local: ObservedImage | undefined;
  tagOwner: TagOwner;
  /** The host policy's refusal, described; undefined when it allows builds. */
  violation: string | undefined;
  /** Read only when the build may go ahead (a refused build reads no Secret). */
  inputs: BuildInputs | undefined;
  /** How the owner's build ended, when it ended since the last look. */
  finished: BuildResult | undefined;
  /** The pushes of the current image to spec.push (none looked at before it is current). */
  push: PushWork;
}

/** This process's last decision for the owner on the host, else what status saved. */
export function restoreBuild(
  state: BuildKindState,
  ctx: HostContext<DockerBuild>,
): SavedMachineState<BuildMachineContext> | undefined {
  const memo = state.memo.get(buildHostKey(ctx.obj, ctx.host.metadata.name));
  return memo ?? savedFromEntry<BuildMachineContext>(ctx.previous, INITIAL_BUILD_CONTEXT);
}

function tagOwnerOf(local: ObservedImage | undefined, build: DockerBuild): TagOwner {
  if (!local) return 'missing';
  return ownership(local.labels, buildOwner(build));
}

/** A finished build, as the event the machine decides on before the observation. */
function buildEnded(result: BuildResult): BuildEvent {
  if (result.ok)
    return {
      type: 'BUILD_SUCCEEDED',
      now: result.finishedAt,
      hash: result.hash,
      imageId: result.imageId,
      durationMs: result.durationMs,
    };
  return {
    type: 'BUILD_FAILED',
    now: result.finishedAt,
    hash: result.hash,
    reason: result.reason,
    message: result.message,
  };
}

/**
 * Looks at the policy, the tag on the host, the inputs and the owner's
 * build. A build still running for another hash (the spec or context
 * changed) is aborted: its image would be stale on arrival.
 */
export async function observeBuild(
  state: BuildKindState,
  ctx: HostContext<DockerBuild>,
): Promise<Observed<BuildWork, BuildEvent>> {
  const { obj, host } = ctx;
  const policy = hostPolicyOf(host.spec);
  const violations = checkBuildPolicy(policy, obj.spec);
  const work: BuildWork = {
    tag: buildTagOf(obj),
    ownerKey: `${ctx.namespace}/${obj.metadata.name}`,
    hostKey: buildHostKey(obj, host.metadata.name),
    now: ctx.now.getTime(),
    local: undefined,
    tagOwner: 'missing',
    violation:
      violations.length > 0 ? describeViolations(host.metadata.name, policy.level, violations) : undefined,
    inputs: undefined,
    finished: undefined,
    push: NO_PUSH,
  };
  const refused = work.violation !== undefined || ctx.paused;
  if (!refused) work.inputs = await resolveBuildInputs(obj, new KubeRefReader(state.core, ctx.namespace));
  const hash = work.inputs?.ok ? work.inputs.hash : undefined;
  let view = state.jobs.view(work.hostKey);
  if (view?.state === 'running' && view.hash !== hash) {
    await state.jobs.release(work.hostKey);
    view = undefined;
  }
  work.finished = view?.state === 'done' ? view.result : undefined;
  // After looking at the build: an image a build just made is seen here.
  work.local = await imageClient.inspect(ctx.conn.api, work.tag);
  work.tagOwner = tagOwnerOf(work.local, obj);
  const current =
    work.tagOwner === 'ours' && hash !== undefined && work.local?.labels?.[OWNER_LABELS.specHash] === hash;
  if (current && work.local && hash && (obj.spec.push?.length ?? 0) > 0 && view?.state !== 'running')
    work.push = await observePushes({
      deps: state.pushDeps,
      owner: pushOwnerOf(ctx, work.hostKey),
      hash,
      local: work.local,
    });
  const { finished: pushed } = work.push;
  return {
    work,
    earlier: [...(work.finished ? [buildEnded(work.finished)] : []), ...(pushed ? [pushEnded(pushed)] : [])],
    event: {
      type: 'OBSERVED',
      now: work.now,
      hash,
      tag: work.tagOwner,
      current,
      building: view?.state === 'running',
      pushPending: work.push.pending.length > 0,
      pushing: work.push.running,
      ...(work.inputs && !work.inputs.ok
        ? { inputsFailure: { reason: work.inputs.reason, message: work.inputs.message } }
        : {}),
      policyViolation: work.violation !== undefined,
      paused: ctx.paused,
    },
  };
}
