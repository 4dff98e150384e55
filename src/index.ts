/**
 * switchyard as a library: the gateway, the rule language, the pipeline and its module
 * contract. The command line (src/cli.ts) is built on these.
 */

export { type GatewayConfig, loadGatewayConfig, parseGatewayConfig } from './config/gateway-config.js';
export { ConfigError, type ConfigIssue, formatIssue } from './config/yaml-source.js';
export { type CapturedResponse, type Comparison, compareResponses } from './diff/compare.js';
export { Gateway, type GatewayOptions } from './gateway/gateway.js';
export { LegacyLayer } from './legacy/legacy-layer.js';
export { createMetrics, type Metrics } from './metrics/catalogue.js';
export { Pipeline } from './pipeline/engine.js';
export { CONTINUE, defineModule, PHASES, type Phase, type PipelineModule, respond } from './pipeline/module.js';
export { STANDARD_MODULES } from './pipeline/modules/index.js';
export { PipelineServer } from './pipeline/pipeline-server.js';
export { loadProducts, type ProductsConfig, parseProducts } from './products/products-config.js';
export { type Decision, decide } from './router/decide.js';
export { requestFacts } from './router/request-facts.js';
export { BUCKETS, bucketOf } from './router/split.js';
export { parseRuleSet, type Route, type RuleSet, validateRuleText } from './rules/rule-set.js';
export { RuleStore, type RuleVersion, VersionConflictError } from './store/rule-store.js';
