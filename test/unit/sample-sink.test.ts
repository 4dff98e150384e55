/** The JSONL sample file: capped by rotation at max_bytes, one previous file kept (FILE.1). */
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JsonlFileSink } from '../../src/shadow/sample-sink.js';
import { tempDir } from '../helpers/gateway.js';

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
});
