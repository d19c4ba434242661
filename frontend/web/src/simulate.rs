//! The page's side of the simulator: "what would this look like on 64 cores?", answered by the
//! plain engine's `simulate_json` in a Worker of its own (`js/sim.js`), never on the page's
//! main thread. Both pages (the lab and the lesson) use it.
//!
//! The first simulation of a browser calibrates it (`calibrate_browser`, about
//! [`CALIBRATION_MS`] in the same worker) and keeps the machine profile in `localStorage`, so
//! simulated times are this browser's; [`recalibrate`] measures again. Every report that comes
//! back says `source: simulated`, and the view labels it so wherever it is drawn.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

use gil_lab::scenario::Overrides;
use gil_lab::trace::RunReport;
use serde::Serialize;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{MessageEvent, Worker, WorkerOptions, WorkerType};

/// Where the calibrated machine profile is kept (`localStorage`).
pub const PROFILE_KEY: &str = "gil-lab.simulator.profile";

/// How long the first calibration may measure, ms. The engine sizes its last part from a
/// guess of the counter loop's speed, so on a busy machine it overshoots: 1500 took 2.0–2.1 s
/// in headless Chromium on 2 cores shared with builds, over the 2 s a first simulation may
/// wait.
pub const CALIBRATION_MS: f64 = 1000.0;

/// The simulator's own options, as `gil_lab::sim::SimOptions` reads them (`None` takes the
/// simulator's default).
#[derive(Debug, Clone, Default, Serialize)]
pub struct SimChoice {
    /// Cores of the modelled machine, 1..=256.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cores: Option<u32>,
    /// `3.11`, `3.12`, `3.13t` or `3.14t`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub python: Option<String>,
    /// `fork`, `spawn` or `forkserver`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_method: Option<String>,
}

/// A simulated report and how long the engine took to make it, ms.
pub struct Simulated {
    /// The report (`source: simulated`).
    pub report: RunReport,
    /// The report as the engine wrote it (the lab page publishes it for its tests as is).
    #[cfg_attr(feature = "lesson-page", allow(dead_code))]
    pub json: String,
    /// Time of the `simulate_json` call in the worker, ms.
    pub engine_ms: f64,
}

struct SimWorker {
    worker: Worker,
    _onmessage: Closure<dyn FnMut(MessageEvent)>,
}

/// `(resolve, reject)` of a request's promise.
type Pending = (js_sys::Function, js_sys::Function);

thread_local! {
    static WORKER: RefCell<Option<SimWorker>> = const { RefCell::new(None) };
    static PENDING: RefCell<BTreeMap<u32, Pending>> = const { RefCell::new(BTreeMap::new()) };
    static NEXT: Cell<u32> = const { Cell::new(1) };
}

fn spawn() -> Result<(), String> {
    let opts = WorkerOptions::new();
    opts.set_type(WorkerType::Module);
    let worker = Worker::new_with_options("js/sim.js", &opts)
        .map_err(|e| format!("could not start the simulator's worker: {e:?}"))?;
    let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
        let data = ev.data();
        let get = |k: &str| js_sys::Reflect::get(&data, &k.into()).unwrap_or(JsValue::UNDEFINED);
        let id = get("id").as_f64().unwrap_or(0.0) as u32;
        let Some((resolve, reject)) = PENDING.with(|p| p.borrow_mut().remove(&id)) else {
            return;
        };
        if get("ok").as_bool() == Some(true) {
            let _ = resolve.call1(&JsValue::NULL, &data);
        } else {
            let _ = reject.call1(&JsValue::NULL, &get("error"));
        }
    });
    worker.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    WORKER.with(|w| {
        *w.borrow_mut() = Some(SimWorker {
            worker,
            _onmessage: onmessage,
        })
    });
    Ok(())
}

/// Sends `request` (its `id` is filled in) and waits for the answer: `(text, ms)`.
async fn ask(request: js_sys::Object) -> Result<(String, f64), String> {
    if WORKER.with(|w| w.borrow().is_none()) {
        spawn()?;
    }
    let id = NEXT.with(|n| {
        let id = n.get();
        n.set(id + 1);
        id
    });
    let _ = js_sys::Reflect::set(&request, &"id".into(), &id.into());
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        PENDING.with(|p| p.borrow_mut().insert(id, (resolve, reject)));
    });
    WORKER.with(|w| {
        if let Some(w) = w.borrow().as_ref() {
            let _ = w.worker.post_message(&request);
        }
    });
    let data = JsFuture::from(promise)
        .await
        .map_err(|e| e.as_string().unwrap_or_else(|| format!("{e:?}")))?;
    let text = js_sys::Reflect::get(&data, &"text".into())
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default();
    let ms = js_sys::Reflect::get(&data, &"ms".into())
        .ok()
        .and_then(|v| v.as_f64())
        .unwrap_or(0.0);
    Ok((text, ms))
}

fn object(pairs: &[(&str, JsValue)]) -> js_sys::Object {
    let o = js_sys::Object::new();
    for (k, v) in pairs {
        let _ = js_sys::Reflect::set(&o, &(*k).into(), v);
    }
    o
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
}

/// The profile kept from an earlier calibration, if any.
pub fn kept_profile() -> Option<String> {
    storage().and_then(|s| s.get_item(PROFILE_KEY).ok().flatten())
}

/// Measures this browser again (in the worker) and keeps the profile; returns how long it
/// took, ms.
pub async fn recalibrate() -> Result<f64, String> {
    let (text, ms) = ask(object(&[
        ("kind", "calibrate".into()),
        ("budget_ms", CALIBRATION_MS.into()),
    ]))
    .await
    .map_err(|e| format!("the calibration failed: {e}"))?;
    if let Some(s) = storage() {
        // A private window may refuse: the profile is then measured again next time.
        let _ = s.set_item(PROFILE_KEY, &text);
    }
    Ok(ms)
}

/// Simulates `scenario` with the form's `overrides` on the machine `choice` describes. The
/// first call of a browser calibrates it first (see the module docs).
pub async fn simulate(
    scenario: &str,
    overrides: &Overrides,
    choice: &SimChoice,
) -> Result<Simulated, String> {
    if kept_profile().is_none() {
        recalibrate().await?;
    }
    let params = serde_json::to_string(overrides).map_err(|e| e.to_string())?;
    let options = serde_json::to_string(choice).map_err(|e| e.to_string())?;
    let profile = kept_profile().unwrap_or_default();
    let (text, engine_ms) = ask(object(&[
        ("kind", "simulate".into()),
        ("scenario", scenario.into()),
        ("params", params.into()),
        ("options", options.into()),
        ("profile", profile.into()),
    ]))
    .await?;
    let report = RunReport::from_json(&text)
        .map_err(|e| format!("the simulator sent something unexpected: {e}"))?;
    Ok(Simulated {
        report,
        json: text,
        engine_ms,
    })
}
