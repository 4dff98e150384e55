import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GATEWAY_USAGE } from '../../src/cli/gateway.js';
import { loadGatewayConfig } from '../../src/config/gateway-config.js';

// No Docker engine runs on the build machines: these checks are what can be verified without one.
const lines = readFileSync('Dockerfile', 'utf8')
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
const instr = (name: string) => lines.filter((l) => l.toUpperCase().startsWith(name + ' '));

describe('Dockerfile', () => {
  it('is multi-stage on Node 20 or newer, and runs as a non-root user', () => {
    const froms = instr('FROM');
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const f of froms) expect(Number(/node:(\d+)/.exec(f)?.[1])).toBeGreaterThanOrEqual(20);
    const user = instr('USER').at(-1);
    expect(user).toBeDefined();
    expect(user).not.toMatch(/root|\b0\b/);
  });

  it('copies only paths that exist in the repository', () => {
    const sources = instr('COPY')
      .filter((l) => !l.includes('--from='))
      .flatMap((l) => l.split(/\s+/).slice(1, -1).filter((t) => !t.startsWith('--')));
    expect(sources.length).toBeGreaterThan(3);
    for (const s of sources) expect(existsSync(s), s).toBe(true);
  });

  it('starts the gateway with the config from /app/config, as the CLI expects', () => {
    const entry = JSON.parse(instr('ENTRYPOINT')[0]!.slice('ENTRYPOINT'.length)) as string[];
    const cmd = JSON.parse(instr('CMD')[0]!.slice('CMD'.length)) as string[];
    expect(entry[0]).toBe('node');
    expect(entry.at(-1)).toBe('dist/cli.js');
    expect(entry.slice(1, -1).every((a) => a.startsWith('--'))).toBe(true); // only V8/Node flags between
    expect(JSON.parse(readFileSync('package.json', 'utf8')).bin.switchyard).toBe('dist/cli.js');
    expect(cmd[0]).toBe('gateway');
    expect(GATEWAY_USAGE).toContain('--config');
    expect(cmd.slice(1)).toEqual(['--config', '/app/config/gateway.yaml']);
    // The shipped config, with the image's environment, listens where EXPOSE and HEALTHCHECK say.
    const env = Object.fromEntries([...instr('ENV').join(' ').matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
    const c = loadGatewayConfig('config/gateway.yaml', env);
    expect(instr('EXPOSE')[0]).toContain(String(c.listen.port));
    expect(instr('EXPOSE')[0]).toContain(String(c.admin.listen.port));
    expect(instr('HEALTHCHECK')[0]).toContain(`127.0.0.1:${c.admin.listen.port}/healthz`);
  });
});
