import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

// The layer rule in eslint.config.js: runtime ← docker ← managed ←
// controllers ← cli, crds and policy leaves. A wrong-way import must fail
// `npm run lint`; the right way must pass.

const eslint = new ESLint();

async function restricted(file: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: file });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layers point down only', () => {
  it.each([
    ['src/managed/x.ts', "import type { A } from '../controllers/index.js';", 'src/controllers'],
    ['src/docker/x.ts', "import type { A } from '../managed/types.js';", 'src/managed'],
    ['src/runtime/x.ts', "import type { A } from '../docker/errors.js';", 'src/docker'],
    ['src/controllers/dockervolume/x.ts', "import type { A } from '../../cli/program.js';", 'src/cli'],
    ['src/policy/x.ts', "import type { A } from '../docker/errors.js';", 'src/docker'],
    ['src/crds/x.ts', "import type { A } from '../policy/security-policy.js';", 'src/policy'],
    ['src/managed/x.ts', "import type { A } from '../localenv/process.js';", 'localenv'],
    ['src/compose/x.ts', "import type { A } from '../managed/types.js';", 'src/managed'],
    ['src/compose/service/x.ts', "import type { A } from '../../controllers/index.js';", 'src/controllers'],
  ])('%s: %s is refused', async (file, source, names) => {
    const messages = await restricted(file, `${source}\nexport type B = A;\n`);
    expect(messages.join('\n')).toContain(names);
  });

  it.each([
    ['src/controllers/x.ts', "import type { A } from '../managed/types.js';"],
    ['src/managed/x.ts', "import type { A } from '../docker/host-runtime.js';"],
    ['src/docker/x.ts', "import type { A } from '../crds/kit.js';"],
    ['src/policy/x.ts', "import type { A } from '../crds/quantities.js';"],
    ['src/cli/x.ts', "import type { A } from '../controllers/index.js';"],
    ['src/compose/service/x.ts', "import type { A } from '../../crds/dockerservice.js';"],
    ['src/controllers/x.ts', "import type { A } from '../compose/convert.js';"],
  ])('%s: %s is allowed', async (file, source) => {
    expect(await restricted(file, `${source}\nexport type B = A;\n`)).toEqual([]);
  });
});

// The same config keeps functions in src/ to a screen (max-lines-per-function 80).
describe('functions fit on a screen', () => {
  const fn = (statements: number) =>
    `export function f(): number {\n  let n = 0;\n${'  n += 1;\n'.repeat(statements)}  return n;\n}\n`;
  const tooLong = async (file: string, source: string) => {
    const [result] = await eslint.lintText(source, { filePath: file });
    return (result?.messages ?? []).some((m) => m.ruleId === 'max-lines-per-function');
  };

  it('refuses a function over 80 lines in src/', async () => {
    expect(await tooLong('src/managed/x.ts', fn(77))).toBe(true);
  });

  it('allows one of 80 lines, and long test tables', async () => {
    expect(await tooLong('src/managed/x.ts', fn(76))).toBe(false);
    expect(await tooLong('src/managed/x.test.ts', fn(200))).toBe(false);
  });
});
