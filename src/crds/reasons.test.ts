import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  EventReason,
  FAILED_PHASES,
  HEALTHY_REASONS,
  INFORMATIONAL_REASONS,
  Reason,
  RETRIED_REASONS,
  ROLLOUT_FAILED_REASONS,
  STALLED_REASONS,
  SUSPENDED_REASONS,
  WAITING_REASONS,
} from './reasons.js';

// The reasons module is the one list: these tests keep the source, the groups
// and the module from drifting apart. docs/troubleshooting.md is checked
// against it in scripts/generate-docs.test.ts, the Argo CD health checks in
// gitops/argocd-health.test.ts.

/** Where the controllers set reasons (src/runtime only passes them through). */
const SOURCE_DIRS = ['src/controllers', 'src/managed', 'src/policy', 'src/docker'];

/** The host machine's context remembers 'Ready' as its last reason; it is never a condition reason. */
const NOT_REASONS = new Set(['Ready']);

interface Literal {
  reason: string;
  /** Set as a condition reason (must be a Reason), or recorded as an Event reason (a Reason or an EventReason). */
  as: 'condition' | 'event';
  line: number;
}

/** 'X' literals in an expression, except those it compares against (`policy === 'Delete' ? …`). */
function literalsIn(expr: string): string[] {
  return [...expr.matchAll(/(?<![=!]==\s*)'([A-Z]\w+)'/g)].map((m) => m[1] ?? '');
}

/**
 * Reason literals in a source file: `reason: 'X'`, `reason ?? 'X'`, `reason: a ? 'X' : 'Y'`,
 * `reason === 'X'`, `const reason = … 'X'`, reason unions (`reason: 'A' | 'B'`,
 * `type FooReason = 'A' | 'B'`), and the reason argument of `.event(obj, 'Warning', …)`
 * and `note('Normal', …)` calls.
 */
export function reasonLiterals(text: string): Literal[] {
  const found: Literal[] = [];
  const lineOf = (index: number) => text.slice(0, index).split('\n').length;
  const add = (as: Literal['as'], index: number, reasons: string[]) => {
    for (const reason of reasons)
      if (!NOT_REASONS.has(reason)) found.push({ reason, as, line: lineOf(index) });
  };
  for (const m of text.matchAll(/\breason(?:\??:|\s*\?\?)\s*([^,;\n]*)/g))
    add('condition', m.index, literalsIn(m[1] ?? ''));
  for (const m of text.matchAll(/\breason\s*[!=]==\s*'([A-Z]\w+)'/g)) add('condition', m.index, [m[1] ?? '']);
  for (const m of text.matchAll(/\bconst reason\s*=([^;\n]*)/g))
    add('condition', m.index, literalsIn(m[1] ?? ''));
  for (const m of text.matchAll(/\btype \w*Reason\w* =((?:\s*\|?\s*'[A-Z]\w+')+)/g))
    add('condition', m.index, literalsIn(m[1] ?? ''));
  for (const m of text.matchAll(/\b(?:event|note)\(\s*(?:[\w.]+,\s*)?'(?:Normal|Warning)',\s*([^,]+),/g))
    add('event', m.index, literalsIn(m[1] ?? ''));
  return found;
}

/** Every non-test .ts file under `dir`. */
function sources(dir: string): Array<{ path: string; text: string }> {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts')
      ? [{ path, text: readFileSync(path, 'utf8') }]
      : [];
  });
}

const CONDITION_REASONS = new Set<string>(Object.values(Reason));
const EVENT_REASONS = new Set<string>([...Object.values(Reason), ...Object.values(EventReason)]);

