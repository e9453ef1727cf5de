import { defineConfig } from 'vitest/config';

// Libs are imported by package name; the `source` export condition points those imports at the
// TypeScript sources, so tests never run against a stale build.
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['{apps,libs,simulator,supervisor}/**/src/**/*.spec.ts'],
          exclude: ['**/*.int.spec.ts', '**/node_modules/**', '**/dist/**'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['{apps,libs}/**/src/**/*.int.spec.ts', 'e2e/**/*.e2e.spec.ts'],
          exclude: ['**/node_modules/**', '**/dist/**', 'e2e/src/debezium/**'],
          globalSetup: ['libs/testing/src/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          // Two cores: suites run two at a time, each on its own topics and databases.
          maxWorkers: 2,
        },
      },
      {
        extends: true,
        test: {
          // The relay swapped for Kafka Connect + Debezium on a PostgreSQL with logical decoding:
          // the same saga and ordering suites, plus what only this relay needs. One Connect worker
          // for the run (its global setup); suites one at a time, the JVM shares two cores.
          name: 'debezium',
          include: [
            'e2e/src/debezium/**/*.e2e.spec.ts',
            'e2e/src/saga/saga-outcomes.e2e.spec.ts',
            'e2e/src/saga/saga-invariants.e2e.spec.ts',
            'e2e/src/saga/saga-trace.e2e.spec.ts',
            'e2e/src/messaging/outbox-ordering.e2e.spec.ts',
          ],
          exclude: ['**/node_modules/**', '**/dist/**'],
          globalSetup: ['libs/testing/src/global-setup.ts', 'e2e/src/debezium/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          maxWorkers: 1,
        },
      },
    ],
  },
});
