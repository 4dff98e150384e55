/**
 * The child process that parses a large YAML text for yaml-source.ts: reads the text on stdin,
 * writes a v8-serialized ChildParse on stdout (v8 rather than JSON, so that `.inf`, `.nan` and
 * Map keys of any type come back as they are), and exits, giving every page of the parse back.
 */
import { readFileSync, writeSync } from 'node:fs';
import { serialize } from 'node:v8';
import { LineCounter } from 'yaml';
import { type ChildParse, parseText } from './yaml-source.js';

const { doc, issues } = parseText(readFileSync(0, 'utf8'), new LineCounter());
const out: ChildParse = issues.length > 0 ? { issues } : { issues, value: doc.toJS({ mapAsMap: true }) };
const bytes = serialize(out);
for (let off = 0; off < bytes.length; ) off += writeSync(1, bytes, off);
