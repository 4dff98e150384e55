/**
 * The `log:` section, the same keys in the gateway's and the pipeline service's config.
 */
import type { AccessLogConfig } from '../log/access-log.js';
import { boolean, number, oneOf, opt, section } from './schema.js';

export interface LogConfig extends AccessLogConfig {
  level: string;
}

export const logSection = section({
  level: opt(oneOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']), 'info'),
  access: opt(boolean(), true),
  access_sample: opt(number({ min: 0, max: 1 }), 1),
});

export function logConfigOf(raw: { level: string; access: boolean; access_sample: number }): LogConfig {
  return { level: raw.level, access: raw.access, accessSample: raw.access_sample };
}
