// The engine's host: a dedicated module Worker the page talks to. Nothing heavy ever runs on the
// page's main thread; the page only draws what this worker streams back.
//
// Two paths:
// - 'mt' (page cross-origin isolated, threads): the threaded engine, one shared wasm memory,
//   a wasm-bindgen-rayon pool and the core's own Gil. This worker polls it for spans and
//   performs the downloads its lanes ask for (fetch + modelled wait + OPFS are asynchronous).
// - 'workers' (processes; threads when not isolated): one fresh lane Worker with its own plain
//   engine instance per lane. Processes pay their real start cost (a `starting` span); threads
//   of a non-isolated page get their GIL from the broker below, by message.

import { absNow, download } from './io.js';

const post = (m) => postMessage(m);
let batch = [];
let flushTimer = null;

// Events reach the page in batches, 10 a second: the page redraws the growing picture twice a
// second, and each message costs its main thread (and so the workers, on a 2-core machine).
function emit(ev) {
  batch.push(ev);
  if (!flushTimer) flushTimer = setTimeout(flush, 100);
}
function flush() {
  flushTimer = null;
  if (batch.length) post({ type: 'events', events: batch });
  batch = [];
}
function finish(msg) {
  flush();
  post(msg);
}

// ---------------------------------------------------------------------------------------------
// The message-passing GIL (CPython's ceval_gil.c rules, one lane = one thread).
class Broker {
  constructor(intervalMs, send) {
    this.interval = intervalMs;
    this.send = send;
    this.holder = null;
    this.last = null;
    this.switches = 0;
    this.drops = 0;
    this.dropSent = false;
    this.waiters = [];
  }
  take(lane) {
    if (this.holder === null && this.waiters.length === 0) return this.grant(lane, false);
    const w = { lane, saved: this.switches, timer: null };
    this.waiters.push(w);
    this.arm(w);
  }
  // A waiter waits one switch interval; if no switch happened meanwhile it sets the drop
  // request, which the holder sees at its next check point.
  arm(w) {
    w.timer = setTimeout(() => {
      if (!this.waiters.includes(w)) return;
      if (this.holder !== null && this.switches === w.saved && !this.dropSent) {
        this.dropSent = true;
        this.drops++;
        this.send(this.holder, { type: 'drop' });
      }
      w.saved = this.switches;
      this.arm(w);
    }, this.interval);
  }
  // Forced switching falls out of the queue: the lane that dropped the GIL asks again behind
  // the waiter that now gets it, so it cannot take it straight back.
  release(lane) {
    if (this.holder !== lane) return;
    this.holder = null;
    this.dropSent = false;
    const w = this.waiters.shift();
    if (w) {
      clearTimeout(w.timer);
      this.grant(w.lane, true);
    }
  }
  grant(lane, waited) {
    this.holder = lane;
    if (this.last !== lane) {
      this.last = lane;
      this.switches++;
    }
    this.send(lane, { type: 'granted', waited });
  }
  stop() {
    for (const w of this.waiters) clearTimeout(w.timer);
    this.waiters = [];
  }
}

// ---------------------------------------------------------------------------------------------
// Worker-based runs.

// The plain engine, compiled once per page and handed to every lane worker, which makes its
// own fresh instance of it (its own memory) — as every `spawn`ed process maps the same
// interpreter binary from the OS page cache but starts its own interpreter.
let plainModule = null;
function plainEngine() {
  if (!plainModule) {
    const url = new URL('../engine/plain/gil_lab_engine_bg.wasm', import.meta.url);
    plainModule = WebAssembly.compileStreaming(fetch(url)).then(warmUp).catch((e) => {
      plainModule = null;
      throw new Error(`the engine module could not be loaded: ${e.message || e}`);
    });
  }
  return plainModule;
}

// V8 first runs wasm with its baseline compiler and optimises hot functions later, per
// module. Running a little of the workload here once means every lane starts on optimised
// code, so no lane (and not the first run of a session) is slowed by compiling.
async function warmUp(module) {
  try {
    const glue = await import('../engine/plain/gil_lab_engine.js');
    await glue.default({ module_or_path: module });
    const t = new glue.SumTask(1500);
    while (!t.run_for(50)) {}
    t.free();
  } catch (e) {
    // Only a speed matter: the lanes load the module themselves.
  }
  return module;
}

// The lane script, as one self-contained module. Started from its URL, a lane module worker
// fetches lane.js, then the engine's glue and io.js (a waterfall of requests, each revalidated
// with the server): measured ~20 ms of a ~50 ms start on a 2-core machine. So the host fetches
// those sources once per page (like the wasm module above: the OS page cache of an interpreter
// binary) and every lane starts from a Blob holding them: the glue at the top level, io.js and
// lane.js inside a block (their own names cannot clash with the glue's). Each lane still parses
// and runs the script and makes its own wasm instance. Anything unexpected in the sources: the
// lanes start from lane.js's URL instead.
let laneSrc = null;
function laneScript() {
  if (!laneSrc) laneSrc = bundleLane().catch(() => new URL('./lane.js', import.meta.url));
  return laneSrc;
}

