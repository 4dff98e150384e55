/** Reads series from a Prometheus text exposition (an admin /metrics body). */
import { send } from './servers.js';

/** Every series of `name` as [labels, value]. */
export function series(text: string, name: string): [Record<string, string>, number][] {
  const out: [Record<string, string>, number][] = [];
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)$`, 'gm'))) {
    const labels: Record<string, string> = {};
    for (const l of (m[1] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push([labels, Number(m[2])]);
  }
  return out;
}

/** The sum of the series of `name` whose labels include `labels`. */
export function sumOf(text: string, name: string, labels: Record<string, string> = {}): number {
  return series(text, name)
    .filter(([l]) => Object.entries(labels).every(([k, v]) => l[k] === v))
    .reduce((a, [, v]) => a + v, 0);
}

/** Scrapes an admin listener and reads one value. */
export async function scrape(admin: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  return sumOf((await send(admin + '/metrics')).body, name, labels);
}
