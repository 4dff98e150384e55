/**
 * Processes under test for the benchmark: started once, pinned to a core where taskset exists,
 * sampled for memory, and stopped at the end (also on Ctrl-C).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { waitForPort } from '../../dist/http/wait-for-port.js';
import { hasTaskset } from './load.js';
import type { Runtime } from './runtimes.js';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const SCRIPTS = resolve(import.meta.dirname);
/** The harness's own Node on this checkout: the load side, and the default runtime. */
export const HARNESS: Pick<Runtime, 'node' | 'root'> = { node: process.execPath, root: ROOT };

export type PeerKind = 'origin' | 'slow-origin' | 'stuck-origin' | 'http-proxy' | 'undici' | 'undici-mirror';

export interface Proc {
  name: string;
  child: ChildProcess;
  port: number;
  /** Extra ports announced by the process (admin, …). */
  ports: number[];
  output: () => string;
}

const running = new Set<ChildProcess>();
export const workdir = mkdtempSync(join(tmpdir(), 'switchyard-bench-'));

function kill(children: readonly ChildProcess[]): void {
  const pids = children.flatMap((c) => (c.pid ? processTree(c.pid) : []));
  for (const pid of pids.reverse()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  for (const c of children) running.delete(c);
}

/** Stops every process started, with its descendants (the legacy layer's launcher runs nginx). */
export function stopAll(): void {
  kill([...running]);
  rmSync(workdir, { recursive: true, force: true });
}

/**
 * Marks the processes running now; the function it returns stops, with their descendants, every
 * process started after the mark. A group of scenarios runs between the two, so that its proxies'
 * background work (timers, health checks, a stuck shadow target's transfers) never runs beside
 * another group's measurements.
 */
export function checkpoint(): () => void {
  const before = new Set(running);
  return () => kill([...running].filter((c) => !before.has(c)));
}
process.once('SIGINT', () => {
  stopAll();
  process.exit(130);
});

/** How long a process may take to be ready (bench-instructions.ts starts them under valgrind, some 30 times slower). */
export const startLimit = { ms: 15_000 };

/** Numbers each process's output file in the work directory (`NAME.N.log`): a name may repeat across runtimes. */
let procCount = 0;

/** The last `max` bytes of a file (a process's output, for an error message). */
function tailOf(path: string, max = 50_000): string {
  try {
    const text = readFileSync(path);
    return text.subarray(Math.max(0, text.length - max)).toString();
  } catch {
    return '';
  }
}

/**
 * Spawns `cmd args` (pinned to `cpus`) and waits until it is ready: until `ready` matches its
 * output (the captured groups are its ports), or, given a port number, until that port accepts.
 *
 * Its stdout and stderr go to a file, as a deployment's logs do, not to a pipe this harness
 * reads: the harness runs on the load generator's core, and reading a gateway's access lines
 * there (a few MB/s) took CPU from the load generator only while the access log was on, which
 * showed up as a cost of the access log. The file is read until the process is ready, then left.
 */
export function startProc(name: string, cmd: string, args: string[], ready: RegExp | number, cpus?: string, env: Record<string, string> = {}): Promise<Proc> {
  const [c, a] = cpus && hasTaskset ? ['taskset', ['-c', cpus, cmd, ...args]] : [cmd, args];
  const logPath = join(workdir, `${name}.${++procCount}.log`);
  const fd = openSync(logPath, 'a');
  const child = spawn(c, a as string[], { stdio: ['ignore', fd, fd], env: { ...process.env, ...env } });
  closeSync(fd);
  running.add(child);
  const output = () => tailOf(logPath);
  return new Promise((resolvePromise, reject) => {
    let poll: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      clearInterval(poll);
      reject(new Error(`${name} did not start:\n${output()}`));
    }, startLimit.ms);
    const done = (ports: number[]) => {
      clearTimeout(timer);
      clearInterval(poll);
      resolvePromise({ name, child, port: ports[0] ?? 0, ports, output });
    };
    if (typeof ready === 'number') waitForPort(ready).then(() => done([ready]), reject);
    else {
      // Before it is ready a process writes a few lines: polling its file is cheap, and it stops then.
      poll = setInterval(() => {
        const m = ready.exec(output());
        if (m) done(m.slice(1).map(Number));
      }, 20);
    }
    child.once('exit', (code) => {
      running.delete(child);
      clearTimeout(timer);
      clearInterval(poll);
      reject(new Error(`${name} exited with ${code}:\n${output()}`));
    });
  });
}

export function startPeer(kind: PeerKind, cpus: string, target?: string, rt = HARNESS): Promise<Proc> {
  return startProc(kind, rt.node, [join(rt.root, 'dist-scripts', 'bench', 'peers.js'), kind, '0', ...(target ? [target] : [])], /ready (\d+)/, cpus);
}

/**
 * A switchyard gateway with the given rules YAML, with the shipped log settings (access log on,
 * as a user gets it: issue 14 measures the defaults); `access: false` for the scenario that
 * measures what the access log costs. `launch` adds Node flags (given on the command line, so
 * that the runtime tuning keeps them) and environment variables, for A/B runs of runtime flags.
 */
