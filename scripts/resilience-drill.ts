/**
 * Resilience drill (issue 13): kills a host, then the pipeline, under load, with real processes,
 * and prints the failed-request counts and the times to recover.
 *
 *   npm run build && node dist-scripts/resilience-drill.js [--concurrency 8] [--phase-ms 2000]
 *
 * Setup: the demo origin; three legacy hosts (demo origins, one process each); a `switchyard
 * pipeline` process in front of the origin; a gateway in this process with
 *   /api/catalog/**  → legacy (3 hosts, health checks, ejection, retries)
 *   /api/search      → split legacy 50 / pipeline 50, fallback to legacy (budget 100%)
 * 1. host killed: SIGKILL one legacy host under load; time to its ejection; failed requests;
 *    restarted and listening: time until it is back in rotation (healthy_threshold passing checks).
 * 2. pipeline killed: SIGKILL the pipeline under load; time until the gateway sends the ramp's
 *    pipeline share to legacy directly (/readyz: pipeline down); failed GETs; restarted and
 *    listening: time until the first response served by the pipeline again.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { parseGatewayConfig } from '../dist/config/gateway-config.js';
import { Gateway } from '../dist/gateway/gateway.js';
import { createLogger } from '../dist/log/logger.js';

const ROOT = resolve(import.meta.dirname, '..');
const { values } = parseArgs({ options: { concurrency: { type: 'string', default: '8' }, 'phase-ms': { type: 'string', default: '2000' } } });
const CONCURRENCY = Number(values.concurrency);
const PHASE_MS = Number(values['phase-ms']);

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** Starts a child process and resolves once `ready` matches its output. */
function startProcess(args: string[], ready: RegExp, env: Record<string, string> = {}): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`${args.join(' ')} did not start:\n${out}`)), 20_000);
    const on = (c: Buffer) => {
      out += c.toString();
      if (ready.test(out)) {
        clearTimeout(timer);
        res(child);
      }
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', on);
  });
}

const origin = (port: number) => startProcess(['dist-scripts/demo-origin.js', String(port)], /ready/);
// The drill's own products: only the origin. The shipped ones rate-limit /api/** per client
// address, and the drill's load comes from one address.
const pipelineProcess = (port: number, originPort: number, products: string) =>
  startProcess(
    ['dist/cli.js', 'pipeline', '--listen', `127.0.0.1:${port}`, '--origin', `127.0.0.1:${originPort}`, '--products', products],
    /pipeline started/,
    {
      SWITCHYARD_PIPELINE_ADMIN: '127.0.0.1:0',
    },
  );

function kill(child: ChildProcess): Promise<void> {
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGKILL');
  return exited;
}

interface Sample {
  t: number;
  ok: boolean;
  backend?: string;
  /** A failure: the status and error word of the answer, or the client-side error. */
  why?: string;
}

