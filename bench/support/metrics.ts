// The three independent counters the benchmark reads: the API server's own
// request metric (writes), the controller's Docker request metric
// (mutations by operation) and each node's `docker events` stream (what the
// daemons say was changed), so the last two cross-check each other.

import { request } from 'node:https';
import type Dockerode from 'dockerode';
import type { KubeConfig } from '@kubernetes/client-node';
import { parseSamples, type Sample } from '../../test/support/prometheus.js';

const WRITE_VERBS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** POSTs in the Docker API that change nothing (waiting, attaching, checking credentials). */
const READ_ONLY_POSTS = [/\/wait$/, /\/attach$/, /^POST \/auth$/, /\/resize$/];

/**
 * Whether a `dockyard_docker_requests_total` operation label (see
 * src/docker/instrument.ts operationLabel: "METHOD /path/{id}/verb") changes
 * daemon state. GET and HEAD never do; POST, PUT and DELETE do, except the
 * few read-only POSTs.
 */
export function isMutatingOperation(operation: string): boolean {
  const method = operation.split(' ', 1)[0] ?? '';
  if (method === 'GET' || method === 'HEAD') return false;
  return !READ_ONLY_POSTS.some((re) => re.test(operation));
}

/** Docker requests the controller made, by operation (summed over hosts and outcomes). */
export function dockerRequestsByOperation(samples: readonly Sample[]): Map<string, number> {
  const byOp = new Map<string, number>();
  for (const s of samples) {
    if (s.name !== 'dockyard_docker_requests_total') continue;
    const op = s.labels.operation ?? '?';
    byOp.set(op, (byOp.get(op) ?? 0) + s.value);
  }
  return byOp;
}

export function splitMutating(byOp: ReadonlyMap<string, number>): {
  mutating: Map<string, number>;
  reads: Map<string, number>;
} {
  const mutating = new Map<string, number>();
  const reads = new Map<string, number>();
  for (const [op, n] of byOp) (isMutatingOperation(op) ? mutating : reads).set(op, n);
  return { mutating, reads };
}

/** Sum of a counter (all label sets) filtered by labels. */
export function counterSum(
  samples: readonly Sample[],
  name: string,
  labels: Record<string, string> = {},
): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

/** GET <api server>/metrics with the admin kubeconfig's client certificate. */
export async function scrapeApiServer(kc: KubeConfig): Promise<Sample[]> {
  const cluster = kc.getCurrentCluster();
  const user = kc.getCurrentUser();
  if (!cluster || !user?.certData || !user.keyData || !cluster.caData) {
    throw new Error('the admin kubeconfig has no inline client certificate and CA');
  }
  const b64 = (s: string) => Buffer.from(s, 'base64');
  const url = new URL('/metrics', cluster.server);
  const text = await new Promise<string>((resolve, reject) => {
    const req = request(
      url,
      { ca: b64(cluster.caData!), cert: b64(user.certData!), key: b64(user.keyData!), timeout: 15_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode === 200) resolve(body);
          else reject(new Error(`GET ${url.href}: HTTP ${res.statusCode}: ${body.slice(0, 200)}`));
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${url.href} timed out`)));
    req.on('error', reject);
    req.end();
  });
  return parseSamples(text);
}

/**
 * API server writes by "VERB resource" (apiserver_request_total, verbs
 * POST/PUT/PATCH/DELETE). The API server's own identity Leases in
 * kube-system (renewed every 10 s by kube-apiserver itself) are listed apart:
 * nothing Dockyard does writes Leases while leader election is off.
 */
export function apiServerWrites(samples: readonly Sample[]): {
  byResource: Map<string, number>;
  dockyardAttributable: number;
  apiServerOwnLeases: number;
} {
  const byResource = new Map<string, number>();
  let own = 0;
  let attributable = 0;
  for (const s of samples) {
    if (s.name !== 'apiserver_request_total') continue;
    const verb = s.labels.verb ?? '';
    if (!WRITE_VERBS.has(verb)) continue;
    const resource = `${s.labels.resource ?? '?'}${s.labels.subresource ? `/${s.labels.subresource}` : ''}`;
    const key = `${verb} ${resource}${s.labels.group ? `.${s.labels.group}` : ''}`;
    byResource.set(key, (byResource.get(key) ?? 0) + s.value);
    if (s.labels.resource === 'leases') own += s.value;
    else attributable += s.value;
  }
  return { byResource, dockyardAttributable: attributable, apiServerOwnLeases: own };
}

interface DockerEventMessage {
  Type?: string;
  Action?: string;
  Actor?: { Attributes?: Record<string, string> };
}

/**
 * Daemon-side actions that mean something was changed on purpose (a
 * container's `die`, a network's `connect` on start, a volume's `mount` are
 * consequences of these and not counted separately).
 */
const MUTATING_ACTIONS: Record<string, ReadonlySet<string>> = {
  container: new Set([
    'create',
    'start',
    'stop',
    'kill',
    'restart',
    'destroy',
    'rename',
    'update',
    'pause',
    'unpause',
  ]),
  network: new Set(['create', 'destroy', 'remove']),
  volume: new Set(['create', 'destroy']),
  image: new Set(['pull', 'tag', 'untag', 'delete', 'import', 'load']),
};

export function isMutatingAction(type: string, action: string): boolean {
  // Exec actions carry the command after a colon ("exec_start: sh -c …").
  const verb = action.split(':', 1)[0] ?? '';
  return MUTATING_ACTIONS[type]?.has(verb) ?? false;
}

/**
 * Follows one daemon's `docker events` and counts every "type action". The
 * stream is read from the moment start() returns; the counts are cumulative.
 */
export class DockerEventCounter {
  readonly counts = new Map<string, number>();
  /**
   * performance.now() of the last container `start` per owner ("namespace/name"
   * from Dockyard's owner labels), to tell when Docker was done apart from when
   * status said Ready.
   */
  readonly containerStartedAt = new Map<string, number>();
  private stream: NodeJS.ReadableStream | undefined;

  constructor(
    readonly node: string,
    private readonly docker: Dockerode,
  ) {}

  async start(): Promise<this> {
    const stream = (await this.docker.getEvents({})) as NodeJS.ReadableStream;
    this.stream = stream;
    let buffered = '';
    stream.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (!line) continue;
        try {
          const event = JSON.parse(line) as DockerEventMessage;
          const labels = event.Actor?.Attributes ?? {};
          if (event.Type === 'container' && event.Action === 'start' && labels['dockyard.io/name']) {
            this.containerStartedAt.set(
              `${labels['dockyard.io/namespace'] ?? ''}/${labels['dockyard.io/name']}`,
              performance.now(),
            );
          }
          const key = `${event.Type ?? '?'} ${(event.Action ?? '?').split(':', 1)[0]}`;
          this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
        } catch {
          // a partial or foreign line: not an event
        }
      }
    });
    stream.on('error', () => {}); // the node may be paused or stopped on purpose
    return this;
  }

  snapshot(): Map<string, number> {
    return new Map(this.counts);
  }

  stop(): void {
    (this.stream as { destroy?: () => void } | undefined)?.destroy?.();
    this.stream = undefined;
  }
}

/** Only the mutating "type action" counts of a snapshot or delta. */
export function mutatingEvents(counts: ReadonlyMap<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [key, n] of counts) {
    const [type = '', action = ''] = key.split(' ');
    if (isMutatingAction(type, action)) out.set(key, n);
  }
  return out;
}

export const toObject = (m: ReadonlyMap<string, number>): Record<string, number> =>
  Object.fromEntries([...m].sort(([a], [b]) => a.localeCompare(b)));
