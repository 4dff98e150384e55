/**
 * Starts a real gateway in this process from YAML text written to a temporary directory, on
 * ephemeral ports, with logs discarded. Tests that need a separate process use runCli().
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseGatewayConfig } from '../../src/config/gateway-config.js';
import { Gateway, type GatewayOptions } from '../../src/gateway/gateway.js';
import { createLogger } from '../../src/log/logger.js';

export interface TestGateway {
  gw: Gateway;
  url: string;
  admin: string;
  dir: string;
  rulesFile: string;
  stop(): Promise<void>;
}

export function tempDir(prefix = 'switchyard-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export const silentLogger = () =>
  createLogger(
    'info',
    new Writable({
      write(_c, _e, cb) {
        cb();
      },
    }),
  );

export interface GatewaySetup {
  backends: Record<string, string>;
  /** Replaces the default `listen: "127.0.0.1:0"` line (YAML, top level). */
  listen?: string;
  rules: string;
  /** Extra top-level YAML appended to the gateway config. */
  extra?: string;
  /** Replaces the default `rules:` block. */
  rulesBlock?: (rulesFile: string) => string;
  options?: GatewayOptions;
}

export function gatewayYaml(setup: GatewaySetup, rulesFile: string): string {
  const backends = Object.entries(setup.backends)
    .map(([name, url]) => `  ${name}:\n    url: "${url}"\n    connect_timeout: 1s\n    response_timeout: 1s`)
    .join('\n');
  return [
    setup.listen ?? 'listen: "127.0.0.1:0"',
    'admin:\n  listen: "127.0.0.1:0"\n  token: "admin-secret"',
    `backends:\n${backends}`,
    setup.rulesBlock ? setup.rulesBlock(rulesFile) : `rules:\n  file: "${rulesFile}"`,
    'override:\n  token: "let-me-in"',
    'debug_headers: true',
    setup.extra ?? '',
  ].join('\n');
}

export async function startGateway(setup: GatewaySetup): Promise<TestGateway> {
  const dir = tempDir();
  const rulesFile = join(dir, 'rules.yaml');
  writeFileSync(rulesFile, setup.rules);
  const configFile = join(dir, 'gateway.yaml');
  const text = gatewayYaml(setup, rulesFile);
  writeFileSync(configFile, text);
  const config = parseGatewayConfig(text, configFile, {});
  const gw = await Gateway.start(config, { logger: silentLogger(), ...setup.options });
  return {
    gw,
    url: `http://127.0.0.1:${gw.port}`,
    admin: `http://127.0.0.1:${gw.adminPort}`,
    dir,
    rulesFile,
    async stop() {
      await gw.stop(1000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
