/**
 * `switchyard diffs samples [--route R] [--field POINTER] [--limit N] [--json] [--config FILE]`:
 * the stored mismatch samples (newest first) with the request and both answers, read from where
 * the gateway's sample sink writes them (Redis stream PREFIX{diffs}:samples, or the JSONL file).
 */
import { parseArgs } from 'node:util';
import { answersOf, readSamples, sampleSource, type StoredSample } from '../shadow/sample-reader.js';
import { defaultConfigPath, loadConfigOrExit, printJson, UsageError } from './common.js';

export const DIFFS_SAMPLES_USAGE = 'switchyard diffs samples [--route NAME] [--field POINTER] [--limit N] [--json] [--config FILE]';

const show = (v: unknown) => (v === undefined ? 'absent' : typeof v === 'string' ? v : JSON.stringify(v));

export function renderSample(s: StoredSample): string[] {
  const lines = [`${s.time}  ${s.route}  ${s.method} ${s.path}${s.query ? `?${s.query}` : ''}  request ${s.request_id}`];
  for (const [k, v] of Object.entries(s.request_headers ?? {})) lines.push(`  > ${k}: ${Array.isArray(v) ? v.join(', ') : v}`);
  const names = answersOf(s).map(([n]) => n);
  lines.push('  differences:');
  for (const d of s.diffs ?? []) lines.push(`    ${d.field}: ${names[0] ?? 'served'}=${show(d.a)}  ${names[1] ?? 'shadow'}=${show(d.b)}`);
  for (const [name, a] of answersOf(s)) {
    if (!a) {
      lines.push(`  ${name}: no answer stored`);
      continue;
    }
    lines.push(`  ${name}: status ${a.status}`);
    for (const [k, v] of Object.entries(a.headers ?? {})) lines.push(`    < ${k}: ${Array.isArray(v) ? v.join(', ') : v}`);
    const body = typeof a.body === 'string' ? a.body : JSON.stringify(a.body, null, 2);
    for (const l of body.split('\n')) lines.push(`    | ${l}`);
  }
  return lines;
}

export async function diffsSamplesCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      route: { type: 'string' },
      field: { type: 'string' },
      limit: { type: 'string', default: '5' },
      json: { type: 'boolean', default: false },
      config: { type: 'string', short: 'c' },
    },
  });
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit expects a positive whole number, got ${JSON.stringify(values.limit)}`);
  const config = loadConfigOrExit(defaultConfigPath(values.config));
  const samples = await readSamples(config, { route: values.route, field: values.field, limit });
  if (values.json) {
    printJson({ source: sampleSource(config), samples });
    return 0;
  }
  if (!samples.length) {
    process.stdout.write(`no stored samples${values.route ? ` of route ${values.route}` : ''}${values.field ? ` with field ${values.field}` : ''} in ${sampleSource(config)}\n`);
    return 0;
  }
  process.stdout.write(samples.map((s) => renderSample(s).join('\n')).join('\n\n') + '\n');
  return 0;
}
