/** Continuous load for tests: `concurrency` loops of requests until stop(); every failure is kept. */
import { Agent, request } from 'node:http';

export interface LoadResult {
  ok: number;
  failed: { status?: number; error?: string }[];
  backends: Map<string, number>;
}

export function startLoad(url: string, concurrency = 4, headers: Record<string, string> = {}) {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const result: LoadResult = { ok: 0, failed: [], backends: new Map() };
  let running = true;
  const one = () =>
    new Promise<void>((resolve) => {
      const req = request(url, { agent, headers }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) result.ok++;
          else result.failed.push({ status: res.statusCode });
          const b = String(res.headers['x-switchyard-backend']);
          result.backends.set(b, (result.backends.get(b) ?? 0) + 1);
          resolve();
        });
      });
      req.on('error', (err) => {
        result.failed.push({ error: err.message });
        resolve();
      });
      req.end();
    });
  const loops = Array.from({ length: concurrency }, async () => {
    while (running) await one();
  });
  return {
    result,
    async stop(): Promise<LoadResult> {
      running = false;
      await Promise.all(loops);
      agent.destroy();
      return result;
    },
  };
}
