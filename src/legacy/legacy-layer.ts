/**
 * Starts and stops the legacy layer: Debian's nginx with lua-nginx-module, running the edge
 * products of config/legacy/lua against one origin. Starting it generates, in its own prefix
 * directory, the products JSON the Lua side reads and nginx.conf from the template; checks the
 * result with `nginx -t`; then runs nginx in the foreground as a child process. A reload does the
 * same beside the running files and signals nginx only once `nginx -t` accepts the result.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { METHODS } from 'node:http';
import { join, resolve } from 'node:path';
import type { ListenAddress } from '../config/listen-address.js';
import { ERRORS, type ErrorDef, errorFields } from '../errors.js';
import { waitForPort } from '../http/wait-for-port.js';
import { EDGE_MAX_HEAD_BYTES } from '../products/edge-limits.js';
import { EDGE_METHODS, type ProductsConfig } from '../products/products-config.js';
import { pcrePattern } from '../products/waf-dialect.js';

export interface LegacyOptions {
  products: ProductsConfig;
  /** Overrides products.origin (tests and the demo point the layer at their own origin). */
  origin?: { host: string; port: number };
  listen: ListenAddress;
  /** The layer's own directory: generated config, logs, temp files, pid. */
  prefix: string;
  /** Directory holding nginx.conf.template and lua/ (default: the package's config/legacy). */
  legacyDir?: string;
  accessLog?: boolean;
  /**
   * PCRE's match limit for the WAF (`lua_regex_match_limit`): past it a pattern gives up and the
   * request is blocked. Default 100000 (PCRE's own 10 000 000 takes seconds on a backtracking
   * pattern); tests set it low to reach it with a short input.
   */
  regexMatchLimit?: number;
}

const refusal = (e: ErrorDef) => ({ status: e.status, body: errorFields(e) });

/**
 * `edge` in products.json: the methods the edge serves (others: 405 with Allow), the method
 * tokens Node's HTTP parser knows (it refuses any other with 400 before the pipeline runs, so
 * edge.lua does too), the head limit nginx's buffers do not keep exactly (edge-limits.ts), and
 * the status and JSON body of each refusal nginx makes itself (error_page in nginx.conf).
 */
const LEGACY_EDGE = Object.freeze({
  methods: EDGE_METHODS,
  knownMethods: METHODS,
  maxHeadBytes: EDGE_MAX_HEAD_BYTES,
  refusals: {
    bad_request: refusal(ERRORS.CLIENT_BAD_REQUEST),
    uri_too_long: refusal(ERRORS.CLIENT_URI_TOO_LONG),
    headers_too_large: refusal(ERRORS.CLIENT_HEADERS_TOO_LARGE),
  },
});

const NGINX_CANDIDATES = ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/openresty/nginx/sbin/nginx'];
const MODULE_DIRS = ['/usr/lib/nginx/modules', '/usr/share/nginx/modules', '/usr/local/nginx/modules'];

export function findNginx(): string {
  const found = NGINX_CANDIDATES.find((p) => existsSync(p));
  if (!found) throw new Error('nginx not found: install the Debian packages nginx-light and libnginx-mod-http-lua (and lua-cjson)');
  return found;
}

function findModules(): string {
  const dir = MODULE_DIRS.find((d) => existsSync(join(d, 'ngx_http_lua_module.so')));
  if (!dir) throw new Error('ngx_http_lua_module.so not found: install the Debian package libnginx-mod-http-lua');
  return dir;
}

function seconds(ms: number): string {
  return `${Math.max(1, Math.round(ms))}ms`;
}

/**
 * The text of products.json and of nginx.conf (from the template, read now), the latter naming
 * `productsJson` as the file init_by_lua reads.
 */
function renderLegacyConfig(o: LegacyOptions, packageRoot: string, productsJson: string): { productsJson: string; conf: string } {
  const prefix = resolve(o.prefix);
  const legacyDir = o.legacyDir ?? join(packageRoot, 'config', 'legacy');
  // WAF patterns in the PCRE spelling that answers as the pipeline's RE2 does (waf-dialect.ts),
  // and what edge.lua needs to refuse as the pipeline does before any product runs.
  const products = { ...o.products, waf: o.products.waf.map((w) => ({ ...w, pattern: pcrePattern(w.pattern) })), edge: LEGACY_EDGE };
  const origin = o.origin ?? o.products.origin;
  const host = o.listen.host.includes(':') ? `[${o.listen.host}]` : o.listen.host;
  const values: Record<string, string> = {
    prefix,
    modules: findModules(),
    lua_dir: join(legacyDir, 'lua'),
    products_json: productsJson,
    access_log: o.accessLog ? `${prefix}/logs/access.log` : 'off',
    origin_host: origin.host.includes(':') ? `[${origin.host}]` : origin.host,
    origin_port: String(origin.port),
    listen: `${host}:${o.listen.port}`,
    connect_timeout: seconds(o.products.origin.connectTimeoutMs),
    read_timeout: seconds(o.products.origin.readTimeoutMs),
    regex_match_limit: String(o.regexMatchLimit ?? 100_000),
    // nginx's realip module: the same rule as the pipeline's client-address.ts.
    realip: o.products.trustedProxies.length
      ? [...o.products.trustedProxies.map((c) => `set_real_ip_from ${c};`), 'real_ip_header X-Forwarded-For;', 'real_ip_recursive on;'].join('\n  ')
      : '# no trusted_proxies: the client is the peer',
  };
  const template = readFileSync(join(legacyDir, 'nginx.conf.template'), 'utf8');
  const conf = template.replace(/\{\{([a-z_]+)\}\}/g, (_m, k: string) => {
    const v = values[k];
    if (v === undefined) throw new Error(`nginx.conf.template: unknown placeholder {{${k}}}`);
    return v;
  });
  return { productsJson: JSON.stringify(products), conf };
}

