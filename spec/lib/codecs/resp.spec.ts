import { expect } from 'chai';
import { isRight } from 'fp-ts/Either';
import fc from 'fast-check';
import RedisParser from 'redis-parser';
import { respDecoder } from '../../../lib/codecs/resp';
import { respEncoder } from '../../../lib/codecs/respEncoder';
import { splitInline } from '../../../lib/codecs/respInline';
import { RespValue } from '../../../lib/codecs/respValue';
import { DecodeError, FrameTooLong, IncompleteFrame, RespLimitExceeded } from '../../../lib/core/errors';
import { encodeResp } from '../../../lib/operators/encodeResp';
import { resp } from '../../../lib/operators/resp';
import { feedByteByByte, itDecodesAnySplit, itDecodesEverySplitOf, splitAt } from './splits';

const bytes = (text: string) => Buffer.from(text, 'latin1');
const bulk = (text: string): RespValue => ({ type: 'bulk', value: Buffer.from(text) });

function encoded(value: RespValue): Buffer {
  const result = respEncoder()(value);
  if (!isRight(result)) throw result.left;
  return result.right;
}

function decodeAll(input: Buffer, options = {}): { frames: readonly RespValue[]; error?: unknown } {
  const decoder = respDecoder(options)();
  const step = decoder.decode(input);
  return step.error ? step : { frames: [...step.frames, ...decoder.end().frames], ...(decoder.end().error ? { error: decoder.end().error } : {}) };
}

const line = fc.string({ maxLength: 20 }).filter((s) => !/[\r\n]/.test(s));
const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
const binary = fc.uint8Array({ maxLength: 40 }).map((array) => Buffer.from(array));

const resp2 = fc.letrec<{ value: RespValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    line.map((value): RespValue => ({ type: 'simple', value })),
    line.map((message): RespValue => ({ type: 'error', message })),
    int64.map((value): RespValue => ({ type: 'integer', value })),
    fc.option(binary, { nil: null }).map((value): RespValue => ({ type: 'bulk', value })),
    fc.option(fc.array(tie('value'), { maxLength: 4 }), { nil: null }).map((items): RespValue => ({ type: 'array', items })),
  ),
})).value;

const resp3 = fc.letrec<{ value: RespValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    resp2,
    fc.constant<RespValue>({ type: 'null' }),
    fc.double().map((value): RespValue => ({ type: 'double', value })),
    fc.boolean().map((value): RespValue => ({ type: 'boolean', value })),
    fc.bigInt({ min: -(2n ** 200n), max: 2n ** 200n }).map((value): RespValue => ({ type: 'bignumber', value })),
    fc.tuple(fc.constantFrom('txt', 'mkd'), binary).map(([format, value]): RespValue => ({ type: 'verbatim', format, value })),
    fc.array(tie('value'), { maxLength: 3 }).map((items): RespValue => ({ type: 'set', items })),
    fc.array(tie('value'), { maxLength: 3 }).map((items): RespValue => ({ type: 'push', items })),
    fc.array(fc.tuple(tie('value'), tie('value')), { maxLength: 3 }).map((entries): RespValue => ({ type: 'map', entries })),
  ),
})).value;

