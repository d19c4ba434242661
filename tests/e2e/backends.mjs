// GIL Lab's other backends in headless Debian Chromium: Run natively through `gil-lab serve`'s
// run API, Simulate (both kinds of page, 16 / 64 cores in one click, the lesson's sections),
// the compare view, and Download trace (Perfetto).
//
//   BASE=http://127.0.0.1:PORT GIL_LAB_BIN=target/debug/gil-lab SERVER_PID=<serve's pid> node backends.mjs
//   (tests/e2e/run.sh runs it after e2e.mjs and lesson.mjs)
//
// SHOTS=DIR also saves screenshots of a simulated 64-core Pool, a native run and the compare
// view there. Prints one line per test and `N passed, N failed`; exits non-zero on a failure.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, open, runScenario, runTests, BASE, SHOTS, assert, suite } from './lib.mjs';

const BIN = process.env.GIL_LAB_BIN || '';
const SERVER_PID = process.env.SERVER_PID || '';

const { tests, test, only } = suite();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const MODES = [
  { name: 'isolated', url: `${BASE}/` },
  { name: 'not isolated', url: `${BASE}/plain/` },
];

async function shot(page, name) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** The `gil-lab __worker` processes the server started (its children), by pid. */
function workerPids() {
  if (!SERVER_PID) throw new Error('SERVER_PID is not set (tests/e2e/run.sh sets it)');
  try {
    return execFileSync('pgrep', ['-P', SERVER_PID], { encoding: 'utf8' }).split('\n').filter(Boolean);
  } catch {
    return []; // pgrep exits 1 when nothing matched
  }
}

async function waitState(page, states, timeout = 120000) {
  await page.waitForFunction((s) => s.includes(window.__gilLabState), states, { timeout, polling: 50 });
  return page.evaluate(() => window.__gilLabState);
}

async function lastReport(page) {
  return JSON.parse(await page.evaluate(() => window.__gilLabLastReport));
}

/** Fills the form's fields (ids f-n, f-tasks, f-workers, …). */
async function fill(page, scenario, fields) {
  await page.selectOption('#scenario', scenario);
  for (const [key, value] of Object.entries(fields)) await page.fill(`#f-${key}`, String(value));
}

async function runNatively(page, scenario, fields) {
  await fill(page, scenario, fields);
  await page.click('#native-run');
  const state = await waitState(page, ['done', 'error', 'invalid']);
  if (state !== 'done') throw new Error(`native run failed: ${(await page.locator('.error').allTextContents()).join(' | ')}`);
  return lastReport(page);
}

async function simulate(page, scenario, fields, cores) {
  await fill(page, scenario, fields);
  await page.fill('#sim-cores', String(cores));
  const t0 = Date.now();
  await page.click('#simulate');
  const state = await waitState(page, ['done', 'error', 'invalid']);
  const ms = Date.now() - t0;
  if (state !== 'done') throw new Error(`simulation failed: ${(await page.locator('.error').allTextContents()).join(' | ')}`);
  return { r: await lastReport(page), ms };
}

const { ctx, close } = await launch();

// --- Run natively ------------------------------------------------------------------------------

test('native: cpu-processes runs natively and shows OS processes live', async () => {
  const { page, errors } = await open(ctx, `${BASE}/`);
  const label = await page.locator('#native-run').textContent();
  assert(/^Run natively \(this machine: \d+ cores\)$/.test(label), label);
  await fill(page, 'cpu-processes', { n: 9000, tasks: 4, workers: 2 });
  await page.click('#native-run');
  // Lanes appear while it runs, before the report.
  let live = 0;
  for (let k = 0; k < 200 && live === 0; k++) {
    const state = await page.evaluate(() => window.__gilLabState);
    if (state !== 'running') break;
    live = await page.locator('.pictures .svg svg').count();
    if (!live) await sleep(50);
  }
  assert(live > 0, 'the picture appeared before the report');
  const liveText = await page.locator('.pictures .svg svg').first().textContent();
  assert(/Process-1/.test(liveText) && /Process-2/.test(liveText), `live lanes are the processes: ${liveText.slice(0, 200)}`);
  const state = await waitState(page, ['done', 'error']);
  assert(state === 'done', `finished: ${(await page.locator('.error').allTextContents()).join(' | ')}`);
  const r = await lastReport(page);
  assert(r.source === 'measured', `source ${r.source}`);
  assert(/^linux/.test(r.machine.platform), `platform ${r.machine.platform}`);
  assert(r.lanes.length === 2 && r.lanes.every((l) => l.kind === 'process'), `lanes: ${JSON.stringify(r.lanes)}`);
  assert(r.tasks.every((t) => t.outcome.status === 'sum'), 'every task finished');
  await shot(page, 'native-run');
  assert(errors.length === 0, `console errors: ${errors.join(' | ')}`);
  await page.close();
});

