/**
 * The benchmark's scenarios. Each starts what it needs (sharing the origin) and returns the URL
 * the load generator hits. Groups: passthrough, shadow, pipeline. A scenario whose proxy is a Node
 * process (`node: true`) is started once per runtime of `--node` (see runtimes.ts), through a
 * Setup whose `rt` and start functions are that runtime's.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { manyRoutes } from './many-routes.js';
import {
  childrenOf,
  HARNESS,
  onFreePort,
  type PeerKind,
  type Proc,
  ROOT,
  SCRIPTS,
  startNetFloor,
  startNginx,
  startPeer,
  startProc,
  startSwitchyard,
  workdir,
} from './procs.js';
import type { Runtime } from './runtimes.js';

export { manyRoutes };

export interface Setup {
  startPeer(kind: PeerKind, cpus: string, target?: string): Promise<Proc>;
  startNginx(name: string, cpus: string, target: string, mirrorTarget?: string): Promise<Proc>;
  startSwitchyard(name: string, cpus: string, backends: Record<string, string>, rules: string, extra?: string, access?: boolean): Promise<Proc>;
  startProc(name: string, cmd: string, args: string[], ready: RegExp | number, cpus?: string): Promise<Proc>;
  loadCpu: string;
  proxyCpu: string;
  /** The runtime of the proxy under test (node binary and checkout). */
  rt: Pick<Runtime, 'node' | 'root'>;
  /** Unique per runtime, for file names. */
  tag: string;
}

/**
 * The Setup a scenario starts with on runtime `rt` (its proxies on rt's Node and checkout; the
 * origins, the load side, on the harness's Node). `nodeArgs` go on every gateway's command line.
 */
export function setupFor(rt: Setup['rt'], tag: string, cpus: { load: string; proxy: string }, nodeArgs?: readonly string[]): Setup {
  return {
    startNginx,
    startProc,
    loadCpu: cpus.load,
    proxyCpu: cpus.proxy,
    rt,
    tag,
    startPeer: (kind, c, target) => startPeer(kind, c, target, kind.endsWith('origin') ? HARNESS : rt),
    startSwitchyard: (name, c, backends, rules, extra, access) => startSwitchyard(name + tag, c, backends, rules, extra, rt, access, { nodeArgs }),
  };
}

export interface Scenario {
  name: string;
  group: 'passthrough' | 'shadow' | 'pipeline';
  /** The proxy under test runs on Node (once per `--node` runtime); nginx and the origin do not. */
  node: boolean;
  start(s: Setup): Promise<Started>;
}

export interface Started {
  /** The proxy the load generator hits. */
  proc?: Proc;
  /**
   * The processes on the proxied path, each with its descendants, for CPU time and memory
   * (default: `proc`): a gateway and the backend behind it; for the legacy layer, its nginx
   * (master and worker) without the Node launcher, which serves no request. Never the origin
   * or the load generator.
   */
  path?: readonly number[];
  url: string;
  paths?: readonly string[];
}

/**
 * The request mix both edge implementations get: origin reads through every product's filter,
 * and a redirect answered at the edge. (WAF blocks are left out so that any non-2xx/3xx answer
 * in the table is an error.)
 */
export const EDGE_MIX = ['/api/catalog/3', '/api/catalog?limit=5', '/api/search?q=gad', '/catalog/7', '/api/catalog/9', '/api/headers'];
/** The edge mix less the redirect the edges answer themselves: what the floors forward to the origin. */
const EDGE_MIX_UPSTREAM = EDGE_MIX.filter((x) => !x.startsWith('/catalog/'));

const BENCH_PRODUCTS = (origin: string) => `origin: { url: "${origin}" }
redirects:
  - { id: old-catalog, from: "/catalog/**", to: "/api/catalog/$1", status: 301 }
headers:
  request: [ { set: x-edge, value: "switchyard" } ]
  response: [ { set: x-frame-options, value: DENY }, { remove: server }, { remove: x-powered-by } ]
waf:
  - { id: "1001", field: path, pattern: "\\\\.\\\\./" }
  - { id: "1003", field: user_agent, pattern: "^(?:sqlmap|nikto)", ignore_case: true }
rate_limits:
  - { id: per-ip, path: "/api/**", key: ip, rate: 1000000, burst: 1000000 }
cors: { origins: ["https://shop.example"] }
`;

let demoOrigin: Promise<Proc> | undefined;
const demoOriginOf = (s: Setup) =>
  (demoOrigin ??= s.startProc('demo-origin', process.execPath, [join(SCRIPTS, '..', 'demo-origin.js'), '0'], /ready (\d+)/, s.loadCpu));

