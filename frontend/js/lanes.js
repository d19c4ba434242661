// Lane workers, started by the page on behalf of the engine's host (js/host.js).
//
// The host used to start each lane as a worker of its own (a nested worker). Firefox ESR 153
// now and then never returns from `new Worker()` called inside a worker: the host then hangs
// for good, with "Running…" on screen, idle lanes and no error (issue 14; tests/e2e/e2e.mjs
// runs 20 fresh Firefox runs to show it is gone). Workers the page starts do not have that
// problem, so the host asks the page to start each lane and hands it one end of a
// MessageChannel; the lane and the host then talk over that channel directly, as they talked
// before, and the page only starts, stops and reports errors.
//
// The page's UI module (runtime.rs) hands every non-text message from the host to
// `globalThis.gilLabLanes.fromHost(host, data)`, and calls `stopAll()` when it ends the host.
// The threaded engine's pool threads are started the same way (`relay`).

const lanes = new Map(); // lane id -> Worker
let source = null; // the lane script's text as last sent, and its blob URL
let sourceUrl = null;

/** The URL to start a lane from: the host's bundled source (one blob URL per page), or a URL. */
function scriptUrl(script) {
  if (script.url) return script.url;
  if (script.source !== source) {
    if (sourceUrl) URL.revokeObjectURL(sourceUrl);
    source = script.source;
    sourceUrl = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
  }
  return sourceUrl;
}

function stop(id) {
  const w = lanes.get(id);
  if (w) w.terminate();
  lanes.delete(id);
}

function stopAll() {
  for (const w of lanes.values()) w.terminate();
  lanes.clear();
}

/** One request from the host: `{ lane: { spawn, script } }` with the lane's port transferred,
 *  `{ lane: { relay, script } }` (a pool thread, its messages relayed to the port),
 *  `{ lane: { terminate } }`, or `{ lane: { terminate_all: true } }`. */
function fromHost(host, data) {
  const req = data && data.lane;
  if (!req) return false;
  if (req.terminate_all) {
    stopAll();
  } else if (req.terminate !== undefined) {
    stop(req.terminate);
  } else if (req.relay !== undefined) {
    // A pool thread of the threaded engine: its messages go to and from the host's port.
    const w = new Worker(scriptUrl(req.script), { type: 'module' });
    lanes.set(req.relay, w);
    const port = data.port;
    port.onmessage = (e) => w.postMessage(e.data);
    w.onmessage = (e) => port.postMessage(e.data);
    w.onerror = (e) => {
      e.preventDefault();
      host.postMessage({ lane_failed: { id: req.relay, message: e.message || 'script error' } });
    };
  } else if (req.spawn !== undefined) {
    const id = req.spawn;
    stop(id);
    let w;
    try {
      w = new Worker(scriptUrl(req.script), { type: 'module' });
    } catch (e) {
      host.postMessage({ lane_failed: { id, message: String(e.message || e) } });
      return true;
    }
    lanes.set(id, w);
    w.onerror = (e) => {
      e.preventDefault();
      host.postMessage({ lane_failed: { id, message: e.message || 'script error' } });
    };
    w.postMessage({ port: data.port }, [data.port]);
  }
  return true;
}

globalThis.gilLabLanes = { fromHost, stopAll };
