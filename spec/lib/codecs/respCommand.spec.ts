import { expect } from 'chai';
import fc from 'fast-check';
import { respDecoder } from '../../../lib/codecs/resp';
import { respCommandDecoder } from '../../../lib/codecs/respCommand';
import { RespValue } from '../../../lib/codecs/respValue';
import { DecodeError, FrameTooLong, IncompleteFrame, RespLimitExceeded } from '../../../lib/core/errors';
import { everySplit } from '../../../lib/testing/everySplit';
import { feedByteByByte, splitAt } from './splits';

const bytes = (text: string) => Buffer.from(text, 'latin1');
const multibulk = (args: readonly Buffer[]) =>
  Buffer.concat([bytes(`*${args.length}\r\n`), ...args.flatMap((arg) => [bytes(`$${arg.length}\r\n`), arg, bytes('\r\n')])]);

/** Every frame of `chunks` from a fresh command decoder, each argument as bytes; the error, if any. */
function commandsOf(chunks: readonly Buffer[]): { commands: Buffer[][]; error?: unknown } {
  const decoder = respCommandDecoder()();
  const commands: Buffer[][] = [];
  for (const chunk of chunks) {
    const step = decoder.decode(chunk);
    commands.push(...step.frames.map((command) => command.map((arg) => Buffer.from(arg, 'latin1'))));
    if (step.error) return { commands, error: step.error };
  }
  const last = decoder.end();
  return last.error ? { commands, error: last.error } : { commands };
}

/** The same through the general RESP decoder, as the redis handler read commands before: empty arrays are no command. */
function valuesOf(input: Buffer): Buffer[][] {
  const decoder = respDecoder({ inlineCommands: true })();
  const frames: RespValue[] = [...decoder.decode(input).frames, ...decoder.end().frames];
  return frames.flatMap((value) => (value.type === 'array' && value.items !== null && value.items.length > 0 ? [value.items.map((item) => (item as { value: Buffer }).value)] : []));
}

const arg = fc.uint8Array({ maxLength: 30 }).map((array) => Buffer.from(array));
// A first word that starts with a RESP type byte (`_`, `:`, `-`) is inline to Redis, and to this
// decoder, but a value to respDecoder: the two agree on the rest.
const inlineWord = fc.stringMatching(/^[A-Za-z][A-Za-z0-9:_-]{0,11}$/);
const command = fc.oneof(
  fc.array(arg, { minLength: 1, maxLength: 5 }).map(multibulk),
  fc.tuple(fc.array(inlineWord, { minLength: 1, maxLength: 4 }), fc.constantFrom('\r\n', '\n')).map(([words, end]) => bytes(words.join(' ') + end)),
  fc.constant(bytes('*0\r\n')),
);

describe('respCommandDecoder', () => {
  it('reads the same commands as respDecoder from any generated stream of commands, however it is split', () => {
    fc.assert(
      fc.property(fc.array(command, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 6 }), (commands, cuts) => {
        const input = Buffer.concat(commands);
        const expected = valuesOf(input);
        const whole = commandsOf([input]);
        expect(whole.error).to.equal(undefined);
        expect(whole.commands).to.deep.equal(expected);
        expect(commandsOf(splitAt(input, cuts.map((cut) => cut % (input.length + 1)))).commands).to.deep.equal(expected);
      }),
    );
  });

  it('reads an example to the same commands however it is split, byte by byte included', () => {
    const input = Buffer.concat([multibulk([bytes('SET'), bytes('k'), Buffer.from([0, 13, 10, 255])]), bytes('GET "a b" c\r\nPING\n\r\n'), multibulk([bytes('GET'), bytes('k')])]);
    everySplit(respCommandDecoder(), input, { seed: 1 });
    expect(commandsOf([input]).commands.map((words) => words.map((word) => word.toString('latin1')))).to.deep.equal([
      ['SET', 'k', '\x00\r\n\xff'],
      ['GET', 'a b', 'c'],
      ['PING'],
      ['GET', 'k'],
    ]);
  });

  it('skips *0 and *-1 as no command, as Redis does', () => {
    expect(commandsOf([bytes('*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n')]).commands).to.deep.equal([[bytes('PING')]]);
  });

  it("says what is wrong in Redis's words, after the commands before it", () => {
    const cases: [string, string][] = [
      ['*1\r\n+OK\r\n', "expected '$', got '+'"],
      ['*2\r\n$1\r\na\r\n*1\r\n', "expected '$', got '*'"],
      ['*1\r\n$x\r\n', 'invalid bulk length'],
      ['*1\r\n$-1\r\n', 'invalid bulk length'],
      ['*x\r\n', 'invalid multibulk length'],
      ['*-2\r\n', 'invalid multibulk length'],
      ['SET a "b\r\n', 'unbalanced quotes in request'],
      ['*1\r\n$1\r\nab\r\n', 'bulk string of 1 bytes not followed by CRLF'],
      ['*1\n', 'line not ended by CRLF: "*1"'],
    ];
    for (const [input, message] of cases) {
      const { commands, error } = commandsOf([bytes(`PING\r\n${input}`)]);
      expect(commands, input).to.deep.equal([[bytes('PING')]]);
      expect(error, input).to.be.instanceOf(DecodeError);
      expect((error as Error).message, input).to.equal(message);
    }
  });

  it('refuses an argument past maxBulkLength from its header, holding nothing', () => {
    const decoder = respCommandDecoder({ maxBulkLength: 1000 })();
    const { frames, error } = decoder.decode(bytes('*1\r\n$1001\r\n'));
    expect(frames).to.deep.equal([]);
    expect(error).to.be.instanceOf(FrameTooLong);
    expect(decoder.buffered).to.be.below(64);
  });

  it('refuses more arguments than maxArrayLength from the header', () => {
    const { error } = respCommandDecoder()().decode(bytes('*2147483647\r\n'));
    expect(error).to.be.instanceOf(RespLimitExceeded);
    expect(error?.message).to.equal('aggregate of 2147483647 elements exceeds the 1048576-element limit');
  });

  it('refuses a line past maxLineLength as soon as it passes it', () => {
    const decoder = respCommandDecoder({ maxLineLength: 8 })();
    expect(decoder.decode(bytes('PING 12\r\nPING 123')).error).to.equal(undefined);
    const { error } = decoder.decode(bytes('45678'));
    expect(error).to.be.instanceOf(FrameTooLong);
    expect((error as FrameTooLong).atLeast).to.equal(true);
  });

  it('counts what it holds of a command in progress, and fails input that ends inside one', () => {
    const decoder = respCommandDecoder()();
    decoder.decode(bytes('*2\r\n$3\r\nGET\r\n$3\r\nk'));
    expect(decoder.buffered).to.equal(18);
    const { error } = decoder.end();
    expect(error).to.be.instanceOf(IncompleteFrame);
  });

  it('takes a 1 MB argument fed one byte at a time in linear time', async function () {
    this.timeout(10_000);
    const payload = Buffer.alloc(1024 * 1024, 'x');
    const frames = await feedByteByByte(respCommandDecoder()(), multibulk([bytes('SET'), bytes('k'), payload]));
    expect(frames).to.have.length(1);
    expect(frames[0]![2]).to.equal(payload.toString('latin1'));
  });
});