test('native: a foreign Origin and a missing or wrong token get 403; workers 0 gets 400 naming workers', async () => {
  const { page } = await open(ctx, `${BASE}/`);
  const body = JSON.stringify({ scenario: 'cpu-processes', n: 100, tasks: 1, workers: 1 });
  const fromPage = (headers, b = body) => page.evaluate(async ([h, b]) => {
    const res = await fetch('/api/run', { method: 'POST', headers: h, body: b });
    return [res.status, await res.text()];
  }, [headers, b]);
  const token = await page.evaluate(() => document.querySelector('meta[name="gil-lab-token"]').content);
  let [status, text] = await fromPage({ 'X-GIL-Lab-Token': 'not-the-token' });
  assert(status === 403 && /token/.test(text), `wrong token: ${status} ${text}`);
  [status, text] = await fromPage({});
  assert(status === 403 && /token/.test(text), `missing token: ${status} ${text}`);
  [status, text] = await fromPage({ 'X-GIL-Lab-Token': token }, JSON.stringify({ scenario: 'cpu-processes', workers: 0 }));
  assert(status === 400 && /^workers = 0/.test(text), `workers 0: ${status} ${text}`);
  // A foreign origin, with the right token (Node's fetch may set Origin).
  const res = await fetch(`${BASE}/api/run`, {
    method: 'POST', body, headers: { 'X-GIL-Lab-Token': token, Origin: 'http://evil.example', 'Content-Type': 'application/json' },
  });
  const foreign = await res.text();
  assert(res.status === 403 && /Origin/.test(foreign), `foreign origin: ${res.status} ${foreign}`);
  // The page shows the server's refusal as one line naming the field.
  await fill(page, 'cpu-processes', { workers: 0 });
  await page.click('#native-run');
  assert(await waitState(page, ['error', 'done']) === 'error', 'the run is refused');
  const shown = await page.locator('.error').textContent();
  assert(/HTTP 400/.test(shown) && /workers = 0/.test(shown) && !shown.includes('\n'), shown);
  await page.close();
});

test('native: Stop aborts the stream and leaves no worker process behind', async () => {
  const { page } = await open(ctx, `${BASE}/`);
  await fill(page, 'cpu-processes', { n: 40000, tasks: 4, workers: 2 });
  await page.click('#native-run');
  await page.waitForSelector('.pictures .svg svg', { timeout: 20000 });
  let pids = [];
  for (let k = 0; k < 100 && pids.length < 2; k++) { pids = workerPids(); await sleep(50); }
  assert(pids.length >= 2, `the run's worker processes are up: ${pids}`);
  await page.click('#stop');
  const notes = JSON.parse(await page.evaluate(() => window.__gilLabLastReport)).notes;
  assert(notes.some((n) => /Stopped after/.test(n)), `the trace so far is kept: ${notes}`);
  let left = workerPids();
  for (let k = 0; k < 100 && left.length; k++) { await sleep(100); left = workerPids(); }
  assert(left.length === 0, `worker processes left: ${left}`);
  // The server takes the next run at once (the stopped one is gone).
  const r = await runNatively(page, 'cpu-processes', { n: 300, tasks: 2, workers: 2 });
  assert(r.source === 'measured', 'a next run works');
  await page.close();
});

