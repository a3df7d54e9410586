import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StopBehaviour } from './lifecycle.js';
import type { HostState } from './state.js';

/** Everything a route handler gets: the host's state, the request, its path parameters and query. */
export interface RequestContext {
  state: HostState;
  req: IncomingMessage;
  res: ServerResponse;
  params: string[];
  query: URLSearchParams;
  apiVersion: string;
  behaviour: HostBehaviour;
}

/** What a handler answers; `undefined` when it wrote a stream itself. */
export type Reply = { status: number; json?: unknown; text?: string } | undefined;

export type Handler = (ctx: RequestContext) => Promise<Reply> | Reply;

/** Per-host knobs that change answers (latency lives in the server). */
export interface HostBehaviour {
  stop: StopBehaviour;
  /** References whose pull fails with the registry's "not found"; default: none. */
  pullFails: (ref: string) => boolean;
  /** The local image a reference has the same content as (a registry copy of it), if any. */
  sameContentAs: (ref: string) => string | undefined;
}
