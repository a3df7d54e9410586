// The parity report: agreement per key over the corpus, the categories that
// must agree 100%, every difference with the DIFFERENCES.md row that explains
// it, and what the comparison masked or normalised. Pure: observations in,
// markdown and a verdict out.

import type { Finding } from '../../../src/compose/findings.js';
import type { Observation } from './compare.js';
import type { Explained } from './differences.js';
import { MASKED, NORMALISATIONS } from './normalise.js';

/**
 * The categories the issue requires to agree 100%; every other key needs
 * MIN_OTHER. Whether every object came up (`container`, `network`, `volume`,
 * `project.up`) is counted with the other keys: a project Dockyard refuses on
 * purpose where docker compose silently drops a setting (an Engine too old
 * for it) is a documented difference, not a mismatch of what runs.
 */
export const REQUIRED: Array<{ category: string; patterns: string[] }> = [
  { category: 'image', patterns: ['container.Config.Image', 'container.Image'] },
  {
    category: 'command',
    patterns: ['container.Config.Entrypoint', 'container.Config.Cmd', 'container.Path', 'container.Args'],
  },
  { category: 'env', patterns: ['container.Config.Env'] },
  {
    category: 'ports',
    patterns: [
      'container.Config.ExposedPorts',
      'container.HostConfig.PortBindings',
      'container.HostConfig.PublishAllPorts',
      'container.NetworkSettings.Ports',
    ],
  },
  {
    category: 'mounts',
    patterns: [
      'container.Mounts',
      'container.HostConfig.Mounts',
      'container.HostConfig.Binds',
      'container.HostConfig.Tmpfs',
      'container.HostConfig.VolumesFrom',
      'container.HostConfig.VolumeDriver',
      'container.Config.Volumes',
    ],
  },
  {
    category: 'networks and aliases',
    patterns: ['container.HostConfig.NetworkMode', 'container.NetworkSettings.Networks.*', 'network.*'],
  },
  { category: 'healthcheck', patterns: ['container.Config.Healthcheck.*'] },
  { category: 'restart policy', patterns: ['container.HostConfig.RestartPolicy.*'] },
  {
    category: 'resources',
    patterns: [
      'container.HostConfig.Memory',
      'container.HostConfig.MemoryReservation',
      'container.HostConfig.MemorySwap',
      'container.HostConfig.MemorySwappiness',
      'container.HostConfig.NanoCpus',
      'container.HostConfig.CpuShares',
      'container.HostConfig.CpuPeriod',
      'container.HostConfig.CpuQuota',
      'container.HostConfig.CpuRealtimePeriod',
      'container.HostConfig.CpuRealtimeRuntime',
      'container.HostConfig.CpusetCpus',
      'container.HostConfig.CpusetMems',
      'container.HostConfig.PidsLimit',
      'container.HostConfig.ShmSize',
      'container.HostConfig.Ulimits',
      'container.HostConfig.DeviceRequests',
      'container.HostConfig.BlkioWeight',
      'container.HostConfig.OomKillDisable',
      'container.HostConfig.KernelMemory',
    ],
  },
  { category: 'depends_on order', patterns: ['depends_on.*'] },
];

/**
 * Every key outside REQUIRED, taken together: each documented difference of
 * those keys lowers it, and a key Dockyard does not support at all (0% on the
 * few containers that set it) is a documented difference rather than a
 * failure of its own. Each key's own share is in the report.
 */
export const MIN_OTHER = 0.95;

const matches = (pattern: string, key: string) =>
  pattern.endsWith('.*') ? key.startsWith(pattern.slice(0, -1)) : key === pattern;

export function categoryOf(key: string): string | undefined {
  return REQUIRED.find((c) => c.patterns.some((p) => matches(p, key)))?.category;
}

export interface KeyAgreement {
  key: string;
  category: string | undefined;
  agreeing: number;
  total: number;
  ok: boolean;
}

