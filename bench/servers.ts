// The servers `npm run bench` measures, each run as users run it: rxwire compiled from dist/ (the
// installed bin), the peers as plain Node, C or Python programs. All follow the contract of
// ../shared/bench: started with `--port 0` appended, they print `listening on HOST:PORT`.
import * as path from 'node:path';

export type Group = 'upper' | 'lines' | 'frames' | 'proxy';

export interface ServerSpec {
  readonly name: string;
  /** Run in the repository's root, with `--port 0` appended. */
  readonly command: readonly string[];
  /** What it stands for in the comparison. */
  readonly role: string;
  /** What loadgen must send it beyond the scenario's arguments: a PROXY header. */
  readonly loadgenArgs?: readonly string[];
}

const RXWIRE = ['node', 'dist/lib/cli/rxwire.js'];
const peer = (file: string): string[] => [file.endsWith('.py') ? 'python3' : 'node', path.join('bench', 'peers', file)];

/** The servers of a group of scenarios; the asyncio ones only where there is a python3, the C one from `upperEpoll`. */
export function serversOf(group: Group, upperEpoll: string, python: boolean): ServerSpec[] {
  const all: Record<Group, (ServerSpec & { python?: boolean })[]> = {
    upper: [
      { name: 'rxwire', command: RXWIRE, role: 'rxwire as installed, default logging (an open and a close line per connection)' },
      { name: 'rxwire-q', command: [...RXWIRE, '-q'], role: 'rxwire with -q: no connection lines' },
      { name: 'rx-min', command: peer('rx-min.js'), role: "the design's floor: each socket a minimal Observable<Buffer> through map(upper), logging like raw-node-logged" },
      { name: 'rx-min-quiet', command: peer('rx-min-quiet.js'), role: "the design's floor without a log, for rxwire -q: rx-min with no line per connection" },
      { name: 'raw-node-logged', command: peer('raw-node-logged.js'), role: 'plain node:net logging an open and a close line per connection, 10 ms buffered writer' },
      { name: 'raw-node', command: peer('raw-node.js'), role: 'plain node:net, no logging: the limit for Node' },
      { name: 'upper-epoll', command: [upperEpoll], role: 'a C epoll server: the physical limit' },
      { name: 'asyncio-upper', command: peer('asyncio-upper.py'), role: 'Python asyncio streams, for scale', python: true },
    ],
    lines: [
      { name: 'rxwire-lines', command: [...RXWIRE, '-q', '--handler', 'bench/targets/lines-upper.ts'], role: 'rxwire -q: lines() → map(upperInPlace) → encodeLines()' },
      { name: 'raw-node-lines', command: peer('raw-node-lines.js'), role: 'a hand-written line server: indexOf, no object per line, one write per read' },
      { name: 'rx-min-lines', command: peer('rx-min-lines.js'), role: "the design's floor for framing: a minimal lines() emitting a Buffer per line through map(upperInPlace), one write per read" },
      { name: 'readline-lines', command: peer('readline-lines.js'), role: 'node:readline over the socket: what most Node users write' },
      { name: 'asyncio-lines', command: peer('asyncio-lines.py'), role: 'Python asyncio readline() + drain(), for scale', python: true },
    ],
    frames: [
      { name: 'rxwire-frames', command: [...RXWIRE, '-q', '--handler', 'bench/targets/frames-upper.ts'], role: 'rxwire -q: lengthPrefixed() → map(upperInPlace) → encodeLengthPrefixed(), 2-byte headers' },
      { name: 'raw-node-frames', command: peer('raw-node-frames.js'), role: 'a hand-written length-prefixed server, one write per read' },
      { name: 'rx-min-frames', command: peer('rx-min-frames.js'), role: "the design's floor for framing: a minimal lengthPrefixed() emitting a Buffer per payload through map(upperInPlace), one write per read" },
    ],
    // Issue #14: what reading a PROXY header costs a connection.
    proxy: [
      { name: 'rxwire', command: RXWIRE, role: 'rxwire as installed, no PROXY header' },
      { name: 'rxwire-proxy-v1', command: [...RXWIRE, '--proxy-protocol'], role: 'rxwire --proxy-protocol, each connection opening with a PROXY v1 (text) header', loadgenArgs: ['--proxy', '1'] },
      { name: 'rxwire-proxy-v2', command: [...RXWIRE, '--proxy-protocol'], role: 'the same with a v2 (binary) header', loadgenArgs: ['--proxy', '2'] },
    ],
  };
  return all[group].filter((server) => python || !server.python).map(({ python: _, ...server }) => server);
}