export function startSwitchyard(
  name: string,
  cpus: string,
  backends: Record<string, string>,
  rules: string,
  extra = '',
  rt = HARNESS,
  access = true,
  launch: { nodeArgs?: readonly string[]; env?: Record<string, string> } = {},
): Promise<Proc> {
  const dir = join(workdir, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'rules.yaml'), rules);
  // "inprocess:FILE" runs the pipeline inside the gateway with that products file.
  const backendYaml = Object.entries(backends)
    .map(([n, url]) =>
      url.startsWith('inprocess:')
        ? `  ${n}: { inprocess: true, products: "${url.slice('inprocess:'.length)}" }`
        : `  ${n}: { url: "${url}", connect_timeout: 2s, response_timeout: 10s }`,
    )
    .join('\n');
  // A checkout from before issue 16 (a --node BIN@DIR baseline) knows no state_dir and no runtime
  // tuning of its own: it gets the flag its bin's shebang gave it. This checkout is started as the
  // README says (`node dist/cli.js gateway --config FILE`) and must tune itself (issue 14, item 2).
  const current = existsSync(join(rt.root, 'dist', 'cli', 'runtime-tuning.js'));
  const stateDir = current ? `state_dir: "${join(dir, 'state')}"\n` : '';
  writeFileSync(
    join(dir, 'gateway.yaml'),
    `listen: "127.0.0.1:0"\n${stateDir}admin: { listen: "127.0.0.1:0" }\nbackends:\n${backendYaml}\nrules: { file: rules.yaml, watch: false }\nlog: { level: info, access: ${access} }\n${extra}\n`,
  );
  return startProc(
    name,
    rt.node,
    [
      ...(current ? [] : ['--max-semi-space-size=32']),
      ...(launch.nodeArgs ?? []),
      join(rt.root, 'dist', 'cli.js'),
      'gateway',
      '--config',
      join(dir, 'gateway.yaml'),
    ],
    /"listen":(\d+),"admin":(\d+)/,
    cpus,
    {
      SWITCHYARD_LOG_LEVEL: 'info',
      ...launch.env,
    },
  );
}

/**
 * Starts a server that must be given its port (nginx, the legacy layer): ports 20000-31999,
 * below Linux's ephemeral range (32768-60999) that the run's client connections take their
 * local ports from (a port picked in that range once collided with one, late in a run), and a
 * new port when the one picked is taken all the same.
 */
export async function onFreePort(start: (port: number) => Promise<Proc>, tries = 5): Promise<Proc> {
  for (let i = 1; ; i++) {
    try {
      return await start(20000 + Math.floor(Math.random() * 12000));
    } catch (err) {
      if (i >= tries || !/Address already in use/.test((err as Error).message)) throw err;
    }
  }
}

/** The bare-socket relay of net-floor.ts in front of `target`: what Node costs without its HTTP layers. */
export function startNetFloor(cpus: string, target: string, rt = HARNESS): Promise<Proc> {
  return startProc('net-floor', rt.node, [join(rt.root, 'dist-scripts', 'bench', 'net-floor.js'), '0', new URL(target).port], /ready (\d+)/, cpus);
}

/** NGINX as a plain reverse proxy with upstream keep-alive, or with `mirror` to a second upstream. */
export function startNginx(name: string, cpus: string, target: string, mirrorTarget?: string): Promise<Proc> {
  return onFreePort((port) => startNginxOn(port, name, cpus, target, mirrorTarget));
}

function startNginxOn(port: number, name: string, cpus: string, target: string, mirrorTarget?: string): Promise<Proc> {
  const prefix = join(workdir, name);
  mkdirSync(join(prefix, 'logs'), { recursive: true });
  const t = new URL(target);
  const mirror = mirrorTarget ? new URL(mirrorTarget) : undefined;
  writeFileSync(
    join(prefix, 'nginx.conf'),
    `daemon off;
master_process off;
worker_processes 1;
error_log ${prefix}/logs/error.log warn;
pid ${prefix}/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body; proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi; uwsgi_temp_path ${prefix}/uwsgi; scgi_temp_path ${prefix}/scgi;
  upstream origin { server ${t.host}; keepalive 64; }
  ${mirror ? `upstream shadow { server ${mirror.host}; keepalive 64; }` : ''}
  server {
    listen 127.0.0.1:${port};
    location / {
      ${mirror ? 'mirror /__mirror;' : ''}
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_pass http://origin;
    }
    ${mirror ? `location = /__mirror { internal; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_pass http://shadow$request_uri; }` : ''}
  }
}
`,
  );
  // nginx says nothing on success: wait for its port instead.
  return startProc(name, '/usr/sbin/nginx', ['-p', prefix, '-c', join(prefix, 'nginx.conf')], port, cpus);
}

/** The direct children of a process (the legacy layer's launcher → nginx master). */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const kids = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (kids) out.push(...kids.split(/\s+/).map(Number));
    }
  } catch {
    /* gone */
  }
  return out;
}

/** A process and its descendants (the legacy layer's launcher runs nginx master and worker). */
function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...childrenOf(out[i]!));
  return out;
}

/** Clock ticks per second of utime/stime in /proc/PID/stat (USER_HZ: 100 on every Linux ABI). */
const USER_HZ = 100;

/**
 * CPU seconds (user + system) used so far by the process trees rooted at `pids`: every process on
 * a proxied path with its children (the legacy layer's launcher, nginx master and worker). Read
 * from /proc/PID/stat, fields 14 and 15, after the command name (which may hold spaces).
 */
export function cpuSeconds(pids: readonly number[]): number {
  let ticks = 0;
  for (const p of pids.flatMap(processTree)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // fields[0] is field 3 (state): utime is field 14, stime field 15.
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      /* gone */
    }
  }
  return ticks / USER_HZ;
}

/** Samples the resident memory of process trees every 100 ms; stop() returns the peak of their sum, in bytes. */
export function sampleRss(pids: readonly number[]) {
  let peak = 0;
  const read = () => {
    let total = 0;
    for (const p of pids.flatMap(processTree)) {
      try {
        const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
        if (m) total += Number(m[1]) * 1024;
      } catch {
        /* gone */
      }
    }
    peak = Math.max(peak, total);
  };
  read();
  const timer = setInterval(read, 100);
  return {
    stop(): number {
      clearInterval(timer);
      read();
      return peak;
    },
  };
}
