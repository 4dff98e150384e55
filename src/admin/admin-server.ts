/**
 * The admin listener, on its own port (default 127.0.0.1:9090), apart from client traffic:
 * health, readiness, Prometheus metrics, and the endpoints subsystems register (rules, diffs).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { ListenAddress } from '../config/listen-address.js';

export interface AdminReply {
  status: number;
  body: unknown;
  contentType?: string;
}

/** An admin request, from the HTTP listener or (with workers) relayed from the primary. */
export interface AdminRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export type AdminHandler = (req: AdminRequest, url: URL, body: string) => AdminReply | Promise<AdminReply>;

const MAX_ADMIN_BODY = 1024 * 1024;

export class AdminServer {
  private readonly routes = new Map<string, AdminHandler>();
  private readonly prefixes: { method: string; prefix: string; handler: AdminHandler }[] = [];
  private readonly server: Server;
  private readonly tokenDigest: Buffer | undefined;

  constructor(token: string) {
    this.tokenDigest = token ? createHash('sha256').update(token).digest() : undefined;
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  /** Registers `METHOD /path`. */
  route(method: string, path: string, handler: AdminHandler): this {
    this.routes.set(`${method} ${path}`, handler);
    return this;
  }

  /** Registers `METHOD /prefix/...` for paths with parameters (the handler parses the rest). */
  routePrefix(method: string, prefix: string, handler: AdminHandler): this {
    this.prefixes.push({ method, prefix, handler });
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
  async dispatch(req: AdminRequest): Promise<AdminReply> {
    const url = new URL(req.url, 'http://admin');
    const handler =
      this.routes.get(`${req.method} ${url.pathname}`) ?? this.prefixes.find((p) => p.method === req.method && url.pathname.startsWith(p.prefix))?.handler;
    try {
      if (!handler) {
        const known = [...this.routes.keys()].some((k) => k.endsWith(` ${url.pathname}`)) || this.prefixes.some((p) => url.pathname.startsWith(p.prefix));
        return known ? { status: 405, body: { error: 'method not allowed' } } : { status: 404, body: { error: 'not found' } };
      }
      return await handler(req, url, req.body);
    } catch (err) {
      return { status: 500, body: { error: (err as Error).message } };
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req).catch(() => undefined);
    const reply =
      body === undefined
        ? { status: 413, body: { error: 'body too large' } }
        : await this.dispatch({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body });
    const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body, null, 2) + '\n';
    res.writeHead(reply.status, { 'content-type': reply.contentType ?? 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  listen(addr: ListenAddress): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(addr.port, addr.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  close(): Promise<void> {
    if (!this.server.listening) return Promise.resolve();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
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
