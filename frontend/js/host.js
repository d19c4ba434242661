// The engine's host: a dedicated module Worker the page talks to. Nothing heavy ever runs on the
// page's main thread; the page only draws what this worker streams back.
//
// Two paths, and every rule of both lives in the engine (Rust):
// - 'shared_memory' (page cross-origin isolated; threads, subinterpreters, convoy, race): the
//   threaded engine runs the scenario on one shared wasm memory with the core's own GIL. This
//   worker polls it for downloads to perform and, for the race demo's processes, for real
//   worker processes to run.
// - 'workers' (processes; everything on a page that is not isolated): the plain engine's
//   HostRun in this worker drives one lane Worker per thread or process, each running the core's
//   thread loop (lane.js); a shared GIL is granted by the HostRun's GIL machine, by messages.
// This script only has lane workers started (by the page: js/lanes.js says why), carries the
// engine's messages (JSON text it never reads beyond the action's tag), fetches, and keeps time
// for the live picture's batches.

import { absNow, download } from './io.js';

const post = (m, transfer) => postMessage(m, transfer || []);

// The plain engine, compiled once per page and handed to every lane worker, which makes its
// own fresh instance of it (its own memory) — as every `spawn`ed process maps the same
// interpreter binary from the OS page cache but starts its own interpreter. This worker has
// an instance too: the HostRun lives in it.
let plainModule = null;
let plain = null;
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
  const glue = await import('../engine/plain/gil_lab_engine.js');
  await glue.default({ module_or_path: module });
  plain = glue;
  const t = new glue.SumTask(1500);
  while (!t.run_for(50)) {}
  t.free();
  return module;
}

// The lane script, as one self-contained module. Started from its URL, a lane module worker
// fetches lane.js, then the engine's glue and io.js (a waterfall of requests, each revalidated
// with the server): measured ~20 ms of a ~50 ms start on a 2-core machine. So the host fetches
// those sources once per page (like the wasm module above: the OS page cache of an interpreter
// binary) and every lane starts from a Blob holding them: the glue at the top level, io.js and
// lane.js inside a block (their own names cannot clash with the glue's). Each lane still parses
// and runs the script and makes its own wasm instance. Anything unexpected in the sources: the
// lanes start from lane.js's URL instead. Either way the page starts them (`startLane`).
let laneSrc = null;
function laneScript() {
  if (!laneSrc) laneSrc = bundleLane().catch(() => ({ url: new URL('./lane.js', import.meta.url).href }));
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
      const plainSrc = src.replace(/^export\s+(?=(async\s+)?(function|const|let|class)\b)/gm, '');
      if (HAS_MODULE_SYNTAX.test(plainSrc)) throw new Error(`${url} has other module syntax`);
      inner.push(plainSrc);
    }
  }
  const code = `${top.join('\n')}\n{\n${inner.join('\n')}\n${body}\n}\n`;
  return { source: code };
}

// ---------------------------------------------------------------------------------------------
// Worker-based runs: the engine's HostRun decides, this carries out.

/**
 * Drives `host` (a HostRun) to its end. `onPage` gets the messages meant for the page,
 * `onTick` runs every 100 ms (the live picture's batches). Resolves when the run is over.
 */
/** Lanes' error callbacks, by lane id: the page reports a lane's error to this worker. */
const laneFailed = new Map();

/**
 * Has the page start lane `id` from `script` (see js/lanes.js for why the page, not this
 * worker, starts it), and returns this end of its channel: `postMessage` and `terminate`.
 * `onMessage` hears the lane; `onError` gets the words of its error.
 */
function startLane(id, script, onMessage, onError) {
  const ch = new MessageChannel();
  ch.port1.onmessage = onMessage;
  laneFailed.set(id, onError);
  post({ lane: { spawn: id, script }, port: ch.port2 }, [ch.port2]);
  return {
    postMessage: (m) => ch.port1.postMessage(m),
    terminate: () => {
      laneFailed.delete(id);
      ch.port1.close();
      post({ lane: { terminate: id } });
    },
  };
}

/**
 * The threaded engine's pool threads, started by the page as lanes are (xtask rewrites
 * wasm-bindgen-rayon's helper to call this). The helper only posts each thread its init message
 * and waits for its "ready"; the returned port carries both, the page relays them.
 */
let poolThreads = 0;
globalThis.gilLabStartWorker = (url) => {
  const ch = new MessageChannel();
  ch.port1.start();
  post({ lane: { relay: `pool-${poolThreads++}`, script: { url } }, port: ch.port2 }, [ch.port2]);
  return ch.port1;
};

async function driveLanes(host, onPage, onTick) {
  const module = await plainEngine();
  const script = await laneScript();
  const lanes = new Map();
  let counter = null;
  if (host.needs_shared_counter()) {
    // multiprocessing.Value: one word for the value, one for its lock, mapped by every lane.
    counter = new SharedArrayBuffer(8);
    plain.set_shared_counter(new Int32Array(counter));
  }
  return new Promise((resolve, reject) => {
    const ticker = setInterval(onTick, 100);
    const end = (err) => {
      clearInterval(ticker);
      for (const w of lanes.values()) w.terminate();
      lanes.clear();
      if (err) reject(err);
      else resolve();
    };
    const act = (text) => {
      for (const a of JSON.parse(text)) {
        switch (a.do) {
          case 'spawn': {
            const lane = startLane(a.lane, script, ({ data }) => {
              try {
                act(host.on_lane(a.lane, data));
              } catch (e) {
                end(new Error(String(e.message || e)));
              }
            }, (message) => end(new Error(`lane ${a.lane + 1} failed: ${message}`)));
            lanes.set(a.lane, lane);
            lane.postMessage({ module, init: a.init, counter: a.shared_counter ? counter : null });
            break;
          }
          case 'send':
            lanes.get(a.lane)?.postMessage(a.msg);
            break;
          case 'terminate':
            lanes.get(a.lane)?.terminate();
            lanes.delete(a.lane);
            break;
          case 'page':
            onPage(a.msg);
            break;
          case 'finished':
            end();
            break;
        }
      }
    };
    act(host.begin());
  });
}

