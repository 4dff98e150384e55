/**
 * Reads the Dockerfile and .dockerignore the way Docker does, as far as the tests need, so that
 * the image can be checked against the config and the Kubernetes manifests without an engine.
 */
import { readFileSync } from 'node:fs';

export interface Dockerfile {
  /** Instructions with continuation lines joined, comments dropped; `instr('COPY')` → every COPY line. */
  instr(name: string): string[];
  /** The ENV of the last stage (the runtime image). */
  env: Record<string, string>;
  /** The JSON (exec) form of ENTRYPOINT or CMD, as an argv. */
  execForm(name: 'ENTRYPOINT' | 'CMD'): string[];
}

export function dockerfile(file: string): Dockerfile {
  const lines = readFileSync(file, 'utf8')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim().replace(/\s+/g, ' '))
    .filter((l) => l && !l.startsWith('#'));
  const instr = (name: string) => lines.filter((l) => l.toUpperCase().startsWith(name + ' '));
  const lastStage = lines.slice(lines.map((l) => l.toUpperCase().startsWith('FROM ')).lastIndexOf(true));
  const env = Object.fromEntries(
    lastStage
      .filter((l) => l.toUpperCase().startsWith('ENV '))
      .flatMap((l) => [...l.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1]!, m[2]!])),
  );
  const execForm = (name: string) => {
    const line = instr(name).at(-1);
    if (!line) throw new Error(`no ${name} in ${file}`);
    return JSON.parse(line.slice(name.length)) as string[];
  };
  return { instr, env, execForm };
}

/**
 * A predicate "is this path (relative to the context) left out by these .dockerignore rules":
 * `*` and `?` within a segment, `**` across segments, `!` re-includes, the last matching rule
 * wins, and a path is left out when it or a directory above it matches.
 */
export function dockerignored(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = (negate ? l.slice(1) : l).replace(/^\/+|\/+$/g, '');
      const re = pattern
        .split(/(\*\*\/?|\*|\?)/)
        .map((part) => (part === '**/' ? '(?:.*/)?' : part === '**' ? '.*' : part === '*' ? '[^/]*' : part === '?' ? '[^/]' : part.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
        .join('');
      return { negate, re: new RegExp(`^${re}$`) };
    });
  return (path) => {
    const parts = path.split('/');
    const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let out = false;
    for (const r of rules) if (prefixes.some((p) => r.re.test(p))) out = !r.negate;
    return out;
  };
}
