// What an agent-connected DockerHost's bootstrap Secret holds, read and
// written as plain data: the pure half of the credential store
// (credential-store.ts does the API calls).
//
// The Secret `dockyard-agent-<host>` lives in the controller's namespace. Its
// data is what the administrator hands to the box (the agent reads it as a
// mounted Secret or as `kubectl get secret -o json` output); its annotations
// are the controller's bookkeeping:
//
//   data.token               single-use bootstrap token (base64url, 32 random bytes)
//   data.ca.crt              the Dockyard agent CA the agent verifies the controller with
//   data.endpoint            host:port the agent dials
//   data.server-name         the name the controller's certificate is checked against
//   data.host-name           the DockerHost this Secret enrols
//   dockyard.io/credential-generation   spec.agent.credentialGeneration it was made for
//   dockyard.io/token-expires-at        the token is refused after this
//   dockyard.io/token-used-at           set once the token was exchanged: refused from then on
//   dockyard.io/agent-certificates      JSON [{serial, notAfter}] issued from this Secret
//
// Revocation is the Secret's absence or replacement: a certificate is
// authorized only while its serial is listed here, so deleting the Secret or
// bumping credentialGeneration (a new Secret, an empty list) refuses every
// certificate issued before at the agent's next heartbeat.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import { EnrolmentRefusal, type AgentIdentity } from '../../../agent/protocol.js';
import { API_VERSION } from '../../../crds/kit.js';

export const CREDENTIALS_LABEL = 'dockyard.io/agent-credentials';
export const ANNOTATION = {
  generation: 'dockyard.io/credential-generation',
  tokenExpiresAt: 'dockyard.io/token-expires-at',
  tokenUsedAt: 'dockyard.io/token-used-at',
  certificates: 'dockyard.io/agent-certificates',
  hostName: 'dockyard.io/host-name',
} as const;

export const DATA_KEY = {
  token: 'token',
  ca: 'ca.crt',
  endpoint: 'endpoint',
  serverName: 'server-name',
  hostName: 'host-name',
} as const;

/** Certificates listed per Secret: enough for renewals that overlap, bounded so annotations stay small. */
const MAX_LISTED_CERTIFICATES = 8;

/** Secret names are DNS subdomains of at most 253 characters; a long host name is shortened with a hash. */
export function credentialSecretName(hostName: string): string {
  const name = `dockyard-agent-${hostName}`;
  if (name.length <= 253) return name;
  const hash = createHash('sha256').update(hostName).digest('hex').slice(0, 10);
  return `${name.slice(0, 242)}-${hash}`;
}

export interface IssuedCertificate {
  serial: string;
  notAfter: string;
}

/** The bookkeeping of one Secret, parsed. */
export interface CredentialState {
  hostName: string;
  generation: number;
  token: string;
  tokenExpiresAt: Date;
  tokenUsedAt: Date | undefined;
  certificates: IssuedCertificate[];
}

function decode(value: string | undefined): string {
  return value === undefined ? '' : Buffer.from(value, 'base64').toString('utf8');
}

function parseCertificates(text: string | undefined): IssuedCertificate[] {
  if (!text) return [];
  try {
    const parsed: unknown = JSON.parse(text);
    if (!Array.isArray(parsed)) return [];
    return parsed.filter(
      (c): c is IssuedCertificate =>
        typeof c === 'object' &&
        c !== null &&
        typeof (c as IssuedCertificate).serial === 'string' &&
        typeof (c as IssuedCertificate).notAfter === 'string',
    );
  } catch {
    return [];
  }
}

/** Undefined for a Secret that is not a well-formed bootstrap Secret (refuse everything it would allow). */
export function parseCredentialSecret(secret: V1Secret): CredentialState | undefined {
  const annotations = secret.metadata?.annotations ?? {};
  const hostName = annotations[ANNOTATION.hostName];
  const token = decode(secret.data?.[DATA_KEY.token]);
  const expires = Date.parse(annotations[ANNOTATION.tokenExpiresAt] ?? '');
  if (!hostName || !token || Number.isNaN(expires)) return undefined;
  const used = Date.parse(annotations[ANNOTATION.tokenUsedAt] ?? '');
  return {
    hostName,
    generation: Number(annotations[ANNOTATION.generation] ?? '0') || 0,
    token,
    tokenExpiresAt: new Date(expires),
    tokenUsedAt: Number.isNaN(used) ? undefined : new Date(used),
    certificates: parseCertificates(annotations[ANNOTATION.certificates]),
  };
}

