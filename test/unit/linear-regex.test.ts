import { describe, expect, it } from 'vitest';
import { compileLinearRegex, type LinearRegex } from '../../src/util/linear-regex.js';
import { compilePathPattern, matchPath } from '../../src/router/path-pattern.js';
import { compileValueMatcher } from '../../src/router/route-match.js';
import { formatIssue } from '../../src/config/yaml-source.js';
import { validateRuleText } from '../../src/rules/rule-set.js';

const compiled = (s: string, ignoreCase = false): LinearRegex => {
  const re = compileLinearRegex(s, { ignoreCase });
  if (typeof re === 'string') throw new Error(re);
  return re;
};

describe('linear-time regexes (issue 11, item 2)', () => {
  // With a backtracking engine each of these inputs takes longer than the universe: the test
  // finishing at all is the proof that matching does not backtrack.
  it.each([
    ['^(a+)+$', 'a'.repeat(30_000) + '!'],
    ['^(\\w+\\s?)*$', 'word '.repeat(10_000) + '!'],
    ['(a|aa)*b', 'a'.repeat(30_000)],
  ])('matches the nested-quantifier pattern %s against a hostile input without backtracking', (pattern, input) => {
    expect(compiled(pattern).test(input)).toBe(false);
  });

  it('finds a match anywhere, honours anchors and ignore_case', () => {
    expect(compiled('\\.\\./').test('/static/../x')).toBe(true);
    expect(compiled('^/v[0-9]+/').test('x/v2/')).toBe(false);
    expect(compiled('^(?:sqlmap|nikto)', true).test('SQLMap/1.7')).toBe(true);
  });

  it.each(['(?<=a)b', '(?=a)', '(a)\\1', '('])('refuses %s, naming it', (pattern) => {
    expect(compileLinearRegex(pattern)).toEqual(expect.stringContaining(JSON.stringify(pattern)));
  });

  it('is what rule paths and value matchers use', () => {
    const p = compilePathPattern('~^/(a+)+$');
    if (typeof p === 'string') throw new Error(p);
    expect(matchPath(p, '/' + 'a'.repeat(20_000) + '!')).toBe(false);
    expect(matchPath(p, '/aaa')).toBe(true);
    expect(compileValueMatcher('~(?!x)')).toMatch(/invalid regular expression "\(\?!x\)"/);
  });

  it('names a refused rule pattern with FILE:LINE:COL', () => {
    const text = 'default: legacy\nroutes:\n  - name: a\n    match: { path: "~^/(?<=x)y" }\n    backend: legacy\n';
    const issues = validateRuleText(text, 'rules.yaml', { backends: ['legacy'] }).map(formatIssue);
    expect(issues).toEqual([expect.stringMatching(/^rules\.yaml:4:20: routes\[0\]\.match\.path: invalid regular expression "\^\/\(\?<=x\)y"/)]);
  });
});
