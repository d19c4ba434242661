// GIL Lab browser tests of the lesson explorer (issue 8), in headless Debian Chromium, against
// `gil-lab serve`: isolated at /lesson/, not isolated at /plain/lesson/.
//
//   BASE=http://127.0.0.1:PORT node lesson.mjs [NAME-REGEX]
//   SHOTS=/some/dir node lesson.mjs    also writes screenshots of the page at several steps
//
// axe-core (npm, injected with playwright's addScriptTag) checks WCAG 2.1 A/AA on the lesson
// page before and after a run, and reports what it finds on the lab's main page.
// Prints one line per test and a final `N passed, N failed`; exits non-zero on any failure.

import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { launch, runTests, BASE, SHOTS, assert, suite } from './lib.mjs';

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');

const { tests, test, only } = suite();

const MODES = [
  { name: 'isolated', url: `${BASE}/lesson/`, isolated: true },
  { name: 'not isolated', url: `${BASE}/plain/lesson/`, isolated: false },
];
const SECTIONS = ['processes-threads', 'concurrency', 'gil', 'io', 'convoy', 'processes', 'shared-data', 'old-race', 'which'];

const { ctx, close } = await launch();

/** Opens the lesson at `url`, recording console errors and uncaught exceptions. */
async function openLesson(url, options = {}) {
  const page = await ctx.newPage();
  if (options.reducedMotion) await page.emulateMedia({ reducedMotion: 'reduce' });
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  await page.waitForSelector('.lesson-section button.run', { timeout: 20000 });
  return { page, errors };
}

/** Runs section `id` at quick size; resolves when it is done (throws with the page's error). */
async function runSection(page, id, timeout = 180000) {
  await page.click(`#run-${id}`);
  await page.waitForFunction((s) => ['done', 'failed', 'stopped'].includes(document.getElementById(s).dataset.state), id, { timeout });
  const state = await page.locator(`#${id}`).getAttribute('data-state');
  if (state !== 'done') {
    const msg = await page.locator(`#${id} .error`).allTextContents();
    throw new Error(`section ${id} ended ${state}: ${msg.join(' | ')}`);
  }
}

/** With SHOTS set: a screenshot of `selector` (or of the viewport) for a person to look at. */
async function shot(page, name, selector) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  const path = join(SHOTS, `${name}.png`);
  if (selector) await page.locator(selector).screenshot({ path });
  else await page.screenshot({ path });
}

/** axe-core's WCAG 2.1 A/AA violations on the page, most severe first. */
async function axe(page) {
  await page.addScriptTag({ path: AXE });
  const res = await page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length, target: v.nodes[0] && v.nodes[0].target.join(' ') }));
  });
  const order = { critical: 0, serious: 1, moderate: 2, minor: 3 };
  return res.sort((a, b) => order[a.impact] - order[b.impact]);
}
const severe = (vs) => vs.filter((v) => v.impact === 'serious' || v.impact === 'critical');
const words = (vs) => vs.map((v) => `${v.impact} ${v.id} ×${v.nodes} (${v.help}; e.g. ${v.target})`).join('; ');

for (const mode of MODES) {
  test(`${mode.name}: the lesson loads with no console errors, every section has a guess and a Run button`, async () => {
    const { page, errors } = await openLesson(mode.url);
    const iso = await page.evaluate(() => window.crossOriginIsolated);
    assert(iso === mode.isolated, `crossOriginIsolated = ${iso}`);
    const ids = await page.locator('.lesson-section').evaluateAll((els) => els.map((e) => e.id));
    assert(ids.length >= 6, `${ids.length} sections`);
    assert(JSON.stringify(ids) === JSON.stringify(SECTIONS), ids.join(', '));
    for (const id of ids) {
      assert(await page.locator(`#${id} button.run`).count() === 1, `${id} has a Run button`);
      assert(await page.locator(`#${id} fieldset.guess input[type=radio]`).count() >= 2, `${id} asks for a guess`);
      assert((await page.locator(`#${id} fieldset.guess legend`).textContent()).length > 20, `${id} has a question`);
    }
    const text = await page.locator('p.mode').first().textContent();
    assert(mode.isolated ? /is cross-origin isolated/.test(text) : /not cross-origin isolated/.test(text), text);
    await shot(page, `${mode.isolated ? 'iso' : 'plain'}-1-loaded`);
    await page.waitForTimeout(500);
    assert(errors.length === 0, `console errors: ${errors.join(' | ')}`);
    await page.close();
  });
}