async function runWorkers(text) {
  await plainEngine();
  const host = new plain.HostRun(text);
  try {
    await driveLanes(host, post, () => {
      const ev = host.page_events();
      if (ev !== undefined) post(ev);
    });
  } finally {
    host.free();
  }
}

// ---------------------------------------------------------------------------------------------
// Shared-memory threads (cross-origin isolated pages).

let mt = null; // the threaded engine module, once loaded

let mtLoading = null;
function mtEngine() {
  if (!mtLoading) {
    mtLoading = import('../engine/threaded/gil_lab_engine.js').then(async (mod) => {
      await mod.default();
      mt = mod;
    }).catch((e) => {
      mtLoading = null;
      throw e;
    });
  }
  return mtLoading;
}

// The pool's size once it runs; started once per host (wasm-bindgen-rayon's initThreadPool can
// only be called once), by the first run or ahead of it. A run that needs more threads than it
// has gets a fresh host ('restart-needed').
let pool = null;
function startPool(threads) {
  if (!pool) {
    pool = mtEngine().then(async () => {
      await mt.initThreadPool(threads);
      // Optimised code before the first run (see warmUp above), on every pool thread.
      mt.mt_alloc_probe(Math.min(threads, 4), 1200);
      return threads;
    }).catch((e) => {
      pool = null;
      throw e;
    });
  }
  return pool;
}

// The race demo's processes: real lane workers driven by a plain HostRun, their events and
// result handed back to the threaded engine, whose run they are part of.
async function runProcessJob(job, epoch) {
  await plainEngine();
  const host = plain.HostRun.for_processes(job, epoch);
  try {
    const forward = () => mt.mt_process_events(host.live_events());
    await driveLanes(host, () => {}, forward);
    forward();
    mt.mt_processes_done(host.process_result());
  } catch (e) {
    mt.mt_processes_failed();
    throw e;
  } finally {
    host.free();
  }
}

async function runMt(text, poolThreads) {
  if ((await startPool(poolThreads)) < poolThreads) throw new Error('restart-needed');
  const epoch = absNow();
  mt.mt_start(text, epoch);
  return new Promise((resolve, reject) => {
    let failed = null;
    const events = setInterval(() => {
      const ev = mt.mt_events();
      if (ev !== undefined) post(ev);
    }, 100);
    const timer = setInterval(() => {
      const p = JSON.parse(mt.mt_poll());
      for (const req of p.io) {
        const wait = (bytes) => mt.network_ms(bytes, req.io.latency_ms, req.io.bandwidth_kbps);
        download(req.url, req.file_name, wait).then(
          (r) => mt.mt_io_done(req.id, true, r.file, r.bytes, ''),
          (e) => mt.mt_io_done(req.id, false, '', 0, String(e.message || e)),
        );
      }
      if (p.processes) {
        runProcessJob(JSON.stringify(p.processes), epoch).catch((e) => { failed = e; });
      }
      if (p.done) {
        clearInterval(timer);
        clearInterval(events);
        const ev = mt.mt_events();
        if (ev !== undefined) post(ev);
        if (failed) reject(failed);
        else resolve(p.done);
      }
    }, 4);
  });
}

// ---------------------------------------------------------------------------------------------

onmessage = async ({ data }) => {
  // Runs arrive as JSON text (a ToHost message); only the path and the pool size are read here.
  // A threaded run never waits for the plain engine: every path that needs it awaits it itself.
  if (data && data.lane_failed) {
    const { id, message } = data.lane_failed;
    laneFailed.get(id)?.(message);
    return;
  }
  if (typeof data !== 'string') return;
  try {
    const { run, prepare } = JSON.parse(data);
    if (prepare) {
      getReady(prepare.pool_threads);
      return;
    }
    if (run.path === 'shared_memory') {
      post(await runMt(data, run.pool_threads));
    } else {
      await runWorkers(data);
    }
  } catch (e) {
    await reportError(e);
  }
};

/** Tells the page what failed, in its terms (the plain engine writes the message). */
async function reportError(e) {
  try {
    await plainEngine();
  } catch (missing) {
    // Without the engine there is no one to say it in the page's terms: fail the worker.
    setTimeout(() => { throw missing; });
    return;
  }
  post(plain.host_error(String(e.message || e)));
}

// While the learner reads the page: the engine the default demo (threads) runs on is compiled
// at once (the threaded one on a cross-origin isolated page), and the lane script prepared.
const firstEngine = (self.crossOriginIsolated ? mtEngine() : plainEngine()).catch(() => {});
laneScript();

// The page's `prepare` (its warm-up): on an isolated page, once the threaded engine is in, start
// the pool at the size the default demo needs (its workers start one after another, each
// fetching its script: on a slow link a round trip apiece) and, meanwhile, fetch the plain
// engine (processes need it): the pool's start waits on round trips, not on the link.
function getReady(poolThreads) {
  if (!self.crossOriginIsolated) return;
  firstEngine.then(() => {
    startPool(poolThreads).catch(() => {});
    plainEngine().catch(() => {});
  });
}
