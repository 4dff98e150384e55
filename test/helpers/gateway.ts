/**
 * Starts a real gateway in this process from YAML text written to a temporary directory, on
 * ephemeral ports, with logs discarded. Tests that need a separate process use runCli().
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
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

/** The admin token of every test gateway, and the header that sends it (GET /diffs needs it). */
export const ADMIN_TOKEN = 'admin-secret';
export const adminAuth = { authorization: `Bearer ${ADMIN_TOKEN}` };

export interface GatewaySetup {
  /** Backend name → its URL, or a YAML flow mapping ("{ urls: [...], ... }") written as it is. */
  backends: Record<string, string>;
  /** Replaces the default `listen: "127.0.0.1:0"` line (YAML, top level). */
  listen?: string;
  /** Extra YAML lines per backend (e.g. `connections: 2`). */
  backendExtra?: Record<string, string[]>;
  /** Extra YAML lines under `admin:` (e.g. `public_listen: "127.0.0.1:0"`). */
  admin?: string;
  rules: string;
  /** Extra top-level YAML appended to the gateway config. */
  extra?: string;
  /** Replaces the default `rules:` block. */
  rulesBlock?: (rulesFile: string) => string;
  options?: GatewayOptions;
  /** Every backend's response_timeout (default 1s, so that timeout tests stay short). */
  responseTimeout?: string;
}

export function gatewayYaml(setup: GatewaySetup, rulesFile: string): string {
  const backends = Object.entries(setup.backends)
    .map(([name, url]) =>
      url.startsWith('{')
        ? `  ${name}: ${url}`
        : [
            `  ${name}:\n    url: "${url}"\n    connect_timeout: 1s\n    response_timeout: ${setup.responseTimeout ?? '1s'}`,
            ...(setup.backendExtra?.[name] ?? []).map((l) => `    ${l}`),
          ].join('\n'),
    )
    .join('\n');
  return [
    setup.listen ?? 'listen: "127.0.0.1:0"',
    `admin:\n  listen: "127.0.0.1:0"\n  token: "${ADMIN_TOKEN}"${setup.admin ? `\n  ${setup.admin}` : ''}`,
    `backends:\n${backends}`,
    setup.rulesBlock ? setup.rulesBlock(rulesFile) : `rules:\n  file: "${rulesFile}"`,
    'override:\n  token: "let-me-in"',
    'debug_headers: true',
    // Generated state in the test's own directory, not the default under the working directory.
    `state_dir: "${join(dirname(rulesFile), 'state')}"`,
    setup.extra ?? '',
  ].join('\n');
}

/** Writes the rules file and the gateway config to a new temporary directory. */
export function writeGatewayFiles(setup: GatewaySetup): { dir: string; rulesFile: string; configFile: string; text: string } {
  const dir = tempDir();
  const rulesFile = join(dir, 'rules.yaml');
  writeFileSync(rulesFile, setup.rules);
  const configFile = join(dir, 'gateway.yaml');
  const text = gatewayYaml(setup, rulesFile);
  writeFileSync(configFile, text);
  return { dir, rulesFile, configFile, text };
}

export async function startGateway(setup: GatewaySetup): Promise<TestGateway> {
  const { dir, rulesFile, configFile, text } = writeGatewayFiles(setup);
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
