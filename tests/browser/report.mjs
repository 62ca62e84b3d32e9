// report.mjs - opens an audit report (vericite audit --html) in headless Chromium with
// playwright-core, clicks through it as an editor would, and prints what it saw as one JSON object
// for tests/test_report_browser.c to check. Screenshots go to SHOTS_DIR.
// usage: node report.mjs REPORT.html SHOTS_DIR   (NODE_PATH holds playwright-core)
import { createRequire } from 'node:module';
import path from 'node:path';
import fs from 'node:fs';
import os from 'node:os';

const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');

const [report, shots] = process.argv.slice(2);
fs.mkdirSync(shots, { recursive: true });
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'vericite-chromium-'));
// a new, empty profile (playwright passes it as --user-data-dir)
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.VERICITE_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1200, height: 900 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const out = { external: [], errors: [] };
try {
  const page = browser.pages()[0] || await browser.newPage();
  page.on('request', (r) => { if (!/^(file|data|about):/.test(r.url())) out.external.push(r.url()); });
  page.on('pageerror', (e) => out.errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') out.errors.push(m.text()); });
  await page.goto('file://' + path.resolve(report));
  await page.screenshot({ path: path.join(shots, 'report-all.png'), fullPage: true });

  // which cards are visible, by verdict
  const visible = () => page.$$eval('.cite', (cs) => cs.filter((c) => c.offsetParent !== null)
    .map((c) => c.getAttribute('data-verdict')));
  out.header = await page.textContent('header');
  out.cards = await page.$$eval('.cite', (cs) => cs.map((c) => c.getAttribute('data-verdict')));
  out.visible_all = await visible();
  out.filters = await page.$$eval('.filters button', (bs) => bs.map((b) => b.getAttribute('data-v')));
  out.after = {};
  for (const v of out.filters) {
    await page.click(`.filters button[data-v="${v}"]`);
    out.after[v] = await visible();
    if (v === 'unsupported')
      await page.screenshot({ path: path.join(shots, 'report-unsupported.png'), fullPage: true });
  }
  await page.click('.filters button[data-v="all"]');

  // a supported card is folded: its quote shows only once its summary is clicked
  const sup = page.locator('.cite.supported').first();
  out.supported_open_before = await sup.evaluate((d) => d.open);
  out.supported_quote_visible_before = await sup.locator('blockquote').first().isVisible();
  await sup.locator('summary').click();
  out.supported_quote_visible_after = await sup.locator('blockquote').first().isVisible();

  // an open failing card: its host, both titles, the warning, the marked words, the quote
  const bad = page.locator('.cite[data-mismatch="1"]').first();
  out.mismatch_cards = await page.locator('.cite[data-mismatch="1"]').count();
  if (out.mismatch_cards > 0) {
    out.mismatch_text = await bad.locator('.src').first().textContent();
    out.mismatch_warn_visible = await bad.locator('.warn').first().isVisible();
  }
  out.marks = await page.$$eval('.cite[open] blockquote mark', (ms) => ms.map((m) => m.textContent));

  // the copy button of the first suggestion's {{cite web}}
  const copy = page.locator('.cite[open] button.copy').first();
  out.copy_buttons = await page.locator('button.copy').count();
  if (out.copy_buttons > 0) {
    out.cite_text = await copy.locator('xpath=..').locator('code').textContent();
    await copy.click();
    // the label changes once the clipboard has the text (asynchronous with navigator.clipboard)
    await page.waitForFunction((b) => b.textContent === 'copied', await copy.elementHandle(), { timeout: 5000 })
      .catch(() => {});
    out.copy_label_after = await copy.textContent();
  }
  await page.screenshot({ path: path.join(shots, 'report-opened.png'), fullPage: true });
} finally {
  await browser.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(out) + '\n');
