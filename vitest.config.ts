import { defineConfig } from 'vitest/config';

// Workspace packages export a `source` condition pointing at their TypeScript, so tests
// run against the code as written, without a build step in between.
const conditions = ['source', 'node'];
const shared = {
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['source'] } },
};
const ignored = ['**/node_modules/**', '**/dist/**', '**/.next/**'];

export default defineConfig({
  test: {
    reporters: ['default'],
    projects: [
      {
        ...shared,
        test: {
          name: 'unit',
          include: ['{libs,apps,seed,bench,scripts}/**/src/**/*.spec.ts', 'scripts/**/*.spec.ts'],
          exclude: ignored,
          environment: 'node',
          testTimeout: 60_000,
        },
      },
      {
        ...shared,
        test: {
          name: 'int',
          include: ['{libs,apps,seed}/**/*.int-spec.ts'],
          exclude: ignored,
          pool: 'forks',
          globalSetup: ['apps/server/test/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        ...shared,
        test: {
          name: 'e2e',
          include: ['{libs,apps,seed}/**/*.e2e-spec.ts'],
          // Polls wait for events in a browser or across processes; on a loaded CI machine
          // they take longer than vitest's 1 s default, never longer than this.
          expect: { poll: { timeout: 20_000, interval: 100 } },
          exclude: ignored,
          pool: 'forks',
          fileParallelism: false,
          globalSetup: ['apps/server/test/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
