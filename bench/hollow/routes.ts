import * as containers from './containers.js';
import type { Handler } from './context.js';
import * as images from './images.js';
import * as networks from './networks.js';
import * as system from './system.js';
import * as volumes from './volumes.js';
import { serveEvents } from './events.js';

// The Engine API subset Dockyard calls (src/docker/*, the orphan sweep, the
// edge agent's local repair), one line per route. Paths are matched after the
// optional /v1.NN prefix is removed; `([^/]+)` captures an ID or a name, and
// image names, which contain slashes, are captured greedily up to /json.

type Route = [method: string, path: RegExp, handler: Handler];

const events: Handler = ({ state, req, res, query, apiVersion }) => {
  serveEvents(state.events, req, res, query, apiVersion);
  return undefined;
};

export const ROUTES: Route[] = [
  ['GET', /^\/_ping$/, system.ping],
  ['HEAD', /^\/_ping$/, system.ping],
  ['GET', /^\/version$/, system.version],
  ['GET', /^\/info$/, system.info],
  ['GET', /^\/events$/, events],

  ['GET', /^\/containers\/json$/, containers.listContainers],
  ['POST', /^\/containers\/create$/, containers.createContainer],
  ['GET', /^\/containers\/([^/]+)\/json$/, containers.inspectContainer],
  ['POST', /^\/containers\/([^/]+)\/start$/, containers.start],
  ['POST', /^\/containers\/([^/]+)\/stop$/, containers.stop],
  ['POST', /^\/containers\/([^/]+)\/kill$/, containers.kill],
  ['POST', /^\/containers\/([^/]+)\/restart$/, containers.restart],
  ['POST', /^\/containers\/([^/]+)\/update$/, containers.update],
  ['POST', /^\/containers\/([^/]+)\/rename$/, containers.rename],
  ['POST', /^\/containers\/([^/]+)\/wait$/, containers.wait],
  ['GET', /^\/containers\/([^/]+)\/logs$/, containers.logs],
  ['DELETE', /^\/containers\/([^/]+)$/, containers.remove],

  ['GET', /^\/images\/json$/, images.listImages],
  ['POST', /^\/images\/create$/, images.pullImage],
  ['GET', /^\/images\/(.+)\/json$/, images.inspectImage],
  ['DELETE', /^\/images\/(.+)$/, images.removeImage],
  ['GET', /^\/distribution\/(.+)\/json$/, images.distribution],

  ['GET', /^\/networks$/, networks.listNetworks],
  ['POST', /^\/networks\/create$/, networks.createNetwork],
  ['GET', /^\/networks\/([^/]+)$/, networks.inspectNetwork],
  ['POST', /^\/networks\/([^/]+)\/connect$/, networks.connect],
  ['POST', /^\/networks\/([^/]+)\/disconnect$/, networks.disconnect],
  ['DELETE', /^\/networks\/([^/]+)$/, networks.removeNetwork],

  ['GET', /^\/volumes$/, volumes.listVolumes],
  ['POST', /^\/volumes\/create$/, volumes.createVolume],
  ['GET', /^\/volumes\/([^/]+)$/, volumes.inspectVolume],
  ['DELETE', /^\/volumes\/([^/]+)$/, volumes.removeVolume],
];

/**
 * A route's path as a template, `/containers/{id}/start`: what a request is
 * counted under, in the shape of the controller's own
 * dockyard_docker_requests_total operation label (src/docker/instrument.ts),
 * so the bench classifies both with the same rule.
 */
export function pathTemplate(path: RegExp): string {
  return path.source
    .replace(/^\^|\$$/g, '')
    .replace(/\(\[\^\/\]\+\)|\(\.\+\)/g, '{id}')
    .replace(/\\\//g, '/');
}

/** "METHOD /template" per route, computed once: requests are counted on every call. */
const LABELS = new Map(ROUTES.map(([method, path]) => [path, `${method} ${pathTemplate(path)}`]));

/** The route for a request, with its decoded path parameters and its counting label. */
export function findRoute(
  method: string,
  path: string,
): { handler: Handler; params: string[]; label: string } | undefined {
  for (const [m, re, handler] of ROUTES) {
    if (m !== method) continue;
    const match = re.exec(path);
    if (match)
      return {
        handler,
        params: match.slice(1).map((p) => decodeURIComponent(p)),
        label: LABELS.get(re) as string,
      };
  }
  return undefined;
}
