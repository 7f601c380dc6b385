// @ts-check
// ESLint (flat config) with typescript-eslint's type-aware rules. Plain JavaScript on purpose: ESLint 9 loads an
// eslint.config.ts only through the `jiti` package or behind --flag unstable_native_nodejs_ts_config.
// The rule set aims at correctness, not style (Prettier owns the layout): above all promises that nobody
// awaits or that land where a void callback is expected, since every store call is asynchronous.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  {
    ignores: ['.baton/', 'test-artifacts/', 'bench/results/', 'dist/', 'coverage/', '**/*-bundle.js'],
  },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // Promises: the point of the exercise.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      // An async function without `await` is fine: a synchronous store behind an async interface still rejects
      // instead of throwing.
      '@typescript-eslint/require-await': 'off',
      // Other correctness checks.
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      // Too noisy for their signal here: JSON bodies and test doubles are `any` by nature, `{}` is used
      // deliberately as "no arguments", and redundant assertions are harmless.
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-empty-object-type': 'off',
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
    },
  },
  {
    // jest's expect(object.method) passes methods around without calling them.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/unbound-method': 'off' },
  },
  {
    // The few plain JavaScript files (bin/baton.js, jest and ESLint configs): no type information.
    files: ['**/*.js'],
    extends: [js.configs.recommended],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
