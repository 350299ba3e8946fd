import { expect } from 'chai';
import fc from 'fast-check';
import { catchError, concat, delay, from, map, mergeMap, of, OperatorFunction, pipe, Subject, take, takeWhile } from 'rxjs';
import { encodeLengthPrefixed, encodeLines, Flow, FrameTooLong, lengthPrefixed, lines } from 'rxwire';
import { answerStart, ReadInPlace } from '../../../lib/operators/internal/answerInPlace';
import { subscribeWithFlow } from '../../../lib/operators/internal/operate';
import { collect, Outcome, splitAt } from '../codecs/splits';

/** What a handler may do with a frame between decoding and encoding; `previous` is the frame before it. */
type Step = (frame: Buffer, previous: Buffer | undefined) => Buffer;
const steps: Record<string, Step> = {
  'passes it on': (frame) => frame,
  'changes it in place': (frame) => frame.fill(0x2a, 0, Math.min(1, frame.length)),
  'replaces it': (frame) => Buffer.concat([Buffer.from('<'), frame, Buffer.from('>')]),
  'passes on a part of it': (frame) => frame.subarray(Math.min(1, frame.length)),
  'passes on the frame before': (frame, previous) => previous ?? frame,
};

/** A connection's Flow as a stream transport's looks to operators: its output is one byte stream. */
const byteStream: Flow = {
  pendingOutput: 0,
  outputHighWaterMark: 64 * 1024,
  joinsWrites: true,
  onActivity: () => () => {},
  onClose: () => () => {},
  reserve: () => true,
  holdReads: () => {},
  releaseReads: () => {},
};

/** What `pipeline` emits over `chunks`, subscribed as a stream transport subscribes it (`joined`) or as anything else does. */
function emitted<T>(chunks: Buffer[], pipeline: OperatorFunction<Buffer, T>, joined: boolean, each: (value: T) => T = (value) => value): Outcome<T> {
  if (!joined) return collect(from(chunks).pipe(pipeline, map(each)));
  const outcome: Outcome<T> = { values: [], completed: false };
  subscribeWithFlow(byteStream, from(chunks).pipe(pipeline), {
    next: (value) => outcome.values.push(each(value)),
    error: (error) => (outcome.error = error),
    complete: () => (outcome.completed = true),
  }).unsubscribe();
  return outcome;
}

/**
 * The output bytes of `decode → step → encode` over `chunks`, emitted to a byte stream or not;
 * each output is reversed in place as it is emitted (as a handler or a transport may change what
 * it owns) unless the step keeps frames to emit again.
 */
function run(chunks: Buffer[], decode: OperatorFunction<Buffer, Buffer>, stepName: string, encode: OperatorFunction<Buffer, Buffer>, copyFrames: boolean, joined = false): Buffer {
  const step = steps[stepName];
  const reverse = stepName !== 'passes on the frame before';
  let previous: Buffer | undefined;
  const pipeline = pipe(
    decode,
    map((frame: Buffer) => {
      const answer = step(copyFrames ? Buffer.from(frame) : frame, previous);
      previous = frame;
      return answer;
    }),
    encode,
  );
  const outcome = emitted(chunks, pipeline, joined, (bytes) => (reverse ? bytes.reverse() : bytes));
  expect(outcome.error).to.equal(undefined);
  return Buffer.concat(outcome.values.map((bytes) => (reverse ? Buffer.from(bytes).reverse() : bytes)));
}

/** A fresh copy of `bytes` cut into chunks that are views of it (as `subarray` splits make them) or each a copy of its own. */
const chunked = (bytes: Buffer, cuts: number[], copies: boolean) =>
  splitAt(Buffer.from(bytes), cuts.map((cut) => cut % (bytes.length + 1))).map((chunk) => (copies ? Buffer.from(chunk) : chunk));

