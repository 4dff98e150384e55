/**
 * `npm run demo [-- --duration SECONDS] [--base-port N] [--exit] [--rollout clean|bad]`: the first five minutes.
 *
 * Starts the demo origin, the legacy layer (nginx + Lua), and the gateway with the new pipeline
 * in-process, on rules that split and shadow (config/rules.yaml: in Redis when one answers at
 * SWITCHYARD_REDIS_URL or 127.0.0.1:6379, under the prefix "switchyard-demo:", otherwise from the
 * file); drives a minute of mixed traffic with a progress bar; prints the diff report and where
 * to look next. Ctrl-C stops everything it started (--exit stops right after the report).
 *
 * `--rollout clean|bad` (needs Redis) adds a fast rollout to the catalog route (docs/rollouts.md)
 * and drives traffic until it is complete or rolled back, then prints how long that took. With
 * `bad`, the pipeline's origin is reached through a proxy that changes the price in one catalog
 * item of four, from the first request on.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { parseDocument, type YAMLMap, type YAMLSeq } from 'yaml';
import { Writable } from 'node:stream';
import { parseGatewayConfig } from '../dist/config/gateway-config.js';
import { Gateway } from '../dist/gateway/gateway.js';
import { LegacyLayer } from '../dist/legacy/legacy-layer.js';
import { createLogger } from '../dist/log/logger.js';
import { loadProducts } from '../dist/products/products-config.js';
import type { RouteReport } from '../dist/shadow/report.js';
import { RuleStore } from '../dist/store/rule-store.js';
import { startDemoOrigin } from './demo-origin.js';

const ROOT = resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    duration: { type: 'string' },
    'base-port': { type: 'string', default: '8080' },
    exit: { type: 'boolean', default: false },
    rollout: { type: 'string' },
  },
});
const rollout = values.rollout as 'clean' | 'bad' | undefined;
if (rollout !== undefined && rollout !== 'clean' && rollout !== 'bad') {
  process.stderr.write('--rollout expects clean or bad\n');
  process.exit(2);
}
const seconds = Math.max(1, Number(values.duration) || (rollout ? 180 : 60));
const base = Number(values['base-port']);
const ports = { gateway: base, legacy: base + 1, admin: base + 10, origin: base + 920 };
const dir = join(ROOT, '.switchyard', 'demo');
mkdirSync(dir, { recursive: true });
const say = (s: string) => process.stderr.write(s + '\n');

/** config/rules.yaml, with a rollout on the catalog route when asked for. */
function demoRules(): string {
  const text = readFileSync(join(ROOT, 'config', 'rules.yaml'), 'utf8');
  if (!rollout) return text;
  const doc = parseDocument(text);
  const routes = doc.get('routes') as YAMLSeq<YAMLMap>;
  const i = routes.items.findIndex((r) => r.get('name') === 'catalog');
  doc.setIn(
    ['routes', i, 'rollout'],
    doc.createNode({
      to: 'pipeline',
      steps: [30, 60, 100],
      interval: '5s',
      min_requests: 20,
      min_comparisons: 60,
      gates: { mismatch_rate: '5%', error_rate: '1%', p99_ratio: 5 },
      on_breach: 'rollback',
    }),
  );
  return doc.toString();
}