function benchProducts(origin: string): string {
  const file = join(workdir, 'products.yaml');
  writeFileSync(file, BENCH_PRODUCTS(origin));
  return file;
}

const PATH = '/api/items';
const url = (p: Proc, path = PATH) => `http://127.0.0.1:${p.port}${path}`;

const pidOf = (p: Proc): number => p.child.pid!;
/** What serves a legacy layer's requests: the nginx its launcher runs (master, and the worker below it). */
const nginxOf = (legacy: Proc): number[] => childrenOf(pidOf(legacy));

/** The legacy layer (nginx + Lua, started by `switchyard legacy`) in front of the demo origin. */
async function startLegacyLayer(s: Setup, name: string, cpus: string): Promise<Proc> {
  const o = await demoOriginOf(s);
  return onFreePort((port) =>
    s.startProc(
      name,
      process.execPath,
      [
        join(ROOT, 'dist', 'cli.js'),
        'legacy',
        '--products',
        benchProducts(`http://127.0.0.1:${o.port}`),
        '--listen',
        `127.0.0.1:${port}`,
        '--prefix',
        join(workdir, name),
      ],
      /legacy layer on http:\/\/127\.0\.0\.1:(\d+)/,
      cpus,
    ),
  );
}

let origin: Promise<Proc> | undefined;
/** The shared origin: 1 KiB JSON, on the load generator's core. */
const originOf = (s: Setup) => (origin ??= s.startPeer('origin', s.loadCpu));

function shadowRules(extra = '', timeout = '2s'): string {
  return `default: legacy
routes:
  - name: items
    match: { path: "/**" }
    backend: legacy
    shadow:
      to: shadow
      timeout: ${timeout}
      compare: { ignore_headers: [date] }${extra}
`;
}

let slowTarget: Promise<Proc> | undefined;
let stuckTarget: Promise<Proc> | undefined;

const ONE_ROUTE = 'default: legacy\nroutes:\n  - { name: items, match: { path: "/api/**" }, backend: legacy }\n';

/**
 * Starts the origins every group shares (on the load generator's core), so that a group's
 * processes can be stopped after its turn without stopping them.
 */
export async function startOrigins(s: Setup): Promise<void> {
  await Promise.all([
    originOf(s),
    demoOriginOf(s),
    (slowTarget ??= s.startPeer('slow-origin', s.loadCpu)),
    (stuckTarget ??= s.startPeer('stuck-origin', s.loadCpu)),
  ]);
}

