// Keep-alive connections to a Docker daemon, and the race they bring.
//
// docker-modem sends every request through an HTTP agent that keeps idle
// sockets open for reuse. A socket the daemon (or an agent tunnel, or a
// proxy on the way) has closed while it sat idle in the pool is only seen as
// closed once this process reads the close; a controller whose event loop is
// busy (1,000 hosts converging on two cores) reuses such sockets and gets
// ECONNRESET for a request the daemon never read. The 1,000-host bench saw
// hundreds of healthy hosts turn Unreachable that way, and every object on
// them got a status write.
//
// Go's HTTP client retries such a request once on a new connection when the
// request is idempotent. Node documents the same pattern (`req.reusedSocket`)
// but leaves it to the caller: these helpers do it for a dockerode client.

import { Agent as HttpAgent, type ClientRequest } from 'node:http';
import { Agent as HttpsAgent, type AgentOptions as HttpsAgentOptions } from 'node:https';
import { inspect } from 'node:util';

/** Errors raised on a socket that had already served a request and sat idle in the pool. */
const resetOnReusedSocket = new WeakSet<object>();

/** The codes of a connection the peer closed under us. */
const RESET_CODES: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE']);

/** RFC 9110 §9.2.2: repeating these has the effect of one request, as Go's transport assumes. */
const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/**
 * Idle sockets are closed after 5 s on our side (Node's global agent does
 * the same), LIFO so the freshest socket is reused first.
 */
const POOL_OPTIONS = { keepAlive: true, scheduling: 'lifo', timeout: 5_000 } as const;

interface RequestAdding {
  addRequest(req: ClientRequest, options: unknown): void;
}

/**
 * docker-modem formats every request's options for its debug log whether or
 * not the log is on (`util.inspect(options, { showHidden: true, depth: null })`),
 * and the options hold the agent: every socket in its pool, walked in full.
 * At 1,000 hosts that was a quarter of the controller's CPU
 * (bench/results/profile.md); the agent now prints as its name.
 */
function inspectAsName(agent: HttpAgent): void {
  Object.defineProperty(agent, inspect.custom, { value: () => `[${agent.constructor.name}]` });
}

/** Marks the errors of requests that were sent on a reused socket. */
function markResetsOnReusedSockets(agent: HttpAgent): void {
  const adding = agent as unknown as RequestAdding;
  const addRequest = adding.addRequest.bind(agent);
  adding.addRequest = (req, options) => {
    // Registered in the request's constructor, so before docker-modem's own
    // error listener, which decides at once.
    req.prependListener('error', (err: unknown) => {
      if (req.reusedSocket && err instanceof Error) resetOnReusedSocket.add(err);
    });
    addRequest(req, options);
  };
}

/** A keep-alive HTTP agent for one daemon connection. */
export function keepAliveHttpAgent(): HttpAgent {
  const agent = new HttpAgent(POOL_OPTIONS);
  inspectAsName(agent);
  markResetsOnReusedSockets(agent);
  return agent;
}

/** The same for mutual TLS (with the handshake's options, e.g. `servername`). */
export function keepAliveHttpsAgent(options: HttpsAgentOptions = {}): HttpsAgent {
  const agent = new HttpsAgent({ ...POOL_OPTIONS, ...options });
  inspectAsName(agent);
  markResetsOnReusedSockets(agent);
  return agent;
}

/** Pure: may a failed request be sent once more on a new connection? */
export function retryableReset(input: {
  /** The error's code (`ECONNRESET`…). */
  code: string | undefined;
  /** The request went out on a socket that had served one before. */
  reusedSocket: boolean;
  method: string | undefined;
  body: unknown;
  retried: boolean;
}): boolean {
  const { code, reusedSocket, method, body, retried } = input;
  if (retried || !reusedSocket || !code || !RESET_CODES.has(code)) return false;
  if (!IDEMPOTENT_METHODS.has((method ?? 'GET').toUpperCase())) return false;
  // A stream body (an upload) cannot be sent twice.
  return body === undefined || typeof body === 'string' || Buffer.isBuffer(body);
}

type BuildCallback = (err: unknown, data: unknown) => void;
interface RequestBuildingModem {
  buildRequest(options: { method?: string }, context: unknown, data: unknown, callback: BuildCallback): void;
}

/**
 * Makes a dockerode client send an idempotent request once more when the
 * reused socket it went out on turned out to be closed. Wraps the modem's
 * `buildRequest`, below `dial`: metrics and the responsiveness guard see one
 * request.
 */
export function retryResetsOnReusedSockets(modem: unknown): void {
  const building = modem as RequestBuildingModem;
  const buildRequest = building.buildRequest.bind(modem);
  building.buildRequest = (options, context, data, callback) => {
    const send = (retried: boolean): void =>
      buildRequest({ ...options }, context, data, (err, result) => {
        const reusedSocket = err instanceof Error && resetOnReusedSocket.has(err);
        const code = (err as NodeJS.ErrnoException | undefined)?.code;
        if (retryableReset({ code, reusedSocket, method: options.method, body: data, retried })) send(true);
        else callback(err, result);
      });
    send(false);
  };
}
