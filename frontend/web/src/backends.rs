//! The lab page's other backends beside "Run in this browser": Simulate (any size, any number
//! of cores, in the simulator's worker), Run natively (through `gil-lab serve`), the compare
//! view that holds runs from each side by side, and Download trace (Perfetto).
//!
//! `app.rs` mounts [`BackendControls`] under its Run/Stop buttons and [`CompareView`] under
//! its pictures, and hands both the page's signals as [`Hooks`]; everything else is here.

use gil_lab::trace::{RunReport, Source};
use gil_lab::view;
use leptos::prelude::*;

use crate::files;
use crate::form::{self, Fields};
use crate::native_run::{self, Update as NativeUpdate};
use crate::page::{cores, image_urls, publish};
use crate::picture::Picture;
use crate::runtime;
use crate::simulate::{self, SimChoice};

/// The most runs the compare view holds (one per kind: browser, native, simulated, CPython).
const COMPARE_MAX: usize = 4;

/// The page's signals the backends read and write, and their own.
#[derive(Clone, Copy)]
pub struct Hooks {
    /// The chosen scenario's name.
    pub scenario: RwSignal<String>,
    /// The form's fields.
    pub fields: RwSignal<Fields>,
    /// The one-line error under the form.
    pub error: RwSignal<Option<String>>,
    /// The status line.
    pub status: RwSignal<String>,
    /// The report on screen.
    pub report: RwSignal<Option<RunReport>>,
    /// Whether a run (of any backend) is going on.
    pub running: RwSignal<bool>,
    /// The runs held for comparison: `(label, report)`.
    pub compare: RwSignal<Vec<(String, RunReport)>>,
    /// The simulator's cores, Python and start method, as typed.
    sim_cores: RwSignal<String>,
    sim_python: RwSignal<String>,
    sim_start: RwSignal<String>,
    /// What the simulator is doing (calibrating, simulating), for its status line.
    sim_note: RwSignal<String>,
}

impl Hooks {
    /// Hooks over the page's signals.
    pub fn new(
        scenario: RwSignal<String>,
        fields: RwSignal<Fields>,
        error: RwSignal<Option<String>>,
        status: RwSignal<String>,
        report: RwSignal<Option<RunReport>>,
        running: RwSignal<bool>,
    ) -> Self {
        Self {
            scenario,
            fields,
            error,
            status,
            report,
            running,
            compare: RwSignal::new(Vec::new()),
            sim_cores: RwSignal::new(cores().to_string()),
            sim_python: RwSignal::new(String::new()),
            sim_start: RwSignal::new(String::new()),
            sim_note: RwSignal::new(String::new()),
        }
    }
}

/// Where a report's numbers come from, in the words the compare view labels it with.
pub fn origin_label(r: &RunReport) -> String {
    if r.source == Source::Simulated {
        let cores = r.simulation.as_ref().map_or(r.machine.cores, |s| s.cores);
        let python = r
            .simulation
            .as_ref()
            .map(|s| format!(", Python {}", s.python))
            .unwrap_or_default();
        format!("simulated ({cores} cores{python})")
    } else if r.machine.platform.starts_with("CPython") {
        // `CPython 3.11.7 (linux-x86_64)`
        format!("measured in {}", r.machine.platform)
    } else if r.machine.platform.starts_with("browser") {
        "in this browser".to_owned()
    } else {
        format!(
            "natively ({}, {} cores)",
            r.machine.platform, r.machine.cores
        )
    }
}

/// The page's last line: where runs happen, and what leaves the page.
pub fn footer() -> &'static str {
    if native_run::server().is_some() {
        "GIL Lab runs every demo on Web Workers in this page; \"Run natively\" sends the demo's parameters to the gil-lab serve that served this page, and nothing else leaves it."
    } else {
        "GIL Lab runs every demo on Web Workers in this page; nothing is sent anywhere."
    }
}

