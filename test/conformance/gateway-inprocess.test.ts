import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseGatewayConfig } from '../../src/config/gateway-config.js';
import { Gateway } from '../../src/gateway/gateway.js';
import { silentLogger, tempDir } from '../helpers/gateway.js';
import { PRODUCTS_FILE, runConformance } from './run-conformance.js';

// The pipeline inside the gateway process, as the gateway's default backend: the same
// scenarios, through the gateway's own admission (its limits no tighter than the edge's:
// Node counts less of the head against max_header_size than the edge does).
runConformance(
  'pipeline',
  async (origin) => {
    const dir = tempDir();
    const products = readFileSync(PRODUCTS_FILE, 'utf8').replace('http://127.0.0.1:9', origin.url);
    writeFileSync(join(dir, 'products.yaml'), products);
    writeFileSync(join(dir, 'rules.yaml'), 'default: pipeline\n');
    const text = `listen: "127.0.0.1:0"
state_dir: "${join(dir, 'state')}"
admin: { listen: "127.0.0.1:0" }
backends:
  pipeline: { inprocess: true, products: products.yaml }
rules: { file: rules.yaml }
limits: { max_url_length: 8kb, max_header_size: 32kb }
`;
    const file = join(dir, 'gateway.yaml');
    writeFileSync(file, text);
    const gw = await Gateway.start(parseGatewayConfig(text, file, {}), { logger: silentLogger() });
    return { url: `http://127.0.0.1:${gw.port}`, stop: () => gw.stop(500) };
  },
  'pipeline in-process behind the gateway',
);
