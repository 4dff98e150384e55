/**
 * The runtimes the proxies under test run on: `--node BIN[@CHECKOUT][,…]`. Each Node-based
 * scenario (switchyard, the bare undici and http-proxy peers, the pipeline) runs once per runtime,
 * interleaved with the others in every round, so "before and after" a runtime or dependency move
 * is measured in one run on the same machine state. CHECKOUT is a built switchyard checkout
 * (`scripts/bench/build-baseline.sh` makes one from a git ref): its dist/, dist-scripts/ and
 * node_modules/ are what runs, so it brings its own dependency versions. Default: the Node running
 * the harness (Node 24 from node_modules/.bin under npm scripts) on this checkout.
 * The origins and the load generator are the load side: they always run on the harness's Node.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { olderThan } from '../../dist/cli/node-version.js';

export interface Runtime {
  /** Shown in the table and the JSON: "v24.21.0", or "v20.20.2@bench-main" for another checkout (its folder's name). */
  label: string;
  /** The node binary that runs the proxy. */
  node: string;
  /** The switchyard checkout whose dist/ and dist-scripts/ it runs. */
  root: string;
  /** The Node.js version it reports (process.version). */
  version: string;
  /** The undici version of that checkout, for the record. */
  undici: string;
}

function versionOf(node: string): string {
  const r = spawnSync(node, ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`--node ${node}: cannot run it (${r.error?.message ?? r.stderr.trim()})`);
  return r.stdout.trim();
}

function undiciOf(root: string): string {
  try {
    return (JSON.parse(readFileSync(join(root, 'node_modules', 'undici', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

/** The runtime a spec names; `home` is this checkout. */
export function runtimeOf(spec: string, home: string, harnessNode = process.execPath): Runtime {
  const at = spec.lastIndexOf('@');
  const bin = at > 0 ? spec.slice(0, at) : spec;
  const root = at > 0 ? resolve(spec.slice(at + 1)) : home;
  const node = bin === '' ? harnessNode : bin.includes('/') ? resolve(bin) : bin;
  for (const need of [join('dist', 'cli.js'), join('dist-scripts', 'bench', 'peers.js')]) {
    if (!existsSync(join(root, need))) throw new Error(`--node ${spec}: ${join(root, need)} is missing; build that checkout first (npm ci && npm run build)`);
  }
  const version = versionOf(node);
  // Refused here rather than as a crash of each proxy (undici 8 does not load on Node 20).
  const engines = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines?: { node?: string } }).engines?.node ?? '';
  const min = /^>=\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(engines.trim());
  if (min && olderThan(version.slice(1), `${min[1]}.${min[2] ?? 0}.${min[3] ?? 0}`)) {
    throw new Error(
      `--node ${spec}: ${version} is older than what ${root} needs (engines ${engines}); for a Node 20 "before", build an older revision with npm run bench:baseline and use BIN@DIR`,
    );
  }
  const label = root === home ? version : `${version}@${basename(root)}`;
  return { label, node, root, version, undici: undiciOf(root) };
}

/** Parses `--node` (comma-separated specs); labels made unique where two runtimes look alike. */
export function parseRuntimes(arg: string | undefined, home: string): Runtime[] {
  const specs = arg
    ? arg
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : [process.execPath];
  const out = specs.map((s) => runtimeOf(s, home));
  const seen = new Map<string, number>();
  for (const rt of out) {
    const n = (seen.get(rt.label) ?? 0) + 1;
    seen.set(rt.label, n);
    if (n > 1) rt.label = `${rt.label}#${n}`;
  }
  return out;
}
