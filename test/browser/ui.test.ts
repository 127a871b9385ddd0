/**
 * The web UI in a real browser (Debian's chromium, driven by playwright-core)
 * against a devnet of real nodes: a set with its replica progress in one
 * node's UI, a get with its live lookup and verified item in another's, the
 * routing-table picture and the event feed following the network, and the
 * main controls reachable by keyboard with a visible focus ring. Screenshots
 * go to test-results/browser/. Needs /usr/bin/chromium (apt-get install chromium).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DrogulusClient } from '../../src/api/client.js';
import { startUiDevnet, type UiDevnet, type UiNode } from './ui-devnet.js';

const ROOT = resolve(import.meta.dirname, '../..');
const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(ROOT, 'test-results/browser');
const NODES = 5;
/** Every wait in the page is bounded by this. */
const WAIT_MS = 15_000;

/** The newest modification time of the files the UI bundle is built from. */
const newestSource = (): number => {
  const files = (dir: string): string[] => readdirSync(dir).flatMap((name) => (statSync(join(dir, name)).isDirectory() ? files(join(dir, name)) : [join(dir, name)]));
  // The bundle's own folder, what it imports from the API's client, and the build script.
  const sources = [...files(join(ROOT, 'src/api/ui')), ...['api/client.ts', 'api/errors.ts', 'api/types.ts', 'protocol/errors.ts'].map((f) => join(ROOT, 'src', f)), join(ROOT, 'scripts/build-ui.mjs')];
  return Math.max(...sources.map((f) => statSync(f).mtimeMs));
};

/** Builds dist/ui when it is missing or older than its sources. */
const ensureUiBuilt = (): void => {
  const index = join(ROOT, 'dist/ui/index.html');
  if (existsSync(index) && statSync(index).mtimeMs >= newestSource()) return;
  execFileSync(process.execPath, [join(ROOT, 'scripts/build-ui.mjs')], { cwd: ROOT, stdio: 'pipe', timeout: 60_000 });
};

let devnet: UiDevnet;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`the browser tests need Debian's chromium at ${CHROMIUM}: apt-get install -y chromium`);
  mkdirSync(SHOTS, { recursive: true });
  ensureUiBuilt();
  devnet = await startUiDevnet(NODES);
  // launch() gives every run a new, empty temporary profile (--user-data-dir).
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: WAIT_MS,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await devnet?.stop();
}, 30_000);

interface OpenPage {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Script errors and Content Security Policy violations seen so far. */
  readonly problems: string[];
}

/**
 * A new browser session (own sessionStorage) on `node`'s UI, once its live
 * connection is open; with `live: false`, the WebSocket is refused instead.
 */
const openUi = async (node: UiNode, { live = true } = {}): Promise<OpenPage> => {
  const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
  context.setDefaultTimeout(WAIT_MS);
  if (!live) await context.routeWebSocket(/\/api\/v1\/ws$/, (socket) => socket.close());
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy|Refused to/i.test(message.text())) problems.push(`CSP: ${message.text()}`);
  });
  await page.goto(node.url);
  if (live) await page.locator('#live-state[data-state="open"]').waitFor();
  await page.locator('#identity-facts dl').waitFor();
  return { context, page, problems };
};

/** A full-page screenshot, taken from the top so the sticky event feed sits where a reader expects it. */
const shot = async (page: Page, name: string): Promise<void> => {
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
};

const VALUE = 'hello from the browser test';

