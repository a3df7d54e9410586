// The wire contract between the controller's agent endpoint and `dockyard
// agent`, shared by both sides. One TLS port serves two things, told apart by
// ALPN (the protocol the client asks for in its TLS hello):
//
//   ALPN               client certificate          what runs on the socket
//   ----------------   -------------------------   ---------------------------------------------
//   dockyard-agent/1   required (Dockyard CA)      the tunnel: the agent dialled out, then serves
//                                                  HTTP/2 on that socket and the controller is the
//                                                  HTTP/2 client. One stream per Engine API request.
//   http/1.1           none (enrol) or the          the enrolment API: POST /v1/enroll (bootstrap
//                      agent's current one (renew)  token → certificate), POST /v1/renew.
//
// The reversed HTTP/2 keeps every existing controller unchanged: the
// controller side serves a local unix socket per host whose requests become
// HTTP/2 streams, so dockerode, the per-host concurrency and the hung-host
// guard see an ordinary Docker socket.

import type { X509Certificate } from 'node:crypto';

export const TUNNEL_ALPN = 'dockyard-agent/1';
export const ENROL_ALPN = 'http/1.1';

/** Requests the agent answers itself instead of forwarding to its daemon (no Engine API path starts so). */
export const AGENT_PATH_PREFIX = '/_dockyard/';
export const AGENT_INFO_PATH = '/_dockyard/agent/info';

export const ENROLL_PATH = '/v1/enroll';
export const RENEW_PATH = '/v1/renew';

/** The URI SAN that binds a client certificate to one DockerHost. */
export const IDENTITY_URI_PREFIX = 'dockyard-agent://host/';

/** GET AGENT_INFO_PATH on the agent. */
export interface AgentInfo {
  version: string;
  hostName: string;
  /** RFC 3339: when the agent process started. */
  startedAt: string;
}

/** POST ENROLL_PATH body. The private key never leaves the box: only its CSR travels. */
export interface EnrollRequest {
  hostName: string;
  token: string;
  csrPem: string;
}

/** POST RENEW_PATH body, sent on a connection that presents the current certificate. */
export interface RenewRequest {
  csrPem: string;
}

/** The answer to both. */
export interface CertificateResponse {
  certPem: string;
  caPem: string;
  /** RFC 3339. */
  notAfter: string;
}

/** A refusal: `reason` is a stable word for scripts, `message` says it to a person. */
export interface ErrorResponse {
  reason: string;
  message: string;
}

/** Who a verified client certificate speaks for. */
export interface AgentIdentity {
  hostName: string;
  /** Upper-case hex, as node:crypto prints it. */
  serial: string;
  notAfter: Date;
}

/**
 * The identity a certificate carries: exactly one URI SAN under
 * IDENTITY_URI_PREFIX naming the host, and a subject CN that agrees. Anything
 * else is no identity at all (undefined), so a certificate the CA signed for
 * another purpose never opens a tunnel.
 */
export function agentIdentity(cert: X509Certificate): AgentIdentity | undefined {
  const uris = (cert.subjectAltName ?? '')
    .split(/,\s*/)
    .filter((entry) => entry.startsWith('URI:'))
    .map((entry) => entry.slice('URI:'.length));
  const ours = uris.filter((uri) => uri.startsWith(IDENTITY_URI_PREFIX));
  if (ours.length !== 1) return undefined;
  const hostName = ours[0]!.slice(IDENTITY_URI_PREFIX.length);
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(cert.subject)?.[1];
  if (!hostName || cn !== hostName) return undefined;
  return { hostName, serial: cert.serialNumber.toUpperCase(), notAfter: new Date(cert.validTo) };
}

/**
 * The controller's local socket answers every request for a host whose agent
 * holds no tunnel with this status and a JSON `message` starting with
 * AGENT_DISCONNECTED_PREFIX, so Docker clients see an ordinary Engine API
 * error that the managed reconciler can tell from the daemon's own.
 */
export const AGENT_DISCONNECTED_STATUS = 503;
export const AGENT_DISCONNECTED_PREFIX = 'dockyard-agent: not connected';

/** Why the enrolment API refuses (ErrorResponse.reason): part of the wire contract, like a condition reason. */
export const EnrolmentRefusal = {
  TokenInvalid: 'TokenInvalid',
  TokenExpired: 'TokenExpired',
  TokenUsed: 'TokenUsed',
  UnknownHost: 'UnknownHost',
  InvalidCsr: 'InvalidCsr',
  BadRequest: 'BadRequest',
  Unauthorized: 'Unauthorized',
} as const;
export type EnrolmentRefusal = (typeof EnrolmentRefusal)[keyof typeof EnrolmentRefusal];
