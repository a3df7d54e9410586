import type { DockerImage } from '../../crds/dockerimage.js';
import { Reason } from '../../crds/reasons.js';
import { checkPushPolicy, describeViolations, hostPolicyOf } from '../../policy/security-policy.js';
import type { Concluded } from '../../managed/host-flow.js';
import type { SavedMachineState } from '../../managed/machine-step.js';
import type { HostContext } from '../../managed/types.js';
import {
  canonicalName,
  digestOf,
  familiarString,
  parseImageReference,
} from '../../docker/image-reference.js';
import { refusedOutcome } from '../dockercontainer/image-gate.js';
import type { ImageKindState } from './image-kind-state.js';
import type { ImageMachineContext } from './image-machine.js';
import type { ImageWork } from './image-observe.js';
import { imageRefOf, isPinned } from './image-spec.js';

type Saved = SavedMachineState<ImageMachineContext> | undefined;

/**
 * Whether the saved machine is about `specRef` pinned to a digest by the
 * host's imagePolicy: the same repository, by digest, where the spec names
 * a tag.
 */
export function isPinnedVariant(savedImage: string, specRef: string): boolean {
  if (savedImage === specRef || !isPinned(savedImage) || isPinned(specRef)) return false;
  try {
    return canonicalName(parseImageReference(savedImage)) === canonicalName(parseImageReference(specRef));
  } catch {
    return false;
  }
}

/**
 * The host's imagePolicy, before anything is pulled: a refusal ends the
 * reconcile (Ready=False with the reason, a Warning Event, no pull); a rule
 * that pins digests makes the owner work on `repository@digest`. The digest
 * the saved machine was pinned to is reused: the tag is resolved again only
 * when the machine starts over (a changed spec.image, or a refresh due under
 * pullPolicy Always, see restoreImage).
 */
export async function admitOwnerImage(opts: {
  state: ImageKindState;
  ctx: HostContext<DockerImage>;
  work: ImageWork;
  saved: Saved;
}): Promise<Concluded | undefined> {
  const { state, ctx, work, saved } = opts;
  if (!state.imagePolicy || !ctx.host.spec.imagePolicy) return undefined;
  const specRef = imageRefOf(ctx.obj);
  const pinnedBefore =
    saved && isPinnedVariant(saved.context.image, specRef) ? digestOf(saved.context.image) : undefined;
  const admission = await state.imagePolicy.admit({
    host: ctx.host,
    image: ctx.obj.spec.image,
    credentials: async () => (await work.credentials()).auth,
    ...(pinnedBefore ? { pinnedDigest: pinnedBefore } : {}),
  });
  if (!admission.admitted) {
    const hostName = ctx.host.metadata.name;
    ctx.events.event(
      ctx.obj,
      'Warning',
      admission.reason,
      'Pull',
      `on host ${hostName}: ${admission.message}`,
    );
    const { reason, message } = admission;
    return { outcome: refusedOutcome({ host: hostName, reason, message, saved, fields: {} }) };
  }
  if (admission.digest) {
    work.ref = familiarString(admission.image);
    work.pinned = true;
  }
  return undefined;
}

/**
 * The host's securityPolicy on spec.push: a destination below privileged in
 * no allowedPushRegistries refuses the owner on the host (PolicyViolation,
 * stalled until the spec or the host changes; nothing pulled or pushed).
 */
export function refusedPushes(ctx: HostContext<DockerImage>, saved: Saved): Concluded | undefined {
  const policy = hostPolicyOf(ctx.host.spec);
  const violations = checkPushPolicy(policy, ctx.obj.spec);
  if (violations.length === 0) return undefined;
  const host = ctx.host.metadata.name;
  const message = describeViolations(host, policy.level, violations);
  ctx.events.event(ctx.obj, 'Warning', Reason.PolicyViolation, 'Push', message);
  const fields = { phase: Reason.PolicyViolation };
  const refused = refusedOutcome({ host, reason: Reason.PolicyViolation, message, saved, fields });
  return {
    outcome: { entry: refused.entry, ready: false, stalled: { reason: Reason.PolicyViolation, message } },
  };
}
