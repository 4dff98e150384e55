/**
 * Shared pieces of the command line: finding the gateway config, printing config errors, and
 * the exit codes (0 ok, 1 invalid input or failed check, 2 usage error).
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadGatewayConfig, type GatewayConfig } from '../config/gateway-config.js';
import { ConfigError, formatIssue } from '../config/yaml-source.js';

export class UsageError extends Error {
  readonly exitCode = 2;
}

/** The package's own config directory (embedded defaults), next to dist/. */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** `--config FILE`, else ./config/gateway.yaml, else the packaged default. */
export function defaultConfigPath(given?: string): string {
  if (given) return given;
  const local = resolve('config/gateway.yaml');
  return existsSync(local) ? local : join(PACKAGE_ROOT, 'config', 'gateway.yaml');
}

export function loadConfigOrExit(path: string): GatewayConfig {
  try {
    return loadGatewayConfig(path);
  } catch (err) {
    exitWithError(err);
  }
}

export function exitWithError(err: unknown): never {
  if (err instanceof ConfigError) {
    for (const issue of err.issues) process.stderr.write(formatIssue(issue) + '\n');
    process.exit(1);
  }
  if (err instanceof UsageError) {
    process.stderr.write(`switchyard: ${err.message}\n`);
    process.exit(2);
  }
  const e = err as NodeJS.ErrnoException;
  process.stderr.write(`switchyard: ${e.code === 'ENOENT' ? `no such file: ${e.path}` : e.message}\n`);
  process.exit(1);
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** "HOST:PORT", "[::1]:PORT" or "http://HOST:PORT" from a command-line flag. */
export function hostPortArg(s: string, what: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(s.replace(/^https?:\/\//, '').replace(/\/$/, ''));
  if (!m) throw new UsageError(`${what} expects HOST:PORT, got ${JSON.stringify(s)}`);
  return { host: m[1] ?? m[2]!, port: Number(m[3]) };
}

/** Resolves with the name of the first SIGTERM or SIGINT (or when `orEarlier` settles). */
export function stopSignal(orEarlier?: Promise<unknown>): Promise<string> {
  return new Promise((resolve) => {
    const on = (signal: string) => () => {
      process.removeListener('SIGTERM', term);
      process.removeListener('SIGINT', int);
      resolve(signal);
    };
    const term = on('SIGTERM');
    const int = on('SIGINT');
    process.once('SIGTERM', term);
    process.once('SIGINT', int);
    void orEarlier?.then(() => resolve('exit'), () => resolve('exit'));
  });
}

/**
 * Handles SIGHUP with `reload` for as long as the process runs. Node's default for SIGHUP is to
 * exit at once (issue 11: it killed the gateway without draining, and the legacy launcher with
 * nginx orphaned); with a handler it means "re-read your files", as it does for nginx.
 */
export function onHangup(reload: () => void): void {
  process.on('SIGHUP', reload);
}