describe('answering a frame in place (answerInPlace)', () => {
  it('encodeLines gives the bytes a copying encoder gives, whatever the handler does with each line', () => {
    const delimiters = fc.constantFrom(undefined, '\n', '\r\n', 'ab', 'a', 'aba');
    fc.assert(
      fc.property(
        fc.array(fc.stringMatching(/^[ab\r\nxy]{0,12}$/), { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.boolean(),
        fc.constantFrom(...Object.keys(steps)),
        delimiters,
        delimiters,
        fc.boolean(),
        fc.boolean(),
        (texts, cuts, copies, stepName, decodeDelimiter, encodeDelimiter, keepDelimiter, joined) => {
          const input = Buffer.from(texts.join(decodeDelimiter ?? '\n'));
          const decode = lines({ delimiter: decodeDelimiter, keepDelimiter });
          const encode = encodeLines({ delimiter: encodeDelimiter });
          const inPlace = run(chunked(input, cuts, copies), decode, stepName, encode, false, joined);
          const copied = run(chunked(input, cuts, copies), decode, stepName, encode, true);
          expect(inPlace.toString('latin1')).to.equal(copied.toString('latin1'));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('encodeLengthPrefixed gives the bytes a copying encoder gives, whatever the handler does with each payload', () => {
    const framings = fc.record({
      headerBytes: fc.constantFrom(1 as const, 2 as const, 4 as const),
      endian: fc.constantFrom('big' as const, 'little' as const),
      lengthIncludesHeader: fc.boolean(),
    });
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 20 }), { maxLength: 10 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.boolean(),
        fc.constantFrom(...Object.keys(steps)),
        framings,
        framings,
        fc.boolean(),
        (payloads, cuts, copies, stepName, decodeFraming, encodeFraming, joined) => {
          const input = Buffer.concat(collect(from(payloads.map((p) => Buffer.from(p))).pipe(encodeLengthPrefixed(decodeFraming))).values);
          const decode = lengthPrefixed(decodeFraming);
          const encode = encodeLengthPrefixed(encodeFraming);
          const inPlace = run(chunked(input, cuts, copies), decode, stepName, encode, false, joined);
          const copied = run(chunked(input, cuts, copies), decode, stepName, encode, true);
          expect(inPlace.equals(copied)).to.equal(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('answers a line that lines() cut from a read as a view of that read, and the lines after it end to end', () => {
    const read = Buffer.alloc(18, 'first\nsecond\nthird');
    const outputs = collect(from([read]).pipe(lines(), encodeLines())).values;
    expect(outputs.map(String)).to.deep.equal(['first\n', 'second\n', 'third\n']);
    expect(outputs[0].buffer).to.equal(read.buffer);
    expect(outputs[1].byteOffset).to.equal(outputs[0].byteOffset + outputs[0].length);
    // The last line had no delimiter to take in: a copy.
    expect(outputs[2].buffer).not.to.equal(read.buffer);
  });

  it('answers a payload that lengthPrefixed() cut from a read, behind the same header, as a view of that read', () => {
    const framing = { headerBytes: 2 } as const;
    const read = Buffer.alloc(9, Buffer.from([0, 2, 0x61, 0x62, 0, 1, 0x63, 0, 3]));
    const outputs = collect(from([read]).pipe(lengthPrefixed(framing), encodeLengthPrefixed(framing))).values;
    expect(Buffer.concat(outputs)).to.deep.equal(read.subarray(0, 7));
    expect(outputs.map((bytes) => [bytes.buffer === read.buffer, bytes.byteOffset])).to.deep.equal([
      [true, 0],
      [true, 4],
    ]);
  });

  it('never takes in bytes of the next frame: a delimiter longer than the one lines() dropped is copied', () => {
    // Split on 'a', joined with 'ab': the 'b' after "x" is the next line's first byte, not a delimiter.
    const read = Buffer.alloc(4, 'xaby');
    const outputs = collect(from([read]).pipe(lines({ delimiter: 'a' }), encodeLines({ delimiter: 'ab' }))).values;
    expect(outputs.map(String)).to.deep.equal(['xab', 'byab']);
    expect(outputs[0].buffer).not.to.equal(read.buffer);
  });

  it('never takes in bytes of the frame before: a header longer than the one lengthPrefixed() dropped is copied', () => {
    // One-byte headers; the payload before ends in 0, so [0, 2] before "cd" reads as a two-byte header of 2.
    const read = Buffer.alloc(6, Buffer.from([2, 0x61, 0, 2, 0x63, 0x64]));
    const outputs = collect(from([read]).pipe(lengthPrefixed({ headerBytes: 1 }), encodeLengthPrefixed({ headerBytes: 2 }))).values;
    expect(Buffer.concat(outputs)).to.deep.equal(Buffer.from([0, 2, 0x61, 0, 0, 2, 0x63, 0x64]));
    expect(outputs[1].buffer).not.to.equal(read.buffer);
  });

  it('copies a line that began in the read before, though it may lie at a like offset of another buffer', () => {
    const reads = [Buffer.from('ab'), Buffer.alloc(64 * 1024, '\n').fill('c', 0, 1)];
    const outputs = collect(from(reads).pipe(lines(), encodeLines())).values;
    expect(outputs.length).to.equal(64 * 1024 - 1);
    expect(outputs.slice(0, 2).map(String)).to.deep.equal(['abc\n', '\n']);
  });

  it('copies a frame handed back later than when it was handed on', () => {
    const read = Buffer.alloc(6, 'a\nb\nc\n');
    let previous: Buffer | undefined;
    const stale = map((line: Buffer) => {
      const answer = previous ?? line;
      previous = line;
      return answer;
    });
    const outputs = collect(from([read]).pipe(lines(), stale, encodeLines())).values;
    expect(outputs.map(String)).to.deep.equal(['a\n', 'a\n', 'b\n']);
    expect(outputs.map((bytes) => bytes.buffer === read.buffer)).to.deep.equal([true, false, false]);
  });

  describe('to a byte stream', () => {
    // Buffers of their own, as reads are (Buffer.from would take small ones from one shared pool).
    const own = (bytes: string | number[]) => Buffer.alloc(Buffer.from(bytes as string).length, Buffer.from(bytes as string));

    // What operators between lines() and encodeLines() may do, nested decodes among them.
    const stages: Record<string, () => OperatorFunction<Buffer, Buffer>> = {
      'passes it on': () => map((line: Buffer) => line),
      'emits it twice': () => mergeMap((line: Buffer) => [line, line]),
      'decodes it again, then passes it on': () => mergeMap((line: Buffer) => concat(of(line).pipe(lines({ delimiter: ',' })), of(line))),
      'passes it on, then decodes it again': () => mergeMap((line: Buffer) => concat(of(line), of(line).pipe(lines()))),
      'takes 3': () => take(3),
      'takes until an x': () => takeWhile((line: Buffer) => !line.includes('x')),
      'changes odd lengths in place': () => map((line: Buffer) => (line.length % 2 ? line.fill(0x41) : line)),
      'copies lines with a b': () => map((line: Buffer) => (line.includes('b') ? Buffer.from(line) : line)),
      'throws at a !': () =>
        map((line: Buffer) => {
          if (line.includes('!')) throw new Error('bad');
          return line;
        }),
      'recovers': () => catchError(() => of(Buffer.from('E'))),
    };

    it('emits the same bytes, error and end as to anything else, whatever the operators between', () => {
      fc.assert(
        fc.property(
          fc.array(fc.stringMatching(/^[ab,x!c]{0,5}$/), { maxLength: 12 }),
          fc.array(fc.nat(80), { maxLength: 6 }),
          fc.array(fc.constantFrom(...Object.keys(stages)), { maxLength: 3 }),
          fc.constantFrom(',', '\n'),
          fc.integer({ min: 3, max: 100 }),
          (texts, cuts, names, delimiter, maxLength) => {
            const input = Buffer.from(`${texts.join('\n')}\n`, 'latin1');
            const pipeline = (): OperatorFunction<Buffer, Buffer> => (source) =>
              names.reduce((frames, name) => frames.pipe(stages[name]()), source.pipe(lines({ maxLength }))).pipe(encodeLines({ delimiter }));
            // Each output copied as it comes: a later change in place must not show in an earlier output.
            const outcome = (joined: boolean) => {
              const { values, error, completed } = emitted(chunked(input, cuts, true), pipeline(), joined, (bytes) => Buffer.from(bytes));
              return { bytes: Buffer.concat(values).toString('latin1'), error: error === undefined ? undefined : String(error), completed };
            };
            expect(outcome(true)).to.deep.equal(outcome(false));
          },
        ),
        { numRuns: 500 },
      );
    });

    it("sends each encoder's answers before the read is handed on, when one read's lines go to several connections", () => {
      // A chat server's broadcast: lines decoded from one read, each encoded for three connections.
      const broadcast = new Subject<Buffer>();
      const outputs: Buffer[][] = [[], [], []];
      for (const output of outputs) {
        subscribeWithFlow(byteStream, broadcast.pipe(encodeLines()), { next: (bytes) => output.push(bytes), error: (err) => expect.fail(String(err)), complete: () => {} });
      }
      const input = new Subject<Buffer>();
      input.pipe(lines()).subscribe(broadcast);
      input.next(own('ab\ncd\n'));
      // Before any more input or the end: nothing may wait for a later read.
      expect(outputs.map((output) => Buffer.concat(output).toString())).to.deep.equal(['ab\ncd\n', 'ab\ncd\n', 'ab\ncd\n']);
    });

    it('answers the lines a read completes, and that still lie there, as one view of it', () => {
      const reads = [own('first\nsecond\nthi'), own('rd\nfourth\n')];
      const outputs = emitted(reads, pipe(lines(), encodeLines()), true).values;
      expect(outputs.map(String)).to.deep.equal(['first\nsecond\n', 'third\n', 'fourth\n']);
      expect(outputs.map((bytes) => bytes.buffer === reads[0].buffer)).to.deep.equal([true, false, false]);
      expect(outputs[2].buffer).to.equal(reads[1].buffer);
    });

    it('answers the payloads a read completes, behind their headers, as one view of it', () => {
      const framing = { headerBytes: 2 } as const;
      const read = own([0, 2, 0x61, 0x62, 0, 1, 0x63, 0, 3]);
      const outputs = emitted([read], pipe(lengthPrefixed(framing), encodeLengthPrefixed(framing)), true).values;
      expect(outputs).to.have.length(1);
      expect(outputs[0]).to.deep.equal(read.subarray(0, 7));
      expect(outputs[0].buffer).to.equal(read.buffer);
    });

    it('keeps the order where a frame must be copied between frames answered in place', () => {
      const replaceB = map((line: Buffer) => (String(line) === 'b' ? Buffer.from('B') : line));
      const outputs = emitted([Buffer.from('a\nb\nc\nd\n')], pipe(lines(), replaceB, encodeLines()), true).values;
      expect(outputs.map(String)).to.deep.equal(['a\n', 'B\n', 'c\nd\n']);
    });

    it('sends the answers to the good lines of a read before the error of a bad one', () => {
      const outcome = emitted([Buffer.from('a\nb\ntoo long\nc\n')], pipe(lines({ maxLength: 3 }), encodeLines()), true);
      expect(outcome.values.map(String)).to.deep.equal(['a\nb\n']);
      expect(outcome.error).to.be.instanceOf(FrameTooLong);
    });

    it('sends what it holds before a frame that fails to encode errors the stream', () => {
      const outcome = emitted([Buffer.from('a\nb\n')], pipe(lines(), map((line: Buffer) => (String(line) === 'b' ? (7 as unknown as Buffer) : line)), encodeLines()), true);
      expect(outcome.values.map(String)).to.deep.equal(['a\n']);
      expect(outcome.error).to.be.instanceOf(Error);
    });

    it('copies lines handed back after the read, as through delay()', async () => {
      const read = own('a\nb\n');
      const outputs: Buffer[] = [];
      await new Promise<void>((done, failed) =>
        subscribeWithFlow(byteStream, from([read]).pipe(lines(), delay(1), encodeLines()), { next: (bytes) => outputs.push(bytes), error: failed, complete: done }),
      );
      expect(outputs.map(String)).to.deep.equal(['a\n', 'b\n']);
      expect(outputs.every((bytes) => bytes.buffer !== read.buffer)).to.equal(true);
    });
  });

  it('copies when no decoder is handing a frame on', () => {
    const idle = new ReadInPlace();
    const line = Buffer.from('line\n').subarray(0, 4);
    expect(answerStart(idle, line, { bytes: 1, trailer: Buffer.from('\n'), header: undefined })).to.equal(-1);
    const header = { bytes: 2, overhead: 0, maxLength: 100, read: (bytes: Buffer, at: number) => bytes.readUInt16BE(at) };
    expect(answerStart(idle, Buffer.from([0, 1, 0x61]).subarray(2), { bytes: 2, trailer: undefined, header })).to.equal(-1);
  });
});
