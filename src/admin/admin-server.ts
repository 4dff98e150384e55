/**
 * The admin listener, on its own port (default 127.0.0.1:9090), apart from client traffic:
 * health, readiness, Prometheus metrics, and the endpoints subsystems register (rules, diffs).
 * Routes registered `public` (the read-only /healthz, /readyz, /metrics) can also be served on
 * a second address (`admin.public_listen`) for probes and Prometheus, so that the admin
 * listener itself can stay on loopback; routes registered `auth` need the admin token.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { ListenAddress } from '../config/listen-address.js';
import { ERRORS, errorFields, type ErrorDef } from '../errors.js';

export interface AdminReply {
  status: number;
  body: unknown;
  contentType?: string;
  /** Extra response headers (the console's cookie, CSP, redirects). */
  headers?: Record<string, string>;
}

/** An admin request, from the HTTP listener or (with workers) relayed from the primary. */
export interface AdminRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** An admin error answer: the catalogue's status and `error`/`code`/`message`, plus `extra` fields. */
export function adminError(e: ErrorDef, extra?: Record<string, unknown>): AdminReply {
  return { status: e.status, body: errorFields(e, extra) };
}

export type AdminHandler = (req: AdminRequest, url: URL, body: string) => AdminReply | Promise<AdminReply>;

export interface RouteOptions {
  /** Needs `Authorization: Bearer <admin.token>` (request samples, anything that writes). */
  auth?: boolean;
  /** Also served on the public listener: read-only, nothing a stranger may not see. */
  public?: boolean;
}

interface Route extends RouteOptions {
  handler: AdminHandler;
}

const MAX_ADMIN_BODY = 1024 * 1024;

export class AdminServer {
  private readonly routes = new Map<string, Route>();
  private readonly prefixes: { method: string; prefix: string; route: Route }[] = [];
  private readonly server: Server;
  private publicServer: Server | undefined;
  private readonly tokenDigest: Buffer | undefined;

  constructor(token: string) {
    this.tokenDigest = token ? createHash('sha256').update(token).digest() : undefined;
    this.server = createServer((req, res) => void this.handle(req, res, false));
  }

  /** Registers `METHOD /path`. */
  route(method: string, path: string, handler: AdminHandler, opts: RouteOptions = {}): this {
    this.routes.set(`${method} ${path}`, { handler, ...opts });
    return this;
  }

  /** Registers `METHOD /prefix/...` for paths with parameters (the handler parses the rest). */
  routePrefix(method: string, prefix: string, handler: AdminHandler, opts: RouteOptions = {}): this {
    this.prefixes.push({ method, prefix, route: { handler, ...opts } });
    return this;
  }

  /** True when the request carries `Authorization: Bearer <admin.token>`; never true without a token configured. */
  authorized(req: Pick<AdminRequest, 'headers'>): boolean {
    const auth = req.headers.authorization;
    if (typeof auth !== 'string') return false;
    if (!this.tokenDigest || !auth?.startsWith('Bearer ')) return false;
    return timingSafeEqual(createHash('sha256').update(auth.slice(7)).digest(), this.tokenDigest);
  }

  /** Answers one admin request (the HTTP listener and the workers' IPC both come here). */
  async dispatch(req: AdminRequest, publicOnly = false): Promise<AdminReply> {
    const url = new URL(req.url, 'http://admin');
    const visible = (r: Route | undefined) => r && (!publicOnly || r.public);
    const route = this.routes.get(`${req.method} ${url.pathname}`) ?? this.prefixes.find((p) => p.method === req.method && url.pathname.startsWith(p.prefix))?.route;
    try {
      if (!visible(route)) {
        const known =
          [...this.routes].some(([k, r]) => k.endsWith(` ${url.pathname}`) && visible(r)) || this.prefixes.some((p) => url.pathname.startsWith(p.prefix) && visible(p.route));
        return adminError(known ? ERRORS.ADMIN_METHOD_NOT_ALLOWED : ERRORS.ADMIN_NOT_FOUND);
      }
      if (route!.auth && !this.authorized(req)) return this.unauthorized();
      return await route!.handler(req, url, req.body);
    } catch (err) {
      return adminError(ERRORS.INTERNAL, { cause: (err as Error).message });
    }
  }

  /** 401, saying what to do: send the token, or configure one when there is none. */
  private unauthorized(): AdminReply {
    const message = this.tokenDigest
      ? ERRORS.ADMIN_UNAUTHORIZED.message
      : 'no admin token is configured: set admin.token in the gateway config (e.g. from SWITCHYARD_ADMIN_TOKEN) and send it as "Authorization: Bearer <token>"';
    return { status: ERRORS.ADMIN_UNAUTHORIZED.status, body: errorFields(ERRORS.ADMIN_UNAUTHORIZED, { message }) };
  }

  private async handle(req: IncomingMessage, res: ServerResponse, publicOnly: boolean): Promise<void> {
    const body = await readBody(req).catch(() => undefined);
    const reply =
      body === undefined
        ? adminError(ERRORS.ADMIN_BODY_TOO_LARGE)
        : await this.dispatch({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body }, publicOnly);
    const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body, null, 2) + '\n';
    res.writeHead(reply.status, { ...reply.headers, 'content-type': reply.contentType ?? 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  listen(addr: ListenAddress): Promise<void> {
    return listenOn(this.server, addr);
  }

  /** Opens the public listener: only the routes registered `public`, every other path 404. */
  listenPublic(addr: ListenAddress): Promise<void> {
    this.publicServer ??= createServer((req, res) => void this.handle(req, res, true));
    return listenOn(this.publicServer, addr);
  }

  get port(): number {
    return portOf(this.server);
  }

  /** The public listener's port; undefined when there is none. */
  get publicPort(): number | undefined {
    return this.publicServer && portOf(this.publicServer);
  }

  async close(): Promise<void> {
    await Promise.all([closeServer(this.server), this.publicServer && closeServer(this.publicServer)]);
  }
}

function listenOn(server: Server, addr: ListenAddress): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(addr.port, addr.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function portOf(server: Server): number {
  const a = server.address();
  return typeof a === 'object' && a ? a.port : 0;
}

function closeServer(server: Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_ADMIN_BODY) chunks.push(c);
    });
    req.on('end', () => resolve(size > MAX_ADMIN_BODY ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
