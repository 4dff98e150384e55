/**
 * The two sides of one exchange inside an in-process gateway, seen through public diagnostics
 * channels: node:http's "http.server.request.start" gives the downstream request and response,
 * the gateway's HTTP/1.1 client's "switchyard:upstream:sendHeaders" (or undici's
 * "undici:client:sendHeaders", for a streamed body) the upstream socket. With them a test measures what the
 * gateway itself holds in memory, apart from what sits in kernel socket buffers (which on
 * loopback autotune up to tens of MB and say nothing about the gateway).
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface WatchedExchange {
  /** The gateway's request and response towards the client, once the request arrived. */
  downstream?: { req: IncomingMessage; res: ServerResponse; socket: Socket };
  /** The gateway's socket to the backend, once it sent the request head. */
  upstream?: Socket;
  /** Stops watching. */
  close(): void;
}

/** Bytes a socket has handed to the kernel: written, minus what still waits in Node or libuv. */
export function dispatched(socket: Socket): number {
  return socket.bytesWritten - socket.writableLength;
}

/** Watches the next exchange of the gateway listening on `port` for `path`. */
export function watchExchange(port: number, path: string): WatchedExchange {
  const watched: WatchedExchange = { close };
  function onRequest(message: unknown): void {
    const { request, response } = message as { request: IncomingMessage; response: ServerResponse };
    if (!watched.downstream && request.socket.localPort === port && request.url === path)
      watched.downstream = { req: request, res: response, socket: request.socket };
  }
  function onSendHeaders(message: unknown): void {
    const { request, socket } = message as { request: { path: string }; socket: Socket };
    if (!watched.upstream && request.path === path) watched.upstream = socket;
  }
  function close(): void {
    unsubscribe('http.server.request.start', onRequest);
    unsubscribe('undici:client:sendHeaders', onSendHeaders);
    unsubscribe('switchyard:upstream:sendHeaders', onSendHeaders);
  }
  subscribe('http.server.request.start', onRequest);
  subscribe('undici:client:sendHeaders', onSendHeaders);
  subscribe('switchyard:upstream:sendHeaders', onSendHeaders);
  return watched;
}