/// Puts `r` in the compare view, replacing the same demo with the same settings from the same
/// place (the oldest goes when it is full).
fn keep(h: Hooks, r: RunReport) {
    let label = format!("{} · {}", origin_label(&r), r.scenario);
    h.compare.update(|c| {
        c.retain(|(l, k)| *l != label || k.params != r.params);
        c.push((label, r));
        while c.len() > COMPARE_MAX {
            c.remove(0);
        }
    });
}

/// The simulator's options from the form, or a message naming the field.
fn choice(h: Hooks) -> Result<SimChoice, String> {
    let text = h.sim_cores.get_untracked();
    let t = text.trim();
    let cores = if t.is_empty() {
        None
    } else {
        Some(
            t.parse::<u32>()
                .ok()
                .filter(|c| (1..=256).contains(c))
                .ok_or_else(|| format!("cores = {t:?} is out of range: allowed 1..=256"))?,
        )
    };
    let some = |s: String| (!s.is_empty()).then_some(s);
    Ok(SimChoice {
        cores,
        python: some(h.sim_python.get_untracked()),
        start_method: some(h.sim_start.get_untracked()),
    })
}

/// Simulates the form's scenario on each of `core_counts` (the form's cores when empty);
/// the last report goes on screen, and with several they all go to the compare view.
pub fn simulate_now(h: Hooks, core_counts: &'static [u32], why: Option<&'static str>) {
    if h.running.get_untracked() {
        return;
    }
    h.error.set(None);
    let name = h.scenario.get_untracked();
    let overrides = match form::scenario(&name).and_then(|sc| {
        h.fields
            .with_untracked(|f| f.params(sc).map(|_| f.overrides()))
    }) {
        Ok(Ok(o)) => o,
        Ok(Err(e)) | Err(e) => {
            h.error.set(Some(e));
            publish("invalid", None);
            return;
        }
    };
    let base = match choice(h) {
        Ok(c) => c,
        Err(e) => {
            h.error.set(Some(e));
            publish("invalid", None);
            return;
        }
    };
    h.running.set(true);
    publish("running", None);
    if simulate::kept_profile().is_none() {
        h.sim_note
            .set("Calibrating the simulator to this browser (once, under 2 s)…".into());
    }
    h.status.set(format!("Simulating {name}…"));
    let previous = h.report.get_untracked();
    wasm_bindgen_futures::spawn_local(async move {
        let counts: Vec<Option<u32>> = if core_counts.is_empty() {
            vec![base.cores]
        } else {
            core_counts.iter().map(|c| Some(*c)).collect()
        };
        if counts.len() > 1
            && let Some(p) = previous.filter(|p| p.source != Source::Simulated)
        {
            keep(h, p);
        }
        let mut last = None;
        let mut took = Vec::new();
        for c in counts {
            let opts = SimChoice {
                cores: c,
                ..base.clone()
            };
            match simulate::simulate(&name, &overrides, &opts).await {
                Ok(s) => {
                    took.push(format!(
                        "{} cores in {:.0} ms",
                        s.report.machine.cores, s.engine_ms
                    ));
                    if core_counts.len() > 1 {
                        keep(h, s.report.clone());
                    }
                    last = Some((s.report, s.json));
                }
                Err(e) => {
                    h.error.set(Some(e));
                    h.running.set(false);
                    h.sim_note.set(String::new());
                    publish("error", None);
                    return;
                }
            }
        }
        h.sim_note.set(String::new());
        h.running.set(false);
        if let Some((mut r, json)) = last {
            if let Some(w) = why {
                r.notes.push(w.to_owned());
                publish("done", Some(&r));
            } else {
                // The worker's text is this report: no need to write it again (a 64-core
                // Pool's report is ~0.5 MB).
                publish_json("done", &json);
            }
            h.status.set(format!(
                "Simulated {} ({}): nothing ran; the times are the simulator's model of that machine.",
                r.scenario,
                took.join(", ")
            ));
            h.report.set(Some(r));
        }
    });
}

