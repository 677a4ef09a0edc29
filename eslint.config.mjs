// Flat ESLint config. Type-aware only where a tsconfig covers the files (src, test, webview-ui);
// the folder-scoped import bans keep the engine and shared protocol editor-free and the
// webviews free of the editor API and of TensorFlow.js (the house rules in the team style guide).
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

const noVscode = {
  name: 'vscode',
  message: 'Editor-free code: the vscode API belongs in src/ outside engine/ and shared/.',
};

const nodeGlobals = Object.fromEntries(
  [
    '__dirname',
    '__filename',
    'Buffer',
    'clearInterval',
    'clearTimeout',
    'console',
    'exports',
    'module',
    'process',
    'require',
    'setInterval',
    'setTimeout',
    'URL',
    'URLSearchParams',
  ].map((name) => [name, 'readonly']),
);

export default defineConfig(
  {
    ignores: [
      'out/',
      'dist/',
      'node_modules/',
      '.vscode-test/',
      'artifacts/',
      '.batchless-cache/',
      '**/*.d.ts',
    ],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: nodeGlobals },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { sourceType: 'module', globals: nodeGlobals },
  },
  {
    files: ['src/**/*.ts', 'test/**/*.ts', 'webview-ui/**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // node:test's test/describe/it return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
  {
    files: ['src/engine/**', 'src/shared/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [noVscode] }] },
  },
  {
    files: ['webview-ui/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'vscode', message: 'Webviews talk to the extension by postMessage only.' },
          ],
          patterns: [
            {
              group: ['@tensorflow/*'],
              message: 'Webviews never load TensorFlow.js: the engine worker computes.',
            },
            {
              group: ['node:*', ...builtinModules],
              message: 'Webviews run in a browser: no Node modules.',
            },
          ],
        },
      ],
      // webview-ui/tsconfig.json loads Node's types (the shared protocol's type-only imports
      // reach engine files), so the browser-only rule is kept here instead.
      'no-restricted-globals': [
        'error',
        ...['process', 'Buffer', 'require', '__dirname', '__filename', 'global'].map((name) => ({
          name,
          message: 'Webviews run in a browser: no Node globals.',
        })),
      ],
    },
  },
  {
    files: ['test/**'],
    rules: {
      // A focused test silences the rest of the suite.
      'no-restricted-syntax': [
        'error',
        {
          selector:
            "CallExpression[callee.type='MemberExpression'][callee.object.name=/^(describe|it|test|suite|context)$/][callee.property.name='only']",
          message: 'No .only in committed tests.',
        },
      ],
    },
  },
);
