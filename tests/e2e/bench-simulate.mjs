// The page's simulator, timed in headless Debian Chromium: the lesson's Pool(64) over 256 ×
// sum_powers(10000) on 64 modelled cores, from the click on Simulate to the picture.
//
//   BASE=http://127.0.0.1:PORT node bench-simulate.mjs      (tests/e2e/run.sh --bench runs it)
//
// Each repetition is a fresh page (the calibration is kept in localStorage, as for a learner
// who simulated before) with one small simulation first, so that the engine's worker is
// loaded: what is timed is a learner's click. Three times per repetition, medians printed:
// - engine: `simulate_json` itself, in the worker (the status line says it);
// - picture: until the chart's SVG is in the page (the report parsed, laid out, drawn);
// - painted: until the next frame after that has been rendered.
// The goal is ≤ 300 ms for "painted"; a benchmark, never a test: this machine's speed drifts.

import { launch, open } from './lib.mjs';

const BASE = (process.env.BASE || 'http://127.0.0.1:8080').replace(/\/$/, '');
const REPS = Number(process.env.REPS || 5);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const { ctx, close } = await launch();
const out = {};
for (const [kind, url] of [['isolated', `${BASE}/`], ['not isolated', `${BASE}/plain/`]]) {
  const engine = [];
  const picture = [];
  const painted = [];
  for (let rep = 0; rep < REPS; rep++) {
    const { page } = await open(ctx, url);
    await page.selectOption('#scenario', 'cpu-pool');
    await page.fill('#f-n', '2000');
    await page.fill('#f-tasks', '8');
    await page.fill('#f-workers', '4');
    await page.click('#simulate');
    await page.waitForFunction(() => window.__gilLabState === 'done', null, { timeout: 30000, polling: 50 });
    await page.fill('#f-n', '10000');
    await page.fill('#f-tasks', '256');
    await page.fill('#f-workers', '64');
    await page.fill('#sim-cores', '64');
    const t = await page.evaluate(() => new Promise((resolve) => {
      const t0 = performance.now();
      let pic = 0;
      const seen = () => {
        const svg = document.querySelector('.pictures .svg[role=img]');
        return svg && /Pool\(64\)/.test(svg.getAttribute('aria-label') || '') && /× 256/.test(svg.getAttribute('aria-label') || '');
      };
      const obs = new MutationObserver(() => {
        if (pic || !seen()) return;
        pic = performance.now() - t0;
        obs.disconnect();
        requestAnimationFrame(() => setTimeout(() => resolve({ pic, painted: performance.now() - t0 }), 0));
      });
      obs.observe(document.body, { subtree: true, childList: true, attributes: true });
      document.querySelector('#simulate').click();
    }));
    const status = await page.locator('.status').first().textContent();
    const m = /64 cores in (\d+) ms/.exec(status);
    if (m) engine.push(Number(m[1]));
    picture.push(t.pic);
    painted.push(t.painted);
    await page.close();
  }
  out[kind] = { engineMs: median(engine), pictureMs: Math.round(median(picture)), paintedMs: Math.round(median(painted)) };
  console.log(`simulate Pool(64) x 256 x sum_powers(10000) on 64 cores, ${kind} page (median of ${REPS}): engine ${out[kind].engineMs} ms, picture in the page ${out[kind].pictureMs} ms, painted ${out[kind].paintedMs} ms  [painted: ${painted.map(Math.round).join(', ')}]`);
}
// The calibration a browser's first simulation runs (Recalibrate runs it again), in the worker.
{
  const { page } = await open(ctx, `${BASE}/`);
  const secs = [];
  for (let rep = 0; rep < 3; rep++) {
    // The click shows "Calibrating…" at once; the answer replaces it.
    await page.click('#recalibrate');
    await page.waitForFunction(() => /Calibrated in/.test(document.querySelector('.sim-note').textContent), null, { timeout: 30000, polling: 50 });
    secs.push(Number(/Calibrated in ([\d.]+) s/.exec(await page.locator('.sim-note').textContent())[1]));
  }
  out.calibrationS = median(secs);
  console.log(`calibration in the simulator's worker (median of 3): ${out.calibrationS} s [${secs.join(', ')}]`);
  await page.close();
}
await close();
console.log(JSON.stringify({ simulate: out }));
