import { existsSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GATEWAY_USAGE } from '../../src/cli/gateway.js';
import { loadGatewayConfig } from '../../src/config/gateway-config.js';
import { dockerfile, dockerignored } from '../helpers/dockerfile.js';

// No Docker engine runs on the build machines: these checks are what can be verified without one.
const { instr, env, execForm } = dockerfile('Dockerfile');

describe('Dockerfile', () => {
  it('is multi-stage on node:24-bookworm-slim, and runs as the non-root user node', () => {
    const froms = instr('FROM');
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const f of froms) expect(f.split(/\s+/)[1]).toBe('node:24-bookworm-slim');
    expect(instr('USER').at(-1)).toBe('USER node');
  });

  it('copies only paths that exist in the repository', () => {
    const sources = instr('COPY')
      .filter((l) => !l.includes('--from='))
      .flatMap((l) => l.split(/\s+/).slice(1, -1).filter((t) => !t.startsWith('--')));
    expect(sources.length).toBeGreaterThan(3);
    for (const s of sources) expect(existsSync(s), s).toBe(true);
  });

  it('starts the gateway with the config from /app/config, as the CLI expects', () => {
    const entry = execForm('ENTRYPOINT');
    const cmd = execForm('CMD');
    expect(entry[0]).toBe('node');
    expect(entry.at(-1)).toBe('dist/cli.js');
    expect(entry.slice(1, -1).every((a) => a.startsWith('--'))).toBe(true); // only V8/Node flags between
    expect(JSON.parse(readFileSync('package.json', 'utf8')).bin.switchyard).toBe('dist/cli.js');
    expect(cmd[0]).toBe('gateway');
    expect(GATEWAY_USAGE).toContain('--config');
    expect(cmd.slice(1)).toEqual(['--config', '/app/config/gateway.yaml']);
    expect(instr('WORKDIR').at(-1)).toBe('WORKDIR /app');
    // The shipped config, with the image's environment, listens where EXPOSE says.
    const c = loadGatewayConfig('config/gateway.yaml', env);
    expect(instr('EXPOSE')[0]!.split(/\s+/).slice(1)).toEqual([String(c.listen.port), String(c.admin.listen.port)]);
  });

  it('keeps the config read-only and writes state under /var/lib/switchyard, owned by node', () => {
    const configCopy = instr('COPY').find((l) => / \.\/config$| \/app\/config$/.test(l));
    expect(configCopy).toBeDefined();
    expect(configCopy).not.toContain('--chown');
    const c = loadGatewayConfig('config/gateway.yaml', env);
    expect(c.stateDir).toBe('/var/lib/switchyard');
    expect(c.shadow.samples.file.startsWith('/var/lib/switchyard/')).toBe(true);
    const mk = instr('RUN').find((l) => l.includes(c.stateDir));
    expect(mk).toMatch(/install -d -o node -g node -m 0700 \/var\/lib\/switchyard/);
    expect(instr('VOLUME').join(' ')).toContain(JSON.stringify(c.stateDir));
  });

  it('checks health on the admin port the config names, written nowhere in the Dockerfile', () => {
    const hc = instr('HEALTHCHECK')[0]!;
    const argv = JSON.parse(hc.slice(hc.indexOf(' CMD ') + 5)) as string[];
    expect(argv[0]).toBe('node');
    // The script is built from src/ (dist/X.js ← src/X.ts) and reads the gateway's own config.
    expect(existsSync(argv[1]!.replace(/^dist\//, 'src/').replace(/\.js$/, '.ts'))).toBe(true);
    expect(argv[2]).toBe(execForm('CMD').at(-1));
    const c = loadGatewayConfig('config/gateway.yaml', env);
    expect(hc).not.toContain(String(c.admin.listen.port));
  });
});

describe('.dockerignore', () => {
  const ignored = dockerignored(readFileSync('.dockerignore', 'utf8'));

  it('keeps generated state out of the build context, wherever it was written', () => {
    const c = loadGatewayConfig('config/gateway.yaml', {});
    const state = relative(process.cwd(), c.stateDir);
    for (const p of [
      `${state}/diff-samples.jsonl`,
      `${state}/rules-snapshot.json`,
      'config/.switchyard/rules-snapshot.json', // the default before state_dir
      'config/diff-samples.jsonl',
      'config/diff-samples.jsonl.1',
      'config/rules-snapshot.json.1234.tmp',
      'examples/.switchyard/state/diff-samples.jsonl',
      '.tmp/test-1/state/diff-samples.jsonl',
      'config/.tmp/x',
    ]) {
      expect(ignored(p), p).toBe(true);
    }
  });

  it('keeps everything the Dockerfile copies', () => {
    const sources = instr('COPY')
      .filter((l) => !l.includes('--from='))
      .flatMap((l) => l.split(/\s+/).slice(1, -1).filter((t) => !t.startsWith('--')));
    for (const p of [...sources, 'config/gateway.yaml', 'config/rules.yaml', 'config/products.yaml', 'src/cli.ts', 'src/healthcheck.ts']) {
      expect(ignored(p), p).toBe(false);
    }
  });
});
