// Both ends of the enrolment API (ALPN http/1.1 on the agent endpoint's TLS
// port). The controller mounts `createEnrolmentHandler` on an http.Server fed
// the TLS sockets that chose http/1.1; the agent calls `enroll` once with its
// bootstrap token and `renew` before its certificate expires. The handler
// knows nothing of Kubernetes: tokens and issued serials live behind
// `CredentialStore` (Secrets in the controller, a Map in tests).
//
//   route              who may call                     answer
//   ----------------   ------------------------------   ------------------------------------------
//   POST /v1/enroll    anyone holding the host's        200 certificate for body.hostName;
//                      unused, unexpired token          403 TokenInvalid | TokenExpired | TokenUsed
//                                                       | UnknownHost
//   POST /v1/renew     a TLS client presenting a        200 certificate for the host the presented
//                      current agent certificate        certificate names (never one in the body);
//                                                       401 Unauthorized
//   either             —                                400 BadRequest | InvalidCsr, 413
//                                                       PayloadTooLarge, 500 Internal
//   other paths        —                                404 NotFound; a known path with another
//                                                       method 405 MethodNotAllowed
//
// Order matters on enrol: the body and CSR are checked and the CA loaded
// before the token is redeemed, so a malformed request never spends a
// single-use token. Every refusal is a JSON ErrorResponse; logs carry the
// host, reason and serial, never a token, key or certificate.

import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { serverIdentityOptions } from './tunnel-http.js';
import { checkAgentCsr, isHostName, PkiError, signAgentCsr, type KeyPairPem } from './pki.js';
import {
  agentIdentity,
  ENROL_ALPN,
  ENROLL_PATH,
  RENEW_PATH,
  type AgentIdentity,
  type CertificateResponse,
  type EnrollRequest,
  type ErrorResponse,
  type RenewRequest,
} from './protocol.js';

export type TokenRefusal = 'TokenInvalid' | 'TokenExpired' | 'TokenUsed' | 'UnknownHost';

export interface CredentialStore {
  /** Checks and marks the token used atomically (a second call with the same token is TokenUsed). */
  redeemToken(
    hostName: string,
    token: string,
  ): Promise<{ ok: true } | { ok: false; reason: TokenRefusal; message: string }>;
  /** The certificate identity is still current for its host (host exists, credentials not revoked/rotated since issue). */
  isAuthorized(identity: AgentIdentity): Promise<boolean>;
  /** Records a certificate issued for the host (so isAuthorized accepts its serial). */
  recordIssued(hostName: string, issued: { serial: string; notAfter: Date }): Promise<void>;
}

/** Every `reason` the enrolment API answers with. */
export type EnrolmentReason =
  | TokenRefusal
  | 'BadRequest'
  | 'InvalidCsr'
  | 'Unauthorized'
  | 'PayloadTooLarge'
  | 'NotFound'
  | 'MethodNotAllowed'
  | 'Internal';

/** Request bodies larger than this are refused (413) unread. */
export const MAX_REQUEST_BYTES = 64 * 1024;
const MAX_RESPONSE_BYTES = 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 30_000;

export interface EnrolmentHandlerDeps {
  store: CredentialStore;
  /** The signing CA; asked per request so a rotated CA Secret takes effect without a restart. */
  ca: () => Promise<KeyPairPem>;
  certValiditySeconds: number;
  now?: () => Date;
  log?: (msg: string, fields: object) => void;
}

type Deps = Required<EnrolmentHandlerDeps>;

/** A refusal: thrown by a route, answered once at the top. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly reason: EnrolmentReason,
    message: string,
    readonly hostName?: string,
  ) {
    super(message);
  }
}

/** What a route hands back on success: the answer, and what to log about it. */
interface Issued {
  hostName: string;
  serial: string;
  response: CertificateResponse;
}

type RoutePath = typeof ENROLL_PATH | typeof RENEW_PATH;
interface Route {
  method: 'POST';
  handle: (req: IncomingMessage, deps: Deps) => Promise<Issued>;
}

const ROUTES: Record<RoutePath, Route> = {
  [ENROLL_PATH]: { method: 'POST', handle: enrollRoute },
  [RENEW_PATH]: { method: 'POST', handle: renewRoute },
};

export function createEnrolmentHandler(
  deps: EnrolmentHandlerDeps,
): (req: IncomingMessage, res: ServerResponse) => void {
  const resolved: Deps = { now: () => new Date(), log: () => {}, ...deps };
  return (req, res) => void serve(req, res, resolved);
}

