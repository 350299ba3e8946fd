import { expect } from 'chai';
import * as E from 'fp-ts/Either';
import * as t from 'io-ts';
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { PassThrough, Transform } from 'node:stream';
import { asapScheduler, from, map, mergeMap, Observable, of, OperatorFunction, Subject, subscribeOn, tap } from 'rxjs';
import {
  backpressure,
  closeOnEmptyRead,
  decode,
  Decoder,
  dropWhileBackedUp,
  encode,
  encodeJson,
  encodeLengthPrefixed,
  encodeLines,
  encodeResp,
  fixedSize,
  Flow,
  fromTransform,
  flowOf,
  Handler,
  idleTimeout,
  json,
  lengthPrefixed,
  lines,
  mergeMapBounded,
  resp,
  respCommands,
  RespCommand,
  RespValue,
} from 'rxwire';
import { subscribeWithFlow } from '../../../lib/operators/internal/operate';
import { dial, eventually, readAll, startServer } from '../../support/net';

/** Throws for a value that holds the trigger, `!`: the callback that fails one connection. */
type Fault = (value: unknown) => void;
const fault: Fault = (value) => {
  if (String(value).includes('!')) throw new Error('kaboom');
};

const lineDecoder = (fail: Fault) => (): Decoder<Buffer> => ({
  decode: (chunk) => {
    fail(chunk);
    return { frames: [chunk] };
  },
  end: () => ({ frames: [] }),
  buffered: 0,
});

const faultyString = (fail: Fault) =>
  new t.Type<string>('faultyString', t.string.is, (input, context) => (fail(input), t.string.validate(input, context)), (text) => (fail(text), text));

interface Row {
  /** The operator, as its file in lib/operators/ is named. */
  name: string;
  /** The operator with its simplest arguments, and chunks it takes. */
  op: () => OperatorFunction<Buffer, unknown>;
  input: string[];
  /** Whether it looks for its connection's flow at all (most framing and flow-control operators do). */
  usesFlow: boolean;
  /**
   * The operator over a stream shared by connections, with a callback that throws on the
   * trigger: its own callback where it takes one, else the code right after it.
   */
  faulty: (fail: Fault) => OperatorFunction<Buffer, Buffer>;
  /** What the bystander sends, the trigger last: the victim's pipeline sees each chunk. */
  shared: string[];
}

const toBytes = map((value: unknown) => Buffer.from(JSON.stringify(value)));
const toSimple = map((chunk: Buffer): RespValue => ({ type: 'simple', value: chunk.toString() }));

