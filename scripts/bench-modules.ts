/**
 * `npm run bench:modules`: what 50 modules whose filters do not match add to a request.
 * Micro-benchmark, not a test. The pipeline runs with a last module that answers every request
 * itself, on fake request/response objects, so the figure is the engine's own work with no I/O:
 * admit, filters, the request phase, the local reply, the response and log phases.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createMetrics } from '../dist/metrics/catalogue.js';
import { Pipeline } from '../dist/pipeline/engine.js';
import { defineModule, type PipelineModule, respond } from '../dist/pipeline/module.js';
import { STANDARD_MODULES } from '../dist/pipeline/modules/index.js';
import { parseProducts } from '../dist/products/products-config.js';

const products = parseProducts('origin: { url: "http://127.0.0.1:9" }\n', 'bench');
const responder = defineModule({ name: 'responder', failure: 'open', configure: () => true, request: () => respond(200, 'bench') });
const dummies = Array.from({ length: 50 }, (_, i) =>
  defineModule({
    name: `dummy-${i}`,
    failure: 'open',
    configure: () => ({ prefix: `/product-${i}/` }),
    filter: (r, c) => r.path.startsWith(c.prefix),
    request: () => respond(500, 'never'),
  }),
);
const logger = pino({ level: 'silent' }, new Writable({ write: (_c, _e, cb) => cb() }));

function pipeline(extra: PipelineModule<never>[]): Pipeline {
  return new Pipeline(products, {
    metrics: createMetrics({ processMetrics: false }),
    logger,
    modules: [...extra, responder, ...STANDARD_MODULES] as PipelineModule<never>[],
  });
}

const req = {
  url: '/api/catalog/1?x=1',
  method: 'GET',
  headers: { host: 'shop.example', 'user-agent': 'bench' },
  rawHeaders: ['Host', 'shop.example', 'User-Agent', 'bench'],
  socket: { remoteAddress: '127.0.0.1' },
  httpVersionMajor: 1,
  httpVersionMinor: 1,
  complete: true,
} as unknown as IncomingMessage;
const res = { statusCode: 200, writeHead() {}, end() {} } as unknown as ServerResponse;

function perRequestNs(p: Pipeline, n: number): number {
  for (let i = 0; i < 50_000; i++) p.handle(req, res);
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) p.handle(req, res);
  return Number(process.hrtime.bigint() - t) / n;
}

const none = pipeline([]);
const fifty = pipeline(dummies as PipelineModule<never>[]);
const rounds: [number, number][] = [];
for (let r = 0; r < 5; r++) rounds.push([perRequestNs(none, 200_000), perRequestNs(fifty, 200_000)]);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const a = median(rounds.map((x) => x[0]));
const b = median(rounds.map((x) => x[1]));
process.stdout.write(`pipeline, no extra modules:            ${a.toFixed(0)} ns/request\n`);
process.stdout.write(`pipeline, 50 modules, none matching:   ${b.toFixed(0)} ns/request\n`);
process.stdout.write(`cost of 50 non-matching modules:       ${(b - a).toFixed(0)} ns/request (target: at most 1000)\n`);
