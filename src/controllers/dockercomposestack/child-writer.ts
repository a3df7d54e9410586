// Writes a stack's children to the API server: create what is new (refusing a
// name another resource holds), server-side apply what changed, delete what
// the project no longer has. A child's `compose.dockyard.io/applied` annotation
// holds the hash of what was last applied, so an unchanged child costs no
// request and an unchanged service is never touched (its container is not
// recreated).

import { createHash } from 'node:crypto';
import { PatchStrategy, type KubernetesObject, type KubernetesObjectApi } from '@kubernetes/client-node';
import { statusCodeOf } from '../../runtime/api-errors.js';
import { controlledBy, type Child, type ChildAction } from './children.js';

export const APPLIED_ANNOTATION = 'compose.dockyard.io/applied';

export type ObjectsApi = Pick<KubernetesObjectApi, 'create' | 'patch' | 'delete' | 'read'>;

export interface WriteOutcome {
  created: Child[];
  updated: Child[];
  deleted: KubernetesObject[];
  /** Children whose name another resource holds: nothing of it is touched. */
  conflicts: Child[];
}

function appliedHash(child: Child): string {
  const { metadata, ...content } = child;
  return createHash('sha256')
    .update(JSON.stringify([metadata.labels, metadata.ownerReferences, content]))
    .digest('hex')
    .slice(0, 16);
}

function stamped(child: Child): Child {
  const annotations = { ...child.metadata.annotations, [APPLIED_ANNOTATION]: appliedHash(child) };
  return { ...child, metadata: { ...child.metadata, annotations } };
}

export class ChildWriter {
  constructor(
    private readonly api: ObjectsApi,
    private readonly fieldManager: string,
  ) {}

  /** Runs the actions in order; `existing` is what the caches hold, by kind/name. */
  async write(opts: {
    actions: readonly ChildAction[];
    existing: ReadonlyMap<string, KubernetesObject>;
    stackUid: string;
  }): Promise<WriteOutcome> {
    const outcome: WriteOutcome = { created: [], updated: [], deleted: [], conflicts: [] };
    for (const action of opts.actions) {
      if (action.type === 'delete') {
        await this.remove(action.child);
        outcome.deleted.push(action.child);
        continue;
      }
      const child = stamped(action.child);
      const current = opts.existing.get(`${child.kind}/${child.metadata.name}`);
      if (
        current?.metadata?.annotations?.[APPLIED_ANNOTATION] ===
        child.metadata.annotations?.[APPLIED_ANNOTATION]
      )
        continue;
      const result = action.type === 'apply' ? 'exists' : await this.createOrAdopt(child, opts.stackUid);
      if (result === 'exists') {
        await this.apply(child);
        outcome.updated.push(child);
      } else if (result === 'conflict') outcome.conflicts.push(child);
      else outcome.created.push(child);
    }
    return outcome;
  }

  /** 'created', or 'exists' when the stack already owns it (a cache that lagged), or 'conflict'. */
  private async createOrAdopt(child: Child, stackUid: string): Promise<'created' | 'exists' | 'conflict'> {
    try {
      await this.api.create(child, undefined, undefined, this.fieldManager);
      return 'created';
    } catch (err) {
      if (statusCodeOf(err) !== 409) throw err;
      const found = await this.api.read(child);
      return controlledBy(found, stackUid) ? 'exists' : 'conflict';
    }
  }

  private async apply(child: Child): Promise<void> {
    // Force: the stack owns the object, and its Compose file is the source of truth for every field.
    await this.api.patch(child, undefined, undefined, this.fieldManager, true, PatchStrategy.ServerSideApply);
  }

  private async remove(child: KubernetesObject): Promise<void> {
    try {
      await this.api.delete(child, undefined, undefined, undefined, undefined, 'Background');
    } catch (err) {
      if (statusCodeOf(err) !== 404) throw err;
    }
  }
}
