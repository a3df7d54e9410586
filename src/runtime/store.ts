// The informer's in-memory cache: objects keyed by namespace/name, plus named
// secondary indexes (client-go's ThreadSafeStore + Indexers). Pure and
// synchronous; the informer decides which handlers to call from what it returns.
// Objects handed out are the cached instances: callers must not mutate them.

import type { KubernetesObject } from '@kubernetes/client-node';
import { objectKey } from './object-key.js';

/** Returns the index values of an object (e.g. the names of the secrets it references). */
export type IndexFunc<T> = (obj: T) => readonly string[];

export interface ReplaceResult<T> {
  added: T[];
  updated: { old: T; current: T }[];
  deleted: T[];
}

export class Store<T extends KubernetesObject> {
  private readonly items = new Map<string, T>();
  private readonly indexers = new Map<string, IndexFunc<T>>();
  /** index name → index value → keys */
  private readonly indices = new Map<string, Map<string, Set<string>>>();

  get(key: string): T | undefined {
    return this.items.get(key);
  }

  getByName(name: string, namespace?: string): T | undefined {
    return this.items.get(namespace ? `${namespace}/${name}` : name);
  }

  /** All objects, or those of one namespace. */
  list(namespace?: string): T[] {
    const all = [...this.items.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata?.namespace === namespace);
  }

  keys(): string[] {
    return [...this.items.keys()];
  }

  get size(): number {
    return this.items.size;
  }

  /** Inserts or replaces `obj`; returns the previous object under its key, if any. */
  upsert(obj: T): T | undefined {
    const key = objectKey(obj);
    if (key === undefined) return undefined;
    const old = this.items.get(key);
    if (old) this.unindex(key, old);
    this.items.set(key, obj);
    this.index(key, obj);
    return old;
  }

  /** Removes the object with `obj`'s key; returns what was cached, if anything. */
  remove(obj: T): T | undefined {
    const key = objectKey(obj);
    if (key === undefined) return undefined;
    const old = this.items.get(key);
    if (!old) return undefined;
    this.unindex(key, old);
    this.items.delete(key);
    return old;
  }

  /**
   * Replaces the whole content with a fresh list and reports the difference.
   * Objects that vanished are reported as deleted: their delete events were
   * missed while the watch was down.
   */
  replace(list: readonly T[]): ReplaceResult<T> {
    const result: ReplaceResult<T> = { added: [], updated: [], deleted: [] };
    const seen = new Set<string>();
    for (const obj of list) {
      const key = objectKey(obj);
      if (key === undefined) continue;
      seen.add(key);
      const old = this.upsert(obj);
      if (old) result.updated.push({ old, current: obj });
      else result.added.push(obj);
    }
    for (const [key, old] of [...this.items]) {
      if (seen.has(key)) continue;
      this.unindex(key, old);
      this.items.delete(key);
      result.deleted.push(old);
    }
    return result;
  }

  /** Adds a named index and builds it from the current content. */
  addIndexer(name: string, fn: IndexFunc<T>): void {
    if (this.indexers.has(name)) throw new Error(`indexer ${JSON.stringify(name)} already exists`);
    this.indexers.set(name, fn);
    this.indices.set(name, new Map());
    for (const [key, obj] of this.items) this.indexOne(name, fn, key, obj);
  }

  /** Objects whose index `name` contains `value`. Throws for an unknown index (a programming error). */
  byIndex(name: string, value: string): T[] {
    const index = this.indices.get(name);
    if (!index) throw new Error(`no indexer named ${JSON.stringify(name)}`);
    const keys = index.get(value);
    if (!keys) return [];
    const out: T[] = [];
    for (const key of keys) {
      const obj = this.items.get(key);
      if (obj) out.push(obj);
    }
    return out;
  }

  private index(key: string, obj: T): void {
    for (const [name, fn] of this.indexers) this.indexOne(name, fn, key, obj);
  }

  private indexOne(name: string, fn: IndexFunc<T>, key: string, obj: T): void {
    const index = this.indices.get(name);
    if (!index) return;
    for (const value of fn(obj)) {
      let keys = index.get(value);
      if (!keys) index.set(value, (keys = new Set()));
      keys.add(key);
    }
  }

  private unindex(key: string, obj: T): void {
    for (const [name, fn] of this.indexers) {
      const index = this.indices.get(name);
      if (!index) continue;
      for (const value of fn(obj)) {
        const keys = index.get(value);
        if (!keys) continue;
        keys.delete(key);
        if (keys.size === 0) index.delete(value);
      }
    }
  }
}

/** A common index: objects by namespace. */
export const namespaceIndex: IndexFunc<KubernetesObject> = (obj) =>
  obj.metadata?.namespace ? [obj.metadata.namespace] : [];
