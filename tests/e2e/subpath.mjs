// GIL Lab browser tests of the page on a static host under a sub-path (issue 14): a GitHub
// Pages project site serves the lab at `/<project>/`, not at the site's root.
//
// `dist/` is copied to `<root>/some/path/` beside a course page of the host's own, and served
// by a second `gil-lab serve`: `/some/path/` as it serves the lab (cross-origin isolated) and
// `/plain/some/path/` without the isolation headers, as a plain static host serves it. Every
// request the pages make must succeed: a URL resolved against the site's root instead of the
// lab's folder is a 404 here.

import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, runTests, assert, suite } from './lib.mjs';

const { tests, only, test } = suite();
const DIST = process.env.DIST;
const BIN = process.env.GIL_LAB_BIN;
assert(DIST && BIN, 'DIST and GIL_LAB_BIN are not set (run.sh sets them)');

const SECTIONS = ['processes-threads', 'concurrency', 'gil', 'io', 'convoy', 'processes', 'shared-data', 'old-race', 'which'];
const KINDS = [
  { name: 'isolated', prefix: '/some/path' },
  { name: 'not isolated', prefix: '/plain/some/path' },
];

const root = mkdtempSync(join(tmpdir(), 'gil-lab-subpath-'));
cpSync(DIST, join(root, 'some', 'path'), { recursive: true });
writeFileSync(join(root, 'index.html'), `<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>A course page</title><link rel="icon" href="data:,"></head><body><h1>Week 3: threads</h1>
<iframe id="f" title="GIL Lab lesson" src="some/path/lesson/?embed=lesson/gil" style="width:800px;height:300px"></iframe>
<script>window.heights=[];addEventListener('message',e=>{if(e.data&&e.data.type==='gil-lab:height')heights.push(e.data.height)})</script>
</body></html>`);
const port = 20000 + Math.floor(Math.random() * 20000);
const server = spawn(BIN, ['serve', '--port', String(port), '--root', root], { stdio: 'ignore' });
const BASE = `http://127.0.0.1:${port}`;
for (let k = 0; k < 100; k++) {
  try { if ((await fetch(`${BASE}/`)).ok) break; } catch { /* not up yet */ }
  await new Promise((r) => setTimeout(r, 100));
}

const { ctx, close: closeBrowser } = await launch();
const close = async () => { await closeBrowser(); server.kill(); rmSync(root, { recursive: true, force: true }); };

/** Opens `url`, recording console errors, uncaught exceptions and every failed request. */
async function openAt(url, ready) {
  const page = await ctx.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(String(e)));
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`); });
  page.on('requestfailed', (r) => problems.push(`failed ${r.url()}`));
  await page.goto(url);
  await page.waitForSelector(`${ready}, .error`, { timeout: 30000 });
  return { page, problems };
}

for (const kind of KINDS) {
  test(`${kind.name}: the lab under ${kind.prefix}/ loads and runs, every request within its folder`, async () => {
    const { page, problems } = await openAt(`${BASE}${kind.prefix}/`, '#run:enabled');
    assert(await page.locator('.error').count() === 0, `the page shows an error: ${await page.locator('.error').allTextContents()}`);
    const isolated = await page.evaluate(() => crossOriginIsolated);
    assert(isolated === (kind.name === 'isolated'), `crossOriginIsolated = ${isolated}`);
    await page.click('#run');
    await page.waitForFunction(() => ['done', 'error', 'invalid'].includes(window.__gilLabState), null, { timeout: 120000 });
    assert(await page.evaluate(() => window.__gilLabState) === 'done', `the run ended ${await page.evaluate(() => window.__gilLabState)}`);
    assert(await page.locator('.pictures .svg svg').count() >= 1, 'the picture is drawn');
    assert(problems.length === 0, problems.join(' | '));
    await page.close();
  });

  // Every section on the plain host; on the isolated one, the two whose demos take another
  // path there (threads on shared memory, the race's shared counter): CI time is finite.
  const sections = kind.name === 'isolated' ? ['gil', 'shared-data'] : SECTIONS;
  test(`${kind.name}: ${sections === SECTIONS ? 'every lesson section' : sections.join(' and ')} under ${kind.prefix}/lesson/ loads and runs`, async () => {
    const { page, problems } = await openAt(`${BASE}${kind.prefix}/lesson/`, '.lesson-section button.run');
    for (const id of sections) {
      await page.click(`#run-${id}`);
      await page.waitForFunction((s) => ['done', 'failed', 'stopped'].includes(document.getElementById(s).dataset.state), id, { timeout: 180000 });
      const state = await page.locator(`#${id}`).getAttribute('data-state');
      assert(state === 'done', `section ${id} ended ${state}: ${(await page.locator(`#${id} .error`).allTextContents()).join(' | ')}`);
    }
    assert(problems.length === 0, problems.join(' | '));
    await page.close();
  });
}

test('a course page at the site\'s root embeds a lesson section from the sub-path', async () => {
  const page = await ctx.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(String(e)));
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`); });
  await page.goto(`${BASE}/`);
  await page.waitForFunction(() => window.heights.length > 0 && window.heights.at(-1) > 300, null, { timeout: 30000 });
  const frame = page.frameLocator('#f');
  assert(await frame.locator('.lesson-section').count() === 1, 'one section is embedded');
  await frame.locator('#run-gil').click();
  await page.waitForFunction(() => {
    const s = document.getElementById('f').contentDocument?.getElementById('gil');
    return s && ['done', 'failed', 'stopped'].includes(s.dataset.state);
  }, null, { timeout: 180000 });
  const state = await frame.locator('#gil').getAttribute('data-state');
  assert(state === 'done', `the embedded section ended ${state}`);
  assert(problems.length === 0, problems.join(' | '));
  await page.close();
});

await runTests(tests, only, close);
