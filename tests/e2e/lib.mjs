// Shared helpers of the browser tests and the benchmark: Debian's Chromium driven by
// playwright-core, or with BROWSER=firefox Debian's Firefox ESR (firefox.mjs); never a
// downloaded browser, a fresh profile per launch.

import { chromium } from 'playwright-core';
import { launchFirefox, Unsupported } from './firefox.mjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

/** Which browser the tests drive: `chromium` (default) or `firefox`. */
export const BROWSER = process.env.BROWSER || 'chromium';

/** A fresh browser; `device` overrides the context's options (a phone's viewport, touch). */
export async function launch(device = {}) {
  if (BROWSER === 'firefox') return launchFirefox(device);
  const dir = mkdtempSync(join(tmpdir(), 'gil-lab-e2e-'));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1280, height: 900 },
    ...device,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run'],
  });
  const close = async () => { await ctx.close(); rmSync(dir, { recursive: true, force: true }); };
  return { ctx, close };
}

/** Opens `url` and records console errors and uncaught exceptions. */
export async function open(ctx, url) {
  const page = await ctx.newPage();
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  await page.waitForFunction(() => document.querySelector('#run') || document.querySelector('.error'), null, { timeout: 20000 });
  return { page, errors };
}

/** Fills the form and runs; resolves to the finished report. */
export async function runScenario(page, scenario, fields = {}, timeout = 120000) {
  await page.selectOption('#scenario', scenario);
  // Field ids: f-n, f-tasks, f-workers, f-interval, f-latency, f-bandwidth, f-increments; gil.
  for (const [key, value] of Object.entries(fields)) {
    if (key === 'gil') await page.selectOption('#gil', value);
    else await page.fill(`#f-${key}`, String(value));
  }
  await page.click('#run');
  await page.waitForFunction(() => ['done', 'error', 'invalid'].includes(window.__gilLabState), null, { timeout });
  const state = await page.evaluate(() => window.__gilLabState);
  if (state !== 'done') {
    const msg = await page.locator('.error').allTextContents();
    throw new Error(`run of ${scenario} failed: ${msg.join(' | ')}`);
  }
  return JSON.parse(await page.evaluate(() => window.__gilLabLastReport));
}

/** Most `Running` spans that overlap at any instant, each span shrunk by `slackUs` at both
 *  ends. Under a classic GIL the lab orders every hand-off on one clock, so tests pass 0;
 *  the default slack is for spans of lanes that really run at once (free threads, processes),
 *  where a few hundred µs of overlap at a start or end is no evidence of parallelism. */
export function maxRunning(report, slackUs = 300) {
  const ev = [];
  for (const s of report.spans) {
    if (s.state !== 'running' || s.end_us - s.start_us <= 2 * slackUs) continue;
    ev.push([s.start_us + slackUs, 1], [s.end_us - slackUs, -1]);
  }
  ev.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let cur = 0;
  let max = 0;
  for (const [, d] of ev) { cur += d; max = Math.max(max, cur); }
  return max;
}

/**
 * Runs `tests` (`{name, fn}`, those matching `only` when given) one after another, prints one
 * line each and `N passed, N failed`, closes the browser and exits non-zero on any failure.
 */
export async function runTests(tests, only, close) {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  if (BROWSER !== 'chromium') console.log(`(in ${BROWSER})`);
  for (const t of tests) {
    if (only && !only.test(t.name)) continue;
    const t0 = Date.now();
    try {
      await t.fn();
      passed++;
      console.log(`ok   ${t.name} (${Date.now() - t0} ms)`);
    } catch (e) {
      if (e instanceof Unsupported) {
        skipped++;
        console.log(`skip ${t.name}: in ${BROWSER}, the test driver has no ${e.message}`);
        continue;
      }
      failed++;
      console.log(`FAIL ${t.name}: ${String(e.message).split('\n')[0]}`);
    }
  }
  await close();
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  process.exit(failed ? 1 : 0);
}

/** Where the page under test is served (`run.sh` sets BASE), and where screenshots go. */
export const BASE = (process.env.BASE || 'http://127.0.0.1:8080').replace(/\/$/, '');
export const SHOTS = process.env.SHOTS || '';

/** Throws `msg` unless `cond`. */
export function assert(cond, msg) { if (!cond) throw new Error(msg); }

/** A test file's list: `test(name, fn)` adds to `tests`; `only` is the name filter from argv. */
export function suite() {
  const tests = [];
  const only = process.argv[2] ? new RegExp(process.argv[2]) : null;
  return { tests, only, test: (name, fn) => tests.push({ name, fn }) };
}