describe('reasonLiterals', () => {
  const cases: Array<{ what: string; text: string; want: Array<[string, Literal['as']]> }> = [
    {
      what: 'a condition field',
      text: "stalled: { reason: 'NameConflict', message }",
      want: [['NameConflict', 'condition']],
    },
    { what: 'a fallback', text: "reason: first?.reason ?? 'Failed',", want: [['Failed', 'condition']] },
    {
      what: 'a choice, not what it compares',
      text: "reason: kind === 'Secret' ? 'SecretNotFound' : 'ConfigMapNotFound',",
      want: [
        ['SecretNotFound', 'condition'],
        ['ConfigMapNotFound', 'condition'],
      ],
    },
    { what: 'a comparison', text: "if (r.reason === 'HostDraining')", want: [['HostDraining', 'condition']] },
    {
      what: 'a const',
      text: "const reason = f.env && !f.env.ok ? f.env.reason : 'DependenciesNotReady';",
      want: [['DependenciesNotReady', 'condition']],
    },
    {
      what: 'a union field and alias',
      text: "reason: 'NotFound' | 'PullError';\ntype HostReason =\n  'Unreachable' | 'Timeout';",
      want: [
        ['NotFound', 'condition'],
        ['PullError', 'condition'],
        ['Unreachable', 'condition'],
        ['Timeout', 'condition'],
      ],
    },
    {
      what: 'an Event, on one line or several',
      text: "ctx.events.event(obj, 'Normal', 'Created', 'Create', msg);\nthis.deps.events.event(\n  obj,\n  'Normal',\n  policy === 'Delete' ? 'Deleted' : 'Orphaned',\n  'Delete',",
      want: [
        ['Created', 'event'],
        ['Deleted', 'event'],
        ['Orphaned', 'event'],
      ],
    },
    { what: 'a note', text: "req.note('Warning', 'PullFailed', 'Pull', m)", want: [['PullFailed', 'event']] },
    {
      what: 'constants are not literals',
      text: "reason: Reason.NameConflict,\nnote('Normal', EventReason.Pulled, 'Pull', m)",
      want: [],
    },
    {
      what: "the host machine's Ready marker",
      text: "assign({ failures: 0, reason: 'Ready' as const })",
      want: [],
    },
  ];
  it.each(cases)('finds $what', ({ text, want }) => {
    expect(reasonLiterals(text).map((l) => [l.reason, l.as])).toEqual(want);
  });
});

describe('reasons in the source', () => {
  const literals = SOURCE_DIRS.flatMap(sources).flatMap(({ path, text }) =>
    reasonLiterals(text).map((l) => ({ ...l, path })),
  );

  it('the scan finds the literals still written inline (a scan that finds nothing guards nothing)', () => {
    // Once no file writes a reason literal any more, this may assert the scan on a fixture instead.
    expect(literals.length).toBeGreaterThan(0);
  });

  it('every condition reason literal is a Reason', () => {
    const unknown = literals
      .filter((l) => l.as === 'condition' && !CONDITION_REASONS.has(l.reason))
      .map((l) => `${l.path}:${l.line} ${l.reason}`);
    expect(unknown, 'add the reason to src/crds/reasons.ts (and use the constant)').toEqual([]);
  });

  it('every Event reason literal is a Reason or an EventReason', () => {
    const unknown = literals
      .filter((l) => l.as === 'event' && !EVENT_REASONS.has(l.reason))
      .map((l) => `${l.path}:${l.line} ${l.reason}`);
    expect(unknown, 'add the reason to src/crds/reasons.ts (and use the constant)').toEqual([]);
  });
});

describe('the reasons module', () => {
  it.each([
    ['Reason', Reason],
    ['EventReason', EventReason],
  ] as const)('%s: each constant is named as its value', (_name, reasons) => {
    for (const [key, value] of Object.entries(reasons)) expect(value).toBe(key);
  });

  it('says how every condition reason is reported', () => {
    const grouped = new Set<string>([
      ...HEALTHY_REASONS,
      ...STALLED_REASONS,
      ...WAITING_REASONS,
      ...RETRIED_REASONS,
      ...ROLLOUT_FAILED_REASONS,
      ...SUSPENDED_REASONS,
      ...INFORMATIONAL_REASONS,
    ]);
    expect(Object.values(Reason).filter((r) => !grouped.has(r))).toEqual([]);
  });

  it('reports no reason both as healthy and as a problem, or as both waiting and broken', () => {
    const problems = new Set<string>([
      ...STALLED_REASONS,
      ...WAITING_REASONS,
      ...RETRIED_REASONS,
      ...ROLLOUT_FAILED_REASONS,
    ]);
    expect(HEALTHY_REASONS.filter((r) => problems.has(r))).toEqual([]);
    const broken = new Set<string>([...STALLED_REASONS, ...RETRIED_REASONS, ...ROLLOUT_FAILED_REASONS]);
    expect(WAITING_REASONS.filter((r) => broken.has(r))).toEqual([]);
  });

  // A rollout someone holds is neither well nor broken: Argo CD shows it Suspended.
  it('reports a held rollout neither as healthy nor as a problem', () => {
    const others = new Set<string>([
      ...HEALTHY_REASONS,
      ...STALLED_REASONS,
      ...WAITING_REASONS,
      ...RETRIED_REASONS,
      ...ROLLOUT_FAILED_REASONS,
    ]);
    expect(SUSPENDED_REASONS.filter((r) => others.has(r))).toEqual([]);
  });

  it('names every failed phase after a reason that is a failure', () => {
    const failures = new Set<string>([...STALLED_REASONS, ...RETRIED_REASONS]);
    expect(FAILED_PHASES.filter((p) => !failures.has(p))).toEqual([]);
  });
});
