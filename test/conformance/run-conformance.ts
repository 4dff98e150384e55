/**
 * Runs every scenario against one implementation of the edge products: `start` gets the demo
 * origin's address and returns the implementation's base URL (hono's `runTest({ newRouter })`
 * shape: one suite, several implementations).
 */

import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoOrigin } from '../../scripts/demo-origin.js';
import { type ProductsConfig, parseProducts } from '../../src/products/products-config.js';
import { type Expect, type Req, scenarios } from './scenarios.js';

export interface Implementation {
  url: string;
  stop(): Promise<void>;
}

export const PRODUCTS_FILE = 'test/conformance/products.yaml';

export function conformanceProducts(): ProductsConfig {
  return parseProducts(readFileSync(PRODUCTS_FILE, 'utf8'), PRODUCTS_FILE);
}

interface Got {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function sendRaw(base: string, raw: string): Promise<Got> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(u.port), u.hostname);
    const chunks: Buffer[] = [];
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('error', reject);
    sock.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const head = text.split('\r\n\r\n')[0] ?? '';
      const headers: Record<string, string> = {};
      for (const line of head.split('\r\n').slice(1)) {
        const i = line.indexOf(':');
        if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
      }
      resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0), headers, body: text.slice(head.length + 4) });
    });
    // Not end(): node:http aborts a request whose client half-closed before the answer.
    sock.write(raw);
  });
}

function send(base: string, r: Req): Promise<Got> {
  if (r.raw !== undefined) return sendRaw(base, r.raw);
  return new Promise((resolve, reject) => {
    // host/port/path options, not a URL string: a URL would normalize "/../" before sending.
    const u = new URL(base);
    const req = request({ host: u.hostname, port: u.port, path: r.path, method: r.method ?? 'GET', headers: r.headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(r.body);
  });
}

function check(got: Got, want: Expect, label: string): void {
  expect(got.status, `${label}: status (body ${got.body.slice(0, 200)})`).toBe(want.status);
  for (const [name, v] of Object.entries(want.headers ?? {})) {
    const actual = got.headers[name];
    const text = Array.isArray(actual) ? actual.join(', ') : actual;
    if (v === null) expect(text, `${label}: header ${name} absent`).toBeUndefined();
    else if (v instanceof RegExp) expect(text, `${label}: header ${name}`).toMatch(v);
    else expect(text, `${label}: header ${name}`).toBe(v);
  }
  if (want.empty) expect(got.body, `${label}: empty body`).toBe('');
  if (want.json !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(got.body);
    } catch {
      throw new Error(`${label}: body is not JSON: ${got.body.slice(0, 200)}`);
    }
    expect(parsed, `${label}: body`).toMatchObject(want.json as object);
  }
  for (const path of want.absent ?? []) {
    const value = path.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), JSON.parse(got.body));
    expect(value, `${label}: ${path} absent`).toBeUndefined();
  }
}

/** `name` picks the scenarios' `differs` entry; `label` names the run (default: the name). */
export function runConformance(name: string, start: (origin: { host: string; port: number; url: string }) => Promise<Implementation>, label = name): void {
  describe(`conformance: ${label}`, () => {
    let origin: Awaited<ReturnType<typeof startDemoOrigin>>;
    let impl: Implementation;

    beforeAll(async () => {
      origin = await startDemoOrigin();
      impl = await start({ host: '127.0.0.1', port: origin.port, url: origin.url });
    });
    afterAll(async () => {
      await impl?.stop();
      await origin?.close();
    });

    for (const s of scenarios) {
      it(`${s.product}: ${s.name}`, async () => {
        const differs = s.differs?.[name];
        for (const [i, step] of s.steps.entries()) {
          const got = await send(impl.url, step.req);
          check(got, differs && s.steps.length === 1 ? differs.expect : step.expect, `step ${i + 1}`);
        }
      });
    }
  });
}