test('a guess is kept across visits (localStorage) and compared with the result', async () => {
  const { page, errors } = await openLesson(MODES[1].url);
  await page.check('#guess-processes-threads-same');
  await page.reload();
  await page.waitForSelector('#run-processes-threads');
  assert(await page.isChecked('#guess-processes-threads-same'), 'the guess survives a reload');
  await runSection(page, 'processes-threads');
  const compare = await page.locator('#processes-threads .verdict .compare').textContent();
  assert(/^You guessed “about the same”/.test(compare), compare);
  const lines = await page.locator('#processes-threads .verdict li').allTextContents();
  assert(lines.some((l) => /starting \(median/.test(l) && /\d/.test(l)), `the explanation quotes this run: ${lines.join(' | ')}`);
  assert(errors.length === 0, `console errors: ${errors.join(' | ')}`);
  await page.close();
});

for (const mode of MODES) {
  test(`${mode.name}: a section runs its real demos and explains them with this run's numbers`, async () => {
    const { page, errors } = await openLesson(mode.url);
    await page.check('#guess-gil-per-core');
    await runSection(page, 'gil');
    const figures = page.locator('#gil figure.demo');
    assert(await figures.count() === 2, 'two demos');
    for (let k = 0; k < 2; k++) {
      const chart = figures.nth(k).locator('.svg[role=img]');
      assert(await chart.count() === 1, `demo ${k + 1} has a chart with role=img`);
      const described = await chart.getAttribute('aria-describedby');
      const summary = await page.locator(`#${described}`).textContent();
      assert(/Wall time/.test(summary), `the chart is described by its summary: ${summary}`);
      assert(await figures.nth(k).locator('svg rect').count() > 5, `demo ${k + 1} has bars`);
    }
    const verdict = await page.locator('#gil .verdict').textContent();
    assert(/Speed-up \d+\.\d\d×/.test(verdict), verdict);
    assert(/You guessed “about as many times faster/.test(verdict), verdict);
    // The closing table gathers what this visit measured.
    const table = await page.locator('#which .results table').textContent();
    assert(/threads against sequential/.test(table), table);
    if (mode.isolated) await shot(page, 'iso-2-gil-done', '#gil');
    assert(errors.length === 0, `console errors: ${errors.join(' | ')}`);
    await page.close();
  });
}

test('not isolated: the convoy runs, and the shared-data step is simulated and says so, as the lab does', async () => {
  const { page, errors } = await openLesson(MODES[1].url);
  // The convoy runs on message-passing lanes too.
  await runSection(page, 'convoy');
  const convoy = await page.locator('#convoy .verdict').textContent();
  assert(/Alone, one call took .+ Beside a CPU-bound thread: .+ as long/.test(convoy), convoy);
  // The race's thread and Value cases need shared memory: the simulator stands in, labelled.
  assert(await page.locator('#shared-data .blocked').isHidden(), 'shared-data is not blocked');
  await runSection(page, 'shared-data');
  const r = JSON.parse(await page.evaluate(() => window.__gilLabLastReport));
  assert(r.source === 'simulated' && r.scenario === 'race', `a simulated race: ${r.source} ${r.scenario}`);
  assert(r.notes.some((n) => /Simulated, not run: .*cross-origin isolated/.test(n)), `the report says why: ${r.notes.join(' | ')}`);
  const words = await page.locator('#shared-data figure').first().textContent();
  assert(/simulated/i.test(words), `the picture says simulated: ${words.slice(0, 300)}`);
  assert((await page.locator('#shared-data .verdict').textContent()).length > 0, 'a verdict');
  assert(await page.locator('#shared-data .game').count() === 1, 'the game is there');
  assert(errors.length === 0, `console errors: ${errors.join(' | ')}`);
  await page.close();
});

test('isolated: the shared-data and convoy sections run', async () => {
  const { page, errors } = await openLesson(MODES[0].url);
  await runSection(page, 'shared-data');
  const lines = await page.locator('#shared-data .verdict li').allTextContents();
  assert(lines.length === 7, `seven cases: ${lines.join(' | ')}`);
  assert(/plain loop, GIL: 0 of /.test(lines[0]), lines[0]);
  assert(lines.some((l) => /still reads 0/.test(l)), "processes never touch the parent's counter");
  assert(lines.some((l) => /shared Value with its lock: 0 of/.test(l)), lines.join(' | '));
  await runSection(page, 'convoy');
  const convoy = await page.locator('#convoy .verdict').textContent();
  assert(/Alone, one call took .+ Beside a CPU-bound thread: .+ as long/.test(convoy), convoy);
  await shot(page, 'iso-3-shared-data-done', '#shared-data');
  await shot(page, 'iso-3-convoy-done', '#convoy');
  assert(errors.length === 0, `console errors: ${errors.join(' | ')}`);
  await page.close();
});

test('the scheduler game: keys play a lost update, then an interleaving that loses nothing; the GIL decides by click', async () => {
  const { page, errors } = await openLesson(`${MODES[1].url}#shared-data`);
  const counter = () => page.locator('#shared-data .board .shared').getAttribute('data-counter');
  const lost = () => page.locator('#shared-data .board .shared').getAttribute('data-lost');
  const keys = async (seq) => { for (const k of seq) await page.keyboard.press(k); };
  await page.focus('#game-reset');
  await shot(page, 'plain-4-game-start', '#shared-data .game');
  // Thread 1 reads 0; thread 2 does a whole update; thread 1 writes its stale 1 over it.
  await keys(['1', '2', '2', '2', '2', '2', '1', '1', '1']);
  assert(await counter() === '1' && await lost() === '1', `counter ${await counter()}, lost ${await lost()}`);
  const why = await page.locator('#shared-data .lost-box').textContent();
  assert(/Thread 1 read 0, then Thread 2 wrote the counter/.test(why), why);
  assert(/Thread 2's update is lost/.test(await page.locator('#shared-data .history').textContent()), 'the history marks the lost write');
  assert(await page.locator('#shared-data [data-stack="0"]').textContent() === 'empty', 'thread 1 has written back');
  await shot(page, 'plain-5-game-lost', '#shared-data .game');
  // Start over; whole updates in turn lose nothing.
  await keys(['r', '1', '1', '1', '1', '1', '2', '2', '2', '2', '2']);
  assert(await counter() === '2' && await lost() === '0', `counter ${await counter()}, lost ${await lost()}`);
  assert(await page.locator('#shared-data .lost-box').count() === 0, 'no lost-update message');
  // The next bytecode is marked, for eyes and for screen readers.
  assert(/LOAD_GLOBAL/.test(await page.locator('#shared-data .thread.t1 li[aria-current=step]').textContent()), 'thread 1 is back at its loop top');
  // The GIL decides, by clicks: the plain loop loses nothing, the call loses updates.
  await page.click('#game-decider-gil');
  await page.click('#game-gil-all');
  assert(await lost() === '0' && await counter() === '6', `plain loop under the GIL: counter ${await counter()}, lost ${await lost()}`);
  assert(/only at the loop's end/.test(await page.locator('#shared-data .gil-verdict').textContent()), 'the GIL verdict says where it switched');
  await page.click('#game-style-call');
  await page.click('#game-gil-step');
  await page.click('#game-gil-all');
  assert(Number(await lost()) > 0, `counter += one() under the GIL loses updates (lost ${await lost()})`);
  await shot(page, 'plain-6-game-gil', '#shared-data .game');
  assert(errors.length === 0, `console errors: ${errors.join(' | ')}`);
  await page.close();
});

test('each section embeds alone and posts its height to the parent', async () => {
  for (const [entry, id] of [...SECTIONS.map((s) => ['/plain/lesson/', s]), ['/', 'gil']]) {
    const page = await ctx.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.setContent(`<html><body><script>window.heights=[];addEventListener('message',e=>{if(e.data&&e.data.type==='gil-lab:height')heights.push(e.data.height)})</script>
      <iframe id="f" title="lesson" src="${BASE}${entry}?embed=lesson/${id}" style="width:800px;height:300px"></iframe></body></html>`);
    await page.waitForFunction(() => window.heights.length > 0 && window.heights.at(-1) > 300, null, { timeout: 20000 });
    const frame = page.frameLocator('#f');
    const sections = await frame.locator('.lesson-section').evaluateAll((els) => els.map((e) => e.id));
    assert(sections.length === 1 && sections[0] === id, `${entry}?embed=lesson/${id} shows ${sections.join(', ')}`);
    assert(await frame.locator(`#run-${id}`).count() === 1, `${id}: Run is there`);
    assert(errors.length === 0, `${id}: ${errors.join(' | ')}`);
    await page.close();
  }
  const page = await ctx.newPage();
  await page.goto(`${BASE}/plain/lesson/?embed=lesson/nope`);
  await page.waitForSelector('.error');
  const msg = await page.locator('.error').textContent();
  assert(/unknown lesson section "nope"/.test(msg), msg);
  await page.close();
});

test('reduced motion: no live growth, the picture appears when the run ends', async () => {
  const { page, errors } = await openLesson(MODES[1].url, { reducedMotion: true });
  await page.click('#run-processes-threads');
  await page.waitForFunction(() => /reduced motion/.test(document.querySelector('#processes-threads figure.demo .svg.empty')?.textContent || ''), null, { timeout: 10000 });
  await page.waitForFunction(() => document.getElementById('processes-threads').dataset.state === 'done', null, { timeout: 120000 });
  assert(await page.locator('#processes-threads figure.demo .svg[role=img]').count() === 2, 'both pictures are drawn at the end');
  assert(errors.length === 0, `console errors: ${errors.join(' | ')}`);
  await page.close();
});

test('Stop ends a section and keeps the partial picture', async () => {
  const { page, errors } = await openLesson(MODES[1].url);
  await page.click('#size-gil-lesson');
  await page.click('#run-gil');
  await page.waitForTimeout(1500);
  const t0 = Date.now();
  await page.click('#stop-gil');
  await page.waitForFunction(() => document.getElementById('gil').dataset.state === 'stopped', null, { timeout: 15000 });
  console.log(`     stopped ${Date.now() - t0} ms after the click`);
  assert(await page.locator('#gil figure.demo').first().locator('.svg[role=img]').count() === 1, 'the partial picture stays');
  assert(!(await page.isDisabled('#run-processes-threads')), 'other sections can run again');
  assert(errors.length === 0, `console errors: ${errors.join(' | ')}`);
  await page.close();
});

test('axe-core: no serious or critical WCAG 2.1 A/AA violation on the lesson, before and after a run', async () => {
  const { page } = await openLesson(MODES[0].url);
  const before = await axe(page);
  assert(severe(before).length === 0, `before a run: ${words(severe(before))}`);
  await runSection(page, 'processes-threads');
  await page.click('#guess-gil-same');
  await page.focus('#game-reset');
  await page.keyboard.press('1');
  const after = await axe(page);
  assert(severe(after).length === 0, `after a run: ${words(severe(after))}`);
  console.log(`     lesson: ${before.length} violation kinds before a run, ${after.length} after${after.length ? `: ${words(after)}` : ''}`);
  await page.close();
});

test('axe-core on the main page (reported; the page helper fixes what is not shared)', async () => {
  const page = await ctx.newPage();
  // Only the lab's documented URL parameters and its Run button: its form is another helper's.
  await page.goto(`${BASE}/?scenario=cpu-sequential&n=300&tasks=1`);
  await page.waitForSelector('#run');
  const before = await axe(page);
  await page.click('#run');
  await page.waitForFunction(() => window.__gilLabState === 'done', null, { timeout: 60000 });
  const after = await axe(page);
  console.log(`     main page before a run: ${before.length ? words(before) : 'no violations'}`);
  console.log(`     main page after a run: ${after.length ? words(after) : 'no violations'}`);
  await page.close();
});

if (SHOTS) {
  test('screenshots: every section after its run, and a narrow screen', async () => {
    const { page } = await openLesson(MODES[0].url);
    for (const id of ['processes-threads', 'concurrency', 'io', 'processes', 'which']) {
      await runSection(page, id);
      await shot(page, `iso-7-${id}`, `#${id}`);
    }
    await page.setViewportSize({ width: 420, height: 900 });
    await shot(page, 'iso-8-narrow-gil', '#gil');
    await shot(page, 'iso-8-narrow-game', '#shared-data .game');
    await page.close();
  });
}

await runTests(tests, only, close);
