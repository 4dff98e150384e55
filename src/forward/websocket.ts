/**
 * WebSocket (HTTP/1.1 Upgrade) proxying through http-proxy, which handles the handshake and
 * then pipes both sockets. Routing is decided by the gateway before it gets here.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import httpProxy from 'http-proxy';
import { ERRORS, classifyUpstreamError, rawErrorResponse, type ErrorDef } from '../errors.js';

const STATUS = Symbol('status the backend answered the upgrade with');
type Tracked = IncomingMessage & { [STATUS]?: number };

export class UpgradeProxy {
  private readonly proxy = httpProxy.createProxyServer({ ws: true, xfwd: true });

  constructor() {
    // One listener for every upgrade: notes the status relayed to the client (101, or the
    // backend's refusal passed on as is), for the log step.
    this.proxy.on('proxyReqWs', (proxyReq, req: Tracked) => {
      proxyReq.once('response', (r: IncomingMessage) => (req[STATUS] = r.statusCode));
      proxyReq.once('upgrade', () => (req[STATUS] = 101));
    });
  }

  /**
   * Proxies an upgrade to `target`. `done` is called once, when the exchange is over (the
   * client socket closed, or the handshake failed), with the status the client got and the
   * error that ended it, if any: CLIENT_ABORTED when the client left before any answer.
   */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, target: URL, headers: Record<string, string>, done: (status: number, error?: ErrorDef) => void): void {
    let called = false;
    const once = (error?: ErrorDef) => {
      if (called) return;
      called = true;
      const status = (req as Tracked)[STATUS];
      if (status !== undefined) done(status, error);
      else done((error ?? ERRORS.CLIENT_ABORTED).status, error ?? ERRORS.CLIENT_ABORTED);
    };
    socket.on('error', () => socket.destroy());
    socket.once('close', () => once());
    this.proxy.ws(req, socket, head, { target: target.origin, headers }, (err: Error) => {
      const e = classifyUpstreamError(err);
      // An error answer only before anything was relayed; mid-session the tunnel just closes.
      if (socket.writable && (req as Tracked)[STATUS] === undefined) socket.end(rawErrorResponse(e));
      else socket.destroy();
      once(e);
    });
  }

  close(): void {
    this.proxy.close();
  }
}
