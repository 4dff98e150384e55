/**
 * Streaming means backpressure: while the far side reads nothing, the gateway stops reading the
 * near side, and holds no more than a few stream buffers of the exchange itself. Measured as
 * bytes inside the gateway (read from one socket, not yet handed to the kernel on the other),
 * not as process memory, and synchronised on the gateway's own state, not on a pause of so long.
 * If the gateway ignored backpressure, the held bytes would grow to most of the 50 MB.
 */
import { once } from 'node:events';
import { type IncomingMessage, request } from 'node:http';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatched, watchExchange } from '../helpers/exchange.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startServer, type TestServer, waitFor } from '../helpers/servers.js';

const MB = 1024 * 1024;
const SIZE = 50 * MB;
/** A few 16-64 KiB stream buffers is what streaming holds; 2 MiB leaves room and is far below SIZE. */
const HELD_LIMIT = 2 * MB;

/** `total` zero bytes produced on the fly; `onChunk` runs before each chunk is handed on. */
function zeros(total: number, onChunk: () => void = () => undefined): Readable {
  let sent = 0;
  const chunk = Buffer.alloc(64 * 1024);
  return new Readable({
    read() {
      onChunk();
      if (sent >= total) return void this.push(null);
      const n = Math.min(chunk.length, total - sent);
      sent += n;
      this.push(n === chunk.length ? chunk : chunk.subarray(0, n));
    },
  });
}

describe('backpressure through the gateway', () => {
  let backend: TestServer;
  let g: TestGateway;
  let startReading = () => undefined as undefined;
  let backendHasUpload = false;
  let downloadWritten = false;

  beforeAll(async () => {
    backend = await startServer((req, res) => {
      if (req.url === '/upload') {
        req.pause(); // a stalled backend: reads nothing until the test calls startReading()
        backendHasUpload = true;
        startReading = () => {
          startReading = () => undefined;
          let n = 0;
          req.on('data', (c: Buffer) => (n += c.length));
          req.on('end', () => res.end(String(n)));
          req.resume();
        };
        return;
      }
      req.resume();
      res.writeHead(200, { 'content-length': String(SIZE) });
      zeros(SIZE)
        .pipe(res)
        .on('finish', () => (downloadWritten = true));
    });
    // The stalls below end on an event, not a clock: the response timeout is only a cap.
    g = await startGateway({ backends: { legacy: backend.url }, rules: 'default: legacy\n', responseTimeout: '60s' });
  });
  afterAll(async () => {
    await g.stop();
    await backend.close();
  });

  it('stops reading a 50 MB upload while the backend reads nothing, then streams it whole', async () => {
    const ex = watchExchange(g.gw.port, '/upload');
    let maxHeld = 0;
    /** Read from the client, not yet handed to the kernel towards the backend. */
    const held = () => {
      if (ex.downstream && ex.upstream) maxHeld = Math.max(maxHeld, ex.downstream.socket.bytesRead - dispatched(ex.upstream));
      return maxHeld;
    };
    // The backend has the request, the gateway's socket to it takes no more, and the gateway
    // paused the body: Node stopped reading the client's socket into it.
    const holdsBack = () =>
      backendHasUpload && !!ex.downstream && !!ex.upstream?.writableNeedDrain && ex.downstream.req.readableLength >= ex.downstream.req.readableHighWaterMark;
    let clientWroteAll = false;
    const req = request(`${g.url}/upload`, { method: 'POST', agent: false, headers: { 'content-length': String(SIZE) } });
    const answer = new Promise<string>((resolve, reject) => {
      req.on('response', (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
    });
    zeros(SIZE, held)
      .pipe(req)
      .on('finish', () => (clientWroteAll = true));
    try {
      await waitFor(() => held() > HELD_LIMIT || holdsBack() || clientWroteAll, undefined, 'the gateway to stop reading the upload');
      expect(held()).toBeLessThanOrEqual(HELD_LIMIT);
      expect(holdsBack()).toBe(true);
      startReading();
      expect(await answer).toBe(String(SIZE));
      expect(held()).toBeLessThanOrEqual(HELD_LIMIT);
    } finally {
      ex.close();
      startReading();
      req.destroy();
    }
  });

  it('stops reading a 50 MB download while the client reads nothing, then streams it whole', async () => {
    const ex = watchExchange(g.gw.port, '/download');
    let maxHeld = 0;
    /** Read from the backend, not yet handed to the kernel towards the client. */
    const held = () => {
      if (ex.downstream && ex.upstream) maxHeld = Math.max(maxHeld, ex.upstream.bytesRead - dispatched(ex.downstream.socket));
      return maxHeld;
    };
    // The gateway's writes to the client are blocked, and it stopped parsing the backend's answer:
    // the read buffer of its socket to the backend stays full.
    const holdsBack = () => !!ex.downstream?.res.writableNeedDrain && !!ex.upstream && ex.upstream.readableLength >= ex.upstream.readableHighWaterMark;
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      request(`${g.url}/download`, { agent: false }, (r) => {
        r.pause(); // a stalled client
        resolve(r);
      })
        .on('error', reject)
        .end();
    });
    try {
      await waitFor(() => held() > HELD_LIMIT || holdsBack() || downloadWritten, undefined, 'the gateway to stop reading the download');
      expect(held()).toBeLessThanOrEqual(HELD_LIMIT);
      expect(holdsBack()).toBe(true);
      let received = 0;
      res.on('data', (c: Buffer) => {
        received += c.length;
        held();
      });
      res.resume();
      await once(res, 'end');
      expect(received).toBe(SIZE);
      expect(held()).toBeLessThanOrEqual(HELD_LIMIT);
    } finally {
      ex.close();
      res.destroy();
    }
  });
});
