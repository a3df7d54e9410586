import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALL_KINDS } from '../src/crds/index.js';
import { HEALTHY_REASONS, Reason } from '../src/crds/reasons.js';
import { schemaRows } from './docs/api-doc.js';
import { collectMetrics } from './docs/metrics-doc.js';
import { machineTransitions, mermaid, stateKeys } from './docs/state-diagrams.js';
import { DOC_FILES, MACHINES, renderDocs } from './generate-docs.js';

// The generated docs must be exactly what the code generates; run
// `npx tsx scripts/generate-docs.ts` after changing the API types, a machine
// or a metric. docs/troubleshooting.md is hand-written, but must name every
// condition reason in src/crds/reasons.ts (whose own test keeps the source from
// setting a reason that is not listed there).

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new Error(`${path} is missing: run npx tsx scripts/generate-docs.ts`);
  }
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

describe('committed docs', async () => {
  const expected = await renderDocs();

  it('are the generated set', () => {
    expect([...expected.keys()]).toEqual([...DOC_FILES]);
  });

  for (const [path, text] of expected) {
    it(`${path} is current`, () => {
      expect(read(path), `${path} is stale: run npx tsx scripts/generate-docs.ts`).toBe(text);
    });
  }
});

describe('docs/api.md', () => {
  const doc = read('docs/api.md');

  it.each(ALL_KINDS.map((d) => [d.kind, d] as const))(
    'documents every %s field and CEL rule',
    (_kind, def) => {
      const spec = schemaRows('spec', def.spec);
      const status = schemaRows('status', def.status);
      expect(spec.fields.length).toBeGreaterThan(3);
      for (const f of [...spec.fields, ...status.fields]) expect(doc).toContain(`\`${f.path}\``);
      for (const r of spec.rules) expect(doc).toContain(r.message);
    },
  );

  it('finds the CEL rules nested in lists and objects', () => {
    const container = ALL_KINDS.find((d) => d.kind === 'DockerContainer');
    const rules = schemaRows('spec', container?.spec).rules.map((r) => r.on);
    expect(rules).toEqual(
      expect.arrayContaining([
        'spec',
        'spec.env[]',
        'spec.env[].valueFrom',
        'spec.envFrom[]',
        'spec.mounts[]',
      ]),
    );
  });
});

describe('docs/state-machines.md', () => {
  const doc = read('docs/state-machines.md');

  it.each(MACHINES.map((m) => [m.kind, m] as const))(
    'draws every %s state and event',
    (_kind, { machine }) => {
      const diagram = mermaid(machine);
      expect(doc).toContain(diagram);
      expect(diagram).toMatch(/^```mermaid\nstateDiagram-v2\n/);
      for (const state of stateKeys(machine)) expect(doc).toContain(`\`${state}\``);
      for (const t of machineTransitions(machine)) expect(doc).toContain(`\`${t.event}\``);
      // Mermaid ends a transition label at a colon or semicolon.
      for (const line of diagram.split('\n').filter((l) => l.includes('-->'))) {
        const labelText = line.split(': ').slice(1).join(': ');
        expect(labelText, line).not.toMatch(/[:;]/);
      }
    },
  );

  it('covers every machine under src/controllers', () => {
    const files = sources('src/controllers')
      // A machine of its own, or an instance of the shared ensure machine (src/managed/ensure-machine.ts).
      .filter((f) => /\.createMachine\(|= ensureMachine\(/.test(f.text))
      .map((f) => f.path);
    expect(files.sort()).toEqual(MACHINES.map((m) => m.source).sort());
  });
});

describe('docs/metrics.md', () => {
  const doc = read('docs/metrics.md');

  it('lists every metric the process registers', () => {
    for (const m of collectMetrics()) expect(doc).toContain(`\`${m.name}\``);
  });

  // A metric created in a file the generator does not load would be missing from the docs.
  it('lists every metric declared under src/', () => {
    const declared = sources('src').flatMap((f) =>
      [...f.text.matchAll(/name: '((?:controller_runtime|workqueue|dockyard)_[a-z_]+)'/g)].map((m) => m[1]),
    );
    expect(declared.length).toBeGreaterThan(20);
    const documented = new Set(collectMetrics().map((m) => m.name));
    expect(declared.filter((name) => !documented.has(name ?? ''))).toEqual([]);
  });
});

describe('docs/troubleshooting.md', () => {
  const doc = read('docs/troubleshooting.md');
  const headings = new Set([...doc.matchAll(/^### (\w+)$/gm)].map((m) => m[1]));

  it('has a section for every condition reason', () => {
    const missing = Object.values(Reason).filter((r) => !headings.has(r));
    expect(missing, 'add a "### <Reason>" section to docs/troubleshooting.md').toEqual([]);
  });

  it('has a section for the reasons the summaries set when all is well', () => {
    for (const r of [...HEALTHY_REASONS, Reason.Stalled]) expect(headings).toContain(r);
  });
});
