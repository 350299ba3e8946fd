import { FrameTally } from '../core/flow';
import { CodecTally, TransportConnection } from './transportConnection';

// What a server has carried, for its metrics: the totals of its closed connections, kept as each
// closes, plus its open connections' counters read when asked. Nothing is told per read, write or
// frame: sockets already count their bytes, and decoders add their frames to their connection's
// tally (Flow.frameTally) once per chunk. Asking costs one pass over the open connections.

/** What a server has carried so far, its open connections' bytes and frames included. */
export interface Traffic {
  /** Bytes read from peers (UDP and rdm: datagram payloads; an rdm server's headers and acknowledgements included). */
  readonly bytesIn: number;
  /** Bytes written to peers. */
  readonly bytesOut: number;
  /** By codec (`lines`, `length-prefixed`, `fixed-size`, `resp`, or the `codec` given to `decode()`). */
  readonly frames: ReadonlyMap<string, Readonly<FrameTally>>;
}

/** The counts of a server's closed connections; `with(open)` adds those still open. */
export class TrafficTotals {
  private bytesIn = 0;
  private bytesOut = 0;
  private readonly frames = new Map<string, FrameTally>();

  /** Adds a connection that has closed, once its pipeline is unsubscribed (its decoders are done counting). */
  ended(conn: TransportConnection): void {
    this.bytesIn += conn.bytesRead;
    this.bytesOut += conn.bytesWritten;
    addTallies(this.frames, conn.frameTallies);
  }

  /** These totals with what `open` connections have carried so far. */
  with(open: Iterable<TransportConnection>): Traffic {
    let bytesIn = this.bytesIn;
    let bytesOut = this.bytesOut;
    const frames = new Map<string, FrameTally>();
    for (const [codec, tally] of this.frames) frames.set(codec, { ...tally });
    for (const conn of open) {
      bytesIn += conn.bytesRead;
      bytesOut += conn.bytesWritten;
      addTallies(frames, conn.frameTallies);
    }
    return { bytesIn, bytesOut, frames };
  }
}

function addTallies(into: Map<string, FrameTally>, from: readonly Readonly<CodecTally>[]): void {
  for (const { codec, decoded, protocolErrors } of from) {
    const sum = into.get(codec);
    if (sum) {
      sum.decoded += decoded;
      sum.protocolErrors += protocolErrors;
    } else into.set(codec, { decoded, protocolErrors });
  }
}
