/**
 * The benchmark's scenarios. Each starts what it needs (sharing the origin) and returns the URL
 * the load generator hits. Groups: passthrough, shadow, pipeline.
 */
import type { Proc } from './procs.js';

export interface Setup {
  startPeer(kind: 'origin' | 'slow-origin' | 'http-proxy' | 'undici', cpus: string, target?: string): Promise<Proc>;
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
];
