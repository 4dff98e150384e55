import { describe, expect, it } from 'vitest';
import { ConfigError, formatIssue } from '../../src/config/yaml-source.js';
import { compilePathPattern, matchPath, type PathPattern } from '../../src/router/path-pattern.js';
import { requestFacts } from '../../src/router/request-facts.js';
import { matchRoute } from '../../src/router/route-match.js';
import { parseRuleSet, validateRuleText } from '../../src/rules/rule-set.js';

const rc = { backends: ['legacy', 'pipeline'] };
const errors = (text: string) => validateRuleText(text, 'rules.yaml', rc).map(formatIssue);

describe('rule validation', () => {
  it('accepts the documented example', () => {
    const rules = parseRuleSet(
      `default: legacy
routes:
  - name: catalog
    match:
      host: "*.shop.example"
      path: "/api/catalog/**"
      methods: [GET, HEAD]
      headers: { x-beta: "on" }
      cookies: { plan: "pro" }
      query: { v: "2" }
    split: { legacy: 70, pipeline: 30 }
    sticky: "header:x-user-id"
  - name: admin
    match: { path: "/admin/**" }
    backend: legacy
`,
      'rules.yaml',
      rc,
    );
    expect(rules.routes.map((r) => r.name)).toEqual(['catalog', 'admin']);
    expect(rules.routes[1]!.split.single).toBe('legacy');
    expect(Object.isFrozen(rules.routes[0])).toBe(true);
  });

  it('reports every error with file, line, column and key', () => {
    const out = errors(`default: legacy
routes:
  - name: a
    match: { path: "/x/**", colour: red }
    split: { legacy: 60, pipeline: 30 }
  - name: a
    backend: elsewhere
  - name: b
    split: { legacy: 50, pipeline: 50 }
    backend: legacy
`);
    expect(out).toEqual([
      'rules.yaml:4:29: routes[0].match.colour: unknown key (expected one of: host, path, methods, headers, cookies, query)',
      'rules.yaml:5:12: routes[0].split: weights sum to 90, not 100',
      'rules.yaml:6:11: routes[1].name: duplicate name "a" (first at routes[0])',
      'rules.yaml:7:14: routes[1].backend: unknown backend "elsewhere" (the gateway config has: legacy, pipeline)',
      'rules.yaml:8:5: routes[2]: a route has exactly one of "split" or "backend"',
    ]);
  });

  it.each([
    ['bad regex', 'match: { path: "~(" }\n    backend: legacy', /routes\[0\]\.match\.path: invalid regular expression/],
    ['bad header regex', 'match: { headers: { a: "~[" } }\n    backend: legacy', /routes\[0\]\.match\.headers\.a: invalid regular expression/],
    ['wrong type', 'match: { methods: GET }\n    backend: legacy', /routes\[0\]\.match\.methods: expected a list, got a string/],
    ['unknown method', 'match: { methods: [FETCH] }\n    backend: legacy', /unknown method "FETCH"/],
    ['split backend unknown', 'split: { legacy: 50, nowhere: 50 }', /routes\[0\]\.split\.nowhere: unknown backend "nowhere"/],
    ['too many decimals', 'split: { legacy: 33.333, pipeline: 66.667 }', /has more than 2 decimals/],
    ['negative weight', 'split: { legacy: -10, pipeline: 110 }', /below the minimum 0/],
    ['bad sticky', 'backend: legacy\n    sticky: "session"', /is not a sticky key/],
    ['mid-path **', 'match: { path: "/a/**/b" }\n    backend: legacy', /"\*\*" may only be the last segment/],
    ['partial glob', 'match: { path: "/a/b*" }\n    backend: legacy', /mixes "\*" with text/],
    ['host wildcard', 'match: { host: "shop.*" }\n    backend: legacy', /only a leading "\*\." wildcard/],
    ['reserved name', 'backend: legacy', /"default" is reserved/, 'default'],
  ])('rejects %s', (_name, body, pattern, routeName = 'r') => {
    const out = errors(`default: legacy\nroutes:\n  - name: ${routeName}\n    ${body}\n`);
    expect(out.join('\n')).toMatch(pattern);
    expect(out[0]).toMatch(/^rules\.yaml:\d+:\d+: /);
  });

  it('rejects an unknown default backend and unknown top-level keys', () => {
    expect(errors('default: nowhere\nrutes: []\n')).toEqual([
      'rules.yaml:1:10: default: unknown backend "nowhere" (the gateway config has: legacy, pipeline)',
      'rules.yaml:2:1: rutes: unknown key (expected one of: default, routes)',
    ]);
  });

  it('parses YAML safely: no custom tags, an alias limit, a size cap, no duplicate keys', () => {
    expect(errors('default: !!js/function "x"\n').join()).toMatch(/rules\.yaml:1:10: .*tag/i);
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
      .concat(
        Array.from(
          { length: 8 },
          (_, i) =>
            `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10)
              .fill('*' + String.fromCharCode(97 + i))
              .join(',')}]`,
        ),
      )
      .join('\n');
    expect(errors(bomb).join()).toMatch(/alias/i);
    expect(errors('default: legacy\n' + '#'.repeat(8 * 1024 * 1024 + 1)).join()).toMatch(/larger than 8388608 bytes/);
    expect(errors('default: legacy\ndefault: pipeline\n').join()).toMatch(/rules\.yaml:2:1: .*unique/i);
  });

  it('never produces a rule set from an invalid file', () => {
    expect(() => parseRuleSet('default: [', 'r.yaml', rc)).toThrow(ConfigError);
  });
});

