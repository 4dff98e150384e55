/**
 * The long-running commands get their runtime tuning however they are started (`switchyard`,
 * `npx switchyard`, `node dist/cli.js`, `npm start`, the Docker image, a cluster worker).
 *
 * A larger young generation (--max-semi-space-size=32) cut the gateway's CPU per request by about
 * a sixth under load: fewer objects of in-flight requests get promoted, so fewer full collections
 * (issue 8's note). It must be set when V8 creates the heap: v8.setFlagsFromString() at run time
 * leaves the new space as it was (checked on Node 20 with getHeapSpaceStatistics()), so a process
 * started without it re-executes itself once with it, in place: process.execve (Node >= 22.15)
 * keeps the pid, so signals, supervisors and pid files see one process. Where execve is missing
 * the command runs untuned rather than as a launcher plus a child (a SIGKILL to the launcher
 * would orphan the child). Cluster workers inherit the primary's execArgv.
 * SWITCHYARD_RUNTIME_TUNING=off turns this off.
 */
import cluster from 'node:cluster';

export const RUNTIME_FLAGS = ['--max-semi-space-size=32'] as const;
const LONG_RUNNING = new Set(['gateway', 'pipeline']);

/** True when this process already runs with the flags (on the command line or in NODE_OPTIONS). */
export function isTuned(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): boolean {
  const given = [...execArgv, ...nodeOptions.split(/\s+/)];
  return RUNTIME_FLAGS.every((f) => given.some((g) => g.split('=')[0] === f.split('=')[0]));
}

type Execve = (file: string, args: string[], env: NodeJS.ProcessEnv) => never;

/** Re-executes this process with the flags when `command` is long-running and they are missing; otherwise returns. */
export function applyRuntimeTuning(command: string): void {
  if (!LONG_RUNNING.has(command) || cluster.isWorker || isTuned() || process.env.SWITCHYARD_RUNTIME_TUNING === 'off') return;
  const execve = (process as { execve?: Execve }).execve;
  execve?.(process.execPath, [process.execPath, ...process.execArgv, ...RUNTIME_FLAGS, ...process.argv.slice(1)], process.env);
}
