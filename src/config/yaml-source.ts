/**
 * Safe YAML reading shared by every config file switchyard loads (gateway, rules, products).
 *
 * YAML is parsed once, at the edge, into a document whose nodes keep their source offsets so
 * that every later check can say FILE:LINE:COL. Only the core schema is allowed (no custom
 * tags), aliases are capped (billion-laughs), and the text size is capped before parsing.
 */
import { type Document, isNode, LineCounter, type Node, parseDocument } from 'yaml';
import { ERRORS } from '../errors.js';

/** Room for about 50,000 routes; bigger is a mistake, not a rule set. */
export const MAX_CONFIG_BYTES = 8 * 1024 * 1024;
const MAX_ALIASES = 100;

/** One problem in a config file, with the position of the offending key or value. */
export interface ConfigIssue {
  file: string;
  line: number;
  col: number;
  /** Dotted path of the key, e.g. `routes[2].split`; empty for the document itself. */
  path: string;
  message: string;
}

export function formatIssue(issue: ConfigIssue): string {
  const where = issue.path ? `${issue.path}: ` : '';
  return `${issue.file}:${issue.line}:${issue.col}: ${where}${issue.message}`;
}

/** Thrown by loaders when a file does not validate; carries every issue, not only the first. */
export class ConfigError extends Error {
  readonly code = ERRORS.CONFIG_INVALID.code;
  constructor(readonly issues: readonly ConfigIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'ConfigError';
  }
}

export interface YamlSource {
  file: string;
  text: string;
  doc: Document.Parsed;
  lines: LineCounter;
  issues: ConfigIssue[];
}

/** Parses YAML text; syntax errors land in `issues` (the document may then be partial). */
export function parseYamlSource(text: string, file: string): YamlSource {
  const lines = new LineCounter();
  const issues: ConfigIssue[] = [];
  if (Buffer.byteLength(text) > MAX_CONFIG_BYTES) {
    issues.push({ file, line: 1, col: 1, path: '', message: `file is larger than ${MAX_CONFIG_BYTES} bytes` });
  }
  const doc = parseDocument(issues.length ? '' : text, {
    lineCounter: lines,
    schema: 'core',
    customTags: [],
    uniqueKeys: true,
    prettyErrors: false,
    strict: true,
  });
  for (const err of [...doc.errors, ...doc.warnings]) {
    const pos = lines.linePos(err.pos[0]);
    issues.push({ file, line: pos.line, col: pos.col, path: '', message: err.message.split('\n')[0] ?? err.message });
  }
  if (issues.length === 0) {
    // toJS enforces the alias cap; resolving here makes an alias bomb fail early and visibly.
    try {
      doc.toJS({ maxAliasCount: MAX_ALIASES });
    } catch (err) {
      issues.push({ file, line: 1, col: 1, path: '', message: (err as Error).message });
    }
  }
  return { file, text, doc, lines, issues };
}

/** The line and column where a node starts (1-based); the document start when unknown. */
export function positionOf(src: Pick<YamlSource, 'lines'>, node: unknown): { line: number; col: number } {
  if (isNode(node) && (node as Node).range) {
    return src.lines.linePos((node as Node).range![0]);
  }
  return { line: 1, col: 1 };
}
