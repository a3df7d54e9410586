// What a V8 heap snapshot holds, by constructor: count and self size of the
// objects of each name, largest first, so per-host and per-object memory can
// be attributed without a browser. Take the snapshot of a running controller
// with `kill -USR2 <pid>` when it was started with
// `--heapsnapshot-signal=SIGUSR2` (NODE_OPTIONS), then:
//   npx tsx bench/support/heap-summary.ts Heap.*.heapsnapshot [--top=30] [--per=1000]
// --per divides the sizes by a count (hosts, objects) for a per-item column.
// Self sizes only: what an object holds through references is counted at the
// referenced objects' own names (no dominator tree).

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export interface HeapGroup {
  /** "type name", e.g. "object Socket", "string", "closure onData". */
  name: string;
  count: number;
  selfBytes: number;
}

/** Strings, numbers and code are grouped by type; objects and closures by name. */
const BY_TYPE = new Set(['string', 'concatenated string', 'sliced string', 'number', 'code', 'hidden']);

export function groupHeap(snapshot: HeapSnapshot): HeapGroup[] {
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const width = fields.length;
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [
    number,
    number,
    number,
  ];
  const groups = new Map<string, HeapGroup>();
  for (let i = 0; i < snapshot.nodes.length; i += width) {
    const type = types[snapshot.nodes[i + typeAt]!] ?? '?';
    const name = BY_TYPE.has(type) ? type : `${type} ${snapshot.strings[snapshot.nodes[i + nameAt]!] ?? '?'}`;
    const group = groups.get(name) ?? { name, count: 0, selfBytes: 0 };
    group.count += 1;
    group.selfBytes += snapshot.nodes[i + sizeAt]!;
    groups.set(name, group);
  }
  return [...groups.values()].sort((a, b) => b.selfBytes - a.selfBytes);
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string' }, per: { type: 'string' } },
  });
  const top = Number(values.top ?? 30);
  const per = values.per ? Number(values.per) : undefined;
  for (const file of positionals) {
    const groups = groupHeap(JSON.parse(readFileSync(file, 'utf8')) as HeapSnapshot);
    const total = groups.reduce((sum, g) => sum + g.selfBytes, 0);
    console.log(`${file}: ${(total / 2 ** 20).toFixed(1)} MiB in ${groups.length} groups`);
    console.log(`| Self size | Count |${per ? ` Bytes per ${per} |` : ''} Group |`);
    console.log(`| --- | --- |${per ? ' --- |' : ''} --- |`);
    for (const g of groups.slice(0, top))
      console.log(
        `| ${(g.selfBytes / 2 ** 20).toFixed(2)} MiB | ${g.count} |${per ? ` ${Math.round(g.selfBytes / per)} |` : ''} ${g.name} |`,
      );
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
