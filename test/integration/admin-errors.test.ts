import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminServer } from '../../src/admin/admin-server.js';
import { ERRORS, type ErrorDef } from '../../src/errors.js';
import { echoBackend, json, send, type Reply, type TestServer } from '../helpers/servers.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';

/** Every admin error body: the catalogue's status, `error`, `code` and `message`. */
function expectError(r: Reply, e: ErrorDef): Record<string, unknown> {
  expect(r.status).toBe(e.status);
  const body = json(r);
  expect(body).toMatchObject({ error: e.reason, code: e.code });
  expect(typeof body.message).toBe('string');
  return body;
}

describe('admin listener errors', () => {
  let legacy: TestServer;
  let g: TestGateway;
  const auth = { authorization: 'Bearer admin-secret' };

  beforeAll(async () => {
    legacy = await echoBackend('legacy');
    g = await startGateway({ backends: { legacy: legacy.url }, rules: 'default: legacy\n' });
  });
  afterAll(async () => {
    await g.stop();
    await legacy.close();
  });

  it('404 for an unknown endpoint', async () => {
    expectError(await send(g.admin + '/nope'), ERRORS.ADMIN_NOT_FOUND);
  });

  it('405 for a known endpoint and another method', async () => {
    expectError(await send(g.admin + '/metrics', { method: 'DELETE' }), ERRORS.ADMIN_METHOD_NOT_ALLOWED);
  });

  it('413 for a body over 1 MiB', async () => {
    expectError(await send(g.admin + '/rules', { method: 'PUT', body: Buffer.alloc(1024 * 1024 + 1, 'a'), headers: auth }), ERRORS.ADMIN_BODY_TOO_LARGE);
  });

  it('401 for PUT /rules without the token', async () => {
    expectError(await send(g.admin + '/rules', { method: 'PUT', body: 'default: legacy\n' }), ERRORS.ADMIN_UNAUTHORIZED);
  });

  it('409 for PUT /rules when rules come from a file', async () => {
    expectError(await send(g.admin + '/rules', { method: 'PUT', body: 'default: legacy\n', headers: auth }), ERRORS.RULES_NOT_IN_REDIS);
  });

  it('500 with SWY_ERR_INTERNAL when a handler throws, and the listener carries on', async () => {
    const admin = new AdminServer('');
    admin.route('GET', '/broken', () => {
      throw new Error('a bug in a handler');
    });
    admin.route('GET', '/fine', () => ({ status: 200, body: { ok: true } }));
    await admin.listen({ host: '127.0.0.1', port: 0 });
    try {
      const body = expectError(await send(`http://127.0.0.1:${admin.port}/broken`), ERRORS.INTERNAL);
      expect(body.cause).toBe('a bug in a handler');
      expect((await send(`http://127.0.0.1:${admin.port}/fine`)).status).toBe(200);
    } finally {
      await admin.close();
    }
  });
});
