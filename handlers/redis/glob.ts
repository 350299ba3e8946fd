// Redis's glob patterns (KEYS, SCAN MATCH, CONFIG GET), as its stringmatchlen() reads them: `*`,
// `?`, `[abc]`, `[^a-z]`, and `\` to take the next byte as it is. Bytes, not characters: keys are
// latin1 strings here, one character per byte.

/** Whether `text` matches `pattern`, both latin1 strings; `nocase` folds ASCII case. */
export function globMatch(pattern: string, text: string, nocase = false): boolean {
  // Matched with a backtracking point for the last `*` only, so no pattern costs more than
  // pattern length × text length (Redis bounds its recursive matcher the same way).
  let p = 0;
  let t = 0;
  let starP = -1;
  let starT = 0;
  const fold = (c: string) => (nocase ? c.toLowerCase() : c);
  while (t < text.length) {
    if (p < pattern.length) {
      const c = pattern[p]!;
      if (c === '*') {
        while (pattern[p] === '*') p++;
        if (p === pattern.length) return true;
        starP = p;
        starT = t;
        continue;
      }
      const step = matchOne(pattern, p, text[t]!, fold);
      if (step > 0) {
        p += step;
        t++;
        continue;
      }
    }
    if (starP < 0) return false;
    p = starP;
    t = ++starT;
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

/** If the one-byte pattern at `p` (a byte, `?`, `\x` or a `[...]` class) matches `c`, its length; else 0. */
function matchOne(pattern: string, p: number, c: string, fold: (c: string) => string): number {
  const head = pattern[p]!;
  if (head === '?') return 1;
  if (head === '\\' && p + 1 < pattern.length) return fold(pattern[p + 1]!) === fold(c) ? 2 : 0;
  if (head !== '[') return fold(head) === fold(c) ? 1 : 0;
  let i = p + 1;
  const not = pattern[i] === '^';
  if (not) i++;
  let match = false;
  for (;;) {
    if (i >= pattern.length) {
      // An unclosed class ends at the pattern's end, as in Redis.
      i--;
      break;
    }
    const x = pattern[i]!;
    if (x === ']') break;
    if (x === '\\' && i + 2 < pattern.length) {
      i++;
      if (fold(pattern[i]!) === fold(c)) match = true;
    } else if (i + 2 < pattern.length && pattern[i + 1] === '-') {
      let start = fold(x);
      let end = fold(pattern[i + 2]!);
      if (start > end) [start, end] = [end, start];
      const folded = fold(c);
      if (folded >= start && folded <= end) match = true;
      i += 2;
    } else if (fold(x) === fold(c)) {
      match = true;
    }
    i++;
  }
  return match !== not ? i - p + 1 : 0;
}
