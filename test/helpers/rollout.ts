/**
 * Pieces for rollout tests: a legacy backend and a candidate whose faults are set per test,
 * gateways on a shared Redis with fast rollout ticks, a traffic loop, and status reads.
 */
import { RuleStore } from '../../src/store/rule-store.js';
import type { RolloutStatus } from '../../src/rollout/rollouts.js';
import { startGateway, type TestGateway } from './gateway.js';
import type { TestRedis } from './redis.js';
import { startServer, type TestServer } from './servers.js';

export interface Faults {
  /** Answer a different field on every Nth request. */
  mismatchEvery?: number;
  /** Answer 500 on every Nth request. */
  errorEvery?: number;
  delayMs?: number;
}

/** Answers {"id": PATH, "name": "widget"}; with faults, a different name, a 500, or late. */
export function itemBackend(faults: Faults = {}): Promise<TestServer> {
  let n = 0;
  return startServer((req, res) => {
    const i = ++n;
    const answer = () => {
      if (faults.errorEvery && i % faults.errorEvery === 0) {
        res.writeHead(500, { 'content-type': 'application/json' });
        return res.end('{"error":"boom"}');
      }
      const name = faults.mismatchEvery && i % faults.mismatchEvery === 0 ? 'WIDGET' : 'widget';
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: req.url, name }));
    };
    req.resume();
    if (faults.delayMs) setTimeout(answer, faults.delayMs);
    else answer();
  });
}

export const FAST_ROLLOUTS = 'rollouts:\n  tick: 50ms\n  lease: 1s\n  bucket: 50ms\n  flush: 50ms';

export function redisRules(redis: TestRedis, prefix: string) {
  return (rulesFile: string) => `rules:\n  file: "${rulesFile}"\n  redis:\n    url: "${redis.url}"\n    prefix: "${prefix}"\n    poll_interval: 200ms`;
}

export async function pushRules(redis: TestRedis, prefix: string, yaml: string, author = 'alice', message = 'start the rollout'): Promise<number> {
  const c = redis.client();
  try {
    return await new RuleStore(c, prefix).push(yaml, { author, message });
  } finally {
    c.disconnect();
  }
}

export async function history(redis: TestRedis, prefix: string) {
  const c = redis.client();
  try {
    return await new RuleStore(c, prefix).history();
  } finally {
    c.disconnect();
  }
}

export function rolloutGateway(redis: TestRedis, prefix: string, backends: Record<string, string>, rules: string): Promise<TestGateway> {
  return startGateway({ backends, rules, rulesBlock: redisRules(redis, prefix), extra: FAST_ROLLOUTS });
}

/** GET /rollouts?route= on a gateway's admin listener; undefined while it answers no status. */
export async function status(admin: string, route = 'catalog'): Promise<RolloutStatus | undefined> {
  const res = await fetch(`${admin}/rollouts?route=${route}`).catch(() => undefined);
  if (!res || res.status !== 200) return undefined;
  return ((await res.json()) as { rollouts: RolloutStatus[] }).rollouts[0];
}

/** Requests in a loop (4 at a time, varied sticky keys) until stopped. */
export function drive(url: string, headers: Record<string, string> = {}) {
  let on = true;
  let sent = 0;
  const loops = [0, 1, 2, 3].map(async () => {
    while (on) {
      const i = sent++;
      await fetch(`${url}/api/item/${i % 50}`, { headers: { 'x-user-id': `u${i}`, ...headers } })
        .then((r) => r.arrayBuffer())
        .catch(() => undefined);
    }
  });
  return {
    get sent() {
      return sent;
    },
    async stop() {
      on = false;
      await Promise.all(loops);
    },
  };
}

/** Exactly `n` requests, forced to `backend` with the override token of test gateways. */
export async function sendForced(url: string, backend: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await fetch(`${url}/api/item/${i}`, { headers: { 'x-switchyard-force': backend, 'x-switchyard-token': 'let-me-in' } }).then((r) => r.arrayBuffer());
  }
}

export function rules(opts: { split?: string; steps?: string; interval?: string; minRequests?: number; minComparisons?: number; gates?: string; onBreach?: string; shadow?: boolean } = {}): string {
  const shadow = opts.shadow ?? true;
  return `default: legacy
routes:
  - name: catalog
    match: { path: "/api/**" }
    split: ${opts.split ?? '{ legacy: 90, pipeline: 10 }'}
    sticky: "header:x-user-id"
${shadow ? '    shadow: { percent: 100, compare: { ignore_headers: [date, x-request-id] } }\n' : ''}    rollout:
      to: pipeline
      steps: ${opts.steps ?? '[10, 50, 100]'}
      interval: ${opts.interval ?? '200ms'}
      min_requests: ${opts.minRequests ?? 10}
      min_comparisons: ${opts.minComparisons ?? (shadow ? 20 : 0)}
      gates: ${opts.gates ?? '{ mismatch_rate: 20%, error_rate: 10%, p99_ratio: 50 }'}
      on_breach: ${opts.onBreach ?? 'rollback'}
`;
}