/** Writes products.json and nginx.conf into the prefix; returns the path of nginx.conf. */
export function generateLegacyConfig(o: LegacyOptions, packageRoot: string): string {
  const prefix = resolve(o.prefix);
  for (const d of ['logs', 'tmp']) mkdirSync(join(prefix, d), { recursive: true });
  // nginx workers run as "nobody" when started as root: they must be able to read the prefix.
  chmodSync(prefix, 0o755);
  const productsJson = join(prefix, 'products.json');
  const r = renderLegacyConfig(o, packageRoot, productsJson);
  writeFileSync(productsJson, r.productsJson);
  const file = join(prefix, 'nginx.conf');
  writeFileSync(file, r.conf);
  return file;
}

/** `nginx -t` on a generated config; returns nginx's own words when it fails. */
export function testNginxConfig(conf: string, prefix: string): { ok: boolean; output: string } {
  const r = spawnSync(findNginx(), ['-t', '-p', resolve(prefix), '-c', conf], { encoding: 'utf8' });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}`.trim() };
}

export class LegacyLayer {
  private constructor(
    readonly child: ChildProcess,
    readonly conf: string,
    readonly prefix: string,
    readonly listen: ListenAddress,
    readonly exited: Promise<number | null>,
    private options: LegacyOptions,
    private readonly packageRoot: string,
  ) {}

  get url(): string {
    const host = this.listen.host.includes(':') ? `[${this.listen.host}]` : this.listen.host;
    return `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${this.listen.port}`;
  }

  static async start(o: LegacyOptions, packageRoot: string): Promise<LegacyLayer> {
    await stopStale(resolve(o.prefix));
    const conf = generateLegacyConfig(o, packageRoot);
    const check = testNginxConfig(conf, o.prefix);
    if (!check.ok) throw new Error(`nginx -t failed for ${conf}:\n${check.output}`);
    const child = spawn(findNginx(), ['-p', resolve(o.prefix), '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const layer = new LegacyLayer(child, conf, resolve(o.prefix), o.listen, exited, o, packageRoot);
    await Promise.race([
      waitForPort(o.listen.port, o.listen.host === '0.0.0.0' ? '127.0.0.1' : o.listen.host, 'the legacy layer'),
      exited.then((code) => {
        throw new Error(`nginx exited with ${code}: ${stderr || readLog(o.prefix)}`);
      }),
    ]);
    return layer;
  }

  /**
   * SIGHUP (issue 11 item 8): products.json and nginx.conf are generated again, from `products`
   * and the template as they are now, first beside the running ones (`*.next`) for `nginx -t`;
   * only a config that passes replaces them and makes nginx reload (SIGHUP to its master: new
   * workers on the new config, the old ones finish their requests). A config nginx refuses
   * throws with nginx's words, and the running nginx and its files stay as they were.
   */
  reload(products: ProductsConfig): void {
    if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error('nginx is not running');
    const o = { ...this.options, products };
    const productsJson = join(this.prefix, 'products.json');
    const staged = { productsJson: `${productsJson}.next`, conf: `${this.conf}.next` };
    const next = renderLegacyConfig(o, this.packageRoot, staged.productsJson);
    writeFileSync(staged.productsJson, next.productsJson);
    writeFileSync(staged.conf, next.conf);
    const check = testNginxConfig(staged.conf, this.prefix);
    if (!check.ok) {
      rmSync(staged.productsJson, { force: true });
      rmSync(staged.conf, { force: true });
      throw new Error(`nginx -t refused the new config: ${check.output}`);
    }
    // Renames: nginx, or a restart of it, never reads a half-written file.
    writeFileSync(staged.conf, renderLegacyConfig(o, this.packageRoot, productsJson).conf);
    renameSync(staged.productsJson, productsJson);
    renameSync(staged.conf, this.conf);
    this.options = o;
    this.child.kill('SIGHUP');
  }

  /** Graceful: SIGQUIT lets nginx finish in-flight requests; SIGKILL after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGQUIT');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/**
 * An nginx left running in this prefix (its launcher was killed with SIGKILL, say) still holds
 * the port: stop it gracefully before starting a new one.
 */
async function stopStale(prefix: string): Promise<void> {
  let pid: number;
  try {
    pid = Number(readFileSync(join(prefix, 'nginx.pid'), 'utf8').trim());
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!cmdline.includes('nginx') || !cmdline.includes(prefix)) return;
  } catch {
    return; // no pid file, or no such process
  }
  process.kill(pid, 'SIGQUIT');
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  process.kill(pid, 'SIGKILL');
}

function readLog(prefix: string): string {
  try {
    return readFileSync(join(prefix, 'logs', 'error.log'), 'utf8').slice(-2000);
  } catch {
    return '';
  }
}
