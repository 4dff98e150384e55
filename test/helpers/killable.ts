/**
 * A real HTTP backend that can be killed and brought back on the same port, as a host that
 * crashes and restarts: kill() stops listening and cuts every connection (new connections are
 * refused), revive() listens again. It answers JSON naming itself, `GET /health` with 200, and
 * records what it served.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Served {
  method: string;
  url: string;
  body: string;
}

export class KillableServer {
  readonly served: Served[] = [];
  private server: Server;
  port = 0;

  private constructor(readonly name: string) {
    this.server = this.create();
  }

  static async start(name: string): Promise<KillableServer> {
    const s = new KillableServer(name);
    await s.listen(0);
    return s;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Requests served, health checks excluded. */
  get hits(): number {
    return this.served.length;
  }

  private create(): Server {
    return createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url === '/health') {
          res.writeHead(200, { 'content-type': 'text/plain' });
          return res.end('ok');
        }
        const body = Buffer.concat(chunks).toString();
        this.served.push({ method: req.method ?? '', url: req.url ?? '', body });
        const text = JSON.stringify({ backend: this.name, method: req.method, url: req.url, body });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      });
    });
  }

  private listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        this.port = (this.server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  async kill(): Promise<void> {
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    this.server.closeAllConnections();
    await closed;
  }

  async revive(): Promise<void> {
    this.server = this.create();
    await this.listen(this.port);
  }

  close(): Promise<void> {
    return this.server.listening ? this.kill() : Promise.resolve();
  }
}
