import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { TestPrometheus } from '../helpers/prometheus.js';
import { ALERTS_FILE, alertRules, allExpressions, docExpressions, metricNamesIn, unknownMetricNames } from '../helpers/promql.js';
import { freePort } from '../helpers/redis.js';
import { send, startServer, type TestServer } from '../helpers/servers.js';

// A real Prometheus scrapes a running gateway's admin /metrics, with the alerting rules loaded:
// every PromQL expression switchyard ships must evaluate against what the gateway really exports.

const RULES = `default: legacy
routes:
  - name: catalog
    match: { path: "/api/catalog/**" }
    split: { legacy: 50, pipeline: 50 }
    sticky: "header:x-user-id"
    shadow: { percent: 100 }
  - name: gone
    match: { path: "/gone/**" }
    backend: gone
`;

// The two sides disagree on the price of odd items: mismatches, and differing fields.
const side = (name: string) =>
  startServer((req, res) => {
    const id = Number(/(\d+)$/.exec(req.url ?? '')?.[1] ?? 0);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id, price: id % 2 && name === 'pipeline' ? 10.99 : 9.99 }));
  });

let legacy: TestServer;
let pipeline: TestServer;
let g: TestGateway;
let prom: TestPrometheus;
let sent = 0;

/** Sum of a metric's series in a /metrics text. */
function total(text: string, name: string): number {
  return [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce((s, m) => s + Number(m[1]), 0);
}

async function traffic(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await send(`${g.url}/api/catalog/${sent + i}`, { headers: { 'x-user-id': `u-${sent + i}` } });
    if (i % 4 === 0) await send(`${g.url}/gone/${i}`);
  }
  sent += n;
  await send(`${g.url}/${'a'.repeat(2000)}`); // 414: a client error
  // Comparisons finish after the responses: wait for all of them at the gateway...
  // (expect.poll only works inside a test, hence the loop.)
  for (const deadline = Date.now() + 10_000; total((await send(`${g.admin}/metrics`)).body, 'switchyard_shadow_comparisons_total') !== sent; ) {
    if (Date.now() > deadline) throw new Error(`the gateway did not finish ${sent} comparisons`);
    await new Promise((r) => setTimeout(r, 25));
  }
  // ...then until Prometheus has scraped the gateway in that state.
  const requests = total((await send(`${g.admin}/metrics`)).body, 'switchyard_requests_total');
  await prom.waitForValue('sum(switchyard_requests_total)', (v) => v === requests);
  await prom.waitForValue('sum(switchyard_shadow_comparisons_total)', (v) => v === sent);
}

beforeAll(async () => {
  legacy = await side('legacy');
  pipeline = await side('pipeline');
  g = await startGateway({
    backends: { legacy: legacy.url, pipeline: pipeline.url, gone: `http://127.0.0.1:${await freePort()}` },
    rules: RULES,
    extra: 'limits:\n  max_url_length: 1kb',
  });
  prom = await TestPrometheus.start({ targets: [new URL(g.admin).host], ruleFiles: [ALERTS_FILE] });
  await prom.waitForScrapes(1);
  // Two rounds, each scraped: every counter moves between two scrapes, so rates are not empty.
  await traffic(30);
  await traffic(30);
}, 60_000);

afterAll(async () => {
  await prom?.stop();
  await g?.stop();
  await legacy?.close();
  await pipeline?.close();
});

describe('a real Prometheus scraping a gateway', () => {
  it('evaluates every expression of docs/, the dashboard and the alerts without error', async () => {
    const exprs = allExpressions();
    expect(exprs.length).toBeGreaterThan(30);
    const failures: string[] = [];
    for (const e of exprs) {
      const r = await prom.query(e.expr);
      if (r.status !== 'success') failures.push(`${e.where}: ${r.errorType}: ${r.error}`);
    }
    expect(failures).toEqual([]);
  });

  it('finds every metric those expressions read in the catalogue', async () => {
    expect(await unknownMetricNames(allExpressions())).toEqual([]);
  });

  // The pipeline's own metrics need an in-process pipeline, the rollouts' rules in Redis with a
  // rollout (test/integration/rollout.test.ts reads those from /metrics).
  it('has scraped every metric those expressions read (the pipeline\'s own need an in-process pipeline)', async () => {
    const names = [...new Set(allExpressions().flatMap((e) => metricNamesIn(e.expr)))].filter((n) => !n.startsWith('switchyard_pipeline_') && !n.startsWith('switchyard_rollout_'));
    expect(names.length).toBeGreaterThan(10);
    const missing: string[] = [];
    for (const name of names) if (!(await prom.query(name)).data?.result.length) missing.push(name);
    expect(missing).toEqual([]);
  });

  it('returns data for every query of the docs', async () => {
    const empty: string[] = [];
    for (const e of docExpressions()) {
      if (metricNamesIn(e.expr).some((n) => n.startsWith('switchyard_rollout_'))) continue; // see above
      if (!(await prom.query(e.expr)).data?.result.length) empty.push(`${e.where}: ${e.expr}`);
    }
    expect(empty).toEqual([]);
  });

  it('loads the alerting rules and evaluates them cleanly', async () => {
    const count = alertRules().length;
    await expect
      .poll(async () => (await prom.ruleGroups()).flatMap((gr) => gr.rules).filter((r) => !r.lastEvaluation.startsWith('0001-')).length, { timeout: 10_000 })
      .toBe(count);
    const rules = (await prom.ruleGroups()).flatMap((gr) => gr.rules.map((r) => `${gr.name}/${r.name}: ${r.health}${r.lastError ? ` (${r.lastError})` : ''}`));
    expect(rules.filter((r) => !r.endsWith(': ok'))).toEqual([]);
    expect(rules).toHaveLength(count);
  });

  it('sees through the alert expressions what the traffic did', async () => {
    const rules = alertRules();
    const labelsOf = async (alert: string, label: string, severity?: string) => {
      const rule = rules.find((r) => r.rule.alert === alert && (!severity || r.rule.labels?.severity === severity))!.rule;
      const r = await prom.query(rule.expr);
      expect(r.status, `${alert}: ${r.error}`).toBe('success');
      return r.data!.result.map((s) => s.metric[label]).sort();
    };
    // Every request to "gone" is refused; legacy and pipeline answer every one.
    expect(await labelsOf('SwitchyardBackendDown', 'backend')).toEqual(['gone']);
    expect(await labelsOf('SwitchyardBackendErrors', 'reason')).toEqual(['refused']);
    expect(await labelsOf('SwitchyardBackendHigh5xxRatio', 'backend', 'critical')).toEqual(['gone']);
    // Half of the catalog comparisons differ; no copy failed or was dropped.
    expect(await labelsOf('SwitchyardShadowMismatchRate', 'route')).toEqual(['catalog']);
    expect(await labelsOf('SwitchyardShadowCopiesFailing', 'route')).toEqual([]);
    expect(await labelsOf('SwitchyardShadowCopiesDropped', 'route')).toEqual([]);
    // A gateway that reads a file on purpose, and never had Redis, is not "not from Redis".
    expect(await labelsOf('SwitchyardRulesNotFromRedis', 'instance')).toEqual([]);
    expect(await labelsOf('SwitchyardRulesRedisDisconnected', 'instance')).toEqual([]);
    expect(await labelsOf('SwitchyardRulesReloadFailing', 'instance')).toEqual([]);
  });
});
