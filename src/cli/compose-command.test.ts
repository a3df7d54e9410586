import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ensureComposeLoader } from '../localenv/compose-loader.js';
import { runComposeConvert } from './compose-command.js';
import type { ComposeConvertOptions } from './compose-options.js';

// `dockyard compose convert` end to end: the user's files on disk, loaded with
// the real loader, printed as manifests; failures are an exit code and a
// message naming the key, never a stack trace.

let dir: string;
beforeAll(async () => {
  await ensureComposeLoader();
  dir = mkdtempSync(join(tmpdir(), 'My Shop_'));
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(
  compose: string,
  over: Partial<ComposeConvertOptions> = {},
  environment: Record<string, string> = {},
) {
  writeFileSync(join(dir, 'compose.yaml'), compose);
  const out: string[] = [];
  const err: string[] = [];
  const code = await runComposeConvert(
    {
      files: [join(dir, 'compose.yaml')],
      envFiles: [],
      profiles: [],
      projectName: 'shop',
      projectDirectory: dir,
      namespace: 'team',
      placement: { hostName: 'edge-1' },
      allowUnsupported: false,
      ...over,
    },
    { stdout: (t) => out.push(t), stderr: (t) => err.push(t), environment },
  );
  return { code, stdout: out.join(''), stderr: err.join('') };
}

describe('dockyard compose convert', () => {
  it('prints the manifests, interpolating the environment it is given', async () => {
    const { code, stdout, stderr } = await run(
      'services:\n  web:\n    image: "web:${TAG}"\n',
      {},
      { TAG: '1.4' },
    );
    expect(code).toBe(0);
    expect(stderr).toBe('');
    const docs = parseAllDocuments(stdout).map(
      (d) => d.toJSON() as { kind: string; spec?: { image?: string } },
    );
    expect(docs.map((d) => d.kind)).toEqual(['DockerNetwork', 'DockerContainer']);
    expect(docs[1]?.spec?.image).toBe('web:1.4');
    expect(stdout.split('\n')[0]).toBe('# Converted by dockyard compose convert from project shop.');
  });

  it('exits 1 naming the key, or with --allow-unsupported warns on stderr and in the output', async () => {
    const refused = await run('services:\n  web:\n    image: web\n    build: .\n');
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/^dockyard compose convert: 1 Compose key has no Dockyard equivalent/);
    expect(refused.stderr).toMatch(/services\.web\.build/);
    const allowed = await run('services:\n  web:\n    image: web\n    build: .\n', {
      allowUnsupported: true,
    });
    expect(allowed.code).toBe(0);
    expect(allowed.stderr).toMatch(/^warning: services\.web\.build: /);
    expect(allowed.stdout).toMatch(/^# {3}services\.web\.build: /m);
  });

  it('exits 1 with Compose’s own message for a file that does not load', async () => {
    const { code, stderr } = await run('services:\n  web:\n    image: [\n');
    expect(code).toBe(1);
    expect(stderr).toMatch(/^dockyard compose convert: .*yaml/);
  });

  it('names the project after its folder as docker compose does, without --project-name', async () => {
    const { code, stdout } = await run('services:\n  web:\n    image: web\n', { projectName: undefined });
    expect(code).toBe(0);
    const project = /from project (\S+)\.$/m.exec(stdout)?.[1] ?? '';
    expect(project).toMatch(/^myshop_[a-z0-9]+$/);
    expect(stdout).toContain(`name: ${project.replace('_', '-')}-web`);
  });
});