// --- Simulate ----------------------------------------------------------------------------------

for (const mode of MODES) {
  test(`${mode.name}: Simulate gives a report labelled simulated; Pool(64) over 256 tasks on 64 cores`, async () => {
    const { page, errors } = await open(ctx, mode.url);
    // The first simulation calibrates this browser (once) and keeps the profile.
    const first = await simulate(page, 'cpu-pool', { n: 2000, tasks: 8, workers: 4 }, 8);
    assert(first.r.source === 'simulated' && first.r.cpu_source === 'estimated', `source ${first.r.source}`);
    assert(first.r.simulation && first.r.simulation.cores === 8, `8 cores: ${JSON.stringify(first.r.simulation)}`);
    assert(/this browser/.test(first.r.simulation.profile), `calibrated here: ${first.r.simulation.profile}`);
    const kept = await page.evaluate(() => localStorage.getItem('gil-lab.simulator.profile'));
    assert(kept && kept.includes('this browser'), 'the profile is kept in localStorage');
    // The lesson's Pool(64) over 256 × sum_powers(10000) on 64 cores.
    const { r } = await simulate(page, 'cpu-pool', { n: 10000, tasks: 256, workers: 64 }, 64);
    assert(r.lanes.length === 64 && r.tasks.length === 256, `${r.lanes.length} lanes, ${r.tasks.length} tasks`);
    const words = await page.locator('.pictures').textContent();
    assert(/simulated/i.test(words), 'the picture and summary say simulated');
    // Its time is a benchmark (bench-simulate.mjs), not asserted here.
    // Recalibrate measures again and keeps the new profile.
    await page.evaluate(() => localStorage.removeItem('gil-lab.simulator.profile'));
    await page.click('#recalibrate');
    await page.waitForFunction(() => /Calibrated in/.test(document.querySelector('.sim-note').textContent), null, { timeout: 30000 });
    assert(await page.evaluate(() => localStorage.getItem('gil-lab.simulator.profile')), 'a new profile is kept');
    if (mode.name === 'isolated') await shot(page, 'simulated-pool-64');
    assert(errors.length === 0, `console errors: ${errors.join(' | ')}`);
    await page.close();
  });

  test(`${mode.name}: "the same on 16 / 64 cores" in one click gives 16 and 64 core rows`, async () => {
    const { page } = await open(ctx, mode.url);
    await fill(page, 'cpu-processes', { n: 2000, tasks: 64, workers: 64 });
    await page.click('#sim-16-64');
    await page.waitForSelector('.compare-view .column[data-cores="64"]', { timeout: 30000 });
    for (const cores of [16, 64]) {
      const col = page.locator(`.compare-view .column[data-cores="${cores}"]`);
      assert(await col.getAttribute('data-simulated') === 'true', `${cores}: simulated`);
      assert(/simulated/.test(await col.locator('h3').textContent()), `${cores}: labelled simulated`);
      const rows = await col.locator('.core-track').count();
      assert(rows === cores, `${cores} cores: ${rows} core rows`);
    }
    await page.close();
  });
}

test('lesson: each section with a parallel demo offers the same on 16 / 64 cores, simulated', async () => {
  for (const url of [`${BASE}/lesson/`, `${BASE}/plain/lesson/`]) {
    const page = await ctx.newPage();
    await page.goto(url);
    await page.waitForSelector('.lesson-section');
    const buttons = await page.locator('button.sim').count();
    assert(buttons >= 3, `${url}: ${buttons} sections offer it`);
    const id = (await page.locator('button.sim').first().getAttribute('id')).replace(/^sim-/, '');
    await page.click(`#sim-${id}`);
    await page.waitForSelector(`#${id} figure.simulated[data-cores="64"]`, { timeout: 30000 });
    const figs = page.locator(`#${id} figure.simulated`);
    const cores = await figs.evaluateAll((f) => f.map((x) => x.dataset.cores));
    assert(cores.includes('16') && cores.includes('64'), `16 and 64: ${cores}`);
    for (const cap of await figs.locator('figcaption').allTextContents()) assert(/simulated on (16|64) cores/.test(cap), cap);
    assert(/simulated/i.test(await figs.first().locator('.summary').textContent()), 'the summary says simulated');
    await page.close();
  }
});

