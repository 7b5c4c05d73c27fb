/**
 * Module boundaries (DESIGN.md §3): a module is a folder under src/ and others import it only
 * through its index.ts; no import cycles; domain code never imports the HTTP or CLI layers.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import cycles make startup order and testing fragile.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'only-through-index',
      severity: 'error',
      comment: 'Import another module only through its index.ts.',
      from: { path: '^src/([^/]+)/' },
      to: {
        path: '^src/([^/]+)/',
        pathNot: ['^src/$1/', '^src/[^/]+/index\\.ts$'],
      },
    },
    {
      name: 'root-files-use-index',
      severity: 'error',
      comment: 'The composition root also goes through module index files.',
      from: { path: '^src/[^/]+\\.ts$' },
      to: { path: '^src/[^/]+/', pathNot: '^src/[^/]+/index\\.ts$' },
    },
    {
      name: 'domain-not-on-transport',
      severity: 'error',
      comment: 'Domain modules do not import the HTTP app or the CLI; routes translate.',
      from: { path: '^src/(core|storage|auth|tracking|registry|datasets|features|training|pipelines|serving|rollouts|monitoring)/' },
      to: { path: '^src/(api|cli)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
