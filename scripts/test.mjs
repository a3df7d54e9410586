// `npm test`: the whole suite, in the order a reviewer would run it by hand.
// Lint, format and types first (cheap, side by side), then the cached local environment is prepared
// (control-plane binaries, Docker, images: slow only on a fresh machine), then
// unit and integration tests, then a check that nothing was left running.
// It ends with one plain summary line ("N passed, N failed, N skipped").
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';

const started = Date.now();
const resultsFile = 'test-results/vitest.json';

function step(title, command, args) {
  const t0 = Date.now();
  console.log(`\n=== ${title}: ${command} ${args.join(' ')}`);
  const res = spawnSync(command, args, { stdio: 'inherit' });
  const seconds = ((Date.now() - t0) / 1000).toFixed(1);
  console.log(
    `=== ${title}: ${res.status === 0 ? 'ok' : `FAILED (exit ${res.status ?? res.signal})`} in ${seconds} s`,
  );
  return res.status === 0;
}

/**
 * Steps that only read the tree, side by side (two cores: lint and format
 * beside the type checks). Each one's output is printed whole when it ends,
 * so their lines do not interleave.
 */
async function checksAtOnce(steps) {
  const t0 = Date.now();
  const results = await Promise.all(
    steps.map(
      ([title, command, args]) =>
        new Promise((resolve) => {
          const started = Date.now();
          const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
          let output = '';
          child.stdout.on('data', (chunk) => (output += chunk));
          child.stderr.on('data', (chunk) => (output += chunk));
          child.on('close', (code, signal) => {
            const seconds = ((Date.now() - started) / 1000).toFixed(1);
            console.log(`\n=== ${title}: ${command} ${args.join(' ')}\n${output.trimEnd()}`);
            console.log(
              `=== ${title}: ${code === 0 ? 'ok' : `FAILED (exit ${code ?? signal})`} in ${seconds} s`,
            );
            resolve(code === 0);
          });
        }),
    ),
  );
  console.log(`=== static checks: ${((Date.now() - t0) / 1000).toFixed(1)} s side by side`);
  return results.every(Boolean);
}

function summary() {
  try {
    const json = JSON.parse(readFileSync(resultsFile, 'utf8'));
    return {
      passed: json.numPassedTests,
      failed: json.numFailedTests,
      skipped: json.numPendingTests + json.numTodoTests,
      // A file whose beforeAll fails counts no failed test, only skipped ones: say so.
      failedFiles: json.numFailedTestSuites ?? 0,
    };
  } catch {
    return undefined;
  }
}

const onlyUnit = process.argv.includes('--unit');
let ok = await checksAtOnce([
  ['lint', 'npx', ['eslint', '.']],
  ['format', 'npx', ['prettier', '--check', '.']],
  ['typecheck', 'npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']],
  ['typecheck (dashboard, browser)', 'npx', ['tsc', '-p', 'tsconfig.web.json']],
]);
if (ok && !onlyUnit) ok = step('prepare local environment', 'npx', ['tsx', 'scripts/prepare-env.ts']);

rmSync(resultsFile, { force: true });
mkdirSync('test-results', { recursive: true });
if (ok) {
  const projects = onlyUnit ? ['--project', 'unit'] : [];
  ok = step('tests', 'npx', [
    'vitest',
    'run',
    ...projects,
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${resultsFile}`,
  ]);
  if (!onlyUnit) ok = step('leak check', 'npx', ['tsx', 'scripts/check-leaks.ts']) && ok;
}

const counts = summary();
const minutes = ((Date.now() - started) / 60000).toFixed(1);
console.log(`\nnpm test took ${minutes} min`);
if (counts)
  console.log(
    `tests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped` +
      (counts.failedFiles > 0 ? ` (${counts.failedFiles} file(s) failed before their tests ran)` : ''),
  );
else console.log('tests: 0 passed, 1 failed (the test run did not complete)');
process.exit(ok && counts && counts.failed === 0 && counts.failedFiles === 0 && counts.passed > 0 ? 0 : 1);
