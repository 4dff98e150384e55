/**
 * `switchyard diffs` as a person reads it (status first, causes folded, absent shown, rows cut
 * said, failures beside the match rate, latency per side, stored samples) and `switchyard
 * explain` giving the answer of a gateway that runs on Redis rules.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { runCli } from '../helpers/process.js';
import { TestRedis } from '../helpers/redis.js';
import { json, send, startServer, type TestServer } from '../helpers/servers.js';

/** Polls until `check` holds (beforeAll cannot use expect.poll). */
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const fifteen = (v: number) => Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`f${String(i).padStart(2, '0')}`, v]));

function backend(name: 'legacy' | 'pipeline') {
  return startServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    const p = name === 'pipeline';
    req.on('end', () => {
      const path = req.url!.split('?')[0];
      if (path === '/waf') {
        // A WAF rule missing on the pipeline: legacy refuses, the pipeline answers, 15 fields differ.
        res.writeHead(p ? 200 : 403, { 'content-type': 'application/json' });
        return res.end(JSON.stringify(fifteen(p ? 2 : 1)));
      }
      if (path === '/nosniff') {
        res.writeHead(200, { 'content-type': 'application/json', ...(p ? {} : { 'x-content-type-options': 'nosniff' }) });
        return res.end('{}');
      }
      if (path === '/fails' && p) return req.socket.destroy();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
  });
}