describe('the web UI against a devnet', () => {
  it('serves itself from the node: the page, its assets and the read-only data routes', async () => {
    const [a] = devnet.nodes;
    const page = await fetch(`${a.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await page.text();
    const script = /src="(\/ui\/app\.js\?v=[0-9a-f]{16})"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${a.url}${script}`);
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const table = (await (await fetch(`${a.url}/api/v1/table`)).json()) as { size: number; k: number };
    expect(table.size).toBe(NODES - 1);
  });

  it('sets a value in node A’s UI, asking for the token once, and shows every replica’s answer', async () => {
    const [a] = devnet.nodes;
    const { context, page, problems } = await openUi(a);
    try {
      await page.locator('#set-name').fill('greeting');
      await page.locator('#set-value').fill(VALUE);
      await page.locator('#set-submit').click();

      // The token is asked for once, checked by the node, and kept for the session.
      const dialog = page.locator('#token-dialog');
      await dialog.waitFor({ state: 'visible' });
      await page.locator('#token-input').fill('not-the-token');
      await page.locator('#token-save').click();
      await expect.poll(() => page.locator('#token-error').textContent(), { timeout: WAIT_MS }).toContain('refused');
      await page.screenshot({ path: join(SHOTS, 'token-dialog.png') });
      await page.locator('#token-input').fill(a.token);
      await page.locator('#token-save').click();
      await dialog.waitFor({ state: 'hidden' });

      await page.locator('#set-progress-bar[data-done="true"]').waitFor();
      const replicas = page.locator('#set-replicas li');
      const statuses = await replicas.evaluateAll((items) => items.map((li) => li.getAttribute('data-status')));
      expect(statuses).toHaveLength(NODES);
      expect(statuses.every((s) => s === 'stored')).toBe(true);
      expect(await page.locator('#set-progress-bar').evaluate((bar: HTMLProgressElement) => [bar.value, bar.max])).toEqual([NODES, NODES]);
      expect(await page.locator('#set-summary').textContent()).toContain(`Stored on ${NODES} of ${NODES} nodes`);
      expect(await page.locator('#token-state').getAttribute('data-state')).toBe('set');

      // The event feed shows the node storing its own copy; the storage panel lists it.
      await page.locator('#event-feed li[data-type="item-stored"]').first().waitFor();
      await page.locator('#storage-search').fill('greet');
      await page.locator('#storage-list tr', { hasText: VALUE }).waitFor();
      await shot(page, 'set-replica-progress');

      // Within the session, a second write goes through without asking again.
      await page.reload();
      await page.locator('#live-state[data-state="open"]').waitFor();
      await page.locator('#set-name').fill('second');
      await page.locator('#set-value').fill('{"n": 2}');
      await page.locator('#set-type-json').check();
      await page.locator('#set-submit').click();
      await page.locator('#set-progress-bar[data-done="true"]').waitFor();
      expect(await dialog.isVisible()).toBe(false);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('gets it in node B’s UI by public key and name, showing the live lookup and the verified item', async () => {
    const [a, b] = devnet.nodes;
    const { context, page, problems } = await openUi(b);
    try {
      await page.locator('#get-public-key').fill(a.publicKey);
      await page.locator('#get-name').fill('greeting');
      expect(await page.locator('#get-fresh').isChecked()).toBe(true);
      await page.locator('#get-submit').click();

      await page.locator('#get-result .provenance').waitFor();
      expect(await page.locator('#get-result .provenance').getAttribute('data-verified')).toBe('true');
      expect(await page.locator('#get-result pre.value').textContent()).toBe(VALUE);
      expect(await page.locator('#get-result').textContent()).toContain(a.publicKey);
      expect(await page.locator('#get-result').textContent()).toContain('the network (a lookup)');

      const events = await page.locator('#get-lookup-events li').evaluateAll((items) => items.map((li) => li.getAttribute('data-event')));
      expect(events).toContain('asked');
      expect(events.some((e) => e === 'answered' || e === 'value')).toBe(true);
      expect(await page.locator('#get-lookup-summary').textContent()).toMatch(/Asked [1-9]\d* peers?/);
      expect(await page.locator('#get-lookup svg.lookup-chart polyline').count()).toBe(1);
      await shot(page, 'get-live-lookup');
      await page.emulateMedia({ colorScheme: 'dark' });
      await shot(page, 'get-live-lookup-dark');
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('redraws the routing-table picture and feeds the events as a new node joins', async () => {
    const [a] = devnet.nodes;
    const { context, page, problems } = await openUi(a);
    try {
      const picture = page.locator('#table-picture table.buckets');
      await expect.poll(() => picture.getAttribute('data-contacts'), { timeout: WAIT_MS }).toBe(String(NODES - 1));
      expect(await page.locator('#table-picture .slot.contact').count()).toBe(NODES - 1);
      const joined = await devnet.addNode(a);
      await expect.poll(() => picture.getAttribute('data-contacts'), { timeout: WAIT_MS }).toBe(String(NODES));
      await page.locator('#event-feed li[data-type="contact-added"]', { hasText: joined.nodeId.slice(0, 12) }).waitFor();
      expect(await page.locator('#peer-list tbody tr').count()).toBe(NODES);
      await shot(page, 'network-and-events');
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('shows what items hold as text, never as markup', async () => {
    const [a] = devnet.nodes;
    const hostile = '<img src=x onerror="document.title=\'pwned\'"><script>document.title="pwned"</script>';
    await new DrogulusClient({ baseUrl: a.url, token: a.token }).putItem('<b>bold</b>', { value: hostile, value_type: 'text' });
    const { context, page, problems } = await openUi(a);
    try {
      await page.locator('#storage-search').fill('bold');
      const row = page.locator('#storage-list tbody tr', { hasText: '<b>bold</b>' });
      await row.waitFor();
      expect(await row.locator('td.preview').textContent()).toBe(hostile);
      await row.getByRole('button', { name: /^Get/ }).click();
      await page.locator('#get-result pre.value').waitFor();
      expect(await page.locator('#get-result pre.value').textContent()).toBe(hostile);
      expect(await page.locator('main img, main script, main b').count()).toBe(0);
      expect(await page.title()).toBe('drogulus node');
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('falls back to HTTP when the WebSocket is refused: replica progress from the NDJSON stream, the item still verified', async () => {
    const [, , c, d] = devnet.nodes;
    const { context, page, problems } = await openUi(c, { live: false });
    try {
      await page.locator('#identity-facts dl').waitFor();
      expect(await page.locator('#live-state').getAttribute('data-state')).not.toBe('open');
      await page.locator('#set-name').fill('over-http');
      await page.locator('#set-value').fill('[1, 2, 3]');
      await page.locator('#set-type-json').check();
      await page.locator('#set-submit').click();
      await page.locator('#token-input').fill(c.token);
      await page.locator('#token-save').click();
      await page.locator('#set-progress-bar[data-done="true"]').waitFor();
      expect(await page.locator('#set-replicas li[data-status="stored"]').count()).toBe(await page.locator('#set-replicas li').count());
      expect(await page.locator('#set-replicas li').count()).toBeGreaterThanOrEqual(NODES);

      await page.locator('#get-public-key').fill(c.publicKey);
      await page.locator('#get-name').fill('over-http');
      await page.locator('#get-submit').click();
      await page.locator('#get-result .provenance[data-verified="true"]').waitFor();
      expect(JSON.parse((await page.locator('#get-result pre.value').textContent()) ?? '')).toEqual([1, 2, 3]);
      expect(await page.locator('#get-lookup-summary').textContent()).toContain('live connection is down');
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
    // Another node finds it too: it was replicated.
    const found = await new DrogulusClient({ baseUrl: d.url }).getItemByName(c.publicKey, 'over-http', { fresh: true });
    expect(found.json).toEqual([1, 2, 3]);
  });

  it('reaches the main controls by keyboard alone, each with a visible focus ring', async () => {
    const [, b] = devnet.nodes;
    const { context, page, problems } = await openUi(b);
    try {
      const reached: string[] = [];
      const unringed: string[] = [];
      for (let i = 0; i < 45; i++) {
        await page.keyboard.press('Tab');
        const focused = await page.evaluate(() => {
          const el = document.activeElement as HTMLElement | null;
          if (!el || el === document.body) return undefined;
          const style = getComputedStyle(el);
          return { id: el.id || el.textContent?.trim().slice(0, 30) || el.tagName, ring: style.outlineStyle !== 'none' && Number.parseFloat(style.outlineWidth) >= 2 };
        });
        if (!focused) continue;
        reached.push(focused.id);
        if (!focused.ring) unringed.push(focused.id);
        if (focused.id === 'get-submit') await shot(page, 'keyboard-focus');
      }
      expect(reached[0]).toBe('Skip to the main content');
      for (const id of ['token-button', 'set-name', 'set-value', 'set-submit', 'get-public-key', 'get-name', 'get-fresh', 'get-submit', 'storage-search', 'event-pause']) expect(reached).toContain(id);
      expect(unringed).toEqual([]);

      // The skip link moves focus past the header into the main content.
      await page.goto(`${b.url}/`);
      await page.locator('#identity-facts dl').waitFor();
      await page.keyboard.press('Tab');
      await page.keyboard.press('Enter');
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