/** A proxy to the origin that changes the price of one catalog item in four (the "bad" candidate). */
async function driftingProxy(originUrl: string, onFirstBad: () => void) {
  const { createServer, request: httpRequest } = await import('node:http');
  let n = 0;
  const server = createServer((req, res) => {
    const up = httpRequest(new URL(req.url ?? '/', originUrl), { method: req.method, headers: req.headers }, (ur) => {
      const chunks: Buffer[] = [];
      ur.on('data', (c: Buffer) => chunks.push(c));
      ur.on('end', () => {
        let body = Buffer.concat(chunks);
        if (/^\/api\/catalog\/\d+$/.test(req.url ?? '') && ur.statusCode === 200 && ++n % 4 === 0) {
          const item = JSON.parse(body.toString()) as { price: number };
          item.price = Math.round((item.price + 0.01) * 100) / 100;
          body = Buffer.from(JSON.stringify(item));
          if (n === 4) onFirstBad();
        }
        const headers = { ...ur.headers, 'content-length': String(body.length) };
        delete headers['transfer-encoding'];
        res.writeHead(ur.statusCode ?? 502, headers);
        res.end(body);
      });
    });
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

async function redisIfReachable(): Promise<string | undefined> {
  const url = process.env.SWITCHYARD_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const c = new Redis(url, { lazyConnect: true, connectTimeout: 500, maxRetriesPerRequest: 0, retryStrategy: () => null });
  c.on('error', () => undefined);
  try {
    await c.connect();
    await c.ping();
    const store = new RuleStore(c, 'switchyard-demo:');
    // Each demo run starts its rollout afresh, whatever an earlier run left in this prefix.
    await c.del('switchyard-demo:{rules}:rollout:state');
    await store.push(demoRules(), { author: 'demo', message: rollout ? `npm run demo -- --rollout ${rollout}` : 'npm run demo' });
    return url;
  } catch {
    return undefined;
  } finally {
    c.disconnect();
  }
}

const MIX = [
  (i: number) => ({ path: `/api/catalog/${(i % 24) + 1}`, headers: { 'x-user-id': `user-${i % 97}` } }),
  (i: number) => ({ path: '/api/catalog?limit=5', headers: { 'x-user-id': `user-${i % 89}` } }),
  (i: number) => ({ path: `/api/search?q=${['gad', 'wid', 'giz', 'spr'][i % 4]}`, headers: { cookie: `session=s${i % 50}` } }),
  () => ({ path: '/api/volatile', headers: {} }),
  (i: number) => ({ path: `/catalog/${(i % 24) + 1}`, headers: {} }),
  (i: number) => ({ path: '/static/../etc/passwd', headers: { 'x-user-id': `user-${i}` } }),
];

function bar(done: number, total: number, width = 30): string {
  const n = Math.round((done / total) * width);
  return `[${'#'.repeat(n)}${'.'.repeat(width - n)}]`;
}

async function main(): Promise<void> {
  const stoppers: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const s of stoppers.reverse()) await s().catch(() => undefined);
  };
  process.once('SIGINT', () => void stopAll().then(() => process.exit(0)));
  process.once('SIGTERM', () => void stopAll().then(() => process.exit(0)));
  try {
    const origin = await startDemoOrigin(ports.origin);
    stoppers.push(origin.close);
    say(`origin        ${origin.url}  (scripts/demo-origin.ts)`);

    // config/products.yaml, pointed at this origin, with a rate limit the demo traffic stays under.
    const productsFile = join(dir, 'products.yaml');
    writeFileSync(
      productsFile,
      readFileSync(join(ROOT, 'config', 'products.yaml'), 'utf8')
        .replace(/url: "http:\/\/127\.0\.0\.1:\d+"/, `url: "${origin.url}"`)
        .replace(/rate: \d+/, 'rate: 100000')
        .replace(/burst: \d+/, 'burst: 100000'),
    );
    const demoProducts = loadProducts(productsFile);
    let legacy: LegacyLayer;
    try {
      legacy = await LegacyLayer.start({ products: demoProducts, listen: { host: '127.0.0.1', port: ports.legacy }, prefix: join(dir, 'legacy') }, ROOT);
    } catch (err) {
      say(`the legacy layer needs nginx with the Lua module: ${(err as Error).message}`);
      say('install it with: sudo apt-get install -y nginx-light libnginx-mod-http-lua lua-cjson (npm test does this when it can)');
      throw err;
    }
    stoppers.push(() => legacy.stop());
    say(`legacy layer  ${legacy.url}  (nginx + Lua, config/products.yaml)`);

    // The pipeline's own products file: the same origin, or the drifting proxy for a bad rollout.
    let firstBad: number | undefined;
    let pipelineProducts = productsFile;
    if (rollout === 'bad') {
      const proxy = await driftingProxy(origin.url, () => (firstBad = Date.now()));
      stoppers.push(proxy.close);
      pipelineProducts = join(dir, 'products-pipeline.yaml');
      writeFileSync(pipelineProducts, readFileSync(productsFile, 'utf8').replace(origin.url, proxy.url));
      say(`drifting     ${proxy.url}  (the pipeline's origin: one catalog price in four changed)`);
    }

    const redis = await redisIfReachable();
    if (rollout && !redis) throw new Error('--rollout needs Redis: start one and set SWITCHYARD_REDIS_URL');
    // /diffs (request samples) needs the admin token; `switchyard diffs --config` reads it from here.
    const adminToken = randomBytes(16).toString('hex');
    const yaml = `listen: "127.0.0.1:${ports.gateway}"
admin: { listen: "127.0.0.1:${ports.admin}", token: "${adminToken}" }
backends:
  legacy: { url: "${legacy.url}" }
  pipeline: { inprocess: true, products: "${pipelineProducts}" }
rules:
  file: "${join(ROOT, 'config', 'rules.yaml')}"
${redis ? `  redis: { url: "${redis}", prefix: "switchyard-demo:", snapshot: "${join(dir, 'rules-snapshot.json')}" }` : ''}
shadow:
  samples: { file: "${join(dir, 'diff-samples.jsonl')}" }
log: { level: warn, access: false }
debug_headers: true
${rollout ? 'rollouts: { tick: 250ms, lease: 2s, bucket: 1s, flush: 250ms }' : ''}
`;
    const configFile = join(dir, 'gateway.yaml');
    writeFileSync(configFile, yaml);
    const quiet = createLogger('warn', new Writable({ write: (_c, _e, cb) => cb() }));
    const gw = await Gateway.start(parseGatewayConfig(yaml, configFile, process.env), { logger: quiet });
    stoppers.push(() => gw.stop(1000));
    const gatewayStarted = Date.now();
    say(`gateway       http://127.0.0.1:${gw.port}  admin http://127.0.0.1:${gw.adminPort}  rules from ${redis ? `Redis (${redis}, prefix switchyard-demo:)` : 'config/rules.yaml'}`);
    say('');

    // A minute of mixed traffic, about 40 requests per second (under the products' rate limit).
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    const counts = new Map<string, number>();
    let sent = 0;
    const started = Date.now();
    const end = started + seconds * 1000;
    let rolloutState = '';
    let rolloutPercent = 0;
    let rolloutDone: number | undefined;
    let lastPoll = 0;
    while (Date.now() < end && rolloutDone === undefined) {
      const batch = MIX.map((f, k) => f(sent + k));
      await Promise.all(
        batch.map(
          (r) =>
            new Promise<void>((done) => {
              const req = request({ host: '127.0.0.1', port: gw.port, path: r.path, headers: r.headers, agent }, (res) => {
                const b = String(res.headers['x-switchyard-backend'] ?? res.statusCode);
                counts.set(b, (counts.get(b) ?? 0) + 1);
                res.resume();
                res.on('end', done);
              });
              req.on('error', () => done());
              req.end();
            }),
        ),
      );
      sent += batch.length;
      const elapsed = (Date.now() - started) / 1000;
      const shares = [...counts.entries()].map(([k, v]) => `${k} ${Math.round((v / sent) * 100)}%`).join('  ');
      if (rollout && Date.now() - lastPoll > 200) {
        lastPoll = Date.now();
        const st = await getJson<{ rollouts: { state: string; percent: number }[] }>(gw.adminPort, '/rollouts?route=catalog').catch(() => undefined);
        const r = st?.rollouts?.[0];
        if (r) {
          rolloutState = r.state;
          rolloutPercent = r.percent;
          if (r.state === 'complete' || r.state === 'rolled_back') rolloutDone = Date.now();
        }
      }
      const ro = rollout ? `  rollout catalog: ${rolloutState} pipeline ${rolloutPercent}%` : '';
      process.stderr.write(`\r${bar(Math.min(elapsed, seconds), seconds)} ${Math.min(seconds, Math.round(elapsed))}/${seconds}s  ${sent} requests  ${shares}${ro}   `);
      await new Promise((r) => setTimeout(r, 150));
    }
    agent.destroy();
    const shares = [...counts.entries()].map(([k, v]) => `${k} ${Math.round((v / sent) * 100)}%`).join('  ');
    process.stderr.write(`\r${bar(seconds, seconds)} ${seconds}/${seconds}s  ${sent} requests  ${shares}   \n\n`);
    if (rollout) {
      const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
      if (rolloutDone === undefined) process.stdout.write(`Rollout of catalog: still ${rolloutState} at ${rolloutPercent}% after ${seconds} s\n`);
      else if (rollout === 'clean') process.stdout.write(`Rollout of catalog (clean candidate): ${rolloutState} at ${rolloutPercent}% ${secs(rolloutDone - gatewayStarted)} after the gateway started\n`);
      else process.stdout.write(`Rollout of catalog (bad candidate): ${rolloutState} at ${rolloutPercent}% ${secs(rolloutDone - (firstBad ?? gatewayStarted))} after the first bad answer (${secs((firstBad ?? gatewayStarted) - gatewayStarted)} after the start)\n`);
      process.stdout.write(`  history: npx switchyard rules history --redis ${redis} --prefix switchyard-demo:\n\n`);
    }
    await new Promise((r) => setTimeout(r, 500)); // let the last comparisons finish

    const report = await new Promise<{ routes: RouteReport[] }>((done, fail) => {
      request({ host: '127.0.0.1', port: gw.adminPort, path: '/diffs', headers: { authorization: `Bearer ${adminToken}` } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => done(JSON.parse(text)));
      })
        .on('error', fail)
        .end();
    });
    process.stdout.write('Shadow diff report (switchyard diffs):\n');
    for (const r of report.routes) {
      process.stdout.write(`  ${r.route}: ${r.comparisons} comparisons, match rate ${r.match_rate === null ? '-' : (r.match_rate * 100).toFixed(1) + '%'}, mismatches ${r.results.mismatch}, noise ${r.results.noise}\n`);
      if (r.noise_fields.length) process.stdout.write(`    noise learned: ${r.noise_fields.join(', ')}\n`);
      for (const f of r.top_fields.slice(0, 5)) process.stdout.write(`    ${f.count} × ${f.field}: ${JSON.stringify(f.sample.values)}\n`);
    }
    process.stdout.write(`
Where to look next:
  metrics      curl http://127.0.0.1:${gw.adminPort}/metrics
  diff report  npx switchyard diffs --config ${configFile}
  explain      npx switchyard explain --config ${configFile} GET /api/catalog/3 -H "x-user-id: user-7"
  rules        curl http://127.0.0.1:${gw.adminPort}/rules${redis ? `\n  history      npx switchyard rules history --redis ${redis} --prefix switchyard-demo:` : ''}
  dashboard    import config/grafana/switchyard.json into Grafana
  samples      ${redis ? 'Redis stream switchyard-demo:{diffs}:samples' : join(dir, 'diff-samples.jsonl')}
`);
    if (values.exit) {
      await stopAll();
      return;
    }
    say('Everything keeps running; Ctrl-C stops it all.');
    await new Promise(() => undefined);
  } catch (err) {
    await stopAll();
    throw err;
  }
}

function getJson<T>(port: number, path: string): Promise<T> {
  return new Promise((done, fail) => {
    request({ host: '127.0.0.1', port, path }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => {
        try {
          done(JSON.parse(text) as T);
        } catch (err) {
          fail(err);
        }
      });
    })
      .on('error', fail)
      .end();
  });
}

main().catch((err) => {
  process.stderr.write(`demo failed: ${(err as Error).message}\n`);
  process.exit(1);
});
