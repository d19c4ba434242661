// One lane of a worker-based run: a fresh Web Worker with its own instance of the plain engine,
// running the core's own thread loop (the engine's LaneRun). Everything the thread decides —
// when to ask for the GIL, when to hand it over, what to record — is decided there; this
// script only carries messages, fetches, and sets timers for `time.sleep`.
//
// The host usually starts this script as one self-contained module (see `laneScript` in
// host.js: the two imports below are inlined), so a fresh lane fetches nothing before it runs.
// Keep the imports one per line, and this file free of other imports and exports.

import { initSync, LaneRun, network_ms, set_shared_counter } from '../engine/plain/gil_lab_engine.js';
import { download } from './io.js';

let lane = null;
// The channel to the host: the page starts this worker and hands it the port (js/lanes.js).
let port = null;

// A turn of the event loop that is not clamped like nested timers are: a message to self.
const chan = new MessageChannel();
const queued = [];
chan.port1.onmessage = () => queued.shift()();
const soon = (fn) => { queued.push(fn); chan.port2.postMessage(0); };

function flush() {
  const out = lane.outbox();
  if (out !== undefined) port.postMessage(out);
}

// Runs the thread until it has to wait, and arranges what it waits for.
function drive() {
  const step = JSON.parse(lane.run());
  flush();
  switch (step.do) {
    case 'yield':
      soon(drive);
      break;
    case 'download': {
      const wait = (bytes) => network_ms(bytes, step.io.latency_ms, step.io.bandwidth_kbps);
      download(step.url, step.file_name, wait).then(
        (r) => lane.downloaded(true, r.file, r.bytes, ''),
        (e) => lane.downloaded(false, '', 0, String(e.message || e)),
      ).then(drive);
      break;
    }
    case 'sleep':
      // The timer's callback hands over to a message before running on, so the next
      // sleep's timer is not a nested one (browsers clamp those to 4 ms).
      setTimeout(() => soon(() => { lane.slept(); drive(); }), step.us / 1000);
      break;
    // 'wait': a message from the host resumes it; 'exit': the host terminates this worker.
  }
}

onmessage = ({ data }) => {
  port = data.port;
  port.onmessage = fromHost;
};

function fromHost({ data }) {
  if (typeof data === 'string') {
    if (lane.on_message(data)) drive();
    else flush();
    return;
  }
  // The first message: the engine module the host compiled once (a fresh instance of it,
  // made synchronously: no fetch, no compile), the shared counter if any, and who we are.
  // Any failure here is thrown: the page hears it as this worker's error and tells the host.
  initSync({ module: data.module });
  if (data.counter) set_shared_counter(new Int32Array(data.counter));
  lane = new LaneRun(data.init);
  drive();
}
