// Architectural boundaries (DESIGN.md "Dependency direction"). `npm run boundaries`
// fails on any violation; scripts/boundaries.spec.ts proves it does.
const BROWSER_SAFE = '^libs/(crypto|fapp|proto|sdk)/';
const LIBS = '^libs/';
const TESTS = '\\.(spec|int-spec|e2e-spec)\\.ts$|/test/';

module.exports = {
  forbidden: [
    {
      name: 'lib-imports-app',
      severity: 'error',
      comment: 'Libraries never depend on applications.',
      from: { path: LIBS },
      to: { path: '^apps/' },
    },
    {
      name: 'lib-imports-framework',
      severity: 'error',
      comment: 'Libraries stay framework-free: no NestJS, TypeORM, Next or node:http (tests may start an HTTP server).',
      from: { path: LIBS, pathNot: TESTS },
      to: { path: 'node_modules/(@nestjs/|typeorm/|next/|@electric-sql/|pg/|fastify/)|^(node:)?https?$' },
    },
    {
      name: 'browser-lib-imports-node',
      severity: 'error',
      comment:
        'libs/{crypto,fapp,proto,sdk} run in the browser: no node: built-ins. Platform-specific code lives in *.node.ts files selected through package exports conditions.',
      from: { path: BROWSER_SAFE, pathNot: `\\.node\\.ts$|${TESTS}` },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'lib-direction',
      severity: 'error',
      comment: 'proto <- crypto <- fapp <- {mesh, sdk}; never the other way.',
      from: { path: '^libs/(proto|crypto)/' },
      to: { path: '^libs/(fapp|mesh|sdk)/|node_modules/@qpc/(fapp|mesh|sdk)' },
    },
    {
      name: 'proto-is-a-leaf',
      severity: 'error',
      from: { path: '^libs/proto/' },
      to: { path: '^libs/(?!proto/)|node_modules/@qpc/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|\\.next)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.base.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['source', 'import', 'node', 'default'],
      extensions: ['.ts', '.tsx', '.js', '.mjs', '.json'],
    },
    combinedDependencies: true,
    preserveSymlinks: false,
  },
};