/// [`publish`] with the report's JSON already at hand.
fn publish_json(state: &str, json: &str) {
    if let Some(w) = web_sys::window() {
        let _ = js_sys::Reflect::set(&w, &"__gilLabLastReport".into(), &json.into());
    }
    publish(state, None);
}

/// Runs the race demo in the simulator instead (see [`runtime::simulator_stands_in`]).
pub fn simulate_instead(h: Hooks) {
    simulate_now(h, &[], Some(runtime::SIMULATED_INSTEAD));
}

/// Starts a native run of the form's scenario through `gil-lab serve`.
fn run_natively(h: Hooks, server: native_run::Server) {
    if h.running.get_untracked() {
        return;
    }
    h.error.set(None);
    let name = h.scenario.get_untracked();
    let sc = match form::scenario(&name) {
        Ok(s) => s,
        Err(e) => return h.error.set(Some(e)),
    };
    let fields = h.fields.get_untracked();
    // Task labels for the live picture (the server's own arrive with its report).
    let tasks = fields
        .params(sc)
        .map(|p| gil_lab::plan::build_tasks(&p, &image_urls()))
        .unwrap_or_default();
    let on = move |u: NativeUpdate| match u {
        NativeUpdate::Live(r) => h.report.set(Some(*r)),
        NativeUpdate::Finished(r) => {
            h.running.set(false);
            h.status.set(format!(
                "Finished {} natively in {}.",
                r.scenario,
                view::format_duration(r.wall_us)
            ));
            publish("done", Some(&r));
            h.report.set(Some(*r));
        }
        NativeUpdate::Failed(e) => {
            h.running.set(false);
            h.error.set(Some(e));
            publish("error", None);
        }
    };
    match native_run::start(&server, sc, &fields, tasks, on) {
        Ok(()) => {
            h.running.set(true);
            h.report.set(None);
            h.status.set(format!("Running {name} natively…"));
            publish("running", None);
        }
        Err(e) => h.error.set(Some(e)),
    }
}

/// Stops a native run, if one is going: the trace so far.
pub fn stop() -> Option<RunReport> {
    let server = native_run::server()?;
    native_run::stop(&server)
}

/// "Run natively (this machine: N cores)", beside Run, when `gil-lab serve` served the page.
#[component]
pub fn NativeRunButton(hooks: Hooks) -> impl IntoView {
    let h = hooks;
    native_run::server().map(|s| {
        let label = match s.cores {
            Some(n) => format!("Run natively (this machine: {n} cores)"),
            None => "Run natively (this machine)".to_owned(),
        };
        view! {
            <button id="native-run" disabled=move || h.running.get()
                title="Runs it on this machine's OS processes and threads through gil-lab serve, and streams the spans here"
                on:click=move |_| run_natively(h, s.clone())>{label}</button>
        }
    })
}

