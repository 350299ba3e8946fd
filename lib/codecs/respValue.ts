// The values of RESP (lib/codecs/resp.ts reads them, respEncoder.ts writes them), and the readers
// of their scalar parts that the decoder shares.

/** One RESP value. RESP2's null bulk string and null array are `bulk`/`array` with `null`; RESP3's null is `null`. */
export type RespValue =
  | { readonly type: 'simple'; readonly value: string }
  | { readonly type: 'error'; readonly message: string }
  | { readonly type: 'integer'; readonly value: bigint }
  | { readonly type: 'bulk'; readonly value: Buffer | null }
  | { readonly type: 'array'; readonly items: readonly RespValue[] | null }
  | { readonly type: 'null' }
  | { readonly type: 'map'; readonly entries: readonly (readonly [RespValue, RespValue])[] }
  | { readonly type: 'set'; readonly items: readonly RespValue[] }
  | { readonly type: 'double'; readonly value: number }
  | { readonly type: 'boolean'; readonly value: boolean }
  | { readonly type: 'bignumber'; readonly value: bigint }
  | { readonly type: 'verbatim'; readonly format: string; readonly value: Buffer }
  | { readonly type: 'push'; readonly items: readonly RespValue[] };

/**
 * The length in a header line, `bytes` from `start` (its type byte) to `end` (after its CR), or
 * undefined when it is not -1 or a whole number of 15 digits at most (no float rounding). Read
 * where the line lies, so a header needs no view of its own.
 */
export function readLength(bytes: Buffer, start = 0, end = bytes.length): number | undefined {
  const cr = end - 1;
  const digits = cr - start - 1;
  if (digits === 2 && bytes[start + 1] === 0x2d && bytes[start + 2] === 0x31) return -1;
  if (digits < 1 || digits > 15) return undefined;
  let length = 0;
  for (let i = start + 1; i < cr; i++) {
    const digit = bytes[i]! - 0x30;
    if (digit < 0 || digit > 9) return undefined;
    length = length * 10 + digit;
  }
  return length;
}

const DOUBLE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

export function parseDouble(text: string): number | undefined {
  if (text === 'inf' || text === '+inf') return Infinity;
  if (text === '-inf') return -Infinity;
  if (text === 'nan' || text === '-nan') return NaN;
  return DOUBLE.test(text) ? Number(text) : undefined;
}

export function verbatim(body: Buffer): RespValue {
  return { type: 'verbatim', format: body.toString('latin1', 0, 3), value: body.subarray(4) };
}

export function pairs(items: RespValue[]): [RespValue, RespValue][] {
  const entries: [RespValue, RespValue][] = [];
  for (let i = 0; i < items.length; i += 2) entries.push([items[i]!, items[i + 1]!]);
  return entries;
}