/** `concurrency` loops of GETs until stop(); every answer is kept with its time. */
function load(url: string) {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const samples: Sample[] = [];
  let running = true;
  const one = () =>
    new Promise<void>((res) => {
      const req = request(url, { agent }, (r) => {
        let body = '';
        r.on('data', (c: Buffer) => (body += c.toString()));
        r.on('end', () => {
          const ok = r.statusCode === 200;
          samples.push({
            t: Date.now(),
            ok,
            backend: r.headers['x-switchyard-backend'] as string,
            why: ok ? undefined : `${r.statusCode} ${/"error":"(\w+)"/.exec(body)?.[1] ?? ''} ${/"backend":"(\w+)"/.exec(body)?.[1] ?? ''}`,
          });
          res();
        });
        r.on('error', (err) => {
          samples.push({ t: Date.now(), ok: false, why: `cut: ${err.message}` });
          res();
        });
      });
      req.on('error', (err) => {
        samples.push({ t: Date.now(), ok: false, why: err.message });
        res();
      });
      req.end();
    });
  const loops = Array.from({ length: CONCURRENCY }, async () => {
    while (running) await one();
  });
  return {
    samples,
    async stop() {
      running = false;
      await Promise.all(loops);
      agent.destroy();
      return samples;
    },
  };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const get = (url: string) =>
  new Promise<string>((res, rej) => {
    request(url, { agent: false }, (r) => {
      let body = '';
      r.on('data', (c: Buffer) => (body += c.toString()));
      r.on('end', () => res(body));
    })
      .on('error', rej)
      .end();
  });
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-drill-'));
  const originPort = await freePort();
  const hostPorts = [await freePort(), await freePort(), await freePort()];
  const pipelinePort = await freePort();
  const children: ChildProcess[] = [await origin(originPort)];
  const hosts = await Promise.all(hostPorts.map((p) => origin(p)));
  children.push(...hosts);
  const products = join(dir, 'products.yaml');
  writeFileSync(products, `origin:\n  url: "http://127.0.0.1:${originPort}"\n`);
  let pipeline = await pipelineProcess(pipelinePort, originPort, products);

  writeFileSync(
    join(dir, 'rules.yaml'),
    `default: legacy
routes:
  - { name: catalog, match: { path: "/api/catalog/**" }, backend: legacy }
  - { name: ramp, match: { path: "/api/search" }, split: { legacy: 50, pipeline: 50 }, fallback: { to: legacy, budget: 100% } }
`,
  );
  const health = '{ path: /api/catalog, interval: 200ms, timeout: 200ms, healthy_threshold: 2, unhealthy_threshold: 2 }';
  const configText = `listen: "127.0.0.1:0"
admin: { listen: "127.0.0.1:0" }
backends:
  legacy:
    urls: [${hostPorts.map((p) => `"http://127.0.0.1:${p}"`).join(', ')}]
    health: ${health}
    outlier: { consecutive_failures: 3, ejection_time: 30s }
    retries: { attempts: 2, on: [refused, connect_timeout, reset] }
  pipeline:
    url: "http://127.0.0.1:${pipelinePort}"
    health: ${health}
    outlier: { consecutive_failures: 3, ejection_time: 30s }
rules: { file: rules.yaml, watch: false }
debug_headers: true
log: { access: false }
`;
  writeFileSync(join(dir, 'gateway.yaml'), configText);
  const silent = new Writable({ write: (_c, _e, cb) => cb() });
  const gw = await Gateway.start(parseGatewayConfig(configText, join(dir, 'gateway.yaml'), {}), { logger: createLogger('warn', silent) });
  const base = `http://127.0.0.1:${gw.port}`;
  const admin = `http://127.0.0.1:${gw.adminPort}`;
  const metric = async (re: RegExp) => Number(re.exec(await get(admin + '/metrics'))?.[1] ?? NaN);

  try {
    // 1. A legacy host killed under load.
    const l1 = load(base + '/api/catalog/1');
    await pause(PHASE_MS);
    const killedAt = Date.now();
    await kill(hosts[1]!);
    const victim = `http://127.0.0.1:${hostPorts[1]}`;
    const hostRe = new RegExp(`switchyard_backend_host_healthy\\{backend="legacy",host="${victim.replace(/[.:/]/g, '\\$&')}"\\} (\\d)`);
    await until('the host out of rotation', async () => ((await metric(hostRe)) === 0 ? true : undefined));
    const outAt = Date.now();
    await pause(PHASE_MS);
    hosts[1] = await origin(hostPorts[1]!);
    children.push(hosts[1]);
    // From the moment the restarted host listens: process start-up is not the gateway's doing.
    const restartedAt = Date.now();
    await until('the host back in rotation', async () => ((await metric(hostRe)) === 1 ? true : undefined));
    const backAt = Date.now();
    await pause(PHASE_MS / 2);
    const s1 = await l1.stop();
    const retries = [...(await get(admin + '/metrics')).matchAll(/^switchyard_upstream_retries_total\{backend="legacy",reason="\w+"\} (\d+)$/gm)].reduce(
      (a, m) => a + Number(m[1]),
      0,
    );
    const ejections = await metric(/switchyard_outlier_ejections_total\{backend="legacy"\} (\d+)/);

    // 2. The pipeline killed during a 50% split with a fallback to legacy.
    const l2 = load(base + '/api/search?q=w');
    await pause(PHASE_MS);
    const pKilledAt = Date.now();
    await kill(pipeline);
    await until('the pipeline down on /readyz', async () =>
      (JSON.parse(await get(admin + '/readyz')) as { backends: Record<string, { state: string }> }).backends.pipeline?.state === 'down' ? true : undefined,
    );
    const pDownAt = Date.now();
    await pause(PHASE_MS);
    pipeline = await pipelineProcess(pipelinePort, originPort, products);
    const pRestartedAt = Date.now();
    const pBackAt = await until('traffic back on the pipeline', async () => l2.samples.find((s) => s.t > pRestartedAt && s.backend === 'pipeline')?.t);
    await pause(PHASE_MS / 2);
    const s2 = await l2.stop();
    const fallbacks = await metric(/switchyard_fallbacks_total\{route="ramp",from="pipeline",to="legacy",reason="down"\} (\d+)/);
    const text = await get(admin + '/metrics');
    const fallbacksAfterFailure = text.match(/switchyard_fallbacks_total\{route="ramp",from="pipeline",to="legacy",reason="(?!down)\w+"\} \d+/g) ?? [];
    const skipped = text.match(/switchyard_fallbacks_skipped_total\{[^}]*\} \d+/g) ?? [];

    const failed = (s: Sample[]) => s.filter((x) => !x.ok).length;
    const failures = (s: Sample[]) => s.filter((x) => !x.ok).map((x) => x.why);
    console.log(
      JSON.stringify(
        {
          concurrency: CONCURRENCY,
          killed_host: {
            requests: s1.length,
            failed: failed(s1),
            failures: failures(s1),
            retried: retries,
            ejections,
            ms_kill_to_out_of_rotation: outAt - killedAt,
            ms_listening_to_back_in_rotation: backAt - restartedAt,
          },
          killed_pipeline: {
            requests: s2.length,
            failed: failed(s2),
            failures: failures(s2),
            fallbacks_direct: fallbacks,
            fallbacks_after_a_failure: fallbacksAfterFailure,
            fallbacks_skipped: skipped,
            ms_kill_to_down: pDownAt - pKilledAt,
            ms_listening_to_first_pipeline_response: pBackAt - pRestartedAt,
            served_while_down: {
              legacy: s2.filter((x) => x.t > pDownAt && x.t < pRestartedAt && x.backend === 'legacy').length,
              pipeline: s2.filter((x) => x.t > pDownAt && x.t < pRestartedAt && x.backend === 'pipeline').length,
            },
          },
        },
        null,
        2,
      ),
    );
  } finally {
    await gw.stop(1000);
    await kill(pipeline).catch(() => undefined);
    for (const c of children) if (c.exitCode === null && c.signalCode === null) await kill(c);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
