/**
 * One field's stored samples: the request (method, path, redacted headers) and both answers side
 * by side, the differences highlighted: JSON by pointer (every line of a differing pointer), text
 * by line (lines the other side lacks), headers and status by name.
 */
import { answersOf, type SampleAnswer, type StoredSample } from '../shadow/sample-reader.js';
import { esc, page } from './console-html.js';

const escPtr = (k: string) => k.replace(/~/g, '~0').replace(/\//g, '~1');

/** Pretty JSON as lines, each line marked when its pointer (or a parent's) differs. */
function jsonLines(v: unknown, ptr: string, marked: (p: string) => boolean, indent: string, key: string, last: boolean, out: string[]): void {
  const k = key ? `${esc(JSON.stringify(key))}: ` : '';
  const comma = last ? '' : ',';
  const cls = marked(ptr) ? ' class="d"' : '';
  if (v !== null && typeof v === 'object') {
    const entries = Array.isArray(v) ? v.map((x, i) => [String(i), x] as const) : Object.entries(v as Record<string, unknown>);
    const [open, close] = Array.isArray(v) ? ['[', ']'] : ['{', '}'];
    if (!entries.length) return void out.push(`<span${cls} data-ptr="${esc(ptr)}">${indent}${k}${open}${close}${comma}</span>`);
    out.push(`<span${cls} data-ptr="${esc(ptr)}">${indent}${k}${open}</span>`);
    entries.forEach(([ek, ev], i) => jsonLines(ev, `${ptr}/${escPtr(ek)}`, marked, indent + '  ', Array.isArray(v) ? '' : ek, i === entries.length - 1, out));
    out.push(`<span${cls}>${indent}${close}${comma}</span>`);
  } else out.push(`<span${cls} data-ptr="${esc(ptr)}">${indent}${k}${esc(JSON.stringify(v))}${comma}</span>`);
}

function bodyHtml(body: unknown, other: unknown, pointers: string[]): string {
  if (typeof body === 'string') {
    const theirs = new Set(typeof other === 'string' ? other.split('\n') : []);
    return body
      .split('\n')
      .map((l) => `<span${theirs.has(l) ? '' : ' class="d"'}>${esc(l)}</span>`)
      .join('');
  }
  const marked = (p: string) => pointers.some((d) => p === d || p.startsWith(d + '/'));
  const out: string[] = [];
  jsonLines(body, '', marked, '', '', true, out);
  return out.join('');
}

function sideHtml(name: string, a: SampleAnswer | undefined, other: SampleAnswer | undefined, s: StoredSample): string {
  if (!a) return `<div class="side"><h3>${esc(name)}</h3><span class="absent">no answer stored</span></div>`;
  const fields = s.diffs.map((d) => d.field);
  const status = `<span class="${fields.includes('status') ? 'hd' : ''}">status ${esc(a.status)}</span>`;
  const headers = Object.entries(a.headers ?? {})
    .map(([k, v]) => `<span class="${fields.includes(`header:${k}`) ? 'd' : ''}">${esc(k)}: ${esc(Array.isArray(v) ? v.join(', ') : v)}</span>`)
    .join('');
  const pointers = fields.filter((f) => f.startsWith('/') || f === '');
  const body = fields.includes('body') || typeof a.body === 'string' ? bodyHtml(a.body, other?.body, []) : bodyHtml(a.body, other?.body, pointers);
  return `<div class="side" data-backend="${esc(name)}"><h3>${esc(name)}</h3><p>${status}</p><pre class="headers">${headers}</pre><h3>body</h3><pre class="body">${body}</pre></div>`;
}

function diffTable(s: StoredSample, names: string[]): string {
  const rows = s.diffs.map((d) => {
    const cell = (v: unknown) => (v === undefined ? '<span class="absent">absent</span>' : esc(typeof v === 'string' ? v : JSON.stringify(v)));
    return `<tr><td>${esc(d.field)}</td><td>${cell(d.a)}</td><td>${cell(d.b)}</td></tr>`;
  });
  return `<table class="diffs"><tr><th>field</th><th>${esc(names[0] ?? 'served')}</th><th>${esc(names[1] ?? 'shadow')}</th></tr>${rows.join('')}</table>`;
}

export function renderSamples(route: string, field: string, samples: StoredSample[], source: string): string {
  const items = samples.map((s) => {
    const answers = answersOf(s);
    const names = answers.map(([n]) => n);
    const reqHeaders = Object.entries(s.request_headers ?? {})
      .map(([k, v]) => `${esc(k)}: ${esc(Array.isArray(v) ? v.join(', ') : v)}`)
      .join('\n');
    return (
      `<section class="sample" data-request-id="${esc(s.request_id)}"><h2>${esc(s.method)} ${esc(s.path)}${s.query ? esc('?' + s.query) : ''} <span class="muted">${esc(s.time)} · request ${esc(s.request_id)}</span></h2>` +
      `<details><summary>request headers (redacted)</summary><pre>${reqHeaders}</pre></details>` +
      diffTable(s, names) +
      `<div class="sides">${answers.map(([n, a], i) => sideHtml(n, a, answers[1 - i]?.[1], s)).join('')}</div></section>`
    );
  });
  const none = `<p class="muted">No stored sample of ${esc(field || 'any field')} on ${esc(route)} in ${esc(source)}.</p>`;
  return page(
    `switchyard console: ${route} ${field}`,
    `<header><b>switchyard console</b><a href="/ui">← routes</a><span>route ${esc(route)} · field ${esc(field || '(any)')}</span></header><main>${items.join('') || none}</main>`,
  );
}
