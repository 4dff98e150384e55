import { type AddressInfo, connect, createServer } from 'node:net';
import { errors, request } from 'undici';
import { describe, expect, it } from 'vitest';
import { classifyUpstreamError, ERRORS, type ErrorDef, errorOf } from '../../src/errors.js';

const withCode = (code: string) => Object.assign(new Error(code), { code });

describe('upstream error classification', () => {
  // Every branch, and the status each answer gets (502 for a failed backend, 504 for a slow one).
  it.each<[string, ErrorDef, number]>([
    ['ECONNREFUSED', ERRORS.UPSTREAM_REFUSED, 502],
    ['ENOTFOUND', ERRORS.UPSTREAM_REFUSED, 502],
    ['EAI_AGAIN', ERRORS.UPSTREAM_REFUSED, 502],
    ['EHOSTUNREACH', ERRORS.UPSTREAM_REFUSED, 502],
    ['ENETUNREACH', ERRORS.UPSTREAM_REFUSED, 502],
    ['ECONNRESET', ERRORS.UPSTREAM_RESET, 502],
    ['EPIPE', ERRORS.UPSTREAM_RESET, 502],
    ['UND_ERR_SOCKET', ERRORS.UPSTREAM_RESET, 502],
    ['UND_ERR_CLOSED', ERRORS.UPSTREAM_RESET, 502],
    ['UND_ERR_CONNECT_TIMEOUT', ERRORS.UPSTREAM_CONNECT_TIMEOUT, 504],
    ['ETIMEDOUT', ERRORS.UPSTREAM_CONNECT_TIMEOUT, 504],
    ['UND_ERR_HEADERS_TIMEOUT', ERRORS.UPSTREAM_RESPONSE_TIMEOUT, 504],
    ['UND_ERR_BODY_TIMEOUT', ERRORS.UPSTREAM_RESPONSE_TIMEOUT, 504],
    ['UND_ERR_ABORTED', ERRORS.CLIENT_ABORTED, 499],
    ['ABORT_ERR', ERRORS.CLIENT_ABORTED, 499],
    ['HPE_INVALID_CONSTANT', ERRORS.UPSTREAM_BAD_RESPONSE, 502],
    ['HPE_INVALID_STATUS', ERRORS.UPSTREAM_BAD_RESPONSE, 502],
    ['HPE_INVALID_HEADER_TOKEN', ERRORS.UPSTREAM_BAD_RESPONSE, 502],
    ['UND_ERR_INFO', ERRORS.UPSTREAM_BAD_RESPONSE, 502],
    ['UND_ERR_RES_CONTENT_LENGTH_MISMATCH', ERRORS.UPSTREAM_BAD_RESPONSE, 502],
    ['UND_ERR_RES_EXCEEDED_MAX_SIZE', ERRORS.UPSTREAM_BAD_RESPONSE, 502],
    ['UND_ERR_DESTROYED', ERRORS.UPSTREAM_FAILED, 502],
    ['EWHATEVER', ERRORS.UPSTREAM_FAILED, 502],
  ])('maps %s to its catalogue entry', (code, def, status) => {
    const e = classifyUpstreamError(withCode(code));
    expect(e).toBe(def);
    expect(e.status).toBe(status);
  });

  it("maps an error raised with an upstream or client entry's own code (the gateway's client, the forwarder) to that entry, and no other", () => {
    const own = Object.entries(ERRORS).filter(([name]) => name.startsWith('UPSTREAM_') || name.startsWith('CLIENT_'));
    expect(own.length).toBeGreaterThan(10);
    for (const [, def] of own) expect(classifyUpstreamError(errorOf(def))).toBe(def);
    // A shadow's own timeout is not the backend's error: the shadow step reads it itself.
    expect(classifyUpstreamError(errorOf(ERRORS.SHADOW_TIMEOUT))).toBe(ERRORS.UPSTREAM_FAILED);
  });

  it('maps anything without a code to "the request to the backend failed", never throws', () => {
    for (const thing of [new Error('no code'), null, undefined, 'a string', 42, {}, { code: 7 }])
      expect(classifyUpstreamError(thing)).toBe(ERRORS.UPSTREAM_FAILED);
  });

  // The codes above are strings: check them against the errors undici really raises.
  it.each<[string, Error, ErrorDef]>([
    ['ConnectTimeoutError', new errors.ConnectTimeoutError(), ERRORS.UPSTREAM_CONNECT_TIMEOUT],
    ['HeadersTimeoutError', new errors.HeadersTimeoutError(), ERRORS.UPSTREAM_RESPONSE_TIMEOUT],
    ['BodyTimeoutError', new errors.BodyTimeoutError(), ERRORS.UPSTREAM_RESPONSE_TIMEOUT],
    ['SocketError', new errors.SocketError('other side closed'), ERRORS.UPSTREAM_RESET],
    ['ClientClosedError', new errors.ClientClosedError(), ERRORS.UPSTREAM_RESET],
    ['RequestAbortedError', new errors.RequestAbortedError(), ERRORS.CLIENT_ABORTED],
    ['InformationalError', new errors.InformationalError('bad'), ERRORS.UPSTREAM_BAD_RESPONSE],
    ['ResponseContentLengthMismatchError', new errors.ResponseContentLengthMismatchError(), ERRORS.UPSTREAM_BAD_RESPONSE],
    ['ResponseExceededMaxSizeError', new errors.ResponseExceededMaxSizeError(), ERRORS.UPSTREAM_BAD_RESPONSE],
  ])("maps undici's %s", (_name, err, def) => {
    expect(classifyUpstreamError(err)).toBe(def);
  });

  it('maps a real response that is not HTTP (undici gives its parser error no code) to 502 bad_response', async () => {
    const server = createServer((c) => c.once('data', () => c.end('HTTP/1.1 abc OK\r\n\r\n')));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const err = await request(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err).toBeInstanceOf(errors.HTTPParserError);
      expect(classifyUpstreamError(err)).toBe(ERRORS.UPSTREAM_BAD_RESPONSE);
    } finally {
      server.close();
    }
  });

  it('maps a real refused connection to 502 refused', async () => {
    // A port that refuses: bind, note, close.
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    await new Promise((r) => server.close(r));
    const err = await new Promise<Error>((resolve) => connect(port, '127.0.0.1').on('error', resolve));
    expect(classifyUpstreamError(err)).toBe(ERRORS.UPSTREAM_REFUSED);
  });
});
