/**
 * The regular-expression dialect of WAF patterns: the constructs that PCRE (the legacy layer,
 * `ngx.re.find`) and RE2 (the pipeline, src/util/linear-regex.ts) read the same way, and the
 * translation for PCRE of the few they read differently (docs/products.md, "Regular
 * expressions"). Both sides match against strings of bytes (headers and percent-decoded paths
 * as Latin-1 characters on the JavaScript side), so only ASCII is allowed in a pattern.
 */
import { compileLinearRegex } from '../util/linear-regex.js';

const NON_PORTABLE: [RegExp, string][] = [
  [/\(\?<[=!]/, 'lookbehind'],
  [/\(\?P?<[A-Za-z]/, 'named groups'],
  [/\(\?'/, 'named groups'],
  [/\(\?>/, 'atomic groups'],
  [/\(\?[a-zA-Z-]+[):]/, 'inline flags (use ignore_case)'],
  [/\(\?[=!]/, 'lookahead'],
  [/\(\?#/, 'comments'],
  [/[*+?}]\+/, 'possessive quantifiers'],
  [/\\[1-9]/, 'backreferences'],
  [/\[:[a-z]+:\]/, 'POSIX classes'],
  [/\{,/, '"{,n}" quantifiers'],
  [/(^|[^\\])\[\^?\]/, 'an empty class or "]" first in a class'],
  [/[^\x20-\x7e]/, 'non-ASCII or control characters (PCRE reads UTF-8 bytes, RE2 characters)'],
];

/** Escapes both read alike: these letters, and any escaped punctuation. */
const PORTABLE_ESCAPE = /^[dDwWsSbBtnrf]$|^[^A-Za-z0-9]$/;

/** Calls `visit` per token: an escape ("\x"), a class bracket, or one character. */
function tokens(source: string, visit: (tok: string, inClass: boolean) => void): void {
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\' && i + 1 < source.length) {
      visit(source.slice(i, i + 2), inClass);
      i++;
      continue;
    }
    if (!inClass && c === '[') {
      inClass = true;
      visit(c, false);
      // "[^" opens a negated class; the "^" is part of the opening.
      if (source[i + 1] === '^') visit(source[++i]!, true);
      continue;
    }
    if (inClass && c === ']') {
      inClass = false;
      visit(c, false);
      continue;
    }
    visit(c, inClass);
  }
}

/** Why a WAF pattern is not portable between PCRE and RE2, or undefined when it is. */
export function checkPortableRegex(source: string): string | undefined {
  const named = `${JSON.stringify(source)}: `;
  for (const [re, what] of NON_PORTABLE) if (re.test(source)) return `${named}${what}: not portable between PCRE and RE2`;
  let bad: string | undefined;
  tokens(source, (tok, inClass) => {
    if (bad || tok[0] !== '\\' || tok.length !== 2) return;
    if (!PORTABLE_ESCAPE.test(tok[1]!)) bad = `the escape ${tok} is not portable (only \\d \\D \\w \\W \\s \\S \\b \\B \\t \\n \\r \\f and escaped punctuation are portable)`;
    else if (inClass && 'SbB'.includes(tok[1]!)) bad = `${tok} inside a class`;
  });
  if (bad) return `${named}${bad}: not portable between PCRE and RE2`;
  const compiled = compileLinearRegex(source);
  return typeof compiled === 'string' ? compiled : undefined;
}

// RE2's \s is [\t\n\f\r ]; PCRE's also has \v (VT).
const SPACE = '\\t\\n\\f\\r ';

/**
 * The pattern as PCRE must read it to answer as RE2 does:
 *   "$"  → "\z"  (PCRE's "$" also matches before a final newline: "/x.php%0a")
 *   "\s" → "[\t\n\f\r ]", "\S" → "[^\t\n\f\r ]" (PCRE's \s includes VT)
 * `.` needs nothing: both exclude "\n" only (PCRE's default newline is LF). Assumes a pattern
 * checkPortableRegex accepted.
 */
export function pcrePattern(source: string): string {
  let out = '';
  tokens(source, (tok, inClass) => {
    if (tok === '$' && !inClass) out += '\\z';
    else if (tok === '\\s') out += inClass ? SPACE : `[${SPACE}]`;
    else if (tok === '\\S') out += `[^${SPACE}]`;
    else out += tok;
  });
  return out;
}
