/**
 * `npm run bench:access-log`: CPU per access line (user + system, process.cpuUsage, which counts
 * the libuv threads that do the writes), so that it means something on a loaded machine
 * (issue 14 item 1). Two writers of the same line to /dev/null through pino.destination, as the
 * gateway writes to stderr:
 *
 *   pino     the generic path the gateway used before: logger.child({ kind: 'access' }).info(line)
 *   switchyard   AccessLog: hand-written serializer, ISO time cached per ms, buffered writes
 *
 * A script, not a test: it prints, it asserts nothing.
 */
import { once } from 'node:events';
import { pino } from 'pino';
import { AccessLog, type AccessLine } from '../dist/log/access-log.js';
import { createLogger } from '../dist/log/logger.js';

const LINES = Number(process.env.LINES ?? 200_000);
const ROUNDS = 5;

/** A line as the gateway writes it for a proxied GET; ids and durations vary as they do. */
function lineOf(i: number): AccessLine {
  return {
    request_id: `01J${i.toString(36).padStart(10, '0')}`,
    method: 'GET',
    path: '/api/catalog/items',
    route: 'catalog',
    backend: 'legacy',
    placement: 'split',
    shadow: 'none',
    status: 200,
    duration_ms: 1.234 + (i % 97) / 1000,
    bytes_in: 187,
    bytes_out: 1342,
  };
}

async function run(kind: 'pino' | 'switchyard'): Promise<number> {
  const dest = pino.destination({ dest: '/dev/null', sync: false });
  await once(dest, 'ready');
  const logger = createLogger('info', dest as unknown as NodeJS.WritableStream);
  const child = logger.child({ kind: 'access' });
  const access = AccessLog.of(logger, { access: true, accessSample: 1 })!;
  const t0 = process.cpuUsage();
  for (let i = 0; i < LINES; i++) {
    const line = lineOf(i);
    if (kind === 'pino') child.info(line);
    else access.write(line);
  }
  access.close();
  // Until the last byte is written: the writes are part of the cost.
  await new Promise<void>((resolve) => dest.flush(() => resolve()));
  const t = process.cpuUsage(t0);
  dest.end();
  return ((t.user + t.system) * 1000) / LINES; // ns per line
}

const results: Record<string, number[]> = { pino: [], switchyard: [] };
for (let r = 0; r < ROUNDS; r++) {
  // Alternating order, so that neither always runs on a warmer heap.
  for (const kind of r % 2 ? (['switchyard', 'pino'] as const) : (['pino', 'switchyard'] as const)) results[kind]!.push(await run(kind));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p = median(results.pino!);
const s = median(results.switchyard!);
console.log(`access line CPU (user+system), ${LINES} lines x ${ROUNDS} rounds, median:`);
console.log(`  pino generic path   ${(p / 1000).toFixed(2)} µs/line`);
console.log(`  switchyard AccessLog ${(s / 1000).toFixed(2)} µs/line  (${(s / p).toFixed(2)}x)`);