describe('respDecoder', () => {
  it('reads every RESP2 and RESP3 type', () => {
    const input = bytes(
      '+OK\r\n-ERR no\r\n:-42\r\n$5\r\nhe\r\no\r\n$-1\r\n*-1\r\n*0\r\n*2\r\n$1\r\na\r\n:1\r\n_\r\n,3.5\r\n,-inf\r\n#t\r\n' +
        '(12345678901234567890123\r\n=8\r\ntxt:some\r\n%1\r\n+k\r\n~1\r\n#f\r\n>2\r\n+pubsub\r\n$1\r\nx\r\n',
    );
    expect(decodeAll(input).frames).to.deep.equal([
      { type: 'simple', value: 'OK' },
      { type: 'error', message: 'ERR no' },
      { type: 'integer', value: -42n },
      { type: 'bulk', value: bytes('he\r\no') },
      { type: 'bulk', value: null },
      { type: 'array', items: null },
      { type: 'array', items: [] },
      { type: 'array', items: [bulk('a'), { type: 'integer', value: 1n }] },
      { type: 'null' },
      { type: 'double', value: 3.5 },
      { type: 'double', value: -Infinity },
      { type: 'boolean', value: true },
      { type: 'bignumber', value: 12345678901234567890123n },
      { type: 'verbatim', format: 'txt', value: bytes('some') },
      { type: 'map', entries: [[{ type: 'simple', value: 'k' }, { type: 'set', items: [{ type: 'boolean', value: false }] }]] },
      { type: 'push', items: [{ type: 'simple', value: 'pubsub' }, bulk('x')] },
    ]);
  });

  it('reads inline commands as arrays of bulk strings, split as Redis splits them, when asked', () => {
    const { frames } = decodeAll(bytes('PING\r\n\r\nset  k "a b\\x41\\n" \'it\\\'s\'\nGET k\n'), { inlineCommands: true });
    expect(frames).to.deep.equal([
      { type: 'array', items: [bulk('PING')] },
      { type: 'array', items: [bulk('set'), bulk('k'), bulk('a bA\n'), bulk("it's")] },
      { type: 'array', items: [bulk('GET'), bulk('k')] },
    ]);
    expect(splitInline(bytes('"abc"d'))).to.equal('unbalanced quotes in request');
    expect(splitInline(bytes('"abc'))).to.equal('unbalanced quotes in request');
    expect(decodeAll(bytes('PING\r\n')).error).to.be.instanceOf(DecodeError);
  });

  it('refuses a bulk length past maxBulkLength from its header, holding nothing', () => {
    const decoder = respDecoder()();
    const { frames, error } = decoder.decode(bytes('*1\r\n$536870912\r\n'));
    expect(frames).to.deep.equal([]);
    expect(error).to.be.instanceOf(FrameTooLong);
    expect(error?.message).to.equal('frame of 536870912 bytes exceeds the 16777216-byte limit');
    expect(decoder.buffered).to.be.below(64);
  });

  it('refuses an aggregate past maxArrayLength, or nested past maxDepth, from its header', () => {
    const long = respDecoder()().decode(bytes('*2147483647\r\n'));
    expect(long.error).to.be.instanceOf(RespLimitExceeded);
    expect(long.error?.message).to.equal('aggregate of 2147483647 elements exceeds the 1048576-element limit');
    const deep = respDecoder({ maxDepth: 3 })().decode(bytes('*1\r\n*1\r\n*1\r\n*1\r\n'));
    expect(deep.error).to.be.instanceOf(RespLimitExceeded);
    expect(deep.error?.message).to.equal('nested deeper than 3 levels');
    expect(respDecoder({ maxDepth: 3 })().decode(bytes('*1\r\n*1\r\n*1\r\n:1\r\n')).frames).to.have.length(1);
  });

  it('refuses a line past maxLineLength as soon as it passes it', () => {
    const decoder = respDecoder({ maxLineLength: 8 })();
    expect(decoder.decode(bytes('+1234567\r\n+12345678')).error).to.equal(undefined);
    const { error } = decoder.decode(bytes('+123456789'));
    expect(error).to.be.instanceOf(FrameTooLong);
  });

  it('says what is wrong with bytes that are no RESP, after the values before them', () => {
    const cases: [string, string][] = [
      ['?x\r\n', 'unknown type byte "?"'],
      [':12a\r\n', 'invalid integer "12a"'],
      ['$x\r\n', 'invalid bulk length'],
      ['*-2\r\n', 'invalid multibulk length'],
      ['$1\r\nab\r\n', 'bulk string of 1 bytes not followed by CRLF'],
      ['+OK\n', 'line not ended by CRLF: "+OK"'],
      ['#x\r\n', 'invalid boolean "x"'],
    ];
    for (const [input, message] of cases) {
      const { frames, error } = respDecoder()().decode(bytes(`:1\r\n${input}`));
      expect(frames, input).to.deep.equal([{ type: 'integer', value: 1n }]);
      expect(error, input).to.be.instanceOf(DecodeError);
      expect((error as Error).message, input).to.equal(message);
    }
  });

  it('fails input that ends inside a value', () => {
    const decoder = respDecoder()();
    decoder.decode(bytes('*2\r\n$3\r\nab'));
    expect(decoder.end().error).to.be.instanceOf(IncompleteFrame);
  });

  it('takes a 1 MB bulk string fed one byte at a time in linear time', async function () {
    this.timeout(10_000);
    const payload = Buffer.alloc(1024 * 1024, 'x');
    const frames = await feedByteByByte(respDecoder()(), encoded({ type: 'bulk', value: payload }));
    expect(frames).to.deep.equal([{ type: 'bulk', value: payload }]);
  });

  it('takes an array of 100,000 elements fed one byte at a time in linear time', async function () {
    this.timeout(10_000);
    const items = Array.from({ length: 100_000 }, (_, i): RespValue => ({ type: 'integer', value: BigInt(i) }));
    const frames = await feedByteByByte(respDecoder()(), encoded({ type: 'array', items }));
    expect(frames).to.deep.equal([{ type: 'array', items }]);
  });
});

