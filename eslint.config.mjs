// @ts-check
import eslint from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** The read models' tables (libs/projections), as a selector's regular expression. */
const READ_MODEL_TABLES =
  '/\\b(case_docs|case_parties|referral_docs|coordinator_case_facts|access_log|access_log_subject_cases|projection_checkpoints)\\b/';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'data/**',
      'coverage/**',
      'bench/results/**',
      'bench/.work*/**',
      // Compiled by its own test against a client generated at run time (test/e2e/generated-client.e2e.spec.ts).
      'test/e2e/generated-client/**',
      // Generated from docs/openapi by `npm run console:api` (run by lint, typecheck and the build).
      'apps/console/src/api/openapi.gen.ts',
    ],
  },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Domain libraries stay framework-free: no Nest inside libs/.
    },
  },
  {
    // The web console runs in a browser: DOM globals, no Node.
    files: ['apps/console/**/*.{ts,tsx}'],
    languageOptions: { globals: globals.browser },
  },
  {
    files: ['libs/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@nestjs/*'], message: 'libs/ stay framework-free; wire Nest in apps/.' }] },
      ],
    },
  },
  {
    // The read models' tables are queried by name only in libs/projections (`<projection>/queries.ts`):
    // an app asks a named query, never writes SQL against them (issue #13).
    files: ['apps/**/*.ts'],
    ignores: ['apps/**/*.spec.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        ...['Literal', 'TemplateElement'].map((node) => ({
          selector: `${node}[${node === 'Literal' ? 'value' : 'value.raw'}=${READ_MODEL_TABLES}]`,
          message:
            'SQL against a read model belongs in libs/projections (<projection>/queries.ts): call a named query.',
        })),
      ],
    },
  },
  {
    files: ['**/*.spec.ts', '**/*.spec.tsx', 'libs/*/test/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
      // Jest's asymmetric matchers (expect.objectContaining, expect.any) are typed any.
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { ...tseslint.configs.disableTypeChecked.languageOptions, globals: globals.node },
    rules: { ...tseslint.configs.disableTypeChecked.rules, '@typescript-eslint/no-require-imports': 'off' },
  },
  prettier,
);