/// Simulate, Download trace and the compare view's buttons.
#[component]
pub fn BackendControls(hooks: Hooks) -> impl IntoView {
    let h = hooks;
    let recalibrate = move |_| {
        h.sim_note
            .set("Calibrating the simulator to this browser…".into());
        wasm_bindgen_futures::spawn_local(async move {
            match simulate::recalibrate().await {
                Ok(ms) => h.sim_note.set(format!(
                    "Calibrated in {:.1} s: simulated times are this browser's.",
                    ms / 1000.0
                )),
                Err(e) => {
                    h.sim_note.set(String::new());
                    h.error.set(Some(e));
                }
            }
        });
    };
    let select = |id: &'static str, sig: RwSignal<String>, opts: &'static [(&str, &str)]| {
        let options = opts
            .iter()
            .map(|(v, l)| view! { <option value=*v>{*l}</option> })
            .collect_view();
        view! {
            <select id=id prop:value=move || sig.get()
                on:change=move |ev| sig.set(event_target_value(&ev))>{options}</select>
        }
    };
    view! {
        <div class="backends">
            <fieldset class="simulate">
                <legend>"Simulate"</legend>
                <label class="field">
                    <span>"cores"</span>
                    <input id="sim-cores" type="text" inputmode="numeric"
                        prop:value=move || h.sim_cores.get()
                        on:input=move |ev| h.sim_cores.set(event_target_value(&ev))/>
                    <small>"1 to 256"</small>
                </label>
                <label class="field">
                    <span>"Python"</span>
                    {select("sim-python", h.sim_python, &[("", "as the demo says"), ("3.11", "3.11"), ("3.12", "3.12"), ("3.13t", "3.13t (free-threaded)"), ("3.14t", "3.14t (free-threaded)")])}
                </label>
                <label class="field">
                    <span>"start method"</span>
                    {select("sim-start", h.sim_start, &[("", "Python's default"), ("fork", "fork"), ("spawn", "spawn"), ("forkserver", "forkserver")])}
                </label>
                <div class="buttons">
                    <button id="simulate" disabled=move || h.running.get()
                        on:click=move |_| simulate_now(h, &[], None)>"Simulate"</button>
                    <button id="sim-16-64" disabled=move || h.running.get()
                        on:click=move |_| simulate_now(h, &[16, 64], None)>"The same on 16 / 64 cores"</button>
                    <button id="recalibrate" class="small" disabled=move || h.running.get()
                        on:click=recalibrate>"Recalibrate"</button>
                </div>
                <small class="sim-note" aria-live="polite">{move || h.sim_note.get()}</small>
            </fieldset>
            <div class="buttons">
                <button id="dl-trace" disabled=move || h.report.with(Option::is_none) on:click=move |_| {
                    if let Some(r) = h.report.get_untracked() {
                        let _ = files::download(&format!("{}.trace.json", r.scenario), "application/json", &gil_lab::export::chrome_trace(&r));
                    }
                }>"Download trace (Perfetto)"</button>
                <button id="compare-add" disabled=move || h.report.with(Option::is_none) on:click=move |_| {
                    if let Some(r) = h.report.get_untracked() { keep(h, r); }
                }>"Add to comparison"</button>
            </div>
        </div>
    }
}

/// Runs side by side, each labelled by where its numbers come from.
#[component]
pub fn CompareView(hooks: Hooks) -> impl IntoView {
    let h = hooks;
    // One time scale for every column: the longest run's.
    let axis_us = Signal::derive(move || {
        h.compare
            .with(|c| c.iter().map(|(_, r)| view::data_end_us(r)).max())
    });
    let columns = move || {
        h.compare
            .get()
            .into_iter()
            .map(|(label, r)| {
                let cores = r.machine.cores;
                let sim = r.source == Source::Simulated;
                let r2 = r.clone();
                let report: Signal<Option<RunReport>> = Signal::derive(move || Some(r.clone()));
                let data_label = label.clone();
                view! {
                    <div class="column" data-label=data_label data-cores=cores data-simulated=sim.to_string()>
                        <h3>{label}</h3>
                        <p class="small params">{view::describe_params(&r2.params)}</p>
                        <Picture report=report compact=true axis_us=axis_us/>
                    </div>
                }
            })
            .collect_view()
    };
    view! {
        <Show when=move || h.compare.with(|c| !c.is_empty())>
            <section class="compare-view" aria-label="Runs compared">
                <div class="compare-head">
                    <h2>"Compared"</h2>
                    <p class="small">{move || axis_us.get().map(|us| format!("All on one time scale, 0 to {}: a shorter run ends part-way across.", view::format_duration(us)))}</p>
                    <button id="compare-clear" on:click=move |_| h.compare.set(Vec::new())>"Clear"</button>
                </div>
                <div class="compare-grid">{columns}</div>
            </section>
        </Show>
    }
}
