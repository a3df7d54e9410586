import { describe, expect, it } from 'vitest';
import { decideOrphans, type LabelledObject } from './orphan-sweep.js';
import { ownerLabels } from './ownership.js';

const obj = (
  type: LabelledObject['type'],
  kind: string,
  ns: string,
  name: string,
  uid: string,
  policy: 'Delete' | 'Orphan' | undefined,
): LabelledObject => {
  const labels = ownerLabels({ kind, namespace: ns, name, uid }, 'h', policy ?? 'Delete');
  if (!policy) delete labels['dockyard.io/deletion-policy'];
  return { type, ref: `${ns}.${name}`, labels };
};

const owners = new Map([['DockerContainer/team/web', { uid: 'u-web' }]]);
const lookup = (kind: string, ns: string, name: string) => owners.get(`${kind}/${ns}/${name}`);
const kinds = new Set(['DockerContainer', 'DockerVolume', 'DockerNetwork']);

describe('decideOrphans', () => {
  it.each([
    ['owner exists', obj('container', 'DockerContainer', 'team', 'web', 'u-web', 'Delete'), 'keep'],
    ['owner gone, Delete', obj('container', 'DockerContainer', 'team', 'old', 'u-old', 'Delete'), 'remove'],
    [
      'owner replaced (new uid), Delete',
      obj('container', 'DockerContainer', 'team', 'web', 'u-previous', 'Delete'),
      'remove',
    ],
    ['owner gone, Orphan', obj('container', 'DockerContainer', 'team', 'old', 'u-old', 'Orphan'), 'keep'],
    [
      'volume, owner gone, default Orphan',
      obj('volume', 'DockerVolume', 'team', 'data', 'u-d', 'Orphan'),
      'keep',
    ],
    ['volume labelled for deletion', obj('volume', 'DockerVolume', 'team', 'tmp', 'u-t', 'Delete'), 'remove'],
    ['no policy recorded', obj('network', 'DockerNetwork', 'team', 'n', 'u-n', undefined), 'keep'],
    ['kind not watched here', obj('container', 'DockerWidget', 'team', 'w', 'u-w', 'Delete'), 'keep'],
    ['namespace out of scope', obj('container', 'DockerContainer', 'other', 'x', 'u-x', 'Delete'), 'keep'],
  ] as const)('%s → %s', (_name, o, action) => {
    const [d] = decideOrphans([o], lookup, kinds, (ns) => ns === 'team');
    expect(d?.action).toBe(action);
  });
});
