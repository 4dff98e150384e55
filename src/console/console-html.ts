/**
 * The console's page frame: escaping, the one stylesheet and the one small script, both inline and
 * allowed by their hashes in a strict Content-Security-Policy (nothing else may load or run, no
 * asset comes from outside, no framing).
 */
import { createHash } from 'node:crypto';

export function esc(v: unknown): string {
  return String(v).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1d232a;background:#f6f7f9}
header{background:#1d232a;color:#fff;padding:8px 16px;display:flex;gap:16px;align-items:center}
header a{color:#9cf}header form{margin-left:auto}
main{padding:12px 16px}h2{font-size:16px;margin:20px 0 6px}h3{font-size:14px;margin:14px 0 4px}
table{border-collapse:collapse;background:#fff;margin-bottom:8px}
th,td{border:1px solid #d5d9de;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#eef0f3}.num{text-align:right;font-variant-numeric:tabular-nums}
.bad{color:#b00020;font-weight:600}.ok{color:#176b2c}.muted{color:#6b7580}
.absent{color:#6b7580;font-style:italic}.win a,.win b{margin-right:8px}
.sides{display:grid;grid-template-columns:1fr 1fr;gap:8px}
.side{background:#fff;border:1px solid #d5d9de;padding:6px;overflow:auto}
pre{margin:0;font:12px/1.35 ui-monospace,monospace}
pre span{display:block;min-height:1.35em}.d{background:#ffe3e3}.hd{background:#ffe3e3}
.login{max-width:360px;margin:80px auto;background:#fff;padding:20px;border:1px solid #d5d9de}
.login input{width:100%;box-sizing:border-box;margin:6px 0 12px;padding:6px}
button{cursor:pointer}
`;

// Refreshes the route numbers from the JSON API every 5 s, without a reload (and stops when logged out).
const SCRIPT = `
(function(){var t=document.querySelector('[data-refresh]');if(!t)return;
function pct(x){return x==null?'-':(x*100).toFixed(1)+'%'}
function tick(){fetch(t.getAttribute('data-refresh'),{credentials:'same-origin'}).then(function(r){if(!r.ok)throw 0;return r.json()}).then(function(b){
(b.routes||[]).forEach(function(r){var row=document.querySelector('tr[data-route="'+CSS.escape(r.route)+'"]');if(!row)return;
var set=function(k,v){var c=row.querySelector('[data-k="'+k+'"]');if(c)c.textContent=v};
set('comparisons',r.comparisons);set('match_rate',pct(r.match_rate));set('error_rate',pct(r.error_rate));set('timeout_rate',pct(r.timeout_rate));});
t.textContent='live';}).catch(function(){t.textContent='stale'})}
setInterval(tick,5000);})();
`;

const hash = (s: string) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;

export const CSP = [
  "default-src 'none'",
  `script-src ${hash(SCRIPT)}`,
  `style-src ${hash(STYLE)}`,
  "connect-src 'self'",
  "img-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** Headers of every console answer. */
export const PAGE_HEADERS: Record<string, string> = {
  'content-security-policy': CSP,
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  // same-origin, not no-referrer: with no-referrer Chrome sends `Origin: null` on the console's own forms.
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
};

export function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><style>${STYLE}</style></head><body>${body}<script>${SCRIPT}</script></body></html>`;
}

export function loginPage(message?: string): string {
  return page(
    'switchyard console: log in',
    `<form class="login" method="post" action="/ui/login"><h2>switchyard console</h2>` +
      (message ? `<p class="bad" id="login-error">${esc(message)}</p>` : '') +
      `<label for="token">Admin token</label><input id="token" name="token" type="password" autocomplete="current-password" autofocus>` +
      `<button type="submit">Log in</button></form>`,
  );
}
