import { defineConfig } from 'vitest/config';

// Time limits here are caps for a test that hangs, never measures: tests synchronise on events,
// counters and expect.poll. On a loaded two-core machine a test that spawns a dozen Node
// processes (the CLI, workers, the demo) takes well over 30 s, and a condition that holds in a
// few milliseconds when idle can take seconds to come true; a generous cap costs nothing when
// the test passes.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    expect: { poll: { timeout: 30_000, interval: 20 } },
    pool: 'forks',
    // Two cores: integration tests start real servers, so keep the fan-out small.
    maxWorkers: 2,
  },
});
