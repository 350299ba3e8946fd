import { inspect } from 'node:util';

/** What a test may give for bytes: text, written as UTF-8, or the bytes themselves. */
export type Bytes = string | Uint8Array;

export function toBuffer(bytes: Bytes): Buffer {
  if (typeof bytes === 'string') return Buffer.from(bytes, 'utf8');
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

// Longer values are shown as an excerpt around the byte that matters, so a 200 KiB chunk stays one line.
const SHOWN_CHARACTERS = 64;

const escapes: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '"': '\\"', '\\': '\\\\' };

/**
 * Bytes as one line of quoted text: UTF-8 where it is valid and printable, `\xNN` for every
 * other byte, `\n` and friends as in JavaScript. Longer ones are cut to an excerpt around
 * `focus` (a byte offset) and their length is given.
 */
export function showBytes(bytes: Buffer, focus = 0): string {
  const start = bytes.length <= SHOWN_CHARACTERS ? 0 : Math.max(0, Math.min(focus - 16, bytes.length - SHOWN_CHARACTERS));
  const end = Math.min(bytes.length, start + SHOWN_CHARACTERS);
  const text = escapeBytes(bytes.subarray(start, end));
  if (start === 0 && end === bytes.length) return `"${text}"`;
  return `${start > 0 ? `…(from byte ${start}) ` : ''}"${text}"${end < bytes.length ? '…' : ''} (${bytes.length} bytes)`;
}

function escapeBytes(bytes: Buffer): string {
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const length = utf8Length(bytes, i);
    if (length === 0) {
      out += `\\x${bytes[i]!.toString(16).padStart(2, '0')}`;
      i++;
      continue;
    }
    const char = bytes.toString('utf8', i, i + length);
    const code = char.codePointAt(0)!;
    if (escapes[char]) out += escapes[char];
    else if (code < 0x20 || code === 0x7f || (code >= 0x80 && code < 0xa0)) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += char;
    i += length;
  }
  return out;
}

/** The length of the well-formed UTF-8 character at `i`, or 0 if the bytes there are not one. */
function utf8Length(bytes: Buffer, i: number): number {
  const first = bytes[i]!;
  const length = first < 0x80 ? 1 : first >= 0xc2 && first < 0xe0 ? 2 : first >= 0xe0 && first < 0xf0 ? 3 : first >= 0xf0 && first < 0xf5 ? 4 : 0;
  if (length <= 1 || i + length > bytes.length) return length === 1 ? 1 : 0;
  // Node's decoder is the judge of overlongs and surrogates: a replacement character means not well formed.
  const decoded = bytes.toString('utf8', i, i + length);
  return decoded.length > 0 && !decoded.includes('\ufffd') && Buffer.byteLength(decoded) === length ? length : 0;
}

/** Any value as one line: bytes as text, errors by class, code and message, the rest as `util.inspect` does. */
export function showValue(value: unknown, focus = 0): string {
  if (value instanceof Uint8Array) return showBytes(toBuffer(value), focus);
  if (value instanceof Error) return showError(value);
  return inspect(value, { breakLength: Infinity, depth: 4 });
}

export function showError(error: unknown): string {
  if (!(error instanceof Error)) return inspect(error, { breakLength: Infinity });
  const code = (error as { code?: unknown }).code;
  return `${error.name}${typeof code === 'string' ? ` [${code}]` : ''}: ${error.message}`;
}
