/**
 * The layering of src/ (README "Layout"): a folder imports only from its own layer or the layers
 * below it, and nothing is cyclic. `npm test` runs this before the tests.
 */
const layers = [
  ['src/errors\\.ts', 'src/util/', 'src/log/', 'src/metrics/'],
  ['src/config/'],
  ['src/http/', 'src/admin/', 'src/diff/', 'src/router/'],
  ['src/rules/'],
  ['src/store/', 'src/forward/', 'src/products/'],
  ['src/pipeline/', 'src/legacy/', 'src/shadow/', 'src/rollout/'],
  ['src/console/'],
  ['src/gateway/'],
  ['src/cli/', 'src/cli\\.ts', 'src/index\\.ts', 'src/healthcheck\\.ts'],
];
const group = (paths) => `^(${paths.join('|')})`;

const upward = layers.slice(0, -1).map((layer, i) => ({
  name: `layer-${i}-imports-upward`,
  comment: `${layer.join(', ')} may not import from a higher layer`,
  severity: 'error',
  from: { path: group(layer) },
  to: { path: group(layers.slice(i + 1).flat()) },
}));

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...upward,
    {
      name: 'no-circular',
      comment: 'a cycle means two files are one concept, or a contract sits in the wrong layer',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'src-not-from-tests-or-scripts',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|scripts|examples)/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(dist|dist-scripts|node_modules)/' },
  },
};
