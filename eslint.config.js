// @ts-check
import eslint from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// Production code never depends on the local test environment.
const LOCALENV = { group: ['**/localenv/**'], message: 'src/localenv is for dev mode and tests only.' };

/**
 * Layers point down only: runtime ← docker ← managed ← controllers ← cli;
 * crds and policy are leaves; compose (Compose loading and mapping, pure but
 * for the loader) reads only crds; agent (the edge agent's protocol and tunnel
 * ends) is a leaf used by controllers and cli. Each entry: a layer and the layers it must
 * not import (a wrong-way import fails `npm run lint`).
 */
const LAYERS = [
  ['runtime', ['docker', 'managed', 'controllers', 'cli', 'policy']],
  ['docker', ['managed', 'controllers', 'cli']],
  ['managed', ['controllers', 'cli']],
  ['controllers', ['cli']],
  ['crds', ['runtime', 'docker', 'managed', 'controllers', 'cli', 'policy']],
  ['policy', ['runtime', 'docker', 'managed', 'controllers', 'cli']],
  ['compose', ['runtime', 'docker', 'managed', 'controllers', 'cli', 'policy']],
  // The edge agent's wire protocol, PKI and both tunnel ends: node and its own files only.
  ['agent', ['runtime', 'docker', 'managed', 'controllers', 'cli', 'policy', 'crds', 'compose']],
  // The dashboard reads the API (runtime informers, crds types) and never Docker.
  ['dashboard', ['docker', 'managed', 'controllers', 'cli', 'policy', 'agent', 'compose']],
];

/**
 * The dashboard's browser code: the platform and lit-html, plus the row types
 * the server sends (views/types.ts). Nothing of Node, nothing of the server.
 */
const browserRules = {
  files: ['src/dashboard/web/**/*.ts'],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          { group: ['node:*'], message: 'src/dashboard/web runs in the browser.' },
          {
            group: ['../*', '!../views', '../views/*', '!../views/types.js'],
            message: 'src/dashboard/web imports only ../views/types.js of the server side.',
          },
        ],
      },
    ],
  },
};

const layerRules = LAYERS.map(([layer, above]) => ({
  files: [`src/${layer}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          LOCALENV,
          ...above.map((upper) => ({
            group: [`../${upper}/**`, `../../${upper}/**`],
            message: `src/${layer} sits below src/${upper}: layers point down only (runtime ← docker ← managed ← controllers ← cli; crds and policy are leaves).`,
          })),
        ],
      },
    ],
  },
}));

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '.dockyard/', 'bench/results/'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  { languageOptions: { globals: globals.node } },
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': [
        'error',
        {
          patterns: [LOCALENV],
        },
      ],
    },
  },
  ...layerRules,
  browserRules,
  {
    // Functions read top to bottom on one screen. Tests (tables of cases)
    // and support files are exempt; src/ is not.
    files: ['src/**/*.ts'],
    ignores: ['**/*.test.ts', '**/test-support.ts'],
    rules: {
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    // The places allowed to use the local environment.
    files: ['src/localenv/**', 'src/cli/dev*.ts', 'test/**', 'scripts/**', 'bench/**', '**/*.test.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
);
