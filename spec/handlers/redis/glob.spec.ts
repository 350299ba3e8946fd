import { expect } from 'chai';
import { globMatch } from '../../../handlers/redis/glob';

describe('redis glob patterns', () => {
  it('match as Redis matches KEYS patterns', () => {
    const cases: [string, string, boolean][] = [
      ['h?llo', 'hello', true],
      ['h?llo', 'hllo', false],
      ['h*llo', 'hllo', true],
      ['h*llo', 'heeeello', true],
      ['h[ae]llo', 'hallo', true],
      ['h[ae]llo', 'hillo', false],
      ['h[^e]llo', 'hallo', true],
      ['h[^e]llo', 'hello', false],
      ['h[a-b]llo', 'hbllo', true],
      ['h[b-a]llo', 'hallo', true],
      ['h[a-b]llo', 'hcllo', false],
      ['\\*', '*', true],
      ['\\*', 'x', false],
      ['user:*', 'user:', true],
      ['*', '', true],
      ['?', '', false],
      ['a[', 'a', false],
      ['[\\]]', ']', true],
    ];
    for (const [pattern, text, expected] of cases) expect(globMatch(pattern, text), `${pattern} ~ ${text}`).to.equal(expected);
  });

  it('folds ASCII case when asked, as CONFIG GET does', () => {
    expect(globMatch('SAVE', 'save', true)).to.equal(true);
    expect(globMatch('SAVE', 'save')).to.equal(false);
  });

  it('takes a pattern of many stars against a long key in time linear in both, not exponential', () => {
    const started = Date.now();
    expect(globMatch('a*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(10_000))).to.equal(false);
    expect(Date.now() - started).to.be.below(1000);
  });
});
