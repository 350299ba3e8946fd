// `rxwire/cli`: the command's building blocks, for server and client programs such as
// examples/upper.ts — flags decoded into options, one-line errors, serving until signalled.
export { clientArgsOrExit, exitWith, serverArgsOrExit, serveUntilSignalled } from './program';
export type { AnyConnectOptions, AnyServeOptions } from './flags';
