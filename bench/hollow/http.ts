import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * An answer the Engine gives as an error: Docker writes `{"message": …}` with
 * the status, and dockerode turns that into `(HTTP code N) … - message` with
 * `json.message`, which is what Dockyard's classifiers read.
 */
export class EngineError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const notFound = (message: string): EngineError => new EngineError(404, message);
export const conflict = (message: string): EngineError => new EngineError(409, message);
export const badRequest = (message: string): EngineError => new EngineError(400, message);

/** 304 carries no body on a real daemon (start of a running container, stop of a stopped one). */
export class NotModified extends EngineError {
  constructor() {
    super(304, '');
  }
}

/** Docker's response headers on every answer (dockerode ignores them; curl users see them). */
function engineHeaders(res: ServerResponse, apiVersion: string): void {
  res.setHeader('Api-Version', apiVersion);
  res.setHeader('Docker-Experimental', 'false');
  res.setHeader('Ostype', 'linux');
  res.setHeader('Server', `Docker/20.10.24+dfsg1 (linux)`);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, apiVersion: string): void {
  engineHeaders(res, apiVersion);
  // Docker's JSON encoder ends every document with a newline.
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendEmpty(res: ServerResponse, status: number, apiVersion: string): void {
  engineHeaders(res, apiVersion);
  res.writeHead(status);
  res.end();
}

export function sendError(res: ServerResponse, err: EngineError, apiVersion: string): void {
  if (err.status === 304) return sendEmpty(res, 304, apiVersion);
  sendJson(res, err.status, { message: err.message }, apiVersion);
}

/** Opens a newline-delimited JSON stream (events, pull progress): headers go out at once, like Docker's flush. */
export function openStream(res: ServerResponse, apiVersion: string): void {
  engineHeaders(res, apiVersion);
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.flushHeaders();
}

const MAX_BODY = 4 * 1024 * 1024;

/** The request body parsed as JSON; an empty body is `{}` (dockerode sends none for most POSTs). */
export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw badRequest('request body too large');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return {};
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch (err) {
    throw badRequest(`invalid character in JSON body: ${(err as Error).message}`);
  }
}

/** Drains a body the route does not read (an image archive), so keep-alive connections stay usable. */
export async function drain(req: IncomingMessage): Promise<void> {
  for await (const _ of req as AsyncIterable<Buffer>) {
    // discard
  }
}

/** Docker's boolean query values: 1, true, True… are true; absent or 0/false are false. */
export function queryBool(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  return v !== null && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

/**
 * The `filters` query parameter as name → values. Docker accepts both
 * `{"label":["a=b"]}` and the legacy `{"label":{"a=b":true}}`.
 */
export function parseFilters(q: URLSearchParams): Map<string, string[]> {
  const raw = q.get('filters');
  const out = new Map<string, string[]>();
  if (!raw) return out;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw badRequest(`invalid filter '${raw}'`);
  }
  if (typeof parsed !== 'object' || parsed === null) return out;
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (Array.isArray(value)) out.set(key, value.map(String));
    else if (typeof value === 'object' && value !== null)
      out.set(
        key,
        Object.entries(value as Record<string, unknown>)
          .filter(([, on]) => on === true)
          .map(([k]) => k),
      );
  }
  return out;
}

/** Docker's label filter: `key` (present) or `key=value` (equal), every one must hold. */
export function labelsMatch(labels: Record<string, string>, wanted: readonly string[] | undefined): boolean {
  for (const w of wanted ?? []) {
    const eq = w.indexOf('=');
    if (eq < 0) {
      if (!(w in labels)) return false;
    } else if (labels[w.slice(0, eq)] !== w.slice(eq + 1)) return false;
  }
  return true;
}