export function agreementByKey(observations: readonly Observation[]): KeyAgreement[] {
  const byKey = new Map<string, { agreeing: number; total: number }>();
  for (const o of observations) {
    const k = byKey.get(o.key) ?? { agreeing: 0, total: 0 };
    k.total++;
    if (o.agree) k.agreeing++;
    byKey.set(o.key, k);
  }
  return [...byKey]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([key, { agreeing, total }]) => {
      const category = categoryOf(key);
      return { key, category, agreeing, total, ok: category ? agreeing === total : true };
    });
}

export interface ProjectLine {
  dir: string;
  host: string;
  up: { compose: string; dockyard: string };
  compared: boolean;
  seconds: { up: number; read: number; composeDown: number; dockyardDown: number };
  warnings: Finding[];
}

export interface Verdict {
  ok: boolean;
  problems: string[];
  /** Agreement of every key outside REQUIRED, together. */
  other: { agreeing: number; total: number };
}

function otherAgreement(keys: readonly KeyAgreement[]): Verdict['other'] {
  const other = keys.filter((k) => !k.category);
  return {
    agreeing: other.reduce((n, k) => n + k.agreeing, 0),
    total: other.reduce((n, k) => n + k.total, 0),
  };
}

export function verdict(
  keys: readonly KeyAgreement[],
  explained: Explained,
  corpusProblems: readonly string[] = [],
): Verdict {
  const other = otherAgreement(keys);
  const problems = [
    ...corpusProblems,
    ...keys
      .filter((k) => !k.ok)
      .map((k) => `${k.key} (${k.category ?? ''}) must agree 100%: ${k.agreeing}/${k.total}`),
    ...(other.agreeing / Math.max(other.total, 1) < MIN_OTHER
      ? [`the other keys agree ${pct(other.agreeing, other.total)} together, below ${MIN_OTHER * 100}%`]
      : []),
    ...explained.undocumented.map(
      (o) =>
        `undocumented difference ${o.project} ${o.object} ${o.path}: compose ${show(o.compose)}, dockyard ${show(o.dockyard)}`,
    ),
    ...explained.stale.map(
      (s) => `stale DIFFERENCES.md row (line ${s.row.line}) \`${s.row.pattern}\`: ${s.why}`,
    ),
  ];
  return { ok: problems.length === 0, problems, other };
}

const pct = (a: number, t: number) => `${((100 * a) / t).toFixed(1)}%`;
const show = (v: string | undefined) =>
  v === undefined ? '(absent)' : v.length > 160 ? `${v.slice(0, 157)}...` : v;
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const code = (s: string) => `\`${s.replace(/`/g, "'")}\``;

