import type { DockerContainer } from '../../crds/dockercontainer.js';
import type { Reason } from '../../crds/reasons.js';
import type { HostContext } from '../../managed/types.js';
import type { ImagePolicyGate } from '../image-policy/image-policy-gate.js';
import type { DesiredContainer } from './desired-container.js';

/** The digest spec.image was pinned to on a host, kept in its status entry. */
export interface ImagePin {
  image: string;
  digest: string;
}

export type ContainerImageAdmission = { pin?: ImagePin } | { refused: { reason: Reason; message: string } };

/**
 * The host's imagePolicy for a container naming spec.image, before anything
 * is pulled or created: a refusal ends the reconcile; a rule that pins
 * digests makes the container's image `repository@digest` (the digest
 * recorded in the host's status entry is reused, so a moved tag changes
 * nothing until spec.image changes). A container with spec.imageRef runs
 * what its DockerImage pulled, and that DockerImage passed the same policy
 * on the same host (it is not Ready there otherwise).
 */
export async function admitContainerImage(opts: {
  gate: ImagePolicyGate | undefined;
  ctx: HostContext<DockerContainer>;
  resolved: DesiredContainer;
}): Promise<ContainerImageAdmission> {
  const { gate, ctx, resolved } = opts;
  const image = ctx.obj.spec.image;
  const inputs = resolved.inputs;
  if (!gate || !image || ctx.obj.spec.imageRef || !inputs || !ctx.host.spec.imagePolicy) return {};
  const previous = (ctx.previous as { imagePin?: ImagePin } | undefined)?.imagePin;
  const admission = await gate.admit({
    host: ctx.host,
    image,
    ...(previous?.image === image ? { pinnedDigest: previous.digest } : {}),
  });
  if (!admission.admitted) return { refused: { reason: admission.reason, message: admission.message } };
  if (!admission.digest) return {};
  inputs.image = admission.image;
  inputs.pinnedFrom = image;
  return { pin: { image, digest: admission.digest } };
}
