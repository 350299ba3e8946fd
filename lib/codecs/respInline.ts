// Redis's inline commands: a line typed by hand into `nc` (`SET k "a b"`), split into words.

const HEX = /^[0-9a-fA-F]{2}$/;
const ESCAPES: Readonly<Record<string, number>> = { n: 0x0a, r: 0x0d, t: 0x09, b: 0x08, a: 0x07 };
const isSpace = (byte: number) => byte === 0x20 || (byte >= 0x09 && byte <= 0x0d);

/**
 * An inline command's words, split as Redis's sdssplitargs() splits them: on whitespace, with
 * "double quotes" (escapes \n \r \t \b \a \xHH and any other \c as c) and 'single quotes' (only
 * \' escaped); a closing quote must be followed by whitespace. Or Redis's reason it is no command.
 */
export function splitInline(line: Buffer): Buffer[] | string {
  const words: Buffer[] = [];
  let i = 0;
  for (;;) {
    while (i < line.length && isSpace(line[i]!)) i++;
    if (i >= line.length) return words;
    const word: number[] = [];
    let quote: number | undefined;
    for (;;) {
      if (i >= line.length) {
        if (quote !== undefined) return 'unbalanced quotes in request';
        break;
      }
      const byte = line[i]!;
      if (quote === 0x22) {
        if (byte === 0x5c && i + 3 < line.length && line[i + 1] === 0x78 && HEX.test(line.toString('latin1', i + 2, i + 4))) {
          word.push(parseInt(line.toString('latin1', i + 2, i + 4), 16));
          i += 4;
          continue;
        }
        if (byte === 0x5c && i + 1 < line.length) {
          const next = String.fromCharCode(line[i + 1]!);
          word.push(ESCAPES[next] ?? line[i + 1]!);
          i += 2;
          continue;
        }
      } else if (quote === 0x27 && byte === 0x5c && line[i + 1] === 0x27) {
        word.push(0x27);
        i += 2;
        continue;
      }
      if (quote !== undefined && byte === quote) {
        i++;
        if (i < line.length && !isSpace(line[i]!)) return 'unbalanced quotes in request';
        break;
      }
      if (quote === undefined) {
        if (isSpace(byte)) break;
        if (byte === 0x22 || byte === 0x27) {
          quote = byte;
          i++;
          continue;
        }
      }
      word.push(byte);
      i++;
    }
    words.push(Buffer.from(word));
  }
}
