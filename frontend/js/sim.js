// The simulator's worker: the plain engine's `simulate_json` and `calibrate_browser`, off the
// page's main thread. Every rule lives in the engine (Rust); this script only loads it and
// carries requests and answers.
//
// Requests (objects): {id, kind: 'simulate', scenario, params, options, profile}
//                     {id, kind: 'calibrate', budget_ms}
// Answers:            {id, ok: true, text, ms} or {id, ok: false, error}
// `ms` is how long the engine call itself took in this worker.

let engine = null;
function load() {
  if (!engine) {
    engine = import('../engine/plain/gil_lab_engine.js').then(async (glue) => {
      await glue.default({ module_or_path: new URL('../engine/plain/gil_lab_engine_bg.wasm', import.meta.url) });
      return glue;
    });
    engine.catch(() => { engine = null; });
  }
  return engine;
}

onmessage = async ({ data }) => {
  const { id } = data;
  try {
    const glue = await load();
    const t0 = performance.now();
    let text;
    if (data.kind === 'calibrate') {
      text = glue.calibrate_browser(data.budget_ms);
    } else {
      text = glue.simulate_json(data.scenario, data.params, data.options, data.profile);
    }
    postMessage({ id, ok: true, text, ms: performance.now() - t0 });
  } catch (e) {
    postMessage({ id, ok: false, error: String((e && e.message) || e) });
  }
};

load().catch(() => {});
