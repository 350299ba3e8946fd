// The layers of lib/, lowest first: a folder may import only from folders below it (and itself).
// `npm test` runs this check, so an upward import fails CI.
const layers = ['core', 'codecs', 'operators', 'transports', 'testing', 'cli'];

module.exports = {
  forbidden: [
    ...layers.map((layer, i) => ({
      name: `${layer}-imports-only-lower-layers`,
      comment: `lib/${layer} may import only from ${layers.slice(0, i + 1).map((l) => `lib/${l}`).join(', ')}`,
      severity: 'error',
      from: { path: `^lib/${layer}/` },
      to: { path: `^lib/(?!(${layers.slice(0, i + 1).join('|')})/)` },
    })),
    {
      name: 'codecs-without-rxjs',
      comment: 'codecs are pure byte ⇄ frame code: no RxJS',
      severity: 'error',
      from: { path: '^lib/codecs/' },
      to: { path: 'node_modules/rxjs/' },
    },
    {
      name: 'no-cycles',
      severity: 'error',
      from: { path: '^lib/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
  },
};
