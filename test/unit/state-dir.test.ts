import { dirname, join, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_STATE_DIR, loadGatewayConfig, parseGatewayConfig } from '../../src/config/gateway-config.js';

const base = `backends:
  legacy: { url: "http://127.0.0.1:8081" }
rules:
  file: rules.yaml
`;
const withRedis = (extra = '') => base + `  redis: { url: "redis://127.0.0.1:1"${extra} }\n`;
const inside = (dir: string, path: string) => path.startsWith(dir + sep);

describe('state_dir', () => {
  it('defaults to .switchyard/state under the working directory, outside the config directory', () => {
    const c = parseGatewayConfig(withRedis(), '/etc/switchyard/gateway.yaml', {});
    expect(DEFAULT_STATE_DIR).toBe('.switchyard/state');
    expect(c.stateDir).toBe(resolve(process.cwd(), '.switchyard/state'));
    expect(c.rules.redis?.snapshot).toBe(join(c.stateDir, 'rules-snapshot.json'));
    expect(c.shadow.samples.file).toBe(join(c.stateDir, 'diff-samples.jsonl'));
    expect(inside('/etc/switchyard', c.rules.redis!.snapshot)).toBe(false);
    expect(inside('/etc/switchyard', c.shadow.samples.file)).toBe(false);
  });

  it('takes SWITCHYARD_STATE_DIR as the default when set (the image sets /var/lib/switchyard)', () => {
    const c = parseGatewayConfig(withRedis(), '/etc/switchyard/gateway.yaml', { SWITCHYARD_STATE_DIR: '/var/lib/switchyard' });
    expect(c.stateDir).toBe('/var/lib/switchyard');
    expect(c.rules.redis?.snapshot).toBe('/var/lib/switchyard/rules-snapshot.json');
    expect(c.shadow.samples.file).toBe('/var/lib/switchyard/diff-samples.jsonl');
  });

  it('is read from the config: absolute as given, relative to the working directory, and wins over the environment', () => {
    const env = { SWITCHYARD_STATE_DIR: '/var/lib/switchyard' };
    expect(parseGatewayConfig('state_dir: /srv/sy\n' + base, '/etc/switchyard/gateway.yaml', env).stateDir).toBe('/srv/sy');
    expect(parseGatewayConfig('state_dir: run/sy\n' + base, '/etc/switchyard/gateway.yaml', env).stateDir).toBe(resolve('run/sy'));
    expect(parseGatewayConfig('state_dir: "${DIR}"\n' + base, '/etc/switchyard/gateway.yaml', { DIR: '/x/y' }).stateDir).toBe('/x/y');
  });

  it('leaves explicit snapshot and samples paths as they were: relative to the config file', () => {
    const c = parseGatewayConfig(
      'state_dir: /srv/sy\n' + withRedis(', snapshot: snap/rules.json') + 'shadow:\n  samples: { file: /data/samples.jsonl }\n',
      '/etc/switchyard/gateway.yaml',
      {},
    );
    expect(c.rules.redis?.snapshot).toBe('/etc/switchyard/snap/rules.json');
    expect(c.shadow.samples.file).toBe('/data/samples.jsonl');
  });

  it('rejects an empty state_dir with file, line and key', () => {
    expect(() => parseGatewayConfig('state_dir: ""\n' + base, 'gw.yaml', {})).toThrow(/gw\.yaml:1:12.*state_dir/s);
  });

  it('the shipped config keeps state out of config/ and debug headers off', () => {
    const c = loadGatewayConfig('config/gateway.yaml', {});
    const configDir = dirname(resolve('config/gateway.yaml'));
    expect(c.debugHeaders).toBe(false);
    expect(inside(configDir, c.stateDir) || c.stateDir === configDir).toBe(false);
    expect(inside(configDir, c.shadow.samples.file)).toBe(false);
  });
});
