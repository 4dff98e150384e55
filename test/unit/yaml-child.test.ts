import { describe, expect, it } from 'vitest';
import { manyRoutes } from '../../scripts/bench/many-routes.js';
import { CHILD_PARSE_BYTES, formatIssue, parseYamlSource } from '../../src/config/yaml-source.js';
import { parseRuleSet, type Route, validateRuleText } from '../../src/rules/rule-set.js';

// Issue 14, item 4: texts above CHILD_PARSE_BYTES are parsed in a child process and the document
// is rebuilt from its values. The two paths must give the same rule set and the same messages,
// positions included. A comment at the end makes any text large without moving a position.
const rc = { backends: ['legacy', 'pipeline'] };
const large = (text: string) => `${text}\n#${'x'.repeat(CHILD_PARSE_BYTES)}\n`;
const errors = (text: string) => validateRuleText(text, 'rules.yaml', rc).map(formatIssue);
const summary = (routes: readonly Route[]) =>
  routes.map((r) => ({ name: r.name, path: r.match.path, methods: r.match.methods && [...r.match.methods], split: r.split, sticky: r.sticky, salt: r.salt }));

describe('large YAML texts parsed in a child process', () => {
  it('takes the child for a large text, and the document has no positions', () => {
    expect(parseYamlSource(large('default: legacy\nroutes: []'), 'rules.yaml').positioned).toBe(false);
    expect(parseYamlSource('default: legacy\nroutes: []', 'rules.yaml').positioned).toBe(true);
  });

  it('compiles 5,000 routes to the same rule set as an in-process parse', () => {
    const text = manyRoutes(5000);
    expect(text.length).toBeGreaterThan(CHILD_PARSE_BYTES);
    const viaChild = parseRuleSet(text, 'rules.yaml', rc);
    // Routes compile one by one: the first 999 of a small file (parsed here) are the same routes.
    const small = manyRoutes(1000);
    expect(small.length).toBeLessThan(CHILD_PARSE_BYTES);
    const here = parseRuleSet(small, 'rules.yaml', rc);
    expect(viaChild.routes).toHaveLength(5000);
    expect(summary(viaChild.routes.slice(0, 999))).toEqual(summary(here.routes.slice(0, 999)));
    expect(summary(viaChild.routes.slice(-1))).toEqual(summary(here.routes.slice(-1)));
    expect(viaChild.default).toBe(here.default);
  });

  it('reports a problem deep in a large file at its line and column', () => {
    const text = manyRoutes(5000).replace(
      '{ name: r4321, match: { path: "/svc4321/**" }, backend: legacy }',
      '{ name: r4321, match: { path: "/svc4321/**" }, backend: legasy }',
    );
    const line = text.split('\n').findIndex((l) => l.includes('legasy')) + 1;
    const [first] = errors(text);
    expect(first).toMatch(new RegExp(`^rules\\.yaml:${line}:\\d+: routes\\[4321\\]\\.backend: `));
  });

  it.each([
    ['a syntax error', 'default: legacy\nroutes: []\n- x\n'],
    ['a duplicate key', 'default: legacy\ndefault: pipeline\nroutes: []\n'],
    ['a number where a name goes', 'default: legacy\nroutes:\n  - { name: 12, match: { path: "/a" }, backend: legacy }\n'],
    ['a non-string route name', 'default: legacy\nroutes:\n  - { name: [a], match: { path: "/a" }, backend: legacy }\n'],
    ['.inf as a percentage', 'default: legacy\nroutes:\n  - { name: a, match: { path: "/a" }, split: { legacy: .inf, pipeline: 0 } }\n'],
    [
      'an alias bomb',
      `a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c]\n`,
    ],
    ['a custom tag', 'default: !!js/function "x"\nroutes: []\n'],
    ['an unknown key', 'default: legacy\nroutes: []\nrotues: []\n'],
  ])('gives the same messages for %s', (_, text) => {
    const here = errors(text);
    expect(here.length).toBeGreaterThan(0);
    expect(errors(large(text))).toEqual(here);
  });

  it.each([
    [
      'aliases and quoted values',
      'default: legacy\nroutes:\n  - &r { name: a, match: { path: "/a", query: { v: "2" } }, split: { legacy: 50, pipeline: 50 }, sticky: "header:x-u" }\n',
    ],
    ['a number as a header name', 'default: legacy\nroutes:\n  - { name: a, match: { path: "/a", headers: { 1: x } }, backend: legacy }\n'],
  ])('accepts the same valid text with %s', (_, text) => {
    expect(errors(text)).toEqual([]);
    expect(errors(large(text))).toEqual([]);
    expect(summary(parseRuleSet(large(text), 'rules.yaml', rc).routes)).toEqual(summary(parseRuleSet(text, 'rules.yaml', rc).routes));
  });
});