async function serve(req: IncomingMessage, res: ServerResponse, deps: Deps): Promise<void> {
  const path = (req.url ?? '/').split('?')[0]!;
  try {
    const issued = await findRoute(path, req.method).handle(req, deps);
    deps.log('agent certificate issued', {
      path,
      host: issued.hostName,
      serial: issued.serial,
      notAfter: issued.response.notAfter,
    });
    send(res, 200, issued.response);
  } catch (error) {
    const refusal = error instanceof Refusal ? error : internal(error, path, deps);
    if (refusal.reason !== 'Internal') {
      deps.log('enrolment request refused', {
        path,
        status: refusal.status,
        reason: refusal.reason,
        ...(refusal.hostName ? { host: refusal.hostName } : {}),
        remoteAddress: req.socket.remoteAddress,
      });
    }
    send(res, refusal.status, { reason: refusal.reason, message: refusal.message }, refusal);
  }
}

function findRoute(path: string, method: string | undefined): Route {
  if (!Object.hasOwn(ROUTES, path)) throw new Refusal(404, 'NotFound', 'no such path');
  const route = ROUTES[path as RoutePath];
  if (method !== route.method) throw new Refusal(405, 'MethodNotAllowed', `use ${route.method}`);
  return route;
}

async function enrollRoute(req: IncomingMessage, deps: Deps): Promise<Issued> {
  const request = parseEnrollRequest(await readJson(req));
  await checkCsr(request.csrPem, request.hostName);
  const ca = await deps.ca();
  const redeemed = await deps.store.redeemToken(request.hostName, request.token);
  if (!redeemed.ok) throw new Refusal(403, redeemed.reason, redeemed.message, request.hostName);
  return issue(deps, ca, request.hostName, request.csrPem);
}

async function renewRoute(req: IncomingMessage, deps: Deps): Promise<Issued> {
  const identity = await authenticate(req, deps.store);
  const request = parseRenewRequest(await readJson(req));
  await checkCsr(request.csrPem, identity.hostName);
  return issue(deps, await deps.ca(), identity.hostName, request.csrPem);
}

/** The host a renewal speaks for: only ever the one its verified, still-current client certificate names. */
async function authenticate(req: IncomingMessage, store: CredentialStore): Promise<AgentIdentity> {
  const socket = req.socket;
  if (!(socket instanceof tls.TLSSocket) || !socket.authorized) {
    throw new Refusal(401, 'Unauthorized', 'renewal needs a client certificate signed by the Dockyard CA');
  }
  const peer = socket.getPeerX509Certificate();
  const identity = peer && agentIdentity(peer);
  if (!identity) throw new Refusal(401, 'Unauthorized', 'the client certificate names no Dockyard agent');
  if (!(await store.isAuthorized(identity))) {
    throw new Refusal(
      401,
      'Unauthorized',
      'the client certificate is no longer current for its host: enrol again with a new token',
      identity.hostName,
    );
  }
  return identity;
}

async function issue(deps: Deps, ca: KeyPairPem, hostName: string, csrPem: string): Promise<Issued> {
  const signed = await signAgentCsr({
    ca,
    csrPem,
    hostName,
    validitySeconds: deps.certValiditySeconds,
    now: deps.now(),
  });
  await deps.store.recordIssued(hostName, { serial: signed.serial, notAfter: signed.notAfter });
  return {
    hostName,
    serial: signed.serial,
    response: { certPem: signed.certPem, caPem: ca.certPem, notAfter: signed.notAfter.toISOString() },
  };
}

async function checkCsr(csrPem: string, hostName: string): Promise<void> {
  try {
    await checkAgentCsr(csrPem);
  } catch (error) {
    if (error instanceof PkiError) throw new Refusal(400, 'InvalidCsr', error.message, hostName);
    throw error;
  }
}

/**
 * Reads at most MAX_REQUEST_BYTES. Past that it stops keeping the bytes but
 * keeps draining them, so the client, still writing, can read the 413 before
 * the connection (marked close) goes away.
 */
function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    const chunks: Buffer[] = [];
    let size = 0;
    const tooLarge = (): void => {
      req.removeAllListeners('data').resume();
      reject(new Refusal(413, 'PayloadTooLarge', `the body is larger than ${MAX_REQUEST_BYTES} bytes`));
    };
    if (declared > MAX_REQUEST_BYTES) return tooLarge();
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REQUEST_BYTES) return tooLarge();
      chunks.push(chunk);
    });
    req.on('error', reject);
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        reject(new Refusal(400, 'BadRequest', 'the body is not JSON'));
      }
    });
  });
}

function parseEnrollRequest(body: unknown): EnrollRequest {
  const hostName = stringField(body, 'hostName');
  if (!isHostName(hostName)) {
    throw new Refusal(400, 'BadRequest', 'hostName is not a Kubernetes object name (DNS-1123 subdomain)');
  }
  return { hostName, token: stringField(body, 'token'), csrPem: stringField(body, 'csrPem') };
}

