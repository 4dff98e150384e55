import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TestGateway } from '../helpers/gateway.js';
import { runCli } from '../helpers/process.js';
import { TestRedis } from '../helpers/redis.js';
import { drive, type Faults, history, itemBackend, pushRules, rolloutGateway, rules, status } from '../helpers/rollout.js';
import type { TestServer } from '../helpers/servers.js';

describe('rollouts judged on evidence', () => {
  let redis: TestRedis;
  let prefixN = 0;
  const cleanup: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    redis = await TestRedis.start();
  });
  afterAll(async () => {
    await redis.stop();
  });
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  /** Backends, rules pushed by a person, one gateway; returns the gateway and the prefix. */
  async function setup(ruleText: string, faults: Faults = {}): Promise<{ g: TestGateway; prefix: string; legacy: TestServer; pipeline: TestServer }> {
    const prefix = `ro${++prefixN}:`;
    const legacy = await itemBackend();
    const pipeline = await itemBackend(faults);
    cleanup.push(
      () => legacy.close(),
      () => pipeline.close(),
    );
    await pushRules(redis, prefix, ruleText);
    const g = await rolloutGateway(redis, prefix, { legacy: legacy.url, pipeline: pipeline.url }, ruleText);
    cleanup.push(() => g.stop());
    return { g, prefix, legacy, pipeline };
  }

  it('promotes a clean candidate through every step to 100%, each move a rule push with its evidence', { timeout: 120_000 }, async () => {
    const { g, prefix } = await setup(rules());
    const traffic = drive(g.url);
    cleanup.push(() => traffic.stop());
    await expect.poll(async () => (await status(g.admin))?.state, { timeout: 110_000, interval: 100 }).toBe('complete');
    const s = (await status(g.admin))!;
    expect(s.percent).toBe(100);
    // The gauges follow the controller's next tick after the state it wrote to Redis.
    const scrape = () => fetch(`${g.admin}/metrics`).then((r) => r.text());
    await expect.poll(scrape, { timeout: 10_000, interval: 100 }).toMatch(/^switchyard_rollout_step_percent\{route="catalog"\} 100$/m);
    await expect.poll(scrape, { timeout: 10_000, interval: 100 }).toMatch(/^switchyard_rollout_state\{route="catalog",state="complete"\} 1$/m);
    const metrics = await scrape();
    expect(metrics).toMatch(/^switchyard_rollout_state\{route="catalog",state="complete"\} 1$/m);
    expect(metrics).toMatch(/^switchyard_rollout_state\{route="catalog",state="progressing"\} 0$/m);
    expect(metrics).toMatch(/^switchyard_rollout_transitions_total\{route="catalog",reason="promote"\} 2$/m);
    expect(metrics).toMatch(/^switchyard_rollout_gate_value\{route="catalog",gate="mismatch_rate"\} 0\.\d+$/m);
    expect(metrics).toMatch(/^switchyard_rollout_leader 1$/m);
    const moves = (await history(redis, prefix)).filter((e) => e.author === 'rollout').map((e) => e.message);
    expect(moves).toEqual([
      expect.stringMatching(
        /^rollout catalog: 50% -> 100% \(gates passed; requests \d+, comparisons \d+, mismatch <= \d+\.\d\d%, errors [+-]\d+\.\d\d%, p99 \d+\.\d\dx\)$/,
      ),
      expect.stringMatching(/^rollout catalog: 10% -> 50% \(gates passed; requests \d+, comparisons \d+, mismatch <= /),
    ]);
    // The gateways serve the pushed split: everything goes to the candidate now.
    const res = await fetch(`${g.url}/api/item/1`, { headers: { 'x-user-id': 'someone' } });
    expect(res.headers.get('x-switchyard-backend')).toBe('pipeline');
  });

  it('rolls back a candidate that answers a different field too often, and the history says why', { timeout: 90_000 }, async () => {
    const { g, prefix } = await setup(rules(), { mismatchEvery: 2 });
    const traffic = drive(g.url);
    cleanup.push(() => traffic.stop());
    await expect.poll(async () => (await status(g.admin))?.state, { timeout: 80_000, interval: 100 }).toBe('rolled_back');
    const s = (await status(g.admin))!;
    expect(s.percent).toBe(0);
    const last = (await history(redis, prefix))[0]!;
    expect(last.author).toBe('rollout');
    expect(last.message).toMatch(/^rollout catalog: 10% -> 0% \(breach: mismatch_rate lower bound \d+\.\d\d% over 20\.00% \(\d+ of \d+ differ/);
    expect(last.yaml).toContain('split: { legacy: 100, pipeline: 0 }');
    // The gateway's diff report of the window has the mismatches too, from the CLI as from the API.
    const auth = { authorization: 'Bearer admin-secret' };
    const window = (await fetch(`${g.admin}/diffs?since=10m`, { headers: auth }).then((r) => r.json())) as {
      routes: { route: string; results: Record<string, number> }[];
    };
    expect(window.routes[0]!.route).toBe('catalog');
    expect(window.routes[0]!.results.mismatch).toBeGreaterThan(0);
    const cli = await runCli(['diffs', '--since', '10m', '--admin', g.admin, '--token', 'admin-secret']);
    expect(cli.stdout).toMatch(/catalog/);
    expect(cli.stdout).toMatch(/mismatch/);
    expect((await fetch(`${g.admin}/diffs?since=soon`, { headers: auth })).status).toBe(400);
  });

  it('holds on thin traffic, moves nothing and says what is missing', async () => {
    const { g, prefix } = await setup(rules({ minRequests: 1000 }));
    for (let i = 0; i < 20; i++) await fetch(`${g.url}/api/item/${i}`, { headers: { 'x-user-id': `u${i}` } }).then((r) => r.arrayBuffer());
    await expect.poll(async () => (await status(g.admin))?.state, { timeout: 30_000, interval: 100 }).toBe('holding');
    const s = (await status(g.admin))!;
    expect(s.percent).toBe(10);
    expect(s.missing).toEqual(expect.arrayContaining([expect.stringMatching(/^requests: \d+ of 1000 served by pipeline$/)]));
    expect(s.gates.find((x) => x.gate === 'error_rate')?.status).toBe('open');
    expect((await history(redis, prefix)).map((e) => e.author)).toEqual(['alice']);
  });

  it('rolls back a candidate that answers 5xx', { timeout: 90_000 }, async () => {
    const { g, prefix } = await setup(rules({ shadow: false }), { errorEvery: 2 });
    const traffic = drive(g.url);
    cleanup.push(() => traffic.stop());
    await expect.poll(async () => (await status(g.admin))?.state, { timeout: 80_000, interval: 100 }).toBe('rolled_back');
    expect((await history(redis, prefix))[0]!.message).toMatch(/^rollout catalog: 10% -> 0% \(breach: error_rate \+\d+\.\d\d% over 10\.00%/);
  });

  it('rolls back a slow candidate', { timeout: 90_000 }, async () => {
    const { g, prefix } = await setup(rules({ shadow: false, gates: '{ mismatch_rate: 20%, error_rate: 10%, p99_ratio: 2.5 }' }), { delayMs: 300 });
    const traffic = drive(g.url);
    cleanup.push(() => traffic.stop());
    await expect.poll(async () => (await status(g.admin))?.state, { timeout: 80_000, interval: 100 }).toBe('rolled_back');
    // From the first step, or a later one when a loaded machine slowed the other backend as much.
    expect((await history(redis, prefix))[0]!.message).toMatch(/^rollout catalog: (10|50)% -> 0% \(breach: p99_ratio \d+\.\d\dx over 2\.5x/);
  });

  it("keeps a person's push made during a rollout, pauses, and resumes from it", async () => {
    const { g, prefix } = await setup(rules({ interval: '1h' }));
    await expect.poll(async () => (await status(g.admin))?.state, { timeout: 30_000, interval: 100 }).toBe('holding');
    const manual = rules({ interval: '1h', split: '{ legacy: 70, pipeline: 30 }' });
    const version = await pushRules(redis, prefix, manual, 'bob', 'more traffic to pipeline by hand');
    await expect.poll(async () => (await status(g.admin))?.state, { timeout: 30_000, interval: 100 }).toBe('paused');
    const s = (await status(g.admin))!;
    expect(s.reason).toBe(`split set to 30% by bob (version ${version}); paused`);
    const h = await history(redis, prefix);
    expect(h[0]).toMatchObject({ version, author: 'bob' });
    expect(h[0]!.yaml).toBe(manual);
    // Resumed, the rollout goes on from the person's 30%: step 1 (10%) passed, next 50%.
    const res = await fetch(`${g.admin}/rollouts/catalog/resume`, {
      method: 'POST',
      headers: { authorization: 'Bearer admin-secret', 'x-switchyard-author': 'bob' },
    });
    expect(res.status).toBe(200);
    expect((await res.json()) as unknown).toMatchObject({ rollout: { state: 'progressing', percent: 30, stepIndex: 0, reason: 'resumed by bob' } });
    expect(await status(g.admin)).toMatchObject({ percent: 30, step: 1, next_percent: 50 });
    expect((await history(redis, prefix))[0]!.version).toBe(version);
  });
});