describe('path patterns', () => {
  const p = (s: string) => compilePathPattern(s) as PathPattern;
  it.each([
    ['/a/b', '/a/b', true],
    ['/a/b', '/a/b/', false],
    ['/a/**', '/a', true],
    ['/a/**', '/a/', true],
    ['/a/**', '/a/b/c', true],
    ['/a/**', '/ab', false],
    ['/**', '/anything/at/all', true],
    ['/a/*/c', '/a/b/c', true],
    ['/a/*/c', '/a/b/d', false],
    ['/a/*/**', '/a/b', true],
    ['/a/*/**', '/a', false],
    ['~^/v\\d+/', '/v3/x', true],
    ['/a%20b', '/a%20b', true],
    ['/a%20b', '/a b', false],
  ])('%s vs %s → %s', (pattern, path, want) => {
    expect(matchPath(p(pattern), path)).toBe(want);
  });
});

describe('route matching', () => {
  it('compares header values after joining repeated headers', () => {
    const rules = parseRuleSet('default: legacy\nroutes:\n  - name: r\n    match: { headers: { x-a: "1, 2" } }\n    backend: pipeline\n', 'r', rc);
    expect(matchRoute(rules.routes[0]!.match, requestFacts('GET', '/', { 'x-a': ['1', '2'] }))).toBe(true);
  });
});

describe('fallback', () => {
  it('compiles the documented block, with percent budgets and defaults', () => {
    const rules = parseRuleSet(
      `default: legacy
routes:
  - name: catalog
    split: { legacy: 50, pipeline: 50 }
    fallback: { to: legacy, on: [refused, reset, timeout, 5xx], methods: [GET, head, OPTIONS], budget: 20% }
  - name: search
    backend: pipeline
    fallback: { to: legacy, budget: 100 }
`,
      'rules.yaml',
      rc,
    );
    const [catalog, search] = rules.routes;
    expect(catalog!.fallback).toMatchObject({ to: 'legacy', budget: 0.2, budgetMin: 3, maxBodyBytes: 64 * 1024 });
    expect([...catalog!.fallback!.on]).toEqual(['refused', 'reset', 'timeout', '5xx']);
    expect([...catalog!.fallback!.methods]).toEqual(['GET', 'HEAD', 'OPTIONS']);
    expect(search!.fallback).toMatchObject({ to: 'legacy', budget: 1 });
    expect([...search!.fallback!.methods]).toEqual(['GET', 'HEAD', 'OPTIONS']);
  });

  it("refuses unknown failures and backends, bad budgets, and a fallback to the route's only backend", () => {
    expect(
      errors(`default: legacy
routes:
  - name: a
    backend: pipeline
    fallback: { to: nowhere, on: [refused, 404], budget: 120% }
  - name: b
    backend: legacy
    fallback: { to: legacy }
`),
    ).toEqual([
      'rules.yaml:5:21: routes[0].fallback.to: unknown backend "nowhere" (the gateway config has: legacy, pipeline)',
      'rules.yaml:5:44: routes[0].fallback.on[1]: expected a string, got number 404',
      'rules.yaml:5:58: routes[0].fallback.budget: "120%" is not a percentage such as "20%"',
      'rules.yaml:8:5: routes[1].fallback.to: "legacy" is the only backend this route sends to: a fallback is another backend',
    ]);
  });
});