export function renderReport(args: {
  projects: readonly ProjectLine[];
  keys: readonly KeyAgreement[];
  explained: Explained;
  verdict: Verdict;
  wallSeconds: number;
  labSeconds: number;
  concurrency: number;
}): string {
  const { projects, keys, explained } = args;
  const total = keys.reduce((n, k) => n + k.total, 0);
  const agreeing = keys.reduce((n, k) => n + k.agreeing, 0);
  const out: string[] = [];
  out.push('# Compose parity: docker compose v5.6.0 and Dockyard, key by key', '');
  out.push(
    `${projects.length} corpus projects; ${total} compared values over ${keys.length} keys, ` +
      `${agreeing} agreeing (${pct(agreeing, total)}); ${explained.documented.length} documented differences, ` +
      `${explained.undocumented.length} undocumented, ${explained.stale.length} stale rows. ` +
      `Wall time ${args.wallSeconds.toFixed(0)} s for the corpus (${args.concurrency} projects at a time) ` +
      `after ${args.labSeconds.toFixed(0)} s of lab start. ` +
      `Verdict: ${args.verdict.ok ? 'pass' : 'FAIL'}.`,
    '',
  );
  if (!args.verdict.ok) {
    out.push('## Problems', '', ...args.verdict.problems.map((p) => `- ${p}`), '');
  }
  out.push(
    '## By category',
    '',
    `Each key of the required categories must agree 100%; the other keys together ${MIN_OTHER * 100}% (each one's share is below).`,
    '',
    '| Category | Bar | Agreeing/total | % |',
    '| --- | --- | --- | --- |',
  );
  for (const c of REQUIRED) {
    const ks = keys.filter((k) => k.category === c.category);
    const [a, t] = [ks.reduce((n, k) => n + k.agreeing, 0), ks.reduce((n, k) => n + k.total, 0)];
    out.push(`| ${c.category} | 100% | ${a}/${t} | ${t === 0 ? '—' : pct(a, t)} |`);
  }
  const other = args.verdict.other;
  out.push(
    `| everything else | ${MIN_OTHER * 100}% | ${other.agreeing}/${other.total} | ${pct(other.agreeing, other.total)} |`,
  );
  out.push(
    '',
    '## Agreement per key',
    '',
    '| Key | Category | Agreeing/total | % |',
    '| --- | --- | --- | --- |',
  );
  for (const k of keys) {
    out.push(
      `| ${code(k.key)} | ${k.category ?? 'other'} | ${k.agreeing}/${k.total} | ${pct(k.agreeing, k.total)}${k.ok ? '' : ' ✗'} |`,
    );
  }
  out.push('', '## Differences', '');
  const byRow = new Map<number, Explained['documented']>();
  for (const d of explained.documented) byRow.set(d.row.line, [...(byRow.get(d.row.line) ?? []), d]);
  out.push(
    '| Key path pattern | Projects | Count | Reason | Example (compose → dockyard) |',
    '| --- | --- | --- | --- | --- |',
  );
  for (const list of byRow.values()) {
    const { row, observation: o } = list[0] as Explained['documented'][number];
    const projectsSeen = [...new Set(list.map((d) => d.observation.project))].join(', ');
    out.push(
      `| ${code(row.pattern)} | ${projectsSeen} | ${list.length} | ${cell(row.reason)} | ${cell(`${o.object}: ${show(o.compose)} → ${show(o.dockyard)}`)} |`,
    );
  }
  if (explained.undocumented.length > 0) {
    out.push(
      '',
      '### Undocumented',
      '',
      '| Project | Object | Path | compose | dockyard |',
      '| --- | --- | --- | --- | --- |',
    );
    for (const o of explained.undocumented)
      out.push(
        `| ${o.project} | ${o.object} | ${code(o.path)} | ${cell(show(o.compose))} | ${cell(show(o.dockyard))} |`,
      );
  }
  if (explained.stale.length > 0) {
    out.push('', '### Stale rows in DIFFERENCES.md', '');
    for (const s of explained.stale) out.push(`- line ${s.row.line} ${code(s.row.pattern)}: ${s.why}`);
  }
  out.push(
    '',
    '## Projects',
    '',
    '| Project | Dockyard host | compose | Dockyard | up / read / down (s) | Unsupported keys |',
  );
  out.push('| --- | --- | --- | --- | --- | --- |');
  for (const p of projects) {
    const s = p.seconds;
    out.push(
      `| ${p.dir} | ${p.host} | ${cell(show(p.up.compose))} | ${cell(show(p.up.dockyard))} | ${s.up} / ${s.read} / ${Math.max(s.composeDown, s.dockyardDown)} | ${cell(p.warnings.map((w) => w.path).join(', ') || '—')} |`,
    );
  }
  const unsupported = projects.flatMap((p) => p.warnings.map((w) => ({ dir: p.dir, ...w })));
  out.push('', '## Unsupported keys (converted with --allow-unsupported)', '');
  if (unsupported.length === 0) out.push('None.');
  for (const w of unsupported) out.push(`- ${w.dir}: ${code(w.path)}: ${w.reason}`);
  out.push('', '## Normalisations', '');
  for (const n of NORMALISATIONS) out.push(`- ${n.what}: ${n.why}`);
  out.push('', '## Masked', '', ...MASKED.map((m) => `- ${m}`), '');
  return out.join('\n');
}
