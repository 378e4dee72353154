// ESLint flat config. Besides the TypeScript rules, it enforces the architecture:
// siri/ and grader/ (pure method code) and workflows/ (deterministic Temporal code) may not touch Node APIs,
// the native engine, time or randomness; workflows import activities only as types.
import tseslint from 'typescript-eslint';
import globals from 'globals';

const nodeBuiltins = [
  'node:*',
  'fs',
  'fs/*',
  'path',
  'os',
  'child_process',
  'crypto',
  'http',
  'https',
  'net',
  'stream',
  'url',
  'util',
  'worker_threads',
  'process',
  'module',
  'events',
  'zlib',
  'readline',
  'timers',
  'perf_hooks',
];
const impureGlobals = [
  {
    name: 'Date',
    message: 'Pure/workflow code must not read the clock; pass times in or use workflow APIs.',
  },
  { name: 'process', message: 'Pure/workflow code must not use Node APIs.' },
  { name: 'require', message: 'Pure/workflow code must not use Node APIs.' },
  { name: 'setTimeout', message: 'Use workflow sleep() in workflows; pure code has no timers.' },
];
const noRandom = {
  selector: "MemberExpression[object.name='Math'][property.name='random']",
  message: 'Math.random is not deterministic; derive randomness from a seed.',
};

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      '.venv/**',
      'native/build/**',
      'bench/results/**',
      'test/fixtures/**',
      '.siri/**',
      'runs/**',
    ],
  },
  ...tseslint.configs.recommendedTypeChecked.map((c) => ({ ...c, files: ['**/*.ts'] })),
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.node },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test's test()/describe() return promises the runner itself tracks.
          allowForKnownSafeCalls: [
            { from: 'package', name: ['test', 'describe', 'it', 'suite'], package: 'node:test' },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true },
      ],
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['siri/**/*.ts', 'grader/**/*.ts', 'workflows/**/*.ts'],
    ignores: ['grader/node/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: nodeBuiltins, message: 'Pure/workflow code must not use Node APIs.' },
            {
              group: ['**/native', '**/native/*'],
              message: 'The native engine belongs in activities, not here.',
            },
            { group: ['**/grader/node/*', '**/cli/*'], message: 'Node-side modules are not allowed here.' },
          ],
        },
      ],
      'no-restricted-globals': ['error', ...impureGlobals],
      'no-restricted-syntax': ['error', noRandom],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/consistent-type-imports': 'off',
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: nodeBuiltins, message: 'Workflow code must not use Node APIs.' },
            { group: ['**/native', '**/native/*'], message: 'The native engine belongs in activities.' },
            {
              group: ['**/grader/node/*', '**/cli/*'],
              message: 'Node-side modules are not allowed in workflows.',
            },
            {
              group: ['**/activities/*', '**/activities'],
              allowTypeImports: true,
              message: 'Import activities with `import type` only.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { ...globals.node } },
  },
);
