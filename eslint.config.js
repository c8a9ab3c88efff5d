import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'out/', 'renderer/dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
      'prefer-const': 'error',
      eqeqeq: ['error', 'smart'],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  {
    files: ['core/**/*.ts'],
    rules: {
      // core/ is sans-IO: no sockets, files, clock or timers (see ARCHITECTURE.md).
      'no-restricted-imports': [
        'error',
        {
          paths: [
            'dgram',
            'node:dgram',
            'net',
            'node:net',
            'fs',
            'node:fs',
            'http',
            'node:http',
            'child_process',
            'node:child_process',
            'electron',
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']",
          message: 'core/ takes time as a parameter',
        },
        { selector: "CallExpression[callee.name='setTimeout']", message: 'core/ never sets timers' },
      ],
    },
  },
);
