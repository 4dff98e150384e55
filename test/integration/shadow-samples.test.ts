/**
 * Issue 11 item 9: what stored mismatch samples may hold and where they go. Credentials in
 * headers and in the query are redacted by default (and names a gateway.yaml adds), on both
 * sides and in header diffs; the files are the owner's only; and a sink that fails (a full
 * disk: /dev/full; a Redis key XADD refuses) counts what it drops, logs once, and stores again
 * as soon as it can. Real gateways, a real redis-server, the real filesystem.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/logger.js';
import { RuleStore } from '../../src/store/rule-store.js';
import { adminAuth, startGateway, type TestGateway } from '../helpers/gateway.js';
import { metric } from '../helpers/metrics.js';
import { TestRedis } from '../helpers/redis.js';
import { json, send, startServer, type TestServer } from '../helpers/servers.js';

/** Each side answers with its own secrets in headers and body: every request is a mismatch. */
const side = (name: 'legacy' | 'pipeline') =>
  startServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    res.writeHead(200, {
      'content-type': 'application/json',
      'set-cookie': `sid=${name}-cookie-secret`,
      'x-api-key': `${name}-api-key-secret`,
      'x-build': name,
    });
    res.end(JSON.stringify({ served_by: name }));
  });

const RULES = `default: legacy
routes:
  - name: diff
    match: { path: "/diff" }
    backend: legacy
    shadow: { compare: { headers: [set-cookie, x-api-key, x-build] } }
`;

/** A logger whose JSON lines the test reads. */
function capturedLogger() {
  let text = '';
  const logger = createLogger(
    'info',
    new Writable({
      write(c, _e, cb) {
        text += c.toString();
        cb();
      },
    }),
  );
  const lines = (msg: string) =>
    text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.msg === msg);
  return { logger, lines };
}

const mode = (file: string) => statSync(file).mode & 0o777;

/** The parts of a stored sample these tests read. */
interface Sample {
  query: string;
  request_headers: Record<string, unknown>;
  diffs: unknown[];
  legacy: { headers: Record<string, unknown> };
  pipeline: { headers: Record<string, unknown> };
}

describe('stored samples: redaction by default, owner-only files', () => {
  let legacy: TestServer;
  let pipeline: TestServer;
  let g: TestGateway;
  const file = () => join(g.dir, 'samples', 'diff.jsonl');
  const samples = () =>
    (existsSync(file()) ? readFileSync(file(), 'utf8') : '')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Sample);

  beforeAll(async () => {
    legacy = await side('legacy');
    pipeline = await side('pipeline');
    g = await startGateway({
      backends: { legacy: legacy.url, pipeline: pipeline.url },
      rules: RULES,
      // A directory the sink creates; max_bytes small enough that the second sample rotates.
      extra: 'shadow:\n  samples: { file: samples/diff.jsonl, max_bytes: 100 }\n  redact:\n    headers: ["x-customer-*"]\n    query: [sig]',
    });
  });
  afterAll(async () => {
    await g.stop();
    await legacy.close();
    await pipeline.close();
  });

  it('replaces credentials in request headers, both sides’ headers, header diffs and the query', async () => {
    const r = await send(g.url + '/diff?q=shoes&access_token=tok-secret&SIG=sig-secret&Api%5FKey=key-secret&page=2', {
      headers: {
        authorization: 'Bearer auth-secret',
        cookie: 'sid=cookie-secret',
        'x-session-id': 'session-secret',
        'x-db-password': 'password-secret',
        'x-customer-id': 'customer-secret',
        'x-request-id': 'redact-1',
        'x-visible': 'shown',
      },
    });
    expect(r.status).toBe(200);
    await expect.poll(() => samples().length).toBe(1);
    const text = readFileSync(file(), 'utf8');
    expect(text).not.toMatch(/secret/);
    const s = samples()[0]!;
    expect(s.query).toBe('q=shoes&access_token=[redacted]&SIG=[redacted]&Api%5FKey=[redacted]&page=2');
    expect(s.request_headers).toMatchObject({
      authorization: '[redacted]',
      cookie: '[redacted]',
      'x-session-id': '[redacted]',
      'x-db-password': '[redacted]',
      'x-customer-id': '[redacted]',
      'x-visible': 'shown',
    });
    for (const name of ['legacy', 'pipeline'] as const) {
      expect(s[name].headers).toMatchObject({ 'set-cookie': '[redacted]', 'x-api-key': '[redacted]', 'x-build': name });
    }
    // The header diffs are still there (compared and counted), without their values.
    expect(s.diffs).toEqual(
      expect.arrayContaining([
        { field: 'header:set-cookie', kind: 'changed', a: '[redacted]', b: '[redacted]' },
        { field: 'header:x-api-key', kind: 'changed', a: '[redacted]', b: '[redacted]' },
        { field: 'header:x-build', kind: 'changed', a: 'legacy', b: 'pipeline' },
      ]),
    );
    // And so in the report GET /diffs serves.
    const report = json<{ routes: { top_fields: { field: string; sample: { values: Record<string, unknown> } }[] }[] }>(
      await send(`${g.admin}/diffs?route=diff`, { headers: adminAuth }),
    ).routes[0]!;
    expect(report.top_fields.find((f) => f.field === 'header:set-cookie')!.sample.values).toEqual({ legacy: '[redacted]', pipeline: '[redacted]' });
    expect(JSON.stringify(report)).not.toMatch(/secret/);
  });

  it('writes the samples file and its rotation 0600, in a directory it creates 0700', async () => {
    await send(g.url + '/diff');
    await expect.poll(() => existsSync(file() + '.1') && samples().length === 1).toBe(true);
    expect(mode(join(g.dir, 'samples'))).toBe(0o700);
    expect(mode(file())).toBe(0o600);
    expect(mode(file() + '.1')).toBe(0o600);
  });
});

