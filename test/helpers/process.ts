/**
 * Runs the built CLI (dist/cli.js) as a child process: for what only a real process shows
 * (signals, exit codes, worker processes).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { type GatewaySetup, type TestGateway, writeGatewayFiles } from './gateway.js';

export const CLI = resolve('dist/cli.js');

export interface GatewayProcess {
  child: ChildProcess;
  port: number;
  adminPort: number;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Starts `switchyard gateway --config FILE` and resolves once it logs "gateway started". */
export function spawnGateway(configFile: string, extraArgs: string[] = [], env: Record<string, string> = {}): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [CLI, 'gateway', '--config', configFile, ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let err = '';
  // 'close', not 'exit': it comes after stderr has been read to its end.
  const exited = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start:\n${err}`)), 60_000);
    child.stderr!.on('data', (c: Buffer) => {
      err += c.toString();
      const m = /"listen":(\d+),"admin":(\d+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolvePromise({
          child,
          port: Number(m[1]),
          adminPort: Number(m[2]),
          stderr: () => err,
          exited,
        });
      }
    });
    child.stdout!.resume();
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code}:\n${err}`));
    });
  });
}

/** Runs the CLI to completion. */
export function runCli(args: string[], env: Record<string, string> = {}, input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdin.end(input);
    child.once('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

/** As startGateway(), but `switchyard gateway` in its own process; stop() is SIGTERM and a wait. */
export async function startGatewayProcess(setup: GatewaySetup): Promise<Omit<TestGateway, 'gw'> & { proc: GatewayProcess; stderr(): string }> {
  const { dir, rulesFile, configFile } = writeGatewayFiles(setup);
  const proc = await spawnGateway(configFile, ['--drain', '1']);
  return {
    proc,
    stderr: proc.stderr,
    url: `http://127.0.0.1:${proc.port}`,
    admin: `http://127.0.0.1:${proc.adminPort}`,
    dir,
    rulesFile,
    async stop() {
      if (proc.child.exitCode === null && proc.child.signalCode === null) {
        const exited = new Promise((r) => proc.child.once('exit', r));
        proc.child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
