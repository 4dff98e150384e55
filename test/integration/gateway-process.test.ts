import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:http';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/servers.js';
import { gatewayYaml, tempDir } from '../helpers/gateway.js';
import { spawnGateway, type GatewayProcess } from '../helpers/process.js';

const MB = 1024 * 1024;
let downloadWritten = () => 0;

/** A 50 MB stream produced on the fly, so the test process holds none of it. */
function zeros(total: number): Readable {
  let sent = 0;
  const chunk = Buffer.alloc(64 * 1024);
  return new Readable({
    read() {
      if (sent >= total) return void this.push(null);
      const n = Math.min(chunk.length, total - sent);
      sent += n;
      this.push(n === chunk.length ? chunk : chunk.subarray(0, n));
    },
  });
}

describe('gateway process', () => {
  let backend: TestServer;
  let gw: GatewayProcess;

  beforeAll(async () => {
    backend = await startServer((req, res) => {
      if (req.url === '/download') {
        res.writeHead(200, { 'content-length': String(50 * MB) });
        zeros(50 * MB).pipe(res);
        downloadWritten = () => res.socket?.bytesWritten ?? 0;
        return;
      }
      if (req.url === '/upload-stall') req.pause();
      setTimeout(() => req.resume(), req.url === '/upload-stall' ? 1500 : 0);
      if (req.url === '/slow') {
        req.resume();
        setTimeout(() => res.end('done'), 700);
        return;
      }
      let n = 0;
      req.on('data', (c: Buffer) => (n += c.length));
      req.on('end', () => res.end(String(n)));
    });
    const dir = tempDir();
    writeFileSync(join(dir, 'rules.yaml'), 'default: legacy\n');
    const config = join(dir, 'gateway.yaml');
    writeFileSync(config, gatewayYaml({ backends: { legacy: backend.url }, rules: '' }, join(dir, 'rules.yaml')).replace('response_timeout: 1s', 'response_timeout: 30s'));
    gw = await spawnGateway(config, ['--drain', '5']);
  });
  afterAll(async () => {
    gw.child.kill('SIGKILL');
    await backend.close();
  });

  // Streaming means backpressure: while the far side is not reading, the near side cannot push
  // more than a few socket buffers through the gateway, and the gateway's memory stays flat.
  it('streams a 50 MB upload to a stalled backend without buffering it', async () => {
    const before = gw.rss();
    const req = request(`http://127.0.0.1:${gw.port}/upload-stall`, { method: 'POST', agent: false, headers: { 'content-length': String(50 * MB) } });
    const answer = new Promise<string>((resolve, reject) => {
      req.on('response', (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
    });
    zeros(50 * MB).pipe(req);
    await new Promise((r) => setTimeout(r, 1000)); // the backend reads nothing for 1.5 s
    expect(req.socket!.bytesWritten).toBeLessThan(16 * MB);
    expect(gw.rss() - before).toBeLessThan(20 * MB);
    expect(await answer).toBe(String(50 * MB));
  });

  it('streams a 50 MB download to a stalled client without buffering it', async () => {
    const before = gw.rss();
    const received = await new Promise<number>((resolve, reject) => {
      request(`http://127.0.0.1:${gw.port}/download`, { agent: false }, (res) => {
        res.pause();
        setTimeout(() => {
          try {
            expect(downloadWritten()).toBeLessThan(16 * MB);
            expect(gw.rss() - before).toBeLessThan(20 * MB);
          } catch (err) {
            reject(err);
          }
          let n = 0;
          res.on('data', (c: Buffer) => (n += c.length));
          res.on('end', () => resolve(n));
          res.resume();
        }, 1000);
      })
        .on('error', reject)
        .end();
    });
    expect(received).toBe(50 * MB);
  });

  it('finishes in-flight requests on SIGTERM and exits 0', async () => {
    const inflight = Array.from({ length: 5 }, () => get(gw.port, '/slow'));
    await new Promise((r) => setTimeout(r, 150));
    gw.child.kill('SIGTERM');
    const results = await Promise.all(inflight);
    expect(results).toEqual(Array(5).fill({ status: 200, body: 'done' }));
    expect(await gw.exited).toBe(0);
  });
});

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(`http://127.0.0.1:${port}${path}`, { agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}
