/**
 * The layer rules of ARCHITECTURE.md, checked by `npm run lint:layers` (part of `npm test`).
 * Tests may reach across layers (a core test may start a Node backend); shipped code may not.
 */
const notTest = '\\.test\\.ts$|test-helper\\.ts$|test-utils\\.ts$|^src/core/testing\\.ts$';
const rule = (name, comment, fromPath, toPath) => ({
  name, comment, severity: 'error', from: { path: fromPath, pathNot: notTest }, to: { path: toPath },
});

module.exports = {
  forbidden: [
    rule('core-is-framework-free', 'src/core imports tfjs, valibot and itself only', '^src/core/', '^src/(cli|worker|ui|client|bench|protocol)/|^node:|^(fs|path|os|url)$'),
    { name: 'core-no-node', comment: 'no Node built-ins in the core', severity: 'error', from: { path: '^src/core/', pathNot: notTest }, to: { dependencyTypes: ['core'] } },
    rule('protocol-is-types', 'the worker protocol imports (types of) the core only', '^src/protocol/', '^src/(cli|worker|ui|client|bench)/'),
    {
      name: 'ui-pure-core', severity: 'error',
      comment: 'the page reaches the core through the client and the protocol; it may import only the pure core modules that need no tfjs: '
        + 'core/types.ts (names), core/runs/record.ts (the run record and its schema), core/video/frame-pairing.ts (frame timing), core/image/palette.ts (class colours)',
      from: { path: '^src/ui/', pathNot: notTest },
      to: { path: '^src/core/', pathNot: '^src/core/(types|runs/record|video/frame-pairing|image/palette)\\.ts$' },
    },
    rule('client-talks-protocol', 'the main-thread bridge knows the protocol only', '^src/client/', '^src/(core|cli|worker|ui|bench)/'),
    rule('worker-below-ui', 'the worker never imports the page or the Node CLI', '^src/worker/', '^src/(cli|ui|client|bench)/'),
    rule('ui-through-client', 'the page reaches compute through the client only', '^src/ui/', '^src/(cli|worker|bench)/'),
    rule('cli-not-browser', 'the CLI does not import browser code', '^src/cli/', '^src/(worker|ui|client)/'),
    { name: 'no-circular', severity: 'error', from: { pathNot: notTest }, to: { circular: true } },
    { name: 'resolvable', comment: 'every relative import resolves to a file', severity: 'error', from: {}, to: { couldNotResolve: true, path: '^\\.' } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.tsx', '.js', '.json'] },
    exclude: { path: 'node_modules' },
  },
};
