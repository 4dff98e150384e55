/**
 * The JSONL sample file: capped by rotation at max_bytes, one previous file kept (FILE.1);
 * owner-only; and a sink that cannot open or write its file counts what it drops and recovers.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics/catalogue.js';
import { JsonlFileSink } from '../../src/shadow/sample-sink.js';
import { tempDir } from '../helpers/gateway.js';
import { metricValue } from '../helpers/metrics.js';

/** A sample whose JSON line is exactly 100 bytes (with its newline). */
const sample = (n: number) => ({ n, pad: 'x'.repeat(100 - JSON.stringify({ n, pad: '' }).length - 1) });
const lines = (file: string) =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { n: number }).n)
    : [];

describe('JSONL sample file', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = tempDir('switchyard-sink-');
    file = join(dir, 'samples', 'diff.jsonl');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes one JSON line per sample, creating the directory', async () => {
    const sink = new JsonlFileSink(file, 1000);
    sink.write(sample(1));
    sink.write(sample(2));
    await sink.close();
    expect(lines(file)).toEqual([1, 2]);
    expect(statSync(file).size).toBe(200);
  });

  it('rotates before the line that would pass max_bytes, keeping one previous file', async () => {
    const sink = new JsonlFileSink(file, 300);
    for (let n = 1; n <= 3; n++) sink.write(sample(n)); // exactly 300 bytes: no rotation yet
    sink.write(sample(4)); // 400 > 300: rotate first
    sink.write(sample(5));
    await sink.close();
    expect(lines(file + '.1')).toEqual([1, 2, 3]);
    expect(lines(file)).toEqual([4, 5]);
  });

  it('drops the older file on the next rotation: at most two files, 2 × max_bytes on disk', async () => {
    const sink = new JsonlFileSink(file, 200);
    for (let n = 1; n <= 7; n++) sink.write(sample(n));
    await sink.close();
    expect(lines(file + '.1')).toEqual([5, 6]);
    expect(lines(file)).toEqual([7]);
    expect(existsSync(file + '.2')).toBe(false);
    expect(statSync(file).size + statSync(file + '.1').size).toBeLessThanOrEqual(2 * 200);
  });

  it('counts what is already in the file when it starts (a restart appends, then rotates)', async () => {
    const first = new JsonlFileSink(file, 300);
    first.write(sample(1));
    first.write(sample(2));
    await first.close();
    const second = new JsonlFileSink(file, 300);
    second.write(sample(3));
    second.write(sample(4)); // 200 + 100 + 100 > 300
    await second.close();
    expect(lines(file + '.1')).toEqual([1, 2, 3]);
    expect(lines(file)).toEqual([4]);
  });

  it('writes a line larger than max_bytes to an empty file rather than losing it', async () => {
    const sink = new JsonlFileSink(file, 50);
    sink.write(sample(1));
    sink.write(sample(2));
    await sink.close();
    expect(lines(file + '.1')).toEqual([1]);
    expect(lines(file)).toEqual([2]);
  });

  it('creates the file 0600 and its directory 0700, and narrows an older, wider file', async () => {
    const sink = new JsonlFileSink(file, 150);
    sink.write(sample(1));
    sink.write(sample(2)); // rotates: FILE.1 keeps the mode
    await sink.close();
    expect(statSync(join(dir, 'samples')).mode & 0o777).toBe(0o700);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(file + '.1').mode & 0o777).toBe(0o600);
    const old = join(dir, 'old.jsonl');
    writeFileSync(old, '');
    chmodSync(old, 0o644);
    const again = new JsonlFileSink(old, 1000);
    again.write(sample(3));
    await again.close();
    expect(statSync(old).mode & 0o777).toBe(0o600);
  });
});

describe('JSONL sample file: failures', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir('switchyard-sink-');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const dropped = async (m: ReturnType<typeof createMetrics>, reason: string) =>
    metricValue(await m.registry.metrics(), 'switchyard_shadow_samples_dropped_total', { reason });

  it('counts a sample it cannot open the file for, and opens it for the next one', async () => {
    const metrics = createMetrics({ processMetrics: false });
    // The directory's name is taken by a file: mkdir fails (ENOTDIR/EEXIST), whoever runs this.
    writeFileSync(join(dir, 'samples'), '');
    const file = join(dir, 'samples', 'diff.jsonl');
    const sink = new JsonlFileSink(file, 1000, metrics);
    sink.write(sample(1));
    expect(await dropped(metrics, 'open_failed')).toBe(1);
    rmSync(join(dir, 'samples'));
    sink.write(sample(2));
    await sink.close();
    expect(lines(file)).toEqual([2]);
    expect(await dropped(metrics, 'open_failed')).toBe(1);
  });

  it('lets go of a stream whose write failed (ENOSPC on /dev/full) and writes again once it can', async () => {
    const metrics = createMetrics({ processMetrics: false });
    const file = join(dir, 'diff.jsonl');
    symlinkSync('/dev/full', file);
    const sink = new JsonlFileSink(file, 1000, metrics);
    sink.write(sample(1));
    sink.write(sample(2));
    await expect.poll(() => dropped(metrics, 'write_failed')).toBe(2);
    rmSync(file);
    mkdirSync(dir, { recursive: true });
    sink.write(sample(3));
    await sink.close();
    expect(lines(file)).toEqual([3]);
    expect(await dropped(metrics, 'write_failed')).toBe(2);
  });
});
