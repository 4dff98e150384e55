/**
 * Reading counters from a /metrics scrape, so that a test asserts on what it caused (the
 * difference before and after) rather than on a total other tests also add to.
 */
import { send } from './servers.js';

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/**
 * The value of the series `name` whose labels include `labels`, summed when several match
 * (no labels: every series of the metric); 0 when none is there yet, as Prometheus treats a
 * counter that was never incremented.
 */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m || m[1] !== name) continue;
    const have = new Map([...(m[2] ?? '').matchAll(LABEL)].map((l) => [l[1]!, l[2]!.replace(/\\(.)/g, (_e, c: string) => (c === 'n' ? '\n' : c))]));
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) sum += Number(m[3]);
  }
  return sum;
}

/** One scrape of an admin listener's /metrics. */
export async function scrape(admin: string): Promise<string> {
  const r = await send(admin + '/metrics');
  if (r.status !== 200) throw new Error(`GET ${admin}/metrics answered ${r.status}`);
  return r.body;
}

/** `metricValue` of a fresh scrape: use it before and after (or in expect.poll) for a delta. */
export async function metric(admin: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  return metricValue(await scrape(admin), name, labels);
}
