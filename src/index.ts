/**
 * switchyard as a library: the gateway, the rule language, the pipeline and its module
 * contract. The command line (src/cli.ts) is built on these.
 */
export { Gateway, type GatewayOptions } from './gateway/gateway.js';
export { loadGatewayConfig, parseGatewayConfig, type GatewayConfig } from './config/gateway-config.js';
export { ConfigError, formatIssue, type ConfigIssue } from './config/yaml-source.js';
export { parseRuleSet, validateRuleText, type Route, type RuleSet } from './rules/rule-set.js';
export { bucketOf, BUCKETS } from './router/split.js';
export { decide, type Decision } from './router/decide.js';
export { requestFacts } from './router/request-facts.js';
export { RuleStore, VersionConflictError, type RuleVersion } from './store/rule-store.js';
export { compareResponses, type CapturedResponse, type Comparison } from './diff/compare.js';
export { parseProducts, loadProducts, type ProductsConfig } from './products/products-config.js';
export { LegacyLayer } from './legacy/legacy-layer.js';
export { Pipeline } from './pipeline/engine.js';
export { PipelineServer } from './pipeline/pipeline-server.js';
export { CONTINUE, defineModule, respond, PHASES, type PipelineModule, type Phase } from './pipeline/module.js';
export { STANDARD_MODULES } from './pipeline/modules/index.js';
export { createMetrics, type Metrics } from './metrics/catalogue.js';
