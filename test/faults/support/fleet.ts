// A "fleet": N objects of mixed kinds applied the way a manifest would be,
// in groups of four that depend on each other, spread over the two nodes:
//   v<g>  DockerVolume   (deletionPolicy Delete on even groups, the default Orphan on odd ones)
//   n<g>  DockerNetwork  (its own /24, so 2×N networks never exhaust Docker's address pools)
//   c<g>a DockerContainer mounting v<g> at /data, on n<g>
//   c<g>b DockerContainer on n<g> with an alias
// Placement per group cycles through both nodes (selector), n1 (hostName) and
// n2 (selector on its label), so every placement path is exercised.

import type { Kube } from '../../support/kube.js';
import type { PlacedKind } from './invariants.js';
import { NODE_NAMES } from './environment.js';

export interface FleetObject {
  kind: PlacedKind;
  name: string;
  group: number;
  spec: Record<string, unknown>;
}

const NODE_LABEL = 'dockyard.io/test-node';

/** Hosts group `g` is placed on, and the placement fields that say so. */
export function groupPlacement(g: number): { hosts: string[]; fields: Record<string, unknown> } {
  switch (g % 3) {
    case 0:
      return {
        hosts: [...NODE_NAMES],
        fields: { hostSelector: { matchExpressions: [{ key: NODE_LABEL, operator: 'Exists' }] } },
      };
    case 1:
      return { hosts: ['n1'], fields: { hostName: 'n1' } };
    default:
      return { hosts: ['n2'], fields: { hostSelector: { matchLabels: { [NODE_LABEL]: 'n2' } } } };
  }
}

/** Container stop grace: busybox `sleep` as PID 1 ignores SIGTERM, so every stop would wait the full period. */
const STOP_GRACE = '1s';

/** Pure: the objects of `groups` groups (4 objects each), in apply order. */
export function fleetObjects(groups: number, image: string): FleetObject[] {
  if (groups > 250) throw new Error('at most 250 groups (one /24 each under 10.99.0.0/16)');
  const out: FleetObject[] = [];
  for (let g = 0; g < groups; g++) {
    const { fields } = groupPlacement(g);
    out.push(
      {
        kind: 'DockerVolume',
        name: `v${g}`,
        group: g,
        spec: { ...fields, ...(g % 2 === 0 ? { deletionPolicy: 'Delete' } : {}) },
      },
      {
        kind: 'DockerNetwork',
        name: `n${g}`,
        group: g,
        spec: { ...fields, ipam: { config: [{ subnet: `10.99.${g}.0/24` }] } },
      },
      {
        kind: 'DockerContainer',
        name: `c${g}a`,
        group: g,
        spec: {
          ...fields,
          image,
          command: ['sleep', '3600'],
          env: [{ name: 'GROUP', value: String(g) }],
          mounts: [{ type: 'volume', volume: `v${g}`, target: '/data' }],
          networks: [{ name: `n${g}` }],
          stopGracePeriod: STOP_GRACE,
        },
      },
      {
        kind: 'DockerContainer',
        name: `c${g}b`,
        group: g,
        spec: {
          ...fields,
          image,
          command: ['sleep', '3600'],
          networks: [{ name: `n${g}`, aliases: [`b${g}`] }],
          stopGracePeriod: STOP_GRACE,
        },
      },
    );
  }
  return out;
}

/** Creates the objects with a few requests in flight, like a client applying a large manifest. */
export async function applyFleet(
  kube: Kube,
  namespace: string,
  objects: readonly FleetObject[],
  concurrency = 4,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, objects.length) }, async () => {
      while (next < objects.length) {
        const o = objects[next++] as FleetObject;
        await kube.create(o.kind, namespace, o.name, o.spec);
      }
    }),
  );
}
