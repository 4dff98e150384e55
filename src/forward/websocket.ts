/**
 * WebSocket (HTTP/1.1 Upgrade) proxying through http-proxy, which handles the handshake and
 * then pipes both sockets. Routing is decided by the gateway before it gets here.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import httpProxy from 'http-proxy';
import { classifyUpstreamError, rawErrorResponse, type ErrorDef } from '../errors.js';

export class UpgradeProxy {
  private readonly proxy = httpProxy.createProxyServer({ ws: true, xfwd: true });

  /** Proxies an upgrade to `target`; `done` is called once, with the error if the handshake failed. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, target: URL, headers: Record<string, string>, done: (error?: ErrorDef) => void): void {
    let called = false;
    const once = (error?: ErrorDef) => {
      if (!called) {
        called = true;
        done(error);
      }
    };
    socket.on('error', () => socket.destroy());
    socket.once('close', () => once());
    this.proxy.ws(req, socket, head, { target: target.origin, headers }, (err: Error) => {
      const e = classifyUpstreamError(err);
      if (socket.writable) {
        socket.end(rawErrorResponse(e));
      } else socket.destroy();
      once(e);
    });
  }

  close(): void {
    this.proxy.close();
  }
}