async function bundleLane() {
  const laneUrl = new URL('./lane.js', import.meta.url);
  const text = async (url) => {
    const r = await fetch(url);
    if (!r.ok) throw new Error(`HTTP ${r.status} for ${url}`);
    return r.text();
  };
  const IMPORT = /^import\s[^'";]*\sfrom\s*(['"])([^'"]+)\1;?[ \t]*$/gm;
  const HAS_MODULE_SYNTAX = /^\s*(import|export)\b/m;
  const lane = await text(laneUrl);
  const deps = [...lane.matchAll(IMPORT)].map((m) => new URL(m[2], laneUrl));
  const body = lane.replace(IMPORT, '');
  if (HAS_MODULE_SYNTAX.test(body)) throw new Error('lane.js has other module syntax');
  const top = [];
  const inner = [];
  for (const url of deps) {
    const src = await text(url);
    if (/^\s*import\b/m.test(src) || src.includes('import(')) throw new Error(`${url} imports`);
    if (url.pathname.includes('/engine/')) {
      top.push(src); // the wasm-bindgen glue: exports and all, at the top level
    } else {
      const plain = src.replace(/^export\s+(?=(async\s+)?(function|const|let|class)\b)/gm, '');
      if (HAS_MODULE_SYNTAX.test(plain)) throw new Error(`${url} has other module syntax`);
      inner.push(plain);
    }
  }
  const code = `${top.join('\n')}\n{\n${inner.join('\n')}\n${body}\n}\n`;
  return URL.createObjectURL(new Blob([code], { type: 'text/javascript' }));
}

function laneWorker(script) {
  return new Worker(script, { type: 'module' });
}

/** Instantiates the engine in a lane that stands in for a thread (started before the clock). */
function startLane(w, module) {
  return new Promise((resolve, reject) => {
    w.onmessage = ({ data }) => {
      if (data.type === 'ready') resolve(data.at_ms);
      else if (data.type === 'failed') reject(new Error(data.message));
    };
    w.onerror = (e) => reject(new Error(`a lane worker failed to start: ${e.message || 'script error'}`));
    w.postMessage({ type: 'init', module });
  });
}

/** Which tasks each lane gets when it asks for work. */
function dispatcher(run) {
  const m = run.params.model;
  const tasks = run.tasks.map(([id, task]) => ({ id, task }));
  const workers = m.kind === 'sequential' ? 1 : m.workers;
  if (m.kind === 'processes') {
    // `Process(target=...)`: each process gets its share up front (round robin), once.
    const shares = Array.from({ length: workers }, (_, w) => tasks.filter((_, i) => i % workers === w));
    const given = new Set();
    return (lane) => {
      if (given.has(lane)) return [];
      given.add(lane);
      return shares[lane] || [];
    };
  }
  if (m.kind === 'pool') {
    // `Pool.map`: free processes pull the next chunk.
    const size = Math.max(1, m.chunksize);
    const chunks = [];
    for (let i = 0; i < tasks.length; i += size) chunks.push(tasks.slice(i, i + size));
    return () => chunks.shift() || [];
  }
  // Threads pull one task at a time from a queue; the main thread runs them in order.
  const queue = tasks.slice();
  return () => (queue.length ? [queue.shift()] : []);
}

let lanes = [];
let broker = null;

