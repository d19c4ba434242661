// GIL Lab browser benchmark (issue 3's numbers), headless Debian Chromium on this machine.
//
//   BASE=http://127.0.0.1:PORT DIST=dist GIL_LAB_BIN=target/release/gil-lab node bench.mjs
//   (tests/e2e/run.sh --bench does all of that; `cargo xtask bench-web` calls it)
//
// 1. wasm sum_powers(n), one worker, n = 2000 and 5000, against native `gil-lab` and CPython.
// 2. Speed-up of cpu-threads-free and cpu-processes on 2 workers against cpu-sequential
//    (2 tasks of n = 5000), isolated and not isolated; median of 3 after a warm-up run.
// 3. Worker start cost (the `starting` spans of cpu-processes).
// 4. Transfer size of the first load, gzip (everything the page fetched before a run).
// 5. Longest main-thread task during the runs (PerformanceObserver 'longtask').

import { execFileSync } from 'node:child_process';
import { readFileSync, existsSync, mkdtempSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, open, runScenario } from './lib.mjs';

const BASE = (process.env.BASE || 'http://127.0.0.1:8080').replace(/\/$/, '');
const DIST = process.env.DIST || '../../dist';
const BIN = process.env.GIL_LAB_BIN || '';
const REPS = Number(process.env.REPS || 3);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (us) => (us / 1000).toFixed(0);

const { ctx, close } = await launch();
const out = {};

// --- 4. first load, gzip -----------------------------------------------------------------------
{
  const { page } = await open(ctx, `${BASE}/`);
  await page.waitForTimeout(1500); // the host worker and the plain engine load ahead of a run
  const urls = await page.evaluate(() => [location.href, ...performance.getEntriesByType('resource').map((e) => e.name)]);
  let gz = 0;
  const files = [];
  for (const u of new Set(urls)) {
    let p = new URL(u).pathname;
    if (p.endsWith('/')) p += 'index.html';
    const f = join(DIST, p);
    if (!existsSync(f) || p.includes('/threaded/')) continue;
    const size = gzipSync(readFileSync(f)).length;
    gz += size;
    files.push(`${p} ${(size / 1024).toFixed(1)} KB`);
  }
  out.firstLoadGzipKB = +(gz / 1024).toFixed(1);
  console.log(`first load (gzip, before the threaded engine): ${out.firstLoadGzipKB} KB  [${files.join(', ')}]`);
  await page.close();
}

// --- 1. single worker sum_powers ---------------------------------------------------------------
async function wasmSum(n) {
  const { page } = await open(ctx, `${BASE}/plain/`);
  const t = await page.evaluate(async (n) => {
    const src = `import init, { SumTask } from '${location.origin}/engine/plain/gil_lab_engine.js';
      onmessage = async ({ data }) => { await init(); const times = [];
        for (let k = 0; k < 4; k++) { const t = performance.now(); const s = new SumTask(data);
          while (!s.run_for(1000)) {} times.push(performance.now() - t); s.free(); }
        postMessage(times); };`;
    const w = new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })), { type: 'module' });
    return new Promise((res) => { w.onmessage = (e) => { w.terminate(); res(e.data); }; w.postMessage(n); });
  }, n);
  await page.close();
  return median(t.slice(1)); // the first call includes compiling
}
function nativeSum(n) {
  if (!BIN || !existsSync(BIN)) return null;
  const dir = mkdtempSync(join(tmpdir(), 'gil-bench-'));
  const walls = [];
  for (let k = 0; k < 3; k++) {
    const f = join(dir, `r${k}.json`);
    execFileSync(BIN, ['run', 'cpu-sequential', '--n', String(n), '--tasks', '1', '--json', f, '--quiet'], { stdio: 'ignore' });
    walls.push(JSON.parse(readFileSync(f, 'utf8')).wall_us / 1000);
  }
  return median(walls);
}
function cpythonSum(n) {
  try {
    const code = `import time\ndef sum_powers(n):\n    total = 0\n    for i in range(n):\n        total = total + i ** i\n    return total\n` +
      `ts = []\nfor _ in range(3):\n    t = time.perf_counter(); sum_powers(${n}); ts.append(time.perf_counter() - t)\nprint(sorted(ts)[1] * 1000)`;
    return Number(execFileSync('python3', ['-c', code]).toString().trim());
  } catch {
    return null;
  }
}
out.sumPowers = {};
for (const n of [2000, 5000]) {
  const w = await wasmSum(n);
  const nat = nativeSum(n);
  const py = cpythonSum(n);
  out.sumPowers[n] = { wasmMs: +w.toFixed(1), nativeMs: nat && +nat.toFixed(1), cpythonMs: py && +py.toFixed(1) };
  console.log(`sum_powers(${n}), one worker: wasm ${w.toFixed(0)} ms · native ${nat ? nat.toFixed(0) : '?'} ms · CPython ${py ? py.toFixed(0) : '?'} ms` +
    (py ? `  (wasm / CPython = ${(w / py).toFixed(2)})` : ''));
}

// --- 2, 3, 5. speed-ups, start cost, long tasks -----------------------------------------------
for (const [mode, url] of [['isolated', `${BASE}/`], ['not isolated', `${BASE}/plain/`]]) {
  const { page } = await open(ctx, url);
  await page.evaluate(() => {
    window.__longest = 0;
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__longest = Math.max(window.__longest, e.duration); })
      .observe({ type: 'longtask' });
  });
  const fields = { n: 5000, tasks: 2, workers: 2 };
  const seqFields = { n: 5000, tasks: 2 };
  // Warm-up: the first run of a page also pays for compiling.
  await runScenario(page, 'cpu-processes', { n: 1500, tasks: 2, workers: 2 });
  await page.evaluate(() => { window.__longest = 0; });
  const walls = { seq: [], free: [], proc: [] };
  const starts = [];
  for (let k = 0; k < REPS; k++) {
    walls.seq.push((await runScenario(page, 'cpu-sequential', seqFields)).wall_us);
    walls.free.push((await runScenario(page, 'cpu-threads-free', fields)).wall_us);
    const p = await runScenario(page, 'cpu-processes', fields);
    walls.proc.push(p.wall_us);
    for (const s of p.spans) if (s.state === 'starting') starts.push(s.end_us - s.start_us);
  }
  const seq = median(walls.seq);
  const r = {
    sequentialMs: +ms(seq),
    threadsFreeMs: +ms(median(walls.free)),
    processesMs: +ms(median(walls.proc)),
    speedupThreadsFree: +(seq / median(walls.free)).toFixed(2),
    speedupProcesses: +(seq / median(walls.proc)).toFixed(2),
    workerStartMs: +(median(starts) / 1000).toFixed(1),
    longestMainThreadTaskMs: Math.round(await page.evaluate(() => window.__longest)),
  };
  out[mode] = r;
  console.log(`${mode}: sequential ${r.sequentialMs} ms · cpu-threads-free ${r.threadsFreeMs} ms (${r.speedupThreadsFree}×) · ` +
    `cpu-processes ${r.processesMs} ms (${r.speedupProcesses}×) · worker start ${r.workerStartMs} ms (median) · ` +
    `longest main-thread task ${r.longestMainThreadTaskMs} ms (0 = none over 50 ms)`);
  await page.close();
}

await close();
console.log(JSON.stringify(out));
