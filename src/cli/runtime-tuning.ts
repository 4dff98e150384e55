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
 *
 * --no-allocation-site-pretenuring (issue 14): on Node 24 (V8 13) the gateway under load had V8
 * decide, at one scavenge early in the load, to allocate 18 of its per-request allocation sites
 * straight into the old generation (--trace-pretenuring-statistics: survival ratio 1.0 at that
 * scavenge). Those objects die with their request, but from the old generation they keep the
 * young objects they point to alive through the next scavenges: every scavenge then promoted
 * 5-11 MB (--trace-gc: 47 -> 33 -> 39 -> 45 ... MB until a mark-compact), took 10-30 ms instead
 * of 1-2 ms, and the full collections came twice as often. Without pretenuring the heap after
 * each scavenge stays flat (45.1, 45.2, 45.3 MB), as the bare undici peer's does with it. A
 * proxy's per-request objects die young; pretenuring cannot help them.
 * SWITCHYARD_RUNTIME_TUNING=off turns this off.
 */
import cluster from 'node:cluster';

export const RUNTIME_FLAGS = ['--max-semi-space-size=32', '--no-allocation-site-pretenuring'] as const;
const LONG_RUNNING = new Set(['gateway', 'pipeline']);

/** A V8 flag's name, whatever its value and however it is written (`--no-x`, `--x=1`, `--x_y`). */
function flagName(flag: string): string {
  return flag
    .split('=')[0]!
    .replace(/^--(no-)?/, '')
    .replaceAll('_', '-');
}

/** The runtime flags that neither the command line nor NODE_OPTIONS give (a value given there wins). */
export function missingFlags(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): string[] {
  const given = new Set([...execArgv, ...nodeOptions.split(/\s+/)].filter((g) => g.startsWith('--')).map(flagName));
  return RUNTIME_FLAGS.filter((f) => !given.has(flagName(f)));
}

/** True when this process already runs with the flags (on the command line or in NODE_OPTIONS). */
export function isTuned(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): boolean {
  return missingFlags(execArgv, nodeOptions).length === 0;
}

type Execve = (file: string, args: string[], env: NodeJS.ProcessEnv) => never;

/** Re-executes this process with the missing flags when `command` is long-running; otherwise returns. */
export function applyRuntimeTuning(command: string): void {
  if (!LONG_RUNNING.has(command) || cluster.isWorker || process.env.SWITCHYARD_RUNTIME_TUNING === 'off') return;
  const missing = missingFlags();
  if (missing.length === 0) return;
  const execve = (process as { execve?: Execve }).execve;
  execve?.(process.execPath, [process.execPath, ...process.execArgv, ...missing, ...process.argv.slice(1)], process.env);
}
