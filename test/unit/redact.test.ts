/** Issue 11 item 9: which names are redacted in stored samples, and how a query string keeps its shape. */
import { describe, expect, it } from 'vitest';
import { compileRedaction, hideRedacted, nameMatcher, REDACTED, redactHeaders, redactQuery } from '../../src/shadow/redact.js';

const defaults = compileRedaction({ headers: [], query: [] });

describe('name patterns', () => {
  it('matches exact names and * globs, case-insensitively', () => {
    const m = nameMatcher(['authorization', '*token*', 'x-api-*', '*-sig', 'a*b*c']);
    for (const yes of ['authorization', 'Authorization', 'token', 'X-CSRF-Token', 'x-api-', 'x-api-key', 'request-sig', 'abc', 'a-b-c', 'aXbYbZc'])
      expect(m(yes), yes).toBe(true);
    for (const no of ['authorizations', 'x-auth', 'tokn', 'x-apikey', 'sig', 'request-sig2', 'ab', 'acb', 'a-c-b']) expect(m(no), no).toBe(false);
  });

  it('a glob does not let its middle part overlap its suffix', () => {
    expect(nameMatcher(['*ab*ba'])('aba')).toBe(false);
    expect(nameMatcher(['*ab*ba'])('abba')).toBe(true);
  });

  it('answers at once for a name of 100 kB (no backtracking)', () => {
    const m = nameMatcher(['*token*', '*secret*', '*key*', '*session*', '*password*']);
    const long = 'a'.repeat(100_000);
    const t0 = performance.now();
    expect(m(long)).toBe(false);
    expect(performance.now() - t0).toBeLessThan(50);
  });

  it('redacts the issue’s names by default, in headers and in the query alike', () => {
    for (const name of [
      'authorization',
      'proxy-authorization',
      'cookie',
      'set-cookie',
      'x-auth-token',
      'client_secret',
      'x-api-key',
      'PHPSESSID',
      'jsessionid',
      'x-session',
      'db_password',
    ])
      expect([name, defaults.header(name), defaults.query(name)]).toEqual([name, true, true]);
    for (const name of ['content-type', 'accept', 'x-request-id', 'page', 'q', 'user'])
      expect([name, defaults.header(name), defaults.query(name)]).toEqual([name, false, false]);
    expect(defaults.header('x-switchyard-token')).toBe(true);
  });

  it('adds configured names to the defaults, which stay on', () => {
    const r = compileRedaction({ headers: ['x-customer-*'], query: ['sig'] });
    expect(r.header('x-customer-id')).toBe(true);
    expect(r.header('authorization')).toBe(true);
    expect(r.query('sig')).toBe(true);
    expect(r.query('access_token')).toBe(true);
    // Each list is its own: a query name added is not a header name.
    expect(r.header('sig')).toBe(false);
    expect(r.query('x-customer-id')).toBe(false);
  });
});

describe('redactQuery', () => {
  it('replaces matching values and keeps everything else as sent', () => {
    expect(redactQuery('q=a%20b&access_token=xyz&page=2&empty=&flag', defaults)).toBe(`q=a%20b&access_token=${REDACTED}&page=2&empty=&flag`);
    expect(redactQuery('', defaults)).toBe('');
  });

  it('matches a percent-encoded or plus-encoded name by what it decodes to', () => {
    expect(redactQuery('%74oken=1&api%5Fkey=2&my+password=3', defaults)).toBe(`%74oken=${REDACTED}&api%5Fkey=${REDACTED}&my+password=${REDACTED}`);
    // A stray "%" is matched as sent.
    expect(redactQuery('token%=1&x%=2', defaults)).toBe(`token%=${REDACTED}&x%=2`);
  });

  it('redacts every occurrence of a repeated parameter', () => {
    expect(redactQuery('key=1&key=2', defaults)).toBe(`key=${REDACTED}&key=${REDACTED}`);
  });
});

describe('redactHeaders and header diffs', () => {
  it('replaces the whole value, list or not', () => {
    expect(redactHeaders({ 'set-cookie': ['a=1', 'b=2'], 'x-api-key': 'k', accept: '*/*', gone: undefined }, defaults)).toEqual({
      'set-cookie': REDACTED,
      'x-api-key': REDACTED,
      accept: '*/*',
    });
  });

  it('hides the values of a redacted header diff and of a redacted JSON path, not whether a side lacks it', () => {
    expect(hideRedacted({ field: 'header:set-cookie', kind: 'changed', a: 'a=1', b: 'a=2' }, [], defaults)).toEqual({
      field: 'header:set-cookie',
      kind: 'changed',
      a: REDACTED,
      b: REDACTED,
    });
    expect(hideRedacted({ field: 'header:x-api-key', kind: 'added', b: 'k' }, [], defaults)).toEqual({
      field: 'header:x-api-key',
      kind: 'added',
      a: undefined,
      b: REDACTED,
    });
    expect(hideRedacted({ field: 'header:content-type', kind: 'changed', a: 'a', b: 'b' }, [], defaults)).toMatchObject({ a: 'a', b: 'b' });
    expect(hideRedacted({ field: '/user/token', kind: 'changed', a: 1, b: 2 }, [['user', 'token']], defaults)).toMatchObject({ a: REDACTED, b: REDACTED });
    // A JSON field is matched by redact_json only: "/token" is a body field, not a header.
    expect(hideRedacted({ field: '/token', kind: 'changed', a: 1, b: 2 }, [], defaults)).toMatchObject({ a: 1, b: 2 });
  });
});
