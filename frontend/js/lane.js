// One lane of a worker-based run: a fresh Web Worker with its own instance of the plain engine.
//
// mode 'own'    — a process (or the main thread of a sequential run): its own GIL, nobody to
//                 share it with, so it never asks anyone.
// mode 'broker' — a thread of a page that is not cross-origin isolated: no shared memory, so
//                 the GIL lives in the host worker and is granted by messages with CPython's
//                 rules (switch interval, drop request, forced switching). The lane runs in
//                 1 ms slices and looks at its messages between slices (its check points).
// mode 'free'   — a thread of free-threaded Python: no GIL at all.
//
// Every state change is reported as a span on the shared clock, µs since the run's epoch.
//
// The host usually starts this script as one self-contained module (see `laneScript` in
// host.js: the two imports below are inlined), so a fresh lane fetches nothing before it runs.
// Keep the imports one per line, and this file free of other imports and exports.

import { initSync, SumTask } from '../engine/plain/gil_lab_engine.js';
import { absNow, download } from './io.js';

let cfg = null; // { lane, mode, epoch_ms, latency_ms, bandwidth_kbps }
let since = 0; // start of the current span
let task = null; // task the current span belongs to
let dropRequested = false;
const waiting = new Map(); // reply type -> resolve

const us = () => Math.max(0, Math.round((absNow() - cfg.epoch_ms) * 1000));
const post = (m) => postMessage(m);

function span(state, start, end, t = task) {
  if (end > start) post({ type: 'span', span: { lane: cfg.lane, task: t ?? undefined, state, start_us: start, end_us: end } });
}
function open(state, at) {
  post({ type: 'open', lane: cfg.lane, task: task ?? undefined, state, since_us: at });
}
function reply(type) {
  return new Promise((resolve) => waiting.set(type, resolve));
}

// A yield to the event loop that is not clamped like nested setTimeout.
const chan = new MessageChannel();
let yielded = null;
chan.port1.onmessage = () => yielded && yielded();
const yieldToEvents = () => new Promise((r) => { yielded = r; chan.port2.postMessage(0); });

async function takeGil() {
  if (cfg.mode !== 'broker') { since = us(); open('running', since); return; }
  const asked = us();
  open('gil_wait', asked);
  post({ type: 'take', lane: cfg.lane });
  const { waited } = await reply('granted');
  const now = us();
  if (waited) span('gil_wait', asked, now);
  since = now;
  open('running', since);
}

function endRunning() {
  const now = us();
  span('running', since, now);
  since = now;
  return now;
}

function releaseGil(forced) {
  const now = endRunning();
  if (cfg.mode === 'broker') post({ type: 'release', lane: cfg.lane, forced });
  return now;
}

/** A check point: hand the GIL over if another lane asked for it. */
async function checkpoint() {
  if (cfg.mode !== 'broker') return;
  await yieldToEvents();
  if (dropRequested) {
    dropRequested = false;
    releaseGil(true);
    await takeGil();
  }
}

function setTask(t) {
  if (t === task) return;
  endRunning();
  task = t;
  open('running', since);
}

async function runTask(id, t) {
  setTask(id);
  let outcome;
  if (t.kind === 'sum_powers') {
    const s = new SumTask(t.n);
    const slice = cfg.mode === 'broker' ? 1 : 25;
    let last = 0;
    for (;;) {
      if (s.run_for(slice)) break;
      const now = us();
      if (now - last > 100_000) {
        last = now;
        post({ type: 'progress', lane: cfg.lane, task: id, done: s.done(), total: t.n, at_us: now });
      }
      await checkpoint();
    }
    outcome = JSON.parse(s.outcome_json());
    s.free();
  } else if (t.kind === 'download') {
    // `requests.get` + `f.write`: blocking I/O with the GIL released.
    const start = releaseGil(false);
    open('io_wait', start);
    try {
      const r = await download(t.url, t.file_name, cfg.latency_ms, cfg.bandwidth_kbps);
      outcome = { status: 'downloaded', file: r.file, bytes: r.bytes };
    } catch (e) {
      outcome = { status: 'error', message: String(e.message || e) };
    }
    span('io_wait', start, us());
    await takeGil();
  } else {
    outcome = { status: 'error', message: 'the shared counter needs shared memory: open the lab from a cross-origin-isolated server (gil-lab serve)' };
  }
  post({ type: 'outcome', id, outcome });
  setTask(null);
}

async function main() {
  // A Python thread starts by taking the GIL.
  await takeGil();
  for (;;) {
    // `q.get()` is a call: a check point before the next task.
    await checkpoint();
    post({ type: 'next', lane: cfg.lane });
    const { tasks } = await reply('work');
    if (!tasks.length) break;
    for (const { id, task: t } of tasks) await runTask(id, t);
  }
  releaseGil(false);
  post({ type: 'finished', lane: cfg.lane, at_us: us() });
}

onmessage = ({ data }) => {
  switch (data.type) {
    case 'init':
      // A fresh instance of the module the host compiled once, made synchronously: no fetch,
      // no compile, no extra turn of the event loop.
      try {
        if (!(data.module instanceof WebAssembly.Module)) throw new Error('no module was sent');
        initSync({ module: data.module });
      } catch (e) {
        post({ type: 'failed', message: `the engine did not load: ${e.message || e}` });
        break;
      }
      post({ type: 'ready', at_ms: absNow() });
      // A process gets its configuration with `init` and starts at once.
      if (data.cfg) start(data.cfg);
      break;
    case 'start':
      start(data.cfg);
      break;
    case 'drop':
      dropRequested = true;
      break;
    default: {
      const r = waiting.get(data.type);
      if (r) { waiting.delete(data.type); r(data); }
    }
  }
};

function start(c) {
  cfg = c;
  main().catch((e) => post({ type: 'failed', message: String(e.message || e) }));
}
