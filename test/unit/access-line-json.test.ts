import { Writable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { durationText, IsoTimeCache, jsonString } from '../../src/log/access-line-json.js';
import { type AccessLine, AccessLog } from '../../src/log/access-log.js';
import { createLogger } from '../../src/log/logger.js';

/** Strings with what JSON must escape: quotes, backslashes, control characters, lone surrogates. */
const unit = fc.constantFrom('"', '\\', '\n', '\u0000', '\u001f', '\u007f', '\u2028', '\ud800', '\udfff', '\ud83d\ude00', 'a', '/', 'é');
const tricky = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.string({ unit }),
  // Long enough for the serializer's other check (short strings are checked character by character).
  fc.string({ unit: fc.oneof({ weight: 20, arbitrary: fc.constant('a') }, { weight: 1, arbitrary: unit }), minLength: 20, maxLength: 80 }),
);

// `satisfies` makes a field added to AccessLine fail to compile here until the property covers it.
const fields = {
  request_id: tricky,
  trace_id: tricky,
  method: tricky,
  protocol: tricky,
  path: tricky,
  route: tricky,
  backend: tricky,
  placement: tricky,
  shadow: tricky,
  fallback: tricky,
  fallback_from: tricky,
  status: fc.integer({ min: 0, max: 999 }),
  duration_ms: fc.oneof(fc.double(), fc.constant(Number.NaN)),
  bytes_in: fc.nat(),
  bytes_out: fc.nat(),
  reply: tricky,
  error: tricky,
  cause: tricky,
} satisfies { [K in keyof Required<AccessLine>]: fc.Arbitrary<AccessLine[K]> };
const line: fc.Arbitrary<AccessLine> = fc.record(fields, { requiredKeys: ['status', 'bytes_in', 'bytes_out'] });

/** Every line the logger writes, parsed; `raw` keeps the text. */
function capture() {
  const raw: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      raw.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  return { raw, logger: createLogger('info', sink) };
}

