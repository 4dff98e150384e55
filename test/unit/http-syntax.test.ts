import { describe, expect, it } from 'vitest';
import { headerKey, INVALID_VALUE, TOKEN } from '../../src/util/http-syntax.js';

describe('http syntax', () => {
  it('lower-cases a header name that is a token, and refuses one that is not', () => {
    expect(headerKey('Content-Type')).toBe('content-type');
    expect(headerKey('content-type')).toBe('content-type');
    expect(headerKey("x-!#$%&'*+.^_`|~")).toBe("x-!#$%&'*+.^_`|~");
    for (const bad of ['', 'Bad Header', 'x:y', 'x\r\ny', ' x', 'x(y)', 'caf\xe9']) expect(headerKey(bad)).toBeUndefined();
  });

  it('answers the same for a name met before, and keeps answering past the names it keeps', () => {
    expect(headerKey('X-Seen-Twice')).toBe('x-seen-twice');
    expect(headerKey('X-Seen-Twice')).toBe('x-seen-twice');
    // More distinct names than the cache keeps (a peer whose names never repeat): each is still
    // checked and lower-cased, and an invalid one is still refused.
    for (let i = 0; i < 3000; i++) expect(headerKey(`X-Unique-${i}`)).toBe(`x-unique-${i}`);
    expect(headerKey('Not A Token')).toBeUndefined();
    expect(headerKey('X-Seen-Twice')).toBe('x-seen-twice');
  });

  it('matches tokens and finds what a value may not hold', () => {
    expect(TOKEN.test('GET')).toBe(true);
    expect(TOKEN.test('G ET')).toBe(false);
    expect(INVALID_VALUE.test('text/html; q=0.9\tcaf\xe9')).toBe(false);
    for (const bad of ['a\rb', 'a\nb', 'a\x00b', 'a\x7fb']) expect(INVALID_VALUE.test(bad)).toBe(true);
  });
});
