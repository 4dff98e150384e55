/**
 * `npm run fuzz:parity -- [--seed N] [--count M] [--quiet]`: the differential fuzz
 * (scripts/fuzz/) beyond CI's fixed budget. Starts the legacy layer (nginx + Lua) and the
 * pipeline service on test/fuzz/products.yaml (the rules the generator aims at and the
 * classifiers know), each in front of its own recording origin, sends both the same seeded
 * stream of requests, prints every difference as it is found (--quiet: only the undocumented
 * ones) and a count per documented difference; exits 1 when a difference is not documented in
 * docs/products.md ("Where implementations differ").
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { LegacyLayer } from '../dist/legacy/legacy-layer.js';
import { createLogger } from '../dist/log/logger.js';
import { createMetrics } from '../dist/metrics/catalogue.js';
import { PipelineServer } from '../dist/pipeline/pipeline-server.js';
import { loadProducts } from '../dist/products/products-config.js';
import { formatFinding, formatSummary, runParity, undocumented } from './fuzz/parity.js';

const USAGE = 'usage: npm run fuzz:parity -- [--seed N] [--count M] [--quiet]\n';
let values: { seed: string; count: string; quiet: boolean };
try {
  values = parseArgs({
    options: {
      seed: { type: 'string', default: '1' },
      count: { type: 'string', default: '2000' },
      quiet: { type: 'boolean', default: false },
    },
  }).values;
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n${USAGE}`);
  process.exit(2);
}
const seed = Number(values.seed);
const count = Number(values.count);
if (!Number.isInteger(seed) || !Number.isInteger(count) || count < 1) {
  process.stderr.write(USAGE);
  process.exit(2);
}
// Ctrl-C ends the run after the request in flight: servers stopped, the summary of what was sent.
const interrupted = new AbortController();
process.once('SIGINT', () => interrupted.abort());

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}

const products = loadProducts('test/fuzz/products.yaml');
const prefix = mkdtempSync(join(tmpdir(), 'switchyard-fuzz-'));
try {
  const report = await runParity({
    seed,
    count,
    signal: interrupted.signal,
    legacy: async (origin) => {
      const port = await freePort();
      const layer = await LegacyLayer.start({ products, origin, listen: { host: '127.0.0.1', port }, prefix }, resolve('.'));
      return { port, stop: () => layer.stop() };
    },
    pipeline: async (origin) => {
      const server = await PipelineServer.start({
        products,
        origin,
        listen: { host: '127.0.0.1', port: 0 },
        metrics: createMetrics({ processMetrics: false }),
        logger: createLogger('warn'),
      });
      return { port: server.port, stop: () => server.stop(1000) };
    },
    onFinding: (f) => {
      if (!values.quiet || !f.explainedBy) process.stdout.write(`${formatFinding(f)}\n`);
    },
  });
  process.stdout.write(`${formatSummary(report)}\n`);
  process.exitCode = undocumented(report).length ? 1 : 0;
} finally {
  rmSync(prefix, { recursive: true, force: true });
}
