import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '**/generated/**',
      '.tools/**',
      '.cache/**',
      '.run/**',
      '.nx/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@nx/enforce-module-boundaries': ['error', boundaries([])],
    },
  },
  {
    // The simulator runs the apps' pure code (the saga, the participants' domain decisions), and
    // only that: these entry points are the apps' only exports, and nothing else of an app may be
    // imported.
    files: ['simulator/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        boundaries([
          '@order-saga/order/saga',
          '@order-saga/order/saga-policy',
          '@order-saga/order/pricing',
          '@order-saga/inventory/domain',
          '@order-saga/payment/domain',
          '@order-saga/shipping/domain',
        ]),
      ],
    },
  },
  {
    // The peer engines' benchmark (pnpm bench:peers) measures with the e2e package's harness, and
    // only that: the harness entry points are the e2e package's only exports.
    files: ['e2e/peers/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        boundaries(['@order-saga/e2e/harness', '@order-saga/e2e/quiet-warnings']),
      ],
    },
  },
);

function boundaries(allow) {
  return {
    enforceBuildableLibDependency: false,
    allow,
    depConstraints: [
      // Apps depend on libs, never on another app; libs never depend on apps.
      { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
      { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
      { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:lib'] },
      { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:lib'] },
      { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
    ],
  };
}
