// Top self-time functions of a V8 .cpuprofile (node --cpu-prof), so the
// controller's hot paths can be found without a browser:
//   npx tsx bench/support/profile-summary.ts bench/results/profiles/X.cpuprofile [--top=30] [--own]
// --own keeps only Dockyard's code (dist/ or src/, not node_modules or Node internals).

import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface HotFunction {
  /** "name (file:line)", line 1-based. */
  location: string;
  own: boolean;
  selfMs: number;
  /** Share of all sampled time, 0..1. */
  share: number;
}

const REPO = fileURLToPath(new URL('../..', import.meta.url));

function where(frame: CallFrame): { location: string; own: boolean } {
  const name = frame.functionName || '(anonymous)';
  if (!frame.url) return { location: name, own: false };
  const path = frame.url.startsWith('file://') ? fileURLToPath(frame.url) : frame.url;
  const shown = path.startsWith(REPO) ? relative(REPO, path) : path;
  const own = path.startsWith(REPO) && !path.includes('node_modules');
  return { location: `${name} (${shown}:${frame.lineNumber + 1})`, own };
}

/** Self time per function (summed over every node with the same name and position), largest first. */
export function hotFunctions(profile: CpuProfile): HotFunction[] {
  const byNode = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    // timeDeltas[i] is the time since the previous sample: attribute it to this one.
    byNode.set(id, (byNode.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const totalUs = [...byNode.values()].reduce((a, b) => a + b, 0) || 1;
  const byLocation = new Map<string, { own: boolean; us: number }>();
  for (const node of profile.nodes) {
    const us = byNode.get(node.id);
    if (!us) continue;
    const { location, own } = where(node.callFrame);
    const entry = byLocation.get(location) ?? { own, us: 0 };
    entry.us += us;
    byLocation.set(location, entry);
  }
  return [...byLocation]
    .map(([location, { own, us }]) => ({ location, own, selfMs: us / 1000, share: us / totalUs }))
    .sort((a, b) => b.selfMs - a.selfMs);
}

export function formatHot(list: readonly HotFunction[], top: number): string {
  return list
    .slice(0, top)
    .map(
      (h) =>
        `${h.selfMs.toFixed(1).padStart(10)} ms ${(h.share * 100).toFixed(1).padStart(5)} %  ${h.location}`,
    )
    .join('\n');
}

export function readProfile(path: string): CpuProfile {
  return JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith('--'));
  if (!file) {
    console.error('usage: tsx bench/support/profile-summary.ts FILE.cpuprofile [--top=30] [--own]');
    process.exit(2);
  }
  const top = Number(args.find((a) => a.startsWith('--top='))?.slice(6) ?? 30);
  const ownOnly = args.includes('--own');
  const profile = readProfile(file);
  const hot = hotFunctions(profile).filter((h) => !ownOnly || h.own);
  console.log(`${file}: ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s profiled`);
  console.log(formatHot(hot, top));
}
