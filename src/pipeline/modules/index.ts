/**
 * The edge products as pipeline modules, in the order their phases run (the same order as the
 * legacy layer's Lua, docs/products.md).
 */
import type { PipelineModule } from '../module.js';
import { cors } from './cors.js';
import { headers } from './headers.js';
import { methodGuard } from './method-guard.js';
import { origin } from './origin.js';
import { rateLimit } from './rate-limit.js';
import { redirects } from './redirects.js';
import { waf } from './waf.js';

export const STANDARD_MODULES: readonly PipelineModule<never>[] = [methodGuard, waf, rateLimit, cors, redirects, headers, origin] as PipelineModule<never>[];