// --- Compare and Download trace ----------------------------------------------------------------

test('compare: a browser, a native, a simulated and a CPython run side by side, each labelled', async () => {
  const { page, errors } = await open(ctx, `${BASE}/`);
  const fields = { n: 3000, tasks: 4, workers: 2 };
  await runScenario(page, 'cpu-processes', fields);
  await page.click('#compare-add');
  await runNatively(page, 'cpu-processes', fields);
  await page.click('#compare-add');
  await fill(page, 'cpu-processes', fields);
  await page.fill('#sim-cores', '4');
  await page.click('#simulate');
  assert(await waitState(page, ['done', 'error']) === 'done', 'simulated');
  await page.click('#compare-add');
  // A CPython report as `gil-lab bench --python --trace DIR` writes it, opened from the file.
  const cpy = process.env.CPYTHON_REPORT || cpythonReport();
  if (cpy) {
    await page.setInputFiles('#open-report', cpy);
    await waitState(page, ['opened']);
    await page.click('#compare-add');
  }
  const labels = await page.locator('.compare-view .column h3').allTextContents();
  assert(labels[0] === 'in this browser · cpu-processes', labels.join(' | '));
  assert(/^natively \(linux.* · cpu-processes$/.test(labels[1]), labels.join(' | '));
  assert(/^simulated \(4 cores.* · cpu-processes$/.test(labels[2]), labels.join(' | '));
  if (cpy) assert(/^measured in CPython/.test(labels[3]), labels.join(' | '));
  // One time scale: every column's axis spans the longest run, so a shorter run's bars end
  // part-way across (the page's own numbers: data-whole is the axis' end, µs).
  const wholes = await page.locator('.compare-view .chart').evaluateAll((els) => els.map((e) => Number(e.dataset.whole)));
  assert(wholes.length === labels.length && wholes.every((w) => w === wholes[0]), `one axis: ${wholes.join(', ')}`);
  // Adding the same run again replaces it; a second demo from the same place is a new column.
  await page.click('#compare-add');
  assert(await page.locator('.compare-view .column').count() === labels.length, 'the same run is not added twice');
  await shot(page, 'compare');
  assert(errors.length === 0, `console errors: ${errors.join(' | ')}`);
  await page.close();
});

/** A CPython report of cpu-processes from `gil-lab bench --python --trace`, when python3 is here. */
function cpythonReport() {
  if (!BIN || !existsSync(BIN)) return null;
  try { execFileSync('python3', ['--version'], { stdio: 'ignore' }); } catch { return null; }
  const dir = mkdtempSync(join(tmpdir(), 'gil-lab-cpython-'));
  execFileSync(BIN, ['bench', '--python', '--quick', '--n', '1000', '--trace', dir], { stdio: 'ignore', timeout: 300000 });
  const f = readdirSync(dir).find((x) => x === 'cpu-processes.cpython.json');
  return f ? join(dir, f) : null;
}

test('Download trace saves Chrome Trace Event JSON named for the scenario', async () => {
  const { page } = await open(ctx, `${BASE}/plain/`);
  await runScenario(page, 'cpu-threads', { n: 1000, tasks: 2, workers: 2 });
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#dl-trace')]);
  assert(dl.suggestedFilename() === 'cpu-threads.trace.json', dl.suggestedFilename());
  const trace = JSON.parse(readFileSync(await dl.path(), 'utf8'));
  assert(Array.isArray(trace.traceEvents) && trace.traceEvents.length > 0, 'traceEvents');
  assert(trace.traceEvents.some((e) => e.ph === 'X'), 'spans as complete events');
  await page.close();
});

await runTests(tests, only, close);