describe('switchyard diffs', () => {
  let legacy: TestServer;
  let pipeline: TestServer;
  let g: TestGateway;
  const config = () => join(g.dir, 'gateway.yaml');

  beforeAll(async () => {
    legacy = await backend('legacy');
    pipeline = await backend('pipeline');
    g = await startGateway({
      backends: { legacy: legacy.url, pipeline: pipeline.url },
      rules: `default: legacy
routes:
  - { name: waf, match: { path: "/waf" }, backend: legacy, shadow: {} }
  - { name: nosniff, match: { path: "/nosniff" }, backend: legacy, shadow: { compare: { headers: [x-content-type-options] } } }
  - { name: fails, match: { path: "/fails" }, backend: legacy, shadow: {} }
`,
      extra: 'shadow:\n  samples: { file: samples.jsonl }',
    });
    for (const path of ['/waf', '/waf', '/nosniff', '/fails']) expect((await send(g.url + path, { headers: { authorization: 'Bearer secret' } })).status).toBeLessThan(500);
    await until(async () => json<{ routes: { comparisons: number }[] }>(await send(`${g.admin}/diffs`)).routes.reduce((a, r) => a + r.comparisons, 0) === 4, '4 comparisons');
  });
  afterAll(async () => {
    await g.stop();
    await legacy.close();
    await pipeline.close();
  });

  it('never hides a status difference behind body fields, folds one cause, and says how many rows were cut', async () => {
    const r = await runCli(['diffs', '--admin', g.admin, '--route', 'waf']);
    expect(r.code).toBe(0);
    const rows = r.stdout.split('\n').filter((l) => /^\s+\d+ {2}\S/.test(l));
    expect(rows[0]).toMatch(/^\s+2 {2}status {4}e\.g\. GET \/waf: legacy=403 {2}pipeline=200$/);
    expect(r.stdout).toMatch(/\+ 9 more fields on the same requests \(one cause\): \/f00, /);
    expect(r.stdout).toMatch(/\.\.\. 6 more fields \(--limit N to list more\)/);
    expect(r.stdout).toMatch(/^route waf: 2 comparisons, match rate 0\.0%, shadow errors 0\.0%, timeouts 0\.0%$/m);
    expect(r.stdout).toMatch(/^ {2}latency p50\/p99: legacy \d+\/\d+ ms, pipeline \d+\/\d+ ms$/m);
  });

  it('shows a value missing on one side as absent there', async () => {
    const r = await runCli(['diffs', '--admin', g.admin, '--route', 'nosniff']);
    expect(r.stdout).toMatch(/header:x-content-type-options {4}e\.g\. GET \/nosniff: legacy="nosniff" {2}pipeline=absent$/m);
  });

  it('shows failed copies beside the match rate instead of "-"', async () => {
    const r = await runCli(['diffs', '--admin', g.admin, '--route', 'fails']);
    expect(r.stdout).toMatch(/^route fails: 1 comparisons, no answer compared \(1 of 1 copies failed\), shadow errors 100\.0%, timeouts 0\.0%$/m);
  });

  it('reads a window with --since and refuses a malformed one', async () => {
    const r = await runCli(['diffs', '--admin', g.admin, '--route', 'waf', '--since', '10m']);
    expect(r.stdout).toMatch(/^route waf since \S+: 2 comparisons/m);
    const bad = await runCli(['diffs', '--admin', g.admin, '--since', 'yesterday']);
    expect(bad.code).toBe(2);
  });

  it('prints stored samples with the request and both answers', async () => {
    const r = await runCli(['diffs', 'samples', '--config', config(), '--route', 'waf', '--field', 'status', '--limit', '1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ waf {2}GET \/waf {2}request /);
    expect(r.stdout).toMatch(/^ {2}> authorization: \[redacted\]$/m);
    expect(r.stdout).toMatch(/^ {4}status: legacy=403 {2}pipeline=200$/m);
    expect(r.stdout).toMatch(/^ {2}legacy: status 403$/m);
    expect(r.stdout).toMatch(/^ {2}pipeline: status 200$/m);
    expect(r.stdout.match(/^ {2}\w+: status/gm)).toHaveLength(2);
    const none = await runCli(['diffs', 'samples', '--config', config(), '--route', 'nosniff', '--field', '/nothing']);
    expect(none.stdout).toMatch(/^no stored samples of route nosniff with field \/nothing in /);
  });
});

describe('switchyard explain on Redis rules', () => {
  let redis: TestRedis;
  let legacy: TestServer;
  let pipeline: TestServer;
  let g: TestGateway;
  const cfg = () => join(g.dir, 'gateway.yaml');
  const REDIS_RULES = `default: legacy
routes:
  - name: api
    match: { path: "/api/**" }
    split: { legacy: 50, pipeline: 50 }
    sticky: header:x-user-id
    shadow: { percent: 50 }
  - name: dark
    match: { path: "/dark/**" }
    split: { legacy: 100, pipeline: 0 }
    sticky: header:x-user-id
`;

  beforeAll(async () => {
    redis = await TestRedis.start();
    legacy = await backend('legacy');
    pipeline = await backend('pipeline');
    g = await startGateway({
      backends: { legacy: legacy.url, pipeline: pipeline.url },
      // The file says everything goes to legacy: an explain that read it would be wrong.
      rules: 'default: legacy\nroutes: []\n',
      rulesBlock: (file) => `rules:\n  file: "${file}"\n  redis:\n    url: "${redis.url}"\n    prefix: "ex:"\n    poll_interval: 200ms`,
    });
    writeFileSync(join(g.dir, 'pushed.yaml'), REDIS_RULES);
    expect((await runCli(['rules', 'push', join(g.dir, 'pushed.yaml'), '--config', cfg()])).code).toBe(0);
    await until(async () => json<{ version: number }>(await send(`${g.admin}/readyz`)).version === 1, 'the gateway on version 1');
  });
  afterAll(async () => {
    await g.stop();
    await redis.stop();
    await legacy.close();
    await pipeline.close();
  });

  it("gives the backend the gateway chose, from the rules version the gateway runs", { timeout: 90_000 }, async () => {
    const seen = new Set<string>();
    for (const user of ['u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7', 'u8']) {
      const ex = JSON.parse((await runCli(['explain', '--config', cfg(), '--json', 'GET', '/api/items', '-H', `x-user-id: ${user}`])).stdout);
      expect(ex).toMatchObject({ rules: 'redis ex:', version: 1, route: 'api', placement: 'sticky' });
      const real = await send(`${g.url}/api/items`, { headers: { 'x-user-id': user } });
      expect(real.headers['x-switchyard-backend']).toBe(ex.backend);
      seen.add(ex.backend);
      expect(ex.shadow.target).toBe(ex.backend === 'legacy' ? 'pipeline' : 'legacy');
    }
    expect(seen.size).toBe(2); // the 8 users land on both sides: the comparison could fail
    const text = (await runCli(['explain', '--config', cfg(), 'GET', '/api/items', '-H', 'x-user-id: u1'])).stdout;
    expect(text).toMatch(/^rules: +redis ex: version 1$/m);
    expect(text).toMatch(/^shadow: +(copied to (legacy|pipeline); mismatches stored in redis stream ex:\{diffs\}:samples|not sampled \(shadow percent 50%\))$/m);
  });

  it('prints the sticky value, bucket and every range of a route at 0%', async () => {
    const ex = JSON.parse((await runCli(['explain', '--config', cfg(), '--json', 'GET', '/dark/x', '-H', 'x-user-id: u9'])).stdout);
    expect(ex).toMatchObject({ route: 'dark', sticky_value: 'u9', backend: 'legacy', shadow: null });
    expect(ex.bucket).toBeGreaterThanOrEqual(0);
    expect(ex.split).toEqual([
      { backend: 'legacy', from: 0, to: 9999, percent: 100 },
      { backend: 'pipeline', from: null, to: null, percent: 0 },
    ]);
  });

  it('previews a rules file with --rules', async () => {
    const ex = JSON.parse((await runCli(['explain', '--config', cfg(), '--rules', join(g.dir, 'rules.yaml'), '--json', 'GET', '/api/items'])).stdout);
    expect(ex).toMatchObject({ route: 'default', version: null });
    expect(ex.rules).toMatch(/^file .*rules\.yaml \(preview\)$/);
  });
});
