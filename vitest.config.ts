import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/postgres-global-setup.ts', 'test/support/sqlfluff-global-setup.ts'],
    // The last lines say which PostgreSQL the suite ran on and which checks did not run, and why.
    reporters: ['default', './test/support/checks-reporter.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: keep worker count small so integration tests do not starve each other.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    pool: 'forks',
  },
});
