/**
 * The console in a real browser: Debian's chromium driven by playwright-core (no browser
 * download). A legacy-ish and a pipeline-ish backend answer the same request with different JSON;
 * a person logs in, sees the route's mismatch, opens the samples and sees both values side by side.
 * Screenshots are kept under .tmp/console/.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { json, send, startServer, type TestServer } from '../helpers/servers.js';

const SHOTS = resolve('.tmp/console');
const TOKEN = 'admin-secret'; // the test gateway's admin.token

function backend(name: 'legacy' | 'pipeline') {
  return startServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      const p = name === 'pipeline';
      res.writeHead(200, { 'content-type': 'application/json', ...(p ? {} : { 'x-content-type-options': 'nosniff' }) });
      res.end(JSON.stringify({ id: 42, name: 'widget', price: p ? 10.99 : 9.99, currency: 'EUR', ...(p ? {} : { legacy_only: true }) }));
    });
  });
}

const RULES = `default: legacy
routes:
  - name: catalog
    match: { path: "/api/catalog/*" }
    backend: legacy
    shadow:
      percent: 100
      compare: { headers: [content-type, x-content-type-options] }
`;

describe('console in chromium', () => {
  let legacy: TestServer;
  let pipeline: TestServer;
  let evil: TestServer;
  let g: TestGateway;
  let ctx: BrowserContext;
  let profile: string;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    legacy = await backend('legacy');
    pipeline = await backend('pipeline');
    g = await startGateway({ backends: { legacy: legacy.url, pipeline: pipeline.url }, rules: RULES, extra: 'shadow:\n  samples: { file: samples.jsonl }' });
    // A page of another origin that posts to the console as soon as it loads.
    evil = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<form id="f" method="post" action="${g.admin}/ui/rollouts"><input name="route" value="catalog"><input name="action" value="abort"></form><script>document.getElementById('f').submit()</script>`);
    });
    profile = mkdtempSync(join(resolve('.tmp'), 'chromium-profile-'));
    // A fresh profile directory per run: no state from another run or from a person's browser.
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 60_000);

  afterAll(async () => {
    await ctx?.close();
    await g?.stop();
    await Promise.all([legacy?.close(), pipeline?.close(), evil?.close()]);
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('refuses the console without a token, and with a wrong one', async () => {
    expect((await send(`${g.admin}/ui`)).status).toBe(401);
    expect((await send(`${g.admin}/ui`, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    const page = await ctx.newPage();
    await page.goto(`${g.admin}/ui`);
    await page.fill('#token', 'wrong-token');
    await page.click('button[type=submit]');
    await expect.poll(() => page.textContent('#login-error')).toBe('Wrong token.');
    expect((await ctx.cookies()).length).toBe(0);
    await page.screenshot({ path: join(SHOTS, 'wrong-token.png') });
    await page.close();
  });

  it('shows the planted mismatch after login, and both values side by side in the samples', async () => {
    for (let i = 0; i < 3; i++) expect((await send(`${g.url}/api/catalog/42`, { headers: { 'x-request-id': `cat-${i}`, authorization: 'Bearer user-secret' } })).status).toBe(200);
    await expect
      .poll(async () => json<{ routes: { route: string; results: Record<string, number> }[] }>(await send(`${g.admin}/diffs?route=catalog`, { headers: { authorization: `Bearer ${TOKEN}` } })).routes[0]?.results.mismatch ?? 0)
      .toBe(3);

    const page = await ctx.newPage();
    await page.goto(`${g.admin}/ui`);
    await page.fill('#token', TOKEN);
    await page.click('button[type=submit]');
    await page.waitForSelector('#routes');
    const cookie = (await ctx.cookies()).find((c) => c.name === 'switchyard_console')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    expect(cookie.value).not.toContain(TOKEN);

    const row = page.locator('#routes tr[data-route="catalog"]');
    expect(await row.locator('[data-k="comparisons"]').textContent()).toBe('3');
    expect(await row.locator('[data-k="match_rate"]').textContent()).toBe('0.0%');
    const fields = page.locator('table.fields[data-route="catalog"] tr[data-field]');
    // Severity first: the header difference comes before the body fields.
    expect(await fields.first().getAttribute('data-field')).toBe('header:x-content-type-options');
    const absent = page.locator('tr[data-field="/legacy_only"] .absent');
    expect(await absent.textContent()).toBe('absent');
    await page.screenshot({ path: join(SHOTS, 'overview.png'), fullPage: true });

    await page.click('tr[data-field="/price"] a');
    await page.waitForSelector('section.sample');
    const sample = page.locator('section.sample').first();
    expect(await sample.locator('h2').textContent()).toContain('GET /api/catalog/42');
    expect(await sample.locator('details pre').textContent()).toContain('authorization: [redacted]');
    const legacySide = sample.locator('.side[data-backend="legacy"] .body .d');
    const pipelineSide = sample.locator('.side[data-backend="pipeline"] .body .d');
    expect(await legacySide.allTextContents()).toEqual(expect.arrayContaining([expect.stringContaining('"price": 9.99')]));
    expect(await pipelineSide.allTextContents()).toEqual(expect.arrayContaining([expect.stringContaining('"price": 10.99')]));
    // The unchanged field is not highlighted.
    expect((await legacySide.allTextContents()).some((t) => t.includes('"name"'))).toBe(false);
    await page.screenshot({ path: join(SHOTS, 'samples.png'), fullPage: true });
    await page.close();
  });

  it('serves the console under a strict Content-Security-Policy', async () => {
    const r = await send(`${g.admin}/ui`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(r.status).toBe(200);
    expect(r.headers['content-security-policy']).toMatch(/default-src 'none'/);
    expect(r.headers['content-security-policy']).toMatch(/script-src 'sha256-/);
    expect(r.headers['content-security-policy']).not.toMatch(/unsafe-inline|https?:/);
  });

  it('refuses a cross-site POST even with a logged-in browser', async () => {
    const page = await ctx.newPage();
    const answer = page.waitForResponse((res) => res.url() === `${g.admin}/ui/rollouts`);
    await page.goto(evil.url);
    expect((await answer).status()).toBe(403);
    await page.screenshot({ path: join(SHOTS, 'cross-site-refused.png') });
    await page.close();
    // Without the browser: a cookie alone, from another origin, is refused too.
    const cookie = (await ctx.cookies()).find((c) => c.name === 'switchyard_console')!;
    const r = await send(`${g.admin}/ui/rollouts`, {
      method: 'POST',
      headers: { cookie: `switchyard_console=${cookie.value}`, origin: 'http://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'route=catalog&action=abort',
    });
    expect(r.status).toBe(403);
  });
});