async function runWorkers(run) {
  const m = run.params.model;
  const count = m.kind === 'sequential' ? 1 : m.workers;
  const isProcess = m.kind === 'processes' || m.kind === 'pool';
  const mode = m.kind === 'threads' ? (m.gil === 'classic' ? 'broker' : 'free') : 'own';
  const workload = run.params.workload;
  const latency = workload.latency_ms ?? 0;
  const bandwidth = workload.bandwidth_kbps ?? 1e9;
  const next = dispatcher(run);
  const created = [];
  let epoch;
  const cfgFor = (lane) => ({ lane, mode, epoch_ms: epoch, latency_ms: latency, bandwidth_kbps: bandwidth });

  const module = await plainEngine();
  const script = await laneScript();
  let ws;
  if (isProcess) {
    // The clock starts before the processes: their start cost (from creating the Worker to
    // its engine instance being ready) is part of the run. Each process starts its work as
    // soon as it is ready: `init` carries its configuration.
    epoch = absNow();
    post({ type: 'started', epoch_ms: epoch });
    ws = [];
    for (let i = 0; i < count; i++) {
      created.push(absNow());
      ws.push(laneWorker(script));
    }
    lanes = ws;
  } else {
    ws = Array.from({ length: count }, () => laneWorker(script));
    lanes = ws;
    try {
      await Promise.all(ws.map((w) => startLane(w, module)));
    } catch (e) {
      ws.forEach((w) => w.terminate());
      throw e;
    }
    // Python threads start in well under a millisecond; the Workers standing in for them were
    // started before the clock, so their start cost is not charged to the run.
    epoch = absNow();
    post({ type: 'started', epoch_ms: epoch });
  }
  const toUs = (ms) => Math.max(0, Math.round((ms - epoch) * 1000));
  const send = (lane, msg) => ws[lane].postMessage(msg);
  broker = mode === 'broker' ? new Broker(m.switch_interval_us / 1000, send) : null;

  let finished = 0;
  return new Promise((resolve, reject) => {
    ws.forEach((w, lane) => {
      let ready = !isProcess;
      w.onerror = (e) => reject(new Error(ready
        ? `lane ${lane + 1} crashed: ${e.message || 'script error'}`
        : `a lane worker failed to start: ${e.message || 'script error'}`));
      w.onmessage = ({ data }) => {
        switch (data.type) {
          case 'ready':
            ready = true;
            emit({ type: 'span', span: { lane, state: 'starting', start_us: toUs(created[lane]), end_us: toUs(data.at_ms) } });
            break;
          case 'span':
          case 'open':
          case 'progress':
          case 'outcome':
            emit(data);
            break;
          case 'take':
            broker.take(lane);
            break;
          case 'release':
            broker.release(lane);
            break;
          case 'next':
            send(lane, { type: 'work', tasks: next(lane) });
            break;
          case 'finished':
            w.terminate();
            if (++finished === count) {
              const notes = [];
              if (broker && broker.switches > 1) {
                notes.push(`The GIL changed hands ${broker.switches} times (${broker.drops} drop requests after a ${m.switch_interval_us / 1000} ms wait), granted by messages between workers.`);
              }
              if (broker) broker.stop();
              resolve({ wall_us: toUs(absNow()), notes });
            }
            break;
          case 'failed':
            reject(new Error(data.message));
            break;
        }
      };
      if (isProcess) send(lane, { type: 'init', module, cfg: cfgFor(lane) });
      else send(lane, { type: 'start', cfg: cfgFor(lane) });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Shared-memory threads (cross-origin isolated pages).

let mt = null; // the threaded engine module, once loaded
let poolSize = 0;

async function loadMt(threads) {
  if (!mt) {
    const mod = await import('../engine/threaded/gil_lab_engine.js');
    await mod.default();
    mt = mod;
  }
  if (poolSize === 0) {
    await mt.initThreadPool(threads);
    poolSize = threads;
    // Optimised code before the first run (see warmUp above), on every pool thread.
    mt.mt_alloc_probe(Math.min(threads, 4), 1200);
  }
  return poolSize;
}

async function runMt(run) {
  const m = run.params.model;
  const need = m.workers + 2;
  if (poolSize && poolSize < need) throw new Error('restart-needed');
  await loadMt(Math.max(need, run.cores + 2));
  const w = run.params.workload;
  const epoch = absNow();
  post({ type: 'started', epoch_ms: epoch });
  mt.mt_start(run.scenario, JSON.stringify(run.params), JSON.stringify(run.images), epoch, run.cores, run.browser);
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      const p = JSON.parse(mt.mt_poll());
      for (const ev of p.events || []) emit(ev);
      for (const req of p.io || []) {
        download(req.url, req.file_name, w.latency_ms ?? 0, w.bandwidth_kbps ?? 1e9).then(
          (r) => mt.mt_io_done(req.id, true, r.file, r.bytes, ''),
          (e) => mt.mt_io_done(req.id, false, '', 0, String(e.message || e)),
        );
      }
      if (p.report) {
        clearInterval(timer);
        resolve(p.report);
      }
    }, 4);
  });
}

// ---------------------------------------------------------------------------------------------

onmessage = async ({ data }) => {
  if (data.type === 'probe') {
    // For the benchmark: the threaded engine's own scaling on `threads` threads.
    try {
      await loadMt(Math.max(3, data.threads + 1));
      post({ type: 'probe', ms: mt.mt_alloc_probe(data.threads, data.n) });
    } catch (e) {
      post({ type: 'error', message: String(e.message || e) });
    }
    return;
  }
  if (data.type !== 'run') return;
  const run = data.run;
  try {
    if (run.path === 'mt') {
      const report = await runMt(run);
      finish({ type: 'done', report, pool: poolSize });
    } else {
      const raw = await runWorkers(run);
      finish({ type: 'done', raw });
    }
  } catch (e) {
    lanes.forEach((w) => w.terminate());
    finish({ type: 'error', message: String(e.message || e) });
  }
};

post({ type: 'hello', isolated: self.crossOriginIsolated === true });
// Compile the plain engine and prepare the lane script while the learner reads the page.
plainEngine().catch(() => {});
laneScript();
