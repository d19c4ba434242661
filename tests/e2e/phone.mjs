// GIL Lab browser tests of the page as a laptop and a phone meet it (issue 14): the live
// picture in view when a run starts at 1366×768 and 1280×800; at 390×844 and 360×740 with
// touch, no sideways scroll on the lab or the lesson, chart text of at least 11 px, a pinch
// that zooms the timeline, a tap that reads a bar, and help that speaks of fingers.
//
//   BASE=http://127.0.0.1:PORT node phone.mjs [NAME-REGEX]
//   SHOTS=/tmp/shots-phone node phone.mjs        also writes the screenshots to look at
//
// Prints one line per test and a final `N passed, N failed`; exits non-zero on any failure.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { launch, open, runTests, BASE, SHOTS, assert, suite } from './lib.mjs';


const { tests, test, only } = suite();

const LAPTOPS = [{ width: 1366, height: 768 }, { width: 1280, height: 800 }];
const PHONES = [{ width: 390, height: 844 }, { width: 360, height: 740 }];
const phone = (viewport) => ({ viewport, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
const CHART = '.pictures .chart';

// One browser per device kind, opened when a test first needs it.
const browsers = new Map();
async function context(name, device) {
  if (!browsers.has(name)) browsers.set(name, await launch(device));
  return browsers.get(name).ctx;
}
async function closeAll() { for (const b of browsers.values()) await b.close(); }

async function shot(page, name) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

/** How far the page reaches past the viewport's right edge, and what sticks out most. */
function sideways(page) {
  return page.evaluate(() => {
    const over = document.documentElement.scrollWidth - innerWidth;
    const out = [...document.querySelectorAll('body *')]
      .map((e) => [e, e.getBoundingClientRect().right])
      .filter(([, r]) => r > innerWidth + 0.5)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([e, r]) => `${e.tagName.toLowerCase()}.${[...e.classList].join('.')} to ${Math.round(r)} px`);
    return { over, out };
  });
}

/** The smallest chart text on screen, CSS px: its font size in SVG units times the scale
 *  (words a page leaves out, as a phone does on the whole-run strip, do not count). */
function smallestChartText(page) {
  return page.evaluate(() => {
    let min = Infinity;
    let count = 0;
    for (const svg of document.querySelectorAll('.svg svg, .strip svg')) {
      const k = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
      for (const t of svg.querySelectorAll('text')) {
        if (getComputedStyle(t).display === 'none') continue;
        min = Math.min(min, parseFloat(getComputedStyle(t).fontSize) * k);
        count++;
      }
    }
    return { min, count };
  });
}

/** Runs the page's default demo (the quick size) and waits for its finished picture. */
async function runDefault(page) {
  await page.click('#run');
  await page.waitForFunction(() => ['done', 'error'].includes(window.__gilLabState), null, { timeout: 120000 });
  assert(await page.evaluate(() => window.__gilLabState) === 'done', 'the default demo ran');
  await page.waitForSelector(`${CHART} svg rect.bar`);
}

for (const size of LAPTOPS) {
  test(`laptop ${size.width}×${size.height}: the live timeline is in view once a run starts, and the page does not move`, async () => {
    const ctx = await context(`laptop-${size.width}`, { viewport: size });
    const { page, errors } = await open(ctx, `${BASE}/`);
    // The lesson size runs for seconds, so the picture seen is the live one of a growing run.
    await page.click('#lesson');
    const before = await page.evaluate(() => scrollY);
    await page.click('#run');
    // The live picture (a snapshot of the growing run), not the placeholder before it.
    await page.waitForSelector(`${CHART} svg`, { timeout: 60000 });
    const box = await page.evaluate((sel) => {
      const r = document.querySelector(sel).getBoundingClientRect();
      return { top: r.top, inner: innerHeight, y: scrollY, state: window.__gilLabState };
    }, CHART);
    await shot(page, `laptop-${size.width}x${size.height}-running`);
    assert(box.top < box.inner - 100, `the timeline starts at y = ${Math.round(box.top)} of ${box.inner}`);
    assert(box.y === before, `the page scrolled from ${before} to ${box.y}`);
    if (box.state === 'running') await page.click('#stop');
    await page.waitForFunction(() => !document.getElementById('run').disabled, null, { timeout: 120000 });
    assert(errors.length === 0, errors.join(' | '));
    await page.close();
  });
}

for (const size of PHONES) {
  test(`phone ${size.width}×${size.height}: no sideways scroll on the lab (before and after a run) or the lesson`, async () => {
    const ctx = await context(`phone-${size.width}`, phone(size));
    const { page, errors } = await open(ctx, `${BASE}/`);
    let s = await sideways(page);
    assert(s.over <= 0, `the lab is ${s.over} px too wide: ${s.out.join(', ')}`);
    await runDefault(page);
    s = await sideways(page);
    await shot(page, `phone-${size.width}-lab-after-run`);
    assert(s.over <= 0, `after a run the lab is ${s.over} px too wide: ${s.out.join(', ')}`);
    assert(errors.length === 0, errors.join(' | '));
    await page.close();

    const lesson = await ctx.newPage();
    await lesson.goto(`${BASE}/lesson/`);
    await lesson.waitForSelector('.lesson-section button.run', { timeout: 20000 });
    s = await sideways(lesson);
    await shot(lesson, `phone-${size.width}-lesson`);
    assert(s.over <= 0, `the lesson is ${s.over} px too wide: ${s.out.join(', ')}`);
    await lesson.close();
  });
}

test('phone 390×844: chart text is at least 11 px, a pinch zooms the timeline, a tap reads a bar, the help speaks of fingers', async () => {
  const ctx = await context('phone-390', phone(PHONES[0]));
  const { page, errors } = await open(ctx, `${BASE}/`);
  await runDefault(page);
  const text = await smallestChartText(page);
  assert(text.count > 10, `${text.count} chart words`);
  assert(text.min >= 10.95, `the smallest chart text is ${text.min.toFixed(1)} px`);

  const help = await page.evaluate(() => [...document.querySelectorAll('.pictures .zoom-help span')]
    .filter((e) => e.offsetParent !== null).map((e) => e.textContent).join(' '));
  assert(/Pinch/.test(help) && !/Scroll|Keys/.test(help), `the help shown on a phone: ${help}`);

  await page.locator(CHART).scrollIntoViewIfNeeded();
  // The chart's box, as much of the picture as the screen shows (on a phone it scrolls sideways).
  const b = await page.locator(CHART).boundingBox();
  const whole = Number(await page.getAttribute(CHART, 'data-whole'));
  assert(await page.getAttribute(CHART, 'data-window') === '', 'starts with the whole run');
  const cdp = await ctx.newCDPSession(page);
  const y = b.y + b.height * 0.6;
  const mid = b.x + b.width * 0.6;
  const touch = (type, points) => cdp.send('Input.dispatchTouchEvent', { type, touchPoints: points });
  const fingers = (spread) => [{ x: mid - spread, y, id: 0 }, { x: mid + spread, y, id: 1 }];
  await touch('touchStart', fingers(20));
  for (let s = 30; s <= 80; s += 10) await touch('touchMove', fingers(s));
  await touch('touchEnd', []);
  await page.waitForFunction((sel) => document.querySelector(sel).dataset.window !== '', CHART, { timeout: 10000 });
  const [from, to] = (await page.getAttribute(CHART, 'data-window')).split('-').map(Number);
  assert(to - from < whole / 2, `a pinch to 4× the spread shows ${to - from} of ${whole} µs`);
  await shot(page, 'phone-390-pinched');

  // A tap on a bar: its words appear under the chart, as hovering shows them with a mouse.
  await page.waitForFunction((sel) => { const c = document.querySelector(sel); return c.dataset.window === c.dataset.drawn; }, CHART);
  const bar = await page.evaluate((sel) => {
    for (const r of document.querySelectorAll(`${sel} svg rect.bar`)) {
      const box = r.getBoundingClientRect();
      const onScreen = box.top > 0 && box.bottom < innerHeight && box.left > 0 && box.right < innerWidth;
      if (box.width >= 4 && box.height >= 4 && onScreen) {
        return { x: box.left + box.width / 2, y: box.top + box.height / 2, words: r.querySelector(':scope > title').textContent };
      }
    }
    return null;
  }, CHART);
  assert(bar, 'a bar to tap on screen');
  await touch('touchStart', [{ x: bar.x, y: bar.y, id: 0 }]);
  await touch('touchEnd', []);
  await page.waitForFunction((w) => document.querySelector('.pictures .details').textContent === w, bar.words, { timeout: 5000 });
  assert(errors.length === 0, errors.join(' | '));
  await page.close();
});

await runTests(tests, only, closeAll);
