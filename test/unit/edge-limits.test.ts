import { describe, expect, it } from 'vitest';
import { ERRORS } from '../../src/errors.js';
import { EDGE_MAX_HEAD_BYTES, EDGE_MAX_LINE_BYTES, headSizeError, isDroppedHeaderName } from '../../src/products/edge-limits.js';

/** rawHeaders with one line of exactly `bytes` bytes ("Name: value\r\n"). */
const lineOf = (name: string, bytes: number) => [name, 'v'.repeat(bytes - name.length - 4)];

describe('the edge head limits', () => {
  it('counts the request line with its method, version and CRLF', () => {
    const target = (bytes: number) => `/${'t'.repeat(bytes - 'GET / HTTP/1.1\r\n'.length)}`;
    expect(headSizeError('GET', target(EDGE_MAX_LINE_BYTES), [])).toBeUndefined();
    expect(headSizeError('GET', target(EDGE_MAX_LINE_BYTES + 1), [])).toBe(ERRORS.CLIENT_URI_TOO_LONG);
    // A longer method leaves less room for the target.
    expect(headSizeError('OPTIONS', target(EDGE_MAX_LINE_BYTES), [])).toBe(ERRORS.CLIENT_URI_TOO_LONG);
  });

  it('counts each header line as "Name: value" and CRLF', () => {
    expect(headSizeError('GET', '/', lineOf('X-Big', EDGE_MAX_LINE_BYTES))).toBeUndefined();
    expect(headSizeError('GET', '/', lineOf('X-Big', EDGE_MAX_LINE_BYTES + 1))).toBe(ERRORS.CLIENT_HEADERS_TOO_LARGE);
  });

  it('counts the whole head, the empty line included', () => {
    // "GET / HTTP/1.1\r\n" (16) + the empty line (2) + four lines of 8000 + one of the rest.
    const rest = EDGE_MAX_HEAD_BYTES - 18 - 4 * 8000;
    const lines = (last: number) => [...lineOf('A', 8000), ...lineOf('B', 8000), ...lineOf('C', 8000), ...lineOf('D', 8000), ...lineOf('E', last)];
    expect(headSizeError('GET', '/', lines(rest))).toBeUndefined();
    expect(headSizeError('GET', '/', lines(rest + 1))).toBe(ERRORS.CLIENT_HEADERS_TOO_LARGE);
  });

  it('counts an HTTP/2 :authority as the Host line and other pseudo-headers as the request line', () => {
    const host = 'h'.repeat(EDGE_MAX_LINE_BYTES - 'Host: \r\n'.length);
    expect(headSizeError('GET', '/', [':method', 'GET', ':path', '/', ':authority', host])).toBeUndefined();
    expect(headSizeError('GET', '/', [':method', 'GET', ':path', '/', ':authority', `${host}h`])).toBe(ERRORS.CLIENT_HEADERS_TOO_LARGE);
  });

  it('drops names nginx ignores: anything but letters, digits and "-"', () => {
    for (const kept of ['X-Forwarded-For', 'x-h0', 'Accept', '0-9']) expect(isDroppedHeaderName(kept), kept).toBe(false);
    for (const dropped of ['X_Forwarded_For', 'x.y', 'x~y', "x'y", 'x|y']) expect(isDroppedHeaderName(dropped), dropped).toBe(true);
  });
});