function parseRenewRequest(body: unknown): RenewRequest {
  return { csrPem: stringField(body, 'csrPem') };
}

function stringField(body: unknown, field: string): string {
  const value =
    typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[field] : undefined;
  if (typeof value !== 'string' || value === '') {
    throw new Refusal(400, 'BadRequest', `the body needs a non-empty string field ${field}`);
  }
  return value;
}

function internal(error: unknown, path: string, deps: Deps): Refusal {
  deps.log('enrolment request failed', {
    path,
    error: error instanceof Error ? error.message : String(error),
  });
  return new Refusal(500, 'Internal', 'the controller could not complete the request; try again later');
}

function send(
  res: ServerResponse,
  status: number,
  body: CertificateResponse | ErrorResponse,
  refusal?: Refusal,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...(refusal?.status === 405 ? { allow: 'POST' } : {}),
    ...(refusal?.status === 413 ? { connection: 'close' } : {}),
  });
  res.end(text);
}

// ---------------------------------------------------------------------------
// The agent's side.

/** The controller answered, and not with a certificate. Transport failures (refused, TLS, timeout) are plain Errors. */
export class EnrolmentError extends Error {
  override readonly name = 'EnrolmentError';
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export interface EnrolmentEndpoint {
  host: string;
  port: number;
}

interface ClientOptions {
  endpoint: EnrolmentEndpoint;
  /** The Dockyard CA: the only issuer the controller's server certificate may come from. */
  caPem: string;
  /** The name to check the controller's certificate against (and send as SNI); defaults to endpoint.host. */
  serverName?: string;
  timeoutMs?: number;
}

export interface EnrollOptions extends ClientOptions {
  hostName: string;
  token: string;
  csrPem: string;
}

export interface RenewOptions extends ClientOptions {
  /** The current certificate and its key, presented as the TLS client certificate. */
  certPem: string;
  keyPem: string;
  csrPem: string;
}

/** node's https passes the TLS options through to tls.connect; its types just do not list ALPN. */
type RequestOptions = https.RequestOptions & Pick<tls.ConnectionOptions, 'ALPNProtocols'>;

export function enroll(opts: EnrollOptions): Promise<CertificateResponse> {
  const body: EnrollRequest = { hostName: opts.hostName, token: opts.token, csrPem: opts.csrPem };
  return post(opts, ENROLL_PATH, body, {});
}

export function renew(opts: RenewOptions): Promise<CertificateResponse> {
  const body: RenewRequest = { csrPem: opts.csrPem };
  return post(opts, RENEW_PATH, body, { cert: opts.certPem, key: opts.keyPem });
}

async function post(
  opts: ClientOptions,
  path: RoutePath,
  body: EnrollRequest | RenewRequest,
  credentials: { cert?: string; key?: string },
): Promise<CertificateResponse> {
  const text = JSON.stringify(body);
  const request: RequestOptions = {
    host: opts.endpoint.host,
    port: opts.endpoint.port,
    method: 'POST',
    path,
    headers: {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      accept: 'application/json',
    },
    ca: opts.caPem,
    ...serverIdentityOptions(opts.endpoint.host, opts.serverName),
    ALPNProtocols: [ENROL_ALPN],
    ...credentials,
    // One request, one connection: nothing pooled keeps a client certificate around.
    agent: false,
  };
  const where = `${opts.endpoint.host}:${opts.endpoint.port}${path}`;
  const answer = await exchange(request, text, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, where);
  return interpret(answer.status, answer.text, where);
}

function exchange(
  options: RequestOptions,
  body: string,
  timeoutMs: number,
  where: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const fail = (error: Error): void => {
      clearTimeout(timer);
      reject(new Error(`enrolment request to ${where} failed: ${error.message}`, { cause: error }));
    };
    const req = https.request(options, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_RESPONSE_BYTES)
          req.destroy(new Error(`answer larger than ${MAX_RESPONSE_BYTES} bytes`));
        else chunks.push(chunk);
      });
      res.on('error', fail);
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
      });
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', fail);
    req.end(body);
  });
}

function interpret(status: number, text: string, where: string): CertificateResponse {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  if (status === 200) {
    const { certPem, caPem, notAfter } = fields;
    if (typeof certPem === 'string' && typeof caPem === 'string' && typeof notAfter === 'string') {
      return { certPem, caPem, notAfter };
    }
    throw new EnrolmentError(status, 'BadResponse', `${where} answered 200 without a certificate`);
  }
  const reason = typeof fields.reason === 'string' ? fields.reason : 'Unknown';
  const message = typeof fields.message === 'string' ? fields.message : `${where} answered HTTP ${status}`;
  throw new EnrolmentError(status, reason, message);
}
