// The push fields DockerBuild and DockerImage share: where an image on a host
// is pushed to (spec.push), with which credentials, signed with which key, and
// what status says of it.
import Type from 'typebox';
import { bool, imageReference, list, objectName, str, type Rule } from './kit.js';

/** spec.push, spec.pushSecrets and spec.signing; `what` names the image ("built", "pulled"). */
export function pushFields(what: 'built' | 'pulled') {
  return {
    push: Type.Optional(
      list(
        Type.Object({
          image: imageReference(
            `A destination the ${what} image is pushed to, tagged as written (no digest). It names its ` +
              'registry host (registry.example.com/team/app:1, localhost:5000/app:1, docker.io/team/app:1): ' +
              'a host whose securityPolicy is below privileged pushes only to registries in its ' +
              'securityPolicySettings.allowedPushRegistries.',
          ),
        }),
        `Registries the image is pushed to once ${what} (docker push). A destination already holding the ` +
          'image’s digest is not pushed again; a failed push is retried with backoff. Needs spec.hostName: ' +
          'a pushed tag has one source.',
        { maxItems: 8, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['image'] },
      ),
    ),
    pushSecrets: Type.Optional(
      list(
        Type.Object({
          name: objectName('Name of a kubernetes.io/dockerconfigjson Secret in this namespace.'),
        }),
        'Registry credentials for spec.push, matched to each destination by registry host (as pull secrets are).',
        { maxItems: 16, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] },
      ),
    ),
    signing: Type.Optional(
      Type.Object(
        {
          keySecretRef: Type.Object(
            {
              name: objectName('Name of a Secret in this namespace.'),
              key: str('The key holding the private key.', { maxLength: 253 }),
            },
            {
              description:
                'The signing key: an unencrypted PEM ECDSA P-256 private key (PKCS#8 or SEC1), e.g. from ' +
                '`openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`. Hosts verify with its ' +
                'public half (`openssl pkey -pubout`) as an imagePolicy signer.',
            },
          ),
        },
        {
          description:
            'Sign every pushed image as `cosign sign --key` does without a transparency log: a signature of ' +
            'the pushed digest under the destination’s sha256-<digest>.sig tag, which hosts whose ' +
            'imagePolicy requires a signature by this key accept (and cosign verify --key ' +
            '--insecure-ignore-tlog). The controller writes it to the registry itself, with spec.pushSecrets.',
        },
      ),
    ),
  };
}

/** The CEL rules of the push fields; `why` says why a push needs one host. */
export function pushRules(why: string): Rule[] {
  return [
    {
      rule: '!has(self.signing) || (has(self.push) && size(self.push) > 0)',
      message: 'spec.signing signs what spec.push pushes: it needs spec.push',
      fieldPath: '.signing',
    },
    {
      rule: '!has(self.push) || has(self.hostName)',
      message: `spec.push needs spec.hostName: ${why}`,
      fieldPath: '.push',
    },
    {
      rule: "!has(self.push) || self.push.all(p, !p.image.contains('@') && p.image.matches('^(localhost|[^/]*[.:][^/]*)/'))",
      message:
        'spec.push[].image names a tag (no digest) on an explicit registry host: registry.example.com/team/app:1',
      fieldPath: '.push',
    },
  ];
}

/** status.hosts[] fields of an image that may be pushed. */
export const pushedStatusFields = {
  pushed: Type.Optional(
    list(
      Type.Object({
        image: str('The destination, as spec.push names it.', { maxLength: 512 }),
        digest: str('The manifest digest the registry holds for it, which is this host’s image.', {
          maxLength: 128,
        }),
        signed: Type.Optional(
          bool('With spec.signing: the digest carries a valid signature by the signing key in the registry.'),
        ),
      }),
      'The destinations of spec.push that hold this host’s current image, as the registry answered last.',
      { maxItems: 8 },
    ),
  ),
  pushedAt: Type.Optional(
    Type.String({ description: 'When Dockyard last pushed the current image.', format: 'date-time' }),
  ),
};