describe('stored samples: a file sink that fails recovers', () => {
  let legacy: TestServer;
  let pipeline: TestServer;
  let g: TestGateway;
  const log = capturedLogger();
  const dropped = () => metric(g.admin, 'switchyard_shadow_samples_dropped_total', { reason: 'write_failed' });

  beforeAll(async () => {
    legacy = await side('legacy');
    pipeline = await side('pipeline');
    g = await startGateway({
      backends: { legacy: legacy.url, pipeline: pipeline.url },
      rules: RULES,
      extra: 'shadow:\n  samples: { file: full/diff.jsonl }',
      options: { logger: log.logger },
    });
    // A full disk, for real: every write to /dev/full fails with ENOSPC.
    mkdirSync(join(g.dir, 'full'), { recursive: true });
    symlinkSync('/dev/full', join(g.dir, 'full', 'diff.jsonl'));
  });
  afterAll(async () => {
    await g.stop();
    await legacy.close();
    await pipeline.close();
  });

  it('counts the samples it drops, logs the episode once, and writes again once it can', async () => {
    const file = join(g.dir, 'full', 'diff.jsonl');
    await send(g.url + '/diff');
    await expect.poll(dropped).toBe(1);
    // Still failing: the next sample opens the file again, fails again, and is counted.
    await send(g.url + '/diff');
    await expect.poll(dropped).toBe(2);
    expect(log.lines('diff samples cannot be stored; dropping them until one is')).toEqual([
      expect.objectContaining({ file, reason: 'write_failed', err: expect.stringMatching(/ENOSPC/) }),
    ]);
    // Space again: the link goes, the sink creates the file on the next sample.
    rmSync(file);
    await send(g.url + '/diff', { headers: { 'x-request-id': 'after-full' } });
    await expect.poll(() => existsSync(file) && readFileSync(file, 'utf8')).toMatch(/"request_id":"after-full"/);
    expect(statSync(file).isFile()).toBe(true);
    expect(mode(file)).toBe(0o600);
    // The write's callback, which logs, runs just after the line is in the file.
    await expect.poll(() => log.lines('diff samples stored again')).toEqual([expect.objectContaining({ file, dropped: 2 })]);
    expect(await dropped()).toBe(2);
  });
});

describe('stored samples: the Redis stream sink counts a failed XADD', () => {
  let redis: TestRedis;
  let legacy: TestServer;
  let pipeline: TestServer;
  let g: TestGateway;
  const key = 'smp:{diffs}:samples';

  beforeAll(async () => {
    redis = await TestRedis.start();
    legacy = await side('legacy');
    pipeline = await side('pipeline');
    const client = redis.client();
    await new RuleStore(client, 'smp:').push(RULES, { author: 'test', message: '' });
    client.disconnect();
    g = await startGateway({
      backends: { legacy: legacy.url, pipeline: pipeline.url },
      rules: 'default: legacy\n',
      rulesBlock: (rulesFile) => `rules:\n  file: "${rulesFile}"\n  redis:\n    ${redis.connectionYaml}\n    prefix: "smp:"`,
    });
  });
  afterAll(async () => {
    await g.stop();
    await legacy.close();
    await pipeline.close();
    await redis.stop();
  });

  it('drops and counts samples while XADD fails, and stores them again after', async () => {
    const client = redis.client();
    try {
      // The key holds a string: XADD answers WRONGTYPE, a failure Redis itself reports.
      await client.set(key, 'not a stream');
      const dropped = () => metric(g.admin, 'switchyard_shadow_samples_dropped_total', { reason: 'xadd_failed' });
      await expect.poll(async () => (await send(g.url + '/diff'), await dropped())).toBeGreaterThan(0);
      expect(await client.get(key)).toBe('not a stream');
      await client.del(key);
      await expect.poll(async () => (await send(g.url + '/diff?token=tok-secret'), await client.xlen(key))).toBeGreaterThan(0);
      const [, fields] = (await client.xrange(key, '-', '+', 'COUNT', 1))[0]!;
      const sample = JSON.parse(fields[1]!);
      expect(sample).toMatchObject({ route: 'diff', query: 'token=[redacted]' });
      expect(sample.legacy.headers['set-cookie']).toBe('[redacted]');
    } finally {
      client.disconnect();
    }
  });
});
