import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MIN_NODE, olderThan } from '../../src/cli/node-version.js';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string }; dependencies: Record<string, string> };

/** The lowest version a range such as ">=22.19", "^16 || >=20" or ">= 14.6" lets in. */
function lowest(range: string): string {
  const bounds = range.split('||').map((r) => {
    const m = /(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(r);
    return m ? `${m[1]}.${m[2] ?? 0}.${m[3] ?? 0}` : '0.0.0';
  });
  return bounds.reduce((a, b) => (olderThan(b, a) ? b : a));
}

describe('the Node.js version', () => {
  it('the CLI refuses exactly what package.json engines refuse', () => {
    expect(pkg.engines.node).toMatch(/^>=\d+\.\d+$/);
    expect(lowest(pkg.engines.node)).toBe(MIN_NODE);
  });

  it('engines promise no Node that a runtime dependency refuses', () => {
    for (const dep of Object.keys(pkg.dependencies)) {
      const range = (JSON.parse(readFileSync(`node_modules/${dep}/package.json`, 'utf8')) as { engines?: { node?: string } }).engines?.node;
      if (range) expect(olderThan(MIN_NODE, lowest(range)), `${dep} needs ${range}`).toBe(false);
    }
  });

  it('compares versions field by field', () => {
    expect(olderThan('20.20.2', '22.19.0')).toBe(true);
    expect(olderThan('22.18.9', '22.19.0')).toBe(true);
    expect(olderThan('22.19.0', '22.19.0')).toBe(false);
    expect(olderThan('24.0.0', '22.19.0')).toBe(false);
    expect(olderThan('22.100.0', '22.19.0')).toBe(false);
  });

  it('runs the tests on the Node.js that npm ci installs (the node dev dependency)', () => {
    const want = (JSON.parse(readFileSync('node_modules/node/package.json', 'utf8')) as { version: string }).version;
    expect(process.versions.node).toBe(want);
  });
});
