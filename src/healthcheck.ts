/**
 * The container's HEALTHCHECK: `node dist/healthcheck.js [CONFIG]` asks GET /healthz of the
 * admin listener named by the gateway's own config (same file, same environment), so the port
 * is written once, in the config, and a changed `admin.listen` needs no change in the image.
 * Exit 0 when healthy, 1 otherwise (also when the config cannot be read).
 */
import { loadGatewayConfig } from './config/gateway-config.js';
import { defaultConfigPath } from './cli/common.js';
import { localUrl } from './config/listen-address.js';

/** Below the image's `HEALTHCHECK --timeout=3s`, so a hung listener reports unhealthy, not a timeout. */
const TIMEOUT_MS = 2000;

async function healthcheck(configFile: string): Promise<boolean> {
  const url = new URL('/healthz', localUrl(loadGatewayConfig(configFile).admin.listen));
  const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  await res.body?.cancel();
  return res.ok;
}

healthcheck(defaultConfigPath(process.argv[2])).then(
  (ok) => process.exit(ok ? 0 : 1),
  (err: Error) => {
    process.stderr.write(`healthcheck: ${err.message}\n`);
    process.exit(1);
  },
);
