import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTraceContext } from '../../src/http/trace-context.js';
import { createLogger } from '../../src/log/logger.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { send, startServer, waitFor, type TestServer } from '../helpers/servers.js';

const CLIENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '00f067aa0ba902b7';

/** A backend that records the headers it got and answers with its own name (so shadow copies mismatch). */
async function recordingBackend(name: string, seen: IncomingHttpHeaders[]): Promise<TestServer> {
  return startServer((req, res) => {
    seen.push(req.headers);
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ served_by: name }));
    });
  });
}

describe('W3C trace context through primary and shadow', () => {
  const legacySeen: IncomingHttpHeaders[] = [];
  const pipelineSeen: IncomingHttpHeaders[] = [];
  const lines: Record<string, unknown>[] = [];
  let legacy: TestServer;
  let pipeline: TestServer;
  let g: TestGateway;

  beforeAll(async () => {
    legacy = await recordingBackend('legacy', legacySeen);
    pipeline = await recordingBackend('pipeline', pipelineSeen);
    const sink = new Writable({
      write(chunk: Buffer, _e, cb) {
        for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l));
        cb();
      },
    });
    g = await startGateway({
      backends: { legacy: legacy.url, pipeline: pipeline.url },
      rules: 'default: legacy\nroutes:\n  - { name: t, match: { path: "/t/**" }, backend: legacy, shadow: { percent: 100 } }\n',
      options: { logger: createLogger('info', sink) },
    });
  });
  afterAll(async () => {
    await g.stop();
    await legacy.close();
    await pipeline.close();
  });

  /** Sends one request and waits until both backends saw it and its mismatch sample is stored. */
  async function exchange(headers: Record<string, string>) {
    const before = { legacy: legacySeen.length, pipeline: pipelineSeen.length };
    const samples = join(g.dir, 'state', 'diff-samples.jsonl');
    const samplesBefore = existsSync(samples) ? readFileSync(samples, 'utf8').split('\n').filter(Boolean).length : 0;
    const r = await send(`${g.url}/t/1`, { headers });
    expect(r.status).toBe(200);
    await waitFor(() => pipelineSeen.length > before.pipeline, 10_000, 'the shadow copy');
    await waitFor(() => existsSync(samples) && readFileSync(samples, 'utf8').split('\n').filter(Boolean).length > samplesBefore, 10_000, 'the mismatch sample');
    const sample = JSON.parse(readFileSync(samples, 'utf8').split('\n').filter(Boolean).at(-1)!);
    const requestId = r.headers['x-request-id'];
    await waitFor(() => lines.some((l) => l.kind === 'access' && l.request_id === requestId), 10_000, 'the access line');
    const access = lines.find((l) => l.kind === 'access' && l.request_id === requestId)!;
    return { primary: legacySeen[before.legacy]!, copy: pipelineSeen[before.pipeline]!, sample, access };
  }

  it("continues the client's trace: the serving call and the copy are sibling spans of the client's span", async () => {
    const { primary, copy, sample, access } = await exchange({ traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`, tracestate: 'vendor=abc' });
    const p = parseTraceContext(primary.traceparent, undefined)!;
    const c = parseTraceContext(copy.traceparent, undefined)!;
    expect(p.traceId).toBe(CLIENT_TRACE);
    expect(c.traceId).toBe(CLIENT_TRACE);
    // Each call is a new span, neither is the client's own, and they differ from each other.
    expect(p.parentId).not.toBe(CLIENT_SPAN);
    expect(c.parentId).not.toBe(CLIENT_SPAN);
    expect(p.parentId).not.toBe(c.parentId);
    expect(p.flags).toBe('01');
    expect(primary.tracestate).toBe('vendor=abc');
    expect(copy.tracestate).toBe('vendor=abc');
    expect(access.trace_id).toBe(CLIENT_TRACE);
    expect(sample.trace_id).toBe(CLIENT_TRACE);
  });

  it('starts a trace when the client sent none, and replaces an invalid one (dropping its tracestate)', async () => {
    const none = await exchange({});
    const started = parseTraceContext(none.primary.traceparent, undefined)!;
    expect(started).toBeDefined();
    expect(parseTraceContext(none.copy.traceparent, undefined)!.traceId).toBe(started.traceId);
    expect(none.access.trace_id).toBe(started.traceId);
    expect(none.sample.trace_id).toBe(started.traceId);

    const invalid = await exchange({ traceparent: `00-${'0'.repeat(32)}-${CLIENT_SPAN}-01`, tracestate: 'vendor=abc' });
    const restarted = parseTraceContext(invalid.primary.traceparent, undefined)!;
    expect(restarted.traceId).not.toBe('0'.repeat(32));
    expect(restarted.traceId).not.toBe(started.traceId);
    expect(invalid.primary.tracestate).toBeUndefined();
    expect(invalid.copy.tracestate).toBeUndefined();
  });
});
