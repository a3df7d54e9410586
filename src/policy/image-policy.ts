// Which images a host takes: DockerHost.spec.imagePolicy's ordered
// first-match rules over repository globs (docs/image-policy.md). Pure: the
// caller parses the reference (src/docker/image-reference.ts) and does the
// registry and signature work a RequireSignature verdict asks for.
import type { ImagePolicy, ImagePolicyRule, ImageSigner } from '../crds/image-policy.js';

/** What a host's policy says about one repository. */
export type ImageVerdict =
  /** No imagePolicy on the host: everything is allowed, by tag as before. */
  | { action: 'Allow'; rule: undefined; requireDigest: false }
  | { action: 'Allow'; rule: string; requireDigest: boolean }
  /** `rule` undefined: no rule matched and `unmatched` is Deny. */
  | { action: 'Deny'; rule: string | undefined; message: string }
  | { action: 'RequireSignature'; rule: string; signers: readonly ImageSigner[]; requireDigest: true };

const compiled = new Map<string, RegExp>();

/**
 * `*` matches within one path component (no `/`), `**` across any number of
 * them; everything else is literal. The whole repository must match.
 */
export function globMatches(glob: string, repository: string): boolean {
  let re = compiled.get(glob);
  if (!re) {
    const body = glob
      .split('**')
      .map((part) =>
        part
          .split('*')
          .map((literal) => literal.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
          .join('[^/]*'),
      )
      .join('.*');
    re = new RegExp(`^${body}$`);
    if (compiled.size > 4096) compiled.clear();
    compiled.set(glob, re);
  }
  return re.test(repository);
}

/** The first rule with a glob matching the repository, if any. */
export function matchingRule(policy: ImagePolicy, repository: string): ImagePolicyRule | undefined {
  return policy.rules.find((rule) => rule.images.some((glob) => globMatches(glob, repository)));
}

/**
 * The verdict for a fully qualified repository (`registry/path`, Docker Hub
 * as docker.io) under a host's policy; `image` is the reference as the
 * resource wrote it, for the message.
 */
export function decideImage(opts: {
  policy: ImagePolicy | undefined;
  repository: string;
  image: string;
  host: string;
}): ImageVerdict {
  const { policy, repository, image, host } = opts;
  if (!policy) return { action: 'Allow', rule: undefined, requireDigest: false };
  const rule = matchingRule(policy, repository);
  if (!rule) {
    if (policy.unmatched === 'Allow') return { action: 'Allow', rule: undefined, requireDigest: false };
    return {
      action: 'Deny',
      rule: undefined,
      message:
        `image ${image} (${repository}) matches no rule of host ${host}'s imagePolicy, and unmatched ` +
        'images are denied',
    };
  }
  switch (rule.action) {
    case 'Deny':
      return {
        action: 'Deny',
        rule: rule.name,
        message: `image ${image} (${repository}) is denied on host ${host} by imagePolicy rule ${rule.name}`,
      };
    case 'Allow':
      return { action: 'Allow', rule: rule.name, requireDigest: rule.requireDigest === true };
    case 'RequireSignature':
      return {
        action: 'RequireSignature',
        rule: rule.name,
        signers: rule.signers ?? [],
        requireDigest: true,
      };
  }
}

/** Whether a verdict pins the image to a digest before it is pulled or run. */
export function pinsDigest(verdict: ImageVerdict): boolean {
  return verdict.action !== 'Deny' && verdict.requireDigest;
}
