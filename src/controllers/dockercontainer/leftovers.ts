// What a recreate interrupted by a controller crash left behind, and how to
// finish it. A recreate (replace.ts) goes: stop the old container → rename it
// aside → create the new one at the name → start it → remove the old one.
// A crash between any two steps leaves one of these worlds, each settled on
// the next reconcile before anything else is decided:
//
//   at the name                  aside            settled by
//   ---------------------------  ---------------  --------------------------------
//   old (stopped, outdated)      -                nothing: the recreate runs again
//   nothing                      old              putting the old one back
//   new, never started           old              removing the new one, putting
//                                                 the old one back (runs again)
//   new, started                 old              removing the old one (done)
//   another owner's or foreign   old              nothing: ours stays aside, stopped
//
// So there is never a moment with two of ours running, and every step keeps
// volumes: the old container is removed only once its successor has run.
import type { OwnedContainer } from '../../docker/container-client.js';
import type { Ownership } from '../../managed/ownership.js';

export interface LeftoverFacts {
  /** The container at the resource's Docker name, if any. */
  current?: { id: string; ownership: Ownership; everStarted: boolean };
  /** Our containers (by owner uid) under any other name. */
  aside: readonly OwnedContainer[];
}

export type LeftoverStep =
  /** Remove the never-started successor at the name (volumes kept). */
  | { type: 'removeCurrent'; id: string }
  /** Rename our container back to the resource's name. */
  | { type: 'restore'; id: string }
  /** Remove our container aside (volumes kept): its successor has run. */
  | { type: 'remove'; id: string };

/**
 * Pure: the steps that settle what an interrupted recreate left. Also covers
 * a container left under an earlier `containerName`: it is the predecessor
 * of whatever now runs under the new name. With several aside (never made by
 * one recreate, but by repeated renames), the newest is the predecessor.
 */
export function settleLeftovers(f: LeftoverFacts): LeftoverStep[] {
  if (f.aside.length === 0) return [];
  const newestFirst = [...f.aside].sort((a, b) => b.created - a.created || (a.id < b.id ? -1 : 1));
  const current = f.current;
  // The name is someone else's: ours stays where it is, untouched.
  if (current && current.ownership !== 'ours') return [];
  if (current?.everStarted) return newestFirst.map((c) => ({ type: 'remove', id: c.id }));
  const [predecessor, ...older] = newestFirst as [OwnedContainer, ...OwnedContainer[]];
  return [
    ...(current ? [{ type: 'removeCurrent' as const, id: current.id }] : []),
    { type: 'restore', id: predecessor.id },
    ...older.map((c) => ({ type: 'remove' as const, id: c.id })),
  ];
}
