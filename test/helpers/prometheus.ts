/**
 * A real Prometheus for tests (Debian's `prometheus`, installed by scripts/ensure-deps.sh): its
 * own ephemeral port, config and TSDB under .tmp/, scraping the targets it is given every
 * second. Never the package's service on :9090.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort } from './redis.js';

export interface QueryResult {
  status: 'success' | 'error';
  data?: { resultType: string; result: { metric: Record<string, string>; value?: [number, string] }[] };
  errorType?: string;
  error?: string;
}

export interface RuleGroup {
  name: string;
  rules: { name: string; health: string; lastError?: string; lastEvaluation: string }[];
}

/** Runs promtool with the given arguments; promtool's output is kept for the assertion message. */
export function promtool(args: string[]): { code: number | null; output: string } {
  const r = spawnSync('promtool', args, { encoding: 'utf8' });
  if (r.error) return { code: null, output: `promtool could not run (${r.error.message}); scripts/ensure-deps.sh --system installs it` };
  return { code: r.status, output: r.stdout + r.stderr };
}

export class TestPrometheus {
  private log = '';

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly child: ChildProcess,
  ) {
    child.stdout!.on('data', (c: Buffer) => (this.log += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (this.log += c.toString()));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts Prometheus scraping `targets` (host:port) at `metricsPath` as job "switchyard". */
  static async start(opts: { targets: string[]; metricsPath?: string; ruleFiles?: string[] }): Promise<TestPrometheus> {
    mkdirSync('.tmp', { recursive: true });
    const dir = mkdtempSync(join(resolve('.tmp'), 'prometheus-'));
    const config = {
      global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
      rule_files: (opts.ruleFiles ?? []).map((f) => resolve(f)),
      scrape_configs: [{ job_name: 'switchyard', metrics_path: opts.metricsPath ?? '/metrics', static_configs: [{ targets: opts.targets }] }],
    };
    // JSON is YAML: no serializer needed.
    writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify(config, null, 2));
    const port = await freePort();
    const child = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const p = new TestPrometheus(port, dir, child);
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.once('error', () => undefined);
    const deadline = Date.now() + 60_000; // a cap: a loaded machine starts it slowly
    for (;;) {
      const ready = await fetch(`${p.url}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) return p;
      const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('running'), 50))]);
      if (code !== 'running' || Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`prometheus did not become ready on ${port} (exit ${String(code)}):\n${p.log}`);
      }
    }
  }

  async query(expr: string): Promise<QueryResult> {
    const r = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    return (await r.json()) as QueryResult;
  }

  async ruleGroups(): Promise<RuleGroup[]> {
    const r = (await (await fetch(`${this.url}/api/v1/rules`)).json()) as { data: { groups: RuleGroup[] } };
    return r.data.groups;
  }

  /** Polls `expr` until its first sample's value satisfies `ok`; returns that value. */
  async waitForValue(expr: string, ok: (value: number) => boolean, timeoutMs = 60_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.query(expr);
      const sample = r.data?.result[0]?.value;
      const value = sample ? Number(sample[1]) : NaN;
      if (sample && ok(value)) return value;
      if (Date.now() > deadline) throw new Error(`${expr} is ${sample ? value : 'empty'} after ${timeoutMs} ms (${r.error ?? 'no error'}):\n${this.log}`);
      await new Promise((res) => setTimeout(res, 100));
    }
  }

  /** Resolves once every target has been scraped successfully `count` times. */
  waitForScrapes(count: number): Promise<number> {
    return this.waitForValue('min(sum_over_time(up{job="switchyard"}[5m]))', (n) => n >= count);
  }

  async stop(): Promise<void> {
    const c = this.child;
    if (c.exitCode === null && c.signalCode === null) {
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