describe('the access line serializer', () => {
  it('writes a string as JSON.stringify does, and JSON.parse gives it back', () => {
    fc.assert(
      fc.property(tricky, (s) => {
        expect(jsonString(s)).toBe(JSON.stringify(s));
        expect(JSON.parse(jsonString(s))).toBe(s);
      }),
      { numRuns: 2000 },
    );
  });

  it('writes a duration as String() does, microsecond-precise or not', () => {
    const us = fc.oneof(fc.integer({ min: 0, max: 10_000_000 }), fc.maxSafeNat());
    fc.assert(
      fc.property(us, (n) => {
        expect(durationText(n / 1000)).toBe(String(n / 1000));
      }),
      { numRuns: 20_000 },
    );
    fc.assert(
      fc.property(fc.double(), (d) => {
        expect(durationText(d)).toBe(Number.isFinite(d) ? String(d) : 'null');
      }),
      { numRuns: 5000 },
    );
    for (const d of [0, 0.001, 0.01, 0.1, 1, 1.5, 12.34, 100.001, 1e-7, -0.001]) expect(durationText(d)).toBe(String(d));
    // Every fraction of a millisecond, each with a few whole parts.
    for (const whole of [0, 7, 1234]) for (let us = 0; us < 1000; us++) expect(durationText(whole + us / 1000)).toBe(String(whole + us / 1000));
  });

  it("writes the same object, keys in the same order, as pino's generic path", () => {
    fc.assert(
      fc.property(line, (l) => {
        const ours = capture();
        const access = AccessLog.of(ours.logger, { access: true, accessSample: 1 })!;
        access.write(l);
        access.close();
        const theirs = capture();
        theirs.logger.child({ kind: 'access' }).info(l);
        expect(ours.raw).toHaveLength(1);
        const a = JSON.parse(ours.raw[0]!) as Record<string, unknown>;
        const b = JSON.parse(theirs.raw[0]!) as Record<string, unknown>;
        expect(typeof a.time).toBe('string');
        expect(Date.parse(a.time as string)).not.toBeNaN();
        delete a.time;
        delete b.time;
        // Lone surrogates: pino writes them raw (replaced by U+FFFD on the way out), we escape
        // them; parsed, ours gives back the exact string.
        for (const [k, v] of Object.entries(l)) if (typeof v === 'string') expect(a[k]).toBe(v);
        expect(Object.keys(a)).toEqual(Object.keys(b));
        if (!Object.values(l).some((v) => typeof v === 'string' && /[\ud800-\udfff]/.test(v))) expect(a).toEqual(b);
      }),
      { numRuns: 500 },
    );
  });

  it('writes nothing until flushed or closed, then every line in order', () => {
    const c = capture();
    const access = AccessLog.of(c.logger, { access: true, accessSample: 1 })!;
    for (let i = 0; i < 10; i++) access.write({ request_id: `r${i}`, status: 200, bytes_in: i, bytes_out: 0 });
    expect(c.raw).toHaveLength(0);
    access.close();
    expect(c.raw.map((r) => (JSON.parse(r) as { request_id: string }).request_id)).toEqual([...Array(10).keys()].map((i) => `r${i}`));
  });

  it('keeps every line whole and in order across writes: multi-byte text, a line longer than the buffer', () => {
    const c = capture();
    const access = AccessLog.of(c.logger, { access: true, accessSample: 1 })!;
    // Lines that fill the 32 KiB buffer on their own, one longer than it, short ones between.
    const paths = ['/a', '/€'.repeat(3000), '/b', '/€'.repeat(20_000), '/😀', 'x'.repeat(40_000), '/c', '/€'.repeat(5000)];
    for (const [i, path] of paths.entries()) access.write({ request_id: `r${i}`, path, status: 200, bytes_in: 0, bytes_out: 0 });
    access.close();
    const lines = c.raw.map((r) => JSON.parse(r) as { request_id: string; path: string });
    expect(lines.map((l) => l.request_id)).toEqual(paths.map((_, i) => `r${i}`));
    expect(lines.map((l) => l.path)).toEqual(paths);
  });

  it('serializes a value the same after its field has cached a thousand others', () => {
    const c = capture();
    const access = AccessLog.of(c.logger, { access: true, accessSample: 1 })!;
    const routes = Array.from({ length: 1500 }, (_, i) => `route-${i}"\\`);
    for (const route of [...routes, ...routes]) access.write({ route, status: 200, bytes_in: 0, bytes_out: 0 });
    access.close();
    expect(c.raw.map((r) => (JSON.parse(r) as { route: string }).route)).toEqual([...routes, ...routes]);
  });

  it('gives each line the time it was written, not the time its batch was serialized', () => {
    const c = capture();
    let now = Date.parse('2026-11-27T10:00:00.000Z');
    const access = AccessLog.of(c.logger, { access: true, accessSample: 1 }, () => now)!;
    // More lines than one batch, a few milliseconds apart, across a second.
    const written: string[] = [];
    for (let i = 0; i < 150; i++) {
      now += 7;
      written.push(new Date(now).toISOString());
      access.write({ request_id: `r${i}`, status: 200, bytes_in: 0, bytes_out: 0 });
    }
    now += 60_000;
    access.close();
    expect(c.raw.map((r) => (JSON.parse(r) as { time: string }).time)).toEqual(written);
  });

  it('writes no line twice after its destination threw', () => {
    const raw: string[] = [];
    let fail = true;
    const sink = { write: (chunk: string) => (fail ? ((fail = false), failWrite()) : raw.push(...chunk.split('\n').filter(Boolean))) };
    const failWrite = () => {
      throw new Error('EIO');
    };
    const access = AccessLog.of(createLogger('info', sink as unknown as NodeJS.WritableStream), { access: true, accessSample: 1 })!;
    // Long enough that the buffer is written, and fails, in the middle of the batch.
    for (let i = 0; i < 3; i++) access.write({ request_id: `lost${i}`, path: 'x'.repeat(20_000), status: 200, bytes_in: 0, bytes_out: 0 });
    expect(() => access.close()).toThrow('EIO');
    for (let i = 0; i < 3; i++) access.write({ request_id: `r${i}`, status: 200, bytes_in: 0, bytes_out: 0 });
    access.close();
    expect(raw.map((r) => (JSON.parse(r) as { request_id: string }).request_id)).toEqual(['r0', 'r1', 'r2']);
  });

  it('writes no line when the level is above info', () => {
    const c = capture();
    c.logger.level = 'warn';
    const access = AccessLog.of(c.logger, { access: true, accessSample: 1 })!;
    access.write({ status: 200, bytes_in: 0, bytes_out: 0 });
    access.close();
    expect(c.raw).toHaveLength(0);
  });
});

describe('IsoTimeCache', () => {
  it("gives toISOString's text for every millisecond, whatever the order the clock goes in", () => {
    // Integer milliseconds from 1970 to past year 9999 (toISOString's "+YYYYYY" form).
    const ms = fc.integer({ min: 0, max: 8_640_000_000_000_000 });
    fc.assert(
      fc.property(fc.array(fc.oneof(ms, fc.integer({ min: 1_700_000_000_000, max: 1_700_000_002_000 })), { minLength: 1, maxLength: 50 }), (times) => {
        const cache = new IsoTimeCache('{"level":30', ',"pid":1');
        for (const t of times) expect(cache.at(t)).toBe(`{"level":30,"time":"${new Date(t).toISOString()}","pid":1`);
      }),
      { numRuns: 300 },
    );
  });
});