describe('respEncoder', () => {
  it('writes each type as Redis does', () => {
    expect(encoded({ type: 'array', items: [bulk('SET'), { type: 'bulk', value: null }, { type: 'array', items: null }] }).toString()).to.equal(
      '*3\r\n$3\r\nSET\r\n$-1\r\n*-1\r\n',
    );
    expect(encoded({ type: 'map', entries: [[{ type: 'simple', value: 'a' }, { type: 'double', value: -0 }]] }).toString()).to.equal('%1\r\n+a\r\n,-0\r\n');
    expect(encoded({ type: 'verbatim', format: 'txt', value: bytes('hi') }).toString()).to.equal('=6\r\ntxt:hi\r\n');
  });

  it('refuses a simple string or error it could not write', () => {
    expect(respEncoder()({ type: 'simple', value: 'a\r\nb' })).to.deep.equal({ _tag: 'Left', left: new DecodeError('a simple string cannot hold CR or LF') });
  });
});

describe('resp() and encodeResp()', () => {
  itDecodesAnySplit({ frames: fc.array(resp3, { maxLength: 6 }), encode: encodeResp(), decode: resp() });
  itDecodesEverySplitOf(
    [{ type: 'array', items: [bulk('SET'), bulk('key'), bulk('value')] }, { type: 'map', entries: [[bulk('a'), { type: 'null' }]] }],
    { frames: fc.constant([]), encode: encodeResp(), decode: resp() },
    respDecoder(),
  );
});

/** What redis-parser gives for a value, in the shape both parsers can be compared in. */
type Plain = Buffer | string | null | { error: string } | Plain[];

function plain(value: RespValue): Plain {
  switch (value.type) {
    case 'simple':
      return Buffer.from(value.value);
    case 'error':
      return { error: value.message };
    case 'integer':
      return value.value.toString();
    case 'bulk':
      return value.value;
    case 'array':
      return value.items === null ? null : value.items.map(plain);
    default:
      throw new Error(`not RESP2: ${value.type}`);
  }
}

function fromRedisParser(reply: unknown): Plain {
  if (reply instanceof Error) return { error: reply.message };
  if (Array.isArray(reply)) return reply.map(fromRedisParser);
  return reply as Plain;
}

describe('respDecoder against redis-parser (the parser ioredis used)', () => {
  it('reads the same values from any generated RESP2 stream, however it is split', () => {
    fc.assert(
      fc.property(fc.array(resp2, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 12 }), (values, cuts) => {
        const stream = Buffer.concat(values.map(encoded));
        const chunks = splitAt(stream, cuts.map((cut) => cut % (stream.length + 1)));
        const theirs: Plain[] = [];
        const parser = new RedisParser({
          returnReply: (reply: unknown) => theirs.push(fromRedisParser(reply)),
          returnError: (error: Error) => theirs.push(fromRedisParser(error)),
          returnFatalError: (error: Error) => {
            throw error;
          },
          returnBuffers: true,
          stringNumbers: true,
        });
        const decoder = respDecoder()();
        const ours: Plain[] = [];
        for (const chunk of chunks) {
          // redis-parser keeps a reference to what it is handed: give it its own copy.
          // It fails on an empty chunk, which no socket reads.
          if (chunk.length > 0) parser.execute(Buffer.from(chunk));
          const step = decoder.decode(chunk);
          expect(step.error).to.equal(undefined);
          ours.push(...step.frames.map(plain));
        }
        expect(decoder.end()).to.deep.equal({ frames: [] });
        expect(ours).to.deep.equal(theirs);
        expect(ours).to.deep.equal(values.map(plain));
      }),
      { numRuns: 300 },
    );
  });
});
