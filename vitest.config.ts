import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default', './test/summary-reporter.ts'],
    // Child processes, not worker threads: a worker's process.env changes never reach the native OpenBLAS,
    // which must see OPENBLAS_CORETYPE when it loads.
    pool: 'forks',
  },
});
