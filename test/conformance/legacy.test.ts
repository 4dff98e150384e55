import { resolve } from 'node:path';
import { LegacyLayer } from '../../src/legacy/legacy-layer.js';
import { tempDir } from '../helpers/gateway.js';
import { freePort } from '../helpers/redis.js';
import { conformanceProducts, runConformance } from './run-conformance.js';

runConformance('legacy', async (origin) => {
  const layer = await LegacyLayer.start(
    { products: conformanceProducts(), origin, listen: { host: '127.0.0.1', port: await freePort() }, prefix: tempDir('switchyard-legacy-') },
    resolve('.'),
  );
  return { url: layer.url, stop: () => layer.stop() };
});
