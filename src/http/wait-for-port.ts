import { connect } from 'node:net';

/** Resolves once something accepts connections on host:port (about 5 s at most). */
export async function waitForPort(port: number, host = '127.0.0.1', what = 'the server'): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((r) => {
      const s = connect(port, host);
      s.once('connect', () => {
        s.destroy();
        r(true);
      });
      s.once('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${what} did not listen on ${host}:${port}`);
}
