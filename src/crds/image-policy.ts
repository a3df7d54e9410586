// DockerHost.spec.imagePolicy: which images may reach this host's daemon,
// decided before any pull (docs/image-policy.md). Ordered first-match rules
// over repository globs, in the spirit of Sigstore's policy-controller
// ClusterImagePolicy and Kyverno's verifyImages, but per Docker host.
import Type, { type Static } from 'typebox';
import { bool, list, objectName, rules, str } from './kit.js';

/** A rule or signer name: a DNS label, so messages and metrics can carry it. */
const policyName = (what: string) =>
  str(`Name of the ${what}, shown in refusals, Events and metrics.`, {
    maxLength: 63,
    pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
  });

/**
 * `registry/path` with `*` (one path component, or part of one) and `**`
 * (any number of components) wildcards. Upper case is refused: repository
 * names are lower case, and a pattern that can never match is a mistake.
 */
export const IMAGE_GLOB_PATTERN = '^[a-z0-9*][a-z0-9*._:-]*(/[a-z0-9*][a-z0-9*._-]*)*$';

const imageGlob = str(
  'A fully qualified repository glob, registry first: `registry.example.com/team/*`, ' +
    '`docker.io/library/busybox`, `ghcr.io/acme/**`. `*` matches within one path component, `**` any ' +
    'number of them. Docker Hub is docker.io, and its official images are docker.io/library/NAME. Tags ' +
    'and digests are not part of the match.',
  {
    maxLength: 255,
    pattern: IMAGE_GLOB_PATTERN,
    ...rules({
      rule: "self == '**' || self.contains('/')",
      message: 'must name a registry and a repository, e.g. registry.example.com/team/*, or be **',
    }),
  },
);

/** Where a small text (a public key, a trusted root) comes from. */
const keyRef = (kind: 'Secret' | 'ConfigMap', holds: string) =>
  Type.Object(
    {
      namespace: objectName(`Namespace of the ${kind}.`),
      name: objectName(`Name of the ${kind}.`),
      key: str(`The key holding ${holds}.`, { maxLength: 253, pattern: '^[-._a-zA-Z0-9]+$' }),
    },
    { description: `The ${kind} key holding ${holds}, read when an image is verified.` },
  );

export const KeylessIdentity = Type.Object(
  {
    issuer: str(
      'The OIDC issuer the signing certificate must name (Fulcio’s issuer extension), exactly, e.g. ' +
        'https://token.actions.githubusercontent.com.',
      { maxLength: 512, minLength: 1 },
    ),
    subject: str(
      'The certificate identity (its URI or e-mail subject alternative name) the signer must have. `*` ' +
        'matches any run of characters, e.g. https://github.com/acme/*/.github/workflows/release.yml@refs/tags/*.',
      { maxLength: 1024, minLength: 1 },
    ),
    trustedRoot: keyRef(
      'ConfigMap',
      'a Sigstore trusted root (trusted_root.json, the format of `cosign trusted-root create` and of ' +
        'Sigstore’s TUF repository): the certificate authorities the signing certificate must chain to, ' +
        'and the transparency logs and timestamp authorities whose proofs count. The controller fetches ' +
        'nothing from the internet: for the public Sigstore instance, put its trusted root here',
    ),
  },
  {
    description:
      'Keyless signing: a short-lived certificate for an OIDC identity, chained to a trusted root.',
  },
);
export type KeylessIdentity = Static<typeof KeylessIdentity>;

export const ImageSigner = Type.Object(
  {
    name: policyName('signer'),
    publicKey: Type.Optional(keyRef('Secret', 'a PEM public key (cosign.pub)')),
    keyless: Type.Optional(KeylessIdentity),
  },
  {
    description: 'One accepted signer: a cosign public key, or a keyless identity.',
    ...rules({
      rule: 'has(self.publicKey) != has(self.keyless)',
      message: 'a signer needs exactly one of publicKey and keyless',
      fieldPath: '.publicKey',
      reason: 'FieldValueRequired',
    }),
  },
);
export type ImageSigner = Static<typeof ImageSigner>;

export const IMAGE_POLICY_ACTIONS = ['Allow', 'Deny', 'RequireSignature'] as const;
export type ImagePolicyAction = (typeof IMAGE_POLICY_ACTIONS)[number];

export const ImagePolicyRule = Type.Object(
  {
    name: policyName('rule'),
    images: list(
      imageGlob,
      'Repository globs this rule applies to (`**` alone: every image); the first rule with a matching glob decides.',
      {
        minItems: 1,
        maxItems: 32,
      },
    ),
    action: Type.Enum([...IMAGE_POLICY_ACTIONS], {
      description:
        'Allow: pulls and runs the image. Deny: refuses it (ImagePolicyViolation). RequireSignature: the ' +
        'image’s digest must carry a valid signature by one of signers (cosign’s bundle attached through ' +
        'the OCI referrers API, or its older sha256-<digest>.sig tag), otherwise SignatureInvalid; the ' +
        'verified digest is what is pulled and run.',
    }),
    signers: Type.Optional(
      list(ImageSigner, 'Accepted signers for RequireSignature: a signature by any one of them is enough.', {
        maxItems: 8,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
      }),
    ),
    requireDigest: Type.Optional(
      bool(
        'Run by digest: a tag is resolved once, recorded in the resource’s status, and containers are ' +
          'created from repository@digest, so a tag moved in the registry changes nothing until the ' +
          'resource’s image changes (or a DockerImage with pullPolicy Always re-resolves it). Implied by ' +
          'RequireSignature.',
      ),
    ),
  },
  {
    description: 'One image rule.',
    ...rules(
      {
        rule: "(self.action == 'RequireSignature') == (has(self.signers) && size(self.signers) > 0)",
        message: 'signers are required with action RequireSignature and allowed only with it',
        fieldPath: '.signers',
      },
      {
        rule: "self.action != 'Deny' || !has(self.requireDigest)",
        message: 'requireDigest has no meaning for action Deny',
        fieldPath: '.requireDigest',
        reason: 'FieldValueForbidden',
      },
    ),
  },
);
export type ImagePolicyRule = Static<typeof ImagePolicyRule>;

export const ImagePolicy = Type.Object(
  {
    rules: list(
      ImagePolicyRule,
      'Ordered rules: for each image, the first rule with a glob matching its repository decides.',
      { maxItems: 64, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] },
    ),
    unmatched: Type.Optional(
      Type.Enum(['Deny', 'Allow'], {
        description:
          'What happens to an image no rule matches. Default Deny: the rules are an allow-list (end ' +
          'them with `images: ["**"]` to decide everything else explicitly).',
        default: 'Deny',
      }),
    ),
  },
  {
    description:
      'Which images may reach this host’s daemon, decided before any pull is sent: refused images are ' +
      'never pulled and no container is created from them. Applies to DockerImage pulls and to ' +
      'DockerContainers (spec.image and spec.imageRef) when a container is created; containers already ' +
      'running are left as they are. Without imagePolicy every image is allowed.',
  },
);
export type ImagePolicy = Static<typeof ImagePolicy>;
