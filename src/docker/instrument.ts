import type Dockerode from 'dockerode';
import type { DockerMetrics } from './docker-metrics.js';

const OBJECT_SEGMENTS = new Set([
  'containers',
  'images',
  'networks',
  'volumes',
  'exec',
  'plugins',
  'distribution',
]);

/**
 * A low-cardinality operation label from a Docker API request: object IDs and
 * names after a collection segment become {id}; the query string is dropped.
 * `GET /containers/3f2a…/json?` → `GET /containers/{id}/json`.
 */
export function operationLabel(method: string, path: string): string {
  const clean = path.split('?')[0] ?? '';
  const parts = clean.split('/');
  const out: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] ?? '';
    const prev = parts[i - 1] ?? '';
    if (
      OBJECT_SEGMENTS.has(prev) &&
      part !== '' &&
      !['json', 'create', 'prune', 'search', 'load', 'get'].includes(part)
    ) {
      // image names contain slashes: everything up to the trailing verb is the name
      if (prev === 'images' || prev === 'distribution') {
        const last = parts[parts.length - 1] ?? '';
        const verb =
          ['json', 'push', 'tag', 'history', 'get'].includes(last) && parts.length - 1 > i ? last : undefined;
        out.push('{id}');
        if (verb) out.push(verb);
        break;
      }
      out.push('{id}');
    } else {
      out.push(part);
    }
  }
  return `${method.toUpperCase()} ${out.join('/')}`;
}

interface DialOptions {
  method?: string;
  path?: string;
}
type DialCallback = (err: unknown, data: unknown) => void;
interface DialingModem {
  dial(options: DialOptions, callback: DialCallback): unknown;
}

/**
 * Counts and times every request a dockerode client makes, by wrapping its
 * modem's dial (the one place all requests pass through).
 */
export function instrumentClient(client: Dockerode, host: string, metrics: DockerMetrics): Dockerode {
  const modem = client.modem as unknown as DialingModem;
  const dial = modem.dial.bind(modem);
  modem.dial = (options: DialOptions, callback: DialCallback) => {
    const started = process.hrtime.bigint();
    const operation = operationLabel(options.method ?? 'GET', options.path ?? '');
    return dial(options, (err, data) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.request(host, operation, err ? 'error' : 'ok', seconds);
      callback(err, data);
    });
  };
  return client;
}
