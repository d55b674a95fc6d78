// Lint is part of `npm test`: correctness rules only; formatting is not policed.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'clients/js/dist/**', 'data/**', 'node_modules/**', '.serverless/**', 'coverage/**', '.scratch/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': 'off',
    },
  },
  {
    // The core is cloud-neutral: it must never import a cloud SDK or a host's types.
    files: ['core/**/*.ts'],
    ignores: ['core/adapters/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['@aws-sdk/*', '@azure/*', 'aws-lambda', 'pg', 'pg-copy-streams', '@electric-sql/*', 'mssql', '*/adapters/*', '../../functions/*'], message: 'core stays cloud-neutral: put I/O in core/adapters and hosts in functions/.' },
      ] }],
    },
  },
);