const rows: Row[] = [
  { name: 'backpressure', op: () => backpressure(), input: ['a'], usesFlow: true, faulty: (f) => (s) => s.pipe(backpressure(), tap<Buffer>(f)), shared: ['a', '!'] },
  { name: 'closeOnEmptyRead', op: () => closeOnEmptyRead(), input: ['a'], usesFlow: false, faulty: (f) => (s) => s.pipe(closeOnEmptyRead(), tap<Buffer>(f)), shared: ['a', '!'] },
  { name: 'decode', op: () => decode(lineDecoder(() => {})), input: ['a'], usesFlow: true, faulty: (f) => decode(lineDecoder(f)), shared: ['a', '!'] },
  {
    name: 'dropWhileBackedUp',
    op: () => dropWhileBackedUp(),
    input: ['a'],
    usesFlow: true,
    // Straight on the shared stream: the victim, which never reads, is backed up by the flood
    // before the trigger comes, so the trigger is dropped and onDrop throws.
    faulty: (f) => dropWhileBackedUp({ highWaterMark: 1, onDrop: () => f('!') }),
    shared: ['flood', '!'],
  },
  { name: 'encode', op: () => encode(E.right), input: ['a'], usesFlow: false, faulty: (f) => encode((frame: Buffer) => (f(frame), E.right(frame))), shared: ['a', '!'] },
  {
    name: 'encodeJson',
    op: () => encodeJson(),
    input: ['a'],
    usesFlow: false,
    faulty: (f) => (s) => s.pipe(map(String), encodeJson(faultyString(f))),
    shared: ['a', '!'],
  },
  {
    name: 'encodeResp',
    op: () => (s) => s.pipe(toSimple, encodeResp()),
    input: ['a'],
    usesFlow: false,
    faulty: (f) => (s) => s.pipe(toSimple, tap<RespValue>((value) => f(JSON.stringify(value))), encodeResp()),
    shared: ['a', '!'],
  },
  { name: 'encodeLengthPrefixed', op: () => encodeLengthPrefixed({ headerBytes: 1 }), input: ['a'], usesFlow: false, faulty: (f) => (s) => s.pipe(encodeLengthPrefixed({ headerBytes: 1 }), tap<Buffer>(f)), shared: ['a', '!'] },
  { name: 'encodeLines', op: () => encodeLines(), input: ['a'], usesFlow: false, faulty: (f) => (s) => s.pipe(encodeLines(), tap<Buffer>(f)), shared: ['a', '!'] },
  { name: 'fixedSize', op: () => fixedSize(1), input: ['ab'], usesFlow: true, faulty: (f) => (s) => s.pipe(fixedSize(1), tap<Buffer>(f)), shared: ['ab', '!'] },
  {
    name: 'fromTransform',
    op: () => fromTransform(() => new PassThrough()),
    input: ['a'],
    usesFlow: true,
    faulty: (f) =>
      fromTransform<Buffer>(
        () =>
          new Transform({
            transform(chunk: Buffer, _encoding, done) {
              f(chunk); // thrown from write(), inside the operator's next
              done(null, chunk);
            },
          }),
      ),
    shared: ['a', '!'],
  },
  { name: 'idleTimeout', op: () => idleTimeout(60_000), input: ['a'], usesFlow: true, faulty: (f) => (s) => s.pipe(idleTimeout(60_000), tap<Buffer>(f)), shared: ['a', '!'] },
  {
    name: 'json',
    op: () => json(t.string),
    input: ['"a"'],
    usesFlow: false,
    faulty: (f) => (s) => s.pipe(json(faultyString(f)), toBytes),
    shared: ['"a"', '"!"'],
  },
  { name: 'lengthPrefixed', op: () => lengthPrefixed({ headerBytes: 1 }), input: ['\x01a'], usesFlow: true, faulty: (f) => (s) => s.pipe(lengthPrefixed({ headerBytes: 1 }), tap<Buffer>(f)), shared: ['\x01a', '\x01!'] },
  { name: 'lines', op: () => lines(), input: ['a\n'], usesFlow: true, faulty: (f) => (s) => s.pipe(lines(), tap<Buffer>(f)), shared: ['a\n', '!\n'] },
  {
    name: 'resp',
    op: () => resp(),
    input: ['+a\r\n'],
    usesFlow: true,
    faulty: (f) => (s) => s.pipe(resp(), tap<RespValue>((value) => f(JSON.stringify(value))), encodeResp()),
    shared: ['+a\r\n', '+!\r\n'],
  },
  {
    name: 'respCommands',
    op: () => respCommands(),
    input: ['PING\r\n'],
    usesFlow: true,
    faulty: (f) => (s) => s.pipe(respCommands(), tap<RespCommand>((command) => f(command.join(' '))), map((command): RespValue => ({ type: 'simple', value: command.join(' ') })), encodeResp()),
    shared: ['PING a\r\n', 'PING !\r\n'],
  },
  {
    name: 'mergeMapBounded',
    op: () => mergeMapBounded((chunk: Buffer) => of(chunk), 1),
    input: ['a'],
    usesFlow: true,
    faulty: (f) => mergeMapBounded((chunk: Buffer) => (f(chunk), of(chunk)), 2),
    shared: ['a', '!'],
  },
];

/** A Flow that notes which of its members an operator used. */
function spyFlow(): Flow & { used: Set<string> } {
  const used = new Set<string>();
  const note = <T>(member: string, value: T) => (used.add(member), value);
  return {
    used,
    get pendingOutput() {
      return note('pendingOutput', 0);
    },
    get outputHighWaterMark() {
      return note('outputHighWaterMark', 64 * 1024);
    },
    get joinsWrites() {
      return note('joinsWrites', true);
    },
    onActivity: () => note('onActivity', () => {}),
    onClose: () => note('onClose', () => {}),
    reserve: () => note('reserve', true),
    holdReads: () => void note('holdReads', undefined),
    releaseReads: () => void note('releaseReads', undefined),
  };
}

/**
 * Runs `pipeline` over `input` as a transport would, and resolves with the Flow members its
 * operators found the flow for. `joinsWrites` is left out: it is not looked up along the chain but
 * asked of an encoder's own subscriber (inside a mergeMap, its output is not the byte stream).
 */
