import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isTuned, missingFlags, RUNTIME_FLAGS } from '../../src/cli/runtime-tuning.js';
import { gatewayYaml, tempDir } from '../helpers/gateway.js';
import { spawnGateway } from '../helpers/process.js';

function configFile(): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'rules.yaml'), 'default: legacy\n');
  const file = join(dir, 'gateway.yaml');
  writeFileSync(file, gatewayYaml({ backends: { legacy: 'http://127.0.0.1:9' }, rules: '' }, join(dir, 'rules.yaml')));
  return file;
}

function startedLine(stderr: string): { exec_argv: string[]; pid: number } {
  return JSON.parse(stderr.split('\n').find((l) => l.includes('gateway started'))!);
}

describe('runtime tuning', () => {
  it('knows whether the flags were given on the command line or in NODE_OPTIONS', () => {
    expect(isTuned([], '')).toBe(false);
    expect(isTuned(['--max-semi-space-size=32'], '')).toBe(false);
    expect(isTuned([], '--max-semi-space-size=64 --enable-source-maps')).toBe(false);
    expect(isTuned(['--max-old-space-size=512'], '')).toBe(false);
    expect(isTuned(['--max-semi-space-size=32', '--no-allocation-site-pretenuring'], '')).toBe(true);
    expect(isTuned([], '--max-semi-space-size=64 --allocation-site-pretenuring')).toBe(true);
  });

  it('adds only the flags not given, so that a value given by the user wins', () => {
    expect(missingFlags([], '')).toEqual([...RUNTIME_FLAGS]);
    expect(missingFlags(['--max-semi-space-size=64'], '')).toEqual(['--no-allocation-site-pretenuring']);
    expect(missingFlags([], '--allocation_site_pretenuring')).toEqual(['--max-semi-space-size=32']);
  });

  it('applies to a gateway started as `node dist/cli.js gateway`, in the same process', async () => {
    const gw = await spawnGateway(configFile(), [], { NODE_OPTIONS: '' });
    try {
      const started = startedLine(gw.stderr());
      expect(started.exec_argv).toEqual(expect.arrayContaining([...RUNTIME_FLAGS]));
      expect(started.pid).toBe(gw.child.pid);
    } finally {
      gw.child.kill('SIGTERM');
      expect(await gw.exited).toBe(0);
    }
  });

  it('can be turned off', async () => {
    const gw = await spawnGateway(configFile(), [], { NODE_OPTIONS: '', SWITCHYARD_RUNTIME_TUNING: 'off' });
    try {
      expect(startedLine(gw.stderr()).exec_argv).not.toEqual(expect.arrayContaining([...RUNTIME_FLAGS]));
    } finally {
      gw.child.kill('SIGTERM');
      await gw.exited;
    }
  });
});
