import { createMetrics } from '../../src/metrics/catalogue.js';
import { PipelineServer } from '../../src/pipeline/pipeline-server.js';
import { silentLogger } from '../helpers/gateway.js';
import { conformanceProducts, runConformance } from './run-conformance.js';

runConformance('pipeline', async (origin) => {
  const server = await PipelineServer.start({
    products: conformanceProducts(),
    origin,
    listen: { host: '127.0.0.1', port: 0 },
    metrics: createMetrics({ processMetrics: false }),
    logger: silentLogger(),
  });
  return { url: `http://127.0.0.1:${server.port}`, stop: () => server.stop(1000) };
});