function flowUsedBy(input: string[], pipeline: OperatorFunction<Buffer, unknown>): Promise<Set<string>> {
  const flow = spyFlow();
  return new Promise((resolve, reject) => {
    subscribeWithFlow(flow, from(input.map((text) => Buffer.from(text))).pipe(pipeline), {
      next: () => {},
      error: reject,
      complete: () => resolve(new Set([...flow.used].filter((member) => member !== 'joinsWrites'))),
    });
  });
}

/** Hands values on unchanged, noting whether it found a flow when subscribed. */
function probe(found: (flow: Flow | undefined) => void): OperatorFunction<Buffer, Buffer> {
  return (source) =>
    new Observable<Buffer>((subscriber) => {
      found(flowOf(subscriber, 'probe'));
      return source.subscribe(subscriber);
    });
}

describe('every exported operator', () => {
  it('is in the table below', () => {
    const files = readdirSync(path.join(__dirname, '..', '..', '..', 'lib', 'operators'))
      .filter((file) => file.endsWith('.ts'))
      .map((file) => file.replace(/\.ts$/, ''));
    // encodeFrames is the engine of encodeLines and encodeLengthPrefixed, not exported itself;
    // eachChunk, fromAsyncGenerator and toDuplex adapt a connection to Node's shapes (an async
    // iterator, a Handler, a Duplex) and are not operators.
    const notOperators = ['encodeFrames', 'eachChunk', 'fromAsyncGenerator', 'toDuplex'];
    expect(rows.map((row) => row.name).sort()).to.deep.equal(files.filter((name) => !notOperators.includes(name)).sort());
  });

  for (const row of rows) {
    describe(row.name, () => {
      it(row.usesFlow ? 'finds its flow through its subscriber chain' : 'needs no flow', async () => {
        const used = await flowUsedBy(row.input, row.op());
        if (row.usesFlow) expect([...used]).to.not.be.empty.and.not.include('onClose');
        else expect([...used]).to.be.empty;
      });

      it('finds its flow subscribed late, behind subscribeOn', async () => {
        const direct = await flowUsedBy(row.input, row.op());
        expect(await flowUsedBy(row.input, (s) => s.pipe(row.op(), subscribeOn(asapScheduler)))).to.deep.equal(direct);
      });

      it('finds its flow subscribed inside mergeMap', async () => {
        const direct = await flowUsedBy(row.input, row.op());
        const inner = (s: Observable<Buffer>) => s.pipe(mergeMap((chunk) => of(chunk).pipe(row.op(), subscribeOn(asapScheduler))));
        expect(await flowUsedBy(row.input, inner)).to.deep.equal(direct);
      });

      it('lets an operator upstream of it, subscribed late, find the flow', async () => {
        let found: Flow | undefined;
        await flowUsedBy(row.input, (s) => s.pipe(probe((flow) => (found = flow)), subscribeOn(asapScheduler), row.op()));
        expect(found, 'the flow found upstream').to.not.equal(undefined);
      });

      it("errors only its own connection when its callback throws; a bystander's bytes are intact (real sockets)", async function () {
        this.timeout(20_000);
        // The bystander's reads go to every other pipeline through a shared Subject, as in a chat
        // room; the victim's pipeline fails on the trigger, inside the bystander's read.
        const room = new Subject<Buffer>();
        let victimId: number | undefined;
        const handler: Handler = (input, conn) => {
          if (victimId === undefined) {
            victimId = conn.id;
            return room.pipe(row.faulty(fault));
          }
          return input.pipe(tap((chunk) => room.next(chunk.toString() === 'flood' ? Buffer.alloc(8 << 20) : chunk)));
        };
        const server = await startServer(handler);
        try {
          const victim = await dial({ port: server.port });
          victim.on('error', () => {});
          victim.pause(); // reads nothing, so output to it backs up
          await eventually(() => room.observed, 5000, 'the victim to subscribe');
          const bystander = await dial({ port: server.port });
          const reply = readAll(bystander);
          for (const chunk of row.shared) {
            bystander.write(chunk);
            // One read per chunk: each is echoed before the next is sent.
            const sent = row.shared.slice(0, row.shared.indexOf(chunk) + 1).join('').length;
            await eventually(() => bystander.bytesRead >= sent, 5000, 'the echo');
          }
          await eventually(() => server.logs.some((line) => line.includes('handler error')), 5000, 'the victim to fail');
          victim.destroy();
          bystander.end('bye');
          expect((await reply).toString()).to.equal(row.shared.join('') + 'bye');
          expect(server.logs.filter((line) => line.includes('handler error'))).to.deep.equal([`#${victimId} handler error: kaboom`]);
        } finally {
          await server.close(0);
        }
      });
    });
  }
});
