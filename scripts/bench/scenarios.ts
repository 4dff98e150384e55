/**
 * The benchmark's scenarios. Each starts what it needs (sharing the origin) and returns the URL
 * the load generator hits. Groups: passthrough, shadow, pipeline.
 */
import type { PeerKind, Proc } from './procs.js';

export interface Setup {
  startPeer(kind: PeerKind, cpus: string, target?: string): Promise<Proc>;
  startNginx(name: string, cpus: string, target: string, mirrorTarget?: string): Promise<Proc>;
  startSwitchyard(name: string, cpus: string, backends: Record<string, string>, rules: string, extra?: string): Promise<Proc>;
  startProc(name: string, cmd: string, args: string[], ready: RegExp | number, cpus?: string): Promise<Proc>;
  loadCpu: string;
  proxyCpu: string;
}

export interface Scenario {
  name: string;
  group: 'passthrough' | 'shadow' | 'pipeline';
  start(s: Setup): Promise<{ proc?: Proc; url: string }>;
}

const PATH = '/api/items';
const url = (p: Proc, path = PATH) => `http://127.0.0.1:${p.port}${path}`;

let origin: Promise<Proc> | undefined;
/** The shared origin: 1 KiB JSON, on the load generator's core. */
const originOf = (s: Setup) => (origin ??= s.startPeer('origin', s.loadCpu));

/** 10,000 routes, the benchmark's path matching the last one. */
export function manyRoutes(n: number): string {
  const routes = Array.from({ length: n - 1 }, (_, i) => `  - { name: r${i}, match: { path: "/svc${i}/**" }, backend: legacy }`);
  routes.push(`  - { name: items, match: { path: "/api/**" }, backend: legacy }`);
  return `default: legacy\nroutes:\n${routes.join('\n')}\n`;
}

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

export const scenarios: Scenario[] = [
  {
    name: 'direct',
    group: 'passthrough',
    start: async (s) => ({ url: url(await originOf(s)) }),
  },
  {
    name: 'nginx',
    group: 'passthrough',
    start: async (s) => {
      const p = await s.startNginx('nginx', s.proxyCpu, url(await originOf(s), ''));
      return { proc: p, url: url(p) };
    },
  },
  {
    name: 'http-proxy',
    group: 'passthrough',
    start: async (s) => {
      const p = await s.startPeer('http-proxy', s.proxyCpu, url(await originOf(s), ''));
      return { proc: p, url: url(p) };
    },
  },
  {
    name: 'undici',
    group: 'passthrough',
    start: async (s) => {
      const p = await s.startPeer('undici', s.proxyCpu, url(await originOf(s), ''));
      return { proc: p, url: url(p) };
    },
  },
  {
    name: 'switchyard',
    group: 'passthrough',
    start: async (s) => {
      const p = await s.startSwitchyard('switchyard', s.proxyCpu, { legacy: url(await originOf(s), '') }, ONE_ROUTE);
      return { proc: p, url: url(p) };
    },
  },
  {
    name: 'switchyard-10k-routes',
    group: 'passthrough',
    start: async (s) => {
      const p = await s.startSwitchyard('switchyard-10k', s.proxyCpu, { legacy: url(await originOf(s), '') }, manyRoutes(10_000));
      return { proc: p, url: url(p) };
    },
  },
  {
    name: 'shadow-diff-100',
    group: 'shadow',
    start: async (s) => {
      const o = url(await originOf(s), '');
      const p = await s.startSwitchyard('shadow-diff', s.proxyCpu, { legacy: o, shadow: o }, shadowRules());
      return { proc: p, url: url(p) };
    },
  },
  {
    name: 'shadow-slow-target',
    group: 'shadow',
    start: async (s) => {
      const slow = await (slowTarget ??= s.startPeer('slow-origin', s.loadCpu));
      const p = await s.startSwitchyard('shadow-slow', s.proxyCpu, { legacy: url(await originOf(s), ''), shadow: url(slow, '') }, shadowRules());
      return { proc: p, url: url(p) };
    },
  },
  {
    name: 'shadow-down-target',
    group: 'shadow',
    start: async (s) => {
      // Port 9 (discard) on loopback: nothing listens there, so every copy is refused.
      const p = await s.startSwitchyard('shadow-down', s.proxyCpu, { legacy: url(await originOf(s), ''), shadow: 'http://127.0.0.1:9' }, shadowRules());
      return { proc: p, url: url(p) };
    },
  },
  {
    name: 'nginx-mirror-slow',
    group: 'shadow',
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
];
