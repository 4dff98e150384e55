import { TestRedis } from '../helpers/redis.js';
import { runRulesStore } from './run-rules-store.js';

// In-process gateways and RuleStore: the fast run; rules-cluster.test.ts runs the same suite
// with gateway processes and the CLI.
runRulesStore('redis', { start: () => TestRedis.start(), processes: false });
