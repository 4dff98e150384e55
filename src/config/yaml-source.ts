/**
 * Safe YAML reading shared by every config file switchyard loads (gateway, rules, products).
 *
 * YAML is parsed once, at the edge, into a document whose nodes keep their source offsets so
 * that every later check can say FILE:LINE:COL. Only the core schema is allowed (no custom
 * tags), aliases are capped (billion-laughs), and the text size is capped before parsing.
 *
 * A large text (a rule set of thousands of routes) is parsed in a short-lived child process
 * (yaml-child.ts), which hands back the values; the document is rebuilt from them here, without
 * positions. Why: the yaml package's parse of 10,000 routes (690 KB) allocates about 140 MB
 * that a long-running gateway then keeps as RSS (V8 does not give the pages back), against about
 * 40 MB this way (`npm run bench:routes-heap`; issue 14, item 4). A document without positions is
 * only ever accepted: when a check finds a problem in it, validateDocument parses the text again
 * here, so that every message still names FILE:LINE:COL. Where the child cannot run, the text is
 * parsed here as before.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { deserialize } from 'node:v8';
import { Document, type DocumentOptions, isNode, LineCounter, type Node, type ParseOptions, parseDocument, type SchemaOptions } from 'yaml';
import { ERRORS } from '../errors.js';

/** Room for about 50,000 routes; bigger is a mistake, not a rule set. */
export const MAX_CONFIG_BYTES = 8 * 1024 * 1024;
const MAX_ALIASES = 100;
/** Texts above this size are parsed in a child process (see above); a few hundred routes stay here. */
export const CHILD_PARSE_BYTES = 256 * 1024;

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
  /** False when the document was rebuilt from a child's values: its nodes have no source offsets. */
  positioned: boolean;
}

const OPTIONS: ParseOptions & DocumentOptions & SchemaOptions = { schema: 'core', customTags: [], uniqueKeys: true, prettyErrors: false, strict: true };

/** What the child process sends back: the syntax issues, or the document's values. */
export interface ChildParse {
  issues: Omit<ConfigIssue, 'file'>[];
  /** The document's values (maps as Map, so keys keep their types), when there is no issue. */
  value?: unknown;
}

/**
 * Parses YAML text; syntax errors land in `issues` (the document may then be partial).
 * `inChild` forces (true) or forbids (false) the child process; by default, texts above
 * CHILD_PARSE_BYTES go to it.
 */
export function parseYamlSource(text: string, file: string, inChild = text.length > CHILD_PARSE_BYTES): YamlSource {
  return (inChild && parseInChild(text, file)) || parseHere(text, file);
}

function parseHere(text: string, file: string): YamlSource {
  const lines = new LineCounter();
  const { doc, issues } = parseText(text, lines);
  return { file, text, doc, lines, issues: issues.map((i) => ({ file, ...i })), positioned: true };
}

/** The parse itself, shared with the child: the document and its syntax issues. */
export function parseText(text: string, lines: LineCounter): { doc: Document.Parsed; issues: Omit<ConfigIssue, 'file'>[] } {
  const issues: Omit<ConfigIssue, 'file'>[] = [];
  if (Buffer.byteLength(text) > MAX_CONFIG_BYTES) {
    issues.push({ line: 1, col: 1, path: '', message: `file is larger than ${MAX_CONFIG_BYTES} bytes` });
  }
  const doc = parseDocument(issues.length ? '' : text, { lineCounter: lines, ...OPTIONS });
  for (const err of [...doc.errors, ...doc.warnings]) {
    const pos = lines.linePos(err.pos[0]);
    issues.push({ line: pos.line, col: pos.col, path: '', message: err.message.split('\n')[0] ?? err.message });
  }
  if (issues.length === 0) {
    // toJS enforces the alias cap; resolving here makes an alias bomb fail early and visibly.
    try {
      doc.toJS({ maxAliasCount: MAX_ALIASES });
    } catch (err) {
      issues.push({ line: 1, col: 1, path: '', message: (err as Error).message });
    }
  }
  return { doc, issues };
}

/** The child's module: beside this one in dist/; under vitest (running src/*.ts), the built one. */
function childFile(): string {
  const here = fileURLToPath(new URL('./yaml-child.js', import.meta.url));
  return existsSync(here) ? here : fileURLToPath(new URL('../../dist/config/yaml-child.js', import.meta.url));
}

function parseInChild(text: string, file: string): YamlSource | undefined {
  const r = spawnSync(process.execPath, [childFile()], { input: text, maxBuffer: 16 * MAX_CONFIG_BYTES, stdio: ['pipe', 'pipe', 'ignore'] });
  if (r.error || r.status !== 0) return undefined;
  let out: ChildParse;
  try {
    out = deserialize(r.stdout) as ChildParse;
  } catch {
    return undefined;
  }
  const lines = new LineCounter();
  if (out.issues.length > 0) {
    // The child's positions stand; the document itself is never looked at past syntax errors.
    return { file, text, doc: new Document(null) as Document.Parsed, lines, issues: out.issues.map((i) => ({ file, ...i })), positioned: true };
  }
  const doc = new Document(out.value, { ...OPTIONS, aliasDuplicateObjects: false }) as unknown as Document.Parsed;
  return { file, text, doc, lines, issues: [], positioned: false };
}

/** The line and column where a node starts (1-based); the document start when unknown. */
export function positionOf(src: Pick<YamlSource, 'lines'>, node: unknown): { line: number; col: number } {
  if (isNode(node) && (node as Node).range) {
    return src.lines.linePos((node as Node).range![0]);
  }
  return { line: 1, col: 1 };
}