/** The refusals a token check can give. */
type TokenRefusalReason = (typeof EnrolmentRefusal)['TokenInvalid' | 'TokenExpired' | 'TokenUsed'];
export type TokenVerdict = { ok: true } | { ok: false; reason: TokenRefusalReason; message: string };

function sameSecret(a: string, b: string): boolean {
  // Hashing first gives equal lengths, so the comparison takes the same time whatever was sent.
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}

/** Whether `token` may be exchanged now. Pure; the caller marks it used with a resourceVersion precondition. */
export function checkToken(state: CredentialState, token: string, now: Date): TokenVerdict {
  if (!sameSecret(state.token, token))
    return {
      ok: false,
      reason: EnrolmentRefusal.TokenInvalid,
      message: `the token is not the one issued for ${state.hostName}`,
    };
  if (state.tokenUsedAt)
    return {
      ok: false,
      reason: EnrolmentRefusal.TokenUsed,
      message: `the token for ${state.hostName} was used at ${state.tokenUsedAt.toISOString()}; bump spec.agent.credentialGeneration or delete the Secret for a new one`,
    };
  if (now.getTime() > state.tokenExpiresAt.getTime())
    return {
      ok: false,
      reason: EnrolmentRefusal.TokenExpired,
      message: `the token for ${state.hostName} expired at ${state.tokenExpiresAt.toISOString()}; bump spec.agent.credentialGeneration or delete the Secret for a new one`,
    };
  return { ok: true };
}

/** A certificate speaks for its host while this Secret lists its serial and it has not expired. */
export function certificateAuthorized(
  state: CredentialState | undefined,
  identity: AgentIdentity,
  now: Date,
): boolean {
  if (!state || state.hostName !== identity.hostName) return false;
  if (identity.notAfter.getTime() <= now.getTime()) return false;
  return state.certificates.some((c) => c.serial === identity.serial);
}

/** The certificate list after issuing one: expired entries dropped, the newest kept. */
export function withIssued(
  certificates: readonly IssuedCertificate[],
  issued: IssuedCertificate,
  now: Date,
): IssuedCertificate[] {
  const live = certificates.filter((c) => Date.parse(c.notAfter) > now.getTime());
  return [...live, issued].slice(-MAX_LISTED_CERTIFICATES);
}

export interface NewSecretInput {
  namespace: string;
  hostName: string;
  hostUid: string;
  generation: number;
  caPem: string;
  /** host:port the agent dials. */
  advertise: string;
  serverName: string;
  tokenTtlMs: number;
  now: Date;
}

/** A fresh bootstrap Secret, owned by its DockerHost (deleted with it by the garbage collector). */
export function newCredentialSecret(input: NewSecretInput): V1Secret {
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name: credentialSecretName(input.hostName),
      namespace: input.namespace,
      labels: { [CREDENTIALS_LABEL]: 'true', 'app.kubernetes.io/managed-by': 'dockyard' },
      annotations: {
        [ANNOTATION.hostName]: input.hostName,
        [ANNOTATION.generation]: String(input.generation),
        [ANNOTATION.tokenExpiresAt]: new Date(input.now.getTime() + input.tokenTtlMs).toISOString(),
        [ANNOTATION.certificates]: '[]',
      },
      ownerReferences: [
        { apiVersion: API_VERSION, kind: 'DockerHost', name: input.hostName, uid: input.hostUid },
      ],
    },
    data: {
      [DATA_KEY.token]: b64(randomBytes(32).toString('base64url')),
      [DATA_KEY.ca]: b64(input.caPem),
      [DATA_KEY.endpoint]: b64(input.advertise),
      [DATA_KEY.serverName]: b64(input.serverName),
      [DATA_KEY.hostName]: b64(input.hostName),
    },
  };
}