export const scenarios: Scenario[] = [
  {
    name: 'direct',
    group: 'passthrough',
    node: false,
    start: async (s) => ({ url: url(await originOf(s)) }),
  },
  {
    name: 'nginx',
    group: 'passthrough',
    node: false,
    start: async (s) => {
      const p = await s.startNginx('nginx', s.proxyCpu, url(await originOf(s), ''));
      return { proc: p, url: url(p) };
    },
  },
  {
    name: 'http-proxy',
    group: 'passthrough',
    node: true,
    start: async (s) => {
      const p = await s.startPeer('http-proxy', s.proxyCpu, url(await originOf(s), ''));
      return { proc: p, url: url(p) };
    },
  },
  {
    name: 'undici',
    group: 'passthrough',
    node: true,
    start: async (s) => {
      const p = await s.startPeer('undici', s.proxyCpu, url(await originOf(s), ''));
      return { proc: p, url: url(p) };
    },
  },
  {
    // What Node costs per proxied request without node:http and undici (net-floor.ts: a relay of
    // bytes, not a proxy). A reference like nginx: on the harness's Node only.
    name: 'net-floor',
    group: 'passthrough',
    node: false,
    start: async (s) => {
      const p = await startNetFloor(s.proxyCpu, url(await originOf(s), ''), s.rt);
      return { proc: p, url: url(p) };
    },
  },
  {
    name: 'switchyard',
    group: 'passthrough',
    node: true,
    start: async (s) => {
      const p = await s.startSwitchyard('switchyard', s.proxyCpu, { legacy: url(await originOf(s), '') }, ONE_ROUTE);
      return { proc: p, url: url(p) };
    },
  },
  {
    // The same gateway with `log.access: false`: the on/off ratio is what the access line costs.
    name: 'switchyard-access-log-off',
    group: 'passthrough',
    node: true,
    start: async (s) => {
      const p = await s.startSwitchyard('switchyard-nolog', s.proxyCpu, { legacy: url(await originOf(s), '') }, ONE_ROUTE, '', false);
      return { proc: p, url: url(p) };
    },
  },
  {
    name: 'switchyard-10k-routes',
    group: 'passthrough',
    node: true,
    start: async (s) => {
      const p = await s.startSwitchyard('switchyard-10k', s.proxyCpu, { legacy: url(await originOf(s), '') }, manyRoutes(10_000));
      return { proc: p, url: url(p) };
    },
  },
  {
    // The shadow group's baseline, measured in the same rounds: the shadow scenarios' gateway,
    // backends and route, without the shadow.
    name: 'switchyard-no-shadow',
    group: 'shadow',
    node: true,
    start: async (s) => {
      const o = url(await originOf(s), '');
      const p = await s.startSwitchyard('no-shadow', s.proxyCpu, { legacy: o, shadow: o }, shadowRules().replace(/\n {4}shadow:[\s\S]*$/, '\n'));
      return { proc: p, url: url(p) };
    },
  },
  {
    name: 'shadow-diff-100',
    group: 'shadow',
    node: true,
    start: async (s) => {
      const o = url(await originOf(s), '');
      const p = await s.startSwitchyard('shadow-diff', s.proxyCpu, { legacy: o, shadow: o }, shadowRules());
      return { proc: p, url: url(p) };
    },
  },
  {
    name: 'shadow-slow-target',
    group: 'shadow',
    node: true,
    start: async (s) => {
      const slow = await (slowTarget ??= s.startPeer('slow-origin', s.loadCpu));
      const p = await s.startSwitchyard('shadow-slow', s.proxyCpu, { legacy: url(await originOf(s), ''), shadow: url(slow, '') }, shadowRules());
      return { proc: p, url: url(p) };
    },
  },
  {
    name: 'shadow-down-target',
    group: 'shadow',
    node: true,
    start: async (s) => {
      // Port 9 (discard) on loopback: nothing listens there, so every copy is refused.
      const p = await s.startSwitchyard('shadow-down', s.proxyCpu, { legacy: url(await originOf(s), ''), shadow: 'http://127.0.0.1:9' }, shadowRules());
      return { proc: p, url: url(p) };
    },
  },
  {
    // The floor of a 100 % shadow on one core, in the shadow group's rounds: bare undici, and
    // bare undici sending every request a second time (a second upstream exchange, no logic).
    // A reference like nginx: on the harness's Node only, whatever `--node` names.
    name: 'undici-no-mirror',
    group: 'shadow',
    node: false,
    start: async (s) => {
      const p = await s.startPeer('undici', s.proxyCpu, url(await originOf(s), ''));
      return { proc: p, url: url(p) };
    },
  },
  {
    name: 'undici-mirror-100',
    group: 'shadow',
    node: false,
    start: async (s) => {
      const p = await s.startPeer('undici-mirror', s.proxyCpu, url(await originOf(s), ''));
      return { proc: p, url: url(p) };
    },
  },
  {
    name: 'nginx-mirror-slow',
    group: 'shadow',
    node: false,
    start: async (s) => {
      const slow = await (slowTarget ??= s.startPeer('slow-origin', s.loadCpu));
      const p = await s.startNginx('nginx-mirror', s.proxyCpu, url(await originOf(s), ''), url(slow, ''));
      return { proc: p, url: url(p) };
    },
  },
  {
    // Memory with 1 MiB bodies and a stuck shadow target: bounded by the shadow limits
    // (max_concurrent 16 + queue 16, max_body 2 MiB → at most 64 MiB of captured bodies).
    name: 'shadow-1mib-stuck-target',
    group: 'shadow',
    node: true,
    start: async (s) => {
      const stuck = await (stuckTarget ??= s.startPeer('stuck-origin', s.loadCpu));
      const p = await s.startSwitchyard(
        'shadow-stuck',
        s.proxyCpu,
        { legacy: url(await originOf(s), ''), shadow: url(stuck, '') },
        shadowRules('\n      max_body: 2mb', '30s'),
        'shadow: { max_concurrent: 16, max_concurrent_per_route: 16, queue: 16 }',
      );
      return { proc: p, url: url(p, '/big') };
    },
  },
  {
    // The edge before switchyard.
    name: 'legacy-layer',
    group: 'pipeline',
    node: false,
    start: async (s) => {
      const p = await startLegacyLayer(s, 'legacy-layer', s.proxyCpu);
      return { proc: p, path: nginxOf(p), url: `http://127.0.0.1:${p.port}`, paths: EDGE_MIX };
    },
  },
  {
    // The edge during the migration: the gateway in front of the legacy layer (its own core, as
    // the pipeline process below), every request to it. Same mix, same origin.
    name: 'gateway-to-legacy-layer',
    group: 'pipeline',
    node: true,
    start: async (s) => {
      const legacy = await startLegacyLayer(s, `legacy-behind${s.tag}`, s.loadCpu);
      const p = await s.startSwitchyard('gw-legacy', s.proxyCpu, { legacy: `http://127.0.0.1:${legacy.port}` }, 'default: legacy\n');
      return { proc: p, path: [pidOf(p), ...nginxOf(legacy)], url: `http://127.0.0.1:${p.port}`, paths: EDGE_MIX };
    },
  },
  {
    name: 'pipeline',
    group: 'pipeline',
    node: true,
    start: async (s) => {
      const o = await demoOriginOf(s);
      const cfg = join(workdir, `pipeline${s.tag}.yaml`);
      writeFileSync(
        cfg,
        `listen: "127.0.0.1:0"\nadmin: { listen: "127.0.0.1:0" }\nproducts: "${benchProducts(`http://127.0.0.1:${o.port}`)}"\nlog: { level: info }\n`,
      );
      const p = await s.startProc(
        'pipeline',
        s.rt.node,
        ['--max-semi-space-size=32', join(s.rt.root, 'dist', 'cli.js'), 'pipeline', '--config', cfg],
        /"listen":(\d+)/,
        s.proxyCpu,
      );
      return { proc: p, url: `http://127.0.0.1:${p.port}`, paths: EDGE_MIX };
    },
  },
  {
    // The gateway in front of the pipeline, both ways: a separate process over loopback HTTP
    // (its own core) and in-process (one process, no second hop). Same mix, same origin.
    name: 'gateway-to-pipeline-process',
    group: 'pipeline',
    node: true,
    start: async (s) => {
      const o = await demoOriginOf(s);
      const cfg = join(workdir, `pipeline-behind${s.tag}.yaml`);
      writeFileSync(
        cfg,
        `listen: "127.0.0.1:0"\nadmin: { listen: "127.0.0.1:0" }\nproducts: "${benchProducts(`http://127.0.0.1:${o.port}`)}"\nlog: { level: info }\n`,
      );
      const pipe = await s.startProc(
        'pipeline-behind',
        s.rt.node,
        ['--max-semi-space-size=32', join(s.rt.root, 'dist', 'cli.js'), 'pipeline', '--config', cfg],
        /"listen":(\d+)/,
        s.loadCpu,
      );
      const p = await s.startSwitchyard('gw-pipeline-http', s.proxyCpu, { pipeline: `http://127.0.0.1:${pipe.port}` }, 'default: pipeline\n');
      return { proc: p, path: [pidOf(p), pidOf(pipe)], url: `http://127.0.0.1:${p.port}`, paths: EDGE_MIX };
    },
  },
  {
    // The floor of the edge after the cutover in Node: bare undici forwarding the mix to the same
    // origin, no product logic at all (the redirect, which the edges answer themselves, left out).
    // A reference like nginx: on the harness's Node only.
    name: 'undici-edge-floor',
    group: 'pipeline',
    node: false,
    start: async (s) => {
      const o = await demoOriginOf(s);
      const p = await s.startPeer('undici', s.proxyCpu, `http://127.0.0.1:${o.port}`);
      return { proc: p, url: `http://127.0.0.1:${p.port}`, paths: EDGE_MIX_UPSTREAM };
    },
  },
  {
    // Under that floor: the bare socket relay (net-floor.ts) on the same requests, with no HTTP
    // layer at all: what Node costs per request for the I/O alone, against the legacy layer.
    name: 'net-edge-floor',
    group: 'pipeline',
    node: false,
    start: async (s) => {
      const o = await demoOriginOf(s);
      const p = await startNetFloor(s.proxyCpu, `http://127.0.0.1:${o.port}`, s.rt);
      return { proc: p, url: `http://127.0.0.1:${p.port}`, paths: EDGE_MIX_UPSTREAM };
    },
  },
  {
    // The edge after the cutover: one process, the pipeline at 100%.
    name: 'gateway-with-pipeline-inprocess',
    group: 'pipeline',
    node: true,
    start: async (s) => {
      const o = await demoOriginOf(s);
      const p = await s.startSwitchyard(
        'gw-pipeline-inprocess',
        s.proxyCpu,
        { pipeline: `inprocess:${benchProducts(`http://127.0.0.1:${o.port}`)}` },
        'default: pipeline\n',
      );
      return { proc: p, url: `http://127.0.0.1:${p.port}`, paths: EDGE_MIX };
    },
  },
];
